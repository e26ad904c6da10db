import { afterEach, describe, expect, it, vi } from 'vitest';
import { addCodeCopyButtons, retryHelps } from './actions';
import { renderMarkdown } from './markdown';

describe('retryHelps', () => {
  it('offers Retry except where the same request can only fail again', () => {
    expect(retryHelps(undefined)).toBe(true);
    expect(retryHelps('UNAVAILABLE')).toBe(true);
    expect(retryHelps('ADAPTER_MISSING')).toBe(true);
    expect(retryHelps('CONTEXT_OVERFLOW')).toBe(false);
    expect(retryHelps('BAD_REQUEST')).toBe(false);
  });
});

describe('addCodeCopyButtons', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('adds one "Copy code" button per block that copies the code as written', async () => {
    const writeText = vi.fn(async (_text: string) => {});
    vi.stubGlobal('navigator', { clipboard: { writeText } });
    const root = document.createElement('div');
    root.innerHTML = renderMarkdown('```js\nconst a = "<b>";\n```\n\ntext\n\n```\nplain\n```');
    addCodeCopyButtons(root);
    addCodeCopyButtons(root); // again, as after each render: still one each
    const buttons = [...root.querySelectorAll('button')];
    expect(buttons.map((b) => b.textContent)).toEqual(['Copy code', 'Copy code']);
    buttons[0].click();
    await vi.waitFor(() => expect(buttons[0].textContent).toBe('Copied'));
    expect(writeText).toHaveBeenCalledWith('const a = "<b>";');
  });

  it('says so when the browser refuses the clipboard', async () => {
    vi.stubGlobal('navigator', { clipboard: { writeText: () => Promise.reject(new Error('denied')) } });
    const root = document.createElement('div');
    root.innerHTML = renderMarkdown('```\nx\n```');
    addCodeCopyButtons(root);
    root.querySelector('button')!.click();
    await vi.waitFor(() => expect(root.querySelector('button')!.textContent).toBe("Couldn't copy"));
  });
});
