import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../api/errors';
import { INFER_RESUME, INFER_STREAM } from '../api/operations';
import type { Handlers } from '../api/ws';

/** Every subscription the conversation starts, with the handlers to play the server's part. */
const calls: { query: string; variables: Record<string, unknown>; handlers: Handlers<unknown>; stopped: boolean }[] = [];
vi.mock('../api/ws', () => ({
  subscribe: (query: string, variables: Record<string, unknown>, handlers: Handlers<unknown>) => {
    const call = { query, variables, handlers, stopped: false };
    calls.push(call);
    return () => {
      call.stopped = true;
    };
  },
}));

const { createConversation } = await import('./conversation');
const { CANCELLED_REASON, EXPIRED_REASON, finishTurn, resumeFrom, track, UNSENT_REASON } = await import('./turns');
type Turn = import('./turns').Turn;

const KEY = 'switchboard.chat.v1';
const chunk = (seq: number, token: string, extra: object = {}) => ({
  token,
  seq,
  done: false,
  requestId: 'r1',
  finishReason: null,
  usage: null,
  ...extra,
});
const saveTurns = (turns: Turn[]) => localStorage.setItem(KEY, JSON.stringify({ turns, webSearch: false, adapter: null }));
const question: Turn = { id: 1, role: 'user', content: 'Tell a story', status: 'done' };

beforeEach(() => {
  calls.length = 0;
  localStorage.clear();
});

describe('track and resumeFrom', () => {
  it('resume from the chunk after the last one shown, or from 0 when none came', () => {
    expect(resumeFrom({})).toBe(0);
    expect(resumeFrom({ lastSeq: 0 })).toBe(1);
    expect(resumeFrom({ lastSeq: 41 })).toBe(42);
  });

  it('keeps the id from a stage event and skips chunks already shown', () => {
    const turn: Turn = { id: 2, role: 'assistant', content: '', status: 'streaming' };
    expect(track(turn, { requestId: 'r9', seq: -1 })).toBe(true);
    expect(turn.requestId).toBe('r9');
    expect(turn.lastSeq).toBeUndefined();
    expect(track(turn, { requestId: 'r9', seq: 0 })).toBe(true);
    expect(track(turn, { requestId: 'r9', seq: 3 })).toBe(true); // a joined chunk jumps
    expect(track(turn, { requestId: 'r9', seq: 2 })).toBe(false);
    expect(track(turn, { requestId: 'r9', seq: 3 })).toBe(false);
    expect(turn.lastSeq).toBe(3);
  });
});

describe('after a reload', () => {
  it('an answer still streaming goes on from where it was shown, without duplicates', () => {
    saveTurns([question, { id: 2, role: 'assistant', content: 'Once upon', status: 'streaming', requestId: 'r1', lastSeq: 1 }]);
    const chat = createConversation(localStorage);
    expect(chat.state.turns[1].status).toBe('streaming');
    expect(calls).toHaveLength(1);
    expect(calls[0].query).toBe(INFER_RESUME);
    expect(calls[0].variables).toEqual({ requestId: 'r1', fromSeq: 2 });
    const next = calls[0].handlers.next;
    next({ inferResume: chunk(1, ' upon') }); // overlaps: skipped
    next({ inferResume: chunk(2, ' a time') });
    next({ inferResume: chunk(4, ' there was', { done: true, finishReason: 'stop', usage: { promptTokens: 3, completionTokens: 5 } }) });
    const answer = chat.state.turns[1];
    expect(answer.content).toBe('Once upon a time there was');
    expect(answer.status).toBe('done');
    expect(answer.completionTokens).toBe(5);
    expect(chat.busy()).toBe(false);
  });

  it('from 0 when no token had come; stopped without an id', () => {
    saveTurns([question, { id: 2, role: 'assistant', content: '', status: 'streaming', requestId: 'r1' }]);
    createConversation(localStorage);
    expect(calls[0].variables).toEqual({ requestId: 'r1', fromSeq: 0 });

    calls.length = 0;
    saveTurns([question, { id: 2, role: 'assistant', content: 'Once', status: 'streaming' }]);
    const old = createConversation(localStorage);
    expect(calls).toHaveLength(0);
    expect(old.state.turns[1].status).toBe('stopped');
  });

  it('an answer the server no longer has ends as stopped, with the reason', () => {
    saveTurns([question, { id: 2, role: 'assistant', content: 'Once', status: 'streaming', requestId: 'r1', lastSeq: 0 }]);
    const chat = createConversation(localStorage);
    calls[0].handlers.error(new ApiError('unknown or expired request id', 'NOT_FOUND'));
    expect(chat.state.turns[1].status).toBe('stopped');
    expect(chat.state.turns[1].stopReason).toBe(EXPIRED_REASON);
    expect(chat.state.turns[1].content).toBe('Once');
    expect(JSON.parse(localStorage.getItem(KEY) ?? '{}').turns[1].status).toBe('stopped');
  });
});

