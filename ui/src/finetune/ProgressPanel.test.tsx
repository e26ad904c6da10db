import { cleanup, fireEvent, render, screen, waitFor } from '@solidjs/testing-library';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { request } from '../api/http';
import { LOAD_ADAPTER } from '../api/operations';
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

function show(live: LiveJob | undefined, cancel = vi.fn(async (_id: string) => undefined as string | undefined)) {
  render(() => <ProgressPanel live={live} connection={{ live: true }} waiting={[]} loading={false} cancel={cancel} />);
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
    fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    await waitFor(() => expect(cancel).toHaveBeenCalledWith('j'));
  });

  it('shows a queued job with its queue position', () => {
    show(fromRecord(job({ jobId: 'q', state: 'queued', queuePosition: 2 })));
    expect(screen.getByTestId('progress')).toHaveAttribute('data-state', 'queued');
    expect(screen.getByTestId('queue-position')).toHaveTextContent('2 jobs ahead');
    expect(screen.getByRole('button', { name: 'Cancel' })).toBeInTheDocument();
  });

  it('shows why a job failed, without Cancel', () => {
    show(fromRecord(job({ jobId: 'f', state: 'failed', error: 'dataset has no rows' })));
    expect(screen.getByTestId('job-error')).toHaveTextContent('dataset has no rows');
    expect(screen.queryByRole('button', { name: 'Cancel' })).toBeNull();
  });

  it('shows a refused cancel', async () => {
    show(
      fromRecord(job({ jobId: 'j', state: 'running' })),
      vi.fn(async () => 'job j has already succeeded'),
    );
    fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('already succeeded');
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
    fireEvent.click(screen.getByRole('button', { name: 'Load it now' }));
    await waitFor(() => expect(screen.getByRole('alert')).toHaveTextContent('no inference worker is running'));
    expect(requestMock).toHaveBeenCalledWith(LOAD_ADAPTER, { name: 'mine' });
    expect(refreshStatus).toHaveBeenCalled();
  });
});
