// Fine-tuning on your own data: a file with a bad line is refused in words that name the line; a small chat-format
// JSONL uploads through the Datasets panel (its format and rows listed, its first rows shown as turns); the form trains
// on it with evaluation every 2 steps, and the chart draws the training and evaluation losses with a legend; Compare on
// the History row streams the base model's and the adapter's answers side by side, leaving the server's model as it
// was; the dataset is deleted after asking.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { assert, flow, graphql, openApp, screenshot, waitFor } from './lib.mjs';

const STAMP = Date.now().toString(36);
const DATASET = `pirate-talk-${STAMP}`;
const ADAPTER = `ui-ds-${STAMP}`;
const ROWS = 60; // enough rows for a 0.1 validation split

const dir = mkdtempSync(path.join(os.tmpdir(), 'sb-datasets-'));
const row = (i) =>
  JSON.stringify({
    messages: [
      { role: 'user', content: `Question ${i}: what is ${i} plus ${i}?` },
      { role: 'assistant', content: `Arr, ${i} plus ${i} be ${2 * i}, matey!` },
    ],
  });
// the file's name has a space and brackets: the name field offers it sanitized
const good = path.join(dir, `pirate talk ${STAMP}.jsonl`);
writeFileSync(good, `${Array.from({ length: ROWS }, (_, i) => row(i + 1)).join('\n')}\n`);
const bad = path.join(dir, `broken-${STAMP}.jsonl`);
writeFileSync(bad, `${row(1)}\n${row(2)}\n{"messages": "not a list"}\n`);