describe('an id chosen before sending', () => {
  it('is saved with the question and sent, so a reload before any event still resumes it', () => {
    const chat = createConversation(localStorage);
    chat.send('Hi');
    const id = chat.state.turns[1].requestId;
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(calls[0].variables.requestId).toBe(id);
    expect(JSON.parse(localStorage.getItem(KEY) ?? '{}').turns[1].requestId).toBe(id);
  });

  it('a question the server never got ends as stopped, saying so', () => {
    saveTurns([question, { id: 2, role: 'assistant', content: '', status: 'streaming', requestId: 'r9' }]);
    const chat = createConversation(localStorage);
    expect(calls[0].variables).toEqual({ requestId: 'r9', fromSeq: 0 });
    calls[0].handlers.error(new ApiError('unknown or expired request id', 'NOT_FOUND'));
    expect(chat.state.turns[1]).toMatchObject({ status: 'stopped', stopReason: UNSENT_REASON });
  });
});

describe('a dropped connection', () => {
  it('keeps the answer streaming, reconnecting, and resumes after the last chunk shown', async () => {
    const chat = createConversation(localStorage);
    expect(chat.send('Tell a story')).toBe(true);
    expect(calls[0].query).toBe(INFER_STREAM);
    const stream = calls[0].handlers;
    stream.next({ inferStream: { ...chunk(-1, ''), stage: 'GENERATING', sources: null, searchNotice: null } });
    stream.next({ inferStream: { ...chunk(0, 'Once'), stage: null, sources: null, searchNotice: null } });
    stream.error(new ApiError("Can't reach the server", 'UNREACHABLE'));
    const answer = () => chat.state.turns[1];
    expect(answer().status).toBe('streaming');
    expect(answer().reconnecting).toBe(true);
    expect(calls[1].query).toBe(INFER_RESUME);
    expect(calls[1].variables).toEqual({ requestId: 'r1', fromSeq: 1 });

    // still down: tried again after a back-off, from the same place
    calls[1].handlers.error(new ApiError("Can't reach the server", 'UNREACHABLE'));
    await vi.waitFor(() => expect(calls).toHaveLength(3), { timeout: 2000 });
    expect(calls[2].variables).toEqual({ requestId: 'r1', fromSeq: 1 });
    calls[2].handlers.next({ inferResume: chunk(1, ' upon') });
    expect(answer().reconnecting).toBe(false);
    calls[2].handlers.next({ inferResume: chunk(2, ' a time', { done: true, finishReason: 'stop' }) });
    expect(answer().content).toBe('Once upon a time');
    expect(answer().status).toBe('done');
  });

  it('an answer without an id yet (no stage event) fails in words as before', () => {
    const chat = createConversation(localStorage);
    chat.send('Hi there');
    calls[0].handlers.error(new ApiError("Can't reach the server", 'UNREACHABLE'));
    expect(calls).toHaveLength(1);
    expect(chat.state.turns[1].status).toBe('error');
    expect(chat.state.turns[1].error).toBe("Can't reach the server");
  });

  it('Stop while waiting to reconnect stops for good', async () => {
    const chat = createConversation(localStorage);
    chat.send('Tell a story');
    calls[0].handlers.next({ inferStream: { ...chunk(0, 'Once'), stage: null, sources: null, searchNotice: null } });
    calls[0].handlers.error(new ApiError("Can't reach the server", 'UNREACHABLE'));
    calls[1].handlers.error(new ApiError("Can't reach the server", 'UNREACHABLE'));
    chat.stop();
    await new Promise((r) => setTimeout(r, 700)); // past the first back-off
    expect(calls).toHaveLength(2);
    expect(chat.state.turns[1].status).toBe('stopped');
  });
});

