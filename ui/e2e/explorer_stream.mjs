// Explorer: an inferStream subscription's text grows in the result pane as it streams (the joined tokens), and
// ends equal to the answer the server sent; at 390 px the result pane keeps a usable width.
import { assert, flow, openApp, queryEditor, replaceText, screenshot, waitFor } from './lib.mjs';

/** The result pane's text as Monaco shows it, its lines in order (wrapped parts joined). */
const paneText = (page) =>
  page.evaluate(() =>
    [...document.querySelectorAll('.graphiql-response .view-line')]
      .map((line) => [parseFloat(line.style.top) || 0, line.textContent ?? ''])
      .sort((a, b) => a[0] - b[0])
      .map(([, text]) => text)
      .join('')
      .replace(/\u00a0/g, ' '),
  );

/** The joined tokens in the pane (`extensions.streamed.text.inferStream`) as JSON escapes them, without any
 * whitespace (Monaco wraps the long line and indents what it wraps), or undefined before the first token. */
function joined(text) {
  const match = /"inferStream":\s*"((?:[^"\\]|\\.)*)"/.exec(text);
  return match ? bare(match[1]) : undefined;
}
const bare = (text) => text.replace(/\s+/g, '');

await flow('explorer_stream', async () => {
  const { page, consoleErrors, done } = await openApp('#/explorer');
  // the tokens as the server sends them over graphql-ws, to compare with what the pane shows
  const tokens = [];
  let finished = false;
  page.on('websocket', (ws) =>
    ws.on('framereceived', ({ payload }) => {
      const message = JSON.parse(String(payload));
      const chunk = message.type === 'next' ? message.payload?.data?.inferStream : undefined;
      if (chunk) tokens.push(chunk.token);
      if (chunk?.done) finished = true;
    }),
  );
  await replaceText(
    page,
    await queryEditor(page),
    'subscription { inferStream(prompt: "Write a short story about a robot who learns to paint.", maxNewTokens: 64) { token done } }',
  );
  await page.getByRole('button', { name: /execute/i }).first().click();

  // read the pane while it streams: the text grows
  const seen = [];
  await waitFor(
    async () => {
      const text = joined(await paneText(page));
      if (text && !finished && text !== seen.at(-1)) seen.push(text);
      return finished;
    },
    { timeout: 120000, interval: 50, what: 'the stream to finish' },
  );
  const answer = tokens.join('');
  const final = await waitFor(
    async () => {
      const text = await paneText(page);
      return /"done":\s*true/.test(text) && joined(text);
    },
    { timeout: 15000, what: 'the last event in the pane' },
  );
  assert.ok(seen.length >= 2, `the pane showed the text growing only ${seen.length} time(s): ${JSON.stringify(seen)}`);
  for (let i = 1; i < seen.length; i += 1) assert.ok(seen[i].startsWith(seen[i - 1]) && seen[i].length > seen[i - 1].length, `the text did not grow: ${JSON.stringify(seen)}`);
  assert.ok(answer.trim(), 'the server sent no text');
  assert.equal(final, bare(JSON.stringify(answer).slice(1, -1)));
  await screenshot(page, 'explorer-stream');

  // at phone width the result pane is wide enough to read, and shows the text
  await page.setViewportSize({ width: 390, height: 844 });
  const response = page.locator('.graphiql-response');
  const box = await waitFor(
    async () => {
      const b = await response.boundingBox();
      return b && b.width > 300 && b.height > 150 ? b : false;
    },
    { timeout: 10000, what: 'a usable result pane at 390 px' },
  );
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the Explorer scrolls sideways by ${overflow} px at 390 px`);
  await screenshot(page, 'phone-explorer');
  assert.deepEqual(consoleErrors, []);
  await done();
  return { reads: seen.length, answer, width: Math.round(box.width) };
});
