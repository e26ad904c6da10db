import { describe, expect, it } from 'vitest';
import { ApiError } from '../api/errors';
import { createConversation } from './conversation';
import { answerError, BASE_MODEL, history, modelChoice, modelLabel, type Turn } from './turns';

const turn = (id: number, role: Turn['role'], content: string, status: Turn['status'] = 'done'): Turn => ({
  id,
  role,
  content,
  status,
});

describe('history', () => {
  it('sends finished turns oldest first with GraphQL roles', () => {
    expect(history([turn(1, 'user', 'Hi'), turn(2, 'assistant', 'Hello!')])).toEqual([
      { role: 'USER', content: 'Hi' },
      { role: 'ASSISTANT', content: 'Hello!' },
    ]);
  });

  it('keeps a stopped answer as far as it got', () => {
    expect(history([turn(1, 'user', 'Tell a story'), turn(2, 'assistant', 'Once upon', 'stopped')])).toEqual([
      { role: 'USER', content: 'Tell a story' },
      { role: 'ASSISTANT', content: 'Once upon' },
    ]);
  });

  it('drops a failed answer together with its question', () => {
    const turns = [
      turn(1, 'user', 'Hi'),
      turn(2, 'assistant', 'Hello!'),
      turn(3, 'user', 'Use adapter x'),
      { ...turn(4, 'assistant', '', 'error'), error: 'adapter missing' },
    ];
    expect(history(turns)).toEqual([
      { role: 'USER', content: 'Hi' },
      { role: 'ASSISTANT', content: 'Hello!' },
    ]);
  });

  it('is empty for a new conversation', () => {
    expect(history([])).toEqual([]);
  });
});

describe('modelChoice', () => {
  it('maps the picker to inferStream arguments', () => {
    expect(modelChoice(null)).toEqual({ adapter: null, baseModel: false });
    expect(modelChoice('pirate')).toEqual({ adapter: 'pirate', baseModel: false });
    expect(modelChoice(BASE_MODEL)).toEqual({ adapter: null, baseModel: true });
  });
});

describe('two tabs on one conversation', () => {
  const KEY = 'switchboard.chat.v1';
  const saved = (turns: Turn[], adapter: string | null = null) => JSON.stringify({ turns, webSearch: false, adapter });

  it('a tab takes the conversation another tab saved, and leaving writes nothing it did not change', () => {
    localStorage.clear();
    localStorage.setItem(KEY, saved([]));
    const stale = createConversation(localStorage);
    expect(stale.state.turns).toHaveLength(0);

    // the other tab finished a question and saved it
    const newer = saved([turn(1, 'user', 'Hi'), turn(2, 'assistant', 'Hello!')], 'pirate');
    localStorage.setItem(KEY, newer);
    window.dispatchEvent(new StorageEvent('storage', { key: KEY, newValue: newer, storageArea: localStorage }));
    expect(stale.state.turns.map((t) => t.content)).toEqual(['Hi', 'Hello!']);
    expect(stale.state.adapter).toBe('pirate');

    // reloading or closing the (formerly) stale tab does not overwrite what is stored
    localStorage.setItem(KEY, saved([turn(1, 'user', 'Hi'), turn(2, 'assistant', 'Hello!'), turn(3, 'user', 'More')]));
    window.dispatchEvent(new Event('pagehide'));
    expect(JSON.parse(localStorage.getItem(KEY) ?? '{}').turns).toHaveLength(3);

    // a change made here is saved at once, on top of what it took
    stale.setWebSearch(true);
    const stored = JSON.parse(localStorage.getItem(KEY) ?? '{}');
    expect(stored.webSearch).toBe(true);
    expect(stored.turns).toHaveLength(2);
  });
});

describe('modelLabel', () => {
  it('names the model that answered', () => {
    expect(modelLabel(BASE_MODEL, 'pirate')).toBe('base model');
    expect(modelLabel('voice', 'pirate')).toBe('adapter voice');
    expect(modelLabel(null, 'pirate')).toBe('pirate');
    expect(modelLabel(null)).toBeUndefined();
  });
});

describe('answerError', () => {
  it('says in words that the chosen adapter was deleted, and where to pick another', () => {
    const gone = new ApiError("`adapter` names no saved adapter ('walk-run-1'); `adapters` lists them", 'ADAPTER_MISSING');
    expect(answerError(gone, 'walk-run-1')).toBe('walk-run-1 was deleted: pick another model under Answer with');
    expect(answerError(new ApiError('the model is busy', 'BUSY'), 'walk-run-1')).toBe('the model is busy');
  });
});
