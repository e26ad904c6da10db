import { cleanup, fireEvent, render, screen, waitFor } from '@solidjs/testing-library';
import { createSignal } from 'solid-js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { request } from '../api/http';
import { LOAD_ADAPTER, type FineTuneJob } from '../api/operations';
import { refreshStatus } from '../shell/status';
import { fromRecord, type LiveJob } from './live';
import { ProgressPanel } from './ProgressPanel';
import { job } from './testJobs';

vi.mock('../api/http', () => ({ request: vi.fn() }));
vi.mock('../shell/status', async () => {
  const { createSignal } = await import('solid-js');
  const [status] = createSignal(undefined);
  return { status, refreshStatus: vi.fn(async () => undefined) };
});

afterEach(cleanup);

function show(
  live: LiveJob | undefined,
  cancel = vi.fn(async (_id: string) => undefined as string | undefined),
  { waiting = [] as FineTuneJob[], stateOf = (_id: string) => undefined as string | undefined } = {},
) {
  render(() => (
    <ProgressPanel live={live} connection={{ live: true }} waiting={waiting} loading={false} cancel={cancel} stateOf={stateOf} />
  ));
  return cancel;
}

describe('ProgressPanel', () => {
  it('shows a running job with its progress bar, loss curve and Cancel', async () => {
    const cancel = show(
      fromRecord(job({ jobId: 'j', adapterName: 'mine', state: 'running', step: 3, totalSteps: 12, lossHistory: [3, 2, 1.5] })),
    );
    const panel = screen.getByTestId('progress');
    expect(panel).toHaveAttribute('data-state', 'running');
    const bar = screen.getByRole('progressbar');
    expect(bar).toHaveAttribute('aria-valuenow', '3');
    expect(bar).toHaveAttribute('aria-valuemax', '12');
    expect((bar.firstElementChild as HTMLElement).style.width).toBe('25%');
    expect(screen.getByTestId('loss-chart')).toHaveAttribute('data-points', '3');
    fireEvent.click(screen.getByRole('button', { name: 'Cancel job mine' }));
    fireEvent.click(screen.getByRole('button', { name: 'Yes, cancel' }));
    await waitFor(() => expect(cancel).toHaveBeenCalledWith('j'));
  });

  it('shows a queued job with its queue position', () => {
    show(fromRecord(job({ jobId: 'q', state: 'queued', queuePosition: 2 })));
    expect(screen.getByTestId('progress')).toHaveAttribute('data-state', 'queued');
    expect(screen.getByTestId('queue-position')).toHaveTextContent('2 jobs ahead');
    expect(screen.getByRole('button', { name: 'Cancel job lora-q' })).toBeInTheDocument();
  });

  it('shows why a job failed, without Cancel', () => {
    show(fromRecord(job({ jobId: 'f', state: 'failed', error: 'dataset has no rows' })));
    expect(screen.getByTestId('job-error')).toHaveTextContent('dataset has no rows');
    expect(screen.queryByRole('button', { name: /^Cancel/ })).toBeNull();
  });

  it('shows a refused cancel', async () => {
    show(
      fromRecord(job({ jobId: 'j', state: 'running' })),
      vi.fn(async () => 'job j has already succeeded'),
    );
    fireEvent.click(screen.getByRole('button', { name: 'Cancel job lora-j' }));
    fireEvent.click(screen.getByRole('button', { name: 'Yes, cancel' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('already succeeded');
  });

  it('asks before cancelling; No keeps the job and gives the keyboard back to Cancel', async () => {
    const cancel = show(fromRecord(job({ jobId: 'j', adapterName: 'mine', state: 'running' })));
    fireEvent.click(screen.getByRole('button', { name: 'Cancel job mine' }));
    expect(screen.getByRole('group', { name: 'Cancel the job mine?' })).toHaveTextContent('Cancel “mine”?');
    await waitFor(() => expect(screen.getByRole('button', { name: 'No, keep it' })).toHaveFocus());
    fireEvent.click(screen.getByRole('button', { name: 'No, keep it' }));
    await waitFor(() => expect(screen.getByRole('button', { name: 'Cancel job mine' })).toHaveFocus());
    expect(cancel).not.toHaveBeenCalled();
  });

  it('names each Cancel by its job, and says what was cancelled once the list does', async () => {
    const [state, setState] = createSignal<string>('queued');
    const waiting = [job({ jobId: 'w', adapterName: 'second', state: 'queued', queuePosition: 1 })];
    const cancel = show(fromRecord(job({ jobId: 'j', adapterName: 'first', state: 'running' })), undefined, {
      waiting,
      stateOf: (id) => (id === 'w' ? state() : 'running'),
    });
    expect(screen.getByRole('button', { name: 'Cancel job first' })).toBeInTheDocument();
    fireEvent.click(screen.getByRole('button', { name: 'Cancel job second' }));
    fireEvent.click(screen.getByRole('button', { name: 'Yes, cancel' }));
    await waitFor(() => expect(cancel).toHaveBeenCalledWith('w'));
    const said = screen.getByTestId('cancel-status');
    expect(said).toHaveAttribute('role', 'status');
    await waitFor(() => expect(said).toHaveTextContent('Cancelling “second”…'));
    setState('cancelled');
    expect(said).toHaveTextContent('Cancelled “second”.');
  });

  it('shows the stage and elapsed time instead of "0 steps" and an empty bar while loading', () => {
    const started = new Date(Date.now() - 14_000).toISOString();
    show({ ...fromRecord(job({ jobId: 'j', state: 'running', totalSteps: 2, started })), stage: 'loading_model' });
    expect(screen.getByTestId('job-stage')).toHaveAttribute('data-stage', 'loading_model');
    expect(screen.getByTestId('job-stage')).toHaveTextContent('Loading the model…');
    expect(screen.getByTestId('job-elapsed')).toHaveTextContent(/^1[45] s elapsed$/);
    expect(screen.queryByRole('progressbar')).toBeNull();
    expect(screen.queryByTestId('job-steps')).toBeNull();
    expect(screen.getByTestId('progress')).not.toHaveTextContent('0/2');
    expect(screen.queryByTestId('job-eta')).toBeNull();
  });

  it('says a running job without a stage yet is starting', () => {
    show(fromRecord(job({ jobId: 'j', state: 'running' })));
    expect(screen.getByTestId('job-stage')).toHaveTextContent('Starting…');
    expect(screen.queryByRole('progressbar')).toBeNull();
  });

  it('shows steps, the bar and an estimate once training', () => {
    const now = Date.now();
    const live: LiveJob = {
      ...fromRecord(job({ jobId: 'j', state: 'running', step: 2, totalSteps: 10, lossHistory: [2, 1.9] })),
      stage: 'training',
      started: new Date(now - 30_000).toISOString(),
      pace: { fromStep: 0, fromAt: now - 20_000, step: 2, at: now }, // 10 s a step, 8 steps left
    };
    show(live);
    expect(screen.getByTestId('job-stage')).toHaveTextContent('Training');
    expect(screen.getByTestId('job-steps')).toHaveTextContent('2/10 steps');
    expect(screen.getByRole('progressbar')).toHaveAttribute('aria-valuenow', '2');
    expect(screen.getByTestId('job-elapsed')).toHaveTextContent(/^3[01] s elapsed$/);
    expect(screen.getByTestId('job-eta')).toHaveTextContent(/^about 1 min (1\d|20) s left$/);
  });

  it('shows how long a finished job took, without a stage', () => {
    show(
      fromRecord(
        job({
          jobId: 'j',
          state: 'succeeded',
          step: 2,
          totalSteps: 2,
          started: '2025-01-01T00:00:00.000000Z',
          finished: '2025-01-01T00:01:05.000000Z',
        }),
      ),
    );
    expect(screen.getByTestId('job-took')).toHaveTextContent('took 1 min 05 s');
    expect(screen.queryByTestId('job-stage')).toBeNull();
  });

  it('has an empty state', () => {
    show(undefined);
    expect(screen.queryByTestId('progress')).toBeNull();
    expect(screen.getByText(/No training job yet/)).toBeInTheDocument();
  });

  it('offers to load the adapter a job just made, and shows why it could not', async () => {
    const requestMock = vi.mocked(request);
    requestMock.mockResolvedValueOnce({
      loadAdapter: { ok: false, error: 'no inference worker is running', activeAdapter: null, errorCode: 'UNAVAILABLE' },
    });
    show(fromRecord(job({ jobId: 'j', adapterName: 'mine', adapter: 'mine', state: 'succeeded', step: 2, totalSteps: 2 })));
    fireEvent.click(screen.getByRole('button', { name: 'Make it active' }));
    await waitFor(() => expect(screen.getByRole('alert')).toHaveTextContent('no inference worker is running'));
    expect(requestMock).toHaveBeenCalledWith(LOAD_ADAPTER, { name: 'mine' });
    expect(refreshStatus).toHaveBeenCalled();
  });
});
