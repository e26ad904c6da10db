/** Asks for an API key when the gateway wants one (it answered 401, or closed the websocket with 4403). */
import { createSignal, Show } from 'solid-js';
import { checkKey, keyNeeded } from '../api/auth';
import { describe } from '../api/errors';
import { resetWsClient } from '../api/ws';

export function KeyDialog() {
  const [key, setKey] = createSignal('');
  const [remember, setRemember] = createSignal(false);
  const [checking, setChecking] = createSignal(false);
  const [problem, setProblem] = createSignal<string>();

  const submit = async (event: Event) => {
    event.preventDefault();
    const given = key().trim();
    if (!given) {
      setProblem('Enter the key your administrator gave you.');
      return;
    }
    setChecking(true);
    setProblem(undefined);
    try {
      await checkKey(given, remember());
      resetWsClient();
      window.location.reload(); // every view loads again, with the key
    } catch (error) {
      setProblem(keyNeeded() === 'rejected' ? 'That key was not accepted. Check it and try again.' : describe(error));
    } finally {
      setChecking(false);
    }
  };

  return (
    <Show when={keyNeeded()}>
      <div class="key-backdrop">
        <div class="card key-dialog" role="dialog" aria-modal="true" aria-labelledby="key-title" data-testid="key-dialog">
          <h2 id="key-title">This Switchboard needs an API key</h2>
          <p class="muted">
            Ask whoever runs it for a key. A user key chats and reads; an admin key also trains and manages
            adapters.
          </p>
          <form onSubmit={(event) => void submit(event)}>
            <label for="api-key">API key</label>
            <input
              id="api-key"
              type="password"
              autocomplete="off"
              autofocus
              value={key()}
              onInput={(event) => setKey(event.currentTarget.value)}
              aria-invalid={Boolean(problem())}
              aria-describedby={problem() ? 'key-problem' : undefined}
            />
            <label class="check">
              <input type="checkbox" checked={remember()} onChange={(event) => setRemember(event.currentTarget.checked)} />
              Remember on this device
            </label>
            <Show when={problem() ?? (keyNeeded() === 'rejected' ? 'The key in use was not accepted.' : undefined)}>
              <p class="alert" role="alert" id="key-problem">
                {problem() ?? 'The key in use was not accepted.'}
              </p>
            </Show>
            <button type="submit" class="primary" disabled={checking()}>
              {checking() ? 'Checking…' : 'Use this key'}
            </button>
          </form>
        </div>
      </div>
    </Show>
  );
}
