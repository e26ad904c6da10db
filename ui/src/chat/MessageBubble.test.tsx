import { cleanup, fireEvent, render, screen } from '@solidjs/testing-library';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Turn } from './turns';
import { MessageBubble } from './MessageBubble';

const answer = (over: Partial<Turn>): Turn => ({ id: 2, role: 'assistant', content: '', status: 'done', ...over });
const question = (content: string): Turn => ({ id: 1, role: 'user', content, status: 'done' });

afterEach(cleanup);

describe('an answer before its first token', () => {
  it('says it is searching the web, then thinking, with the sources already shown', () => {
    const { unmount } = render(() => <MessageBubble turn={answer({ status: 'streaming', stage: 'searching' })} />);
    expect(screen.getByTestId('stage').textContent).toBe('Searching the web…');
    unmount();
    const sources = [{ title: 'Paris - Wikipedia', url: 'https://en.wikipedia.org/wiki/Paris' }];
    render(() => <MessageBubble turn={answer({ status: 'streaming', stage: 'generating', sources })} />);
    expect(screen.getByTestId('stage').textContent).toBe('Thinking');
    expect(screen.getByRole('link', { name: 'Paris - Wikipedia' })).toBeInTheDocument();
  });
});

describe('Retry', () => {
  it('is offered where asking again can help, and not on a context overflow or a bad request', () => {
    const onRetry = vi.fn();
    for (const [code, offered] of [['UNAVAILABLE', true], ['CONTEXT_OVERFLOW', false], ['BAD_REQUEST', false]] as const) {
      const { unmount } = render(() => (
        <MessageBubble turn={answer({ status: 'error', error: 'no', errorCode: code })} onRetry={onRetry} />
      ));
      expect(screen.queryByRole('button', { name: 'Retry' }) !== null).toBe(offered);
      unmount();
    }
  });
});

describe('actions', () => {
  it('an answer has Copy, the last one Regenerate; none while it streams', () => {
    const onRegenerate = vi.fn();
    const { unmount } = render(() => (
      <MessageBubble turn={answer({ content: 'Paris.', sentAt: 0, firstTokenAt: 400, doneAt: 2400, completionTokens: 20 })} onRegenerate={onRegenerate} />
    ));
    expect(screen.getByTestId('figures').textContent).toBe('0.4 s to first token · 10.0 tokens/s');
    fireEvent.click(screen.getByRole('button', { name: 'Regenerate' }));
    expect(onRegenerate).toHaveBeenCalledOnce();
    expect(screen.getByRole('button', { name: 'Copy' })).toBeInTheDocument();
    unmount();
    render(() => <MessageBubble turn={answer({ content: 'Par', status: 'streaming' })} onRegenerate={onRegenerate} />);
    expect(screen.queryByRole('button', { name: 'Copy' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Regenerate' })).toBeNull();
  });

  it('Edit turns the question into a text box: Esc abandons, Save resends the new text', () => {
    const onEdit = vi.fn(() => true);
    render(() => <MessageBubble turn={question('Capital of France?')} onEdit={onEdit} />);
    fireEvent.click(screen.getByRole('button', { name: 'Edit' }));
    const box = screen.getByRole('textbox', { name: 'Edit message' }) as HTMLTextAreaElement;
    expect(box.value).toBe('Capital of France?');
    fireEvent.input(box, { target: { value: 'Capital of Spain?' } });
    fireEvent.keyDown(box, { key: 'Escape' });
    expect(screen.queryByRole('textbox', { name: 'Edit message' })).toBeNull();
    expect(onEdit).not.toHaveBeenCalled();
    fireEvent.click(screen.getByRole('button', { name: 'Edit' }));
    fireEvent.input(screen.getByRole('textbox', { name: 'Edit message' }), { target: { value: 'Capital of Italy?' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    expect(onEdit).toHaveBeenCalledWith('Capital of Italy?');
    expect(screen.queryByRole('textbox', { name: 'Edit message' })).toBeNull();
  });

  it('Esc and Cancel give the keyboard back to the question’s pencil', () => {
    render(() => <MessageBubble turn={question('Capital of France?')} onEdit={() => true} />);
    fireEvent.click(screen.getByRole('button', { name: 'Edit' }));
    fireEvent.keyDown(screen.getByRole('textbox', { name: 'Edit message' }), { key: 'Escape' });
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Edit' }));
    fireEvent.click(screen.getByRole('button', { name: 'Edit' }));
    fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Edit' }));
  });

  it('Edit cannot start while an answer streams', () => {
    render(() => <MessageBubble turn={question('Hi')} busy onEdit={() => true} />);
    expect(screen.getByRole('button', { name: 'Edit' })).toBeDisabled();
  });
});

describe('a long message', () => {
  it('shows collapsed until Show more', () => {
    render(() => <MessageBubble turn={question('word '.repeat(12000))} />);
    const more = screen.getByRole('button', { name: 'Show more' });
    expect(screen.getByTestId('collapsible')).toHaveClass('collapsed');
    fireEvent.click(more);
    expect(screen.getByTestId('collapsible')).not.toHaveClass('collapsed');
    expect(screen.getByRole('button', { name: 'Show less' })).toHaveAttribute('aria-expanded', 'true');
  });

  it('a short one shows whole, with no button', () => {
    render(() => <MessageBubble turn={question('short')} />);
    expect(screen.queryByRole('button', { name: 'Show more' })).toBeNull();
  });
});
