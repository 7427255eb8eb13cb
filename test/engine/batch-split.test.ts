/**
 * The batch split of recurrent calls over helper threads (src/kernels/batch-split.ts, src/engine/batch-split-node.ts). Source of
 * truth: the same call on one thread (runPrepared; predict() with no splitter registered) — samples are independent,
 * so the split results must be equal bit for bit, including masks, go_backwards, sequences and initial states. The
 * split path must really run (helper threads computed chunks: the splitter's counts), a helper that throws or ends
 * its thread mid-chunk must change nothing but who computes, and a process whose helpers are idle must still exit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { prepareGru, prepareLstm, prepareSimpleRnn, type RecurrentRunOptions } from '../../src/kernels/recurrent';
import { batchSplitter, runPrepared, setBatchSplitter, type PreparedRecurrent } from '../../src/kernels/batch-split';
import { createNodeBatchSplitter, type NodeBatchSplitter } from '../../src/engine/batch-split-node';
import { simdSupported } from '../../src/kernels/workspace';
import { buildModel } from '../../src/model/graph';
import { predict } from '../../src/engine/predict';
import { fastRecurrentRunCount } from '../../src/model/kinds/fast-recurrent';
import { seededRandom } from '../fixtures/models';
import { inputLayer, layer, memoryFile, modelConfig, ref } from './memoryModel';

const rand = seededRandom(2024);
const uniform = (n: number, s: number) => Float32Array.from({ length: n }, () => (rand() * 2 - 1) * s);

interface Case {
  label: string;
  p: PreparedRecurrent;
  weights: { kernel: Float32Array; recurrentKernel: Float32Array; bias: Float32Array };
}

function cases(units: number, features: number): Case[] {
  const out: Case[] = [];
  for (const precision of simdSupported() ? (['float32', 'float64'] as const) : (['float64'] as const)) {
    for (const cell of ['lstm', 'gru', 'gru_after', 'simple_rnn'] as const) {
      const g = cell === 'lstm' ? 4 : cell === 'simple_rnn' ? 1 : 3;
      const weights = { kernel: uniform(features * g * units, 0.4), recurrentKernel: uniform(units * g * units, 0.4), bias: uniform((cell === 'gru_after' ? 2 : 1) * g * units, 0.2) };
      const opts = { precision };
      const p =
        cell === 'lstm' ? prepareLstm(weights, units, opts) : cell === 'simple_rnn' ? prepareSimpleRnn(weights, units, opts) : prepareGru(weights, units, cell === 'gru_after', opts);
      out.push({ label: `${cell} ${precision}`, p, weights });
    }
  }
  return out;
}

function assertSame(a: ReturnType<typeof runPrepared>, b: ReturnType<typeof runPrepared>, label: string): void {
  assert.ok(a && b, label);
  assert.deepEqual(b.last, a.last, `${label}: last`);
  assert.deepEqual(b.h, a.h, `${label}: h`);
  assert.deepEqual(b.c, a.c, `${label}: c`);
  assert.deepEqual(b.sequence, a.sequence, `${label}: sequence`);
}

/** Runs every case on one thread and through the splitter; returns how many calls the splitter declined. */
function compareAll(splitter: NodeBatchSplitter, batch: number, label: string): number {
  let declined = 0;
  const units = 12;
  const features = 5;
  const steps = 9;
  for (const c of cases(units, features)) {
    const x = uniform(batch * steps * features, 1.5);
    const mask = Uint8Array.from({ length: batch * steps }, (_, i) => (i % 7 === 3 ? 0 : 1));
    for (const [k, opts] of ([
      {},
      { returnSequences: true, goBackwards: true },
      { mask, returnSequences: true, maskedOutput: 'zero' },
      { mask, initialH: uniform(batch * units, 0.5), initialC: c.p.cell === 'lstm' ? uniform(batch * units, 0.5) : null },
    ] as RecurrentRunOptions[]).entries()) {
      const one = runPrepared(c.p, x, batch, steps, features, opts);
      const split = splitter.run({ prepared: c.p, weights: c.weights, x, batch, steps, features, opts });
      if (split === undefined) declined++;
      else assertSame(one, split, `${label} ${c.label} options #${k}`);
    }
  }
  return declined;
}

test('split over a helper thread: every cell, precision and option bit for bit the one-thread run, with chunks computed by the helper', async () => {
  const splitter = createNodeBatchSplitter({ helpers: 1, minBatch: 2, minFlops: 0, chunk: 2, backoff: false });
  try {
    await splitter.ready();
    for (let attempt = 0; attempt < 5 && splitter.stats.helperChunks === 0; attempt++) {
      assert.equal(compareAll(splitter, 13, `attempt ${attempt}`), 0, 'a healthy helper was not used');
    }
    assert.ok(splitter.stats.calls > 0);
    assert.ok(splitter.stats.helperChunks > 0, `no chunk ran on the helper thread (${JSON.stringify(splitter.stats)})`);
  } finally {
    await splitter.close();
  }
});

test('a helper that throws, or ends its thread mid-chunk, changes no result (this thread computes its chunks)', async () => {
  for (const fault of ['throw', 'exit'] as const) {
    // a long tail wait, so that a chunk is recomputed because the helper failed, not because it was slow
    const splitter = createNodeBatchSplitter({ helpers: 1, minBatch: 2, minFlops: 0, chunk: 2, fault, tailWaitMs: 2000, backoff: false });
    try {
      await splitter.ready();
      for (let attempt = 0; attempt < 5 && splitter.stats.recomputed === 0; attempt++) {
        compareAll(splitter, 11, `${fault} attempt ${attempt}`);
        await new Promise((r) => setTimeout(r, 50)); // let a helper that ended be seen as ended
      }
      assert.ok(splitter.stats.recomputed > 0, `${fault}: the helper never took a chunk (${JSON.stringify(splitter.stats)})`);
      assert.equal(splitter.stats.helperChunks, 0, fault);
    } finally {
      await splitter.close();
    }
  }
});

