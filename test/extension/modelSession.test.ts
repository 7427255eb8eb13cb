import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelSession } from '../../extension/modelSession';
import { openFileSpec } from '../../extension/fileOpener';
import { seededSigned } from '../fixtures/models';
import { writeKeras2H5 } from '../fixtures/writers';

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
    assert.ok(d.window.values instanceof Float32Array, 'values travel as a Float32Array, not a JSON array');
    assert.deepEqual(Array.from(d.window.values), stored.values);
    // forget gate = columns 50..99, checked with plain arithmetic over the stored values
    const f = stored.values.filter((_, k) => k % 200 >= 50 && k % 200 < 100);
    assert.ok(d.stats, 'a weight sent whole comes with its statistics');
    const fs = d.stats.find((x) => x.label === 'f')!;
    assert.equal(fs.count, 2500);
    assert.ok(Math.abs(fs.mean - f.reduce((a, b) => a + b) / f.length) < 1e-9);
    assert.equal(fs.max, Math.max(...f));
    assert.ok(Math.abs(fs.l2 - Math.sqrt(f.reduce((a, v) => a + v * v, 0))) < 1e-9);
    assert.deepEqual(d.heatmaps.map((h) => [h.label, h.colStart, h.colEnd]), [['i', 0, 50], ['f', 50, 100], ['c', 100, 150], ['o', 150, 200]]);
    // each block is 50x50: small enough to be drawn unscaled
    assert.ok(d.heatmaps[1].grid.values instanceof Float32Array);
    assert.deepEqual(Array.from(d.heatmaps[1].grid.values.slice(0, 3)), stored.values.slice(50, 53));
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
    assert.deepEqual(Array.from(w.window.values), expect);
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
  // Source of truth: the steps weightData takes (read each stored array, then a heatmap and stats per gate block).
  const s = await ModelSession.open(LSTM_K1, { maxTensorElements: 1e6 });
  try {
    const fused = s.summary().layers.find((l) => l.name === 'lstm_1')!.fused!.find((f) => f.role === 'recurrent_kernel')!;
    const seen: number[] = [];
    const r = await s.answer({ type: 'getWeight', layer: 'lstm_1', weight: fused.name }, (f) => seen.push(f));
    assert.equal(r.type, 'weight');
    // 4 stored arrays read, then a heatmap + stats for each of the 4 gate blocks (sent whole: the stats come along).
    assert.ok(seen.length >= 4 + 8, `steps reported: ${seen.join(', ')}`);
    assert.deepEqual([...seen].sort((a, b) => a - b), seen, 'never goes back');
    assert.equal(seen[seen.length - 1], 1);
    assert.ok(seen[0] > 0 && seen[0] < 0.5);
  } finally {
    s.close();
  }
});

/**
 * A Keras 2 LSTM(160) on 300 features, seeded values: its kernel (300, 640) has gate blocks of 160 columns, more than a
 * heatmap cell column each (128 per block) and more rows than heatmap rows (256), neither dividing evenly.
 */
async function writeMidLstm(path: string): Promise<void> {
  const units = 160;
  const input = 300;
  const draw = seededSigned(11);
  const values = (n: number) => Float32Array.from({ length: n }, () => draw());
  await writeKeras2H5(path, {
    modelConfig: {
      class_name: 'Sequential',
      config: [{ class_name: 'LSTM', config: { name: 'lstm_mid', batch_input_shape: [null, 4, input], units, activation: 'tanh', recurrent_activation: 'sigmoid', use_bias: true } }],
    },
    layers: [
      {
        name: 'lstm_mid',
        className: 'LSTM',
        weights: [
          { name: 'lstm_mid/kernel:0', shape: [input, 4 * units], data: values(input * 4 * units) },
          { name: 'lstm_mid/recurrent_kernel:0', shape: [units, 4 * units], data: values(units * 4 * units) },
          { name: 'lstm_mid/bias:0', shape: [4 * units], data: values(4 * units) },
        ],
      },
    ],
  });
}

