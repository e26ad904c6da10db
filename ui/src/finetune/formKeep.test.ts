import { afterEach, describe, expect, it } from 'vitest';
import { forgetForm, keepForm, keptForm } from './formKeep';
import { DEFAULT_VALUES } from './validate';

afterEach(() => localStorage.clear());

describe('the kept training form', () => {
  it('is the defaults when nothing was kept', () => {
    expect(keptForm()).toEqual({ values: DEFAULT_VALUES, typing: false });
  });

  it('comes back as it was kept, and goes on Reset', () => {
    const values = { ...DEFAULT_VALUES, adapterName: 'mine', numSamples: '8', maxSteps: '4', datasetName: 'x.jsonl' };
    keepForm({ values, typing: true });
    expect(keptForm()).toEqual({ values, typing: true });
    forgetForm();
    expect(keptForm()).toEqual({ values: DEFAULT_VALUES, typing: false });
  });

  it('takes only the fields it knows, as text, and survives what is not JSON', () => {
    localStorage.setItem('switchboard.fineTune.form', JSON.stringify({ values: { numSamples: 8, loraR: '4', other: 'x' } }));
    expect(keptForm()).toEqual({ values: { ...DEFAULT_VALUES, loraR: '4' }, typing: false });
    localStorage.setItem('switchboard.fineTune.form', '{not json');
    expect(keptForm().values).toEqual(DEFAULT_VALUES);
  });
});
