import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelSession } from '../../extension/modelSession';

const REF = join(__dirname, '../../../shared/keras-reference/dl4j');
const LSTM_K2 = join(REF, 'examples/simple_lstm/simple_lstm_tf_keras_2_model.h5');
const BIDI = join(REF, 'tfkeras/rnn_7.h5');

/** The stored array read with h5wasm directly (not through our readers): the values Keras wrote. */
async function h5Values(path: string, dataset: string): Promise<{ shape: number[]; values: number[] }> {
  const h5wasm = await import('h5wasm/node');
  await h5wasm.ready;
  const f = new h5wasm.File(path, 'r');
  try {
    const ds = f.get(dataset) as unknown as { shape: number[]; value: ArrayLike<number> };
    return { shape: ds.shape, values: Array.from(ds.value) };
  } finally {
    f.close();
  }
}

test('summary: header fields and the layer list come from the report', async () => {
  const s = await ModelSession.open(LSTM_K2, { maxTensorElements: 1e6 });
  try {
    const sum = s.summary();
    assert.equal(sum.fileName, 'simple_lstm_tf_keras_2_model.h5');
    assert.equal(sum.kerasVersion, '2.0.6');
    assert.equal(sum.totalParams, 10451); // 4*50*(1+50+1) + 50 + 1
    const lstm = sum.layers.find((l) => l.name === 'lstm_1')!;
    assert.equal(lstm.className, 'LSTM');
    assert.deepEqual(lstm.weights.map((w) => w.shape), [[1, 200], [50, 200], [200]]);
    assert.deepEqual(lstm.weights[1].blocks.map((b) => b.label), ['i', 'f', 'c', 'o']);
    assert.equal(sum.needsArchitecture, false);
  } finally {
    s.close();
  }
});

test('getWeight returns the stored values, stats per gate and one heatmap per gate', async () => {
  const s = await ModelSession.open(LSTM_K2, { maxTensorElements: 1e6 });
  try {
    const stored = await h5Values(LSTM_K2, 'model_weights/lstm_1/lstm_1/recurrent_kernel:0');
    const reply = await s.answer({ type: 'getWeight', layer: 'lstm_1', weight: 'lstm_1/recurrent_kernel:0' });
    assert.equal(reply.type, 'weight');
    if (reply.type !== 'weight') return;
    const d = reply.data;
    assert.deepEqual(d.shape, stored.shape);
    assert.equal(d.complete, true);
    assert.deepEqual(d.window.values, stored.values);
    // forget gate = columns 50..99, checked with plain arithmetic over the stored values
    const f = stored.values.filter((_, k) => k % 200 >= 50 && k % 200 < 100);
    const fs = d.stats.find((x) => x.label === 'f')!;
    assert.equal(fs.count, 2500);
    assert.ok(Math.abs(fs.mean - f.reduce((a, b) => a + b) / f.length) < 1e-9);
    assert.equal(fs.max, Math.max(...f));
    assert.ok(Math.abs(fs.l2 - Math.sqrt(f.reduce((a, v) => a + v * v, 0))) < 1e-9);
    assert.deepEqual(d.heatmaps.map((h) => [h.label, h.colStart, h.colEnd]), [['i', 0, 50], ['f', 50, 100], ['c', 100, 150], ['o', 150, 200]]);
    // each block is 50x50: small enough to be drawn unscaled
    assert.deepEqual(d.heatmaps[1].grid.values.slice(0, 3), stored.values.slice(50, 53));
  } finally {
    s.close();
  }
});

