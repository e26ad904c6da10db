import { describe, expect, it } from 'vitest';
import { keepUnchanged } from './keep';

describe('keepUnchanged', () => {
  it('keeps the object of an item that did not change, and takes the new one of an item that did', () => {
    const done = { id: 'done', state: 'succeeded', losses: [2, 1] };
    const running = { id: 'run', state: 'running', step: 1 };
    const next = keepUnchanged(
      [done, running],
      [{ ...done, losses: [2, 1] }, { ...running, step: 2 }, { id: 'new', state: 'queued' }],
      (item) => item.id,
    );
    expect(next[0]).toBe(done);
    expect(next[1]).not.toBe(running);
    expect(next[1]).toMatchObject({ step: 2 });
    expect(next.map((item) => item.id)).toEqual(['done', 'run', 'new']);
  });

  it('takes the new list as it is the first time', () => {
    const next = [{ id: 'a' }];
    expect(keepUnchanged(undefined, next, (item) => item.id)).toBe(next);
  });

  it('follows the new order and drops items that went away', () => {
    const a = { id: 'a' };
    const b = { id: 'b' };
    const next = keepUnchanged([a, b], [{ id: 'b' }], (item) => item.id);
    expect(next).toHaveLength(1);
    expect(next[0]).toBe(b);
  });
});
