/** Focus a form field so that it and its label are in view below the app's header, sticky or not. */

const GAP_PX = 8;

/** The nearest ancestor of `el` that scrolls vertically; the page's scroller when none does. */
function scroller(el: HTMLElement): Element | null {
  for (let node = el.parentElement; node; node = node.parentElement) {
    const { overflowY } = getComputedStyle(node);
    if ((overflowY === 'auto' || overflowY === 'scroll') && node.scrollHeight > node.clientHeight) return node;
  }
  return document.scrollingElement;
}

/** Focus `el`, scroll it into view, then further down by as much as its field (label included) would sit under
 * `header` (the app's top bar by default). */
export function focusField(el: HTMLElement, header: Element | null = document.querySelector('.topbar')): void {
  el.focus({ preventScroll: true });
  reveal(el, el.closest('.field') ?? el, header);
}

/** Scroll `el` into view, then further down by as much as `top` (el itself, or what above it must show too) would
 * sit under `header`. */
export function reveal(el: HTMLElement, top: Element = el, header: Element | null = document.querySelector('.topbar')): void {
  el.scrollIntoView?.({ block: 'nearest' });
  const edge = top.getBoundingClientRect().top;
  const below = (header?.getBoundingClientRect().bottom ?? 0) + GAP_PX;
  if (edge < below) scroller(el)?.scrollBy?.({ top: edge - below });
}
