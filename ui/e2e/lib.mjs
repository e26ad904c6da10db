// Shared by the browser flows: launch Debian's Chromium through playwright-core, check, screenshot, report.
// Each flow is a script run by tests/ui/test_*.py against a real stack: UI_URL, GRAPHQL_URL, ARTIFACTS from env.
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

export { assert };

export const UI_URL = process.env.UI_URL ?? 'http://127.0.0.1:3000';
export const GRAPHQL_URL = process.env.GRAPHQL_URL ?? 'http://127.0.0.1:8080/graphql';
const ARTIFACTS = process.env.ARTIFACTS ?? path.resolve('test-artifacts/ui');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-dev-shm-usage',
];

/** A page on the app; every request that leaves 127.0.0.1/localhost is recorded (and fails the flow). */
export async function openApp(route = '#/chat', { width = 1280, height = 860, storage } = {}) {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
  const context = await browser.newContext({ viewport: { width, height } });
  if (storage) {
    // localStorage as the app would have left it, in place before the app's first load
    await context.addInitScript((items) => {
      if (sessionStorage.getItem('e2e-storage-set')) return;
      sessionStorage.setItem('e2e-storage-set', '1');
      for (const [key, value] of Object.entries(items)) localStorage.setItem(key, value);
    }, storage);
  }
  const page = await context.newPage();
  const external = [];
  const consoleErrors = [];
  const consoleWarnings = [];
  page.on('request', (req) => {
    const url = new URL(req.url());
    if (!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname) && !['data:', 'blob:'].includes(url.protocol)) {
      external.push(req.url());
    }
  });
  page.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push(msg.text());
    if (msg.type() === 'warning') consoleWarnings.push(msg.text());
  });
  page.on('pageerror', (err) => consoleErrors.push(String(err)));
  await page.goto(`${UI_URL}/${route}`);
  const done = async () => {
    await browser.close();
    assert.deepEqual(external, [], `requests left the machine: ${external.join(', ')}`);
  };
  return { browser, context, page, external, consoleErrors, consoleWarnings, done };
}

export async function screenshot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: false });
  console.log(`screenshot ${file}`);
}

/** POST a GraphQL operation to the gateway (to check server state beside what the page shows). */
export async function graphql(query, variables = {}) {
  const res = await fetch(GRAPHQL_URL, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  if (body.errors?.length) throw new Error(body.errors[0].message);
  return body.data;
}

export async function waitFor(check, { timeout = 30000, interval = 200, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await check();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, interval));
  }
  throw new Error(`timed out after ${timeout} ms waiting for ${what} (last: ${last})`);
}

/** Run a flow; print its figures as one JSON line for the pytest side; exit 1 with the error on failure. */
export async function flow(name, body) {
  const started = Date.now();
  try {
    const figures = (await body()) ?? {};
    console.log(`RESULT ${JSON.stringify({ flow: name, ok: true, ms: Date.now() - started, ...figures })}`);
    process.exit(0);
  } catch (error) {
    console.error(`FAILED ${name}: ${error?.stack ?? error}`);
    process.exit(1);
  }
}

/** The variables of every subscription the page starts over graphql-ws, in order (filled as they are sent). */
export function recordSubscribes(page) {
  const variables = [];
  page.on('websocket', (ws) =>
    ws.on('framesent', ({ payload }) => {
      const message = JSON.parse(String(payload));
      if (message.type === 'subscribe') variables.push(message.payload.variables);
    }),
  );
  return variables;
}

/** Type a question in the chat, press Enter, wait for the answer's turn to reach `status`; returns that turn. */
export async function ask(page, text, { status = 'done', timeout = 90000 } = {}) {
  const input = page.getByLabel('Message');
  await input.fill(text);
  await input.press('Enter');
  const turn = page.getByTestId('turn-assistant').last();
  await waitFor(async () => (await turn.getAttribute('data-status')) === status, { timeout, what: `answer ${status}` });
  return turn;
}

/** GraphiQL's query editor, once the Explorer has rendered it. */
export async function queryEditor(page) {
  await page.locator('.graphiql-container').waitFor({ timeout: 60000 });
  const editor = page.locator('.graphiql-query-editor .monaco-editor').first();
  await editor.waitFor({ timeout: 30000 });
  return editor;
}

/** Replace the whole text of a Monaco editor (GraphiQL's query or variables) with `text`, typed as a user would. */
export async function replaceText(page, editor, text) {
  await editor.click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  await page.keyboard.type(text);
}

/** The lines of the Monaco editor under `selector` whose text runs past the editor's visible right edge (cut off),
 * as { text, overBy } in px; [] when every line shows whole (short, or wrapped). */
export function cutLines(page, selector = '.graphiql-query-editor') {
  return page.evaluate((sel) => {
    const scroller = document.querySelector(`${sel} .monaco-editor .monaco-scrollable-element`);
    if (!scroller) throw new Error(`no editor under ${sel}`);
    const right = scroller.getBoundingClientRect().right;
    return [...scroller.querySelectorAll('.view-line')]
      .map((line) => {
        const range = document.createRange();
        range.selectNodeContents(line);
        const text = (line.textContent ?? '').replace(/\u00a0/g, ' ');
        return { text, overBy: Math.round(range.getBoundingClientRect().right - right) };
      })
      .filter((line) => line.text.trim() && line.overBy > 0);
  }, selector);
}
