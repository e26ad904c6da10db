import { describe, expect, it } from 'vitest';
import { applyProgress, applyRecord, fromRecord, pickCurrent, unknownJob, waitingJobs } from './live';
import { job, progress } from './testJobs';

describe('pickCurrent', () => {
  const done = job({ jobId: 'done', state: 'succeeded', created: '2025-01-01T10:00:00Z', finished: '2025-01-01T11:00:00Z' });
  const failedLater = job({
    jobId: 'failed',
    state: 'failed',
    created: '2025-01-01T09:00:00Z',
    finished: '2025-01-01T12:00:00Z',
  });
  const queuedOld = job({ jobId: 'q1', state: 'queued', created: '2025-01-02T00:00:00Z', queuePosition: 1 });
  const queuedNew = job({ jobId: 'q2', state: 'queued', created: '2025-01-03T00:00:00Z', queuePosition: 2 });
  const running = job({ jobId: 'run', state: 'running', created: '2025-01-01T13:00:00Z' });

  it('prefers the running job', () => {
    expect(pickCurrent([queuedNew, queuedOld, running, done])?.jobId).toBe('run');
  });
  it('else the latest queued one', () => {
    expect(pickCurrent([done, queuedOld, queuedNew])?.jobId).toBe('q2');
  });
  it('else the most recently finished one', () => {
    expect(pickCurrent([done, failedLater])?.jobId).toBe('failed');
  });
  it('is nothing without jobs', () => {
    expect(pickCurrent([])).toBeUndefined();
  });
  it('lists the other queued jobs first in line first', () => {
    expect(waitingJobs([queuedNew, running, queuedOld], 'run').map((j) => j.jobId)).toEqual(['q1', 'q2']);
    expect(waitingJobs([queuedNew, queuedOld], 'q2').map((j) => j.jobId)).toEqual(['q1']);
  });
});

describe('applyProgress', () => {
  const base = fromRecord(job({ jobId: 'j', state: 'running', step: 2, totalSteps: 10, lossHistory: [2, 1.8] }));

  it('adds each step\'s loss and moves the step', () => {
    const next = applyProgress(base, progress({ jobId: 'j', step: 3, totalSteps: 10, loss: 1.5 }));
    expect(next).toMatchObject({ step: 3, totalSteps: 10, losses: [2, 1.8, 1.5] });
  });

  it('does not add the first message of a subscription twice', () => {
    const next = applyProgress(base, progress({ jobId: 'j', step: 2, totalSteps: 10, loss: 1.8 }));
    expect(next.losses).toEqual([2, 1.8]);
  });

  it('does not move back for an older stored record after a reconnect', () => {
    const ahead = applyProgress(base, progress({ jobId: 'j', step: 5, totalSteps: 10, loss: 1.1 }));
    const stale = applyProgress(ahead, progress({ jobId: 'j', step: 3, totalSteps: 10, loss: 1.5 }));
    expect(stale.step).toBe(5);
    expect(stale.losses).toEqual([2, 1.8, 1.5, undefined, 1.1]);
  });

  it('ignores NaN or missing losses', () => {
    expect(applyProgress(base, progress({ jobId: 'j', step: 3, loss: Number.NaN })).losses).toEqual([2, 1.8]);
    expect(applyProgress(base, progress({ jobId: 'j', step: 3, loss: null })).losses).toEqual([2, 1.8]);
  });

  it('starts the curve afresh when a queued job starts', () => {
    const queued = { ...unknownJob('j'), losses: [9, 9, 9] };
    const next = applyProgress(queued, progress({ jobId: 'j', state: 'running', step: 1, loss: 3 }));
    expect(next).toMatchObject({ state: 'running', step: 1, losses: [3] });
  });

  it('keeps a finished state and ignores other jobs', () => {
    const finished = applyProgress(base, progress({ jobId: 'j', state: 'succeeded', step: 10, adapter: 'lora-j' }));
    expect(finished).toMatchObject({ state: 'succeeded', adapter: 'lora-j' });
    expect(applyProgress(finished, progress({ jobId: 'j', state: 'running', step: 4 }))).toBe(finished);
    expect(applyProgress(base, progress({ jobId: 'other', step: 9 }))).toBe(base);
  });

  it('does not go back to queued once running', () => {
    expect(applyProgress(base, progress({ jobId: 'j', state: 'queued', step: 0 }))).toBe(base);
  });
});

describe('applyRecord', () => {
  it('fills in steps the live updates missed', () => {
    const live = { ...fromRecord(job({ jobId: 'j', state: 'running', step: 4 })), losses: [2, undefined, undefined, 1.4] };
    const record = job({ jobId: 'j', state: 'running', step: 3, lossHistory: [2, 1.8, 1.6] });
    expect(applyRecord(live, record)).toMatchObject({ step: 4, losses: [2, 1.8, 1.6, 1.4] });
  });

  it('takes a finished record whole', () => {
    const live = fromRecord(job({ jobId: 'j', state: 'running', step: 1, lossHistory: [2] }));
    const record = job({ jobId: 'j', state: 'succeeded', step: 3, totalSteps: 3, lossHistory: [2, 1.5, 1], adapter: 'a' });
    expect(applyRecord(live, record)).toMatchObject({ state: 'succeeded', step: 3, losses: [2, 1.5, 1], adapter: 'a' });
  });

  it('names a job known only by its id', () => {
    const record = job({ jobId: 'j', state: 'queued', adapterName: 'mine', queuePosition: 3 });
    expect(applyRecord(unknownJob('j'), record)).toMatchObject({ adapterName: 'mine', queuePosition: 3 });
  });

  it('keeps what the live updates said has finished', () => {
    const live = { ...fromRecord(job({ jobId: 'j', state: 'cancelled' })) };
    expect(applyRecord(live, job({ jobId: 'j', state: 'running' }))).toBe(live);
  });
});

