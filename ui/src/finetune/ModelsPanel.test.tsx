import { cleanup, fireEvent, render, screen, waitFor, within } from '@solidjs/testing-library';
import type { Setter } from 'solid-js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { request } from '../api/http';
import { DELETE_ADAPTER, LOAD_ADAPTER, USE_BASE_MODEL, type AdapterInfo, type StatusData } from '../api/operations';
import * as statusModule from '../shell/status';
import { ADMIN_ONLY } from '../shell/access';
import { ModelsPanel } from './ModelsPanel';

vi.mock('../shell/status', async () => {
  const { createSignal } = await import('solid-js');
  const [status, setStatus] = createSignal<StatusData | undefined>();
  const [statusError, setStatusError] = createSignal<string | undefined>();
  return { status, statusError, setStatus, setStatusError, refreshStatus: vi.fn(async () => undefined) };
});
vi.mock('../api/http', () => ({ request: vi.fn() }));

const setStatus = (statusModule as unknown as { setStatus: Setter<StatusData | undefined> }).setStatus;
const requestMock = vi.mocked(request);

function adapter(name: string): AdapterInfo {
  return {
    name,
    baseModel: 'tiny',
    created: '2025-01-01T00:00:00Z',
    dataset: 'bundled',
    steps: 12,
    finalLoss: 1.2345,
    sizeBytes: 2_500_000,
    jobId: null,
    loraR: 8,
    loraAlpha: 16,
  };
}

function statusWith(names: string[], active: string | null): StatusData {
  return {
    access: { role: 'admin', keysRequired: false },
    modelInfo: {
      modelId: 'tiny-model',
      device: 'cpu',
      dtype: 'float32',
      loadIn4bit: false,
      contextLength: 2048,
      state: 'ready',
      activeAdapter: active,
      vramTotalMb: null,
      vramUsedMb: null,
    },
    adapters: { available: names, active, adapters: names.map(adapter) },
  };
}

const row = (name: string) =>
  screen.getAllByTestId('model-row').find((r) => r.getAttribute('data-name') === name) as HTMLElement;

afterEach(cleanup);
beforeEach(() => {
  requestMock.mockReset();
  setStatus(undefined);
});

