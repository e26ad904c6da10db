/** The top bar: product name, the tabs, and the model every chat uses unless it picks another. */
import { For, Show } from 'solid-js';
import { forgetKey, keyNeeded } from '../api/auth';
import { ConnectionStatus } from './ConnectionStatus';
import { activeModelLabel, status, statusError } from './status';
import { routes, type Route } from './routes';

export function Header(props: { route: Route }) {
  const isAdapter = () => Boolean(status()?.adapters.active);
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
              {keyNeeded() ? 'API key needed' : 'gateway unreachable'}
            </span>
          }
        >
          <span class="muted">{isAdapter() ? 'Adapter' : 'Model'}</span>{' '}
          <span class={isAdapter() ? 'badge badge-adapter' : 'badge'} data-testid="active-model">
            {activeModelLabel(status())}
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
