// Per-conversation settings: answer length, temperature and a system prompt, set in the chat's Settings panel, go
// with each question (the system prompt as the first message, role system), stay with the conversation after a
// reload, and do not apply to another conversation; a value out of range is explained, not kept, and stops a
// question from going out with the default in its place; the panel fits
// a phone (behind More).
import { ask, assert, flow, openApp, recordSubscribes, screenshot, waitFor } from './lib.mjs';

const SYSTEM = 'Answer in one short sentence.';

await flow('chat_settings', async () => {
  const { page, consoleErrors, done } = await openApp('#/chat', { width: 1280, height: 800 });
  const subscribes = recordSubscribes(page);
  await page.getByTestId('active-model').filter({ hasText: 'SmolLM2' }).waitFor({ timeout: 30000 });
  const settings = page.getByRole('button', { name: 'Settings' });
  await settings.click();
  assert.equal(await settings.getAttribute('aria-expanded'), 'true');
  const maxTokens = page.getByLabel('Answer length (max tokens)');
  const temperature = page.getByLabel('Temperature');
  const system = page.getByLabel('System prompt');
  await maxTokens.fill('6');
  await temperature.fill('0.7');
  await system.fill(SYSTEM);
  // out of range: said, and not kept
  await maxTokens.fill('99999');
  await page.getByText('A whole number from 1 to 8192').waitFor();
  assert.equal(await maxTokens.getAttribute('aria-invalid'), 'true');
  // ... and a question sent meanwhile is not sent with the default in its place: it is refused, in words
  const input = page.locator('#chat-input');
  await input.fill('Hi');
  await input.press('Enter');
  const refused = page.getByTestId('send-refused');
  await refused.waitFor({ timeout: 5000 });
  assert.match(await refused.textContent(), /Not sent: Answer length .* A whole number from 1 to 8192/);
  assert.equal(subscribes.length, 0, 'a question went out with a setting typed wrong');
  assert.equal(await input.inputValue(), 'Hi', 'the question is kept to send again');
  await screenshot(page, 'chat-settings-refused');
  await maxTokens.fill('6');
  assert.equal(await page.getByText('A whole number from 1 to 8192').count(), 0);
  assert.equal(await refused.count(), 0, 'the refusal stays once the setting is fixed');
  await input.fill('');
  await screenshot(page, 'chat-settings');

  const answer = await ask(page, 'What is the capital of France?');
  assert.equal(subscribes.length, 1);
  const sent = subscribes[0];
  assert.equal(sent.maxNewTokens, 6);
  assert.equal(sent.temperature, 0.7);
  assert.deepEqual(sent.messages, [{ role: 'SYSTEM', content: SYSTEM }]);
  // the server kept to the length
  assert.equal((await answer.getByTestId('tokens').textContent()).trim(), '6 tokens');

  // kept with the conversation across a reload
  await page.reload();
  await page.getByTestId('turn-assistant').first().waitFor();
  await page.getByRole('button', { name: 'Settings' }).click();
  assert.equal(await maxTokens.inputValue(), '6');
  assert.equal(await temperature.inputValue(), '0.7');
  assert.equal(await system.inputValue(), SYSTEM);

  // a new conversation has its own (the defaults), and sends none of them
  await page.getByRole('button', { name: 'New chat' }).click();
  await waitFor(async () => (await page.getByTestId('turn-user').count()) === 0, { what: 'the new chat' });
  await page.getByRole('button', { name: 'Settings' }).click();
  assert.equal(await maxTokens.inputValue(), '');
  assert.equal(await system.inputValue(), '');
  await maxTokens.fill('3');
  await ask(page, 'Name a colour.');
  const second = subscribes.at(-1);
  assert.equal(second.maxNewTokens, 3);
  assert.equal(second.temperature, undefined);
  assert.equal(second.messages, null);

  // at 390 px the panel is behind More and fits the screen
  await page.setViewportSize({ width: 390, height: 844 });
  await page.reload();
  await page.getByTestId('turn-assistant').first().waitFor();
  await page.getByRole('button', { name: 'More', exact: true }).click();
  await page.getByRole('button', { name: 'Settings' }).click();
  await system.waitFor({ state: 'visible' });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the settings scroll sideways by ${overflow} px at 390 px`);
  await screenshot(page, 'phone-chat-settings');
  assert.deepEqual(consoleErrors, []);
  await done();
  return { sent: { maxNewTokens: sent.maxNewTokens, temperature: sent.temperature, messages: sent.messages } };
});
