// Fine-tune from the form: a server error shows beside its field; a small job runs to completion with a live
// loss chart, a second job waits with its queue position; a reload during training resumes the progress view and
// keeps the form's values; the form's word on the second job follows it (its place, then that it trains); each
// Cancel is named by its job and asks first, and the panel says what was cancelled; the adapter appears; Make active
// changes the header, the base model's Make active restores it; Delete removes; History then marks the job's adapter
// deleted, and Train again fills the form with the job's settings; Reset brings back the defaults.
import { ask, assert, flow, graphql, openApp, recordSubscribes, screenshot, waitFor } from './lib.mjs';

const NAME = `ui-e2e-${Date.now().toString(36)}`;
const LONG = `${NAME}-long`;

async function fillForm(page, { name, samples = '8', steps = '6', dataset = '' }) {
  await page.locator('#ft-name').fill(name);
  // the dataset: bundled from the list, or another typed in (the list holds the uploaded datasets)
  if (dataset) {
    await page.locator('#ft-dataset').selectOption('@other');
    await page.locator('#ft-dataset-other').fill(dataset);
  } else {
    await page.locator('#ft-dataset').selectOption('bundled');
  }
  await page.locator('#ft-samples').fill(samples);
  await page.locator('#ft-max-steps').fill(steps);
  // nothing held out: no evaluation passes between steps (the datasets flow covers evaluation), so the jobs stay
  // as quick as this flow's timing needs
  await page.locator('#ft-val-fraction').fill('0');
}

