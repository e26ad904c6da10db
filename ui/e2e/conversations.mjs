// Conversations: two conversations with one question each; switch, rename (Enter saves, Esc cancels), delete and
// Undo (it comes back whole), an answer that keeps streaming into its own conversation while another is shown,
// delete for good (gone after a reload), Clear and Undo, a reload keeps the list and the open one, the drawer at
// 390 px, and the single conversation from before the list migrates in.
import { ask, assert, flow, openApp, screenshot, waitFor } from './lib.mjs';

const FIRST = 'What is the capital of France?';
const SECOND = 'Name a colour.';

await flow('conversations', async () => {
  const { page, consoleErrors, done } = await openApp('#/chat');
  await page.getByTestId('active-model').filter({ hasText: 'SmolLM2' }).waitFor({ timeout: 30000 });
  const titles = () => page.locator('[data-testid="conversation"] .conv-open').allInnerTexts();
  const openTitle = () => page.locator('.conv-open[aria-current="page"]').innerText();
  const item = (title) => page.locator('.conv-open', { hasText: title });
  const shown = async () => ({
    questions: (await page.getByTestId('turn-user').allInnerTexts()).map((q) => q.replace(/^You:\s*/, '')),
    answers: await page.getByTestId('answer').allInnerTexts(),
  });
  const stored = (id) => page.evaluate((key) => localStorage.getItem(key), `switchboard.chat.v1.${id}`);
  const same = async (title, expected) =>
    waitFor(
      async () => {
        const now = JSON.stringify(await shown());
        if (now === JSON.stringify(expected)) return true;
        throw new Error(`shown ${now}, expected ${JSON.stringify(expected)}`);
      },
      { what: `the turns of “${title}”` },
    );

  // two conversations, one question each, titled by their question, the most recent first
  await ask(page, FIRST);
  const first = await shown();
  assert.equal(first.answers.length, 1);
  await waitFor(async () => (await titles()).join() === FIRST, { what: 'the first title' });
  await page.locator('.conv-new').click();
  await waitFor(async () => (await page.getByTestId('turn-user').count()) === 0, { what: 'an empty new chat' });
  await ask(page, SECOND);
  const second = await shown();
  await waitFor(async () => (await titles()).join('|') === `${SECOND}|${FIRST}`, { what: 'two titles, most recent first' });

  // switch between them
  await item(FIRST).click();
  await same(FIRST, first);
  assert.equal(await openTitle(), FIRST);
  await item(SECOND).click();
  await same(SECOND, second);
  await item(FIRST).click();
  await same(FIRST, first);

  // rename inline: Enter saves, Esc cancels
  await page.getByRole('button', { name: `Rename “${FIRST}”` }).click();
  const name = page.getByLabel('Conversation name');
  await name.fill('Geography');
  await name.press('Enter');
  await waitFor(async () => (await titles()).includes('Geography'), { what: 'the new name' });
  await page.getByRole('button', { name: 'Rename “Geography”' }).click();
  await name.fill('Not this');
  await name.press('Escape');
  await waitFor(async () => !(await name.count()), { what: 'the rename to end' });
  assert.deepEqual((await titles()).sort(), ['Geography', SECOND].sort());
  const renamedId = await page.locator('[data-testid="conversation"]', { hasText: 'Geography' }).getAttribute('data-id');

  // delete, Undo: it comes back whole, and open
  await page.getByRole('button', { name: 'Delete “Geography”' }).click();
  await waitFor(async () => (await titles()).join() === SECOND, { what: 'the delete' });
  assert.equal(await openTitle(), SECOND);
  await same(SECOND, second);
  assert.equal(await stored(renamedId), null);
  const toast = page.getByTestId('undo-toast');
  assert.match(await toast.innerText(), /Deleted “Geography”/);
  await toast.getByRole('button', { name: 'Undo' }).click();
  await waitFor(async () => (await titles()).length === 2, { what: 'the undone delete' });
  assert.equal(await openTitle(), 'Geography');
  await same('Geography', first);
  assert.equal(await toast.count(), 0);

  // an answer streaming in one conversation keeps streaming into it while another is shown
  const input = page.getByLabel('Message');
  await input.fill('And the capital of Italy?');
  await input.press('Enter');
  await waitFor(async () => (await page.getByTestId('turn-assistant').last().getAttribute('data-status')) === 'streaming', {
    what: 'the third answer to start',
  });
  await item(SECOND).click();
  await same(SECOND, second);
  const finished = await waitFor(
    async () => {
      const saved = JSON.parse((await stored(renamedId)) ?? 'null');
      const last = saved?.turns.at(-1);
      return last?.status === 'done' ? saved.turns : false;
    },
    { timeout: 90000, what: 'the answer in the conversation not shown' },
  );
  assert.equal(finished.length, 4);
  assert.ok(finished[3].content.trim(), 'the answer streamed while not shown is empty');
  await same(SECOND, second); // nothing mixed in
  await item('Geography').click();
  await same('Geography', {
    questions: [...first.questions, 'And the capital of Italy?'],
    answers: await waitFor(async () => {
      const answers = await page.getByTestId('answer').allInnerTexts();
      return answers.length === 2 ? answers : false;
    }),
  });
  assert.equal((await page.getByTestId('answer').allInnerTexts())[0], first.answers[0]);

  // the list works from the keyboard: Shift+Tab from Delete reaches Rename, then the conversation; Enter opens it
  await page.getByRole('button', { name: 'Delete “Name a colour.”' }).focus();
  await page.keyboard.press('Shift+Tab');
  await page.keyboard.press('Shift+Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.textContent?.trim()), SECOND);
  await page.keyboard.press('Enter');
  await same(SECOND, second);
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  const keyboardName = page.getByLabel('Conversation name');
  await waitFor(async () => (await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))) === 'Conversation name', {
    what: 'the name field to take the keyboard',
  });
  await page.keyboard.press('Escape');
  await waitFor(async () => !(await keyboardName.count()), { what: 'Esc to end the rename' });
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-label')), `Rename “${SECOND}”`);
  await item('Geography').click();

  // delete for good: gone after a reload
  await page.getByRole('button', { name: 'Delete “Geography”' }).click();
  // the keyboard stays in the list, on the conversation now open
  await waitFor(async () => (await page.evaluate(() => document.activeElement?.textContent?.trim())) === SECOND, {
    what: 'focus on the open conversation',
  });
  await waitFor(async () => (await titles()).join() === SECOND, { what: 'the second delete' });
  await page.reload();
  await page.locator('#chat-input').waitFor();
  const afterDelete = await titles();
  assert.deepEqual(afterDelete, [SECOND]);
  assert.equal(await stored(renamedId), null);
  await same(SECOND, second);

  // Clear, then Undo
  await page.getByRole('button', { name: 'Clear chat' }).click();
  await waitFor(async () => (await page.getByTestId('turn-user').count()) === 0, { what: 'the clear' });
  await page.getByTestId('undo-toast').getByRole('button', { name: 'Undo' }).click();
  await same(SECOND, second);

  // a reload keeps the list and the open conversation (here not the most recent one)
  await page.locator('.conv-new').click();
  await waitFor(async () => (await titles()).join('|') === `New chat|${SECOND}`, { what: 'a new chat' });
  await item(SECOND).click();
  await same(SECOND, second);
  await page.reload();
  await page.locator('#chat-input').waitFor();
  await waitFor(async () => (await titles()).join('|') === `New chat|${SECOND}`, { what: 'the list after a reload' });
  assert.equal(await openTitle(), SECOND);
  await same(SECOND, second);

  // every button in the list has a name
  const unnamed = await page.evaluate(() =>
    [...document.querySelectorAll('#conversations button')]
      .filter((el) => !el.getAttribute('aria-label') && !el.textContent?.trim())
      .map((el) => el.outerHTML.slice(0, 80)),
  );
  assert.deepEqual(unnamed, []);
  await screenshot(page, 'conversations');

  // at 390 px the list is a drawer: opens and closes (Esc, the backdrop, picking a conversation)
  await page.setViewportSize({ width: 390, height: 844 });
  const drawer = page.locator('#conversations');
  const menu = page.getByRole('button', { name: 'Chats', exact: true });
  await waitFor(async () => !(await drawer.isVisible()), { what: 'the drawer to be closed at 390 px' });
  assert.equal(await menu.getAttribute('aria-expanded'), 'false');
  await menu.click();
  await waitFor(async () => (await drawer.isVisible()) && (await drawer.boundingBox())?.x === 0, { what: 'the drawer to open' });
  assert.equal(await menu.getAttribute('aria-expanded'), 'true');
  await screenshot(page, 'phone-conversations');
  await page.keyboard.press('Escape');
  await waitFor(async () => !(await drawer.isVisible()), { what: 'Esc to close the drawer' });
  await menu.click();
  await waitFor(() => drawer.isVisible(), { what: 'the drawer to open again' });
  await page.mouse.click(380, 400);
  await waitFor(async () => !(await drawer.isVisible()), { what: 'the backdrop to close the drawer' });
  await menu.click();
  await waitFor(() => drawer.isVisible(), { what: 'the drawer to open a third time' });
  await item('New chat').click();
  await waitFor(async () => !(await drawer.isVisible()), { what: 'picking a conversation to close the drawer' });
  await waitFor(async () => (await page.getByTestId('turn-user').count()) === 0, { what: 'the new chat shown' });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the chat scrolls sideways by ${overflow} px at 390 px`);
  assert.deepEqual(consoleErrors, []);
  await done();

  // the single conversation from before the list migrates in as the first one
  const legacy = JSON.stringify({
    turns: [
      { id: 1, role: 'user', content: 'An old question', status: 'done' },
      { id: 2, role: 'assistant', content: 'An old answer', status: 'done' },
    ],
    webSearch: false,
    adapter: null,
  });
  const old = await openApp('#/chat', { storage: { 'switchboard.chat.v1': legacy } });
  await old.page.locator('#chat-input').waitFor();
  const oldTitles = await old.page.locator('[data-testid="conversation"] .conv-open').allInnerTexts();
  assert.deepEqual(oldTitles, ['An old question']);
  assert.deepEqual(await old.page.getByTestId('answer').allInnerTexts(), ['An old answer']);
  assert.equal(await old.page.evaluate(() => localStorage.getItem('switchboard.chat.v1')), null);
  assert.deepEqual(old.consoleErrors, []);
  await old.done();
  return { titles: afterDelete, first: first.answers[0], migrated: oldTitles[0] };
});
