/** The training form's word on the job it queued last (also after a reload: the app remembers that job's id), kept
 * in step with the job list: its place in the queue while it waits, that it trains once it runs, nothing once it has
 * ended (History has it). */
import type { FineTuneJob } from '../api/operations';
import { formatQueuePosition } from './format';
import { isFinished } from './live';

export interface QueuedJob {
  jobId: string;
  /** its adapter's name; undefined for a job remembered across a reload (its record names it) */
  name?: string;
  /** the queue position startFineTune answered with */
  position?: number | null;
}

/** `job`: the job's record in the latest list (undefined until the list holds it). */
export function queuedNotice(queued: QueuedJob, job: FineTuneJob | undefined): string {
  const name = queued.name ?? job?.adapterName;
  if (name === undefined) return ''; // remembered, and not in the list (yet, or any more)
  const state = job?.state ?? 'queued';
  if (state === 'running') return `“${name}” is training: see Training progress.`;
  if (isFinished(state)) return '';
  const position = job ? job.queuePosition : queued.position;
  return `Queued “${name}”${position == null ? '' : ` (${formatQueuePosition(position)})`}.`;
}
