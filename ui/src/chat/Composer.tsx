/** The input bar: the question, the web-search toggle, Send or Stop. Enter sends, Shift+Enter adds a line. */
import { createSignal, Show } from 'solid-js';

export interface ComposerProps {
  busy: boolean;
  webSearch: boolean;
  onWebSearch: (on: boolean) => void;
  onSend: (text: string) => boolean;
  onStop: () => void;
}

export function Composer(props: ComposerProps) {
  const [text, setText] = createSignal('');
  let area: HTMLTextAreaElement | undefined;

  const grow = () => {
    if (!area) return;
    area.style.height = 'auto';
    area.style.height = `${Math.min(area.scrollHeight, 192)}px`;
  };
  const submit = () => {
    if (props.onSend(text())) {
      setText('');
      queueMicrotask(grow);
    }
  };
  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      if (!props.busy) submit();
    }
  };

  return (
    <form
      class="composer"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <button
        type="button"
        class="toggle"
        aria-pressed={props.webSearch}
        title="Ground answers in a DuckDuckGo search"
        onClick={() => props.onWebSearch(!props.webSearch)}
        data-testid="web-search-toggle"
      >
        🌐 {props.webSearch ? 'On' : 'Off'}
        <span class="visually-hidden"> web search</span>
      </button>
      <label for="chat-input" class="visually-hidden">
        Message
      </label>
      <textarea
        id="chat-input"
        ref={area}
        rows="1"
        placeholder="Ask anything…"
        value={text()}
        onInput={(e) => {
          setText(e.currentTarget.value);
          grow();
        }}
        onKeyDown={onKeyDown}
      />
      <Show
        when={props.busy}
        fallback={
          <button type="submit" class="primary" disabled={!text().trim()}>
            Send
          </button>
        }
      >
        <button type="button" class="danger" onClick={() => props.onStop()}>
          Stop
        </button>
      </Show>
    </form>
  );
}
