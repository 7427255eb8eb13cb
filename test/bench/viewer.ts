/**
 * Benchmark (not a test): the viewer's two waits, measured on the real path minus VS Code's own painting — the
 * extension host's RemoteModel calling a model worker thread (the built dist/worker.js):
 *   1. a 1 GB .h5 (test/bench/open-large.ts's stack of LSTM(2048)): a worker opens it and the layer list (summary)
 *      is back — from a fresh worker (the first model of a window) and from the spare the pool keeps started;
 *   2. a (2048, 8192) kernel (test/extension/harness/bigModel.ts): the click's getWeight, from request to the reply
 *      the webview draws its first heatmaps and table from (values as Float32Arrays, no statistics), then the
 *      getStats that fills in the statistics. The peer, measured in the same run: the same reply with its values as
 *      JSON number arrays (what the protocol carried before) — its size and the time to serialise it; and
 *      "heatmaps + statistics", what the first heatmap used to wait for.
 * Reply sizes are counted as VS Code's webview.postMessage carries them: JSON with each typed array replaced by a
 * reference, plus the arrays' bytes.
 *
 *   npm run build && node --import tsx test/bench/viewer.ts [SIZE_MB=1024] [ROUNDS=5]
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { RemoteModel } from '../../extension/remoteModel';
import { withSpare, type SpawnWorker } from '../../extension/worker/client';
import { nodeWorkerSpawner } from '../../extension/worker/node';
import { writeBigLstmModel } from '../extension/harness/bigModel';
import { writeLargeModel } from './open-large';

const WORKER = join(__dirname, '../../dist/worker.js');

const fresh = nodeWorkerSpawner(WORKER, { memoryLimitMB: 2048, faults: '' });

function remote(path: string, spawn: SpawnWorker = fresh): RemoteModel {
  return new RemoteModel({ path, maxTensorElements: 262144, timeoutMs: 120_000, spawn });
}

/** Bytes of a message as VS Code's webview.postMessage sends it (serializeWebviewMessage: JSON + ArrayBuffers). */
function webviewBytes(m: unknown): number {
  let buffers = 0;
  const json = JSON.stringify(m, (_k, v: unknown) => {
    if (ArrayBuffer.isView(v)) {
      buffers += v.buffer.byteLength;
      return { $$vscode_array_buffer_reference$$: true, index: 0, view: { type: 9, byteLength: v.byteLength, byteOffset: v.byteOffset } };
    }
    return v;
  });
  return json.length + buffers;
}

/** The peer: the same message with every typed array as a JSON number array. */
const asJsonArrays = (_k: string, v: unknown) => (ArrayBuffer.isView(v) ? Array.from(v as Float32Array) : v);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main(): Promise<void> {
  const rounds = Number(process.argv[3] ?? 5);
  const dir = mkdtempSync(join(tmpdir(), 'keras-lens-viewer-bench-'));
  const load0 = loadavg()[0];
  const t: Record<string, number[]> = { fresh: [], spare: [], heatmap: [], stats: [], jsonSer: [] };
  let sizes = { typed: 0, json: 0, summary: 0 };
  try {
    const large = join(dir, 'large.h5');
    await writeLargeModel(large, Number(process.argv[2] ?? 1024));
    const big = join(dir, 'big_lstm.h5');
    await writeBigLstmModel(big);

    // As the extension runs them: a pool that keeps one worker started ahead (the first open still starts its own).
    const pool = withSpare(fresh);
    for (let round = 1; round <= rounds; round++) {
      for (const [how, spawn] of [['fresh', fresh], ['spare', pool]] as const) {
        if (how === 'spare') await new Promise((r) => setTimeout(r, 3000)); // the spare has started
        const m = remote(large, spawn);
        const t0 = performance.now();
        const s = await m.answer({ type: 'getSummary' });
        const open = performance.now() - t0;
        if (s.type !== 'summary') throw new Error(JSON.stringify(s));
        t[how].push(open);
        sizes.summary = webviewBytes(s);
        console.log(`1 GB file (${(statSync(large).size / 2 ** 20).toFixed(0)} MB, ${s.summary.layers.length} layers): layer list back ${open.toFixed(0)} ms after open (${how} worker)`);
        m.close();
      }

      const b = remote(big);
      await b.answer({ type: 'getSummary' });
      let t0 = performance.now();
      const progress: number[] = [];
      const w = await b.answer({ type: 'getWeight', layer: 'lstm_big', weight: 'lstm_big/kernel:0', maxElements: 65536 }, (f) => progress.push(f));
      const click = performance.now() - t0;
      if (w.type !== 'weight') throw new Error(JSON.stringify(w));
      if (!(w.data.heatmaps[0].grid.values instanceof Float32Array)) throw new Error('heatmap values are not a Float32Array');
      t0 = performance.now();
      const st = await b.answer({ type: 'getStats', layer: 'lstm_big', weight: 'lstm_big/kernel:0' });
      const stats = performance.now() - t0;
      if (st.type !== 'stats') throw new Error(JSON.stringify(st));
      t0 = performance.now();
      const json = JSON.stringify(w, asJsonArrays);
      const ser = performance.now() - t0;
      sizes = { ...sizes, typed: webviewBytes(w), json: json.length };
      t.heatmap.push(click);
      t.stats.push(stats);
      t.jsonSer.push(ser);
      console.log(
        `(2048, 8192) kernel: heatmaps back ${click.toFixed(0)} ms after the click, statistics ${stats.toFixed(0)} ms later; reply ${(sizes.typed / 1024).toFixed(0)} KB ` +
          `(as JSON number arrays: ${(sizes.json / 1024).toFixed(0)} KB, ${ser.toFixed(0)} ms to serialise); progress events ${progress.length}`,
      );
      b.close();
    }
    pool.dispose();
    const f = (x: number) => x.toFixed(0);
    const heatmap = median(t.heatmap);
    const withStats = median(t.heatmap.map((h, k) => h + t.stats[k]));
    console.log(`\nmedians over ${rounds} rounds (load average ${load0.toFixed(1)} at start, ${loadavg()[0].toFixed(1)} at end):`);
    console.log(`  1 GB layer list: fresh worker ${f(median(t.fresh))} ms, spare worker ${f(median(t.spare))} ms; summary reply ${(sizes.summary / 1024).toFixed(0)} KB`);
    console.log(`  (2048, 8192) first heatmap ${f(heatmap)} ms; statistics after it ${f(median(t.stats))} ms; heatmaps + statistics (what the first heatmap waited for before) ${f(withStats)} ms: ratio ${(heatmap / withStats).toFixed(2)}`);
    console.log(`  reply ${(sizes.typed / 1024).toFixed(0)} KB with Float32Arrays vs ${(sizes.json / 1024).toFixed(0)} KB as JSON number arrays (ratio ${(sizes.typed / sizes.json).toFixed(2)}; the JSON peer takes ${f(median(t.jsonSer))} ms just to serialise)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
