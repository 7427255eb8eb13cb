/**
 * The workbench's own inputs, driven like a user: Quick Open and the command palette (typed, retried while the
 * workbench is still registering), quick picks, and the context menus of the explorer and the editor.
 */
import type { Locator, Page } from 'playwright-core';
import { cssString, escapeRegExp, sleep, succeeds } from './wait';

async function closeQuickInput(page: Page) {
  const quickInput = page.locator('.quick-input-widget');
  if (await quickInput.isVisible().catch(() => false)) {
    await page.keyboard.press('Escape');
    await quickInput.waitFor({ state: 'hidden', timeout: 5_000 }).catch(() => {});
  }
}

/** Opens the quick input with `key`, types `text`, and waits for a row whose label matches `match`. */
async function pickFromQuickInput(page: Page, key: string, text: string, match: (label: string) => boolean, what: string) {
  const quickInput = page.locator('.quick-input-widget');
  const quickInputBox = quickInput.locator('input.input, .quick-input-box input').first();
  const quickRows = quickInput.locator('.quick-input-list .monaco-list-row');
  const deadline = Date.now() + 90_000;
  let attempt = 0;
  let lastRows: string[] = [];
  while (Date.now() < deadline) {
    attempt++;
    await closeQuickInput(page);
    // Focus the workbench (not a webview, which would swallow the keys).
    await page.locator('.monaco-workbench .part.statusbar, .monaco-workbench').first().click({ position: { x: 5, y: 5 } }).catch(() => {});
    await page.keyboard.press(key);
    const opened = await succeeds(quickInput.waitFor({ state: 'visible', timeout: 5_000 }));
    if (!opened) continue;
    // The widget can close again before the text goes in (a webview that finishes loading takes the focus): try again
    // from the top rather than wait Playwright's 30 s for an input that is gone.
    if (!(await succeeds(quickInputBox.fill(text, { timeout: 5_000 })))) continue;
    const rowDeadline = Date.now() + Math.min(6_000 + attempt * 1_000, 15_000);
    while (Date.now() < rowDeadline) {
      const labels = await quickRows.evaluateAll((rows) =>
        rows.map((r) => (r.getAttribute('aria-label') ?? r.textContent ?? '').trim()),
      );
      lastRows = labels;
      const idx = labels.findIndex(match);
      if (idx >= 0) {
        const label = labels[idx];
        const row = quickRows.filter({ has: page.locator(`[aria-label="${cssString(label)}"]`) }).or(
          quickInput.locator(`.quick-input-list .monaco-list-row[aria-label="${cssString(label)}"]`),
        );
        const clicked = await succeeds(row.first().click({ timeout: 3_000 }));
        if (clicked) {
          await quickInput.waitFor({ state: 'hidden', timeout: 10_000 }).catch(() => {});
          return;
        }
      }
      await sleep(300);
    }
  }
  await closeQuickInput(page);
  throw new Error(`${what}: not offered after 90 s; last rows offered: ${JSON.stringify(lastRows.slice(0, 10))}`);
}

/** Right-clicks `target` and picks `item` from VS Code's context menu (retrying while menus still fill). */
async function pickFromContextMenu(page: Page, target: Locator, item: string) {
  const menu = page.locator('.context-view .monaco-menu, .monaco-menu-container .monaco-menu').first();
  const deadline = Date.now() + 60_000;
  let offered: string[] = [];
  while (Date.now() < deadline) {
    await target.click({ button: 'right', force: true });
    const opened = await succeeds(menu.waitFor({ state: 'visible', timeout: 5_000 }));
    if (opened) {
      const items = menu.locator('.action-item .action-label');
      offered = (await items.allInnerTexts()).map((t) => t.trim()).filter(Boolean);
      const idx = offered.findIndex((t) => t === item);
      if (idx >= 0) {
        // VS Code's menus ignore a mouse-up that comes right after they open (the right-click's own):
        // give it a moment, click, and fall back to the keyboard if the menu is still up.
        await sleep(400);
        const entry = menu.locator('.action-item .action-label').filter({ hasText: new RegExp(`^${escapeRegExp(item)}$`) }).first();
        await entry.hover();
        await entry.click();
        const closed = await succeeds(menu.waitFor({ state: 'hidden', timeout: 3_000 }));
        if (!closed) {
          await entry.hover();
          await page.keyboard.press('Enter');
          await menu.waitFor({ state: 'hidden', timeout: 5_000 });
        }
        return;
      }
      await page.keyboard.press('Escape');
    }
    await sleep(1_000);
  }
  throw new Error(`context menu item "${item}" not offered; menu had ${JSON.stringify(offered)}`);
}