describe('ModelsPanel', () => {
  it('lists the base model and adapters, marking the active one', () => {
    setStatus(statusWith(['alpha', 'beta'], 'beta'));
    render(() => <ModelsPanel />);
    expect(screen.getAllByTestId('model-row').map((r) => r.getAttribute('data-name'))).toEqual(['base', 'alpha', 'beta']);
    expect(row('beta')).toHaveClass('active-row');
    expect(within(row('beta')).getByText('active')).toBeInTheDocument();
    expect(row('base')).not.toHaveClass('active-row');
    // one way to change the active model: Make active on any other row; the active one has no switch of its own
    expect(within(row('beta')).queryByRole('button', { name: /Unload|Make active/ })).toBeNull();
    expect(within(row('alpha')).getByRole('button', { name: 'Make active' })).toBeInTheDocument();
    expect(within(row('base')).getByRole('button', { name: 'Make active' })).toBeInTheDocument();
    expect(screen.getByTestId('models-note')).toHaveTextContent(/for everyone/);
    expect(screen.getByTestId('models-note')).toHaveTextContent(/Server's active model/);
    expect(within(row('alpha')).getByText('1.234')).toBeInTheDocument();
    expect(within(row('alpha')).getByText('2.4 MB')).toBeInTheDocument();
  });

  it('with a user key, every change is disabled and says why', () => {
    setStatus({ ...statusWith(['alpha', 'beta'], 'beta'), access: { role: 'user', keysRequired: true } });
    render(() => <ModelsPanel />);
    for (const button of [
      within(row('alpha')).getByRole('button', { name: 'Make active' }),
      within(row('alpha')).getByRole('button', { name: 'Delete' }),
      within(row('base')).getByRole('button', { name: 'Make active' }),
    ]) {
      expect(button).toBeDisabled();
      expect(button).toHaveAttribute('title', ADMIN_ONLY);
    }
  });

  it('says when there are no adapters', () => {
    setStatus(statusWith([], null));
    render(() => <ModelsPanel />);
    expect(row('base')).toHaveClass('active-row');
    expect(within(row('base')).queryByRole('button')).toBeNull();
    expect(screen.getByText('No adapters yet — train one below.')).toBeInTheDocument();
  });

  it('loads an adapter', async () => {
    setStatus(statusWith(['alpha'], null));
    requestMock.mockResolvedValue({ loadAdapter: { ok: true, error: null, activeAdapter: 'alpha', errorCode: null } });
    render(() => <ModelsPanel />);
    fireEvent.click(within(row('alpha')).getByRole('button', { name: 'Make active' }));
    await waitFor(() => expect(requestMock).toHaveBeenCalledWith(LOAD_ADAPTER, { name: 'alpha' }));
    await waitFor(() => expect(statusModule.refreshStatus).toHaveBeenCalled());
  });

  it('makes the base model active again from its own row', async () => {
    setStatus(statusWith(['alpha'], 'alpha'));
    requestMock.mockResolvedValue({ useBaseModel: { ok: true, error: null, activeAdapter: null } });
    render(() => <ModelsPanel />);
    fireEvent.click(within(row('base')).getByRole('button', { name: 'Make active' }));
    await waitFor(() => expect(requestMock).toHaveBeenCalledWith(USE_BASE_MODEL));
  });

  it('asks inline before deleting, and No keeps the adapter', async () => {
    setStatus(statusWith(['alpha'], null));
    render(() => <ModelsPanel />);
    fireEvent.click(within(row('alpha')).getByRole('button', { name: 'Delete' }));
    expect(within(row('alpha')).getByRole('button', { name: 'Yes, delete' })).toBeInTheDocument();
    const no = within(row('alpha')).getByRole('button', { name: 'No' });
    await waitFor(() => expect(no).toHaveFocus());
    fireEvent.click(no);
    expect(within(row('alpha')).queryByRole('button', { name: 'Yes, delete' })).toBeNull();
    expect(requestMock).not.toHaveBeenCalled();
  });

  it('deletes after Yes, delete and shows a refusal', async () => {
    setStatus(statusWith(['alpha'], null));
    requestMock.mockResolvedValue({
      deleteAdapter: { ok: false, error: 'adapter alpha is in use', activeAdapter: null, errorCode: 'CONFLICT' },
    });
    render(() => <ModelsPanel />);
    fireEvent.click(within(row('alpha')).getByRole('button', { name: 'Delete' }));
    fireEvent.click(within(row('alpha')).getByRole('button', { name: 'Yes, delete' }));
    await waitFor(() => expect(requestMock).toHaveBeenCalledWith(DELETE_ADAPTER, { name: 'alpha' }));
    expect(await screen.findByTestId('models-error')).toHaveTextContent('adapter alpha is in use');
  });
});

describe('ModelsPanel column widths', () => {
  it('reserves the actions column for the wider of its two states, unseen and unheard', () => {
    setStatus(statusWith(['alpha'], null));
    render(() => <ModelsPanel />);
    const ghost = row('alpha').querySelector('.ft-swap-ghost') as HTMLElement;
    expect(ghost).toHaveAttribute('aria-hidden', 'true');
    expect(ghost).toHaveTextContent('Make active');
    expect(ghost).toHaveTextContent('Delete?');
    expect(ghost).toHaveTextContent('Yes, delete');
    expect(ghost.querySelectorAll('button')).toHaveLength(0);
    // the buttons a user reaches are the real ones only
    expect(within(row('alpha')).getAllByRole('button').map((b) => b.textContent)).toEqual(['Make active', 'Delete']);
  });
});

describe('ModelsPanel Compare', () => {
  it('offers Compare on each adapter (a user key too: it changes nothing on the server)', () => {
    setStatus({ ...statusWith(['alpha', 'beta'], 'beta'), access: { role: 'user', keysRequired: true } });
    const onCompare = vi.fn();
    render(() => <ModelsPanel onCompare={onCompare} />);
    expect(within(row('base')).queryByRole('button', { name: 'Compare' })).toBeNull();
    const compare = within(row('alpha')).getByRole('button', { name: 'Compare' });
    expect(compare).toBeEnabled();
    fireEvent.click(compare);
    expect(onCompare).toHaveBeenCalledWith('alpha');
    expect(requestMock).not.toHaveBeenCalled();
    expect(row('alpha').querySelector('.ft-swap-ghost')).toHaveTextContent('Compare');
  });
});
