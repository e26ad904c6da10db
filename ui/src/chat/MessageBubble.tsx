/** One turn of the conversation: the user's text, or the model's Markdown answer with its sources and notices,
 * and the turn's actions (Copy, Regenerate, Edit). */
import { createEffect, createSignal, For, onCleanup, Show, type JSX } from 'solid-js';
import { addCodeCopyButtons, copyText, COPIED_MS, retryHelps } from './actions';
import { Collapsible } from './Collapsible';
import { modelLabel, type Turn } from './turns';
import { formatFigures } from './figures';
import { CopyIcon, EditIcon, RegenerateIcon } from './icons';
import { renderMarkdown } from './markdown';

export interface MessageBubbleProps {
  turn: Turn;
  /** an answer is streaming: no action may start */
  busy?: boolean;
  onRetry?: () => void;
  /** shown under the error: what to change before asking again (the model, when the chosen one was deleted) */
  choice?: JSX.Element;
  /** given for the last answer only */
  onRegenerate?: () => void;
  /** given for the last answer only: ask for the rest of an answer cut off at the token limit */
  onContinue?: () => void;
  /** resend a question with new text (and drop the turns after it); false when it was not sent */
  onEdit?: (text: string) => boolean;
}

/** Copy the answer's Markdown; says "Copied" for a moment. */
function CopyButton(props: { text: string }) {
  const [said, setSaid] = createSignal<string>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  onCleanup(() => clearTimeout(timer));
  const copy = async () => {
    const ok = await copyText(props.text);
    setSaid(ok ? 'Copied' : "Couldn't copy");
    clearTimeout(timer);
    timer = setTimeout(() => setSaid(undefined), COPIED_MS);
  };
  return (
    <>
      <button type="button" class="icon-button" aria-label="Copy" title="Copy the answer (Markdown)" onClick={() => void copy()}>
        <CopyIcon />
      </button>
      <span class="copied" role="status">
        {said()}
      </span>
    </>
  );
}

/** Show `form` whole in its scrolling conversation (its top first when it is taller) and focus `field`: once the
 * conversation has followed its own growth to the end, which would otherwise leave the box above the view. */
function reveal(form: HTMLElement, field: HTMLElement): void {
  requestAnimationFrame(() => {
    form.scrollIntoView?.({ block: 'nearest' }); // (jsdom has none)
    field.focus({ preventScroll: true });
  });
}

/** The question being edited in place: Enter or Save resends it (then `onSaved`), Esc or Cancel leaves it as it was. */
function EditForm(props: {
  text: string;
  busy?: boolean;
  onSave: (text: string) => boolean;
  onSaved: () => void;
  onCancel: () => void;
}) {
  const [text, setText] = createSignal(props.text);
  let form: HTMLFormElement | undefined;
  const save = () => {
    if (!props.busy && props.onSave(text())) props.onSaved();
  };
  return (
    <form
      ref={form}
      class="bubble edit-form"
      onSubmit={(e) => {
        e.preventDefault();
        save();
      }}
    >
      <textarea
        aria-label="Edit message"
        value={text()}
        rows={Math.min(12, Math.max(2, props.text.split('\n').length))}
        ref={(el) => queueMicrotask(() => form && reveal(form, el))}
        onInput={(e) => setText(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (e.key === 'Escape') {
            e.preventDefault();
            props.onCancel();
          } else if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
            e.preventDefault();
            save();
          }
        }}
      />
      <div class="edit-actions">
        <button type="button" onClick={() => props.onCancel()}>
          Cancel
        </button>
        <button type="submit" class="primary" disabled={props.busy || !text().trim()}>
          Save
        </button>
      </div>
    </form>
  );
}

/** The timing of the answer's last part: after a Continue, its speed is that of the continuation alone. */
const lastPart = (turn: Turn): Turn =>
  turn.continuedFrom && turn.completionTokens ? { ...turn, completionTokens: turn.completionTokens - turn.continuedFrom } : turn;

