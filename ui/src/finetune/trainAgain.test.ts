import { describe, expect, it } from 'vitest';
import { formOfJob } from './trainAgain';
import { job } from './testJobs';
import { DEFAULT_VALUES, validate } from './validate';

describe('formOfJob', () => {
  it("fills every setting of the job, leaving the name to choose, and sends what the job was sent", () => {
    const past = job({
      jobId: 'j',
      adapterName: 'pirate',
      dataset: 'pirate.jsonl',
      numSamples: 24,
      numEpochs: 2,
      learningRate: 0.0005,
      loraR: 16,
      loraAlpha: 32,
      maxSteps: 6,
      validationFraction: 0,
      evalEverySteps: null,
      checkpointEverySteps: 3,
    });
    const values = formOfJob(past);
    expect(values).toEqual({
      ...DEFAULT_VALUES,
      adapterName: '',
      datasetName: 'pirate.jsonl',
      numSamples: '24',
      numEpochs: '2',
      learningRate: '0.0005',
      loraR: '16',
      loraAlpha: '32',
      maxSteps: '6',
      validationFraction: '0',
      checkpointEverySteps: '3',
    });
    expect(validate({ ...values, adapterName: 'pirate-2' }).input).toEqual({
      adapterName: 'pirate-2',
      datasetName: 'pirate.jsonl',
      numSamples: 24,
      numEpochs: 2,
      learningRate: 0.0005,
      loraR: 16,
      loraAlpha: 32,
      maxSteps: 6,
      validationFraction: 0,
      checkpointEverySteps: 3,
    });
  });

  it('leaves what the job left to the server empty (every row, no cap)', () => {
    const values = formOfJob(job({ jobId: 'k', numSamples: null, learningRate: 1e-7 }));
    expect(values).toMatchObject({ datasetName: 'bundled', numSamples: '', maxSteps: '', learningRate: '1e-7' });
    expect(validate({ ...values, adapterName: 'x' }).errors).toEqual({});
  });
});
