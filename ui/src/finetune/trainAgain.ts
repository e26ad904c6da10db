/** "Train again": the training form filled with a past job's settings (its adapter name left for the user). */
import type { FineTuneJob } from '../api/operations';
import { BUNDLED_DATASET, DEFAULT_VALUES, type FormValues } from './validate';

/** The form's text for a setting: empty when the job left it to the server (null or absent). */
const text = (value: number | string | null | undefined): string => (value == null ? '' : String(value));

export function formOfJob(job: FineTuneJob): FormValues {
  return {
    ...DEFAULT_VALUES,
    adapterName: '',
    datasetName: job.dataset || BUNDLED_DATASET,
    numSamples: text(job.numSamples),
    numEpochs: text(job.numEpochs),
    learningRate: text(job.learningRate),
    loraR: text(job.loraR),
    loraAlpha: text(job.loraAlpha),
    maxSteps: text(job.maxSteps),
    validationDataset: text(job.validationDataset),
    validationFraction: text(job.validationFraction),
    evalEverySteps: text(job.evalEverySteps),
    earlyStoppingPatience: text(job.earlyStoppingPatience),
    checkpointEverySteps: text(job.checkpointEverySteps),
  };
}

/** What the form is asked to take: a job's settings (a new object on each click, so the same job twice fills twice). */
export interface Prefill {
  values: FormValues;
  /** the job's adapter name, for the form's word on where the settings came from */
  from: string;
}
