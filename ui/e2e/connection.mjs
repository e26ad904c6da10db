// The link to the gateway in words. A network that drops mid-answer reads "Offline", the answer keeps streaming
// state ("Reconnecting…") and goes on to its end with the server's text once the network is back. A gateway
// that cannot be reached reads "Can't reach the server" (never [object Event]) and the page finds it back on its
// own. (Playwright's setOffline sets navigator.onLine but leaves open websockets alone in this Chromium: the
// flow routes the page's websockets through Playwright to cut them for real; the gateway sees them close.)
import { assert, ask, flow, openApp, waitFor } from './lib.mjs';
import { checkSameAnswer, recordRequestIds, waitForStatus, startAnswer, STORY } from './answers.mjs';

const statusText = async (page) => ((await page.getByTestId('connection-status').textContent()) ?? '').trim();

await flow('connection', async () => {
  const { page, context, consoleErrors, done } = await openApp('#/chat');
  const ids = recordRequestIds(page);
  // every websocket of the page goes through here: refused while `refuse`, else on to the gateway
  let refuse = false;
  const open = [];
  await page.routeWebSocket(/\/graphql/, (ws) => {
    if (refuse) return ws.close({ code: 4000, reason: '' });
    open.push({ ws, server: ws.connectToServer() });
  });
  const cut = async () => {
    refuse = true;
    const links = open.splice(0);
    for (const { ws, server } of links) {
      // a socket the app already closed (idle) is gone on both sides: nothing to cut
      await server.close().catch(() => undefined);
      await ws.close({ code: 1001, reason: '' }).catch(() => undefined);
    }
    return links.length;
  };
  assert.equal(await page.getByTestId('connection-status').getAttribute('role'), 'status');

  // 1. the network drops for a few seconds mid-answer
  const turn = await startAnswer(page, STORY, 8);
  const requestId = ids.at(-1);
  await context.setOffline(true);
  const closedSockets = await cut();
  await waitFor(async () => (await statusText(page)) === 'Offline', { timeout: 5000, what: '"Offline"' });
  await waitFor(async () => (await turn.getByTestId('reconnecting').count()) > 0, { timeout: 5000, what: '"Reconnecting…"' });
  assert.equal(await turn.getAttribute('data-status'), 'streaming', 'the answer ended when the network went');
  await page.waitForTimeout(2500);
  refuse = false;
  await context.setOffline(false);
  await waitForStatus(turn, 'done', 240000, 'the answer to go on to its end', () => `errors: ${ids.errors}`);
  await waitFor(async () => (await statusText(page)) === '', { timeout: 15000, what: 'the status line to clear' });
  const { server } = await checkSameAnswer(page, turn, requestId, assert);

  // 2. the gateway cannot be reached: every websocket is refused until it is let through again
  await page.getByRole('button', { name: 'Clear chat' }).click();
  await cut();
  const failed = await ask(page, 'Hi there', { status: 'error', timeout: 20000 });
  const error = (await failed.getByTestId('turn-error').textContent()).trim();
  assert.match(error, /^Can't reach the server/);
  assert.doesNotMatch(await page.locator('body').textContent(), /\[object /);
  await waitFor(async () => (await statusText(page)) === "Can't reach the server", {
    timeout: 5000,
    what: `"Can't reach the server" in the status line`,
  }).catch(async (e) => {
    throw new Error(`${e.message}; it reads "${await statusText(page)}" (${open.length} sockets let through)`);
  });
  refuse = false;
  await waitFor(async () => (await statusText(page)) === '', { timeout: 20000, what: 'the page to reconnect on its own' });
  const answer = await ask(page, 'What is the capital of France?');
  assert.match(await answer.getByTestId('answer').textContent(), /Paris/);

  await done();
  // the offline spell logs the browser's own websocket failures, and a bare "CloseEvent" (a close promise inside
  // graphql-ws that nobody awaits once a cut subscription has been ended); nothing else may reach the console
  const unexpected = consoleErrors.filter((e) => !/WebSocket|ERR_INTERNET_DISCONNECTED|net::|^CloseEvent$/.test(e));
  assert.deepEqual(unexpected, []);
  return { requestId, closedSockets, chars: server.text.length, error };
});
