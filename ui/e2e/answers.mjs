// Shared by the resume flows: start a long answer, learn its requestId from the page's websocket, and read the
// whole answer back from the server (inferResume from chunk 0) to compare with what the page kept.
import { createClient } from 'graphql-ws';
import { GRAPHQL_URL, waitFor } from './lib.mjs';

// long enough to reload mid-way, short enough to finish soon on a busy CPU (the bundled model writes ~60-120 tokens)
export const STORY = 'In about eighty words, tell a story about a lighthouse keeper.';

/** Send `text` and wait until more than `words` words of the answer have streamed (within `timeout` ms); returns
 * the answer's turn. */
export async function startAnswer(page, text, words = 8, timeout = 90000) {
  const input = page.getByLabel('Message');
  await input.fill(text);
  await input.press('Enter');
  const turn = page.getByTestId('turn-assistant').last();
  await waitFor(async () => ((await turn.getByTestId('answer').textContent()) ?? '').split(/\s+/).length > words, {
    timeout,
    what: `${words} words of the answer to "${text}"`,
  });
  return turn;
}

/** What `turn` shows: its status, error and status line (for a failure's message). */
export async function describeTurn(turn) {
  const text = async (id) => ((await turn.getByTestId(id).count()) ? (await turn.getByTestId(id).textContent()).trim() : null);
  return JSON.stringify({
    status: await turn.getAttribute('data-status'),
    error: await text('turn-error'),
    stopped: await text('stopped'),
    reconnecting: await text('reconnecting'),
    tail: ((await text('answer')) ?? '').slice(-60),
  });
}

/** Wait for `turn` to reach `status`; the failure says where it stands instead. */
export async function waitForStatus(turn, status, timeout, what, more = () => '') {
  try {
    await waitFor(async () => (await turn.getAttribute('data-status')) === status, { timeout, what });
  } catch (error) {
    throw new Error(`${error.message}; the turn: ${await describeTurn(turn)} ${more()}`);
  }
}

/** The requestIds of the generations the page streams or resumes, in order (filled as chunks arrive); the
 * GraphQL errors it receives land in `ids.errors`. */
export function recordRequestIds(page) {
  const ids = [];
  ids.errors = [];
  page.on('websocket', (ws) =>
    ws.on('framereceived', ({ payload }) => {
      const message = JSON.parse(String(payload));
      if (message.type === 'error' || message.payload?.errors) ids.errors.push(JSON.stringify(message.payload));
      const data = message.type === 'next' ? message.payload?.data : undefined;
      const id = (data?.inferStream ?? data?.inferResume)?.requestId;
      if (id && !ids.includes(id)) ids.push(id);
    }),
  );
  return ids;
}

/** The whole text of generation `requestId` as the server has it, through graphql-ws in node (node 20 needs
 * NODE_OPTIONS=--experimental-websocket, which tests/ui/test_chat_resume.py sets). */
export async function serverAnswer(requestId) {
  if (typeof WebSocket === 'undefined') throw new Error('no WebSocket in this node: run with --experimental-websocket');
  const client = createClient({ url: GRAPHQL_URL.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0 });
  const chunks = [];
  try {
    await new Promise((resolve, reject) =>
      client.subscribe(
        {
          query: `subscription ($id: String!) { inferResume(requestId: $id, fromSeq: 0) { token seq done finishReason } }`,
          variables: { id: requestId },
        },
        {
          next: (result) => (result.errors ? reject(new Error(result.errors[0].message)) : chunks.push(result.data.inferResume)),
          error: (error) => reject(new Error(Array.isArray(error) ? error[0].message : String(error?.reason ?? error))),
          complete: resolve,
        },
      ),
    );
  } finally {
    await client.dispose();
  }
  const seqs = chunks.map((c) => c.seq);
  return { text: chunks.map((c) => c.token).join(''), done: chunks.at(-1)?.done === true, seqs };
}

/** The assistant turn for `requestId` as the page saved it (wherever in localStorage the conversation lives). */
export async function storedTurn(page, requestId) {
  const values = await page.evaluate(() => Object.keys(localStorage).map((k) => localStorage.getItem(k)));
  const find = (node) => {
    if (!node || typeof node !== 'object') return undefined;
    if (node.role === 'assistant' && node.requestId === requestId) return node;
    for (const child of Object.values(node)) {
      const found = find(child);
      if (found) return found;
    }
    return undefined;
  };
  for (const value of values) {
    try {
      const found = find(JSON.parse(value));
      if (found) return found;
    } catch {
      /* not JSON */
    }
  }
  return undefined;
}

/** Letters and digits only, words separated by one space (what survives Markdown rendering, mostly). */
export function words(text) {
  return (text ?? '').replace(/[^\p{L}\p{N}]+/gu, ' ').trim();
}

/** How often `needle` occurs in `hay`. */
export function occurrences(hay, needle) {
  return needle ? hay.split(needle).length - 1 : 0;
}

/** Check that the page ended `turn` with exactly the server's answer: the saved text equals it, and the shown
 * text holds its start once (nothing replayed twice) and its end (nothing missing at the end). */
export async function checkSameAnswer(page, turn, requestId, assert) {
  const server = await serverAnswer(requestId);
  assert.ok(server.done, 'the server has no finished answer');
  const saved = await waitFor(
    async () => {
      const t = await storedTurn(page, requestId);
      return t?.status === 'done' ? t : false;
    },
    { timeout: 5000, what: 'the finished answer to be saved' },
  );
  assert.equal(saved.content, server.text, 'the answer the page kept differs from the one the server generated');
  const shown = words(await turn.getByTestId('answer').textContent());
  const all = words(server.text.replace(/^\s*\d+[.)]\s/gm, ' ')).split(' '); // list numbers are not text in HTML
  const head = all.slice(0, 6).join(' ');
  const tail = all.slice(-6).join(' ');
  assert.equal(occurrences(shown, head), 1, `the start of the answer is shown ${occurrences(shown, head)} times`);
  assert.ok(shown.endsWith(tail), `the shown answer does not end as the server's: …${shown.slice(-80)}`);
  assert.ok(!shown.includes('object Event') && !shown.includes('object Object'), 'an [object …] reached the page');
  return { server, shown };
}
