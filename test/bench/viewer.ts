/**
 * Benchmark (not a test): the viewer's two waits, measured on the real path minus VS Code's own painting — the
 * extension host's RemoteModel calling a model worker thread (the built dist/worker.js):
 *   1. a 1 GB .h5 (test/bench/open-large.ts's stack of LSTM(2048)): a fresh worker opens it and the layer list
 *      (summary) is back;
 *   2. a (2048, 8192) kernel (test/extension/harness/bigModel.ts): the click's getWeight, from request to the reply
 *      the webview draws its first heatmap from, with the reply's size as VS Code's postMessage serialises it.
 *
 *   npm run build && node --import tsx test/bench/viewer.ts [SIZE_MB=1024]
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'keras-lens-viewer-bench-'));
  try {
    const large = join(dir, 'large.h5');
    await writeLargeModel(large, Number(process.argv[2] ?? 1024));
    const big = join(dir, 'big_lstm.h5');
    await writeBigLstmModel(big);

    // As the extension runs them: a pool that keeps one worker started ahead (the first open still starts its own).
    const pool = withSpare(fresh);
    for (let round = 1; round <= 3; round++) {
      for (const [how, spawn] of [['fresh worker', fresh], ['spare worker', pool]] as const) {
        if (how === 'spare worker') await new Promise((r) => setTimeout(r, 3000)); // the spare has started
        const m = remote(large, spawn);
        const t0 = performance.now();
        const s = await m.answer({ type: 'getSummary' });
        const open = performance.now() - t0;
        if (s.type !== 'summary') throw new Error(JSON.stringify(s));
        console.log(`1 GB file (${(statSync(large).size / 2 ** 20).toFixed(0)} MB, ${s.summary.layers.length} layers): layer list back ${open.toFixed(0)} ms after open (${how})`);
        m.close();
      }
      let t = performance.now();

      const b = remote(big);
      await b.answer({ type: 'getSummary' });
      t = performance.now();
      const progress: number[] = [];
      const w = await b.answer({ type: 'getWeight', layer: 'lstm_big', weight: 'lstm_big/kernel:0', maxElements: 65536 }, (f) => progress.push(f));
      const click = performance.now() - t;
      if (w.type !== 'weight') throw new Error(JSON.stringify(w));
      t = performance.now();
      const bytes = JSON.stringify(w).length;
      const ser = performance.now() - t;
      console.log(
        `(2048, 8192) kernel: heatmaps back ${click.toFixed(0)} ms after the click; reply ${(bytes / 1024).toFixed(0)} KB as JSON (${ser.toFixed(0)} ms to serialise); progress events ${progress.length}`,
      );
      b.close();
    }
    pool.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