test('big weights come as a first window; other windows on request, equal to the stored values', async () => {
  const s = await ModelSession.open(LSTM_K2, { maxTensorElements: 1024 });
  try {
    const stored = await h5Values(LSTM_K2, 'model_weights/lstm_1/lstm_1/recurrent_kernel:0');
    const r = await s.answer({ type: 'getWeight', layer: 'lstm_1', weight: 'lstm_1/recurrent_kernel:0' });
    if (r.type !== 'weight') assert.fail(r.type);
    assert.equal(r.data.complete, false);
    assert.ok(r.data.window.values.length < 10000);
    const w = await s.answer({ type: 'getWindow', layer: 'lstm_1', weight: 'lstm_1/recurrent_kernel:0', window: { rowStart: 40, rowEnd: 43, colStart: 150, colEnd: 152 } });
    if (w.type !== 'window') assert.fail(w.type);
    const expect = [40, 41, 42].flatMap((row) => [150, 151].map((col) => stored.values[row * 200 + col]));
    assert.deepEqual(w.window.values, expect);
  } finally {
    s.close();
  }
});

test('describeCell speaks of the gate and the row source', async () => {
  const s = await ModelSession.open(LSTM_K2, { maxTensorElements: 1e6 });
  try {
    const r = await s.answer({ type: 'describeCell', layer: 'lstm_1', weight: 'lstm_1/recurrent_kernel:0', row: 5, col: 52 });
    if (r.type !== 'cellText') assert.fail(r.type);
    assert.match(r.text, /h\(t-1\)/);
    assert.match(r.text, /forget gate/);
    assert.match(r.text, /unit 2\b/);
    await assert.rejects(s.answer({ type: 'getWeight', layer: 'lstm_1', weight: 'nope' }), /simple_lstm_tf_keras_2_model\.h5.*nope/);
  } finally {
    s.close();
  }
});

test('Bidirectional weights carry their direction', async () => {
  const s = await ModelSession.open(BIDI, { maxTensorElements: 1e6 });
  try {
    const layer = s.summary().layers.find((l) => l.className === 'Bidirectional')!;
    const dirs = layer.weights.map((w) => w.direction);
    assert.equal(dirs.filter((d) => d === 'forward').length, 3);
    assert.equal(dirs.filter((d) => d === 'backward').length, 3);
  } finally {
    s.close();
  }
});

test('a file that is not a model fails with its name in the message', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kl-'));
  const bad = join(dir, 'notes.h5');
  writeFileSync(bad, 'this is not HDF5');
  await assert.rejects(ModelSession.open(bad, { maxTensorElements: 1e6 }), (e: Error) => {
    assert.match(e.message, /notes\.h5/);
    assert.doesNotMatch(e.message, /\n/);
    return true;
  });
});

const LSTM_K1 = join(REF, 'examples/simple_lstm/simple_lstm_tf_keras_1_model.h5');

test('Keras 1 split gate arrays: stored arrays in file order, plus one fused view per role, columns i|f|c|o joined by name', async () => {
  const s = await ModelSession.open(LSTM_K1, { maxTensorElements: 1e6 });
  try {
    const lstm = s.summary().layers.find((l) => l.name === 'lstm_1')!;
    assert.deepEqual(
      lstm.weights.map((w) => w.name),
      ['i', 'c', 'f', 'o'].flatMap((g) => [`lstm_1_W_${g}:0`, `lstm_1_U_${g}:0`, `lstm_1_b_${g}:0`]),
    );
    assert.deepEqual(lstm.weights.find((w) => w.name === 'lstm_1_U_f:0')!.blocks.map((b) => b.label), ['f']);
    assert.deepEqual(
      lstm.fused!.map((w) => [w.name, w.role, w.shape]),
      [
        ['lstm_1_W_{i,f,c,o}:0', 'kernel', [1, 200]],
        ['lstm_1_U_{i,f,c,o}:0', 'recurrent_kernel', [50, 200]],
        ['lstm_1_b_{i,f,c,o}:0', 'bias', [200]],
      ],
    );
    const u = lstm.fused![1];
    assert.deepEqual(u.parts, ['lstm_1_U_i:0', 'lstm_1_U_f:0', 'lstm_1_U_c:0', 'lstm_1_U_o:0']);
    assert.deepEqual(u.blocks.map((b) => [b.label, b.start, b.end]), [['i', 0, 50], ['f', 50, 100], ['c', 100, 150], ['o', 150, 200]]);

    const r = await s.answer({ type: 'getWeight', layer: 'lstm_1', weight: u.name });
    if (r.type !== 'weight') assert.fail(r.type);
    const byGate = Object.fromEntries(
      await Promise.all(['i', 'f', 'c', 'o'].map(async (g) => [g, await h5Values(LSTM_K1, `model_weights/lstm_1/lstm_1_U_${g}:0`)] as const)),
    );
    // fused[row, 50*k + j] = U_<gate k>[row, j] with k over i, f, c, o (the file stores i, c, f, o)
    for (const [row, col] of [[0, 0], [3, 60], [7, 110], [49, 199]]) {
      const gate = 'ifco'[Math.floor(col / 50)];
      assert.equal(r.data.window.values[row * 200 + col], byGate[gate].values[row * 50 + (col % 50)], `U[${row}, ${col}] from U_${gate}`);
    }
    const d = await s.answer({ type: 'describeCell', layer: 'lstm_1', weight: u.name, row: 3, col: 60 });
    if (d.type !== 'cellText') assert.fail(d.type);
    assert.match(d.text, /^lstm_1_U_f:0: /);
    assert.match(d.text, /forget gate of unit 10/);
  } finally {
    s.close();
  }
});

