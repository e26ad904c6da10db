/** The fine-tune jobs: starting one, and the store of the job list (polled), the current job followed live,
 * submitting's bookkeeping, cancel and forget. */
import { createEffect, createMemo, createSignal, on, onCleanup, untrack } from 'solid-js';
import { describe } from '../api/errors';
import { request as httpRequest } from '../api/http';
import type { CancelMutation, JobsQuery, StartMutation } from '../api/generated';
import {
  CANCEL_FINE_TUNE,
  DELETE_FINE_TUNE_JOB,
  FINE_TUNE_JOBS,
  START_FINE_TUNE,
  type FineTuneInput,
  type FineTuneJob,
  type FineTuneProgress,
  type FineTuneResult,
} from '../api/operations';
import { followJob, type Subscribe } from './follow';
import { applyProgress, applyRecord, fromRecord, isFinished, pickCurrent, unknownJob, type LiveJob } from './live';
import { createPolledList } from '../api/polled';
import { refreshStatus } from '../shell/status';
import { rememberJobId, rememberedJobId } from './storage';

/** Queue a fine-tune with `input`'s settings: the server's answer (its job id and place in the queue, or why it
 * refused and the argument that is about). Throws an ApiError when the gateway cannot answer. */
export async function startFineTune(input: FineTuneInput): Promise<FineTuneResult> {
  const data = await httpRequest<StartMutation>(START_FINE_TUNE, { ...input });
  return data.startFineTune;
}

export type Request = <T>(query: string, variables?: Record<string, unknown>) => Promise<T>;

export interface JobsOptions {
  request?: Request;
  subscribe?: Subscribe;
  /** how often the job list is read again (0: never); 5 s by default */
  pollMs?: number;
  retryMs?: number;
  /** called when the followed job finishes (after the list and status are asked for again) */
  refreshStatus?: () => Promise<void>;
}

export interface Connection {
  live: boolean;
  error?: string;
  final?: boolean;
}

export type JobsStore = ReturnType<typeof createJobsStore>;

/** Create inside a component: polling and the subscription stop when it is disposed. */
export function createJobsStore(options: JobsOptions = {}) {
  const request: Request = options.request ?? httpRequest;
  const statusRefresh = options.refreshStatus ?? refreshStatus;
  const [jobs, setJobs] = createPolledList<FineTuneJob>('jobId');
  const [listError, setListError] = createSignal<string>();
  const [live, setLive] = createSignal<LiveJob>();
  const [connection, setConnection] = createSignal<Connection>({ live: false });
  const [remembered, setRemembered] = createSignal(rememberedJobId());

  let latest = 0;
  let pending = 0;
  /** Read the job list; only the latest request's answer is kept. */
  async function refresh(): Promise<void> {
    const mine = ++latest;
    pending += 1;
    try {
      const data = await request<JobsQuery>(FINE_TUNE_JOBS);
      if (mine !== latest) return;
      setJobs(data.fineTuneJobs);
      setListError(undefined);
    } catch (error) {
      if (mine === latest) setListError(describe(error));
    } finally {
      pending -= 1;
    }
  }

  /** The running job, else the latest queued, else the last finished; the remembered one without a list. */
  const currentId = createMemo<string | undefined>(() => {
    const list = jobs();
    if (list === undefined) return listError() ? remembered() : undefined;
    return pickCurrent(list)?.jobId;
  });

  let stopFollowing: (() => void) | undefined;
  const stopFollow = () => {
    stopFollowing?.();
    stopFollowing = undefined;
  };

  function onFinished(_progress: FineTuneProgress): void {
    void refresh();
    void statusRefresh();
  }

  createEffect(
    on(currentId, (id) => {
      stopFollow();
      setConnection({ live: false });
      if (!id) {
        setLive(undefined);
        return;
      }
      const job = untrack(jobs)?.find((j) => j.jobId === id);
      const seed = job ? fromRecord(job) : unknownJob(id);
      setLive(seed);
      if (isFinished(seed.state)) return; // the record is final: nothing more will come
      stopFollowing = followJob(
        id,
        {
          update: (progress) => setLive((current) => (current ? applyProgress(current, progress) : current)),
          finished: onFinished,
          connection: (state) => {
            setConnection(state);
            if (state.final && id === remembered()) {
              rememberJobId(undefined); // it no longer exists
              setRemembered(undefined);
            }
          },
        },
        { subscribe: options.subscribe, retryMs: options.retryMs },
      );
    }),
  );

  // a newer list refines the followed job (steps a lost connection missed, a state it did not hear of)
  createEffect(
    on(
      jobs,
      (list) => {
        const current = untrack(live);
        const job = current && list?.find((j) => j.jobId === current.jobId);
        if (!current || !job) return;
        const next = applyRecord(current, job);
        setLive(next);
        if (isFinished(next.state) && !isFinished(current.state)) {
          stopFollow();
          void statusRefresh();
        }
      },
      { defer: true },
    ),
  );

  const pollMs = options.pollMs ?? 5000;
  if (pollMs > 0) {
    const timer = setInterval(() => {
      if (pending === 0 && !document.hidden) void refresh();
    }, pollMs);
    onCleanup(() => clearInterval(timer));
  }
  onCleanup(stopFollow);
  void refresh();

  async function act(field: string, mutation: string, jobId: string, fallback: string): Promise<string | undefined> {
    try {
      const data = await request<Record<string, CancelMutation['cancelFineTune']>>(mutation, { jobId });
      if (!data[field].ok) return data[field].error ?? fallback;
    } catch (error) {
      return describe(error);
    }
    void refresh();
    return undefined;
  }

  return {
    jobs,
    listError,
    live,
    connection,
    currentId,
    refresh,
    /** A job was just queued: remember it (for a reload) and read the list, which now holds it. */
    async submitted(jobId: string): Promise<void> {
      rememberJobId(jobId);
      setRemembered(jobId);
      await refresh();
    },
    /** Cancel a running or queued job; the error's text when the server refuses. */
    cancel: (jobId: string) => act('cancelFineTune', CANCEL_FINE_TUNE, jobId, 'the job could not be cancelled'),
    /** Remove a finished job from the history (its adapter stays); the error's text when the server refuses. */
    forget: (jobId: string) => act('deleteFineTuneJob', DELETE_FINE_TUNE_JOB, jobId, 'the job could not be removed'),
  };
}
