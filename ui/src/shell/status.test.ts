import { beforeEach, describe, expect, it, vi } from 'vitest';
import { request } from '../api/http';
import type { StatusData } from '../api/operations';
import { refreshStatus, status } from './status';

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
    expect(after[1]).not.toBe(b);
    expect(after[1].steps).toBe(2);
  });
});
