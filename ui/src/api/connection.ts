/** The link to the gateway as people read it (offline, reconnecting, unreachable, connected), the back-off between
 * tries to reach it again, and a watcher that keeps trying until it answers. */
import { createSignal } from 'solid-js';

/**
 * - `connected`: the last websocket opened (or none was needed yet);
 * - `offline`: the browser says there is no network (`navigator.onLine`, the `offline` event);
 * - `reconnecting`: a working connection dropped; the app is trying again;
 * - `unreachable`: the gateway did not answer (never reached, or still down after `GIVE_UP_MS` of tries).
 */
export type ConnectionState = 'connected' | 'offline' | 'reconnecting' | 'unreachable';

/** What happens to the link: the websocket's own events (graphql-ws `on`), the browser's, and the watcher's. */
export type ConnectionEvent =
  | { type: 'connected' }
  /** a websocket closed: `clean` is a normal close (code 1000, the last subscription ended), `opened` says whether
   * it had got through (connection_ack) before */
  | { type: 'closed'; clean: boolean; opened: boolean }
  | { type: 'offline' }
  | { type: 'online' }
  /** the watcher tried for `GIVE_UP_MS` after a drop without getting through */
  | { type: 'gave-up' };

/** The first retry waits about this long; each later one twice as long, up to `BACKOFF_CAP_MS`. */
export const BACKOFF_BASE_MS = 500;
export const BACKOFF_CAP_MS = 8000;
/** How long a dropped connection reads "Reconnecting…" before "Can't reach the server"; also how long an answer
 * waits to be resumed: the gateway keeps an orphaned generation running for `GATEWAY_RESUME_GRACE_S` (30 s). */
export const GIVE_UP_MS = 30_000;

/**
 * Milliseconds to wait before retry number `attempt` (0 for the first): exponential back-off with "equal jitter"
 * (half the step fixed, half random), so that many pages cut off together do not come back together.
 * `random` returns [0, 1) (Math.random; injectable for tests).
 */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const step = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempt));
  return Math.round(step / 2 + (random() * step) / 2);
}

/** The state after `event` in `state`. */
export function nextState(state: ConnectionState, event: ConnectionEvent): ConnectionState {
  switch (event.type) {
    case 'connected':
      return 'connected';
    case 'offline':
      return 'offline';
    case 'online':
      return state === 'offline' ? 'reconnecting' : state;
    case 'gave-up':
      return state === 'reconnecting' ? 'unreachable' : state;
    case 'closed':
      if (event.clean || state === 'offline' || state === 'unreachable') return state;
      // a working link that dropped is being re-established; a new one that never got through is unreachable
      if (event.opened) return 'reconnecting';
      return state === 'connected' ? 'unreachable' : state;
  }
}

/** In words, for the status line; empty when all is well. */
export function stateLabel(state: ConnectionState): string {
  switch (state) {
    case 'offline':
      return 'Offline';
    case 'reconnecting':
      return 'Reconnecting…';
    case 'unreachable':
      return "Can't reach the server";
    default:
      return '';
  }
}

const [connectionState, setConnectionState] = createSignal<ConnectionState>(
  globalThis.navigator?.onLine === false ? 'offline' : 'connected',
);
export { connectionState };

let probe: (() => Promise<boolean>) | undefined;
let watching = false;

/** Feed an event to the state machine; a link that is not `connected` is watched until it is. */
export function report(event: ConnectionEvent): void {
  setConnectionState((state) => nextState(state, event));
  if (connectionState() !== 'connected') void watch();
}

/** How the watcher checks the gateway (ws.ts registers a tiny query over the websocket); true when it answered. */
export function setProbe(check: () => Promise<boolean>): void {
  probe = check;
}

/** Wait `backoffMs(attempt)`, or less when the browser says the network is back. */
export function pause(attempt: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      globalThis.removeEventListener?.('online', done);
      resolve();
    };
    const timer = setTimeout(done, backoffMs(attempt));
    globalThis.addEventListener?.('online', done);
  });
}

/** Try the probe with back-off until the gateway answers; after `GIVE_UP_MS` a drop reads as unreachable. */
async function watch(): Promise<void> {
  if (watching || !probe) return;
  watching = true;
  const since = Date.now();
  try {
    for (let attempt = 0; connectionState() !== 'connected'; attempt++) {
      await pause(attempt);
      if (Date.now() - since > GIVE_UP_MS) report({ type: 'gave-up' });
      if (connectionState() === 'connected') break;
      if (await probe()) setConnectionState('connected');
    }
  } finally {
    watching = false;
  }
}

globalThis.addEventListener?.('offline', () => report({ type: 'offline' }));
globalThis.addEventListener?.('online', () => report({ type: 'online' }));
