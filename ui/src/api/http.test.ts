import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { saveKey, forgetKey } from './auth';
import { request, upload } from './http';

const fetchMock = vi.fn();

beforeEach(() => {
  fetchMock.mockReset();
  vi.stubGlobal('fetch', fetchMock);
});
afterEach(() => {
  vi.unstubAllGlobals();
  forgetKey();
});

const answer = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

describe('upload', () => {
  it('sends a GraphQL multipart request: operations with the file null, the map, then the file', async () => {
    fetchMock.mockResolvedValue(answer({ data: { uploadDataset: { ok: true } } }));
    const file = new File(['{"messages": []}\n'], 'mine.jsonl', { type: 'application/json' });
    const data = await upload<{ uploadDataset: { ok: boolean } }>('mutation U($name: String!, $file: Upload!) { x }', { name: 'mine' }, { file });
    expect(data.uploadDataset.ok).toBe(true);
    const [, init] = fetchMock.mock.calls[0] as [string, RequestInit];
    expect(init.method).toBe('POST');
    const headers = init.headers as Record<string, string>;
    expect(headers['GraphQL-Require-Preflight']).toBe('1');
    // the browser writes the multipart content type with its boundary
    expect(Object.keys(headers).map((h) => h.toLowerCase())).not.toContain('content-type');
    const form = init.body as FormData;
    expect(JSON.parse(form.get('operations') as string)).toEqual({
      query: 'mutation U($name: String!, $file: Upload!) { x }',
      variables: { name: 'mine', file: null },
    });
    expect(JSON.parse(form.get('map') as string)).toEqual({ 0: ['variables.file'] });
    const part = form.get('0') as File;
    expect(part.name).toBe('mine.jsonl');
    expect(await part.text()).toBe('{"messages": []}\n');
  });

  it('sends the API key like every other request', async () => {
    saveKey('sk-test', false);
    fetchMock.mockImplementation(async () => answer({ data: { ok: true } }));
    await upload('mutation { x }', {}, { file: new Blob(['x']) });
    await request('{ x }');
    for (const [, init] of fetchMock.mock.calls as [string, RequestInit][]) {
      expect((init.headers as Record<string, string>).Authorization).toBe('Bearer sk-test');
    }
  });

  it("reports the server's GraphQL error in words, with its code", async () => {
    fetchMock.mockResolvedValue(answer({ data: null, errors: [{ message: 'admin only', extensions: { code: 'FORBIDDEN' } }] }));
    await expect(upload('mutation { x }', {}, { file: new Blob(['x']) })).rejects.toMatchObject({
      message: 'admin only',
      code: 'FORBIDDEN',
    });
  });

  it('says when the gateway cannot be reached', async () => {
    fetchMock.mockRejectedValue(new TypeError('Failed to fetch'));
    await expect(upload('mutation { x }', {}, { file: new Blob(['x']) })).rejects.toMatchObject({ code: 'UNREACHABLE' });
  });
});

describe('request', () => {
  it('says in plain words when the server cannot be reached (no URL, no "gateway")', async () => {
    fetchMock.mockRejectedValue(new TypeError('Failed to fetch'));
    const error = await request('{ health }').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'UNREACHABLE', message: "Can't reach the server: check your network, or whether Switchboard is running" });
  });
});
