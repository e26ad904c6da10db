/** What the API key in use may do, from the status the app polls (`access { role }`). */
import { status } from './status';

/** Whether the caller's key may change the server (train, load and delete adapters). Unknown yet: yes; the
 * gateway refuses anyway. */
export function canChangeServer(): boolean {
  return status()?.access?.role !== 'user';
}

export const ADMIN_ONLY =
  'Your API key may chat and read only: training and managing adapters need an admin key (Forget key, then enter one).';
