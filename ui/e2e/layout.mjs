// Layout and keyboard: every section fits a phone's width without sideways scrolling, and the app is usable
// from the keyboard (skip link first, tabs reachable, Enter opens one, focus is visible).
import { assert, flow, openApp, screenshot, waitFor } from './lib.mjs';

await flow('layout', async () => {
  const { page, consoleErrors, done } = await openApp('#/chat', { width: 390, height: 844 });
  await page.getByTestId('active-model').filter({ hasText: 'SmolLM2' }).waitFor({ timeout: 30000 });
  const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  const widths = {};
  for (const route of ['chat', 'fine-tune']) {
    await page.goto(`${process.env.UI_URL}/#/${route}`);
    await page.locator('main').waitFor();
    await page.waitForTimeout(500);
    widths[route] = await overflow();
    assert.ok(widths[route] <= 0, `#/${route} scrolls sideways by ${widths[route]} px at 390 px`);
    // nor does anything inside it (the Models and History tables become a card per row)
    const inner = await page.evaluate(() =>
      [...document.querySelectorAll('main .table-wrap')]
        .filter((el) => el.scrollWidth > el.clientWidth)
        .map((el) => `${el.querySelector('table')?.className}: ${el.scrollWidth - el.clientWidth} px`),
    );
    assert.deepEqual(inner, [], `#/${route} has parts that scroll sideways at 390 px`);
    await screenshot(page, `phone-${route}`);
  }

  // keyboard: the first Tab lands on the skip link, then the brand, then the tabs (on a section that gives nothing
  // the keyboard on load: the Chat gives it to the message box, tests/ui/test_keyboard.py)
  await page.goto(`${process.env.UI_URL}/#/fine-tune`);
  await page.reload();
  await page.locator('#ft-name').waitFor();
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.textContent?.trim()), 'Skip to content');
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.notEqual(outline, 'none', 'no visible focus on the skip link');
  let reached = false;
  for (let i = 0; i < 6 && !reached; i += 1) {
    await page.keyboard.press('Tab');
    reached = (await page.evaluate(() => document.activeElement?.textContent?.trim())) === 'Fine-tune';
  }
  assert.ok(reached, 'the Fine-tune tab is not reachable with Tab');
  await page.keyboard.press('Enter');
  await waitFor(async () => page.url().endsWith('#/fine-tune'), { what: 'the Fine-tune section' });
  // every form control in the Fine-tune section has an accessible name
  const unnamed = await page.evaluate(() =>
    [...document.querySelectorAll('main input, main select, main textarea, main button')]
      .filter((el) => {
        const id = el.getAttribute('id');
        const label = id ? document.querySelector(`label[for="${id}"]`) : null;
        return !label && !el.closest('label') && !el.getAttribute('aria-label') && !el.textContent?.trim();
      })
      .map((el) => el.outerHTML.slice(0, 80)),
  );
  assert.deepEqual(unnamed, [], 'controls without a name');
  // the skip link moves focus to the content and stays on this section
  await page.reload();
  await page.locator('#ft-name').waitFor();
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  assert.ok(page.url().endsWith('#/fine-tune'), `the skip link navigated to ${page.url()}`);
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'main');
  // at phone width the chat toolbar's picker (folded behind More, ui/e2e/phone_chat.mjs) fits the screen
  await page.goto(`${process.env.UI_URL}/#/chat`);
  await page.getByRole('button', { name: 'More', exact: true }).click();
  const box = await page.locator('#chat-adapter').boundingBox();
  assert.ok(box.x + box.width <= 390, `the adapter picker ends at ${box.x + box.width} px`);
  assert.deepEqual(consoleErrors, []);
  await done();
  return { overflow: widths };
});
