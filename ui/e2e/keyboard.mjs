// Keyboard: the message box has the keyboard when the Chat opens and after a send with the Send button; "Skip to
// content" lands in it, past six conversations; Esc or Cancel in the edit box returns to the question's
// pencil. Seeded from storage; the one answer asked for is stopped at once.
import { assert, flow, openApp, screenshot, waitFor } from './lib.mjs';

const IDS = ['k1', 'k2', 'k3', 'k4', 'k5', 'k6'];
const STORAGE = {
  'switchboard.chats.v1': JSON.stringify({
    open: 'k1',
    items: IDS.map((id, i) => ({ id, title: `Question ${i + 1}`, named: false, usedAt: 100 - i })),
  }),
  ...Object.fromEntries(
    IDS.map((id, i) => [
      `switchboard.chat.v1.${id}`,
      JSON.stringify({
        turns: [
          { id: 1, role: 'user', content: `Question ${i + 1}`, status: 'done' },
          { id: 2, role: 'assistant', content: 'An answer.', status: 'done' },
        ],
        webSearch: false,
        adapter: null,
      }),
    ]),
  ),
};

const focused = (page) =>
  page.evaluate(() => {
    const el = document.activeElement;
    return el?.id || el?.getAttribute('aria-label') || el?.textContent?.trim() || el?.tagName;
  });

await flow('keyboard', async () => {
  const { page, consoleErrors, done } = await openApp('#/chat', { width: 1280, height: 800, storage: STORAGE });
  await page.getByTestId('active-model').filter({ hasText: 'SmolLM2' }).waitFor({ timeout: 30000 });
  assert.equal(await page.locator('[data-testid="conversation"]').count(), 6);

  // on load: ready to type
  assert.equal(await focused(page), 'chat-input', 'the message box is not focused on load');

  // the skip link (the first Tab from the top of a page, tests/ui/test_layout.py) goes straight to the message box,
  // past the six conversations
  await page.getByRole('link', { name: 'Skip to content' }).focus();
  await page.keyboard.press('Enter');
  assert.equal(await focused(page), 'chat-input', 'the skip link does not land in the message box');
  assert.ok(page.url().endsWith('#/chat'), `the skip link navigated to ${page.url()}`);

  // Esc in the edit box: back on the question's pencil; Cancel too
  const question = page.getByTestId('turn-user').first();
  await question.getByRole('button', { name: 'Edit' }).focus();
  await page.keyboard.press('Enter');
  const editor = page.getByRole('textbox', { name: 'Edit message' });
  await waitFor(async () => (await focused(page)) === 'Edit message', { what: 'the edit box focused' });
  await screenshot(page, 'keyboard-edit');
  await page.keyboard.press('Escape');
  await editor.waitFor({ state: 'detached' });
  assert.equal(await focused(page), 'Edit', 'Esc in the edit box dropped the focus');
  assert.ok(await question.getByRole('button', { name: 'Edit' }).evaluate((el) => el === document.activeElement));
  await page.keyboard.press('Enter');
  await waitFor(async () => (await focused(page)) === 'Edit message', { what: 'the edit box focused again' });
  await page.getByRole('button', { name: 'Cancel' }).click();
  assert.ok(await question.getByRole('button', { name: 'Edit' }).evaluate((el) => el === document.activeElement), 'Cancel dropped the focus');

  // a send with the Send button (which then turns into Stop): the keyboard stays in the message box
  const input = page.getByLabel('Message');
  await input.fill('Say one word.');
  await page.getByRole('button', { name: 'Send' }).click();
  await page.getByTestId('turn-assistant').nth(1).waitFor();
  assert.equal(await focused(page), 'chat-input', 'the focus left the message box after a send');
  await page.keyboard.press('Escape'); // stops the answer from the message box
  await waitFor(async () => (await page.getByTestId('turn-assistant').nth(1).getAttribute('data-status')) !== 'streaming', {
    what: 'the answer stopped',
  });
  assert.equal(await focused(page), 'chat-input');
  await screenshot(page, 'keyboard-after-send');
  assert.deepEqual(consoleErrors, []);
  await done();
  return { conversations: 6 };
});
