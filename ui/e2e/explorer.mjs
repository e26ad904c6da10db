// GraphQL Explorer: GraphiQL renders from our own bundle (no CDN), runs `{ health }`, has docs and history.
import { assert, flow, openApp, screenshot, waitFor } from './lib.mjs';

await flow('explorer', async () => {
  const { page, consoleErrors, done } = await openApp('#/explorer');
  await page.locator('.graphiql-container').waitFor({ timeout: 60000 });
  // replace the default query with { health } and run it
  const editor = page.locator('.graphiql-query-editor .monaco-editor').first();
  await editor.waitFor({ timeout: 30000 });
  await editor.click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  await page.keyboard.type('{ health }');
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
  // subscriptions run over graphql-ws
  await editor.click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  await page.keyboard.type('subscription { inferStream(prompt: "Say hi", maxNewTokens: 4) { token done } }');
  await page.getByRole('button', { name: /execute/i }).first().click();
  await waitFor(async () => /"done":\s*true/.test(await response.innerText()), { timeout: 60000, what: 'the stream' });
  assert.deepEqual(consoleErrors.filter((e) => !/monaco|worker/i.test(e)), []);
  await done();
  return { response: text.replace(/\s+/g, ' ').trim() };
});