await flow('datasets', async () => {
  const { page, consoleErrors, done } = await openApp('#/fine-tune', { width: 1280, height: 900 });
  await page.getByTestId('active-model').filter({ hasText: 'SmolLM2' }).waitFor({ timeout: 30000 });
  const panel = page.getByTestId('datasets');
  const upload = panel.getByRole('button', { name: 'Upload' });

  // a bad row: refused, in words that name its line
  await page.locator('#ds-file').setInputFiles(bad);
  assert.equal(await page.locator('#ds-name').inputValue(), `broken-${STAMP}`);
  await upload.click();
  const badUpload = (await panel.getByTestId('dataset-error').textContent({ timeout: 30000 })).trim();
  assert.match(badUpload, /line 3/);

  // the good file: named after it, uploaded, listed with its format and rows
  await page.locator('#ds-file').setInputFiles(good);
  const offered = await page.locator('#ds-name').inputValue();
  assert.equal(offered, DATASET);
  await upload.click();
  const listed = panel.locator(`[data-testid="dataset-row"][data-name="${DATASET}"]`);
  await listed.waitFor({ timeout: 30000 });
  const uploaded = {
    format: (await listed.getByTestId('dataset-format').textContent()).trim(),
    rows: (await listed.getByTestId('dataset-rows').textContent()).trim(),
  };
  assert.deepEqual(uploaded, { format: 'chat', rows: String(ROWS) });
  assert.equal(await panel.getByTestId('dataset-error').count(), 0, 'the earlier error stayed after a good upload');

  // its first rows, as turns
  await listed.getByRole('button', { name: DATASET, exact: true }).click();
  const preview = panel.getByTestId('dataset-preview');
  await waitFor(async () => (await preview.getByTestId('preview-row').count()) === 5, { what: 'five preview rows' });
  const firstTurns = await preview.getByTestId('preview-row').first().getByTestId('preview-turn').allTextContents();
  assert.deepEqual(firstTurns, ['user: Question 1: what is 1 plus 1?', 'assistant: Arr, 1 plus 1 be 2, matey!']);
  await panel.scrollIntoViewIfNeeded();
  await screenshot(page, 'datasets-panel');

  // train on it from the form: the dataset picked from the list, an evaluation every 2 of 4 steps
  await page.locator('#ft-name').fill(ADAPTER);
  await page.locator('#ft-dataset').selectOption(DATASET);
  await page.locator('#ft-max-steps').fill('4');
  await page.locator('#ft-eval-every').fill('2');
  await page.getByRole('button', { name: 'Start training' }).click();
  const progress = page.getByTestId('progress');
  await waitFor(async () => (await progress.getAttribute('data-job-id')) && (await progress.getAttribute('data-state')) !== 'queued', {
    timeout: 120000,
    what: 'the job to start',
  });
  const jobId = await progress.getAttribute('data-job-id');
  const chart = progress.getByTestId('loss-chart');
  let liveEvalPoints = 0;
  await waitFor(
    async () => {
      const state = await progress.getAttribute('data-state');
      if (state === 'running') liveEvalPoints = Math.max(liveEvalPoints, Number(await chart.getAttribute('data-eval-points')));
      return state !== 'running' && state !== 'queued' ? state : false;
    },
    { timeout: 420000, interval: 250, what: 'the job to finish' },
  );
  const state = await progress.getAttribute('data-state');
  assert.equal(state, 'succeeded', `the job ended ${state}: ${await progress.textContent()}`);

  // the chart: both series, a legend naming them, the best step marked when the job has one
  const record = (await graphql('{ fineTuneJobs { jobId evalHistory { step loss } bestStep trainRows validationRows heldOutPrompts } }'))
    .fineTuneJobs.find((j) => j.jobId === jobId);
  await waitFor(async () => Number(await chart.getAttribute('data-eval-points')) === record.evalHistory.length, {
    what: 'every evaluation on the chart',
  });
  const evalPoints = Number(await chart.getAttribute('data-eval-points'));
  assert.ok(evalPoints >= 2, `evaluation points: ${evalPoints}`);
  assert.ok(record.evalHistory.some((p) => p.step === 0), 'no evaluation at step 0');
  const legend = (await progress.getByTestId('chart-legend').textContent()).trim();
  assert.match(legend, /training loss/);
  assert.match(legend, /evaluation loss/);
  const bestStep = await chart.getAttribute('data-best-step');
  if (record.bestStep != null) assert.equal(bestStep, String(record.bestStep));
  await progress.scrollIntoViewIfNeeded();
  await screenshot(page, 'datasets-chart');

  // Compare from the History row: the held-out questions, both sides streaming at once
  const active = (await graphql('{ adapters { active } }')).adapters.active;
  const historyRow = page.locator(`[data-testid="job-row"][data-job-id="${jobId}"]`);
  await waitFor(async () => (await historyRow.getAttribute('data-state')) === 'succeeded', { timeout: 60000, what: 'the history row' });
  await historyRow.getByRole('button', { name: `Compare ${ADAPTER} with the base model` }).click();
  const compare = page.getByTestId('compare');
  await compare.waitFor();
  const prefilled = await compare.getByTestId('compare-question').count();
  assert.equal(prefilled, Math.min(8, Math.max(1, record.heldOutPrompts.length)));
  if (record.heldOutPrompts.length) assert.equal(await compare.getByLabel('Question 1', { exact: true }).inputValue(), record.heldOutPrompts[0]);
  // one question held out, one typed: two answers each keep the flow short
  while ((await compare.getByTestId('compare-question').count()) > 1) {
    await compare.getByRole('button', { name: 'Remove question 2' }).click();
  }
  await compare.getByRole('button', { name: 'Add question' }).click();
  await compare.getByLabel('Question 2', { exact: true }).fill('What is 3 plus 3?');
  const titles = {
    base: (await compare.getByTestId('compare-title-base').textContent()).trim(),
    adapter: (await compare.getByTestId('compare-title-adapter').textContent()).trim(),
  };
  assert.match(titles.base, /evaluation loss \d/);
  assert.match(titles.adapter, /evaluation loss \d/);
  // watch every change the page makes: did some question show both sides streaming text at the same moment?
  await compare.evaluate((el) => {
    window.__bothStreaming = false;
    new MutationObserver(() => {
      for (const question of el.querySelectorAll('[data-testid="compare-question"]')) {
        const sides = [...question.querySelectorAll('[data-testid="compare-answer"]')];
        const streaming = (side) => side.dataset.status === 'streaming' && side.querySelector('[data-testid="answer-text"]')?.textContent;
        if (sides.length === 2 && sides.every(streaming)) window.__bothStreaming = true;
      }
    }).observe(el, { subtree: true, childList: true, characterData: true, attributes: true });
  });
  await compare.getByRole('button', { name: 'Run' }).click();
  const answers = compare.getByTestId('compare-answer');
  const seen = { bothStreaming: false, statuses: [] };
  await waitFor(
    async () => {
      seen.statuses = await answers.evaluateAll((els) => els.map((el) => el.dataset.status));
      return seen.statuses.length === 4 && seen.statuses.every((s) => s === 'done');
    },
    { timeout: 180000, interval: 250, what: `both answers to every question (${seen.statuses})` },
  );
  seen.bothStreaming = await page.evaluate(() => window.__bothStreaming);
  const texts = await compare.getByTestId('answer-text').allTextContents();
  assert.equal(texts.length, 4);
  assert.ok(texts.every((t) => t.trim().length > 0), `an empty answer: ${JSON.stringify(texts)}`);
  assert.ok(seen.bothStreaming, 'the two sides did not stream at the same time');
  await compare.scrollIntoViewIfNeeded();
  await screenshot(page, 'datasets-compare');
  assert.equal((await graphql('{ adapters { active } }')).adapters.active, active, 'Compare changed the active model');
  await compare.getByRole('button', { name: 'Close' }).click();
  await compare.waitFor({ state: 'detached' });

  // delete the dataset, after asking
  await listed.getByRole('button', { name: `Delete the dataset ${DATASET}` }).click();
  await listed.getByRole('group', { name: `Delete the dataset ${DATASET}?` }).getByRole('button', { name: 'Yes, delete' }).click();
  await listed.waitFor({ state: 'detached', timeout: 30000 });
  assert.equal((await graphql('query ($name: String!) { dataset(name: $name) { name } }', { name: DATASET })).dataset, null, 'the dataset stayed');

  // leave the server as the other flows expect it: neither an adapter nor a job of this flow's
  await graphql(`mutation { deleteAdapter(adapterName: "${ADAPTER}") { ok } }`);
  await graphql(`mutation { deleteFineTuneJob(jobId: "${jobId}") { ok } }`);
  assert.deepEqual(consoleErrors, []);
  await done();
  return {
    badUpload,
    offered,
    uploaded,
    firstTurns,
    liveEvalPoints,
    evalPoints,
    evalHistory: record.evalHistory,
    bestStep: record.bestStep,
    rows: { train: record.trainRows, validation: record.validationRows },
    legend,
    titles,
    compare: { ...seen, prefilled, texts },
  };
});
