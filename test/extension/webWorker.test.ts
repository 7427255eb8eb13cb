/**
 * The web extension's model worker in a real browser: Debian's Chromium (playwright-core, never a downloaded browser)
 * starts the built dist/web/worker.js from a blob: URL, as web/core.ts does, and talks to it through the same client
 * and watchdog as the desktop (extension/worker/client.ts, remoteModel.ts, worker/web.ts, bundled here for the page).
 * Files go in as bytes (no disk in the browser). Source of truth: the desktop path on the same files, in Node: an
 * in-process ModelSession reading the file on disk (checked against h5wasm in modelSession.test.ts) and
 * runPredictJob (the engine, checked against Keras in test/conformance). The test-only hang fault (worker/faults.ts,
 * given in the WorkerInit) proves the time limit ends the Web Worker and the next call gets a new one. Export
 * Predictor's core (src/export, op 'export') writes the same files in the Web Worker as runExportJob in Node.
 * Needs `npm run build` and /usr/bin/chromium (bash scripts/e2e/setup.sh).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { writeExamples } from '../../scripts/examples';
import { ModelSession } from '../../extension/modelSession';
import { runPredictJob } from '../../extension/predictJob';
import { runExportJob } from '../../extension/exportJob';

const ROOT = join(__dirname, '../..');
const WORKER = join(ROOT, 'dist/web/worker.js');
const CHROMIUM = '/usr/bin/chromium';
const skip = !existsSync(WORKER) ? 'run npm run build first' : !existsSync(CHROMIUM) ? 'no /usr/bin/chromium (bash scripts/e2e/setup.sh)' : false;

let server: Server;
let browser: Browser;
let page: Page;
const dir = mkdtempSync(join(tmpdir(), 'kl-webworker-'));

before(async () => {
  if (skip) return;
  await writeExamples(dir);
  const harness = await esbuild.build({
    stdin: {
      contents: `import { RemoteModel } from './extension/remoteModel';
        import { WorkerClient } from './extension/worker/client';
        import { webWorkerSpawner } from './extension/worker/web';
        globalThis.kl = { RemoteModel, WorkerClient, webWorkerSpawner };
        // tsx names the functions page.evaluate serialises with __name(): give the page one.
        globalThis.__name = (f) => f;`,
      resolveDir: ROOT,
      loader: 'ts',
    },
    bundle: true,
    write: false,
    platform: 'browser',
    format: 'iife',
  });
  const pages: Record<string, [string, string | Buffer]> = {
    '/': ['text/html', '<!doctype html><script src="/harness.js"></script>'],
    '/harness.js': ['text/javascript', harness.outputFiles[0].text],
    '/worker.js': ['text/javascript', readFileSync(WORKER)],
  };
  server = createServer((req, res) => {
    const p = pages[req.url ?? ''];
    res.writeHead(p ? 200 : 404, { 'content-type': p ? p[0] : 'text/plain' });
    res.end(p ? p[1] : 'not found');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  page = await browser.newPage();
  const port = (server.address() as { port: number }).port;
  await page.goto(`http://127.0.0.1:${port}/`);
});

after(async () => {
  await browser?.close();
  server?.close();
});

/**
 * Same structure, numbers equal to rounding: Chromium's V8 has relaxed-SIMD FMA, which the engine uses where the
 * runtime has it (Node 20 has not), so the last bits of float64 sums may differ. 1e-9 is far inside the product's
 * 1e-5 contract with Keras and far outside any real difference.
 */
function assertClose(actual: unknown, expected: unknown, where: string, tol = 1e-9): void {
  if (typeof expected === 'number' && typeof actual === 'number') {
    assert.ok(Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)), `${where}: ${actual} vs ${expected}`);
  } else if (expected && typeof expected === 'object') {
    assert.equal(typeof actual, 'object', where);
    const a = actual as Record<string, unknown>;
    const e = expected as Record<string, unknown>;
    assert.deepEqual(Object.keys(a).sort(), Object.keys(e).sort(), `${where}: keys`);
    for (const k of Object.keys(e)) assertClose(a[k], e[k], `${where}.${k}`, tol);
  } else assert.equal(actual, expected, where);
}

