/** The conversations sidebar (a drawer at phone width): New chat, the list most recent first, inline Rename
 * (Enter saves, Esc cancels), Delete; and the toast that offers Undo after a delete or a clear. */
import { createSignal, For, onCleanup, Show } from 'solid-js';
import { conversations, type ConversationEntry } from './conversations';

const titleOf = (entry: ConversationEntry) => entry.title || 'New chat';

function Item(props: { entry: ConversationEntry; onPicked: () => void }) {
  const list = conversations();
  const [editing, setEditing] = createSignal(false);
  const current = () => list.openId() === props.entry.id;
  // Enter and blur save, Esc cancels; whichever comes first ends the edit. A renamed row is drawn anew, so the
  // button to return to is found by the conversation's id.
  const finish = (name?: string, focus?: '.conv-open' | '.conv-rename-button') => {
    if (!editing()) return;
    setEditing(false);
    if (name !== undefined) list.rename(props.entry.id, name);
    const id = props.entry.id;
    if (focus) queueMicrotask(() => document.querySelector<HTMLElement>(`[data-id="${CSS.escape(id)}"] ${focus}`)?.focus());
  };

  return (
    <li class="conv-item" classList={{ current: current() }} data-testid="conversation" data-id={props.entry.id}>
      <Show
        when={editing()}
        fallback={
          <button
            type="button"
            class="conv-open"
            aria-current={current() ? 'page' : undefined}
            title={titleOf(props.entry)}
            onClick={() => {
              list.open(props.entry.id);
              props.onPicked();
            }}
          >
            <span class="conv-title">{titleOf(props.entry)}</span>
            <Show when={list.answering(props.entry.id)}>
              {/* in the button's name too: a screen reader hears "…, answering…" */}
              <span class="conv-answering" data-testid="answering">
                <span class="visually-hidden">, </span>answering…
              </span>
            </Show>
          </button>
        }
      >
        <input
          class="conv-rename"
          aria-label="Conversation name"
          value={props.entry.title}
          maxLength={80}
          ref={(el) =>
            queueMicrotask(() => {
              el.focus();
              el.select();
            })
          }
          onKeyDown={(e) => {
            if (e.key === 'Enter') {
              e.preventDefault();
              finish(e.currentTarget.value, '.conv-open');
            } else if (e.key === 'Escape') {
              e.preventDefault();
              e.stopPropagation();
              finish(undefined, '.conv-rename-button');
            }
          }}
          onBlur={(e) => finish(e.currentTarget.value)}
        />
      </Show>
      <div class="conv-actions">
        <button
          type="button"
          class="conv-icon conv-rename-button"
          aria-label={`Rename “${titleOf(props.entry)}”`}
          title="Rename"
          onClick={() => setEditing(true)}
          disabled={editing()}
        >
          <svg class="icon" viewBox="0 0 24 24" width="16" height="16" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="2">
            <path d="M4 20h4L19 9l-4-4L4 16v4zM14 6l4 4" />
          </svg>
        </button>
        <button
          type="button"
          class="conv-icon danger"
          aria-label={`Delete “${titleOf(props.entry)}”`}
          title="Delete"
          onClick={() => {
            list.remove(props.entry.id);
            // its row is gone: keep the keyboard in the list, on the conversation now open
            queueMicrotask(() => document.querySelector<HTMLButtonElement>('.conv-open[aria-current="page"]')?.focus());
          }}
        >
          <svg class="icon" viewBox="0 0 24 24" width="16" height="16" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="2">
            <path d="M4 7h16M9 7V4h6v3M6 7l1 13h10l1-13" />
          </svg>
        </button>
      </div>
    </li>
  );
}

/** The sidebar; `open` shows it as a drawer at phone width (on a wide screen it always shows). */
export function ConversationList(props: { open: boolean; onClose: () => void }) {
  const list = conversations();
  const onKey = (e: KeyboardEvent) => {
    if (e.key === 'Escape' && props.open && !e.defaultPrevented) {
      e.preventDefault();
      props.onClose();
    }
  };
  document.addEventListener('keydown', onKey);
  onCleanup(() => document.removeEventListener('keydown', onKey));

  return (
    <>
      <Show when={props.open}>
        <div class="conv-backdrop" aria-hidden="true" onClick={() => props.onClose()} />
      </Show>
      <aside id="conversations" class="conv-sidebar" classList={{ open: props.open }} aria-label="Conversations">
        <div class="conv-head">
          <button
            type="button"
            class="primary conv-new"
            onClick={() => {
              list.create();
              props.onClose();
              queueMicrotask(() => document.getElementById('chat-input')?.focus());
            }}
          >
            New chat
          </button>
          <button type="button" class="conv-icon conv-close" aria-label="Close conversations" onClick={() => props.onClose()}>
            ×
          </button>
        </div>
        <ul class="conv-list">
          <For each={list.entries()}>{(entry) => <Item entry={entry} onPicked={props.onClose} />}</For>
        </ul>
      </aside>
    </>
  );
}

/** "Deleted …  Undo" for a few seconds after a delete or a clear. */
export function UndoToast() {
  const list = conversations();
  return (
    <div class="toast-region" role="status" aria-live="polite">
      <Show when={list.pendingUndo()}>
        {(pending) => (
          <div class="toast" data-testid="undo-toast">
            <span>{pending().message}</span>
            <button
              type="button"
              class="link"
              onClick={() => {
                pending().undo();
                // the button goes with the toast: keep the keyboard in the chat (not on the page's top)
                queueMicrotask(() => document.getElementById('chat-input')?.focus());
              }}
            >
              Undo
            </button>
            <button type="button" class="conv-icon" aria-label="Dismiss" onClick={() => list.dismissUndo()}>
              ×
            </button>
          </div>
        )}
      </Show>
    </div>
  );
}
