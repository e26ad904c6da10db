/** The top bar: product name, the tabs, and the model: on the Chat, the one that answers the open conversation (as
 * its "Answer with" says); elsewhere the server's active model, which every conversation on it uses. */
import { For, Show } from 'solid-js';
import { forgetKey, keyNeeded } from '../api/auth';
import { conversations } from '../chat/conversations';
import { answeringModel } from '../chat/picker';
import { ConnectionStatus } from './ConnectionStatus';
import { headerModel, status, statusError, statusErrorCode, statusProblem } from './status';
import { routes, type Route } from './routes';

export function Header(props: { route: Route }) {
  const shown = () => {
    if (props.route !== 'chat') return headerModel(status());
    const answering = answeringModel(conversations().current().state.adapter, status());
    return { ...answering, label: 'Answers with' };
  };
  const isAdapter = () => shown().isAdapter;
  return (
    <header class="topbar">
      <a class="brand" href="#/chat" aria-label="Switchboard home">
        <img src="/favicon.svg" alt="" width="24" height="24" />
        <span>Switchboard</span>
      </a>
      <nav class="tabs" aria-label="Sections">
        <For each={routes}>
          {(r) => (
            <a href={`#/${r.id}`} class="tab" aria-current={props.route === r.id ? 'page' : undefined}>
              {r.label}
            </a>
          )}
        </For>
      </nav>
      <ConnectionStatus />
      <div class="active-model" role="status" aria-live="polite">
        <Show
          when={!statusError()}
          fallback={
            <span class="badge badge-error" title={statusError()}>
              {statusProblem(Boolean(keyNeeded()), statusErrorCode())}
            </span>
          }
        >
          <span class="muted">{shown().label}</span>{' '}
          <span class={isAdapter() ? 'badge badge-adapter' : 'badge'} data-testid="active-model">
            {shown().name}
          </span>
          <Show when={status()?.modelInfo.state && status()?.modelInfo.state !== 'ready'}>
            <span class="badge badge-warn">{status()?.modelInfo.state}</span>
          </Show>
          <Show when={status()?.access?.keysRequired}>
            <span class="badge" data-testid="key-role" title="The role of the API key in use">
              {status()?.access.role} key
            </span>
            <button
              type="button"
              class="link"
              onClick={() => {
                forgetKey();
                window.location.reload();
              }}
            >
              Forget key
            </button>
          </Show>
        </Show>
      </div>
    </header>
  );
}
