import { describe, expect, it } from 'vitest';
import { history, type Turn } from './conversation';

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
