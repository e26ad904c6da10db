import { createRoot } from 'solid-js';
import { describe, expect, it, vi } from 'vitest';
import { ApiError } from '../api/errors';
import { DATASET_PREVIEW, DATASETS, DELETE_DATASET, UPLOAD_DATASET, type Dataset } from '../api/operations';
import { ADMIN_ONLY } from '../shell/access';
import { createDatasetsStore, datasetNameFromFile, datasetNameProblem, isDatasetFile, problemText } from './datasets';

const chat: Dataset = { name: 'mine', format: 'chat', rows: 60, tokens: 1234, sizeBytes: 5000, createdAt: '2025-01-01T00:00:00Z' };

describe('datasetNameFromFile', () => {
  it.each([
    ['mine.jsonl', 'mine'],
    ['support_v2.json', 'support_v2'],
    ['My data (v2).jsonl', 'My-data-v2'],
    ['archive.tar.jsonl', 'archive.tar'],
    ['C:\\fakepath\\sets.jsonl', 'sets'],
    ['.hidden.jsonl', 'hidden'],
    ['a..b.jsonl', 'a.b'],
    ['données été.jsonl', 'donn-es-t'],
    ['???.jsonl', 'dataset'],
    ['noextension', 'noextension'],
    [`${'x'.repeat(70)}.jsonl`, 'x'.repeat(64)],
    [`${'x'.repeat(63)}.y.jsonl`, 'x'.repeat(63)],
    ['export.json.jsonl', 'export'],
    ['bundled.jsonl', 'bundled-data'],
    ['Switchboard-Instruct.json', 'Switchboard-Instruct-data'],
  ])('%j → %j', (file, name) => {
    expect(datasetNameFromFile(file)).toBe(name);
    expect(datasetNameProblem(datasetNameFromFile(file))).toBeUndefined();
  });
});

describe('datasetNameProblem', () => {
  it.each(['a', 'mine', 'my-set_v1.2', 'x'.repeat(64)])('accepts %j', (name) => {
    expect(datasetNameProblem(name)).toBeUndefined();
  });
  it.each([
    ['', /enter a name for the dataset/i],
    ['x'.repeat(65), /at most 64/],
    ['my set', /not spaces/],
    ['../etc', /not '\/'/],
    ['.x', /start with a dot/],
    ['a..b', /'\.\.'/],
    ['bundled', /shipped set/],
    ['BUNDLED', /shipped set/],
    ['switchboard-instruct', /shipped set/],
    ['mine.jsonl', /file in the dataset folder/],
    ['mine.JSON', /file in the dataset folder/],
  ])('refuses %j', (name, message) => {
    expect(datasetNameProblem(name)).toMatch(message);
  });
});

describe('isDatasetFile', () => {
  it('takes .jsonl and .json in any case, nothing else', () => {
    expect(['a.jsonl', 'a.JSON', 'b.Jsonl'].every(isDatasetFile)).toBe(true);
    expect(['a.csv', 'a.txt', 'jsonl', 'a.jsonl.gz'].some(isDatasetFile)).toBe(false);
  });
});

describe('problemText', () => {
  it("says what a user key may not do beside the server's words", () => {
    expect(problemText('admin only', 'FORBIDDEN')).toBe(`admin only. ${ADMIN_ONLY}`);
    expect(problemText('line 3: no messages', 'BAD_REQUEST')).toBe('line 3: no messages');
    expect(problemText(null, null)).toMatch(/refused/);
  });
});

function store(request: ReturnType<typeof vi.fn>, upload = vi.fn()) {
  let value!: ReturnType<typeof createDatasetsStore>;
  const dispose = createRoot((d) => {
    value = createDatasetsStore({ request: request as never, upload: upload as never, pollMs: 0 });
    return d;
  });
  return { store: value, dispose };
}

describe('createDatasetsStore', () => {
  it('lists the datasets, then uploads and reads the list again', async () => {
    const request = vi.fn(async (query: string) => (query === DATASETS ? { datasets: [chat] } : {}));
    const upload = vi.fn(async () => ({
      uploadDataset: { ok: true, error: null, errorCode: null, errorField: null, dataset: chat },
    }));
    const { store: s, dispose } = store(request, upload);
    await vi.waitFor(() => expect(s.datasets()).toEqual([chat]));
    const file = new File(['{}'], 'mine.jsonl');
    expect(await s.upload('mine', file)).toEqual({ ok: true, dataset: chat });
    expect(upload).toHaveBeenCalledWith(UPLOAD_DATASET, { name: 'mine' }, { file });
    expect(request.mock.calls.filter(([q]) => q === DATASETS)).toHaveLength(2);
    dispose();
  });

  it('keeps unchanged datasets as the same objects across reads', async () => {
    const request = vi.fn(async () => ({ datasets: [{ ...chat }] }));
    const { store: s, dispose } = store(request);
    await vi.waitFor(() => expect(s.datasets()).toHaveLength(1));
    const first = s.datasets()![0];
    await s.refresh();
    expect(s.datasets()![0]).toBe(first);
    dispose();
  });

  it("returns a refusal's words and the field it names", async () => {
    const request = vi.fn(async () => ({ datasets: [] }));
    const upload = vi.fn(async () => ({
      uploadDataset: { ok: false, error: 'line 3: a row needs "messages"', errorCode: 'BAD_REQUEST', errorField: 'file', dataset: null },
    }));
    const { store: s, dispose } = store(request, upload);
    expect(await s.upload('mine', new Blob(['x']))).toEqual({ ok: false, message: 'line 3: a row needs "messages"', field: 'file' });
    dispose();
  });

  it('turns a thrown error into words, FORBIDDEN included', async () => {
    const request = vi.fn(async (query: string) => {
      if (query === DELETE_DATASET) throw new ApiError('only an admin key may delete datasets', 'FORBIDDEN');
      return { datasets: [chat] };
    });
    const upload = vi.fn(async () => {
      throw new ApiError('cannot reach the gateway', 'UNREACHABLE');
    });
    const { store: s, dispose } = store(request, upload);
    expect(await s.upload('mine', new Blob(['x']))).toEqual({ ok: false, message: 'cannot reach the gateway', field: null });
    const refused = await s.remove('mine');
    expect(refused.ok).toBe(false);
    expect(!refused.ok && refused.message).toContain(ADMIN_ONLY);
    dispose();
  });

  it("reads a dataset's first five rows", async () => {
    const request = vi.fn(async (query: string) =>
      query === DATASET_PREVIEW ? { dataset: { ...chat, preview: [] } } : { datasets: [] },
    );
    const { store: s, dispose } = store(request);
    expect(await s.preview('mine')).toEqual({ ...chat, preview: [] });
    expect(request).toHaveBeenCalledWith(DATASET_PREVIEW, { name: 'mine', first: 5 });
    dispose();
  });
});

describe('deleting', () => {
  it('takes the dataset off the list at once, even when reading the list again fails', async () => {
    let reads = 0;
    const request = vi.fn(async (query: string) => {
      if (query === DELETE_DATASET) return { deleteDataset: { ok: true, error: null, errorCode: null, errorField: null, dataset: chat } };
      reads += 1;
      if (reads > 1) throw new ApiError('the job store is unavailable', 'UNAVAILABLE');
      return { datasets: [chat] };
    });
    const { store: s, dispose } = store(request);
    await vi.waitFor(() => expect(s.datasets()).toEqual([chat]));
    expect(await s.remove('mine')).toEqual({ ok: true, dataset: chat });
    expect(s.datasets()).toEqual([]);
    expect(s.listError()).toBe('the job store is unavailable');
    dispose();
  });
});
