// Continue: an answer cut off at the token limit offers Continue, which sends the conversation with the cut-off
// answer as its last message and asks for the rest; what comes back is added to the same answer (no new turn), and
// its token count includes both parts. Seeded from storage (a short answer length keeps it fast).
import { assert, flow, openApp, recordSubscribes, screenshot, waitFor } from './lib.mjs';

const QUESTION = 'Write a long story about a dragon who learns to bake bread.';
const PARTIAL = 'Once upon a time, in a land far away, there lived a dragon named';
const STORAGE = {
  'switchboard.chats.v1': JSON.stringify({ open: 'c1', items: [{ id: 'c1', title: QUESTION, named: false, usedAt: 1 }] }),
  'switchboard.chat.v1.c1': JSON.stringify({
    turns: [
      { id: 1, role: 'user', content: QUESTION, status: 'done' },
      { id: 2, role: 'assistant', content: PARTIAL, status: 'done', finishReason: 'length', completionTokens: 16 },
    ],
    webSearch: false,
    adapter: null,
    settings: { maxNewTokens: 8, temperature: null, systemPrompt: '' },
  }),
};

await flow('chat_continue', async () => {
  const { page, consoleErrors, done } = await openApp('#/chat', { width: 1280, height: 800, storage: STORAGE });
  const subscribes = recordSubscribes(page);
  await page.getByTestId('active-model').filter({ hasText: 'SmolLM2' }).waitFor({ timeout: 30000 });
  const answer = page.getByTestId('turn-assistant').last();
  const button = answer.getByRole('button', { name: 'Continue' });
  await button.waitFor({ timeout: 5000 });
  await screenshot(page, 'chat-continue');
  await button.click();
  await waitFor(async () => (await answer.getAttribute('data-status')) === 'done', { timeout: 60000, what: 'the rest of the answer' });
  assert.equal(subscribes.length, 1);
  const sent = subscribes[0];
  assert.match(sent.prompt, /^Continue/);
  assert.deepEqual(sent.messages, [
    { role: 'USER', content: QUESTION },
    { role: 'ASSISTANT', content: PARTIAL },
  ]);
  assert.equal(sent.maxNewTokens, 8);
  // the same answer, longer; no new turn
  assert.equal(await page.getByTestId('turn-assistant').count(), 1);
  assert.equal(await page.getByTestId('turn-user').count(), 1);
  const text = (await answer.getByTestId('answer').textContent()).trim();
  assert.ok(text.startsWith(PARTIAL) && text.length > PARTIAL.length + 1, `after Continue: ${text}`);
  const tokens = Number((await answer.getByTestId('tokens').textContent()).match(/\d+/)[0]);
  assert.ok(tokens > 16 && tokens <= 24, `the count after Continue is ${tokens}`);
  // cut off again (8 tokens): Continue is offered again
  await button.waitFor({ timeout: 5000 });
  await screenshot(page, 'chat-continued');
  assert.deepEqual(consoleErrors, []);
  await done();
  return { text, tokens };
});
