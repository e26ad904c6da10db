import { afterEach, describe, expect, it, vi } from 'vitest';
import { focusField } from './reveal';

afterEach(() => {
  document.body.innerHTML = '';
});

const rect = (top: number, bottom: number) => ({ top, bottom, left: 0, right: 0, width: 0, height: bottom - top }) as DOMRect;

function page(fieldTop: number) {
  document.body.innerHTML = `
    <header class="topbar"></header>
    <main style="overflow-y: auto"><form><div class="field"><label for="f">Name</label><input id="f"></div></form></main>`;
  const header = document.querySelector('header')!;
  const main = document.querySelector('main')!;
  const field = document.querySelector('.field')!;
  const input = document.querySelector('input')!;
  Object.defineProperty(main, 'scrollHeight', { value: 2000 });
  Object.defineProperty(main, 'clientHeight', { value: 500 });
  header.getBoundingClientRect = () => rect(0, 60);
  field.getBoundingClientRect = () => rect(fieldTop, fieldTop + 50);
  const scrollBy = vi.fn();
  main.scrollBy = scrollBy as unknown as typeof main.scrollBy;
  return { input, scrollBy };
}

describe('focusField', () => {
  it('focuses the field and scrolls its label out from under the header', () => {
    const { input, scrollBy } = page(20);
    focusField(input);
    expect(document.activeElement).toBe(input);
    expect(scrollBy).toHaveBeenCalledWith({ top: 20 - 68 }); // 8 px below the header's bottom
  });

  it('leaves a field below the header where it is', () => {
    const { input, scrollBy } = page(200);
    focusField(input);
    expect(document.activeElement).toBe(input);
    expect(scrollBy).not.toHaveBeenCalled();
  });
});
