import { describe, expect, it } from 'vitest';
import { formatFigures, tokensPerSecond } from './figures';

describe('formatFigures', () => {
  it('says the time to first token and the rate after it', () => {
    expect(formatFigures({ sentAt: 1000, firstTokenAt: 1400, doneAt: 3400, completionTokens: 25 })).toBe(
      '0.4 s to first token · 12.5 tokens/s',
    );
  });

  it('leaves out what it cannot know', () => {
    // stopped before the end: no usage, so no rate
    expect(formatFigures({ sentAt: 0, firstTokenAt: 2500 })).toBe('2.5 s to first token');
    // saved by an older version: no timings at all
    expect(formatFigures({ completionTokens: 10 })).toBe('');
    // one token: nothing to divide by
    expect(tokensPerSecond({ firstTokenAt: 5, doneAt: 5, completionTokens: 1 })).toBeUndefined();
  });
});
