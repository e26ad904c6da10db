// Chat: a reload mid-answer does not end it: the page resumes the generation (inferResume from the chunk after the
// last one it kept) and the answer reaches its end with exactly the text the server generated; the end of the
// conversation is in view above the input bar.
import { assert, flow, openApp, recordSubscribes, waitFor } from './lib.mjs';
import { checkSameAnswer, recordRequestIds, waitForStatus, startAnswer, STORY } from './answers.mjs';

await flow('chat_resume', async () => {
  const { page, consoleErrors, done } = await openApp('#/chat');
  const subscribes = recordSubscribes(page);
  const ids = recordRequestIds(page);
  const turn = await startAnswer(page, STORY, 8);
  const before = (await turn.getByTestId('answer').textContent()).trim();
  assert.equal(await turn.getAttribute('data-status'), 'streaming', 'the story ended before the reload');
  const requestId = ids.at(-1);
  assert.ok(requestId, 'the page never got a requestId');

  await page.reload();
  const resumed = page.getByTestId('turn-assistant').last();
  await resumed.waitFor();
  await waitForStatus(resumed, 'done', 240000, 'the answer to go on to its end', () => `errors: ${ids.errors}`);
  const resume = subscribes.find((v) => v.requestId === requestId && 'fromSeq' in v);
  assert.ok(resume, `no inferResume for ${requestId} after the reload: ${JSON.stringify(subscribes)}`);
  assert.ok(resume.fromSeq > 0, `resumed from ${resume.fromSeq}, though chunks had been shown`);
  assert.equal(await resumed.getByTestId('stopped').count(), 0, 'the resumed answer reads "Stopped"');

  const { server, shown } = await checkSameAnswer(page, resumed, requestId, assert);
  assert.ok(shown.length > before.length, 'the answer did not grow after the reload');

  // the end of the conversation (the answer's status line) is in view, above the input bar
  const layout = await page.evaluate(() => {
    const log = document.querySelector('.conversation').getBoundingClientRect();
    const metas = document.querySelectorAll('[data-testid="turn-assistant"] .meta');
    const meta = metas[metas.length - 1].getBoundingClientRect();
    const composer = document.querySelector('.composer').getBoundingClientRect();
    return { logBottom: log.bottom, metaBottom: meta.bottom, composerTop: composer.top };
  });
  assert.ok(layout.metaBottom <= layout.logBottom + 1, `the last status line is hidden: ${JSON.stringify(layout)}`);
  assert.ok(layout.metaBottom <= layout.composerTop, `the last status line is under the input bar: ${JSON.stringify(layout)}`);

  assert.deepEqual(consoleErrors, []);
  await done();
  return { requestId, fromSeq: resume.fromSeq, chunks: server.seqs.length, chars: server.text.length };
});
