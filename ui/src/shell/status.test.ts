import { beforeEach, describe, expect, it, vi } from 'vitest';
import { request } from '../api/http';
import type { StatusData } from '../api/operations';
import { ApiError } from '../api/errors';
import { headerModel, refreshStatus, status, statusError, statusProblem } from './status';

vi.mock('../api/http', () => ({ request: vi.fn() }));

const adapter = (name: string, steps: number) => ({ name, steps, baseModel: 'm', sizeBytes: 10, created: '2025-01-01T00:00:00Z' });
const answer = (adapters: ReturnType<typeof adapter>[]): StatusData =>
  ({
    access: { role: 'ADMIN' },
    modelInfo: { modelId: 'm', activeAdapter: null },
    adapters: { available: adapters.map((a) => a.name), active: null, adapters },
  }) as unknown as StatusData;

beforeEach(() => vi.mocked(request).mockReset());

describe('refreshStatus', () => {
  it('keeps the same adapter objects across polls while they do not change (the Models rows are not rebuilt)', async () => {
    vi.mocked(request).mockResolvedValueOnce(answer([adapter('a', 1), adapter('b', 1)]));
    await refreshStatus();
    const [a, b] = status()!.adapters.adapters;
    vi.mocked(request).mockResolvedValueOnce(answer([adapter('a', 1), adapter('b', 2)]));
    await refreshStatus();
    const after = status()!.adapters.adapters;
    expect(after[0]).toBe(a);
    // reconcile keeps a changed row too, writing only its changed field (which its cell redraws)
    expect(after[1]).toBe(b);
    expect(after[1].steps).toBe(2);
  });
});

describe('headerModel', () => {
  it('names the server’s active model as such', () => {
    const base = answer([]);
    expect(headerModel(base)).toEqual({ label: 'Active model', name: 'm', isAdapter: false });
    const loaded = { ...base, adapters: { ...base.adapters, active: 'pirate' } } as StatusData;
    expect(headerModel(loaded)).toEqual({ label: 'Active adapter', name: 'pirate', isAdapter: true });
  });
});

describe('statusProblem', () => {
  it('says what is wrong in plain words, not "gateway unreachable"', () => {
    expect(statusProblem(true, 'UNAUTHENTICATED')).toBe('API key needed');
    expect(statusProblem(false, 'UNREACHABLE')).toBe("Can't reach the server");
    expect(statusProblem(false, 'UNAVAILABLE')).toBe('Model not available');
  });
});

describe('the status error', () => {
  const failWith = async (error: ApiError) => {
    vi.mocked(request).mockRejectedValueOnce(error);
    await refreshStatus();
    return statusError();
  };

  it('says a missing inference worker in a user’s words, without the Python module', async () => {
    const words = await failWith(
      new ApiError('no inference worker is running; start one with `python -m services.inference` (`just up` does)', 'UNAVAILABLE'),
    );
    expect(words).toMatch(/No model is running on the server/);
    expect(words).not.toMatch(/python -m/);
  });

  it('leaves every other error as the server said it', async () => {
    expect(await failWith(new ApiError('the API key is not valid', 'UNAUTHENTICATED'))).toBe('the API key is not valid');
  });
});
