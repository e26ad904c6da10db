import { describe, expect, it } from 'vitest';
import { queuedNotice } from './queuedNotice';
import { job } from './testJobs';

const queued = { jobId: 'j2', name: 'second', position: 1 };

describe('queuedNotice', () => {
  it("says the job's place as the server answered, until the list holds it", () => {
    expect(queuedNotice(queued, undefined)).toBe('Queued “second” (1 job ahead).');
  });

  it('moves up as the jobs ahead end', () => {
    expect(queuedNotice(queued, job({ jobId: 'j2', state: 'queued', queuePosition: 0 }))).toBe(
      'Queued “second” (next in line).',
    );
  });

  it('says it trains once it runs, and nothing once it ended', () => {
    expect(queuedNotice(queued, job({ jobId: 'j2', state: 'running' }))).toBe('“second” is training: see Training progress.');
    for (const state of ['succeeded', 'failed', 'cancelled']) expect(queuedNotice(queued, job({ jobId: 'j2', state }))).toBe('');
  });

  it('names a job remembered across a reload by its record, and says nothing until the list has it', () => {
    expect(queuedNotice({ jobId: 'j2' }, undefined)).toBe('');
    expect(queuedNotice({ jobId: 'j2' }, job({ jobId: 'j2', adapterName: 'second', queuePosition: 1 }))).toBe(
      'Queued “second” (1 job ahead).',
    );
  });
});
