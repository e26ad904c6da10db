/** Follow one job's `fineTuneProgress` until it finishes, subscribing again after a lost connection. */
import type { ApiError } from '../api/errors';
import { FINE_TUNE_PROGRESS, type FineTuneProgress } from '../api/operations';
import { subscribe as wsSubscribe, type Handlers } from '../api/ws';
import { isFinished } from './live';

export type Subscribe = <T>(query: string, variables: Record<string, unknown>, handlers: Handlers<T>) => () => void;

export interface FollowHandlers {
  update: (progress: FineTuneProgress) => void;
  /** the job reached succeeded, failed or cancelled */
  finished: (progress: FineTuneProgress) => void;
  /** the connection is up again (true) or lost with `error` and will be retried unless `final` */
  connection: (state: { live: boolean; error?: string; final?: boolean }) => void;
}

export interface FollowOptions {
  subscribe?: Subscribe;
  /** the first retry's delay; it doubles up to `maxRetryMs` */
  retryMs?: number;
  maxRetryMs?: number;
}

/** Errors that another try cannot fix: the job does not exist. */
const FINAL_CODES = new Set(['NOT_FOUND', 'BAD_REQUEST']);

/** Subscribe to `jobId`'s progress; the returned function stops following it. */
export function followJob(jobId: string, handlers: FollowHandlers, options: FollowOptions = {}): () => void {
  const subscribe = options.subscribe ?? wsSubscribe;
  const firstDelay = options.retryMs ?? 1000;
  const maxDelay = options.maxRetryMs ?? 15_000;
  let delay = firstDelay;
  let stopped = false;
  let stop: (() => void) | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const retry = (error: string) => {
    if (stopped) return;
    handlers.connection({ live: false, error });
    timer = setTimeout(start, delay);
    delay = Math.min(delay * 2, maxDelay);
  };

  function start(): void {
    timer = undefined;
    if (stopped) return;
    let seen = false;
    stop = subscribe<{ fineTuneProgress: FineTuneProgress }>(
      FINE_TUNE_PROGRESS,
      { jobId },
      {
        next: (data) => {
          const progress = data.fineTuneProgress;
          if (stopped || !progress) return;
          if (!seen) {
            seen = true;
            delay = firstDelay;
            handlers.connection({ live: true });
          }
          handlers.update(progress);
          if (isFinished(progress.state)) {
            stopped = true;
            handlers.finished(progress);
          }
        },
        error: (error: ApiError) => {
          if (stopped) return;
          if (error.code && FINAL_CODES.has(error.code)) {
            stopped = true;
            handlers.connection({ live: false, error: error.message, final: true });
            return;
          }
          retry(error.message);
        },
        // the server ends the stream only after a finished state; anything else is a lost connection
        complete: () => retry('the progress stream ended early; reconnecting'),
      },
    );
  }

  start();
  return () => {
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
    stop?.();
  };
}