/** Opens a workspace file by name through Quick Open (Ctrl+P). */
export async function openFile(page: Page, name: string): Promise<void> {
  const base = name.split('/').pop() ?? name;
  await pickFromQuickInput(
    page,
    'Control+P',
    name,
    (label) => label.startsWith(base) || label.includes(`${base},`) || label.split(/[\s,]/)[0] === base,
    `Quick Open ${name}`,
  );
  // The editor tab for the file.
  await page
    .locator(`.tabs-container .tab[aria-label*="${cssString(base)}"], .tabs-container .tab[title*="${cssString(base)}"]`)
    .first()
    .waitFor({ timeout: 30_000 });
}

/** Runs a command by its palette title, retrying while commands are still registering. */
export async function runCommand(page: Page, title: string): Promise<void> {
  await pickFromQuickInput(
    page,
    'F1',
    `>${title}`,
    (label) => label === title || label.startsWith(`${title},`) || label.startsWith(title) || label.includes(`: ${title}`),
    `command "${title}"`,
  );
}

/** Waits for a quick pick (e.g. the model picker) and picks the row whose label is `label`. */
export async function pickQuickItem(page: Page, label: string, timeoutMs = 30_000): Promise<void> {
  const quickInput = page.locator('.quick-input-widget');
  const quickInputBox = quickInput.locator('input.input, .quick-input-box input').first();
  await quickInput.waitFor({ state: 'visible', timeout: timeoutMs });
  await quickInputBox.fill(label);
  const row = quickInput.locator('.quick-input-list .monaco-list-row').filter({ hasText: label }).first();
  await row.waitFor({ state: 'visible', timeout: 15_000 });
  await row.click();
  await quickInput.waitFor({ state: 'hidden', timeout: 10_000 }).catch(() => {});
}

/** Right-clicks `name` in the explorer and picks the menu item whose label is `item` (e.g. 'Predict'). */
export async function explorerContextMenu(page: Page, name: string, item: string): Promise<void> {
  await page.locator('.part.sidebar').first().waitFor({ timeout: 30_000 }).catch(() => {});
  const explorerRow = page.locator('.explorer-folders-view .monaco-list-row').filter({
    has: page.locator('.label-name', { hasText: new RegExp(`^${escapeRegExp(name)}$`) }),
  });
  if (!(await explorerRow.first().isVisible().catch(() => false))) {
    // Show the explorer (Ctrl+Shift+E) if another view is in front.
    await page.keyboard.press('Control+Shift+E');
  }
  await explorerRow.first().waitFor({ state: 'visible', timeout: 30_000 });
  await pickFromContextMenu(page, explorerRow.first(), item);
}

/** Right-clicks inside the active text editor and picks the menu item `item`. */
export async function editorContextMenu(page: Page, item: string): Promise<void> {
  const editor = page.locator('.editor-group-container.active .monaco-editor .view-lines').first();
  await editor.waitFor({ state: 'visible', timeout: 30_000 });
  // Right-click on the selection (the first selected line) so the selection survives.
  const selected = page.locator('.editor-group-container.active .monaco-editor .selected-text').first();
  const target = (await selected.isVisible().catch(() => false)) ? selected : editor;
  await pickFromContextMenu(page, target, item);
}
