// Chat: a question streams its answer (several DOM updates before done) and it contains "Paris", the cursor at
// the end of its last line (not on a line of its own, which the answer would lose when it ends); a follow-up
// question sends the whole conversation; Clear empties it.
import { ask, assert, flow, openApp, recordSubscribes, screenshot, waitFor } from './lib.mjs';

await flow('chat_stream', async () => {
  const { page, context, consoleErrors, done } = await openApp('#/chat');
  // a second tab, open before the question is asked
  const other = await context.newPage();
  await other.goto(page.url());
  await other.locator('#chat-input').waitFor();
  const subscribes = recordSubscribes(page); // what the app sends over graphql-ws
  await page.getByTestId('active-model').filter({ hasText: 'SmolLM2' }).waitFor({ timeout: 30000 });

  // count the answer's text changes as they happen, in the page, and how far below the last line of text the
  // streaming answer ends (the cursor's own line, if it has one)
  await page.evaluate(() => {
    window.__updates = 0;
    window.__cursorGap = { samples: 0, max: 0, line: 0 };
    const cursorGap = (answer) => {
      const block = answer.lastElementChild;
      if (block?.tagName !== 'P' || !block.lastChild) return;
      const range = document.createRange();
      range.selectNodeContents(block);
      const lines = range.getClientRects();
      if (!lines.length) return;
      const gap = answer.getBoundingClientRect().bottom - lines[lines.length - 1].bottom;
      window.__cursorGap.samples += 1;
      window.__cursorGap.max = Math.max(window.__cursorGap.max, Math.round(gap));
      window.__cursorGap.line = parseFloat(getComputedStyle(block).lineHeight);
    };
    new MutationObserver(() => {
      const answers = document.querySelectorAll('[data-testid="answer"]');
      const last = answers[answers.length - 1];
      const text = last?.textContent ?? '';
      if (text !== window.__lastText) {
        window.__lastText = text;
        const row = last?.closest('[data-testid="turn-assistant"]');
        if (row?.getAttribute('data-status') === 'streaming') {
          window.__updates += 1;
          cursorGap(last);
        }
      }
    }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
  });

  const answer = await ask(page, 'What is the capital of France?');
  const text = await answer.getByTestId('answer').textContent();
  const updates = await page.evaluate(() => window.__updates);
  const cursorGap = await page.evaluate(() => window.__cursorGap);
  assert.match(text, /Paris/, `answer: ${text}`);
  assert.ok(updates >= 3, `only ${updates} DOM updates while streaming`);
  assert.ok(cursorGap.samples >= 3, `the streaming answer was measured ${cursorGap.samples} times`);
  assert.ok(
    cursorGap.max < cursorGap.line / 2,
    `the streaming answer ends ${cursorGap.max} px below its text (a line is ${cursorGap.line} px): the cursor has a line of its own`,
  );
  await screenshot(page, 'chat');
  assert.match(await answer.getByTestId('answered-by').textContent(), /SmolLM2/);
  // the other tab takes the conversation; reloading it does not wipe what was saved
  await waitFor(async () => (await other.getByTestId('turn-assistant').count()) === 1, { what: 'the other tab' });
  await other.reload();
  await other.getByTestId('turn-assistant').first().waitFor();
  await other.close();
  await page.reload();
  assert.equal(await page.getByTestId('turn-assistant').count(), 1, 'the conversation was lost across tabs');

  // Shift+Enter adds a line instead of sending
  const input = page.getByLabel('Message');
  await input.fill('line one');
  await input.press('Shift+Enter');
  await input.pressSequentially('line two');
  assert.equal(await input.inputValue(), 'line one\nline two');
  assert.equal(await page.getByTestId('turn-user').count(), 1);

  // a follow-up that only makes sense with the history
  await input.fill('And what is its population?');
  await page.getByRole('button', { name: 'Send' }).click();
  const second = page.getByTestId('turn-assistant').nth(1);
  await waitFor(async () => (await second.getAttribute('data-status')) === 'done', { timeout: 90000, what: 'the follow-up' });
  const followUp = await second.getByTestId('answer').textContent();
  assert.ok(followUp.trim().length > 0, 'empty follow-up answer');
  // the follow-up carried the first question and answer
  assert.equal(subscribes.length, 2);
  assert.equal(subscribes[0].messages, null);
  assert.deepEqual(subscribes[1].messages, [
    { role: 'USER', content: 'What is the capital of France?' },
    { role: 'ASSISTANT', content: text.trim() },
  ]);
  assert.equal(subscribes[1].prompt, 'And what is its population?');

  await page.getByRole('button', { name: 'Clear chat' }).click();
  assert.equal(await page.getByTestId('turn-user').count(), 0);
  assert.deepEqual(consoleErrors, []);
  await done();
  return { updates, cursorGap, answer: text.trim(), followUp: followUp.trim().slice(0, 120) };
});
