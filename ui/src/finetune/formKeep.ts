/** The training form's values in localStorage, so a reload keeps what was typed (the app keeps the last job and
 * the conversations there too); Reset forgets them. */
import { DEFAULT_VALUES, type FieldKey, type FormValues } from './validate';

const KEY = 'switchboard.fineTune.form';

export interface KeptForm {
  values: FormValues;
  /** the dataset is typed (a file or hub id), not picked from the list */
  typing: boolean;
}

const FIELDS = Object.keys(DEFAULT_VALUES) as FieldKey[];

function storage(): Storage | undefined {
  try {
    return window.localStorage;
  } catch {
    return undefined; // disabled (private mode, a sandboxed frame)
  }
}

/** The kept form: each field as kept when it is text, else its default; the defaults when nothing (readable) is kept. */
export function keptForm(store: Storage | undefined = storage()): KeptForm {
  let kept: { values?: Record<string, unknown>; typing?: unknown } | undefined;
  try {
    kept = JSON.parse(store?.getItem(KEY) ?? 'null') ?? undefined;
  } catch {
    kept = undefined; // written by something else: start afresh
  }
  const values = { ...DEFAULT_VALUES };
  for (const field of FIELDS) {
    const value = kept?.values?.[field];
    if (typeof value === 'string') values[field] = value;
  }
  return { values, typing: kept?.typing === true };
}

export function keepForm(form: KeptForm, store: Storage | undefined = storage()): void {
  try {
    store?.setItem(KEY, JSON.stringify(form));
  } catch {
    // full or refused: the form only forgets on reload, as before
  }
}

export function forgetForm(store: Storage | undefined = storage()): void {
  try {
    store?.removeItem(KEY);
  } catch {
    // nothing kept then either
  }
}
