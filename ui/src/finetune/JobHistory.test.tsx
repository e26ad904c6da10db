import { cleanup, fireEvent, render, screen, waitFor, within } from '@solidjs/testing-library';
import { createSignal } from 'solid-js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AdapterInfo } from '../api/operations';
import { JobHistory } from './JobHistory';
import { job } from './testJobs';

afterEach(cleanup);

const done = job({
  jobId: 'j1',
  adapterName: 'pirate',
  state: 'succeeded',
  dataset: 'pirate.jsonl',
  numSamples: 24,
  numEpochs: 2,
  learningRate: 0.0005,
  loraR: 16,
  loraAlpha: 32,
  device: 'cpu',
  step: 6,
  totalSteps: 6,
  lossHistory: [2.9, 2.5, 2.2, 2, 1.9, 1.8],
  finalLoss: 1.8,
  created: '2025-01-01T00:00:00.000000Z',
  started: '2025-01-01T00:00:05.000000Z',
  finished: '2025-01-01T00:02:10.000000Z',
});
const cancelledEarly = job({ jobId: 'j2', adapterName: 'quick', state: 'cancelled', started: null, finished: '2025-01-02T00:00:00Z' });

function show(forget = vi.fn(async (_id: string) => undefined as string | undefined)) {
  render(() => <JobHistory jobs={[done, cancelledEarly]} error={undefined} forget={forget} />);
  return forget;
}

const row = (jobId: string) => screen.getAllByTestId('job-row').find((r) => r.dataset.jobId === jobId)!;

