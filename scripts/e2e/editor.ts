/** The active text editor, driven like a user: select text (Find) or whole lines, and read the hover over a word. */
import type { Page } from 'playwright-core';
import { expectText, sleep, succeeds } from './wait';

/** Selects the first occurrence of `text` (one line) in the active text editor, through the Find widget. */
export async function selectText(page: Page, text: string): Promise<void> {
  const editor = page.locator('.editor-group-container.active .monaco-editor .view-lines').first();
  await editor.waitFor({ state: 'visible', timeout: 30_000 });
  await editor.click();
  await page.keyboard.press('Control+Home');
  await page.keyboard.press('Control+F');
  const findInput = page.locator('.editor-group-container.active .find-widget textarea, .editor-group-container.active .find-widget input').first();
  await findInput.waitFor({ state: 'visible', timeout: 10_000 });
  await findInput.fill(text);
  const matches = page.locator('.editor-group-container.active .find-widget .matchesCount');
  await expectText(matches, (t) => /^1 of \d+/.test(t.trim()), 10_000, `find "${text}" in the editor`);
  await page.keyboard.press('Escape'); // closes Find; the match stays selected
  await page.locator('.editor-group-container.active .monaco-editor .selected-text').first().waitFor({ timeout: 5_000 });
}

/** Selects whole lines [from, to] (1-based) of the active text editor. */
export async function selectLines(page: Page, from: number, to: number): Promise<void> {
  const editor = page.locator('.editor-group-container.active .monaco-editor .view-lines').first();
  await editor.waitFor({ state: 'visible', timeout: 30_000 });
  await editor.click();
  await page.keyboard.press('Control+G');
  await page.keyboard.type(String(from));
  await page.keyboard.press('Enter');
  await page.keyboard.press('Home');
  await page.keyboard.press('Home'); // twice: the first goes to the first non-blank character
  for (let l = from; l <= to; l++) await page.keyboard.press('Shift+ArrowDown');
}

/** Hovers the first occurrence of `text` in the active text editor; returns the hover's text. */
export async function hoverEditorText(page: Page, text: string, timeoutMs = 30_000): Promise<string> {
  const editor = page.locator('.editor-group-container.active .monaco-editor').first();
  await editor.waitFor({ state: 'visible', timeout: 30_000 });
  const hoverBox = page.locator('.monaco-hover:not(.hidden) .monaco-hover-content');
  const deadline = Date.now() + timeoutMs;
  let lastSeen = '';
  for (;;) {
    const box = await editor.locator('.view-lines').evaluate((linesEl, wanted) => {
      // Find the text node holding `wanted` and return the screen box of its middle character.
      const walker = document.createTreeWalker(linesEl, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const t = (n.textContent ?? '').replace(/\u00a0/g, ' ');
        const at = t.indexOf(wanted);
        if (at < 0) continue;
        const range = document.createRange();
        const mid = at + Math.floor(wanted.length / 2);
        range.setStart(n, mid);
        range.setEnd(n, mid + 1);
        const r = range.getBoundingClientRect();
        return { x: r.x + r.width / 2, y: r.y + r.height / 2 };
      }
      return null;
    }, text);
    if (box) {
      await page.mouse.move(box.x - 30, box.y);
      await page.mouse.move(box.x, box.y, { steps: 4 });
      const shown = await succeeds(hoverBox.first().waitFor({ state: 'visible', timeout: 4_000 }));
      if (shown) {
        // Hovers may resolve in parts (a "Loading..." first): wait for the text to settle.
        let prev = '';
        for (let i = 0; i < 10; i++) {
          const now = (await hoverBox.allInnerTexts()).join('\n').trim();
          if (now && now === prev && !/^Loading/.test(now)) return now;
          prev = now;
          await sleep(300);
        }
        lastSeen = prev;
        if (prev && !/^Loading/.test(prev)) return prev;
      }
    }
    if (Date.now() > deadline) {
      throw new Error(
        box ? `no hover appeared over "${text}" (last: ${JSON.stringify(lastSeen)})` : `"${text}" is not visible in the editor`,
      );
    }
    await page.mouse.move(5, 5);
    await sleep(500);
  }
}
