// The conversations sidebar: two long titles that start alike show whole (up to two lines) at 1280 px, and a
// conversation whose answer streams while another is open says "answering…" (visibly, and in its button's name),
// at 1280 px and in the drawer at 390 px; the sign goes when the answer stops.
import { startAnswer } from './answers.mjs';
import { assert, flow, openApp, screenshot, waitFor } from './lib.mjs';

const DRAGON = 'Tell me a long story about a dragon and bread';
const KNIGHT = 'Tell me a long story about a dragon and ships';
const seeded = (q) =>
  JSON.stringify({ turns: [{ id: 1, role: 'user', content: q, status: 'done' }], webSearch: false, adapter: null });
const STORAGE = {
  'switchboard.chats.v1': JSON.stringify({
    open: 's1',
    items: [
      { id: 's1', title: DRAGON, named: false, usedAt: 3 },
      { id: 's2', title: KNIGHT, named: false, usedAt: 2 },
    ],
  }),
  'switchboard.chat.v1.s1': seeded(DRAGON),
  'switchboard.chat.v1.s2': seeded(KNIGHT),
};

/** The titles in the list whose text does not show whole (cut at the side or below). */
const clipped = (page) =>
  page.evaluate(() =>
    [...document.querySelectorAll('.conv-open')].flatMap((button) =>
      [button, ...button.querySelectorAll('*')]
        .filter((el) => el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1)
        .map(() => button.getAttribute('title')),
    ),
  );

await flow('sidebar', async () => {
  const { page, consoleErrors, done } = await openApp('#/chat', { width: 1280, height: 800, storage: STORAGE });
  await page.getByTestId('active-model').filter({ hasText: 'SmolLM2' }).waitFor({ timeout: 30000 });
  await page.locator('.conv-open', { hasText: KNIGHT }).waitFor();
  await screenshot(page, 'sidebar-long-titles');
  assert.deepEqual(await clipped(page), [], 'titles cut at 1280 px');

  // an answer streaming in a new conversation while another is open: its row says so
  await page.getByRole('button', { name: 'New chat' }).click();
  const answer = await startAnswer(page, 'Write a very long story about a dragon who learns to bake bread.', 3, 60000);
  const row = page.locator('[data-testid="conversation"]').first();
  await page.locator('.conv-open', { hasText: KNIGHT }).click();
  const sign = row.getByTestId('answering');
  await sign.waitFor({ state: 'visible', timeout: 5000 });
  const name = await row.locator('.conv-open').evaluate((el) => el.textContent);
  assert.match(name, /answering…/, `the streaming conversation's button is named “${name}”`);
  // only that one
  assert.equal(await page.getByTestId('answering').count(), 1);
  await screenshot(page, 'sidebar-answering');

  // in the drawer at 390 px too
  await page.setViewportSize({ width: 390, height: 844 });
  await page.getByRole('button', { name: 'Chats', exact: true }).click();
  await sign.waitFor({ state: 'visible', timeout: 5000 });
  await page.waitForTimeout(300); // the drawer slides in
  await screenshot(page, 'phone-sidebar-answering');
  await row.locator('.conv-open').click();
  await page.keyboard.press('Escape');
  await waitFor(async () => (await answer.getAttribute('data-status')) === 'stopped', { what: 'the answer to stop' });
  await waitFor(async () => (await page.getByTestId('answering').count()) === 0, { what: 'the sign to go' });
  assert.deepEqual(consoleErrors, []);
  await done();
  return { answering: name };
});
