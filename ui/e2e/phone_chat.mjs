// The Chat on a phone (390x844): the controls above the conversation take one compact row (the picker, Settings
// and Clear chat fold behind More), the open conversation's name shows, and ☰ says "Chats"; at 1280 px nothing is
// folded. Seeded from storage: no answer is generated.
import { assert, flow, openApp, screenshot, waitFor } from './lib.mjs';

const turns = (q, a) => [
  { id: 1, role: 'user', content: q, status: 'done' },
  { id: 2, role: 'assistant', content: a, status: 'done' },
];
const STORAGE = {
  'switchboard.chats.v1': JSON.stringify({
    open: 'p1',
    items: [
      { id: 'p1', title: 'Capital of France', named: true, usedAt: 2 },
      { id: 'p2', title: 'A haiku about the sea', named: false, usedAt: 1 },
    ],
  }),
  'switchboard.chat.v1.p1': JSON.stringify({
    turns: turns('What is the capital of France?', 'The capital of France is Paris.'),
    webSearch: false,
    adapter: null,
  }),
  'switchboard.chat.v1.p2': JSON.stringify({
    turns: turns('A haiku about the sea', 'Waves fold into foam.'),
    webSearch: false,
    adapter: null,
  }),
};
/** Most of the controls above the first message at 390 px (it was about 250 before: two toolbar rows). */
const MAX_TOP_PX = 150; // 253 before issue 28; the header's "Answers with …" (item 9) takes two lines at 390

await flow('phone_chat', async () => {
  const { page, consoleErrors, done } = await openApp('#/chat', { width: 390, height: 844, storage: STORAGE });
  await page.getByTestId('active-model').filter({ hasText: 'SmolLM2' }).waitFor({ timeout: 30000 });
  await page.getByTestId('turn-assistant').first().waitFor();
  const top = await page.locator('.conversation').evaluate((el) => Math.round(el.getBoundingClientRect().top));
  const firstMessage = await page.getByTestId('turn-user').first().evaluate((el) => Math.round(el.getBoundingClientRect().top));
  await screenshot(page, 'phone-chat-folded');
  assert.ok(top <= MAX_TOP_PX, `the conversation starts ${top} px down at 390 px (at most ${MAX_TOP_PX})`);

  // the open conversation's name shows, and follows a switch
  const title = page.getByTestId('chat-title');
  assert.ok(await title.isVisible(), 'no title for the open conversation');
  assert.equal((await title.innerText()).trim(), 'Capital of France');

  // ☰ has a visible label, which is its accessible name
  const menu = page.getByRole('button', { name: 'Chats', exact: true });
  assert.ok(await menu.isVisible(), 'no visible "Chats" button');
  assert.equal((await menu.innerText()).trim(), 'Chats');
  await menu.click();
  await page.locator('.conv-open', { hasText: 'A haiku about the sea' }).click();
  await waitFor(async () => (await title.innerText()).trim() === 'A haiku about the sea', { what: 'the title to follow a switch' });

  // the less-used controls are folded behind More, and come back with it
  const picker = page.locator('#chat-adapter');
  const clear = page.getByRole('button', { name: 'Clear chat' });
  assert.equal(await picker.isVisible(), false, 'the picker is not folded at 390 px');
  assert.equal(await clear.isVisible(), false, 'Clear chat is not folded at 390 px');
  const more = page.getByRole('button', { name: 'More', exact: true });
  assert.equal(await more.getAttribute('aria-expanded'), 'false');
  await more.click();
  assert.equal(await more.getAttribute('aria-expanded'), 'true');
  await picker.waitFor({ state: 'visible' });
  await clear.waitFor({ state: 'visible' });
  await page.getByRole('button', { name: 'Settings' }).waitFor({ state: 'visible' });
  const box = await picker.boundingBox();
  assert.ok(box.x + box.width <= 390, `the unfolded picker ends at ${box.x + box.width} px`);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the chat scrolls sideways by ${overflow} px at 390 px`);
  await screenshot(page, 'phone-chat-unfolded');

  // at 1280 px nothing is folded: no More, the picker and Clear chat in view, the title beside them
  await page.setViewportSize({ width: 1280, height: 800 });
  await waitFor(async () => !(await more.isVisible()), { what: 'More to go at 1280 px' });
  assert.ok(await picker.isVisible(), 'the picker is hidden at 1280 px');
  assert.ok(await clear.isVisible(), 'Clear chat is hidden at 1280 px');
  assert.equal((await title.innerText()).trim(), 'A haiku about the sea');
  await screenshot(page, 'laptop-chat-toolbar');
  assert.deepEqual(consoleErrors, []);
  await done();
  return { top, firstMessage };
});