/** Bytes of an example file, as a plain array for page.evaluate. */
const bytesOf = (name: string) => [...readFileSync(join(dir, name))];

test('a model opens from bytes in a Web Worker (blob: URL) with the summary and weight values the desktop reads from disk', { skip, timeout: 120_000 }, async () => {
  for (const name of ['toy_lstm.h5', 'lstm_keras3.keras', 'bidirectional_lstm.h5']) {
    const here = await ModelSession.open(join(dir, name), { maxTensorElements: 1e6 });
    const layer = here.report.layers.find((l) => l.weights.length > 0)!;
    const req = { type: 'getWeight' as const, layer: layer.name, weight: layer.weights[0].name };
    const there = await page.evaluate(
      async ({ name, bytes, req }) => {
        const kl = (globalThis as any).kl;
        const url = () => fetch('/worker.js').then((r) => r.blob()).then((b) => URL.createObjectURL(b));
        const m = new kl.RemoteModel({
          path: name,
          maxTensorElements: 1e6,
          timeoutMs: 30_000,
          spawn: kl.webWorkerSpawner(url, { memoryLimitMB: 512, faults: '' }),
          files: async () => ({ file: { name, bytes: new Uint8Array(bytes) } }),
        });
        try {
          const summary = await m.answer({ type: 'getSummary' });
          const weight = await m.answer(req);
          // Weight values cross the Web Worker boundary as Float32Arrays; sent back here as plain arrays, marked.
          const typed = (v: any): any =>
            v instanceof Float32Array ? { float32: Array.from(v) } : Array.isArray(v) ? v.map(typed) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, typed(x)])) : v;
          return { summary, weight: typed(weight), inWorker: m.client.generation };
        } finally {
          m.close();
        }
      },
      { name, bytes: bytesOf(name), req },
    );
    assert.deepEqual(there.summary, { type: 'summary', summary: here.summary() }, `${name}: summary`);
    const float32 = (_: string, v: unknown) => (v instanceof Float32Array ? { float32: Array.from(v) } : v);
    assert.deepEqual(there.weight, JSON.parse(JSON.stringify(await here.answer(req), float32)), `${name}: ${req.weight}`);
    assert.match(JSON.stringify(there.weight), /"window":\{[^{}]*"values":\{"float32":\[/, `${name}: the window's values were a Float32Array in the page`);
    assert.equal(there.inWorker, 1, 'one Web Worker did the work');
    here.close();
  }
});

test('Predict in a Web Worker gives the numbers the desktop engine gives (outputs and gate trace)', { skip, timeout: 120_000 }, async () => {
  for (const name of ['toy_lstm.h5', 'lstm_keras3.keras']) {
    const input = readFileSync(join(dir, name.replace(/\.(h5|keras)$/, '.input.json')), 'utf8');
    const job = { modelPath: join(dir, name), inputText: input, inputName: 'input.json', maxBatch: 16 };
    const here = await runPredictJob(job);
    const there = await page.evaluate(
      async ({ name, bytes, input }) => {
        const kl = (globalThis as any).kl;
        const url = () => fetch('/worker.js').then((r) => r.blob()).then((b) => URL.createObjectURL(b));
        const client = new kl.WorkerClient(kl.webWorkerSpawner(url, { memoryLimitMB: 512, faults: '' }));
        try {
          const job = { modelPath: name, inputText: input, inputName: 'input.json', maxBatch: 16, model: { name, bytes: new Uint8Array(bytes) } };
          return await client.call({ op: 'predict', job }, { file: name, what: 'predicting', timeoutMs: 60_000 });
        } finally {
          client.dispose();
        }
      },
      { name, bytes: bytesOf(name), input },
    );
    assertClose(JSON.parse(there.json), JSON.parse(here.json), name);
    assert.ok(JSON.parse(here.json).outputs.length > 0, 'there are outputs to compare');
    assertClose(there.summary.outputs, here.summary.outputs, `${name}: the panel's summary`);
  }
});

