// Which model answers a conversation. "Base model" is the base model even after an adapter is made active (it was
// "whatever the server has active" while none was); "Server's active model" is a choice of its own. The header names
// what answers the open conversation, as its picker does; the Models table says Make active is for everyone, and
// offers one control per change (Make active on the row to switch to, none on the active row).
import { ask, assert, flow, graphql, openApp, recordSubscribes, screenshot, waitFor } from './lib.mjs';

const ADAPTER = process.env.ADAPTER ?? 'ui-models-pick';
const picked = (page) => page.locator('#chat-adapter').evaluate((el) => el.selectedOptions[0]?.textContent ?? '');

await flow('models', async () => {
  const { page, consoleErrors, done } = await openApp('#/chat');
  const header = page.getByTestId('active-model');
  await header.filter({ hasText: 'SmolLM2' }).waitFor({ timeout: 30000 });
  await page.locator('#chat-adapter option', { hasText: ADAPTER }).waitFor({ state: 'attached', timeout: 30000 });

  // no adapter active: the base model and the server's active model are two choices all the same
  const options = await page.locator('#chat-adapter option').evaluateAll((els) => els.map((o) => [o.value, o.textContent]));
  const values = options.map(([value]) => value);
  assert.ok(values.includes('') && values.includes('@base'), `choices: ${JSON.stringify(options)}`);
  assert.match(options.find(([v]) => v === '')[1], /^Server's active model \(.*SmolLM2/);
  assert.match(options.find(([v]) => v === '@base')[1], /^Base model \(.*SmolLM2/);
  await page.locator('#chat-adapter').selectOption('@base');

  // Fine-tune: what Make active does, said on the page; the adapter made active for everyone
  await page.getByRole('link', { name: 'Fine-tune' }).click();
  const note = await page.getByTestId('models-note').textContent({ timeout: 30000 });
  assert.match(note, /for everyone/);
  const row = page.locator(`[data-testid="model-row"][data-name="${ADAPTER}"]`);
  const baseRow = page.locator('[data-testid="model-row"][data-name="base"]');
  assert.equal(await baseRow.getByRole('button').count(), 0, 'the active base model offers no switch of its own');
  await row.getByRole('button', { name: 'Make active' }).click();
  await header.filter({ hasText: ADAPTER }).waitFor({ timeout: 30000 });
  assert.match(await page.locator('.active-model').textContent(), /Active adapter/);
  // one control per change: the active row has none; the base row's Make active switches back
  assert.deepEqual(await row.getByRole('button').allTextContents(), ['Compare', 'Delete']);
  assert.deepEqual(await baseRow.getByRole('button').allTextContents(), ['Make active']);
  await screenshot(page, 'models-fine-tune-1280');
  await waitFor(async () => (await graphql('{ modelInfo { activeAdapter } }')).modelInfo.activeAdapter === ADAPTER, {
    timeout: 15000,
    what: 'the worker to serve the adapter',
  });

  // Chat: the conversation still answers with the base model, and the header says so (not the server's adapter)
  const subscribes = recordSubscribes(page);
  await page.getByRole('link', { name: 'Chat' }).click();
  assert.match(await picked(page), /^Base model \(.*SmolLM2/);
  await header.filter({ hasText: 'SmolLM2' }).waitFor({ timeout: 10000 });
  assert.match(await page.locator('.active-model').textContent(), /Answers with/);
  const turn = await ask(page, 'Hi', { timeout: 120000 });
  const sent = subscribes.at(-1);
  assert.match(await turn.locator('.meta').textContent(), /base model/);
  await screenshot(page, 'models-chat-base-1280');
  // the server's active model: the header follows the picker
  await page.locator('#chat-adapter').selectOption('');
  await header.filter({ hasText: ADAPTER }).waitFor({ timeout: 10000 });
  assert.match(await picked(page), new RegExp(`^Server's active model \\(${ADAPTER}\\)`));

  // the same at phone width
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(400); // the conversations drawer slides away at phone width
  await screenshot(page, 'models-chat-390');
  await page.getByRole('link', { name: 'Fine-tune' }).click();
  await page.getByTestId('models-note').scrollIntoViewIfNeeded();
  await screenshot(page, 'models-fine-tune-390');

  // back to the base model for everyone, from the base model's row
  await baseRow.getByRole('button', { name: 'Make active' }).click();
  await header.filter({ hasText: 'SmolLM2' }).waitFor({ timeout: 30000 });
  await waitFor(async () => (await graphql('{ modelInfo { activeAdapter } }')).modelInfo.activeAdapter === null, {
    timeout: 15000,
    what: 'the worker to go back to the base model',
  });
  assert.deepEqual(consoleErrors, []);
  await done();
  return { baseTurn: { baseModel: sent.baseModel, adapter: sent.adapter }, note };
});
