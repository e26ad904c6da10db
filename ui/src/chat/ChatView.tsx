/** The Chat section: the conversation, the adapter picker, clear, and the input bar. */
import { createEffect, For, on, onCleanup, onMount, Show } from 'solid-js';
import { activeModelLabel, status } from '../shell/status';
import { Composer } from './Composer';
import { BASE_MODEL, conversation } from './conversation';
import { MessageBubble } from './MessageBubble';

const SUGGESTIONS = ['What is the capital of France?', 'Write a haiku about the sea.', 'Explain recursion in one paragraph.'];

export function ChatView() {
  const chat = conversation();
  let scroller: HTMLDivElement | undefined;
  let pinned = true;

  // follow the answer as it grows, unless the reader scrolled up
  createEffect(
    on(
      () => chat.state.turns.map((t) => t.content.length).join(),
      () => {
        if (scroller && pinned) scroller.scrollTop = scroller.scrollHeight;
      },
    ),
  );

  // ... and keep the end in view when the conversation's box shrinks (the toolbar wraps once the status names the
  // model, the input grows a line) or a turn grows without new text (its status line, an error, Retry)
  onMount(() => {
    const el = scroller;
    if (!el) return;
    const follow = () => {
      if (pinned) el.scrollTop = el.scrollHeight;
    };
    if (typeof ResizeObserver === 'undefined') return; // jsdom
    const resized = new ResizeObserver(follow);
    resized.observe(el);
    const changed = new MutationObserver(follow);
    changed.observe(el, { childList: true, subtree: true, characterData: true, attributes: true });
    onCleanup(() => {
      resized.disconnect();
      changed.disconnect();
    });
  });

  const adapters = () => status()?.adapters.available ?? [];
  const label = () => (status() ? activeModelLabel(status()) : undefined);
  // a button that sent something disappears: keep the keyboard in the input
  const focusInput = () => queueMicrotask(() => document.getElementById('chat-input')?.focus());
  // chosen for this conversation but no longer saved (deleted elsewhere): shown as such, sending explains why
  const missingAdapter = () => {
    const chosen = chat.state.adapter;
    return chosen && chosen !== BASE_MODEL && !adapters().includes(chosen) ? chosen : undefined;
  };

  return (
    <section class="chat" aria-label="Chat">
      <div class="chat-toolbar">
        <label>
          <span class="muted">Answer with</span>
          {/* `selected` on each option (not `value` on the select) keeps the choice shown while the list changes */}
          <select
            id="chat-adapter"
            onChange={(e) => chat.setAdapter(e.currentTarget.value || null)}
            disabled={chat.busy()}
          >
            <option value="" selected={!chat.state.adapter}>
              Active model ({activeModelLabel(status())})
            </option>
            <option value={BASE_MODEL} selected={chat.state.adapter === BASE_MODEL}>
              Base model{status() ? ` (${status()?.modelInfo.modelId})` : ''}
              {status() && !status()?.adapters.active ? ', also while an adapter is loaded' : ''}
            </option>
            <For each={adapters()}>
              {(name) => (
                <option value={name} selected={name === chat.state.adapter}>
                  Adapter {name}
                </option>
              )}
            </For>
            <Show when={missingAdapter()}>
              {(name) => (
                <option value={name()} selected>
                  Adapter {name()}
                  {status() ? ' (deleted)' : ''}
                </option>
              )}
            </Show>
          </select>
        </label>
        <span class="spacer" />
        <button type="button" onClick={() => chat.clear()} disabled={!chat.state.turns.length}>
          Clear chat
        </button>
      </div>
      <div
        class="conversation"
        ref={scroller}
        role="log"
        aria-live="polite"
        aria-label="Conversation"
        onScroll={(e) => {
          const el = e.currentTarget;
          pinned = el.scrollHeight - el.scrollTop - el.clientHeight < 48;
        }}
      >
        <Show
          when={chat.state.turns.length}
          fallback={
            <div class="empty">
              <h2>Chat with {activeModelLabel(status())}</h2>
              <p>Answers stream token by token. Turn on web search (the globe in the input bar) to ground them in fresh results.</p>
              <div class="suggestions">
                <For each={SUGGESTIONS}>
                  {(s) => (
                    <button type="button" onClick={() => chat.send(s, label()) && focusInput()}>
                      {s}
                    </button>
                  )}
                </For>
              </div>
            </div>
          }
        >
          <For each={chat.state.turns}>
            {(turn) => <MessageBubble turn={turn} onRetry={() => chat.retry(turn.id, label()) && focusInput()} />}
          </For>
        </Show>
      </div>
      <Composer
        busy={chat.busy()}
        webSearch={chat.state.webSearch}
        onWebSearch={chat.setWebSearch}
        onSend={(text) => chat.send(text, label())}
        onStop={chat.stop}
      />
      <p class="hint">Enter sends · Shift+Enter adds a line · Esc stops an answer</p>
    </section>
  );
}
