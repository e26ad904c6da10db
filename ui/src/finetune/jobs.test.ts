import { createRoot } from 'solid-js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../api/errors';
import { CANCEL_FINE_TUNE, FINE_TUNE_JOBS, type FineTuneJob, type FineTuneProgress } from '../api/operations';
import type { Handlers } from '../api/ws';
import { createJobsStore, type JobsStore } from './jobs';
import { rememberedJobId } from './storage';
import { job, progress } from './testJobs';

interface Sub {
  variables: Record<string, unknown>;
  handlers: Handlers<{ fineTuneProgress: FineTuneProgress }>;
  stopped: boolean;
}

function harness(list: () => FineTuneJob[] | Error) {
  const subs: Sub[] = [];
  const request = vi.fn(async (query: string, variables?: Record<string, unknown>) => {
    if (query === FINE_TUNE_JOBS) {
      const answer = list();
      if (answer instanceof Error) throw answer;
      return { fineTuneJobs: answer };
    }
    if (query === CANCEL_FINE_TUNE) return { cancelFineTune: { ok: true, error: null, jobId: variables?.jobId } };
    throw new Error(`unexpected ${query}`);
  });
  const subscribe = vi.fn((_query: string, variables: Record<string, unknown>, handlers: Handlers<never>) => {
    const sub: Sub = { variables, handlers: handlers as Sub['handlers'], stopped: false };
    subs.push(sub);
    return () => {
      sub.stopped = true;
    };
  });
  const refreshStatus = vi.fn(async () => undefined);
  let dispose = () => {};
  const store = createRoot((d) => {
    dispose = d;
    return createJobsStore({
      request: request as never,
      subscribe: subscribe as never,
      pollMs: 0,
      retryMs: 10,
      refreshStatus,
    });
  });
  return { store, subs, request, refreshStatus, dispose };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));
let disposers: (() => void)[] = [];

beforeEach(() => window.localStorage.clear());
afterEach(() => {
  disposers.forEach((d) => d());
  disposers = [];
  vi.useRealTimers();
});

function start(list: () => FineTuneJob[] | Error): ReturnType<typeof harness> & { store: JobsStore } {
  const h = harness(list);
  disposers.push(h.dispose);
  return h;
}

describe('the job list', () => {
  it('lets a re-read list leave the rows of unchanged jobs in place', async () => {
    const done = job({ jobId: 'done', state: 'succeeded' });
    const { store } = start(() => [{ ...done }]);
    await settle();
    const first = store.jobs()![0];
    await store.refresh();
    expect(store.jobs()![0]).toBe(first);
  });
});

describe('createJobsStore', () => {
  it('follows the running job from the list, seeded with its loss history', async () => {
    const running = job({ jobId: 'run', state: 'running', step: 2, totalSteps: 5, lossHistory: [2, 1.5] });
    const { store, subs } = start(() => [running, job({ jobId: 'old', state: 'succeeded' })]);
    await settle();
    expect(store.live()).toMatchObject({ jobId: 'run', losses: [2, 1.5] });
    expect(subs).toHaveLength(1);
    expect(subs[0].variables).toEqual({ jobId: 'run' });
    subs[0].handlers.next({ fineTuneProgress: progress({ jobId: 'run', step: 3, totalSteps: 5, loss: 1.2 }) });
    expect(store.live()).toMatchObject({ step: 3, losses: [2, 1.5, 1.2] });
    expect(store.connection().live).toBe(true);
  });

  it('reads the list and status again when the job finishes', async () => {
    let jobs = [job({ jobId: 'run', state: 'running', step: 1, totalSteps: 2, lossHistory: [2] })];
    const { store, subs, request, refreshStatus } = start(() => jobs);
    await settle();
    jobs = [job({ jobId: 'run', state: 'succeeded', step: 2, totalSteps: 2, lossHistory: [2, 1], adapter: 'lora-run' })];
    subs[0].handlers.next({ fineTuneProgress: progress({ jobId: 'run', state: 'succeeded', step: 2, loss: 1 }) });
    await settle();
    expect(refreshStatus).toHaveBeenCalled();
    expect(request.mock.calls.filter(([q]) => q === FINE_TUNE_JOBS)).toHaveLength(2);
    expect(store.live()).toMatchObject({ state: 'succeeded', losses: [2, 1], adapter: 'lora-run' });
  });

  it('does not subscribe for a finished job', async () => {
    const { store, subs } = start(() => [job({ jobId: 'done', state: 'failed', error: 'out of memory' })]);
    await settle();
    expect(store.live()).toMatchObject({ jobId: 'done', state: 'failed', error: 'out of memory' });
    expect(subs).toHaveLength(0);
  });

  it('subscribes again after a lost connection', async () => {
    const { subs, store } = start(() => [job({ jobId: 'run', state: 'running' })]);
    await settle();
    subs[0].handlers.error(new ApiError('socket closed', 'UNREACHABLE'));
    expect(store.connection()).toMatchObject({ live: false, error: 'socket closed' });
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(subs).toHaveLength(2);
    expect(subs[1].variables).toEqual({ jobId: 'run' });
  });

  it('after a reload without a job list, follows the remembered job', async () => {
    window.localStorage.setItem('switchboard.fineTune.lastJobId', 'mine');
    const { store, subs } = start(() => new ApiError('the training service is not running', 'UNAVAILABLE'));
    await settle();
    expect(store.listError()).toMatch(/not running/);
    expect(subs.map((s) => s.variables.jobId)).toEqual(['mine']);
    subs[0].handlers.next({ fineTuneProgress: progress({ jobId: 'mine', state: 'running', step: 4, totalSteps: 9 }) });
    expect(store.live()).toMatchObject({ jobId: 'mine', adapterName: null, state: 'running', step: 4 });
    subs[0].handlers.error(new ApiError("no job with id 'mine'", 'NOT_FOUND'));
    expect(rememberedJobId()).toBeUndefined();
  });

  it('remembers a submitted job and reads the list again', async () => {
    let jobs: FineTuneJob[] = [];
    const { store, subs } = start(() => jobs);
    await settle();
    expect(store.live()).toBeUndefined();
    jobs = [job({ jobId: 'new', state: 'queued', queuePosition: 0 })];
    await store.submitted('new');
    expect(rememberedJobId()).toBe('new');
    expect(store.live()).toMatchObject({ jobId: 'new', state: 'queued' });
    expect(subs.map((s) => s.variables.jobId)).toEqual(['new']);
  });

  it('switches to the next job when the list says so, stopping the old subscription', async () => {
    let jobs = [job({ jobId: 'a', state: 'running' }), job({ jobId: 'b', state: 'queued', queuePosition: 1 })];
    const { store, subs } = start(() => jobs);
    await settle();
    jobs = [job({ jobId: 'a', state: 'cancelled' }), job({ jobId: 'b', state: 'running' })];
    expect(await store.cancel('a')).toBeUndefined();
    await settle();
    expect(store.currentId()).toBe('b');
    expect(subs[0].stopped).toBe(true);
    expect(subs.at(-1)?.variables).toEqual({ jobId: 'b' });
  });
});
