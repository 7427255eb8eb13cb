/** What a failing E2E step saw: the screen's text, the page console, code-server's and the extension host's logs. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { CodeServer } from './harness';

/** What is on screen: the workbench's text, notifications and every webview's text (for failure messages). */
export async function describeScreen(page: Page, server: Pick<CodeServer, 'logFile' | 'runDir'>, consoleLines: string[]): Promise<string> {
  const parts: string[] = [];
  try {
    const tabs = await page.locator('.tabs-container .tab').evaluateAll((els) =>
      els.map((e) => (e.getAttribute('aria-label') ?? e.textContent ?? '').trim()),
    );
    parts.push(`editor tabs: ${JSON.stringify(tabs)}`);
    const notes = await page
      .locator('.notifications-toasts .notification-list-item, .notification-toast')
      .evaluateAll((els) => els.map((e) => (e.textContent ?? '').trim()));
    parts.push(`notifications: ${JSON.stringify(notes)}`);
    const editorText = await page
      .locator('.editor-group-container.active .editor-container')
      .first()
      .innerText({ timeout: 2_000 })
      .catch(() => '');
    parts.push(`active editor text: ${clip(editorText, 1500)}`);
    const n = await page.locator('iframe.webview.ready').count();
    for (let i = 0; i < n; i++) {
      const body = page.frameLocator('iframe.webview.ready').nth(i).frameLocator('#active-frame').locator('body');
      const text = await body.innerText({ timeout: 2_000 }).catch((e: Error) => `(unreadable: ${e.message.split('\n')[0]})`);
      parts.push(`webview ${i}: ${clip(text, 2000)}`);
    }
    const panel = await page.locator('.part.panel').first().innerText({ timeout: 1_000 }).catch(() => '');
    if (panel) parts.push(`panel: ${clip(panel, 1500)}`);
  } catch (err) {
    parts.push(`(could not read the screen: ${(err as Error).message})`);
  }
  const errors = consoleLines.filter((l) => /^\[(error|pageerror)\]/.test(l)).slice(-15);
  if (errors.length) parts.push(`page console errors:\n  ${errors.join('\n  ')}`);
  parts.push(`code-server log tail:\n${tail(server.logFile, 15)}`);
  const exthost = findExtHostLog(server.runDir);
  if (exthost) parts.push(`extension host log tail:\n${tail(exthost, 25)}`);
  return parts.join('\n');
}

/** The last `lines` lines of a log file (for failure messages). */
export function tail(file: string, lines = 40): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** The newest exthost.log under the run's user-data logs (VS Code writes one per window). */
function findExtHostLog(runDir: string): string | null {
  let best: { path: string; mtime: number } | null = null;
  const walk = (dir: string, depth: number) => {
    if (depth > 6) return;
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const n of names) {
      const p = join(dir, n);
      let st;
      try {
        st = statSync(p);
      } catch {
        continue;
      }
      if (st.isDirectory()) walk(p, depth + 1);
      else if (n === 'exthost.log' && (!best || st.mtimeMs > best.mtime)) best = { path: p, mtime: st.mtimeMs };
    }
  };
  walk(join(runDir, 'user-data', 'logs'), 0);
  return best ? (best as { path: string }).path : null;
}

function clip(s: string, n: number): string {
  const t = s.replace(/\n{2,}/g, '\n').trim();
  return t.length > n ? `${t.slice(0, n)}…` : t;
}
