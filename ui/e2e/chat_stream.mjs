// Chat: a question streams its answer (several DOM updates before done) and it contains "Paris"; a follow-up
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

  // count the answer's text changes as they happen, in the page
  await page.evaluate(() => {
    window.__updates = 0;
    new MutationObserver(() => {
      const answers = document.querySelectorAll('[data-testid="answer"]');
      const last = answers[answers.length - 1];
      const text = last?.textContent ?? '';
      if (text !== window.__lastText) {
        window.__lastText = text;
        const row = last?.closest('[data-testid="turn-assistant"]');
        if (row?.getAttribute('data-status') === 'streaming') window.__updates += 1;
      }
    }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
  });

  const answer = await ask(page, 'What is the capital of France?');
  const text = await answer.getByTestId('answer').textContent();
  const updates = await page.evaluate(() => window.__updates);
  assert.match(text, /Paris/, `answer: ${text}`);
  assert.ok(updates >= 3, `only ${updates} DOM updates while streaming`);
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
  return { updates, answer: text.trim(), followUp: followUp.trim().slice(0, 120) };
});
