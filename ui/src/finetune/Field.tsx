/** One labelled text input with an optional hint and its error (aria-invalid, aria-describedby). */
import { Show } from 'solid-js';

export function Field(props: {
  id: string;
  label: string;
  value: string;
  onInput: (value: string) => void;
  hint?: string;
  error?: string;
  placeholder?: string;
  inputMode?: 'text' | 'decimal' | 'numeric';
  required?: boolean;
  disabled?: boolean;
}) {
  const describedBy = () =>
    [props.hint ? `${props.id}-hint` : '', props.error ? `${props.id}-error` : ''].filter(Boolean).join(' ') ||
    undefined;
  return (
    <div class="field">
      <label for={props.id}>
        {props.label}
        <Show when={props.required}>
          <span aria-hidden="true"> *</span>
        </Show>
      </label>
      <input
        id={props.id}
        name={props.id}
        type="text"
        inputmode={props.inputMode ?? 'text'}
        autocomplete="off"
        autocapitalize="off"
        spellcheck={false}
        value={props.value}
        placeholder={props.placeholder}
        required={props.required}
        disabled={props.disabled}
        aria-invalid={props.error ? 'true' : 'false'}
        aria-describedby={describedBy()}
        onInput={(event) => props.onInput(event.currentTarget.value)}
      />
      <Show when={props.hint}>
        <span id={`${props.id}-hint`} class="muted ft-hint">
          {props.hint}
        </span>
      </Show>
      <Show when={props.error}>
        <span id={`${props.id}-error`} class="field-error" data-testid={`error-${props.id}`}>
          {props.error}
        </span>
      </Show>
    </div>
  );
}
