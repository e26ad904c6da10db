// GraphQL Explorer: GraphiQL renders from our own bundle (no CDN), runs `{ health }`, has docs and history; the
// starter text shows whole and the empty result pane says how to fill it; a query run the moment after a
// subscription (typed over it, no pause) runs as a query.
import { assert, cutLines, flow, openApp, queryEditor, replaceText, screenshot, waitFor } from './lib.mjs';

await flow('explorer', async () => {
  const { page, consoleErrors, consoleWarnings, done } = await openApp('#/explorer');
  const editor = await queryEditor(page);
  // the starter comment shows whole beside the result pane, which says how to fill it
  await page.locator('.graphiql-query-editor .view-line').filter({ hasText: 'GraphQL API' }).waitFor({ timeout: 30000 });
  const hint = page.getByTestId('result-hint');
  await hint.waitFor({ timeout: 15000 });
  const hintText = (await hint.textContent()).trim();
  assert.match(hintText, /Run a query \(Ctrl-Enter/);
  assert.deepEqual(await cutLines(page), [], 'the starter text is cut at the editor\'s edge');
  await screenshot(page, 'explorer-start');
  // replace the default query with { health } and run it
  await replaceText(page, editor, '{ health }');
  await page.getByRole('button', { name: /execute/i }).first().click();
  const response = page.locator('.graphiql-response');
  const text = await waitFor(
    async () => {
      const t = await response.innerText();
      return /"health":\s*"ok"/.test(t) ? t : false;
    },
    { timeout: 30000, what: 'the response' },
  );
  await screenshot(page, 'explorer');
  // the docs sidebar knows the schema
  await page.getByRole('button', { name: /documentation explorer/i }).first().click();
  await page.getByText('Query', { exact: true }).first().waitFor({ timeout: 15000 });
  // history remembers what ran
  await page.getByRole('button', { name: /show history/i }).first().click();
  await page.locator('.graphiql-history-item').first().waitFor({ timeout: 15000 });
  // variables go with the query (without them this one is an error: $x is required)
  await replaceText(page, editor, 'query ($x: Boolean!) { health @include(if: $x) }');
  await page.getByRole('button', { name: /execute/i }).first().click();
  await waitFor(async () => /\$x/.test(await response.innerText()), { timeout: 30000, what: 'the missing-variable error' });
  const variables = page.locator('section.graphiql-editor-tool .monaco-editor').first();
  await replaceText(page, variables, '{"x": true');
  await page.getByRole('button', { name: /execute/i }).first().click();
  await waitFor(
    async () => {
      const t = await response.innerText();
      return /"health":\s*"ok"/.test(t) && !/errors/.test(t);
    },
    { timeout: 30000, what: 'the query with variables' },
  );
  // subscriptions run over graphql-ws
  await replaceText(page, editor, 'subscription { inferStream(prompt: "Say hi", maxNewTokens: 4) { token done } }');
  await page.getByRole('button', { name: /execute/i }).first().click();
  await waitFor(async () => /"done":\s*true/.test(await response.innerText()), { timeout: 60000, what: 'the stream' });
  // a query typed over it and run at once (GraphiQL parses the editor 100 ms after an edit) goes over HTTP
  await replaceText(page, editor, '{ health }');
  await page.getByRole('button', { name: /execute/i }).first().click();
  const afterSubscription = await waitFor(
    async () => {
      const t = (await response.innerText()).replace(/\s+/g, ' ');
      return (/"health":\s*"ok"/.test(t) || /errors/.test(t)) && t;
    },
    { timeout: 30000, what: 'the query after the subscription' },
  );
  assert.doesNotMatch(afterSubscription, /errors|createFetcher/, 'the query right after a subscription failed');
  assert.ok(!(await hint.isVisible()), 'the hint stays over a result');
  assert.deepEqual(consoleErrors, []);
  // Monaco's workers (editor, JSON, GraphQL) started, rather than falling back to the page's thread
  assert.deepEqual(consoleWarnings.filter((w) => /web worker/i.test(w)), []);
  await done();
  return { response: text.replace(/\s+/g, ' ').trim(), hint: hintText, afterSubscription };
});
