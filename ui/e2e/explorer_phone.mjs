// Explorer on a phone (390 x 844): the starter text wraps rather than being cut, the empty result pane says how to
// fill it; the docs open over the editors (which keep their width, the result its lines) and close with the sidebar's
// button; after a reload the docs stay closed.
import { assert, cutLines, flow, openApp, queryEditor, replaceText, screenshot, waitFor } from './lib.mjs';

/** The widths (px) of the operation editor and the result pane, and whether the docs pane shows. */
const layout = (page) =>
  page.evaluate(() => {
    const width = (selector) => Math.round(document.querySelector(selector)?.getBoundingClientRect().width ?? 0);
    // GraphiQL hides the pane by moving it off to the left, transparent
    const docs = document.querySelector('.graphiql-plugin');
    const shown = docs && getComputedStyle(docs).opacity !== '0' && docs.getBoundingClientRect().right > 0;
    return {
      editor: width('.graphiql-query-editor .monaco-editor'),
      result: width('.graphiql-response .monaco-editor'),
      docs: shown ? width('.graphiql-plugin') : 0,
    };
  });

await flow('explorer_phone', async () => {
  const { page, consoleErrors, done } = await openApp('#/explorer', { width: 390, height: 844 });
  const editor = await queryEditor(page);
  await page.locator('.graphiql-query-editor .view-line').filter({ hasText: 'GraphQL API' }).waitFor({ timeout: 30000 });
  await page.getByTestId('result-hint').waitFor({ timeout: 15000 });
  assert.deepEqual(await cutLines(page), [], 'the starter text is cut at the editor\'s edge');
  // it wraps at this width, but the shortcut stays whole on one line ("Ctrl+Enter or ▶", not "Ctrl+" then "Enter")
  const starter = await page
    .locator('.graphiql-query-editor .view-line')
    .evaluateAll((lines) => lines.map((l) => (l.textContent ?? '').replace(/\u00a0/g, ' ')));
  const shortcut = starter.filter((line) => /Ctrl|Enter|▶/.test(line));
  assert.equal(shortcut.length, 1, `the shortcut is split over lines: ${JSON.stringify(shortcut)}`);
  assert.match(shortcut[0], /Ctrl\+Enter or ▶/);
  await screenshot(page, 'phone-explorer-start');

  // a result, then the docs: they cover the editors, which keep their width behind them
  await replaceText(page, editor, '{ health modelInfo { modelId device } }');
  await page.getByRole('button', { name: /execute/i }).first().click();
  const response = page.locator('.graphiql-response');
  await waitFor(async () => /"health":\s*"ok"/.test(await response.innerText()), { timeout: 30000, what: 'the result' });
  const before = await layout(page);
  const docsButton = page.getByRole('button', { name: /documentation explorer/i }).first();
  await docsButton.click();
  await page.getByText('Root Types').first().waitFor({ timeout: 15000 });
  await page.waitForTimeout(300); // GraphiQL's editors re-measure on resize
  const withDocs = await layout(page);
  await screenshot(page, 'phone-explorer-docs');
  assert.ok(withDocs.docs >= 300, `the docs are ${withDocs.docs} px wide at 390 px`);
  assert.equal(withDocs.editor, before.editor, `the editor went from ${before.editor} to ${withDocs.editor} px with the docs open`);
  assert.equal(withDocs.result, before.result, `the result went from ${before.result} to ${withDocs.result} px with the docs open`);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the Explorer scrolls sideways by ${overflow} px with the docs open`);

  // a reload starts with the docs closed and the editors whole
  await page.reload();
  await queryEditor(page);
  await page.locator('.graphiql-query-editor .view-line').first().waitFor({ timeout: 30000 });
  await page.waitForTimeout(500);
  const afterReload = await layout(page);
  await screenshot(page, 'phone-explorer-reload');
  assert.equal(afterReload.docs, 0, 'the docs opened by themselves after a reload');
  assert.equal(afterReload.editor, before.editor, `the editor is ${afterReload.editor} px wide after a reload`);
  // and the sidebar's button still opens them
  await docsButton.click();
  await page.getByText('Root Types').first().waitFor({ timeout: 15000 });
  assert.deepEqual(consoleErrors, []);
  await done();
  return { before, withDocs, afterReload };
});
