/**
 * The batch split of recurrent calls over helper threads (issue 11 item 4; src/engine/batch-split-node.ts), measured
 * on its own: LSTM(128) and GRU(128, reset_after=False) over 100 steps × 64 features, float32 SIMD, the whole batch
 * on this thread (runPrepared) against the product splitter (createNodeBatchSplitter: this thread and its helpers
 * taking chunks of samples), alternating run by run after both are warm. Checks the outputs are bit-identical.
 * Prints medians of wall-clock ms and the helpers' share of the chunks.
 *
 * Usage: node --import tsx test/bench/batch-split.ts [batch=32] [runs=15]
 */
import { availableParallelism, loadavg } from 'node:os';
import { prepareGru, prepareLstm } from '../../src/kernels/recurrent';
import { runPrepared, type PreparedRecurrent } from '../../src/kernels/batch-split';
import { createNodeBatchSplitter } from '../../src/engine/batch-split-node';
import { seededRandom } from '../fixtures/models';

const UNITS = 128;
const FEATURES = 64;
const STEPS = 100;
const rand = seededRandom(1);
const uniform = (n: number, s: number) => Float32Array.from({ length: n }, () => (rand() * 2 - 1) * s);
const median = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];

async function main(): Promise<void> {
  const batch = Number(process.argv[2] ?? 32);
  const runs = Number(process.argv[3] ?? 15);
  const splitter = createNodeBatchSplitter({});
  await splitter.ready();
  const load = loadavg()[0];
  const lines: string[] = [];
  for (const cell of ['lstm', 'gru'] as const) {
    const g = cell === 'lstm' ? 4 : 3;
    const weights = { kernel: uniform(FEATURES * g * UNITS, 0.1), recurrentKernel: uniform(UNITS * g * UNITS, 0.1), bias: uniform(g * UNITS, 0.1) };
    const p: PreparedRecurrent = cell === 'lstm' ? prepareLstm(weights, UNITS, { precision: 'float32' }) : prepareGru(weights, UNITS, false, { precision: 'float32' });
    const x = uniform(batch * STEPS * FEATURES, 1);
    const single = () => runPrepared(p, x, batch, STEPS, FEATURES, {});
    const split = () => splitter.run({ prepared: p, weights, x, batch, steps: STEPS, features: FEATURES, opts: {} });
    const a = single()!;
    const b = split();
    if (!b) throw new Error(`the splitter declined ${cell} b${batch}`);
    const same = a.last.every((v, i) => Object.is(v, b.last[i]));
    const before = { ...splitter.stats };
    const t = { single: [] as number[], split: [] as number[] };
    for (let i = 0; i < 3; i++) single(), split();
    for (let rep = 0; rep < runs; rep++) {
      for (const [k, f] of [['single', single], ['split', split]] as const) {
        const t0 = performance.now();
        f();
        t[k].push(performance.now() - t0);
      }
    }
    const helper = splitter.stats.helperChunks - before.helperChunks;
    const own = splitter.stats.ownChunks - before.ownChunks;
    lines.push(
      `${cell.toUpperCase()} b${batch} wall: one thread ${median(t.single).toFixed(2)} ms, split ${median(t.split).toFixed(2)} ms ` +
        `(${(median(t.single) / median(t.split)).toFixed(2)}×; helpers took ${helper} of ${helper + own} chunks); outputs bit-identical: ${same ? 'yes' : 'NO'}`,
    );
  }
  console.log(`${availableParallelism()} cores, load average ${load.toFixed(1)} → ${loadavg()[0].toFixed(1)}, helpers ${splitter.stats.helpersStarted}`);
  for (const l of lines) console.log(l);
  await splitter.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
