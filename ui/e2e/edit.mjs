// Editing a question: the pencil sits beside the question's text (not on a row of its own); at phone width the
// edit box opens whole in view, not under the toolbar; Save resends and drops the later turns with an Undo (as
// Delete and Clear chat have) that puts them back and stops the new answer.
import { assert, flow, openApp, recordSubscribes, screenshot, waitFor } from './lib.mjs';

const ID = 'e2e-edit';
const TURNS = [
  { id: 1, role: 'user', content: 'What is the capital of France?', status: 'done' },
  { id: 2, role: 'assistant', content: 'Paris.\n\nIt is also its largest city, on the Seine.\n\n'.repeat(3), status: 'done' },
  { id: 3, role: 'user', content: 'And of Italy?', status: 'done' },
  { id: 4, role: 'assistant', content: 'Rome.\n\nIt lies on the Tiber.\n\n'.repeat(3), status: 'done' },
  { id: 5, role: 'user', content: 'And of Spain?', status: 'done' },
  { id: 6, role: 'assistant', content: 'Madrid.', status: 'done' },
];
const STORAGE = {
  'switchboard.chats.v1': JSON.stringify({ open: ID, items: [{ id: ID, title: TURNS[0].content, named: false, usedAt: 1 }] }),
  [`switchboard.chat.v1.${ID}`]: JSON.stringify({ turns: TURNS, webSearch: false, adapter: null }),
};

const shown = async (page) => ({
  questions: (await page.getByTestId('turn-user').allInnerTexts()).map((q) => q.replace(/^You:\s*/, '').trim()),
  answers: await page.getByTestId('turn-assistant').count(),
});

/** How far the pencil's middle is from the question's last line (0 when beside it), for every question shown. */
const pencilOffsets = (page) =>
  page.getByTestId('turn-user').evaluateAll((rows) =>
    rows.map((row) => {
      const text = row.querySelector('[data-testid="collapsible"]').getBoundingClientRect();
      const pencil = row.querySelector('button[aria-label="Edit"]').getBoundingClientRect();
      const middle = pencil.top + pencil.height / 2;
      return middle < text.top ? text.top - middle : Math.max(0, middle - text.bottom);
    }),
  );

await flow('edit', async () => {
  const found = {};
  // the pencil beside the text, and the edit box whole in view, at laptop and phone width
  for (const [width, height] of [
    [1280, 800],
    [390, 844],
  ]) {
    const { page, consoleErrors, done } = await openApp('#/chat', { width, height, storage: STORAGE });
    await page.getByTestId('turn-user').first().waitFor();
    const offsets = await pencilOffsets(page);
    assert.ok(offsets.every((px) => px === 0), `at ${width} px the pencil is off its question's line by ${offsets} px`);
    await screenshot(page, `edit-pencil-${width}`);

    await page.getByTestId('turn-user').first().getByRole('button', { name: 'Edit' }).click();
    const editor = page.getByRole('textbox', { name: 'Edit message' });
    await waitFor(async () => editor.evaluate((el) => el === document.activeElement), { what: 'the edit box focused' });
    await page.waitForTimeout(300); // anything that would scroll it away has run
    const place = await page.evaluate(() => {
      const box = document.querySelector('.edit-form').getBoundingClientRect();
      const view = document.querySelector('.conversation').getBoundingClientRect();
      const area = document.querySelector('.edit-form textarea').getBoundingClientRect();
      const onTop = document.elementFromPoint(area.left + 8, area.top + 8);
      return { top: box.top - view.top, bottom: view.bottom - box.bottom, onTop: onTop?.tagName };
    });
    await screenshot(page, `edit-open-${width}`);
    assert.ok(place.top >= -1 && place.bottom >= -1, `at ${width} px the edit box is cut off: ${JSON.stringify(place)}`);
    assert.equal(place.onTop, 'TEXTAREA', `at ${width} px something covers the edit box`);
    found[width] = place;
    // the last question resent (the conversation fills the view): the Undo toast floats over the conversation's
    // end without covering the new answer, and says whole what it undoes
    await editor.press('Escape');
    await page.getByTestId('turn-user').last().getByRole('button', { name: 'Edit' }).click();
    await page.getByRole('textbox', { name: 'Edit message' }).fill('And of Portugal?');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByTestId('undo-toast').waitFor({ timeout: 5000 });
    await page.waitForTimeout(400); // the room under the answer is made and the end scrolled into view
    const covered = await page.evaluate(() => {
      const toast = document.querySelector('[data-testid="undo-toast"]').getBoundingClientRect();
      const answers = document.querySelectorAll('[data-testid="turn-assistant"]');
      const last = answers[answers.length - 1].getBoundingClientRect(); // in view: the new answer is followed
      const text = document.querySelector('[data-testid="undo-toast"] span');
      return { answerBottom: last.bottom, toastTop: toast.top, cut: text.scrollWidth > text.clientWidth || text.scrollHeight > text.clientHeight };
    });
    assert.equal(covered.cut, false, `at ${width} px the toast's words are cut`);
    await screenshot(page, `edit-toast-${width}`);
    assert.ok(
      covered.answerBottom <= covered.toastTop + 1,
      `at ${width} px the Undo toast covers the answer's end: ${JSON.stringify(covered)}`,
    );
    assert.deepEqual(consoleErrors, []);
    await done();
  }

  // Save drops the later turns and offers Undo; Undo puts them back and stops the new answer
  const { page, consoleErrors, done } = await openApp('#/chat', { storage: STORAGE });
  const subscribes = recordSubscribes(page);
  await page.getByTestId('active-model').filter({ hasText: 'SmolLM2' }).waitFor({ timeout: 30000 });
  const before = await shown(page);
  await page.getByTestId('turn-user').first().getByRole('button', { name: 'Edit' }).click();
  await page.getByRole('textbox', { name: 'Edit message' }).fill('Name a colour.');
  await page.getByRole('button', { name: 'Save' }).click();
  const toast = page.getByTestId('undo-toast');
  await toast.waitFor({ timeout: 5000 });
  const message = (await toast.locator('span').first().textContent()).trim();
  assert.equal(message, 'Question resent; the 5 messages after it were removed');
  assert.deepEqual((await shown(page)).questions, ['Name a colour.']);
  assert.equal(subscribes.at(-1).prompt, 'Name a colour.');
  await screenshot(page, 'edit-undo-offered');
  await toast.getByRole('button', { name: 'Undo' }).click();
  await toast.waitFor({ state: 'detached', timeout: 5000 });
  await waitFor(async () => page.evaluate(() => document.activeElement?.id === 'chat-input'), {
    what: 'the keyboard back in the message box after Undo',
  });
  assert.deepEqual(await shown(page), before);
  assert.equal(await page.locator('[data-status="streaming"]').count(), 0, 'the new answer still streams after Undo');
  const stored = await page.evaluate((key) => JSON.parse(localStorage.getItem(key)).turns, `switchboard.chat.v1.${ID}`);
  assert.deepEqual(
    stored.map((t) => t.content),
    TURNS.map((t) => t.content),
  );
  // and after a reload
  await page.reload();
  await page.getByTestId('turn-user').first().waitFor();
  assert.deepEqual(await shown(page), before);
  await screenshot(page, 'edit-undone');
  assert.deepEqual(consoleErrors, []);
  await done();
  return { place: found, message };
});