describe('another tab mid-answer', () => {
  // a key of their own: the conversations of earlier tests (same window) listen to theirs
  const TABS = `${KEY}.two-tabs`;

  it('is followed here (read back by its id), so this tab sends nothing over it and loses neither turn', () => {
    const here = createConversation(localStorage, TABS);
    const mid = JSON.stringify({
      turns: [question, { id: 2, role: 'assistant', content: 'Once', status: 'streaming', requestId: 'r1', lastSeq: 0 }],
      webSearch: false,
      adapter: null,
    });
    localStorage.setItem(TABS, mid);
    window.dispatchEvent(new StorageEvent('storage', { key: TABS, newValue: mid, storageArea: localStorage }));
    expect(here.state.turns.map((t) => t.content)).toEqual([question.content, 'Once']);
    expect(here.busy()).toBe(true);
    expect(here.send('Another question')).toBe(false); // not sent over the other tab's answer
    expect(calls).toHaveLength(1);
    expect(calls[0].query).toBe(INFER_RESUME);
    expect(calls[0].variables).toEqual({ requestId: 'r1', fromSeq: 1 });
    // the other tab's saves while this one follows do not pull the answer back
    const later = mid.replace('"Once"', '"Once upon"');
    localStorage.setItem(TABS, later);
    window.dispatchEvent(new StorageEvent('storage', { key: TABS, newValue: later, storageArea: localStorage }));
    expect(calls).toHaveLength(1);
    calls[0].handlers.next({ inferResume: { ...chunk(1, ' upon'), done: true, finishReason: 'stop', usage: null } });
    calls[0].handlers.complete();
    expect(here.state.turns.map((t) => [t.content, t.status])).toEqual([
      [question.content, 'done'],
      ['Once upon', 'done'],
    ]);
    expect(here.busy()).toBe(false);
  });

  it('once its answer ended is taken as it is', () => {
    const here = createConversation(localStorage, TABS);
    const end = JSON.stringify({
      turns: [question, { id: 2, role: 'assistant', content: 'Once', status: 'done', requestId: 'r1', lastSeq: 0 }],
      webSearch: false,
      adapter: null,
    });
    localStorage.setItem(TABS, end);
    window.dispatchEvent(new StorageEvent('storage', { key: TABS, newValue: end, storageArea: localStorage }));
    expect(here.state.turns.map((t) => t.status)).toEqual(['done', 'done']);
    expect(calls).toHaveLength(0);
  });
});

describe('finishTurn', () => {
  it('ends an answer the server cancelled as stopped, with the reason, and a finished one as done', () => {
    const base: Turn = { id: 2, role: 'assistant', content: 'The waves', status: 'streaming' };
    const cancelled = { ...base };
    finishTurn(cancelled, { finishReason: 'cancelled', usage: { promptTokens: 5, completionTokens: 17 } });
    expect(cancelled).toMatchObject({ status: 'stopped', stopReason: CANCELLED_REASON, completionTokens: 17 });
    const done = { ...base };
    finishTurn(done, { finishReason: 'length', usage: null });
    expect(done).toMatchObject({ status: 'done', finishReason: 'length' });
    expect(done.stopReason).toBeUndefined();
  });
});
