// What the web app says when something is wrong, in plain words: a dataset that does not exist (which ones do, not the
// GraphQL argument or the server's folder), and a server the page cannot reach (the header's badge).
import { assert, flow, GRAPHQL_URL, openApp, screenshot, waitFor } from './lib.mjs';

await flow('plain_words', async () => {
  const { page, consoleErrors, done } = await openApp('#/fine-tune');
  const header = page.getByTestId('active-model');
  await header.filter({ hasText: 'SmolLM2' }).waitFor({ timeout: 30000 });

  // a dataset that is not there: said in words, with the ones there are
  await page.locator('#ft-name').fill(`plain-${Date.now().toString(36)}`);
  await page.locator('#ft-dataset').selectOption('@other');
  await page.locator('#ft-dataset-other').fill('no-such-dataset.jsonl');
  await page.locator('#ft-val-fraction').fill('0');
  await page.getByRole('button', { name: 'Start training' }).click();
  const datasetError = (await page.getByTestId('error-ft-dataset').textContent({ timeout: 30000 })).trim();
  assert.match(datasetError, /^There is no dataset “no-such-dataset\.jsonl”\. Pick one from the list: bundled \(the shipped set\)/);
  assert.doesNotMatch(datasetError, /`|DATASET_DIR|uploadDataset|datasetName|\//);
  await page.getByTestId('error-ft-dataset').scrollIntoViewIfNeeded();
  await screenshot(page, 'plain-dataset-1280');

  // the server out of reach for the status: the header says so in words (it polls every 5 s)
  await page.route(GRAPHQL_URL, (route) => route.abort());
  const badge = page.locator('.active-model .badge-error');
  await badge.waitFor({ timeout: 20000 });
  const unreachable = (await badge.textContent()).trim();
  assert.equal(unreachable, "Can't reach the server");
  await page.setViewportSize({ width: 390, height: 844 });
  await screenshot(page, 'plain-unreachable-390');
  await page.unroute(GRAPHQL_URL);
  await header.filter({ hasText: 'SmolLM2' }).waitFor({ timeout: 20000 });

  // the aborted status requests are the only errors in the console
  assert.deepEqual(consoleErrors.filter((e) => !/ERR_FAILED|Failed to load resource/.test(e)), []);
  await done();
  return { datasetError, unreachable };
});