test('small calls and a splitter without helpers are not split', () => {
  const c = cases(4, 3)[0];
  const x = uniform(16 * 2 * 3, 1);
  const none = createNodeBatchSplitter({ helpers: 0 });
  assert.equal(none.run({ prepared: c.p, weights: c.weights, x, batch: 16, steps: 2, features: 3, opts: {} }), undefined);
  const big = createNodeBatchSplitter({ helpers: 1 });
  assert.equal(big.run({ prepared: c.p, weights: c.weights, x, batch: 16, steps: 2, features: 3, opts: {} }), undefined, 'a tiny call must not start threads');
  assert.equal(big.stats.helpersStarted, 0);
});

test('a split call slower than one thread makes the next calls run alone (back-off), with the same results', async () => {
  // tiny chunks: posting the job and waking the helper cost more than the work, so the split loses
  const splitter = createNodeBatchSplitter({ helpers: 1, minBatch: 2, minFlops: 0, chunk: 1, tailWaitMs: 5 });
  try {
    await splitter.ready();
    const c = cases(3, 2)[0];
    const x = uniform(8 * 2 * 2, 1);
    const job = { prepared: c.p, weights: c.weights, x, batch: 8, steps: 2, features: 2, opts: {} };
    const one = runPrepared(c.p, x, 8, 2, 2, {});
    let declined = 0;
    for (let i = 0; i < 40; i++) {
      const r = splitter.run(job);
      if (r === undefined) declined++;
      else assertSame(one, r, `call ${i}`);
    }
    assert.ok(splitter.stats.lost > 0, JSON.stringify(splitter.stats));
    assert.ok(declined > 0, 'no call ran alone after a lost split');
  } finally {
    await splitter.close();
  }
});

test('predict() with a registered splitter: LSTM and GRU outputs bit for bit those without one, and the split ran', async () => {
  // large enough that a chunk takes longer than waking the helper
  const steps = 60;
  const features = 16;
  const units = 48;
  const batch = 24;
  const weights = (g: number, inputs: number) => [
    { name: 'kernel', shape: [inputs, g * units], data: Array.from(uniform(inputs * g * units, 0.4)) },
    { name: 'recurrent_kernel', shape: [units, g * units], data: Array.from(uniform(units * g * units, 0.4)) },
    { name: 'bias', shape: [g * units], data: Array.from(uniform(g * units, 0.2)) },
  ];
  const config = modelConfig(
    [
      inputLayer('x', [steps, features]),
      layer('lstm', 'LSTM', { units, return_sequences: true }, [ref('x')]),
      layer('gru', 'GRU', { units, reset_after: false }, [ref('lstm')]),
    ],
    [ref('x')],
    [ref('gru')],
  );
  const model = await buildModel(memoryFile(config, { lstm: weights(4, features), gru: weights(3, units) }));
  const x = { shape: [batch, steps, features], data: uniform(batch * steps * features, 1) };
  const previous = setBatchSplitter(null);
  const splitter = createNodeBatchSplitter({ helpers: 1, minBatch: 8, minFlops: 0, backoff: false });
  try {
    const alone = await predict(model, x);
    await splitter.ready();
    setBatchSplitter(splitter);
    assert.equal(batchSplitter(), splitter);
    for (let attempt = 0; attempt < 10 && splitter.stats.helperChunks === 0; attempt++) {
      const before = fastRecurrentRunCount();
      const split = await predict(model, x);
      assert.equal(fastRecurrentRunCount() - before, 2, 'both layers on the fast path');
      assert.deepEqual(split.outputs[0].data, alone.outputs[0].data);
    }
    assert.ok(splitter.stats.calls >= 2, JSON.stringify(splitter.stats));
    assert.ok(splitter.stats.helperChunks > 0, `no chunk ran on the helper thread (${JSON.stringify(splitter.stats)})`);
  } finally {
    setBatchSplitter(previous);
    await splitter.close();
  }
});

test('idle helper threads never keep a process alive (child process exits by itself after a split call)', () => {
  const script = `
    const { registerNodeBatchSplitter } = require(${JSON.stringify(join(__dirname, '../../src/engine/batch-split-node.ts'))});
    const { prepareLstm } = require(${JSON.stringify(join(__dirname, '../../src/kernels/recurrent.ts'))});
    const s = registerNodeBatchSplitter({ helpers: 1, minBatch: 2, minFlops: 0 });
    if (!s) { console.log('not registered'); process.exitCode = 0; } else {
    const u = 8, f = 3, steps = 30, batch = 16;
    const w = { kernel: new Float32Array(f * 4 * u).fill(0.1), recurrentKernel: new Float32Array(u * 4 * u).fill(0.05), bias: null };
    const p = prepareLstm(w, u, {});
    // the helper does not keep the process alive even while starting: this timer does, until the call is done
    const busy = setInterval(() => {}, 1000);
    s.ready().then(() => {
      const r = s.run({ prepared: p, weights: w, x: new Float32Array(batch * steps * f).fill(0.5), batch, steps, features: f, opts: {} });
      console.log(r ? 'split ran' : 'declined');
      clearInterval(busy);
    }); }`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.error, undefined, 'the child did not exit by itself (a helper kept it alive)');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /split ran|not registered/);
});
