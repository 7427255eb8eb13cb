/**
 * Feasibility measurement for issue 11 item 4 ("batch split over worker threads for large batches"), not a product
 * path: one LSTM(128) over 100 steps × 64 features, float32 SIMD, the whole batch on this thread against the batch
 * split in two halves, the second half on a worker thread (its own packed copy of the weights), this thread waiting
 * on an Atomics flag — the synchronous shape the kinds' forward() would need. Samples of a batch are independent, so
 * the halves' outputs are the full batch's rows. Prints medians of alternating runs (wall-clock ms).
 *
 * Usage: node --import tsx test/bench/batch-split.ts [batch=32]
 */
import { Worker, isMainThread, parentPort } from 'node:worker_threads';
import { prepareLstm, runLstm } from '../../src/kernels/recurrent';
import { seededRandom } from '../fixtures/models';

const UNITS = 128;
const FEATURES = 64;
const STEPS = 100;
const rand = seededRandom(1);
const uniform = (n: number, s: number) => Float32Array.from({ length: n }, () => (rand() * 2 - 1) * s);
// same seed in both threads: the same weights
const weights = { kernel: uniform(FEATURES * 4 * UNITS, 0.1), recurrentKernel: uniform(UNITS * 4 * UNITS, 0.1), bias: uniform(4 * UNITS, 0.1) };
const prepared = prepareLstm(weights, UNITS, { precision: 'float32' });

if (!isMainThread) {
  parentPort!.on('message', (m: { x: Float32Array; batch: number; done: Int32Array }) => {
    runLstm(prepared, m.x, m.batch, STEPS, FEATURES);
    Atomics.store(m.done, 0, 1);
    Atomics.notify(m.done, 0);
  });
} else {
  const batch = Number(process.argv[2] ?? 32);
  const x = uniform(batch * STEPS * FEATURES, 1);
  const worker = new Worker(`require('tsx/cjs/api').register(); require(${JSON.stringify(__filename)});`, { eval: true });
  const done = new Int32Array(new SharedArrayBuffer(4));
  const half = Math.floor(batch / 2);
  const mine = x.subarray(0, half * STEPS * FEATURES);
  const theirs = x.slice(half * STEPS * FEATURES);
  const split = () => {
    Atomics.store(done, 0, 0);
    worker.postMessage({ x: theirs, batch: batch - half, done });
    runLstm(prepared, mine, half, STEPS, FEATURES);
    Atomics.wait(done, 0, 0);
  };
  const single = () => runLstm(prepared, x, batch, STEPS, FEATURES);
  // let the worker load and pack its weights first
  setTimeout(() => {
    for (let i = 0; i < 5; i++) {
      single();
      split();
    }
    const t = { single: [] as number[], split: [] as number[] };
    for (let rep = 0; rep < 15; rep++) {
      for (const [k, f] of [['single', single], ['split', split]] as const) {
        const t0 = performance.now();
        f();
        t[k].push(performance.now() - t0);
      }
    }
    const median = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];
    console.log(`LSTM b${batch} wall: one thread ${median(t.single).toFixed(2)} ms, batch split over 2 threads ${median(t.split).toFixed(2)} ms`);
    void worker.terminate();
  }, 1500);
}
