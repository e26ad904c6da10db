/** What a message's buttons do outside the conversation: copy to the clipboard, "Copy code" on code blocks,
 * and whether Retry can help after an error. */

/** Error codes an identical request meets again: Retry is not offered for them (the gateway's extensions.code). */
export const NO_RETRY_CODES: ReadonlySet<string> = new Set(['CONTEXT_OVERFLOW', 'BAD_REQUEST']);

/** True unless the error's code says the same request can only fail again. */
export function retryHelps(code: string | undefined): boolean {
  return !code || !NO_RETRY_CODES.has(code);
}

/** Put `text` on the clipboard; false where the browser refuses (no permission, not a secure page). */
export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

/** How long "Copied" shows on a button before it reads as before. */
export const COPIED_MS = 1500;

/** A "Copy code" button in the header of each code block under `root` that has none yet (the Markdown is
 * sanitized HTML without buttons: they are added here, as DOM). */
export function addCodeCopyButtons(root: HTMLElement): void {
  for (const block of root.querySelectorAll<HTMLElement>('.code-block')) {
    const head = block.querySelector('.code-head');
    if (!head || head.querySelector('button')) continue;
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'code-copy';
    button.textContent = 'Copy code';
    button.addEventListener('click', () => {
      const code = block.querySelector('pre code')?.textContent ?? '';
      void copyText(code.replace(/\n$/, '')).then((ok) => {
        button.textContent = ok ? 'Copied' : "Couldn't copy";
        setTimeout(() => (button.textContent = 'Copy code'), COPIED_MS);
      });
    });
    head.append(button);
  }
}
