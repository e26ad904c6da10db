/** Lists read again on a timer, with the items that did not change kept as the same objects. */
import { batch, createSignal } from 'solid-js';
import { createStore, reconcile } from 'solid-js/store';

/**
 * A list held in a Solid store and replaced with `reconcile(next, { key })`: an item whose key was there before
 * stays the same object, and only its fields that changed are written (and redrawn). Solid's `<For>` keys rows by
 * object, so a list polled every few seconds keeps each row's DOM, and with it the keyboard focus, an open tooltip
 * and a half-typed input. Reading the list (the first accessor) is notified on every `set`, as a signal holding
 * a new array each time would be. `key` names each item's identifying field (`jobId`, `name`).
 */
export function createPolledList<T extends object>(
  key: keyof T & string,
): [list: () => T[] | undefined, set: (next: T[] | undefined) => T[] | undefined] {
  const [store, setStore] = createStore<{ items?: T[] }>({});
  const [list, setList] = createSignal<T[] | undefined>(undefined, { equals: false });
  const set = (next: T[] | undefined) =>
    batch(() => {
      setStore('items', reconcile(next, { key }));
      return setList(() => store.items);
    });
  return [list, set];
}
