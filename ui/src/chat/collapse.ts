/** When a message is long enough to show collapsed behind "Show more". */

/** More lines than this collapse a message. */
export const COLLAPSE_LINES = 30;
/** More characters than this collapse a message. */
export const COLLAPSE_CHARS = 3000;

/** True for a message longer than about 30 lines or 3000 characters. */
export function isLong(text: string): boolean {
  if (text.length > COLLAPSE_CHARS) return true;
  let lines = 1;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) if (++lines > COLLAPSE_LINES) return true;
  return false;
}
