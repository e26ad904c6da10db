/** The API key the gateway asks for: kept for the session (or, when chosen, on this device), sent on every
 * HTTP request as `Authorization: Bearer <key>` and in the websocket's connection_init payload. */
import { createSignal } from 'solid-js';
import type { KeyCheckQuery } from './generated';
import { request } from './http';

const STORAGE_KEY = 'switchboard.apiKey';

/** Why the app needs a key from the person: none given yet, or the one given was refused. */
export type KeyNeed = 'missing' | 'rejected';

const [keyNeeded, setKeyNeeded] = createSignal<KeyNeed | undefined>();
export { keyNeeded };

function read(storage: Storage): string | undefined {
  try {
    return storage.getItem(STORAGE_KEY) || undefined;
  } catch {
    return undefined; // storage disabled
  }
}

/** The key in use: this session's, else the one remembered on this device. */
export function apiKey(): string | undefined {
  return read(sessionStorage) ?? read(localStorage);
}

export function authHeaders(): Record<string, string> {
  const key = apiKey();
  return key ? { Authorization: `Bearer ${key}` } : {};
}

/** Keep `key` for this session; with `remember`, also on this device (until "Forget key"). */
export function saveKey(key: string, remember: boolean): void {
  sessionStorage.setItem(STORAGE_KEY, key);
  if (remember) localStorage.setItem(STORAGE_KEY, key);
  else localStorage.removeItem(STORAGE_KEY);
}

export function forgetKey(): void {
  sessionStorage.removeItem(STORAGE_KEY);
  localStorage.removeItem(STORAGE_KEY);
}

/** The gateway refused a request for want of a valid key: ask the person for one. */
export function keyRefused(): void {
  setKeyNeeded(apiKey() ? 'rejected' : 'missing');
}

export function keyAccepted(): void {
  setKeyNeeded(undefined);
}

/** The least the gateway answers only with a valid key. */
export const KEY_CHECK = /* GraphQL */ `
  query KeyCheck { access { role } }
`;

/** Keep `key` (as `saveKey`) and ask the gateway with it: resolves once it is accepted; throws an ApiError when it
 * is not (then `keyNeeded()` is 'rejected') or the gateway cannot answer. */
export async function checkKey(key: string, remember: boolean): Promise<void> {
  saveKey(key, remember);
  await request<KeyCheckQuery>(KEY_CHECK);
  keyAccepted();
}
