// The Fine-tune page tells what a job is doing: a field focused after a validation error sits below the header; a
// small job shows its stage and elapsed time (never "0 steps" with an empty bar while loading), then steps and an
// estimate; the loss chart's axes are labelled, start at 0 and can be smoothed; History shows the job's settings and
// duration and asks before removing it; the Models table keeps its column widths when "Delete?" appears.
import { assert, flow, graphql, openApp, screenshot, waitFor } from './lib.mjs';

const NAME = `ui-stages-${Date.now().toString(36)}`;

/** The widths of the Models table's header cells, rounded to a tenth of a pixel. */
const columnWidths = (page) =>
  page.$$eval('table.ft-models thead th', (cells) => cells.map((c) => Math.round(c.getBoundingClientRect().width * 10) / 10));

await flow('fine_tune_stages', async () => {
  const { page, consoleErrors, done } = await openApp('#/fine-tune', { width: 1280, height: 640 });
  await page.getByTestId('active-model').filter({ hasText: 'SmolLM2' }).waitFor({ timeout: 30000 });
  const submit = page.getByRole('button', { name: 'Start training' });

  // a validation error focuses its field, which lands below the header, label included
  await submit.scrollIntoViewIfNeeded();
  await page.locator('#ft-name').fill('');
  await page.locator('#ft-lr').fill('not a number');
  const scrolledBefore = await page.locator('main').evaluate((m) => m.scrollTop);
  await submit.click();
  await waitFor(async () => page.evaluate(() => document.activeElement?.id === 'ft-name'), { what: 'the name field focused' });
  const focus = await page.evaluate(() => {
    const header = document.querySelector('header').getBoundingClientRect();
    const field = document.activeElement.closest('.field').getBoundingClientRect();
    const input = document.activeElement.getBoundingClientRect();
    return { headerBottom: header.bottom, fieldTop: field.top, inputTop: input.top, viewport: window.innerHeight };
  });
  assert.ok(focus.fieldTop >= focus.headerBottom, `the focused field is under the header: ${JSON.stringify(focus)}`);
  assert.ok(focus.inputTop < focus.viewport, `the focused field is below the window: ${JSON.stringify(focus)}`);

  // a small job: its stage and elapsed time while loading, steps and an estimate while training
  await page.locator('#ft-name').fill(NAME);
  await page.locator('#ft-lr').fill('0.0002');
  await page.locator('#ft-samples').fill('8');
  await page.locator('#ft-max-steps').fill('4');
  await page.locator('#ft-val-fraction').fill('0'); // no evaluation passes: the job stays small
  await submit.click();
  const progress = page.getByTestId('progress');
  await waitFor(async () => (await progress.getAttribute('data-job-id')) && (await progress.getAttribute('data-state')) === 'running', {
    timeout: 120000,
    what: 'the job to run',
  });
  const jobId = await progress.getAttribute('data-job-id');
  const stage = page.getByTestId('job-stage');
  const seen = { stages: [], elapsed: [], eta: [], emptyBarWhileLoading: false, stepsWhileLoading: false, shot: false };
  await waitFor(
    async () => {
      const state = await progress.getAttribute('data-state');
      if (state !== 'running') return state;
      const snapshot = await progress.evaluate((el) => ({
        stage: el.querySelector('[data-testid="job-stage"]')?.getAttribute('data-stage') ?? null,
        words: el.querySelector('[data-testid="job-stage"] [role="status"]')?.textContent ?? null,
        elapsed: el.querySelector('[data-testid="job-elapsed"]')?.textContent ?? null,
        eta: el.querySelector('[data-testid="job-eta"]')?.textContent ?? null,
        bar: Boolean(el.querySelector('[role="progressbar"]')),
        steps: el.querySelector('[data-testid="job-steps"]')?.textContent ?? null,
      }));
      const key = `${snapshot.stage}:${snapshot.words}`;
      if (seen.stages.at(-1) !== key) seen.stages.push(key);
      if (snapshot.elapsed && seen.elapsed.at(-1) !== snapshot.elapsed) seen.elapsed.push(snapshot.elapsed);
      if (snapshot.eta && !seen.eta.includes(snapshot.eta)) seen.eta.push(snapshot.eta);
      if (snapshot.stage === 'loading_data' || snapshot.stage === 'loading_model') {
        seen.emptyBarWhileLoading ||= snapshot.bar;
        seen.stepsWhileLoading ||= Boolean(snapshot.steps);
        if (!seen.shot) {
          seen.shot = true;
          await progress.scrollIntoViewIfNeeded();
          await screenshot(page, 'fine-tune-loading');
        }
      }
      return false;
    },
    { timeout: 420000, interval: 100, what: 'the job to finish' },
  );
  assert.equal(await progress.getAttribute('data-state'), 'succeeded');
  assert.ok(
    seen.stages.some((s) => s.startsWith('loading_model:Loading the model') || s.startsWith('loading_data:Loading the data')),
    `no loading stage shown: ${seen.stages}`,
  );
  assert.ok(seen.stages.some((s) => s === 'training:Training'), `no training stage shown: ${seen.stages}`);
  assert.ok(!seen.emptyBarWhileLoading && !seen.stepsWhileLoading, 'a progress bar or step count showed while loading');
  assert.ok(seen.elapsed.length > 0 && seen.elapsed.every((e) => /^\d+ s elapsed$|^\d+ min \d\d s elapsed$/.test(e)), `elapsed: ${seen.elapsed}`);
  assert.ok(seen.eta.length > 0 && seen.eta.every((e) => /^about .* left$|^almost done$/.test(e)), `estimates: ${seen.eta}`);
  assert.equal(await stage.count(), 0, 'a finished job still shows a stage');
  const took = await page.getByTestId('job-took').textContent();
  assert.match(took, /^took \d+ (s|min \d\d s)$/);

  // the loss chart: labelled axes, ticks from 0, smoothing on demand
  const chart = page.getByTestId('loss-chart').first();
  await waitFor(async () => Number(await chart.getAttribute('data-points')) >= 2, { what: 'two loss points' });
  const axes = {
    y: await chart.getByTestId('axis-y').textContent(),
    x: await chart.getByTestId('axis-x').textContent(),
    yTicks: await chart.locator('text[data-axis="y"]').allTextContents(),
    xTicks: await chart.locator('text[data-axis="x"]').allTextContents(),
    yLow: Number(await chart.getAttribute('data-y-low')),
  };
  assert.equal(axes.y, 'loss');
  assert.equal(axes.x, 'step');
  assert.equal(axes.yTicks[0], '0');
  assert.equal(axes.yLow, 0);
  assert.ok(axes.xTicks.length >= 2 && axes.xTicks.every((t) => /^\d+$/.test(t)), `step ticks ${axes.xTicks}`);
  await page.getByRole('checkbox', { name: /Smooth the curve/ }).check();
  assert.equal(await chart.getAttribute('data-smoothed'), 'true');
  // the training loss raw and smoothed (the held-out evaluation loss, when the job has one, is a line of its own)
  assert.equal(await chart.locator('polyline:not(.line-eval)').count(), 2);
  await screenshot(page, 'fine-tune-chart');

  // History: the job's settings and duration
  const row = page.locator(`[data-testid="job-row"][data-job-id="${jobId}"]`);
  await waitFor(async () => (await row.getAttribute('data-state')) === 'succeeded', { timeout: 60000, what: 'the history row' });
  const settings = await row.getByTestId('job-settings').textContent();
  for (const part of ['datasetbundled', 'samples8', 'epochs1', 'learning rate0.0002', 'LoRA r / alpha8 / 16', 'devicecpu']) {
    assert.ok(settings.includes(part), `settings "${settings}" lack ${part}`);
  }
  const duration = (await row.getByTestId('job-duration').textContent()).trim();
  assert.match(duration, /^\d+ s$|^\d+ min \d\d s$/);

  // at 1280 px the History table fits its card (settings and duration added, Created left to a tooltip)
  const historyOverflow = await page.$eval('.ft-history', (table) => table.parentElement.scrollWidth - table.parentElement.clientWidth);
  await row.scrollIntoViewIfNeeded();
  await screenshot(page, 'fine-tune-history');
  assert.ok(historyOverflow <= 0, `the History table scrolls sideways by ${historyOverflow} px at 1280 px`);
  // ...and still fits with the widest values a row can hold: a 64-character name, a failed job's long error, a long
  // duration and step count (a copy of the real row, filled in, measured and removed)
  const worstOverflow = await page.$eval('[data-testid="job-row"]', (real) => {
    const copy = real.cloneNode(true);
    copy.querySelector('th[scope="row"] > span').textContent = 'W'.repeat(64);
    const state = copy.querySelector('td[data-label="State"]');
    state.querySelector('.badge').textContent = 'cancelled';
    const error = document.createElement('div');
    error.className = 'field-error ft-job-error ft-job-error-clamped';
    error.textContent = 'CUDA out of memory. Tried to allocate 2.00 GiB; reduce the batch size or the LoRA rank. '.repeat(4);
    state.append(error);
    copy.querySelector('td[data-label="Steps"]').textContent = '10000/10000 steps';
    copy.querySelector('td[data-label="Duration"]').textContent = '59 min 59 s';
    copy.querySelector('td[data-label="Final loss"]').textContent = '1.000e+04';
    real.parentElement.append(copy);
    const wrap = real.closest('.table-wrap');
    const overflow = wrap.scrollWidth - wrap.clientWidth;
    const cells = [...copy.children].map((cell) => `${cell.dataset.label ?? 'Adapter'} ${Math.round(cell.getBoundingClientRect().width)}`);
    copy.remove();
    return { overflow, cells: `${cells.join(', ')} (in ${wrap.clientWidth} px)` };
  });
  assert.ok(
    worstOverflow.overflow <= 0,
    `with its widest values the History table scrolls sideways by ${worstOverflow.overflow} px: ${worstOverflow.cells}`,
  );

  // at phone width the History row (settings included) fits without sideways scrolling
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(300);
  const phoneOverflow = await page.evaluate(() =>
    [...document.querySelectorAll('main .table-wrap')]
      .filter((el) => el.scrollWidth > el.clientWidth)
      .map((el) => `${el.querySelector('table')?.className}: ${el.scrollWidth - el.clientWidth} px`),
  );
  await row.scrollIntoViewIfNeeded();
  await screenshot(page, 'phone-fine-tune-history');
  assert.deepEqual(phoneOverflow, [], 'tables scroll sideways at 390 px');
  await page.setViewportSize({ width: 1280, height: 640 });

  // the Models table keeps its column widths when "Delete?" appears
  const adapterRow = page.locator(`[data-testid="model-row"][data-name="${NAME}"]`);
  await adapterRow.waitFor({ timeout: 30000 });
  await adapterRow.scrollIntoViewIfNeeded();
  // a 64-character name with no '-' or '.' wraps in the Models table, and an unbroken name or path wraps inside the
  // Training progress card instead of widening it (copies of real elements, filled in, measured and removed)
  const unbroken = await page.$eval(`[data-testid="model-row"][data-name="${NAME}"]`, (real) => {
    const copy = real.cloneNode(true);
    copy.querySelector('th[scope="row"] > span').textContent = 'W'.repeat(64);
    real.parentElement.append(copy);
    const wrap = real.closest('.table-wrap');
    const models = wrap.scrollWidth - wrap.clientWidth;
    copy.remove();
    const card = document.querySelector('[data-testid="progress"]').closest('.card');
    const texts = [];
    for (const [tag, text] of [
      ['p', `Saved adapter ${'W'.repeat(64)}.`],
      ['p', `cannot load dataset '/srv/data/${'a'.repeat(230)}.jsonl'`],
    ]) {
      const el = document.createElement(tag);
      el.textContent = text;
      card.querySelector('.ft-progress').append(el);
      texts.push(el);
    }
    const progress = card.scrollWidth - card.clientWidth;
    texts.forEach((el) => el.remove());
    return { models, progress };
  });
  assert.deepEqual(unbroken, { models: 0, progress: 0 }, 'unbroken names widen the Models table or the progress card');

  const widthsBefore = await columnWidths(page);
  await adapterRow.getByRole('button', { name: 'Delete', exact: true }).click();
  await adapterRow.getByRole('group', { name: `Delete ${NAME}?` }).waitFor();
  const widthsAsking = await columnWidths(page);
  assert.deepEqual(widthsAsking, widthsBefore, 'the Models table shifted when "Delete?" appeared');
  await screenshot(page, 'fine-tune-delete-confirm');
  await adapterRow.getByRole('button', { name: 'Yes, delete' }).click();
  await adapterRow.waitFor({ state: 'detached', timeout: 30000 });

  // removing the job from History asks first; No keeps it, Yes removes it
  await row.getByRole('button', { name: /^Remove the succeeded job/ }).click();
  const confirm = row.getByRole('group', { name: `Remove the job ${NAME} from the history?` });
  await confirm.waitFor();
  // the list is read again every 5 s: the open question and the keyboard focus on No outlive a poll
  const focusedNo = async () => page.evaluate(() => document.activeElement?.textContent?.trim() === 'No' && document.activeElement.closest('[data-testid="job-row"]')?.dataset.jobId);
  await waitFor(async () => (await focusedNo()) === jobId, { what: 'focus on No' });
  await page.waitForTimeout(6000);
  assert.equal(await focusedNo(), jobId, 'a poll of the job list took the focus from "No"');
  await confirm.getByRole('button', { name: 'No' }).click();
  await confirm.waitFor({ state: 'detached' });
  assert.ok((await graphql('{ fineTuneJobs { jobId } }')).fineTuneJobs.some((j) => j.jobId === jobId), 'No removed the job');
  await row.getByRole('button', { name: /^Remove the succeeded job/ }).click();
  await confirm.getByRole('button', { name: 'Yes', exact: true }).click();
  await row.waitFor({ state: 'detached', timeout: 30000 });
  assert.ok(!(await graphql('{ fineTuneJobs { jobId } }')).fineTuneJobs.some((j) => j.jobId === jobId), 'the job stayed');

  assert.deepEqual(consoleErrors, []);
  await done();
  return { scrolledBefore, focus, seen, took, axes, settings, duration, historyOverflow, widthsBefore, widthsAsking };
});
