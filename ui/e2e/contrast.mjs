// Contrast: no text under 4.5:1 (WCAG AA, axe-core's `color-contrast` rule) in the Chat (a conversation with an
// answer, code, sources, a notice, an error with Retry, a stopped answer, the Undo toast), the question being
// edited, the conversation's Settings, Fine-tune and the Explorer (with its docs open), in the light and the dark scheme, at laptop and phone width. Seeded from
// storage: no answer is generated.
import { createRequire } from 'node:module';
import { assert, flow, openApp, queryEditor, screenshot } from './lib.mjs';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const ME = 'e2e-contrast';
const OTHER = 'e2e-contrast-other';
const CODE = 'def greet(name):\n    return f"Hello, {name}"';
const TURNS = [
  { id: 1, role: 'user', content: 'Show me a Python function', status: 'done' },
  {
    id: 2,
    role: 'assistant',
    content: `Here it is, with \`inline code\`:\n\n\`\`\`python\n${CODE}\n\`\`\`\n`,
    status: 'done',
    model: 'SmolLM2-135M-Instruct',
    sentAt: 1000,
    firstTokenAt: 1400,
    doneAt: 2400,
    completionTokens: 12,
    notice: 'Web search is offline: this answer is not grounded in search results.',
    sources: [{ title: 'Python docs', url: 'https://docs.python.org/3/', snippet: '' }],
  },
  { id: 3, role: 'user', content: 'And in Rust?', status: 'done' },
  { id: 4, role: 'assistant', content: '', status: 'error', error: 'The inference service is not running.', errorCode: 'UNAVAILABLE' },
  { id: 5, role: 'user', content: 'Try once more', status: 'done' },
  { id: 6, role: 'assistant', content: 'Rust has', status: 'stopped', model: 'SmolLM2-135M-Instruct' },
];
const STORAGE = {
  'switchboard.chats.v1': JSON.stringify({
    open: ME,
    items: [
      { id: ME, title: 'Show me a Python function', named: false, usedAt: 2 },
      { id: OTHER, title: 'Another chat', named: false, usedAt: 1 },
    ],
  }),
  [`switchboard.chat.v1.${ME}`]: JSON.stringify({ turns: TURNS, webSearch: true, adapter: null }),
  [`switchboard.chat.v1.${OTHER}`]: JSON.stringify({
    turns: [{ id: 1, role: 'user', content: 'Another chat', status: 'done' }],
    webSearch: false,
    adapter: null,
  }),
};

/** Every text on the page as it is now that axe finds under 4.5:1 (3:1 for large text), one line each. Also what axe
 * leaves undecided (its "incomplete"), such as text the colour of its background (1:1, which it takes for hidden
 * text: the edit box's white on white was one), except text too short to judge (an editor's line numbers). */
async function lowContrast(page) {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ path: AXE });
  return page.evaluate(async () => {
    const { violations, incomplete } = await window.axe.run(document, {
      runOnly: { type: 'rule', values: ['color-contrast'] },
      resultTypes: ['violations', 'incomplete'],
    });
    const line = (n) => `${n.target.join(' ')}: ${n.any.map((c) => c.message).join('; ')}`;
    // also let through text whose background axe cannot read because the element overlaps another (the Explorer's
    // empty-result hint over the result editor): a matter of layout, not of a colour
    // and text wholly under the Explorer's docs pane, which covers the editors at phone width by design
    const underDocs = (n) => {
      const el = document.querySelector(n.target[0]);
      const box = el?.getBoundingClientRect();
      if (!box) return false;
      return Boolean(document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2)?.closest('.graphiql-plugin'));
    };
    const judged = (n) =>
      !n.any.some((c) => ['shortTextContent', 'elmPartiallyObscuring'].includes(c.data?.messageKey)) &&
      !(n.any.some((c) => c.data?.messageKey === 'bgOverlap') && underDocs(n));
    const undecided = incomplete.flatMap((r) => r.nodes).filter(judged);
    return [...violations.flatMap((r) => r.nodes), ...undecided].map(line);
  });
}

