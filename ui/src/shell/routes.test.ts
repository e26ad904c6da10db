import { describe, expect, it } from 'vitest';
import { parseRoute } from './routes';
import { activeModelLabel } from './status';
import type { StatusData } from '../api/operations';

describe('parseRoute', () => {
  it.each([
    ['', 'chat'],
    ['#/chat', 'chat'],
    ['#/fine-tune', 'fine-tune'],
    ['#/explorer?x=1', 'explorer'],
    ['#/nowhere', 'chat'],
  ])('%s → %s', (hash, route) => expect(parseRoute(hash)).toBe(route));
});

describe('activeModelLabel', () => {
  const data = (active: string | null): StatusData =>
    ({
      modelInfo: { modelId: 'Base/Model', activeAdapter: active },
      adapters: { active, available: active ? [active] : [], adapters: [] },
    }) as unknown as StatusData;

  it('names the adapter when one is active, else the base model', () => {
    expect(activeModelLabel(data('pirate'))).toBe('pirate');
    expect(activeModelLabel(data(null))).toBe('Base/Model');
    expect(activeModelLabel(undefined)).toBe('connecting…');
  });
});
