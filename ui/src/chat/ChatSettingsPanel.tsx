/** This conversation's answer settings: answer length (max new tokens), temperature and a system prompt. Each
 * change is kept with the conversation at once (a value out of range is explained and not kept). */
import { createSignal, onCleanup, Show } from 'solid-js';
import {
  MAX_NEW_TOKENS_LIMIT,
  MAX_TEMPERATURE,
  parseMaxNewTokens,
  parseTemperature,
  type ChatSettings,
  type Parsed,
} from './settings';

export interface ChatSettingsPanelProps {
  settings: ChatSettings;
  onChange: (change: Partial<ChatSettings>) => void;
  /** A field now holds a value that is not kept (`problem`, in words), or no longer does (undefined). */
  onProblem?: (field: { id: string; label: string }, problem: string | undefined) => void;
}

/** A number box that keeps what is typed, and the conversation's value only when it is valid. */
function NumberField(props: {
  id: string;
  label: string;
  hint: string;
  value: number | null;
  step: string;
  min: number;
  max: number;
  parse: (text: string) => Parsed;
  onValue: (value: number | null) => void;
  onProblem?: ChatSettingsPanelProps['onProblem'];
}) {
  const [error, setErrorHere] = createSignal<string>();
  const setError = (problem: string | undefined) => {
    setErrorHere(problem);
    props.onProblem?.({ id: props.id, label: props.label }, problem);
  };
  onCleanup(() => props.onProblem?.({ id: props.id, label: props.label }, undefined)); // what was typed goes too
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      <input
        id={props.id}
        type="number"
        inputmode="decimal"
        step={props.step}
        min={props.min}
        max={props.max}
        placeholder={props.hint}
        value={props.value ?? ''}
        aria-invalid={error() ? 'true' : undefined}
        aria-describedby={error() ? `${props.id}-error` : undefined}
        onInput={(e) => {
          const parsed = props.parse(e.currentTarget.value);
          if ('error' in parsed) setError(parsed.error);
          else {
            setError(undefined);
            props.onValue(parsed.value);
          }
        }}
      />
      <Show when={error()}>
        <span class="field-error" id={`${props.id}-error`}>
          {error()}
        </span>
      </Show>
    </div>
  );
}

export function ChatSettingsPanel(props: ChatSettingsPanelProps) {
  return (
    <div class="chat-settings" id="chat-settings" role="group" aria-label="Settings for this conversation">
      <NumberField
        id="chat-max-tokens"
        label="Answer length (max tokens)"
        hint="256 (default)"
        value={props.settings.maxNewTokens}
        step="1"
        min={1}
        max={MAX_NEW_TOKENS_LIMIT}
        parse={parseMaxNewTokens}
        onValue={(maxNewTokens) => props.onChange({ maxNewTokens })}
        onProblem={props.onProblem}
      />
      <NumberField
        id="chat-temperature"
        label="Temperature"
        hint="0: same answer each time"
        value={props.settings.temperature}
        step="0.1"
        min={0}
        max={MAX_TEMPERATURE}
        parse={parseTemperature}
        onValue={(temperature) => props.onChange({ temperature })}
        onProblem={props.onProblem}
      />
      <div class="field chat-system">
        <label for="chat-system-prompt">System prompt</label>
        <textarea
          id="chat-system-prompt"
          rows="2"
          placeholder="None: e.g. “Answer in one short paragraph.”"
          value={props.settings.systemPrompt}
          onInput={(e) => props.onChange({ systemPrompt: e.currentTarget.value })}
        />
      </div>
      <p class="muted chat-settings-note">Kept with this conversation; used from the next question on.</p>
    </div>
  );
}