/** Do `act` in the conversations list, opening it first where it is a drawer (phone width). */
async function inTheList(page, act) {
  const menu = page.getByRole('button', { name: 'Chats', exact: true });
  const drawer = await menu.isVisible();
  if (drawer) await menu.click();
  await act();
  if (drawer && (await page.locator('.conv-sidebar.open').count())) await page.getByRole('button', { name: 'Close conversations' }).click();
}

const VIEWS = [
  {
    name: 'chat',
    async show(page) {
      await page.evaluate(() => (location.hash = '#/chat'));
      await page.getByTestId('turn-assistant').first().waitFor();
      await page.locator('.code-copy').first().waitFor(); // added once the answer is shown
      // the Undo toast, over the chat
      await inTheList(page, () => page.getByRole('button', { name: 'Delete “Another chat”' }).click());
      await page.getByTestId('undo-toast').waitFor();
    },
    async leave(page) {
      // Undo opens the conversation it brings back: open this one again
      await page.getByTestId('undo-toast').getByRole('button', { name: 'Undo' }).click();
      await inTheList(page, () => page.locator('.conv-open', { hasText: 'Show me a Python function' }).click());
      await page.getByTestId('turn-assistant').first().waitFor();
    },
  },
  {
    name: 'edit',
    async show(page) {
      await page.getByTestId('turn-user').first().getByRole('button', { name: 'Edit' }).click();
      await page.getByRole('textbox', { name: 'Edit message' }).waitFor();
    },
    async leave(page) {
      await page.getByRole('textbox', { name: 'Edit message' }).press('Escape');
    },
  },
  {
    name: 'chat-settings',
    async show(page) {
      const more = page.getByRole('button', { name: 'More', exact: true });
      if (await more.isVisible()) await more.click(); // folded at phone width
      await page.getByRole('button', { name: 'Settings', exact: true }).click();
      await page.locator('#chat-settings').waitFor();
    },
    async leave(page) {
      await page.getByRole('button', { name: 'Settings', exact: true }).click();
      await page.locator('#chat-settings').waitFor({ state: 'detached' });
      const more = page.getByRole('button', { name: 'More', exact: true });
      if ((await more.isVisible()) && (await more.getAttribute('aria-expanded')) === 'true') await more.click();
    },
  },
  {
    name: 'fine-tune',
    async show(page) {
      await page.evaluate(() => (location.hash = '#/fine-tune'));
      await page.locator('#ft-name').waitFor();
      await page.getByRole('heading', { name: /history/i }).first().waitFor();
      await page.waitForTimeout(500); // the models and jobs lists arrive
    },
  },
  {
    name: 'explorer',
    async show(page) {
      await page.evaluate(() => (location.hash = '#/explorer'));
      await queryEditor(page);
      await page.waitForTimeout(500); // Monaco colours the query
    },
  },
  {
    name: 'explorer-docs',
    async show(page) {
      await page.getByRole('button', { name: /documentation explorer/i }).first().click();
      await page.getByText('Root Types').first().waitFor({ timeout: 15000 });
    },
    async leave(page) {
      await page.getByRole('button', { name: /documentation explorer/i }).first().click();
      await page.evaluate(() => (location.hash = '#/chat'));
      await page.getByTestId('turn-assistant').first().waitFor();
    },
  },
];

await flow('contrast', async () => {
  const found = [];
  const checked = [];
  for (const [width, height] of [
    [1280, 800],
    [390, 844],
  ]) {
    const { page, consoleErrors, done } = await openApp('#/chat', { width, height, storage: STORAGE });
    await page.getByTestId('active-model').filter({ hasText: 'SmolLM2' }).waitFor({ timeout: 30000 });
    for (const scheme of ['light', 'dark']) {
      await page.emulateMedia({ colorScheme: scheme });
      for (const view of VIEWS) {
        await view.show(page);
        const where = `${view.name} ${scheme} ${width}px`;
        await page.waitForTimeout(300); // transitions end
        await screenshot(page, `contrast-${view.name}-${scheme}-${width}`);
        for (const line of await lowContrast(page)) found.push(`${where}: ${line}`);
        checked.push(where);
        await view.leave?.(page);
      }
    }
    assert.deepEqual(consoleErrors, []);
    await done();
  }
  assert.deepEqual(found, [], `text under WCAG AA contrast:\n${found.join('\n')}`);
  return { checked };
});
