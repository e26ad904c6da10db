import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../api/errors';
import type { TokenChunk } from '../api/operations';
import type { Handlers } from '../api/ws';
import { memoryStorage, tokenChunk } from '../testing';
import { createConversation } from './conversation';
import type { Turn } from './turns';

// the websocket is the browser flows' business (tests/ui/test_chat_actions.py); here each subscription is recorded
const calls: { variables: Record<string, unknown>; handlers: Handlers<{ inferStream: TokenChunk }> }[] = [];
vi.mock('../api/ws', () => ({
  subscribe: (_query: string, variables: Record<string, unknown>, handlers: Handlers<{ inferStream: TokenChunk }>) => {
    calls.push({ variables, handlers });
    return () => {};
  },
}));

const KEY = 'switchboard.chat.v1';
const turn = (id: number, role: Turn['role'], content: string): Turn => ({ id, role, content, status: 'done' });

/** A fake Storage holding a conversation of `turns`. */
function storage(turns: Turn[]): Storage {
  return memoryStorage({ [KEY]: JSON.stringify({ turns, webSearch: false, adapter: null }) });
}

const chunk = tokenChunk;

const twoQuestions = () => [
  turn(1, 'user', 'Hi'),
  turn(2, 'assistant', 'Hello!'),
  turn(3, 'user', 'Capital of France?'),
  turn(4, 'assistant', 'Paris.'),
];

beforeEach(() => {
  calls.length = 0;
});

describe('regenerate', () => {
  it('asks the last question again with the same history, replacing its answer', () => {
    const chat = createConversation(storage(twoQuestions()));
    expect(chat.regenerate(4)).toBe(true);
    expect(chat.state.turns.map((t) => [t.role, t.content, t.status])).toEqual([
      ['user', 'Hi', 'done'],
      ['assistant', 'Hello!', 'done'],
      ['user', 'Capital of France?', 'done'],
      ['assistant', '', 'streaming'],
    ]);
    expect(calls[0].variables.prompt).toBe('Capital of France?');
    expect(calls[0].variables.messages).toEqual([
      { role: 'USER', content: 'Hi' },
      { role: 'ASSISTANT', content: 'Hello!' },
    ]);
  });

  it('refuses an answer that is not the last, and anything while an answer streams', () => {
    const chat = createConversation(storage(twoQuestions()));
    expect(chat.regenerate(2)).toBe(false);
    expect(chat.regenerate(3)).toBe(false);
    expect(calls).toHaveLength(0);
    expect(chat.regenerate(4)).toBe(true);
    const streaming = chat.state.turns.at(-1)!.id;
    expect(chat.regenerate(streaming)).toBe(false);
    expect(chat.edit(1, 'Hello')).toBe(false);
    expect(calls).toHaveLength(1);
  });
});

describe('edit', () => {
  it('replaces the question and drops every turn after it', () => {
    const chat = createConversation(storage(twoQuestions()));
    expect(chat.edit(1, '  Good morning  ')).toBe(true);
    expect(chat.state.turns.map((t) => [t.role, t.content])).toEqual([
      ['user', 'Good morning'],
      ['assistant', ''],
    ]);
    expect(calls[0].variables.prompt).toBe('Good morning');
    expect(calls[0].variables.messages).toBeNull();
  });

  it('keeps the turns before the edited question as history', () => {
    const chat = createConversation(storage(twoQuestions()));
    expect(chat.edit(3, 'Capital of Italy?')).toBe(true);
    expect(chat.state.turns.map((t) => t.content)).toEqual(['Hi', 'Hello!', 'Capital of Italy?', '']);
    expect(calls[0].variables.messages).toEqual([
      { role: 'USER', content: 'Hi' },
      { role: 'ASSISTANT', content: 'Hello!' },
    ]);
  });

  it('leaves the conversation alone for empty text, an answer or an unknown id', () => {
    const store = storage(twoQuestions());
    const chat = createConversation(store);
    expect(chat.edit(1, '   ')).toBe(false);
    expect(chat.edit(2, 'text')).toBe(false);
    expect(chat.edit(99, 'text')).toBe(false);
    expect(chat.state.turns).toHaveLength(4);
    expect(JSON.parse(store.getItem(KEY)!).turns).toHaveLength(4);
    expect(calls).toHaveLength(0);
  });
});

describe('stages, figures and error codes recorded by send', () => {
  it('shows the stage until the first token, takes sources from the stage event, and times the answer', () => {
    const chat = createConversation(storage([]));
    const now = vi.spyOn(Date, 'now');
    now.mockReturnValue(1000);
    chat.setWebSearch(true);
    chat.send('News?');
    const answer = () => chat.state.turns[1];
    const { next } = calls[0].handlers;
    expect(answer().stage).toBe('searching'); // said at once, before the server's first event
    next({ inferStream: chunk({ stage: 'SEARCHING', seq: -1 }) });
    expect(answer().stage).toBe('searching');
    const sources = [{ title: 'A', url: 'https://a.example' }];
    next({ inferStream: chunk({ stage: 'GENERATING', seq: -1, sources, searchNotice: 'offline' }) });
    expect(answer()).toMatchObject({ stage: 'generating', sources, notice: 'offline', content: '' });
    now.mockReturnValue(1400);
    next({ inferStream: chunk({ token: 'Hel', seq: 0 }) });
    expect(answer().stage).toBeUndefined();
    now.mockReturnValue(3400);
    next({ inferStream: chunk({ token: 'lo', seq: 1 }) });
    next({ inferStream: chunk({ seq: 2, done: true, finishReason: 'stop', usage: { promptTokens: 3, completionTokens: 25 } }) });
    expect(answer()).toMatchObject({ content: 'Hello', status: 'done', sentAt: 1000, firstTokenAt: 1400, doneAt: 3400, completionTokens: 25 });
    now.mockRestore();
  });

  it('keeps the error code of a failed answer', () => {
    const chat = createConversation(storage([]));
    chat.send('x'.repeat(10));
    calls[0].handlers.error(new ApiError('the prompt is too long for the model', 'CONTEXT_OVERFLOW'));
    expect(chat.state.turns[1]).toMatchObject({ status: 'error', errorCode: 'CONTEXT_OVERFLOW' });
  });
});
