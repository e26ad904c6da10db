// The browser tab's title names the section and, on the Chat, the open conversation; it follows a switch, a
// rename and a new chat. Seeded from storage: no answer is generated.
import { assert, flow, openApp, waitFor } from './lib.mjs';

const STORAGE = {
  'switchboard.chats.v1': JSON.stringify({
    open: 't1',
    items: [
      { id: 't1', title: 'Capital of France', named: false, usedAt: 2 },
      { id: 't2', title: 'A haiku', named: false, usedAt: 1 },
    ],
  }),
  ...Object.fromEntries(
    [
      ['t1', 'Capital of France'],
      ['t2', 'A haiku'],
    ].map(([id, q]) => [
      `switchboard.chat.v1.${id}`,
      JSON.stringify({ turns: [{ id: 1, role: 'user', content: q, status: 'done' }], webSearch: false, adapter: null }),
    ]),
  ),
};

await flow('titles', async () => {
  const { page, consoleErrors, done } = await openApp('#/chat', { storage: STORAGE });
  const titled = (expected) => waitFor(async () => (await page.title()) === expected, { timeout: 5000, what: `the title “${expected}”` });
  const seen = [];
  const check = async (expected) => {
    await titled(expected);
    seen.push(expected);
  };
  await page.locator('#chat-input').waitFor();
  await check('Chat · Capital of France — Switchboard');
  await page.locator('.conv-open', { hasText: 'A haiku' }).click();
  await check('Chat · A haiku — Switchboard');
  await page.getByRole('button', { name: 'Rename “A haiku”' }).click();
  await page.getByLabel('Conversation name').fill('Poems');
  await page.getByLabel('Conversation name').press('Enter');
  await check('Chat · Poems — Switchboard');
  await page.getByRole('button', { name: 'New chat' }).click();
  await check('Chat · New chat — Switchboard');
  await page.getByRole('link', { name: 'Fine-tune' }).click();
  await check('Fine-tune — Switchboard');
  await page.getByRole('link', { name: 'GraphQL Explorer' }).click();
  await check('GraphQL Explorer — Switchboard');
  await page.getByRole('link', { name: 'Chat', exact: true }).click();
  await check('Chat · New chat — Switchboard');
  assert.deepEqual(consoleErrors, []);
  await done();
  return { titles: seen };
});
