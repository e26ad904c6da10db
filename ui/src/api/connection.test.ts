import { describe, expect, it } from 'vitest';
import {
  BACKOFF_BASE_MS,
  BACKOFF_CAP_MS,
  backoffMs,
  nextState,
  stateLabel,
  type ConnectionEvent,
  type ConnectionState,
} from './connection';

describe('backoffMs', () => {
  it('doubles from the base up to the cap, with half of each step random', () => {
    const low = [0, 1, 2, 3, 4, 5, 6].map((n) => backoffMs(n, () => 0));
    const high = [0, 1, 2, 3, 4, 5, 6].map((n) => backoffMs(n, () => 0.999999));
    expect(low).toEqual([250, 500, 1000, 2000, 4000, 4000, 4000]);
    expect(high).toEqual([500, 1000, 2000, 4000, 8000, 8000, 8000]);
    expect(BACKOFF_BASE_MS).toBe(500);
    expect(BACKOFF_CAP_MS).toBe(8000);
  });

  it('spreads pages that retry together', () => {
    const waits = new Set(Array.from({ length: 50 }, () => backoffMs(3)));
    expect(waits.size).toBeGreaterThan(10);
    expect(Math.min(...waits)).toBeGreaterThanOrEqual(2000);
    expect(Math.max(...waits)).toBeLessThanOrEqual(4000);
  });
});

describe('nextState', () => {
  const run = (start: ConnectionState, events: ConnectionEvent[]) => events.reduce(nextState, start);
  const drop: ConnectionEvent = { type: 'closed', clean: false, opened: true };
  const refused: ConnectionEvent = { type: 'closed', clean: false, opened: false };

  it('a working link that drops is reconnecting, until it is back or the tries give up', () => {
    expect(run('connected', [drop])).toBe('reconnecting');
    expect(run('connected', [drop, refused, refused])).toBe('reconnecting');
    expect(run('connected', [drop, refused, { type: 'connected' }])).toBe('connected');
    expect(run('connected', [drop, refused, { type: 'gave-up' }])).toBe('unreachable');
  });

  it('a gateway never reached is unreachable until it answers', () => {
    expect(run('connected', [refused])).toBe('unreachable');
    expect(run('connected', [refused, refused])).toBe('unreachable');
    expect(run('connected', [refused, { type: 'connected' }])).toBe('connected');
  });

  it('offline wins over socket events and turns into reconnecting when the network is back', () => {
    expect(run('connected', [{ type: 'offline' }, drop, refused])).toBe('offline');
    expect(run('connected', [{ type: 'offline' }, { type: 'online' }])).toBe('reconnecting');
    expect(run('connected', [{ type: 'online' }])).toBe('connected');
  });

  it('a normal close (the last subscription ended) changes nothing', () => {
    expect(run('connected', [{ type: 'closed', clean: true, opened: true }])).toBe('connected');
    expect(run('unreachable', [{ type: 'closed', clean: true, opened: false }])).toBe('unreachable');
  });
});

describe('stateLabel', () => {
  it('says each trouble in words and nothing when connected', () => {
    expect(stateLabel('offline')).toBe('Offline');
    expect(stateLabel('reconnecting')).toBe('Reconnecting…');
    expect(stateLabel('unreachable')).toBe("Can't reach the server");
    expect(stateLabel('connected')).toBe('');
  });
});
