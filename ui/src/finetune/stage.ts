/** A running job in words and times: its stage, how long it has run, how long it has left, how long it took. */

/** The training service's stages, in the order a job goes through them. */
export const STAGES = ['loading_data', 'loading_model', 'training', 'saving'] as const;

const WORDS: Record<string, string> = {
  loading_data: 'Loading the data…',
  loading_model: 'Loading the model…',
  training: 'Training',
  saving: 'Saving the adapter…',
};

/** What a job is doing, in words; undefined for a job that is not running. A running job without a stage has
 * just started (or the server is older than stages). */
export function stageWords(state: string, stage: string | null | undefined): string | undefined {
  if (state !== 'running') return undefined;
  return (stage && WORDS[stage]) || 'Starting…';
}

/** Whether steps are counting: the progress bar and the step count mean something from here on. */
export function stepsCounting(state: string, stage: string | null | undefined, step: number): boolean {
  if (state !== 'running') return state !== 'queued';
  if (stage) return stage === 'training' || stage === 'saving';
  return step > 0; // a server without stages: the first step says training began
}

/** Seconds as "8 s", "2 min 05 s", "1 h 02 min"; '—' for a negative or non-finite number. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds == null || !Number.isFinite(seconds) || seconds < 0) return '—';
  const total = Math.round(seconds);
  if (total < 60) return `${total} s`;
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const secs = total % 60;
  const two = (n: number) => String(n).padStart(2, '0');
  return hours > 0 ? `${hours} h ${two(minutes)} min` : `${minutes} min ${two(secs)} s`;
}

/** Seconds from ISO timestamp `from` to `to` (a timestamp, or milliseconds since the epoch); undefined when
 * either is missing or unreadable, or `to` is before `from`. */
export function secondsBetween(from: string | null | undefined, to: string | number | null | undefined): number | undefined {
  if (!from || to == null || to === '') return undefined;
  const start = Date.parse(from);
  const end = typeof to === 'number' ? to : Date.parse(to);
  if (Number.isNaN(start) || Number.isNaN(end) || end < start) return undefined;
  return (end - start) / 1000;
}

/** How fast steps go, as seen by this page: the first step seen while training, and the latest. */
export interface Pace {
  fromStep: number;
  fromAt: number;
  step: number;
  at: number;
}

/** `pace` after seeing `step` at `now` (ms) while training; a step going back (a restarted job) starts over. */
export function notePace(pace: Pace | undefined, step: number, now: number): Pace {
  if (!pace || step < pace.step) return { fromStep: step, fromAt: now, step, at: now };
  if (step === pace.step) return pace;
  return { ...pace, step, at: now };
}

/** Seconds left until `total` steps, at the pace seen so far, counting down from the latest step to `now`;
 * undefined until two steps were seen (no rate yet) or without a total. Never below 0. */
export function secondsLeft(pace: Pace | undefined, total: number | null | undefined, now: number): number | undefined {
  if (!pace || !total || pace.step <= pace.fromStep || pace.at <= pace.fromAt) return undefined;
  const msPerStep = (pace.at - pace.fromAt) / (pace.step - pace.fromStep);
  const finishAt = pace.at + Math.max(0, total - pace.step) * msPerStep;
  return Math.max(0, (finishAt - now) / 1000);
}

/** "about 2 min 10 s left", "almost done" under 5 s. */
export function formatLeft(seconds: number): string {
  return seconds < 5 ? 'almost done' : `about ${formatDuration(seconds)} left`;
}
