// Chat: the message actions (Copy, Copy code, Regenerate, Edit), code blocks with a label and highlighting, the
// answer's figures, a long message collapsed, no Retry on a context overflow, and "Searching the web…" before
// the offline notice.
import { UI_URL, assert, ask, flow, openApp, recordSubscribes, screenshot, waitFor } from './lib.mjs';

const KEY = 'switchboard.chat.v1';
const CODE = 'def greet(name):\n    return f"Hello, {name}"';
const SAVED = {
  turns: [
    { id: 1, role: 'user', content: 'Show me a Python function', status: 'done' },
    { id: 2, role: 'assistant', content: `Here it is:\n\n\`\`\`python\n${CODE}\n\`\`\`\n`, status: 'done' },
  ],
  webSearch: false,
  adapter: null,
};

await flow('chat_actions', async () => {
  const { page, context, consoleErrors, done } = await openApp('#/chat', { storage: { [KEY]: JSON.stringify(SAVED) } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(UI_URL).origin });
  const clipboard = () => page.evaluate(() => navigator.clipboard.readText());
  const subscribes = recordSubscribes(page);
  await page.getByTestId('active-model').filter({ hasText: 'SmolLM2' }).waitFor({ timeout: 30000 });

  // "Answer with": the server's active model and the base model are two choices even with no adapter loaded (one
  // follows the server, the other stays the base model)
  const choices = await page.locator('#chat-adapter option').allTextContents();
  assert.equal(choices.filter((c) => /^Server's active model \(.*SmolLM2/.test(c)).length, 1, `choices: ${choices}`);
  assert.equal(choices.filter((c) => /^Base model \(.*SmolLM2/.test(c)).length, 1, `choices: ${choices}`);

  // a code block: its language, highlighted, and Copy code
  const block = page.locator('.code-block').first();
  assert.equal(await block.locator('.code-lang').textContent(), 'python');
  assert.ok((await block.locator('pre code .hljs-keyword').count()) > 0, 'no highlighted keyword');
  assert.equal(await block.locator('pre code .hljs-keyword').first().textContent(), 'def');
  await block.getByRole('button', { name: 'Copy code' }).click();
  await block.getByRole('button', { name: 'Copied' }).waitFor({ timeout: 5000 });
  assert.equal(await clipboard(), CODE);
  await screenshot(page, 'chat-code-block');
  await page.emulateMedia({ colorScheme: 'dark' });
  const keyword = await block.locator('.hljs-keyword').first().evaluate((el) => getComputedStyle(el).color);
  assert.equal(keyword, 'rgb(255, 123, 114)', 'the dark theme colours keywords');
  await screenshot(page, 'chat-code-block-dark');
  await page.emulateMedia({ colorScheme: 'light' });
  await page.getByRole('button', { name: 'Clear chat' }).click();

  // Copy an answer: its Markdown source, as stored
  const first = await ask(page, 'What is the capital of France?');
  const figures = await first.getByTestId('figures').textContent();
  assert.match(figures, /^\d+\.\d s to first token · \d+\.\d tokens\/s$/, `figures: ${figures}`);
  await first.getByRole('button', { name: 'Copy', exact: true }).click();
  await first.getByRole('status').filter({ hasText: 'Copied' }).waitFor({ timeout: 5000 });
  // the open conversation's turns are under `${KEY}.<id>`, the id in the conversation list
  const stored = await page.evaluate((key) => {
    const open = JSON.parse(localStorage.getItem('switchboard.chats.v1')).open;
    return JSON.parse(localStorage.getItem(`${key}.${open}`)).turns[1].content;
  }, KEY);
  assert.equal(await clipboard(), stored);
  assert.match(stored, /Paris/);
  // every control in the conversation has an accessible name
  const unnamed = await page.evaluate(() =>
    [...document.querySelectorAll('.conversation button, .conversation textarea')]
      .filter((el) => !el.getAttribute('aria-label') && !el.textContent?.trim())
      .map((el) => el.outerHTML.slice(0, 80)),
  );
  assert.deepEqual(unnamed, [], 'controls without a name');

  // Regenerate: the same question again, still one question, a new answer done
  await first.getByRole('button', { name: 'Regenerate' }).click();
  const regenerated = page.getByTestId('turn-assistant').last();
  await waitFor(async () => (await regenerated.getAttribute('data-status')) === 'done', { timeout: 90000, what: 'the regenerated answer' });
  assert.equal(await page.getByTestId('turn-user').count(), 1);
  assert.equal(await page.getByTestId('turn-assistant').count(), 1);
  assert.equal(subscribes.at(-1).prompt, 'What is the capital of France?');
  assert.equal(subscribes.at(-1).messages, null);

  // Edit the first question of two: Esc abandons the edit; Save drops the later turns and asks the new text
  await ask(page, 'And what is its population?');
  assert.equal(await page.getByTestId('turn-user').count(), 2);
  const question = page.getByTestId('turn-user').first();
  await question.getByRole('button', { name: 'Edit' }).click();
  const editor = page.getByRole('textbox', { name: 'Edit message' });
  await editor.fill('Something else');
  await editor.press('Escape');
  await editor.waitFor({ state: 'detached', timeout: 5000 });
  assert.equal((await question.textContent()).replace(/^You: /, ''), 'What is the capital of France?');
  await question.getByRole('button', { name: 'Edit' }).click();
  await editor.fill('What is the capital of Italy?');
  await page.getByRole('button', { name: 'Save' }).click();
  const edited = page.getByTestId('turn-assistant').last();
  if ((await edited.getAttribute('data-status')) === 'streaming') {
    // no action starts while an answer streams
    assert.equal(await page.getByTestId('turn-user').first().getByRole('button', { name: 'Edit' }).isDisabled(), true);
  }
  await waitFor(async () => (await edited.getAttribute('data-status')) === 'done', { timeout: 90000, what: 'the edited answer' });
  assert.equal(await page.getByTestId('turn-user').count(), 1);
  assert.equal(await page.getByTestId('turn-assistant').count(), 1);
  assert.equal((await page.getByTestId('turn-user').textContent()).replace(/^You: /, ''), 'What is the capital of Italy?');
  assert.equal(subscribes.at(-1).prompt, 'What is the capital of Italy?');
  assert.equal(subscribes.at(-1).messages, null);
  await page.getByRole('button', { name: 'Clear chat' }).click();

  // a pasted 12,000-word message shows collapsed, Show more opens it; past the context, no Retry is offered
  const words = Array.from({ length: 12000 }, (_, i) => `word${i % 97}`).join(' ');
  await page.getByLabel('Message').fill(words);
  await page.getByLabel('Message').press('Enter');
  const long = page.getByTestId('turn-user').last();
  const more = long.getByRole('button', { name: 'Show more' });
  await more.waitFor({ timeout: 5000 });
  const collapsedHeight = (await long.boundingBox()).height;
  assert.ok(collapsedHeight < 500, `collapsed message is ${collapsedHeight}px tall`);
  await more.click();
  assert.equal(await long.getByRole('button', { name: 'Show less' }).getAttribute('aria-expanded'), 'true');
  const openHeight = (await long.boundingBox()).height;
  assert.ok(openHeight > collapsedHeight * 3, `opened ${openHeight}px from ${collapsedHeight}px`);
  const overflow = page.getByTestId('turn-assistant').last();
  await waitFor(async () => (await overflow.getAttribute('data-status')) === 'error', { timeout: 60000, what: 'the overflow error' });
  const overflowError = await overflow.getByTestId('turn-error').textContent();
  assert.match(overflowError, /tokens/);
  assert.equal(await overflow.getByRole('button', { name: 'Retry' }).count(), 0, 'Retry offered where it can only fail');
  await page.getByRole('button', { name: 'Clear chat' }).click();

  // web search: "Searching the web…" while it runs, then the notice and the answer. Offline here, the search
  // fails within milliseconds (the reachability check), so every text the stage line shows is recorded
  await page.evaluate(() => {
    window.__stages = [];
    new MutationObserver(() => {
      for (const el of document.querySelectorAll('[data-testid="turn-assistant"] [data-testid="stage"]')) {
        if (window.__stages.at(-1) !== el.textContent) window.__stages.push(el.textContent);
      }
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  await page.getByTestId('web-search-toggle').click();
  await page.getByLabel('Message').fill('What is the capital of France?');
  await page.getByLabel('Message').press('Enter');
  const searching = page.getByTestId('turn-assistant').last();
  await searching.getByTestId('search-notice').waitFor({ timeout: 30000 });
  await screenshot(page, 'chat-searching');
  const stages = await page.evaluate(() => window.__stages);
  assert.equal(stages[0], 'Searching the web…', `the stage line showed ${JSON.stringify(stages)}`);
  await waitFor(async () => (await searching.getAttribute('data-status')) === 'done', { timeout: 90000, what: 'the searched answer' });
  const notice = await searching.getByTestId('search-notice').textContent();
  await page.getByTestId('web-search-toggle').click();
  await page.getByRole('button', { name: 'Clear chat' }).click();

  assert.deepEqual(consoleErrors, []);
  await done();
  return { figures, copied: stored.slice(0, 80), overflowError, notice, collapsedHeight, openHeight, stages };
});