test('watchdog: a hang in the Web Worker is ended at the time limit with one line, and the next call gets a new worker', { skip, timeout: 120_000 }, async () => {
  const r = await page.evaluate(async (bytes) => {
    const kl = (globalThis as any).kl;
    const url = () => fetch('/worker.js').then((r) => r.blob()).then((b) => URL.createObjectURL(b));
    const m = new kl.RemoteModel({
      path: 'hang_me.h5',
      maxTensorElements: 1e6,
      timeoutMs: 1000,
      spawn: kl.webWorkerSpawner(url, { memoryLimitMB: 512, faults: 'hang:open:hang_me' }),
      files: async () => ({ file: { name: 'hang_me.h5', bytes: new Uint8Array(bytes) } }),
    });
    // Warm the worker first (the first call on a new worker gets a start-up allowance), then hang it.
    const status = await m.client.call({ op: 'status' }, { file: 'hang_me.h5', what: 'status', timeoutMs: 30_000 });
    const started = Date.now();
    const hung = await m.answer({ type: 'getSummary' });
    const waited = Date.now() - started;
    const after = await m.client.call({ op: 'status' }, { file: 'hang_me.h5', what: 'status', timeoutMs: 30_000 });
    const generation = m.client.generation;
    m.close();
    return { status, hung, waited, after, generation };
  }, bytesOf('toy_lstm.h5'));
  assert.deepEqual(r.status, { models: 0 });
  assert.deepEqual(r.hung, { type: 'error', message: 'hang_me.h5: opening the file did not finish within 1 s (kerasLens.worker.timeoutSeconds); its worker was stopped' });
  assert.ok(r.waited >= 1000 && r.waited < 10_000, `ended at the limit (${r.waited} ms)`);
  assert.deepEqual(r.after, { models: 0 }, 'a new worker answers');
  assert.equal(r.generation, 2, 'the hung worker was replaced');
});

test('Export Predictor in a Web Worker writes the files the desktop writes, in every language', { skip, timeout: 180_000 }, async () => {
  const name = 'toy_lstm.h5';
  for (const language of ['js', 'numpy', 'c', 'java', 'pytorch'] as const) {
    const here = await runExportJob({ modelPath: join(dir, name), language });
    const there: { path: string; executable: boolean; content: string | number[] }[] = await page.evaluate(
      async ({ name, bytes, language }) => {
        const kl = (globalThis as any).kl;
        const url = () => fetch('/worker.js').then((r) => r.blob()).then((b) => URL.createObjectURL(b));
        const client = new kl.WorkerClient(kl.webWorkerSpawner(url, { memoryLimitMB: 512, faults: '' }));
        try {
          const job = { modelPath: name, language, model: { name, bytes: new Uint8Array(bytes) } };
          const r = await client.call({ op: 'export', job }, { file: name, what: 'exporting', timeoutMs: 60_000 });
          return r.files.map((f: { path: string; content: string | Uint8Array; executable?: boolean }) => ({
            path: f.path,
            executable: !!f.executable,
            content: typeof f.content === 'string' ? f.content : Array.from(f.content),
          }));
        } finally {
          client.dispose();
        }
      },
      { name, bytes: bytesOf(name), language },
    );
    const expected = here.files.map((f) => ({ path: f.path, executable: !!f.executable, content: typeof f.content === 'string' ? f.content : Array.from(f.content) }));
    assert.deepEqual(there.map((f) => f.path), expected.map((f) => f.path), `${language}: the same files`);
    for (const [k, f] of expected.entries()) {
      // golden.json holds the engine's outputs for the golden input, computed with the float32 kernels where the
      // model allows (FMA in Chromium, none in Node 20): equal to float32 rounding, 1e-6 (the contract is 1e-5).
      if (f.path.endsWith('golden.json')) assertClose(JSON.parse(there[k].content as string), JSON.parse(f.content as string), `${language}: ${f.path}`, 1e-6);
      else assert.deepEqual(there[k], f, `${language}: ${f.path}`);
    }
  }
});
