// Chat: the 🌐 toggle sends webSearch; offline, the answer still comes with the search notice under it.
import { ask, assert, flow, openApp, recordSubscribes, screenshot } from './lib.mjs';

await flow('chat_web_search', async () => {
  const { page, consoleErrors, done } = await openApp('#/chat');
  const variables = recordSubscribes(page);
  const toggle = page.getByTestId('web-search-toggle');
  assert.equal(await toggle.getAttribute('aria-pressed'), 'false');
  await toggle.click();
  assert.equal(await toggle.getAttribute('aria-pressed'), 'true');
  assert.match(await toggle.textContent(), /On/);

  const answer = await ask(page, 'What is the capital of France?');
  assert.equal(variables[0].webSearch, true);
  const notice = await answer.getByTestId('search-notice').textContent();
  assert.match(notice, /not grounded/i);
  // in a reader's words: not the search service's host, port or system error
  assert.doesNotMatch(notice, /duckduckgo|:443|Name or service/i);
  assert.match(await answer.getByTestId('answer').textContent(), /Paris/);
  await screenshot(page, 'chat-web-search');

  // the toggle's state survives a reload, and Off sends webSearch: false
  await page.reload();
  assert.equal(await page.getByTestId('web-search-toggle').getAttribute('aria-pressed'), 'true');
  await page.getByTestId('web-search-toggle').click();
  await page.getByRole('button', { name: 'Clear chat' }).click();
  const hi = await ask(page, 'Hi');
  assert.equal(variables.at(-1).webSearch, false);
  assert.equal(await hi.getByTestId('search-notice').count(), 0);
  await page.getByRole('button', { name: 'Clear chat' }).click();
  assert.deepEqual(consoleErrors, []);
  await done();
  return { notice };
});
