import { describe, expect, it } from 'vitest';
import { cancelWords } from './cancelWords';

describe('cancelWords', () => {
  it('says what was cancelled, once the job says so', () => {
    expect(cancelWords('mine', 'running')).toBe('Cancelling “mine”…');
    expect(cancelWords('mine', undefined)).toBe('Cancelling “mine”…');
    expect(cancelWords('mine', 'cancelled')).toBe('Cancelled “mine”.');
  });

  it('says when the job ended on its own first', () => {
    expect(cancelWords('mine', 'succeeded')).toBe('“mine” had already succeeded: nothing to cancel.');
    expect(cancelWords('mine', 'failed')).toBe('“mine” had already failed: nothing to cancel.');
  });
});
