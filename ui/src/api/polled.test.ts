import { createEffect, createRoot } from 'solid-js';
import { describe, expect, it } from 'vitest';
import { createPolledList } from './polled';

type Item = { id: string; state?: string; step?: number; losses?: number[] };

describe('createPolledList', () => {
  it('keeps the object of an item that did not change, and writes only the fields of one that did', () => {
    const [list, set] = createPolledList<Item>('id');
    set([
      { id: 'done', state: 'succeeded', losses: [2, 1] },
      { id: 'run', state: 'running', step: 1 },
    ]);
    const [done, running] = list()!;
    set([{ id: 'done', state: 'succeeded', losses: [2, 1] }, { id: 'run', state: 'running', step: 2 }, { id: 'new', state: 'queued' }]);
    const next = list()!;
    expect(next[0]).toBe(done);
    expect(next[1]).toBe(running);
    expect(next[1]).toMatchObject({ step: 2 });
    expect(next.map((item) => item.id)).toEqual(['done', 'run', 'new']);
  });

  it("tells a reader of the list on every read, and a reader of a field when that field changes", () => {
    const [list, set] = createPolledList<Item>('id');
    set([{ id: 'a', step: 1 }]);
    const seen = { lists: 0, steps: [] as (number | undefined)[] };
    const dispose = createRoot((dispose) => {
      createEffect(() => {
        list();
        seen.lists += 1;
      });
      const first = list()![0];
      createEffect(() => seen.steps.push(first.step));
      return dispose;
    });
    set([{ id: 'a', step: 1 }]);
    set([{ id: 'a', step: 2 }]);
    expect(seen.lists).toBe(3);
    expect(seen.steps).toEqual([1, 2]);
    dispose();
  });

  it('takes the new list the first time, and none when it goes', () => {
    const [list, set] = createPolledList<Item>('id');
    expect(list()).toBeUndefined();
    set([{ id: 'a' }]);
    expect(list()).toEqual([{ id: 'a' }]);
    set(undefined);
    expect(list()).toBeUndefined();
  });

  it('follows the new order and drops items that went away', () => {
    const [list, set] = createPolledList<Item>('id');
    set([{ id: 'a' }, { id: 'b' }]);
    const b = list()![1];
    set([{ id: 'b' }]);
    expect(list()).toHaveLength(1);
    expect(list()![0]).toBe(b);
  });
});
