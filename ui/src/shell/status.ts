/** The live model status (model, active adapter, saved adapters), polled and refreshed after every change. */
import { createSignal } from 'solid-js';
import { request } from '../api/http';
import { describe } from '../api/errors';
import { STATUS, type StatusData } from '../api/operations';

const POLL_MS = 5000;

const [status, setStatus] = createSignal<StatusData | undefined>();
const [statusError, setStatusError] = createSignal<string | undefined>();
let timer: ReturnType<typeof setInterval> | undefined;
let inflight: Promise<void> | undefined;

export { status, statusError };

/** Fetch the status now; concurrent callers share one request. */
export function refreshStatus(): Promise<void> {
  if (inflight) return inflight;
  const pending = request<StatusData>(STATUS)
    .then((data) => {
      setStatus(data);
      setStatusError(undefined);
    })
    .catch((error: unknown) => {
      setStatusError(describe(error));
    })
    .finally(() => {
      inflight = undefined;
    });
  inflight = pending;
  return pending;
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
