import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { TokenChunk } from '../api/operations';
import type { Handlers } from '../api/ws';
import { memoryStorage, tokenChunk } from '../testing';
import { createConversation } from './conversation';
import { CONTINUE_PROMPT, stopTurn, type Turn } from './turns';

// the websocket is the browser flows' business (ui/e2e/chat_continue.mjs, chat_stop.mjs); here each subscription is
// recorded
const calls: { variables: Record<string, unknown>; handlers: Handlers<{ inferStream: TokenChunk }> }[] = [];
vi.mock('../api/ws', () => ({
  subscribe: (_query: string, variables: Record<string, unknown>, handlers: Handlers<{ inferStream: TokenChunk }>) => {
    calls.push({ variables, handlers });
    return () => {};
  },
}));

const KEY = 'switchboard.chat.v1';

function storage(state: object): Storage {
  return memoryStorage({ [KEY]: JSON.stringify(state) });
}

const chunk = tokenChunk;

const cutOff = (): Turn[] => [
  { id: 1, role: 'user', content: 'Tell a story', status: 'done' },
  { id: 2, role: 'assistant', content: 'Once upon a', status: 'done', finishReason: 'length', completionTokens: 3 },
];

beforeEach(() => {
  calls.length = 0;
});

describe('a stopped answer', () => {
  it('keeps its token count and speed', () => {
    const turn: Turn = { id: 2, role: 'assistant', content: 'Once upon', status: 'streaming', firstTokenAt: 1000, receivedTokens: 4 };
    stopTurn(turn);
    expect(turn.status).toBe('stopped');
    expect(turn.completionTokens).toBe(4);
    expect(turn.doneAt).toBeGreaterThanOrEqual(1000);
  });

  it('counts the tokens that streamed in before Stop', () => {
    const chat = createConversation(storage({ turns: [], webSearch: false, adapter: null }));
    chat.send('Tell a story');
    calls[0].handlers.next({ inferStream: chunk({ token: 'Once', seq: 0 }) });
    calls[0].handlers.next({ inferStream: chunk({ token: ' upon', seq: 1 }) });
    chat.stop();
    const answer = chat.state.turns[1];
    expect(answer.status).toBe('stopped');
    expect(answer.completionTokens).toBe(2);
    expect(answer.doneAt).toBeDefined();
  });
});

describe('Continue', () => {
  it('sends the cut-off answer as the last message and adds the rest to it', () => {
    const chat = createConversation(
      storage({ turns: cutOff(), webSearch: false, adapter: null, settings: { maxNewTokens: 8, temperature: null, systemPrompt: 'Be kind.' } }),
    );
    expect(chat.continueAnswer(2)).toBe(true);
    expect(calls[0].variables).toMatchObject({
      prompt: CONTINUE_PROMPT,
      maxNewTokens: 8,
      messages: [
        { role: 'SYSTEM', content: 'Be kind.' },
        { role: 'USER', content: 'Tell a story' },
        { role: 'ASSISTANT', content: 'Once upon a' },
      ],
    });
    const { handlers } = calls[0];
    handlers.next({ inferStream: chunk({ token: 'time', seq: 0 }) });
    handlers.next({ inferStream: chunk({ token: ', a dragon', seq: 1 }) });
    handlers.next({ inferStream: chunk({ done: true, seq: 2, finishReason: 'stop', usage: { promptTokens: 9, completionTokens: 2 } }) });
    handlers.complete();
    const answer = chat.state.turns[1];
    expect(chat.state.turns).toHaveLength(2);
    expect(answer.content).toBe('Once upon a time, a dragon');
    expect(answer.status).toBe('done');
    expect(answer.finishReason).toBe('stop');
    expect(answer.completionTokens).toBe(5);
  });

  it('is only for the last answer, cut off at the token limit, with nothing streaming', () => {
    const finished = cutOff();
    finished[1].finishReason = 'stop';
    expect(createConversation(storage({ turns: finished, webSearch: false, adapter: null })).continueAnswer(2)).toBe(false);
    expect(createConversation(storage({ turns: cutOff(), webSearch: false, adapter: null })).continueAnswer(1)).toBe(false);
    expect(calls).toHaveLength(0);
  });
});
