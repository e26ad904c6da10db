/** What the Training progress panel says about a job the user cancelled, as the job's record moves on. */
import { isFinished } from './live';

/** `state`: the job's state in the latest list (undefined while the list has not shown it again). */
export function cancelWords(name: string, state: string | undefined): string {
  if (state === 'cancelled') return `Cancelled “${name}”.`;
  if (state && isFinished(state)) return `“${name}” had already ${state === 'succeeded' ? 'succeeded' : 'failed'}: nothing to cancel.`;
  return `Cancelling “${name}”…`;
}
