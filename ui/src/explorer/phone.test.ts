import { describe, expect, it } from 'vitest';
import { closePanesOnPhone, VISIBLE_PLUGIN_KEY } from './phone';

function storage() {
  const items = new Map([[VISIBLE_PLUGIN_KEY, 'Documentation Explorer']]);
  return { items, removeItem: (key: string) => void items.delete(key) };
}

describe('closePanesOnPhone', () => {
  it('forgets the open docs pane on a phone, so a reload does not open it over the editors', () => {
    const s = storage();
    closePanesOnPhone(s, true);
    expect(s.items.has(VISIBLE_PLUGIN_KEY)).toBe(false);
  });

  it('keeps it on a wide screen, where it sits beside the editors', () => {
    const s = storage();
    closePanesOnPhone(s, false);
    expect(s.items.get(VISIBLE_PLUGIN_KEY)).toBe('Documentation Explorer');
  });
});