export function MessageBubble(props: MessageBubbleProps) {
  const t = () => props.turn;
  const [editing, setEditing] = createSignal(false);
  let editButton: HTMLButtonElement | undefined;
  // the edit abandoned: the keyboard goes back to the question's pencil, not to the top of the page
  const cancelEdit = () => {
    setEditing(false);
    editButton?.focus();
  };
  let answerDiv: HTMLDivElement | undefined;
  // "Copy code" on each code block once the answer is complete (the Markdown is re-rendered as it streams)
  createEffect(() => {
    t().content;
    if (answerDiv && t().status !== 'streaming') addCodeCopyButtons(answerDiv);
  });
  return (
    <div class={`bubble-row ${t().role}`} data-testid={`turn-${t().role}`} data-status={t().status}>
      <Show
        when={t().role === 'assistant'}
        fallback={
          <Show
            when={!editing()}
            fallback={
              <EditForm
                text={t().content}
                busy={props.busy}
                onSave={(text) => props.onEdit?.(text) ?? false}
                onSaved={() => setEditing(false)}
                onCancel={cancelEdit}
              />
            }
          >
            <div class="bubble" classList={{ editable: Boolean(props.onEdit) }}>
              <span class="visually-hidden">You: </span>
              <Collapsible text={t().content}>{t().content}</Collapsible>
              <Show when={props.onEdit}>
                <div class="msg-actions">
                  <button
                    type="button"
                    class="icon-button"
                    ref={editButton}
                    aria-label="Edit"
                    title="Edit and resend"
                    disabled={props.busy}
                    onClick={() => setEditing(true)}
                  >
                    <EditIcon />
                  </button>
                </div>
              </Show>
            </div>
          </Show>
        }
      >
        <article class="bubble" classList={{ error: t().status === 'error' && !t().content }} aria-busy={t().status === 'streaming'}>
          <span class="visually-hidden">Switchboard: </span>
          <Show
            when={t().content || t().status !== 'streaming'}
            fallback={
              <span class="typing muted" data-testid="stage">
                {t().stage === 'searching' ? 'Searching the web…' : 'Thinking'}
              </span>
            }
          >
            <Collapsible text={t().content} enabled={t().status !== 'streaming'}>
              <div
                class="markdown"
                classList={{ typing: t().status === 'streaming' }}
                data-testid="answer"
                ref={answerDiv}
                // sanitized by renderMarkdown (DOMPurify); raw HTML in answers is escaped
                innerHTML={renderMarkdown(t().content)}
              />
            </Collapsible>
          </Show>
          <Show when={t().notice}>
            <div class="notice" role="note" data-testid="search-notice">
              {t().notice}
            </div>
          </Show>
          <Show when={t().sources?.length}>
            <nav class="sources" aria-label="Sources" data-testid="sources">
              <strong>Sources</strong>
              <ol>
                <For each={t().sources}>
                  {(s) => (
                    <li>
                      <a href={s.url} target="_blank" rel="noopener noreferrer nofollow">
                        {s.title || s.url}
                      </a>
                    </li>
                  )}
                </For>
              </ol>
            </nav>
          </Show>
          <Show when={t().status === 'error'}>
            <div class="field-error" role="alert" data-testid="turn-error">
              {t().error}
            </div>
            {props.choice}
            <Show when={props.onRetry && retryHelps(t().errorCode)}>
              <button type="button" class="retry" onClick={() => props.onRetry?.()} disabled={props.busy}>
                Retry
              </button>
            </Show>
          </Show>
          <div class="meta">
            <Show when={t().status === 'stopped'}>
              <span data-testid="stopped">Stopped{t().stopReason ? `: ${t().stopReason}` : ''}</span>
            </Show>
            <Show when={t().status === 'streaming' && t().reconnecting}>
              <span data-testid="reconnecting">Reconnecting…</span>
            </Show>
            <Show when={t().finishReason === 'length'}>
              <span>Cut off at the token limit</span>
              <Show when={props.onContinue && t().status === 'done'}>
                <button
                  type="button"
                  class="continue"
                  title="Ask the model for the rest of this answer"
                  disabled={props.busy}
                  onClick={() => props.onContinue?.()}
                >
                  Continue
                </button>
              </Show>
            </Show>
            <Show when={t().model ?? modelLabel(t().adapter ?? null)}>
              {(label) => <span data-testid="answered-by">{label()}</span>}
            </Show>
            <Show when={t().completionTokens}>
              <span data-testid="tokens">{t().completionTokens === 1 ? '1 token' : `${t().completionTokens} tokens`}</span>
            </Show>
            <Show when={t().status !== 'streaming' && formatFigures(lastPart(t()))}>
              {(figures) => <span data-testid="figures">{figures()}</span>}
            </Show>
            <Show when={t().status !== 'streaming' && (t().content || props.onRegenerate)}>
              <span class="msg-actions">
                <Show when={t().content}>
                  <CopyButton text={t().content} />
                </Show>
                <Show when={props.onRegenerate && t().status !== 'error'}>
                  <button type="button" class="icon-button" aria-label="Regenerate" title="Ask again for a new answer" disabled={props.busy} onClick={() => props.onRegenerate?.()}>
                    <RegenerateIcon />
                  </button>
                </Show>
              </span>
            </Show>
          </div>
        </article>
      </Show>
    </div>
  );
}
