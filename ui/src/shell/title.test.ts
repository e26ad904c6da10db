import { describe, expect, it } from 'vitest';
import { pageTitle } from './title';

describe('pageTitle', () => {
  it('names the open conversation on the Chat', () => {
    expect(pageTitle('chat', 'What is the capital of France?')).toBe('Chat · What is the capital of France? — Switchboard');
  });

  it('calls a conversation without a question yet a new chat', () => {
    expect(pageTitle('chat', '')).toBe('Chat · New chat — Switchboard');
    expect(pageTitle('chat')).toBe('Chat · New chat — Switchboard');
  });

  it('names the other sections', () => {
    expect(pageTitle('fine-tune')).toBe('Fine-tune — Switchboard');
    expect(pageTitle('explorer')).toBe('GraphQL Explorer — Switchboard');
  });
});
