// Chat: errors show in the conversation (an unknown adapter, a gateway that is gone), and Markdown is safe.
import { ask, assert, flow, openApp, screenshot, waitFor } from './lib.mjs';

await flow('chat_errors', async () => {
  // an adapter chosen for this conversation that no longer exists (deleted elsewhere): a typed error, shown
  const saved = { turns: [], webSearch: false, adapter: 'no-such-adapter' };
  const { page, done } = await openApp('#/chat', { storage: { 'switchboard.chat.v1': JSON.stringify(saved) } });
  // the header names what answers this conversation: the adapter it chose, deleted
  await page.getByTestId('active-model').filter({ hasText: 'no-such-adapter (deleted)' }).waitFor({ timeout: 30000 });
  // the picker shows the choice as deleted (not silently as the active model)
  const picked = await waitFor(
    async () => {
      const text = await page.locator('#chat-adapter').evaluate((el) => el.selectedOptions[0]?.textContent ?? '');
      return /deleted/.test(text) ? text : false;
    },
    { what: 'the picker to mark the adapter deleted' },
  );
  assert.match(picked, /no-such-adapter \(deleted\)/);
  const answer = await ask(page, 'Hello', { status: 'error' });
  const error = await answer.getByTestId('turn-error').textContent();
  // in words, saying where to pick another model: not the API's `adapter` field
  assert.equal(error, 'no-such-adapter was deleted: pick another model under Answer with');
  // no Retry while the choice is still the deleted adapter (it could only fail again); the choice is offered there
  assert.equal(await answer.getByRole('button', { name: 'Retry' }).count(), 0);
  const choice = answer.locator('#chat-adapter-retry');
  await screenshot(page, 'chat-adapter-deleted-1280');
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(400); // the conversations drawer slides away at phone width
  await screenshot(page, 'chat-adapter-deleted-390');
  await page.setViewportSize({ width: 1280, height: 860 });
  // choose the server's active model there, and Retry asks the same question without retyping
  await choice.selectOption('');
  assert.equal(await page.locator('#chat-adapter').inputValue(), '');
  await answer.getByRole('button', { name: 'Retry' }).click();
  const retried = page.getByTestId('turn-assistant').last();
  await waitFor(async () => (await retried.getAttribute('data-status')) === 'done', { timeout: 90000, what: 'the retry' });
  assert.equal(await page.getByTestId('turn-user').count(), 1);
  assert.equal((await page.getByTestId('turn-user').textContent()).replace(/^You: /, ''), 'Hello');
  await page.getByRole('button', { name: 'Clear chat' }).click();

  // answers render Markdown but never raw HTML: a user message with HTML stays text too
  const html = '<img src=x onerror="window.__pwned=1"> Reply with a bulleted list of two fruits.';
  await page.getByLabel('Message').fill(html);
  await page.getByLabel('Message').press('Enter');
  assert.equal((await page.getByTestId('turn-user').last().textContent()).replace(/^You: /, ''), html);
  // the answer streams Markdown; a few words are enough to check what it became (Clear chat stops it)
  const md = page.getByTestId('turn-assistant').last().getByTestId('answer');
  await waitFor(async () => ((await md.textContent()) ?? '').trim().length > 10, { timeout: 60000, what: 'the answer' });
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  assert.equal(await page.locator('.conversation img').count(), 0);
  await page.getByRole('button', { name: 'Clear chat' }).click();
  await done();
  return { error };
});
