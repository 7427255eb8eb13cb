/**
 * Drives the real webview bundle (dist/webview.js) in headless Chromium with a fake `acquireVsCodeApi` whose
 * requests are answered by the real host-side ModelSession on a real model file — everything but VS Code itself.
 * The page gets the same Content-Security-Policy as in VS Code, so CSP violations show up here too.
 *
 * Used by test/extension/webview.test.ts and by hand:
 *   node --import tsx test/extension/harness/webviewHarness.ts MODEL.h5 OUT.png [layerName] [weightName]
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ModelSession } from '../../../extension/modelSession';
import { HostChannel, type Envelope, type HostEvent, type HostReply, type PredictResultsSummary, type WebviewEvent, type WebviewRequest } from '../../../extension/protocol';
import { webviewHtml } from '../../../extension/webviewHtml';

const ROOT = resolve(__dirname, '../../..');
const ORIGIN = 'https://keras-lens.harness';
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface Harness {
  browser: Browser;
  page: Page;
  /** CSP violations and page errors seen so far. */
  problems: string[];
  /** Push a host event to the webview (as the extension host does, e.g. weightProgress). */
  event(e: HostEvent): void;
  close(): Promise<void>;
}

export interface HarnessOptions {
  view: 'model' | 'results';
  /** Model viewer: the file to open (errors while opening are shown like in VS Code). */
  modelPath?: string;
  configPath?: string;
  maxTensorElements?: number;
  /** Results panel: what to show. */
  results?: PredictResultsSummary;
  width?: number;
  /** 'dark' (default) adds VS Code's dark theme variables, as VS Code does on <html>. */
  theme?: 'dark' | 'none';
  height?: number;
  /** Answer requests before the host's own answer (e.g. pickArchitecture). */
  answer?: (req: WebviewRequest) => Promise<HostReply | undefined>;
  /**
   * Runs when the page asks for dist/webview.js (its HTML parsed up to there, the bundle not yet run), which is
   * served once this settles: `event` posts a host event to the page then, as VS Code may (it hands over the queued
   * messages 200 ms after creating the frame, loaded or not).
   */
  beforeScript?: (event: (e: HostEvent) => Promise<void>) => Promise<void>;
}

const TYPED = '__kerasLensTypedArray';
const TYPED_ARRAYS = ['Float32Array', 'Float64Array', 'Int32Array', 'Uint8Array'];

/** JSON.stringify replacer: a typed array becomes { [TYPED]: its class, values } (float32 values print exactly). */
function typedArrayMarker(_key: string, v: unknown): unknown {
  if (ArrayBuffer.isView(v) && TYPED_ARRAYS.includes(v.constructor.name)) return { [TYPED]: v.constructor.name, values: Array.from(v as Float32Array) };
  return v;
}

