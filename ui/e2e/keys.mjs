// API keys in the web app, against a gateway that wants them (ADMIN_KEY, USER_KEY from env): the app asks for
// a key on the first 401, says when one is refused, chats with a user key (HTTP and websocket), shows a user
// key's limits on Fine-tune (controls disabled, with the reason), forgets a key, and remembers one on request.
import { ask, assert, flow, openApp, screenshot, waitFor } from './lib.mjs';

const ADMIN_KEY = process.env.ADMIN_KEY;
const USER_KEY = process.env.USER_KEY;

async function enterKey(page, key, { remember = false } = {}) {
  const dialog = page.getByTestId('key-dialog');
  await dialog.waitFor({ timeout: 15000 });
  await dialog.getByLabel('API key').fill(key);
  if (remember) await dialog.getByLabel('Remember on this device').check();
  await dialog.getByRole('button', { name: 'Use this key' }).click();
}

await flow('keys', async () => {
  const { page, context, done } = await openApp('#/chat');
  // no key yet: the first request is refused and the app asks
  const dialog = page.getByTestId('key-dialog');
  await dialog.waitFor({ timeout: 15000 });
  assert.match(await dialog.textContent(), /needs an API key/);
  await screenshot(page, 'keys-dialog');

  await enterKey(page, 'not-a-valid-key-0000000000');
  await dialog.getByRole('alert').filter({ hasText: 'not accepted' }).waitFor();

  // a user key: the page reloads with it, chat works over HTTP and the websocket
  await enterKey(page, USER_KEY);
  await page.getByTestId('key-role').filter({ hasText: 'user key' }).waitFor({ timeout: 30000 });
  assert.equal(await dialog.count(), 0, 'the dialog stayed after a good key');
  const answer = await ask(page, 'What is the capital of France?');
  const text = (await answer.getByTestId('answer').textContent()) ?? '';
  assert.ok(text.trim().length > 0, 'no answer with a user key');
  assert.equal(await page.evaluate(() => localStorage.getItem('switchboard.apiKey')), null, 'kept without being asked');

  // Fine-tune with a user key: the limits are shown, not hidden errors
  await page.goto(page.url().replace(/#.*$/, '#/fine-tune'));
  const note = page.getByTestId('admin-only');
  await note.waitFor({ timeout: 15000 });
  assert.match(await note.textContent(), /admin key/);
  const start = page.getByRole('button', { name: 'Start training' });
  assert.ok(await start.isDisabled(), 'Start training is enabled for a user key');
  await screenshot(page, 'keys-user-fine-tune');

  // forget it, then an admin key, remembered on this device
  await page.getByRole('button', { name: 'Forget key' }).click();
  await enterKey(page, ADMIN_KEY, { remember: true });
  await page.getByTestId('key-role').filter({ hasText: 'admin key' }).waitFor({ timeout: 30000 });
  await waitFor(async () => !(await page.getByRole('button', { name: 'Start training' }).isDisabled()), {
    what: 'Start training enabled for an admin key',
  });
  assert.equal(await page.getByTestId('admin-only').count(), 0);

  // a new tab on this device needs no key
  const other = await context.newPage();
  await other.goto(page.url());
  await other.getByTestId('key-role').filter({ hasText: 'admin key' }).waitFor({ timeout: 30000 });
  assert.equal(await other.getByTestId('key-dialog').count(), 0);
  await done();
  return { answer: text.slice(0, 40) };
});
