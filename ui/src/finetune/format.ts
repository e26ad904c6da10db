/** How the Fine-tune section shows numbers, sizes, times and job states. */

/** A loss with four significant digits; '—' when there is none (or it is not a finite number). */
export function formatLoss(loss: number | null | undefined): string {
  if (loss == null || !Number.isFinite(loss)) return '—';
  return Math.abs(loss) >= 1000 ? loss.toExponential(2) : loss.toPrecision(4);
}

export function formatBytes(bytes: number | null | undefined): string {
  if (bytes == null || !Number.isFinite(bytes) || bytes < 0) return '—';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(value >= 10 ? 0 : 1)} ${units[unit]}`;
}

/** An ISO timestamp in the reader's locale, short; the raw text when it does not parse. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** An ISO timestamp as its day and its time of day in the reader's locale ("Nov 30, 2026" and "4:58 AM"), for a
 * cell that shows them on two lines; null when there is none or it does not parse. */
export function formatDayAndTime(iso: string | null | undefined): { day: string; time: string } | null {
  if (!iso) return null;
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return null;
  return {
    day: date.toLocaleDateString(undefined, { dateStyle: 'medium' }),
    time: date.toLocaleTimeString(undefined, { timeStyle: 'short' }),
  };
}

/** "3/10 steps", "3 steps" while the total is unknown. */
export function formatSteps(step: number, total: number | null | undefined): string {
  return total ? `${step}/${total} steps` : `${step} step${step === 1 ? '' : 's'}`;
}

/** The badge class of a job state. */
export function stateBadgeClass(state: string): string {
  switch (state) {
    case 'succeeded':
      return 'badge badge-ok';
    case 'failed':
      return 'badge badge-error';
    case 'running':
      return 'badge badge-adapter';
    case 'queued':
    case 'cancelled':
      return 'badge badge-warn';
    default:
      return 'badge';
  }
}

/** "1 job ahead", "no job ahead". */
export function formatQueuePosition(position: number | null | undefined): string {
  if (position == null) return 'queued';
  if (position === 0) return 'next in line';
  return `${position} job${position === 1 ? '' : 's'} ahead`;
}

/** A job's settings as label/value pairs, in the form's order: dataset, samples, epochs, learning rate, LoRA r
 * and alpha, device. */
export function jobSettings(job: {
  dataset: string;
  numSamples: number | null;
  numEpochs: number;
  learningRate: number;
  loraR: number;
  loraAlpha: number;
  device: string | null;
}): [string, string][] {
  return [
    ['dataset', job.dataset],
    ['samples', job.numSamples == null ? 'all' : String(job.numSamples)],
    ['epochs', String(job.numEpochs)],
    ['learning rate', String(job.learningRate)],
    ['LoRA r / alpha', `${job.loraR} / ${job.loraAlpha}`],
    ['device', job.device ?? '—'],
  ];
}