export async function openHarness(o: HarnessOptions): Promise<Harness> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
  const page = await browser.newPage({ viewport: { width: o.width ?? 1280, height: o.height ?? 900 } });
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' || /Content.Security.Policy|Refused/i.test(m.text())) problems.push(`console: ${m.text()}`);
  });

  let session: Promise<ModelSession> | null = null;
  if (o.view === 'model' && o.modelPath) {
    session = ModelSession.open(o.modelPath, { maxTensorElements: o.maxTensorElements ?? 262144, configPath: o.configPath });
    session.catch(() => {});
  }
  // Strings, not functions: tsx compiles functions with helpers (__name) that do not exist in the page.
  // Typed arrays arrive as typed arrays, as VS Code's webview.postMessage delivers them (since 1.57): marked here
  // and rebuilt in the page (__kerasLensRevive, below).
  const postNow = (m: Envelope<HostReply | HostEvent>) => page.evaluate(`window.postMessage(window.__kerasLensRevive(${JSON.stringify(m, typedArrayMarker)}), '*')`);
  const post = (m: Envelope<HostReply | HostEvent>) => void postNow(m).catch(() => {});
  const channel: HostChannel = new HostChannel(
    post,
    async (req) => {
      const own = o.answer ? await o.answer(req) : undefined;
      if (own) return own;
      if (!session) return { type: 'error', message: 'no model in this harness' };
      return (await session).answer(req);
    },
    (e: WebviewEvent) => {
      if (e.type === 'ready' && o.view === 'results' && o.results) channel.event({ type: 'results', results: o.results });
    },
  );
  await page.exposeFunction('__kerasLensHost', (m: Envelope<WebviewRequest | WebviewEvent>) => channel.receive(m));
  await page.addInitScript(
    'window.acquireVsCodeApi = () => ({ postMessage: (m) => window.__kerasLensHost(m), getState: () => undefined, setState: () => {} });' +
      `window.__kerasLensRevive = (v) => { if (Array.isArray(v)) return v.map(window.__kerasLensRevive); if (v && typeof v === 'object') { if (typeof v.${TYPED} === 'string') return new globalThis[v.${TYPED}](v.values); for (const k of Object.keys(v)) v[k] = window.__kerasLensRevive(v[k]); } return v; };` +
      "document.addEventListener('securitypolicyviolation', (e) => console.error('CSP violation: ' + e.violatedDirective + ' by ' + " +
      "((e.target && e.target.outerHTML) || String(e.target)).slice(0, 160) + ' sample ' + e.sample + ' at ' + e.sourceFile + ':' + e.lineNumber + ':' + e.columnNumber));",
  );
  const html = webviewHtml({
    cspSource: ORIGIN,
    scriptUri: `${ORIGIN}/dist/webview.js`,
    toolkitUri: `${ORIGIN}/dist/webview-toolkit.js`,
    styleUri: `${ORIGIN}/media/viewer.css`,
    nonce: 'harnessNonce0123456789',
    view: o.view,
    fileName: o.modelPath ? o.modelPath.split('/').pop()! : 'results',
  });
  await page.route(`${ORIGIN}/**`, async (route) => {
    const url = new URL(route.request().url());
    if (url.pathname === '/index.html') return route.fulfill({ contentType: 'text/html', body: html });
    if (url.pathname === '/dist/webview.js' && o.beforeScript) {
      let n = 1_000_000; // ids apart from the channel's
      await o.beforeScript((e) => postNow({ id: n++, body: e }).then(() => {}));
    }
    const file = url.pathname === '/theme.css' ? join(__dirname, 'dark-theme.css') : join(ROOT, url.pathname);
    const type = file.endsWith('.css') ? 'text/css' : 'application/javascript';
    return route.fulfill({ contentType: type, body: readFileSync(file) });
  });
  await page.goto(`${ORIGIN}/index.html`);
  if (o.theme !== 'none') await page.addStyleTag({ url: `${ORIGIN}/theme.css` });
  return {
    browser,
    page,
    problems,
    event: (e) => channel.event(e),
    close: async () => {
      await browser.close();
      if (session) (await session.catch(() => null))?.close();
    },
  };
}

async function byHand(): Promise<void> {
  const [model, out, layer, weight] = process.argv.slice(2);
  const h = await openHarness({ view: 'model', modelPath: model, width: 1400, height: 1000 });
  try {
    await h.page.waitForSelector('#summary [data-testid=format], [data-testid=error]');
    if (layer) await h.page.click(`[data-testid=layer][data-layer="${layer}"]`);
    if (weight) {
      await h.page.click(`[data-testid=weight][data-weight="${weight}"] .weight-toggle`);
      await h.page.waitForSelector(`[data-testid=weight][data-weight="${weight}"] td[data-row]`);
      await h.page.hover(`[data-testid=weight][data-weight="${weight}"] td[data-row="1"][data-col="2"]`);
      await h.page.waitForTimeout(200);
    }
    await h.page.screenshot({ path: out, fullPage: false });
    console.log(h.problems.join('\n') || 'no CSP violations or page errors');
  } finally {
    await h.close();
  }
}

if (require.main === module) void byHand();
