/** Pure job logic: which job is current, and merging its record with live progress updates. */
import { FINISHED_STATES, type EvalPoint, type FineTuneJob, type FineTuneProgress } from '../api/operations';
import { notePace, type Pace } from './stage';

/** The job the progress panel shows: the list's record, kept up to date by `fineTuneProgress`. */
export interface LiveJob {
  jobId: string;
  /** null while only its id is known (the job list could not be read) */
  adapterName: string | null;
  dataset: string | null;
  state: string;
  step: number;
  totalSteps: number | null;
  queuePosition: number | null;
  error: string | null;
  adapter: string | null;
  /** losses by step: index i holds step i + 1's loss (holes where a step was missed) */
  losses: (number | undefined)[];
  /** evaluation losses by step, in step order (step 0: the base model, before training) */
  evals: EvalPoint[];
  /** the step with the lowest evaluation loss so far, when known */
  bestStep: number | null;
  /** what a running job is doing (see stage.ts); null when not running or not said */
  stage: string | null;
  /** when it started running (ISO), as recorded; until the record is read, when this page saw it start */
  started: string | null;
  finished: string | null;
  /** steps over time as this page saw them while training: the basis of the estimate */
  pace?: Pace;
}

export const isFinished = (state: string): boolean => FINISHED_STATES.has(state);

const RANK: Record<string, number> = { queued: 0, running: 1, succeeded: 2, failed: 2, cancelled: 2 };
const rank = (state: string): number => RANK[state] ?? 0;

export function fromRecord(job: FineTuneJob): LiveJob {
  return {
    jobId: job.jobId,
    adapterName: job.adapterName,
    dataset: job.dataset,
    state: job.state,
    step: job.step,
    totalSteps: job.totalSteps,
    queuePosition: job.queuePosition,
    error: job.error,
    adapter: job.adapter,
    losses: [...job.lossHistory],
    evals: [...(job.evalHistory ?? [])],
    bestStep: job.bestStep ?? null,
    stage: job.stage ?? null,
    started: job.started,
    finished: job.finished,
  };
}

/** A job known only by its id (a remembered one, while the job list is unavailable). */
export function unknownJob(jobId: string): LiveJob {
  return {
    jobId,
    adapterName: null,
    dataset: null,
    state: 'queued',
    step: 0,
    totalSteps: null,
    queuePosition: null,
    error: null,
    adapter: null,
    losses: [],
    evals: [],
    bestStep: null,
    stage: null,
    started: null,
    finished: null,
  };
}

function withLoss(losses: (number | undefined)[], step: number, loss: number | null): (number | undefined)[] {
  if (loss == null || !Number.isFinite(loss) || step < 1 || losses[step - 1] === loss) return losses;
  const next = losses.slice();
  next[step - 1] = loss;
  return next;
}

/** `evals` with `loss` at `step` (replacing one at the same step), in step order; the same array when nothing
 * changes. */
export function withEval(evals: EvalPoint[], step: number, loss: number | null | undefined): EvalPoint[] {
  if (loss == null || !Number.isFinite(loss) || step < 0) return evals;
  const at = evals.findIndex((p) => p.step === step);
  if (at >= 0 && evals[at].loss === loss) return evals;
  const next = evals.filter((p) => p.step !== step);
  next.push({ step, loss });
  return next.sort((a, b) => a.step - b.step);
}

/** `live` after one progress update. Updates older than what is shown (a resubscription starts from the job's
 * stored record, which is written less often than steps are published) do not move it back. */
export function applyProgress(live: LiveJob, update: FineTuneProgress, now: number = Date.now()): LiveJob {
  if (update.jobId !== live.jobId) return live;
  if (isFinished(live.state) || rank(update.state) < rank(live.state)) return live;
  // a job starts from step 0: losses from before (an earlier attempt) are not this run's
  const started = live.state === 'queued' && update.state === 'running';
  const stale = !started && update.state === live.state && update.step < live.step;
  const step = stale ? live.step : update.step;
  const stage = update.state !== 'running' ? null : stale ? live.stage : (update.stage ?? null);
  const training = stage === 'training' || (stage === null && update.state === 'running' && step > 0);
  return {
    ...live,
    state: update.state,
    step,
    totalSteps: update.totalSteps ?? live.totalSteps,
    queuePosition: update.queuePosition,
    error: update.error,
    adapter: update.adapter ?? live.adapter,
    losses: withLoss(started ? [] : live.losses, update.step, update.loss),
    evals: withEval(started ? [] : live.evals, update.step, update.evalLoss),
    bestStep: update.bestStep ?? (started ? null : live.bestStep),
    stage,
    started: started ? new Date(now).toISOString() : live.started,
    finished: isFinished(update.state) ? (live.finished ?? new Date(now).toISOString()) : live.finished,
    pace: training ? notePace(started ? undefined : live.pace, step, now) : started ? undefined : live.pace,
  };
}

/** `live` after the job list was read again: a finished or further-along record wins; in the same state the
 * furthest step wins and steps the live updates missed are filled in from the record's loss history. */
export function applyRecord(live: LiveJob, job: FineTuneJob): LiveJob {
  if (job.jobId !== live.jobId) return live;
  if (isFinished(live.state) && !isFinished(job.state)) return live;
  if (isFinished(job.state) || rank(job.state) > rank(live.state)) return fromRecord(job);
  const named = { ...live, adapterName: job.adapterName, dataset: job.dataset, started: job.started ?? live.started };
  if (rank(job.state) < rank(live.state)) return named;
  const losses = live.losses.slice();
  job.lossHistory.forEach((loss, i) => {
    if (losses[i] === undefined) losses[i] = loss;
  });
  let evals = live.evals;
  for (const point of job.evalHistory ?? []) {
    if (!evals.some((p) => p.step === point.step)) evals = withEval(evals, point.step, point.loss);
  }
  return {
    ...named,
    step: Math.max(job.step, live.step),
    totalSteps: live.totalSteps ?? job.totalSteps,
    stage: live.stage ?? job.stage ?? null,
    queuePosition: job.state === 'queued' ? job.queuePosition : live.queuePosition,
    losses,
    evals,
    // the record's best step when it has heard of evaluations as late as the live updates have
    bestStep: job.bestStep != null && lastEvalStep(job.evalHistory ?? []) >= lastEvalStep(live.evals) ? job.bestStep : live.bestStep,
  };
}

const lastEvalStep = (evals: readonly EvalPoint[]): number => evals.reduce((last, p) => Math.max(last, p.step), -1);

const newest = (a: string | null | undefined, b: string | null | undefined): number => (b ?? '').localeCompare(a ?? '');

/** The job to show: the running one, else the latest queued one, else the most recently finished one. */
export function pickCurrent(jobs: readonly FineTuneJob[]): FineTuneJob | undefined {
  const running = jobs.find((j) => j.state === 'running');
  if (running) return running;
  const queued = jobs.filter((j) => j.state === 'queued').sort((a, b) => newest(a.created, b.created));
  if (queued.length) return queued[0];
  return jobs
    .filter((j) => isFinished(j.state))
    .sort((a, b) => newest(a.finished ?? a.created, b.finished ?? b.created))[0];
}

/** Jobs waiting behind the current one, first in line first. */
export function waitingJobs(jobs: readonly FineTuneJob[], currentId: string | undefined): FineTuneJob[] {
  return jobs
    .filter((j) => j.state === 'queued' && j.jobId !== currentId)
    .sort((a, b) => (a.queuePosition ?? Infinity) - (b.queuePosition ?? Infinity) || -newest(a.created, b.created));
}
