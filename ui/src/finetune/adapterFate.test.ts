import { describe, expect, it } from 'vitest';
import type { AdapterInfo } from '../api/operations';
import { adapterFate } from './adapterFate';
import { job } from './testJobs';

const adapter = (name: string, jobId: string | null): AdapterInfo => ({
  name,
  baseModel: 'm',
  created: '2025-01-01T00:00:00Z',
  dataset: 'bundled',
  steps: 3,
  finalLoss: 1,
  sizeBytes: 1,
  jobId,
  loraR: 8,
  loraAlpha: 16,
});

describe('adapterFate', () => {
  const done = job({ jobId: 'j1', adapterName: 'pirate', adapter: 'pirate', state: 'succeeded' });

  it('knows a saved adapter, a deleted one and one a later job replaced', () => {
    expect(adapterFate(done, [adapter('pirate', 'j1')])).toBe('saved');
    expect(adapterFate(done, [adapter('pirate', null)])).toBe('saved');
    expect(adapterFate(done, [adapter('other', 'j9')])).toBe('deleted');
    expect(adapterFate(done, [adapter('pirate', 'j2')])).toBe('replaced');
  });

  it('says nothing of a job that saved nothing, or while the registry is unknown', () => {
    expect(adapterFate(job({ jobId: 'j3', state: 'cancelled' }), [])).toBeUndefined();
    expect(adapterFate(done, undefined)).toBeUndefined();
  });
});
