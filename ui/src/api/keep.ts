/** Lists read again on a timer, with the items that did not change kept as the same objects. */

/**
 * `next`, with each item equal (as JSON) to the item of the same key in `previous` replaced by that earlier object.
 * Solid's `<For>` keys rows by object, so a list polled every few seconds then rebuilds only the rows whose item
 * changed: the others keep their DOM, and with it the keyboard focus, an open tooltip and a half-typed input.
 */
export function keepUnchanged<T>(previous: readonly T[] | undefined, next: T[], key: (item: T) => string): T[] {
  if (!previous) return next;
  const before = new Map(previous.map((item) => [key(item), item]));
  return next.map((item) => {
    const old = before.get(key(item));
    return old !== undefined && JSON.stringify(old) === JSON.stringify(item) ? old : item;
  });
}