describe('stages and pace', () => {
  const queued = fromRecord(job({ jobId: 'j', state: 'queued' }));

  it('follows the stage while running and drops it once finished', () => {
    let live = applyProgress(queued, progress({ jobId: 'j', state: 'running' }), 1000);
    expect(live.stage).toBeNull();
    expect(live.started).toBe(new Date(1000).toISOString()); // until the record says when
    live = applyProgress(live, progress({ jobId: 'j', stage: 'loading_data' }), 2000);
    expect(live.stage).toBe('loading_data');
    live = applyProgress(live, progress({ jobId: 'j', stage: 'loading_model', totalSteps: 4 }), 3000);
    expect(live).toMatchObject({ stage: 'loading_model', totalSteps: 4, pace: undefined });
    live = applyProgress(live, progress({ jobId: 'j', state: 'succeeded', step: 4, totalSteps: 4 }), 9000);
    expect(live.stage).toBeNull();
    expect(live.finished).toBe(new Date(9000).toISOString());
  });

  it('notes the pace of steps while training', () => {
    let live = applyProgress(queued, progress({ jobId: 'j', state: 'running' }), 0);
    live = applyProgress(live, progress({ jobId: 'j', stage: 'training', totalSteps: 10 }), 5000);
    live = applyProgress(live, progress({ jobId: 'j', stage: 'training', step: 1, totalSteps: 10, loss: 2 }), 7000);
    live = applyProgress(live, progress({ jobId: 'j', stage: 'training', step: 2, totalSteps: 10, loss: 1.9 }), 9000);
    expect(live.pace).toEqual({ fromStep: 0, fromAt: 5000, step: 2, at: 9000 });
  });

  it('keeps its stage when an older record comes back, and takes the recorded start time', () => {
    const running = fromRecord(
      job({ jobId: 'j', state: 'running', step: 5, stage: 'training', started: '2025-01-01T00:00:10.000000Z' }),
    );
    const stale = applyProgress(running, progress({ jobId: 'j', step: 2, stage: 'loading_model' }));
    expect(stale).toMatchObject({ step: 5, stage: 'training' });
    const seen = applyProgress(queued, progress({ jobId: 'j', state: 'running', stage: 'training', step: 1 }), 50);
    const recorded = applyRecord(seen, job({ jobId: 'j', state: 'running', started: '2025-01-01T00:00:10.000000Z' }));
    expect(recorded.started).toBe('2025-01-01T00:00:10.000000Z');
  });
});

describe('evaluation losses', () => {
  const running = () => applyProgress(fromRecord(job({ jobId: 'e', state: 'queued' })), progress({ jobId: 'e', state: 'running', step: 0 }));

  it('adds the evaluation loss of the events that carry one, step 0 included, and the best step', () => {
    let live = running();
    live = applyProgress(live, progress({ jobId: 'e', step: 0, evalLoss: 2.5 }));
    live = applyProgress(live, progress({ jobId: 'e', step: 1, loss: 2.4 }));
    live = applyProgress(live, progress({ jobId: 'e', step: 2, loss: 2.2, evalLoss: 2.1, bestStep: 2 }));
    live = applyProgress(live, progress({ jobId: 'e', step: 3, loss: 2.0 }));
    expect(live.evals).toEqual([
      { step: 0, loss: 2.5 },
      { step: 2, loss: 2.1 },
    ]);
    expect(live.losses).toEqual([2.4, 2.2, 2.0]);
    expect(live.bestStep).toBe(2);
  });

  it('skips missing and non-finite evaluation losses and keeps one per step', () => {
    let live = running();
    live = applyProgress(live, progress({ jobId: 'e', step: 2, evalLoss: Number.NaN }));
    live = applyProgress(live, progress({ jobId: 'e', step: 2, evalLoss: null }));
    expect(live.evals).toEqual([]);
    live = applyProgress(live, progress({ jobId: 'e', step: 2, evalLoss: 1.5 }));
    live = applyProgress(live, progress({ jobId: 'e', step: 2, evalLoss: 1.4 }));
    expect(live.evals).toEqual([{ step: 2, loss: 1.4 }]);
  });

  it('starts afresh when a job starts running again', () => {
    const before = { ...unknownJob('e'), evals: [{ step: 0, loss: 3 }], bestStep: 4 };
    const live = applyProgress(before, progress({ jobId: 'e', state: 'running', step: 0 }));
    expect(live.evals).toEqual([]);
    expect(live.bestStep).toBeNull();
  });

  it("reads a record's evaluation history, and fills in what the live updates missed", () => {
    const record = job({ jobId: 'e', state: 'running', step: 4, evalHistory: [{ step: 0, loss: 2.5 }, { step: 2, loss: 2.0 }, { step: 4, loss: 1.9 }], bestStep: 4 });
    expect(fromRecord(record).evals).toHaveLength(3);
    let live = running();
    live = applyProgress(live, progress({ jobId: 'e', step: 2, evalLoss: 2.0, bestStep: 2 }));
    const merged = applyRecord(live, record);
    expect(merged.evals.map((p) => p.step)).toEqual([0, 2, 4]);
    expect(merged.bestStep).toBe(4);
    // an older record does not move the best step back
    const older = job({ ...record, evalHistory: [{ step: 0, loss: 2.5 }], bestStep: 0 });
    expect(applyRecord(merged, older).bestStep).toBe(4);
  });
});
