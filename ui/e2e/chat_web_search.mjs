// Chat: the 🌐 toggle sends webSearch; offline, the answer still comes with the search notice under it.
import { assert, flow, openApp, screenshot, waitFor } from './lib.mjs';

await flow('chat_web_search', async () => {
  const { page, consoleErrors, done } = await openApp('#/chat');
  const variables = [];
  page.on('websocket', (ws) =>
    ws.on('framesent', ({ payload }) => {
      const message = JSON.parse(String(payload));
      if (message.type === 'subscribe') variables.push(message.payload.variables);
    }),
  );
  const toggle = page.getByTestId('web-search-toggle');
  assert.equal(await toggle.getAttribute('aria-pressed'), 'false');
  await toggle.click();
  assert.equal(await toggle.getAttribute('aria-pressed'), 'true');
  assert.match(await toggle.textContent(), /On/);

  const input = page.getByLabel('Message');
  await input.fill('What is the capital of France?');
  await input.press('Enter');
  const answer = page.getByTestId('turn-assistant').last();
  await waitFor(async () => (await answer.getAttribute('data-status')) === 'done', { timeout: 60000, what: 'the answer' });
  assert.equal(variables[0].webSearch, true);
  const notice = await answer.getByTestId('search-notice').textContent();
  assert.match(notice, /not grounded/i);
  assert.match(await answer.getByTestId('answer').textContent(), /Paris/);
  await screenshot(page, 'chat-web-search');

  // the toggle's state survives a reload, and Off sends webSearch: false
  await page.reload();
  assert.equal(await page.getByTestId('web-search-toggle').getAttribute('aria-pressed'), 'true');
  await page.getByTestId('web-search-toggle').click();
  await page.getByRole('button', { name: 'Clear chat' }).click();
  await input.fill('Hi');
  await input.press('Enter');
  const hi = page.getByTestId('turn-assistant').last();
  await waitFor(async () => (await hi.getAttribute('data-status')) === 'done', { timeout: 60000, what: 'the answer' });
  assert.equal(variables.at(-1).webSearch, false);
  assert.equal(await hi.getByTestId('search-notice').count(), 0);
  await page.getByRole('button', { name: 'Clear chat' }).click();
  assert.deepEqual(consoleErrors, []);
  await done();
  return { notice };
});