test('a weights-only file joined to its architecture JSON loses the notice and gains the model layout', async () => {
  const weightsOnly = join(REF, 'examples/simple_lstm/simple_lstm_tf_keras_2_weights.h5');
  const alone = await ModelSession.open(weightsOnly, { maxTensorElements: 1e6 });
  try {
    assert.equal(alone.summary().needsArchitecture, true);
  } finally {
    alone.close();
  }
  // the architecture Keras wrote into the full model file, saved as model.to_json() would
  const h5wasm = await import('h5wasm/node');
  await h5wasm.ready;
  const f = new h5wasm.File(LSTM_K2, 'r');
  const config = f.attrs['model_config'].value as string;
  f.close();
  const dir = mkdtempSync(join(tmpdir(), 'kl-arch-'));
  const arch = join(dir, 'simple_lstm_architecture.json');
  writeFileSync(arch, config);
  const joined = await ModelSession.open(weightsOnly, { maxTensorElements: 1e6, configPath: arch });
  try {
    const s = joined.summary();
    assert.equal(s.needsArchitecture, false);
    assert.equal(s.architecture, 'simple_lstm_architecture.json');
    const lstm = s.layers.find((l) => l.name === 'lstm_1')!;
    assert.deepEqual(lstm.outputShape, [25, 50]);
    assert.deepEqual(lstm.weights[1].rows.map((r) => r.source), ['h(t-1)']);
  } finally {
    joined.close();
  }
});

test('a weight read reports its progress: rising shares of its steps, ending at 1 (Keras 1 fused view: one step per stored array)', async () => {
  // Source of truth: the steps weightData takes (read each stored array, then stats and a heatmap per gate block).
  const s = await ModelSession.open(LSTM_K1, { maxTensorElements: 1e6 });
  try {
    const fused = s.summary().layers.find((l) => l.name === 'lstm_1')!.fused!.find((f) => f.role === 'recurrent_kernel')!;
    const seen: number[] = [];
    const r = await s.answer({ type: 'getWeight', layer: 'lstm_1', weight: fused.name }, (f) => seen.push(f));
    assert.equal(r.type, 'weight');
    // 4 stored arrays read, then stats + heatmap for each of the 4 gate blocks.
    assert.ok(seen.length >= 4 + 8, `steps reported: ${seen.join(', ')}`);
    assert.deepEqual([...seen].sort((a, b) => a - b), seen, 'never goes back');
    assert.equal(seen[seen.length - 1], 1);
    assert.ok(seen[0] > 0 && seen[0] < 0.5);
  } finally {
    s.close();
  }
});
