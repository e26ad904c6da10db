import { describe, expect, it } from 'vitest';
import { jobOfAdapter } from './FineTuneView';
import { job } from './testJobs';

describe('jobOfAdapter', () => {
  const older = job({ jobId: 'a', adapterName: 'pirate', adapter: 'pirate', state: 'succeeded', finished: '2025-01-01T00:00:00Z' });
  const newer = job({ jobId: 'b', adapterName: 'pirate', adapter: 'pirate', state: 'succeeded', finished: '2025-02-01T00:00:00Z' });
  const failed = job({ jobId: 'c', adapterName: 'pirate', state: 'failed', finished: '2025-03-01T00:00:00Z' });

  it("finds the job the adapter's registry entry names", () => {
    expect(jobOfAdapter([older, newer, failed], 'pirate', 'a')).toBe(older);
  });
  it('else the latest succeeded job that saved it', () => {
    expect(jobOfAdapter([older, newer, failed], 'pirate', null)).toBe(newer);
    expect(jobOfAdapter([older, newer], 'pirate', 'gone')).toBe(newer);
    expect(jobOfAdapter([failed], 'pirate')).toBeUndefined();
    expect(jobOfAdapter([older], 'other')).toBeUndefined();
  });
});
