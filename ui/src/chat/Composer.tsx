/** The input bar: the question, the web-search toggle, Send or Stop. Enter sends, Shift+Enter adds a line,
 * Escape stops an answer. The question box takes the keyboard when the chat opens and after each send. */
import { createSignal, onCleanup, onMount, Show } from 'solid-js';

export interface ComposerProps {
  busy: boolean;
  webSearch: boolean;
  onWebSearch: (on: boolean) => void;
  onSend: (text: string) => boolean;
  onStop: () => void;
}

/** 🌐 as a drawing, so it shows on machines without an emoji font. */
function GlobeIcon() {
  return (
    <svg class="icon" viewBox="0 0 24 24" width="16" height="16" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="2">
      <circle cx="12" cy="12" r="9" />
      <path d="M3 12h18M12 3c2.5 2.8 3.8 5.8 3.8 9s-1.3 6.2-3.8 9c-2.5-2.8-3.8-5.8-3.8-9S9.5 5.8 12 3z" />
    </svg>
  );
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
      area?.focus(); // Send turns into Stop: keep the keyboard in the input for the next question
    }
  };
  // ready to type when the chat opens, unless something else has the keyboard (the API key dialog) or the screen is
  // a touch screen (its on-screen keyboard would cover half the conversation)
  onMount(() => {
    const idle = !document.activeElement || document.activeElement === document.body;
    if (idle && !window.matchMedia?.('(pointer: coarse)').matches) area?.focus();
  });
  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      if (!props.busy) submit();
    } else if (e.key === 'Escape' && props.busy) {
      e.preventDefault();
      props.onStop();
    }
  };
  // Escape stops an answer from anywhere on the page, not only from the input
  const onDocumentKey = (e: KeyboardEvent) => {
    if (e.key === 'Escape' && props.busy && e.target !== area && !e.defaultPrevented) props.onStop();
  };
  document.addEventListener('keydown', onDocumentKey);
  onCleanup(() => document.removeEventListener('keydown', onDocumentKey));
  const stop = () => {
    props.onStop();
    area?.focus(); // the Stop button is about to go: keep the keyboard in the input
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
        title="🌐 Web search: ground answers in a DuckDuckGo search"
        onClick={() => props.onWebSearch(!props.webSearch)}
        data-testid="web-search-toggle"
      >
        <GlobeIcon /> {props.webSearch ? 'On' : 'Off'}
        <span class="visually-hidden"> web search</span>
      </button>
      <label for="chat-input" class="visually-hidden">
        Message
      </label>
      <textarea
        id="chat-input"
        ref={area}
        data-skip-target
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
        <button type="button" class="danger" onClick={stop} title="Stop (Esc)">
          Stop
        </button>
      </Show>
    </form>
  );
}
