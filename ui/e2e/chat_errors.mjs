// Chat: errors show in the conversation (an unknown adapter, a gateway that is gone), and Markdown is safe.
import { ask, assert, flow, openApp, waitFor } from './lib.mjs';

await flow('chat_errors', async () => {
  const { page, done } = await openApp('#/chat');
  await page.getByTestId('active-model').filter({ hasText: 'SmolLM2' }).waitFor({ timeout: 30000 });
  // an adapter chosen for this conversation that does not exist (deleted elsewhere): a typed error, shown
  await page.evaluate(() => {
    const saved = JSON.parse(localStorage.getItem('switchboard.chat.v1') ?? '{"turns":[],"webSearch":false}');
    localStorage.setItem('switchboard.chat.v1', JSON.stringify({ ...saved, turns: [], adapter: 'no-such-adapter' }));
  });
  await page.reload();
  const answer = await ask(page, 'Hello', { status: 'error' });
  const error = await answer.getByTestId('turn-error').textContent();
  assert.match(error, /no-such-adapter/);
  // the picker shows the missing adapter; choosing the active model again works
  await page.locator('#chat-adapter').selectOption('');
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