describe('JobHistory', () => {
  it("shows each job's settings and duration", () => {
    show();
    const settings = within(row('j1')).getByTestId('job-settings');
    expect(settings).toHaveTextContent('datasetpirate.jsonl');
    expect(settings).toHaveTextContent('samples24');
    expect(settings).toHaveTextContent('epochs2');
    expect(settings).toHaveTextContent('learning rate0.0005');
    expect(settings).toHaveTextContent('LoRA r / alpha16 / 32');
    expect(settings).toHaveTextContent('devicecpu');
    expect(within(row('j1')).getByTestId('job-duration')).toHaveTextContent('2 min 05 s');
    // cancelled before it started: all rows, no duration
    expect(within(row('j2')).getByTestId('job-settings')).toHaveTextContent('samplesall');
    expect(within(row('j2')).getByTestId('job-duration')).toHaveTextContent('—');
  });

  it('shows when a job finished as its day above its time, the submit time in the tooltip, and the whole name', () => {
    show();
    const finished = row('j1').querySelector('td[data-label="Finished"]')!;
    const when = finished.querySelector('time')!;
    expect(when).toHaveAttribute('datetime', '2025-01-01T00:02:10.000000Z');
    const [day, time] = [...when.querySelectorAll('span')].map((span) => span.textContent);
    expect(day).toBe(new Date('2025-01-01T00:02:10Z').toLocaleDateString(undefined, { dateStyle: 'medium' }));
    expect(time).toBe(new Date('2025-01-01T00:02:10Z').toLocaleTimeString(undefined, { timeStyle: 'short' }));
    expect(finished.getAttribute('title')).toMatch(/^submitted /);
    expect(within(row('j1')).getByRole('rowheader')).toHaveTextContent('pirate');
    expect(within(row('j1')).getByTitle('pirate, dataset pirate.jsonl')).toBeInTheDocument();
  });

  it("shows a failed job's long error in three lines, the whole of it on Show all", () => {
    const error = `cannot load dataset '/data/${'x'.repeat(120)}.jsonl': Trailing data at position 37`;
    const failed = job({ jobId: 'j3', adapterName: 'broken', state: 'failed', error, lossHistory: [] });
    const short = job({ jobId: 'j4', adapterName: 'quick-fail', state: 'failed', error: 'dataset has no rows', lossHistory: [] });
    render(() => <JobHistory jobs={[failed, short]} error={undefined} />);
    const shown = within(row('j3')).getByTestId('job-error');
    expect(shown).toHaveTextContent('Trailing data at position 37');
    expect(shown).toHaveClass('ft-job-error-clamped');
    const toggle = within(row('j3')).getByRole('button', { name: 'Show all' });
    expect(toggle).toHaveAttribute('aria-expanded', 'false');
    fireEvent.click(toggle);
    expect(shown).not.toHaveClass('ft-job-error-clamped');
    expect(within(row('j3')).getByRole('button', { name: 'Show less' })).toHaveAttribute('aria-expanded', 'true');
    // a short error is shown whole, with no button
    expect(within(row('j4')).getByTestId('job-error')).not.toHaveClass('ft-job-error-clamped');
    expect(within(row('j4')).queryByRole('button', { name: /Show/ })).toBeNull();
  });

  it('shows "—" for the loss curve of a job with fewer than two losses', () => {
    const one = job({ jobId: 'j5', adapterName: 'one-step', state: 'succeeded', lossHistory: [2.1] });
    render(() => <JobHistory jobs={[done, one]} error={undefined} />);
    expect(row('j5').querySelector('td[data-label="Loss curve"]')).toHaveTextContent('—');
    expect(within(row('j5')).queryByTestId('loss-sparkline')).toBeNull();
    expect(within(row('j1')).getByTestId('loss-sparkline')).toBeInTheDocument();
  });

  it('asks before removing a job, and removes it on Yes', async () => {
    const forget = show();
    fireEvent.click(within(row('j1')).getByRole('button', { name: /^Remove the succeeded job pirate/ }));
    expect(forget).not.toHaveBeenCalled();
    const group = within(row('j1')).getByRole('group', { name: 'Remove the job pirate from the history?' });
    expect(group).toHaveTextContent('Remove?');
    await waitFor(() => expect(within(group).getByRole('button', { name: 'No' })).toHaveFocus());
    fireEvent.click(within(group).getByRole('button', { name: 'Yes' }));
    await waitFor(() => expect(forget).toHaveBeenCalledWith('j1'));
  });

  it('keeps the job on No or Escape, and gives the keyboard back to Remove', async () => {
    const forget = show();
    const remove = () => within(row('j1')).getByRole('button', { name: /^Remove the succeeded job/ });
    fireEvent.click(remove());
    fireEvent.click(within(row('j1')).getByRole('button', { name: 'No' }));
    await waitFor(() => expect(remove()).toHaveFocus());
    fireEvent.click(remove());
    fireEvent.keyDown(within(row('j1')).getByRole('button', { name: 'No' }), { key: 'Escape' });
    await waitFor(() => expect(remove()).toHaveFocus());
    expect(forget).not.toHaveBeenCalled();
  });

  it('shows why the server refused to remove a job', async () => {
    show(vi.fn(async () => 'job j1 is running; cancel it first'));
    fireEvent.click(within(row('j1')).getByRole('button', { name: /^Remove the/ }));
    fireEvent.click(within(row('j1')).getByRole('button', { name: 'Yes' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('cancel it first');
  });
});

describe('JobHistory Compare', () => {
  it('offers Compare on a succeeded job only, and hands over the job', () => {
    const onCompare = vi.fn();
    render(() => <JobHistory jobs={[done, cancelledEarly]} error={undefined} onCompare={onCompare} />);
    expect(within(row('j2')).queryByRole('button', { name: /Compare/ })).toBeNull();
    fireEvent.click(within(row('j1')).getByRole('button', { name: 'Compare pirate with the base model' }));
    expect(onCompare).toHaveBeenCalledWith(done);
  });

  it('has no Compare without a handler', () => {
    show();
    expect(screen.queryByRole('button', { name: /Compare/ })).toBeNull();
  });
});

describe('JobHistory and the adapters', () => {
  const saved = (name: string, jobId: string | null): AdapterInfo => ({
    name,
    baseModel: 'm',
    created: '2025-01-01T00:00:00Z',
    dataset: 'bundled',
    steps: 6,
    finalLoss: 1.8,
    sizeBytes: 1,
    jobId,
    loraR: 16,
    loraAlpha: 32,
  });
  const pirate = { ...done, adapter: 'pirate' };

  it('marks a job whose adapter was deleted, without Compare', () => {
    render(() => <JobHistory jobs={[pirate, cancelledEarly]} error={undefined} onCompare={vi.fn()} adapters={[]} />);
    expect(within(row('j1')).getByTestId('adapter-gone')).toHaveTextContent('adapter deleted');
    expect(row('j1')).toHaveAttribute('data-adapter', 'deleted');
    expect(within(row('j1')).queryByRole('button', { name: /Compare/ })).toBeNull();
    // a cancelled job saved nothing: nothing to say
    expect(within(row('j2')).queryByTestId('adapter-gone')).toBeNull();
  });

  it('marks one a later job replaced, and nothing while its adapter is there', () => {
    const [adapters, setAdapters] = createSignal<AdapterInfo[]>([saved('pirate', 'j1')]);
    render(() => <JobHistory jobs={[pirate]} error={undefined} onCompare={vi.fn()} adapters={adapters()} />);
    expect(within(row('j1')).queryByTestId('adapter-gone')).toBeNull();
    expect(within(row('j1')).getByRole('button', { name: /Compare/ })).toBeInTheDocument();
    setAdapters([saved('pirate', 'j9')]);
    expect(within(row('j1')).getByTestId('adapter-gone')).toHaveTextContent('adapter replaced');
  });

  it('offers Train again on every finished job, handing over the job', () => {
    const onTrainAgain = vi.fn();
    render(() => <JobHistory jobs={[pirate, cancelledEarly]} error={undefined} onTrainAgain={onTrainAgain} />);
    fireEvent.click(within(row('j2')).getByRole('button', { name: 'Train again with the settings of quick' }));
    expect(onTrainAgain).toHaveBeenCalledWith(cancelledEarly);
    expect(within(row('j1')).getByRole('button', { name: 'Train again with the settings of pirate' })).toBeInTheDocument();
  });
});
