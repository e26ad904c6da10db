import { describe, expect, it } from 'vitest';
import { BASE_MODEL, history, modelChoice, type Turn } from './conversation';

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