test('a big weight: heatmaps (the exact max-|w| reduction of the stored tensor) and the first window as Float32Arrays, statistics only on getStats, exact', async () => {
  // Source of truth: the kernel read with h5wasm directly; the reduction and the statistics computed here by plain loops.
  const dir = mkdtempSync(join(tmpdir(), 'kl-mid-'));
  const path = join(dir, 'mid_lstm.h5');
  await writeMidLstm(path);
  const stored = await h5Values(path, 'model_weights/lstm_mid/lstm_mid/kernel:0');
  const [R, C] = stored.shape;
  const s = await ModelSession.open(path, { maxTensorElements: 4096 });
  try {
    const r = await s.answer({ type: 'getWeight', layer: 'lstm_mid', weight: 'lstm_mid/kernel:0' });
    if (r.type !== 'weight') assert.fail(r.type);
    const d = r.data;
    assert.equal(d.complete, false);
    assert.equal(d.stats, null, 'the statistics of a big weight do not hold up its first heatmap');
    assert.ok(d.window.values instanceof Float32Array, 'window values: a Float32Array, not a JSON number array');
    const w = d.window;
    for (let row = w.rowStart; row < w.rowEnd; row++) {
      for (let col = w.colStart; col < w.colEnd; col++) assert.equal(w.values[(row - w.rowStart) * (w.colEnd - w.colStart) + col - w.colStart], stored.values[row * C + col]);
    }
    assert.deepEqual(d.heatmaps.map((h) => [h.label, h.colStart, h.colEnd]), [['i', 0, 160], ['f', 160, 320], ['c', 320, 480], ['o', 480, 640]]);
    for (const h of d.heatmaps) {
      const g = h.grid;
      assert.ok(g.values instanceof Float32Array, 'heatmap values: a Float32Array');
      assert.ok(g.rows < R && g.cols < h.colEnd - h.colStart, `${h.label}: really reduced (${g.rows} x ${g.cols})`);
      // cell (i, j) = the stored value of largest |w| over rows floor(r*rows/R) = i, block columns floor(c*cols/width) = j
      const width = h.colEnd - h.colStart;
      const best = new Array<number>(g.rows * g.cols).fill(-1);
      const want = new Array<number>(g.rows * g.cols).fill(0);
      for (let row = 0; row < R; row++) {
        for (let c = 0; c < width; c++) {
          const v = stored.values[row * C + h.colStart + c];
          const cell = Math.floor((row * g.rows) / R) * g.cols + Math.floor((c * g.cols) / width);
          if (Math.abs(v) > best[cell]) [best[cell], want[cell]] = [Math.abs(v), v];
        }
      }
      assert.deepEqual(Array.from(g.values), want, `${h.label}: heatmap = block reduction of the stored values`);
      assert.equal(g.absMax, Math.max(...best));
    }
    const st = await s.answer({ type: 'getStats', layer: 'lstm_mid', weight: 'lstm_mid/kernel:0' });
    if (st.type !== 'stats') assert.fail(st.type);
    assert.deepEqual(st.stats.map((x) => x.label), ['i', 'f', 'c', 'o']);
    for (const [k, x] of st.stats.entries()) {
      const vals = stored.values.filter((_, i) => Math.floor((i % C) / 160) === k);
      const mean = vals.reduce((a, b) => a + b, 0) / vals.length;
      assert.equal(x.count, vals.length);
      assert.ok(Math.abs(x.mean - mean) < 1e-12, `${x.label} mean`);
      assert.ok(Math.abs(x.std - Math.sqrt(vals.reduce((a, v) => a + (v - mean) ** 2, 0) / vals.length)) < 1e-12, `${x.label} std`);
      assert.equal(x.min, Math.min(...vals));
      assert.equal(x.max, Math.max(...vals));
      assert.equal(x.bins.reduce((a, b) => a + b, 0), vals.length);
    }
  } finally {
    s.close();
  }
});

test('the layer list reads no weight value: summary and getSummary with every read refused; values and statistics come later, on request', async () => {
  // Source of truth: the file's WeightRef.read, replaced here by one that throws (and then by one that counts).
  const file = await openFileSpec({ path: LSTM_K2 });
  const refs = file.layers.flatMap((l) => l.weights);
  const reads = refs.map((ref) => ref.read.bind(ref));
  refs.forEach((ref) => (ref.read = () => Promise.reject(new Error(`read ${ref.name} before the layer list`))));
  const s = await ModelSession.fromFile(LSTM_K2, file, { maxTensorElements: 1024 });
  try {
    const sum = await s.answer({ type: 'getSummary' });
    if (sum.type !== 'summary') assert.fail(sum.type);
    assert.deepEqual(sum.summary.layers.find((l) => l.name === 'lstm_1')!.weights.map((w) => w.shape), [[1, 200], [50, 200], [200]]);
    assert.doesNotMatch(JSON.stringify(sum), /"(mean|std|bins|values)"/, 'no statistics or values in the layer list');
    let count = 0;
    refs.forEach((ref, k) => (ref.read = () => (count++, reads[k]())));
    const w = await s.answer({ type: 'getWeight', layer: 'lstm_1', weight: 'lstm_1/recurrent_kernel:0' });
    if (w.type !== 'weight') assert.fail(w.type);
    assert.equal(w.data.stats, null);
    const st = await s.answer({ type: 'getStats', layer: 'lstm_1', weight: 'lstm_1/recurrent_kernel:0' });
    assert.equal(st.type, 'stats');
    assert.equal(count, 1, 'getStats uses the values getWeight read');
  } finally {
    s.close();
  }
});
