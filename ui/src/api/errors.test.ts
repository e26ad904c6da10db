import { describe as suite, expect, it } from 'vitest';
import { ApiError, describe, UNREACHABLE_MESSAGE } from './errors';

suite('describe', () => {
  it('says the server cannot be reached for a bare websocket error event, never [object Event]', () => {
    const text = describe(new Event('error'));
    expect(text).toBe(UNREACHABLE_MESSAGE);
    expect(text).not.toContain('[object');
  });

  it('keeps the close reason the server gave, and says it cannot be reached without one', () => {
    expect(describe(new CloseEvent('close', { code: 4500, reason: 'gateway shutting down' }))).toBe(
      'lost the connection to the gateway: gateway shutting down',
    );
    expect(describe(new CloseEvent('close', { code: 1006 }))).toBe(UNREACHABLE_MESSAGE);
  });

  it('keeps messages that have words', () => {
    expect(describe(new ApiError('`maxNewTokens` must be at least 1', 'BAD_REQUEST'))).toBe(
      '`maxNewTokens` must be at least 1',
    );
    expect(describe(new TypeError('Failed to fetch'))).toBe('Failed to fetch');
    expect(describe([{ message: 'no inference worker is running' }])).toBe('no inference worker is running');
    expect(describe('plain words')).toBe('plain words');
  });

  it('never shows an object or an empty text', () => {
    for (const thrown of [{}, null, undefined, 42, '', new Error('')]) {
      const text = describe(thrown);
      expect(text).toBe(UNREACHABLE_MESSAGE);
    }
  });
});
