import { describe, expect, it } from 'vitest';
import { isLong } from './collapse';

describe('isLong', () => {
  it('collapses past 30 lines or 3000 characters', () => {
    expect(isLong('short')).toBe(false);
    expect(isLong(Array(30).fill('x').join('\n'))).toBe(false);
    expect(isLong(Array(31).fill('x').join('\n'))).toBe(true);
    expect(isLong('a'.repeat(3000))).toBe(false);
    expect(isLong('a'.repeat(3001))).toBe(true);
    expect(isLong('word '.repeat(12000))).toBe(true);
  });
});