await flow('fine_tune', async () => {
  const { page, consoleErrors, done } = await openApp('#/fine-tune');
  const header = page.getByTestId('active-model');
  await header.filter({ hasText: 'SmolLM2' }).waitFor({ timeout: 30000 });
  const submit = page.getByRole('button', { name: 'Start training' });

  // the server's error for an unknown dataset shows next to the dataset field
  await fillForm(page, { name: NAME, dataset: 'no-such-dataset.jsonl' });
  await submit.click();
  const datasetError = await page.getByTestId('error-ft-dataset').textContent({ timeout: 30000 });
  assert.match(datasetError, /no-such-dataset/);

  // a small job, and a long one that must wait behind it
  await fillForm(page, { name: NAME, samples: '24', steps: '6' });
  await submit.click();
  const progress = page.getByTestId('progress');
  // the job by its adapter's name: the progress view may still show a job an earlier flow finished
  const firstJob = await waitFor(
    async () => (await graphql('{ fineTuneJobs { jobId adapterName } }')).fineTuneJobs.find((j) => j.adapterName === NAME)?.jobId,
    { what: 'the first job queued' },
  );
  await waitFor(async () => (await progress.getAttribute('data-job-id')) === firstJob, { what: 'the progress view on the first job' });
  await fillForm(page, { name: LONG, samples: '64', steps: '400' });
  await submit.click();
  const queued = page.getByTestId('queued-job').filter({ hasText: LONG });
  await queued.waitFor({ timeout: 30000 });
  const position = (await queued.textContent()).trim();
  const notice = page.getByTestId('train-notice');
  const notices = [(await notice.textContent()).trim()];
  assert.equal(notices[0], `Queued “${LONG}” (1 job ahead).`);
  // each Cancel says which job it cancels
  await progress.getByRole('button', { name: `Cancel job ${NAME}`, exact: true }).waitFor();
  await queued.getByRole('button', { name: `Cancel job ${LONG}`, exact: true }).waitFor();

  // running with at least one step, then reload: the same job's progress comes back
  await waitFor(async () => (await progress.getAttribute('data-state')) === 'running', { timeout: 120000, what: 'running' });
  await waitFor(async () => Number(await page.getByTestId('loss-chart').first().getAttribute('data-points')) >= 1, {
    timeout: 120000,
    what: 'a first loss point',
  });
  await screenshot(page, 'fine-tune-training');
  await page.reload();
  await progress.waitFor({ timeout: 30000 });
  // the form kept what was typed last (the name goes once a job is queued)
  const keptAfterReload = {
    name: await page.locator('#ft-name').inputValue(),
    samples: await page.locator('#ft-samples').inputValue(),
    steps: await page.locator('#ft-max-steps').inputValue(),
    fraction: await page.locator('#ft-val-fraction').inputValue(),
  };
  assert.deepEqual(keptAfterReload, { name: '', samples: '64', steps: '400', fraction: '0' });
  // and its word on the job queued last comes back with the job list
  notices.push(await waitFor(async () => (await notice.textContent()).trim(), { timeout: 15000, what: "the form's word after the reload" }));
  assert.match(notices[1], new RegExp(`^Queued “${LONG}”`));
  const afterReload = { job: await progress.getAttribute('data-job-id'), state: await progress.getAttribute('data-state') };
  assert.equal(afterReload.job, firstJob, 'the progress view did not resume the running job');
  const bar = progress.getByRole('progressbar');
  await waitFor(async () => Number(await bar.getAttribute('aria-valuenow')) >= 1, { timeout: 60000, what: 'steps after reload' });

  // the first job succeeds; its row in History has its curve
  const row = page.locator(`[data-testid="job-row"][data-job-id="${firstJob}"]`);
  await waitFor(async () => (await row.getAttribute('data-state')) === 'succeeded', { timeout: 240000, what: 'success' });
  const jobs = (await graphql('{ fineTuneJobs { jobId state lossHistory totalSteps } }')).fineTuneJobs;
  const record = jobs.find((j) => j.jobId === firstJob);
  assert.equal(record.state, 'succeeded');
  assert.ok(record.lossHistory.length >= 2, `loss history ${record.lossHistory}`);
  const sparkPoints = Number(await row.getByTestId('loss-sparkline').getAttribute('data-points'));
  assert.equal(sparkPoints, record.lossHistory.length);

  // the second job now runs, and the form's word on it says so (it said "Queued … (1 job ahead)" to the end)
  await waitFor(async () => (await progress.getAttribute('data-state')) === 'running' && (await progress.getAttribute('data-job-id')) !== firstJob, {
    timeout: 120000,
    what: 'the second job to run',
  });
  const secondJob = await progress.getAttribute('data-job-id');
  const chartPoints = Number(await page.getByTestId('loss-chart').first().getAttribute('data-points'));
  notices.push(
    await waitFor(async () => ((await notice.textContent()).includes('is training') ? (await notice.textContent()).trim() : false), {
      timeout: 15000,
      what: 'the form to say the second job trains',
    }),
  );
  assert.equal(notices[2], `“${LONG}” is training: see Training progress.`);
  // Cancel asks first; No keeps the job
  const cancelSecond = progress.getByRole('button', { name: `Cancel job ${LONG}`, exact: true });
  await cancelSecond.click();
  const question = progress.getByRole('group', { name: `Cancel the job ${LONG}?` });
  await question.waitFor();
  await progress.scrollIntoViewIfNeeded();
  await screenshot(page, 'fine-tune-cancel-asks');
  await page.setViewportSize({ width: 390, height: 844 });
  await question.scrollIntoViewIfNeeded();
  await screenshot(page, 'phone-fine-tune-cancel-asks');
  await page.setViewportSize({ width: 1280, height: 860 });
  await question.getByRole('button', { name: 'No, keep it' }).click();
  await cancelSecond.waitFor();
  assert.equal(await progress.getAttribute('data-state'), 'running', 'No cancelled the job');
  // Yes cancels it, and the panel says so
  await cancelSecond.click();
  await question.getByRole('button', { name: 'Yes, cancel' }).click();
  const secondRow = page.locator(`[data-testid="job-row"][data-job-id="${secondJob}"]`);
  await waitFor(async () => (await secondRow.getAttribute('data-state')) === 'cancelled', { timeout: 60000, what: 'cancelled' });
  const cancelStatus = page.getByTestId('cancel-status');
  const cancelSaid = await waitFor(async () => /^Cancelled/.test(await cancelStatus.textContent()) && (await cancelStatus.textContent()).trim(), {
    timeout: 15000,
    what: 'the word that the job was cancelled',
  });
  assert.equal(cancelSaid, `Cancelled “${LONG}”.`);
  await waitFor(async () => (await notice.textContent()).trim() === '', { timeout: 15000, what: "the form's word on the ended job to go" });
  await screenshot(page, 'fine-tune-cancelled');

  // the adapter is listed; Make active changes the header, the base model's Make active restores it
  const adapterRow = page.locator(`[data-testid="model-row"][data-name="${NAME}"]`);
  await adapterRow.waitFor({ timeout: 30000 });
  await adapterRow.getByRole('button', { name: 'Make active' }).click();
  await header.filter({ hasText: NAME }).waitFor({ timeout: 30000 });
  assert.match(await adapterRow.getAttribute('class'), /active-row/);
  await screenshot(page, 'fine-tune');
  // the header shows the registry's choice at once; the worker serves it within moments (loadAdapter waits for it)
  await waitFor(async () => (await graphql('{ modelInfo { activeAdapter } }')).modelInfo.activeAdapter === NAME, {
    timeout: 15000,
    what: 'the worker to serve the adapter',
  });
  // while the adapter is active, a conversation can still pick the base model (per-request choice)
  const subscribes = recordSubscribes(page);
  await page.getByRole('link', { name: 'Chat' }).click();
  await page.locator('#chat-adapter').selectOption('@base'); // the "Base model (…)" choice
  const baseTurn = await ask(page, 'Hi', { timeout: 120000 });
  assert.equal(subscribes.at(-1).baseModel, true);
  assert.equal(subscribes.at(-1).adapter, null);
  assert.match(await baseTurn.locator('.meta').textContent(), /base model/);
  await page.getByRole('link', { name: 'Fine-tune' }).click();
  await page.locator('[data-testid="model-row"][data-name="base"]').getByRole('button', { name: 'Make active' }).click();
  await header.filter({ hasText: 'SmolLM2' }).waitFor({ timeout: 30000 });
  await waitFor(async () => (await graphql('{ modelInfo { activeAdapter } }')).modelInfo.activeAdapter === null, {
    timeout: 15000,
    what: 'the worker to go back to the base model',
  });

  // Delete asks first, then removes it
  await adapterRow.getByRole('button', { name: 'Delete' }).click();
  await adapterRow.getByRole('button', { name: 'Yes, delete' }).click();
  await adapterRow.waitFor({ state: 'detached', timeout: 30000 });
  assert.ok(!(await graphql('{ adapters { available } }')).adapters.available.includes(NAME));

  // History marks the job whose adapter was deleted, and Train again fills the form with that job's settings
  await waitFor(async () => (await row.getAttribute('data-adapter')) === 'deleted', { timeout: 30000, what: 'the deleted mark' });
  const gone = (await row.getByTestId('adapter-gone').textContent()).trim();
  await row.getByRole('button', { name: `Train again with the settings of ${NAME}` }).click();
  await page.getByTestId('form-filled').filter({ hasText: NAME }).waitFor();
  const filled = {
    focused: await page.evaluate(() => document.activeElement?.id),
    name: await page.locator('#ft-name').inputValue(),
    samples: await page.locator('#ft-samples').inputValue(),
    steps: await page.locator('#ft-max-steps').inputValue(),
    fraction: await page.locator('#ft-val-fraction').inputValue(),
    dataset: await page.locator('#ft-dataset').inputValue(),
  };
  assert.deepEqual(filled, { focused: 'ft-name', name: '', samples: '24', steps: '6', fraction: '0', dataset: 'bundled' });
  // the form's word on where the settings came from shows above the name, below the header
  const wordInView = await page.evaluate(() => {
    const header = document.querySelector('header').getBoundingClientRect();
    const word = document.querySelector('[data-testid="form-filled"]').getBoundingClientRect();
    return word.top >= header.bottom && word.bottom <= window.innerHeight;
  });
  assert.ok(wordInView, 'the word on the filled-in settings is out of view');
  await screenshot(page, 'fine-tune-train-again');
  await row.scrollIntoViewIfNeeded();
  await screenshot(page, 'fine-tune-history-deleted');
  // Reset brings back the defaults, also after a reload
  await page.getByRole('button', { name: 'Reset to defaults' }).click();
  await page.reload();
  await page.locator('#ft-samples').waitFor();
  assert.deepEqual(
    [await page.locator('#ft-samples').inputValue(), await page.locator('#ft-max-steps').inputValue(), await page.locator('#ft-lr').inputValue()],
    ['', '', '0.0002'],
  );

  // the cancelled job leaves the history on Remove, once confirmed
  await secondRow.getByRole('button', { name: /^Remove/ }).click();
  await secondRow.getByRole('button', { name: 'Yes', exact: true }).click();
  await secondRow.waitFor({ state: 'detached', timeout: 30000 });
  const left = (await graphql('{ fineTuneJobs { jobId } }')).fineTuneJobs.map((j) => j.jobId);
  assert.ok(!left.includes(secondJob) && left.includes(firstJob), `jobs left: ${left}`);

  assert.deepEqual(consoleErrors, []);
  await done();
  return {
    datasetError,
    position,
    afterReload,
    steps: record.totalSteps,
    losses: record.lossHistory,
    chartPointsOfSecondJob: chartPoints,
    notices,
    cancelSaid,
    keptAfterReload,
    gone,
    filled,
  };
});
