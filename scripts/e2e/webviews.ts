/** Webviews from the workbench page: finding the one that shows a selector (two iframes deep), and hover tooltips. */
import type { FrameLocator, Locator, Page } from 'playwright-core';
import { cssString, sleep, succeeds } from './wait';

/** The webview document that contains `selector` (default: the first ready webview): iframe.webview.ready > #active-frame. */
export async function webviewFrame(page: Page, selector?: string, timeoutMs = 60_000): Promise<FrameLocator> {
  const deadline = Date.now() + timeoutMs;
  const outer = page.locator('iframe.webview.ready');
  for (;;) {
    const n = await outer.count();
    for (let i = n - 1; i >= 0; i--) {
      const frame = page.frameLocator('iframe.webview.ready').nth(i).frameLocator('#active-frame');
      if (!selector) {
        if ((await frame.locator('body').count()) > 0) return frame;
        continue;
      }
      if ((await frame.locator(selector).count().catch(() => 0)) > 0) {
        // Pin the frame by its webview id: positions shift as other webviews come and go.
        const id = await outer.nth(i).getAttribute('name').catch(() => null);
        return id ? page.frameLocator(`iframe.webview.ready[name="${cssString(id)}"]`).frameLocator('#active-frame') : frame;
      }
    }
    if (Date.now() > deadline) {
      throw new Error(`no webview shows ${selector ?? 'anything'} after ${timeoutMs / 1000} s (${n} webviews ready)`);
    }
    await sleep(300);
  }
}

/** Hovers `target` and returns the hover/tooltip locator once it is visible. */
export async function hoverForTooltip(page: Page, target: Locator, tooltip: Locator, timeoutMs = 15_000): Promise<Locator> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await target.scrollIntoViewIfNeeded().catch(() => {});
    const box = await target.boundingBox();
    await target.hover({ timeout: 10_000 });
    if (box) await page.mouse.move(box.x + box.width / 2 + 1, box.y + box.height / 2, { steps: 3 }).catch(() => {});
    const visible = await succeeds(tooltip.first().waitFor({ state: 'visible', timeout: 3_000 }));
    if (visible) return tooltip.first();
    if (Date.now() > deadline) throw new Error('no tooltip appeared on hover');
    await page.mouse.move(0, 0);
    await sleep(300);
  }
}
