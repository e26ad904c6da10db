/** Test helpers: fine-tune job records and progress updates with defaults. */
import type { FineTuneJob, FineTuneProgress } from '../api/operations';

export function job(changes: Partial<FineTuneJob> & { jobId: string }): FineTuneJob {
  return {
    adapterName: `lora-${changes.jobId}`,
    dataset: 'bundled',
    state: 'queued',
    step: 0,
    totalSteps: null,
    lossHistory: [],
    finalLoss: null,
    error: null,
    adapter: null,
    queuePosition: null,
    created: '2025-01-01T00:00:00.000000Z',
    started: null,
    finished: null,
    device: 'cpu',
    numSamples: null,
    numEpochs: 1,
    learningRate: 0.0002,
    loraR: 8,
    loraAlpha: 16,
    maxSteps: null,
    stage: null,
    validationDataset: null,
    validationFraction: null,
    evalEverySteps: null,
    earlyStoppingPatience: null,
    checkpointEverySteps: null,
    evalHistory: [],
    bestStep: null,
    trainRows: null,
    validationRows: null,
    heldOutPrompts: [],
    resumedFromStep: null,
    ...changes,
  };
}

export function progress(changes: Partial<FineTuneProgress> & { jobId: string }): FineTuneProgress {
  return {
    state: 'running',
    step: 0,
    totalSteps: null,
    loss: null,
    queuePosition: null,
    error: null,
    adapter: null,
    stage: null,
    evalLoss: null,
    bestStep: null,
    ...changes,
  };
}
