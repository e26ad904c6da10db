/** A table row's "Delete?" / "Remove?" question: which row asks, with the keyboard moved to its No on asking and
 * back to the button that asked on No (the Models and History tables). */
import { createSignal } from 'solid-js';

/** Focus the element with `id` once the render that adds it has run (a no-op when there is none). */
export function focusSoon(id: string): void {
  queueMicrotask(() => document.getElementById(id)?.focus());
}

/** `ids.no(key)` is the id of the row's No button, `ids.asker(key)` that of the button that asked. Create inside a
 * component. */
export function createConfirmation(ids: { no: (key: string) => string; asker: (key: string) => string }) {
  const [asking, setAsking] = createSignal<string>();
  return {
    /** the key of the row whose question is open, if any */
    asking,
    ask(key: string): void {
      setAsking(key);
      focusSoon(ids.no(key));
    },
    /** No (or Escape): close the question and give the keyboard back to the button that asked */
    keep(key: string): void {
      setAsking(undefined);
      focusSoon(ids.asker(key));
    },
    /** Yes, or another action: close the question */
    close(): void {
      setAsking(undefined);
    },
  };
}
