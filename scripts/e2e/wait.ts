/** Waiting and quoting for the E2E modules: sleep, wait for a locator's text, escape text for a RegExp or a CSS string. */
import type { Locator } from 'playwright-core';

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Waits until `locator`'s text satisfies `ok`. */
export async function expectText(locator: Locator, ok: (text: string) => boolean, timeoutMs: number, what: string): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    last = await locator.first().innerText({ timeout: 2_000 }).catch(() => last);
    if (ok(last)) return last;
    if (Date.now() > deadline) throw new Error(`${what}: text is ${JSON.stringify(last)}`);
    await sleep(200);
  }
}

/** True when a wait or click settles, false when it times out or fails (for retry loops). */
export function succeeds(action: Promise<unknown>): Promise<boolean> {
  return action.then(
    () => true,
    () => false,
  );
}

export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function cssString(s: string): string {
  return s.replace(/["\\]/g, '\\$&');
}
