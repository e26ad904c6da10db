/** The live model status (model, active adapter, saved adapters), polled and refreshed after every change. */
import { createSignal } from 'solid-js';
import { request } from '../api/http';
import { describe } from '../api/errors';
import { keepUnchanged } from '../api/keep';
import { STATUS, type StatusData } from '../api/operations';

const POLL_MS = 5000;

const [status, setStatus] = createSignal<StatusData | undefined>();
const [statusError, setStatusError] = createSignal<string | undefined>();
let timer: ReturnType<typeof setInterval> | undefined;
let started = 0;
let applied = 0;

export { status, statusError };

/** Fetch the status now. Every call asks anew (so a change just made is seen); an answer older than one
 * already shown is dropped. */
export async function refreshStatus(): Promise<void> {
  const mine = ++started;
  try {
    const data = await request<StatusData>(STATUS);
    if (mine < applied) return;
    applied = mine;
    setStatus((previous) => ({
      ...data,
      adapters: {
        ...data.adapters,
        adapters: keepUnchanged(previous?.adapters.adapters, data.adapters.adapters, (adapter) => adapter.name),
      },
    }));
    setStatusError(undefined);
  } catch (error) {
    if (mine < applied) return;
    applied = mine;
    setStatusError(describe(error));
  }
}

export function startStatusPolling(): () => void {
  void refreshStatus();
  timer ??= setInterval(() => void refreshStatus(), POLL_MS);
  return () => {
    clearInterval(timer);
    timer = undefined;
  };
}

/** What the header shows: the active adapter's name, else the base model's id. */
export function activeModelLabel(data: StatusData | undefined): string {
  if (!data) return 'connecting…';
  return data.adapters.active ?? data.modelInfo.activeAdapter ?? data.modelInfo.modelId;
}
