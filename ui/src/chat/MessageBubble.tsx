/** One turn of the conversation: the user's text, or the model's Markdown answer with its sources and notices. */
import { For, Show } from 'solid-js';
import { renderMarkdown } from './markdown';
import { modelLabel, type Turn } from './conversation';

export function MessageBubble(props: { turn: Turn; onRetry?: () => void }) {
  const t = () => props.turn;
  return (
    <div class={`bubble-row ${t().role}`} data-testid={`turn-${t().role}`} data-status={t().status}>
      <Show
        when={t().role === 'assistant'}
        fallback={
          <div class="bubble">
            <span class="visually-hidden">You: </span>
            {t().content}
          </div>
        }
      >
        <article class="bubble" classList={{ error: t().status === 'error' && !t().content }} aria-busy={t().status === 'streaming'}>
          <span class="visually-hidden">Switchboard: </span>
          <Show when={t().content || t().status !== 'streaming'} fallback={<span class="typing muted">Thinking</span>}>
            <div
              class="markdown"
              classList={{ typing: t().status === 'streaming' }}
              data-testid="answer"
              // sanitized by renderMarkdown (DOMPurify); raw HTML in answers is escaped
              innerHTML={renderMarkdown(t().content)}
            />
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
            <Show when={props.onRetry}>
              <button type="button" class="retry" onClick={() => props.onRetry?.()}>
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
            </Show>
            <Show when={t().model ?? modelLabel(t().adapter ?? null)}>
              {(label) => <span data-testid="answered-by">{label()}</span>}
            </Show>
            <Show when={t().completionTokens}>
              <span>{t().completionTokens} tokens</span>
            </Show>
          </div>
        </article>
      </Show>
    </div>
  );
}
