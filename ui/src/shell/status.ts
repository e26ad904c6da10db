/** The live model status (model, active adapter, saved adapters), polled and refreshed after every change. */
import { createSignal } from 'solid-js';
import { request } from '../api/http';
import { ApiError, userWords } from '../api/errors';
import { createPolledList } from '../api/polled';
import { STATUS, type AdapterInfo, type StatusData } from '../api/operations';

const POLL_MS = 5000;

const [status, setStatus] = createSignal<StatusData | undefined>();
/** the saved adapters' rows, kept as the same objects across polls (the Models rows are not rebuilt) */
const [, setAdapterRows] = createPolledList<AdapterInfo>('name');
const [statusError, setStatusError] = createSignal<string | undefined>();
/** the failed status query's error code (UNREACHABLE, UNAVAILABLE, ...), for the header's words */
const [statusErrorCode, setStatusErrorCode] = createSignal<string | undefined>();
let timer: ReturnType<typeof setInterval> | undefined;
let started = 0;
let applied = 0;

export { status, statusError, statusErrorCode };

/** Fetch the status now. Every call asks anew (so a change just made is seen); an answer older than one
 * already shown is dropped. */
export async function refreshStatus(): Promise<void> {
  const mine = ++started;
  try {
    const data = await request<StatusData>(STATUS);
    if (mine < applied) return;
    applied = mine;
    setStatus({ ...data, adapters: { ...data.adapters, adapters: setAdapterRows(data.adapters.adapters) ?? [] } });
    setStatusError(undefined);
    setStatusErrorCode(undefined);
  } catch (error) {
    if (mine < applied) return;
    applied = mine;
    setStatusError(userWords(error)); // no Python module in the header's tooltip
    setStatusErrorCode(error instanceof ApiError ? error.code : undefined);
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

/** The header's model away from the Chat: the server's active model, which answers every conversation that did not
 * pick its own (for every user). */
export function headerModel(data: StatusData | undefined): { label: string; name: string; isAdapter: boolean } {
  const isAdapter = Boolean(data?.adapters.active ?? data?.modelInfo.activeAdapter);
  return { label: isAdapter ? 'Active adapter' : 'Active model', name: activeModelLabel(data), isAdapter };
}

/** The header's words when the status cannot be read: the server out of reach, or reached but without its model
 * (no inference worker, say; the details are in the badge's title). */
export function statusProblem(keyNeeded: boolean, code: string | undefined): string {
  if (keyNeeded) return 'API key needed';
  if (code === 'UNREACHABLE') return "Can't reach the server";
  return 'Model not available';
}
