import { describe, expect, it } from 'vitest';
import { renderMarkdown } from './markdown';

describe('renderMarkdown', () => {
  it('renders code blocks and lists', () => {
    const html = renderMarkdown('Steps:\n\n- one\n- two\n\n```python\nprint("hi")\n```');
    const div = document.createElement('div');
    div.innerHTML = html;
    expect(div.querySelectorAll('li')).toHaveLength(2);
    expect(div.querySelector('pre code')?.textContent).toBe('print("hi")\n');
  });

  it('shows raw HTML as text instead of running it', () => {
    const div = document.createElement('div');
    div.innerHTML = renderMarkdown('<img src=x onerror="alert(1)"><script>alert(2)</script><b>bold</b>');
    expect(div.querySelector('img')).toBeNull();
    expect(div.querySelector('script')).toBeNull();
    expect(div.querySelector('b')).toBeNull();
    expect(div.textContent).toContain('<img src=x onerror="alert(1)">');
  });

  it('drops javascript: links and opens others in a new tab', () => {
    const div = document.createElement('div');
    div.innerHTML = renderMarkdown('[bad](javascript:alert(1)) and [good](https://example.org)');
    const links = [...div.querySelectorAll('a')];
    expect(links.map((a) => a.getAttribute('href'))).not.toContain('javascript:alert(1)');
    const good = links.find((a) => a.getAttribute('href') === 'https://example.org');
    expect(good?.getAttribute('target')).toBe('_blank');
    expect(good?.getAttribute('rel')).toContain('noopener');
  });

  it('copes with a half-streamed code fence', () => {
    const div = document.createElement('div');
    div.innerHTML = renderMarkdown('Here:\n```js\nconst a = 1;');
    expect(div.querySelector('pre code')?.textContent).toContain('const a = 1;');
  });

  it('labels a code block with its language and highlights it', () => {
    const div = document.createElement('div');
    div.innerHTML = renderMarkdown('```python\ndef f(x):\n    return "hi"\n```');
    expect(div.querySelector('.code-block .code-lang')?.textContent).toBe('python');
    const code = div.querySelector('pre code');
    expect(code?.classList.contains('language-python')).toBe(true);
    expect(code?.querySelector('.hljs-keyword')?.textContent).toBe('def');
    expect(code?.querySelector('.hljs-string')?.textContent).toBe('"hi"');
    expect(code?.textContent).toBe('def f(x):\n    return "hi"\n');
  });

  it('shows an unknown or missing language as plain, escaped text', () => {
    const div = document.createElement('div');
    div.innerHTML = renderMarkdown('```klingon\n<b>x</b>\n```\n\n```\nplain\n```');
    const labels = [...div.querySelectorAll('.code-lang')].map((el) => el.textContent);
    expect(labels).toEqual(['klingon', 'text']);
    expect(div.querySelector('pre b')).toBeNull();
    expect(div.querySelector('pre code')?.textContent).toBe('<b>x</b>\n');
    expect(div.querySelector('pre code span')).toBeNull();
  });

  it('keeps a hostile fence language out of the markup', () => {
    const div = document.createElement('div');
    div.innerHTML = renderMarkdown('```"><img src=x onerror=alert(1)>\ncode\n```');
    expect(div.querySelector('img')).toBeNull();
    expect(div.querySelector('[onerror]')).toBeNull();
    expect(div.querySelector('.code-lang')?.textContent).not.toContain('<');
  });

  it('sanitizes what highlighting produced too: no script in a highlighted HTML block', () => {
    const div = document.createElement('div');
    div.innerHTML = renderMarkdown('```html\n<script>alert(1)</script>\n```');
    expect(div.querySelector('script')).toBeNull();
    expect(div.querySelector('pre code')?.textContent).toBe('<script>alert(1)</script>\n');
    expect(div.querySelectorAll('pre code span').length).toBeGreaterThan(0);
  });

  it('knows the usual short names of a language', () => {
    const div = document.createElement('div');
    div.innerHTML = renderMarkdown('```js\nconst a = 1;\n```\n\n```sh\necho hi\n```');
    expect([...div.querySelectorAll('.code-lang')].map((el) => el.textContent)).toEqual(['js', 'sh']);
    expect(div.querySelectorAll('pre code')[0].querySelector('.hljs-keyword')?.textContent).toBe('const');
    expect(div.querySelectorAll('pre code')[1].querySelector('span')).not.toBeNull();
  });
});
