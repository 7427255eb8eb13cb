// Layer kinds against Keras-written .h5 files (dl4j reference set): Keras 1 LSTM fusion by name, Keras 2 names by
// suffix, stored activations/predictions (data Keras produced), and tf.keras ConvLSTM2D / Bidirectional weight shapes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { kindFor } from '../../src/model/kinds/index';
import type { LayerConfig, RunContext, Tensor, WeightRef } from '../../src/model/types';

const DL4J = join(process.cwd(), '..', 'shared', 'keras-reference', 'dl4j');

type H5 = any;
async function openH5(path: string): Promise<H5> {
  const h5wasm: any = await import('h5wasm/node');
  await h5wasm.ready;
  return new h5wasm.File(path, 'r');
}

function asList(v: unknown): string[] {
  if (Array.isArray(v)) return v.map(String);
  if (typeof v === 'string') return [v];
  return [];
}

/** The stored arrays of one layer, in weight_names order, as a reader would hand them to bindWeights. */
function layerWeights(f: H5, layer: string): { ref: WeightRef; data: Float32Array }[] {
  const g = f.get(`model_weights/${layer}`);
  const names = asList(g.attrs.weight_names?.value);
  return names.map((n) => {
    const ds = f.get(`model_weights/${layer}/${n}`);
    const data = Float32Array.from(ds.value as ArrayLike<number>);
    return {
      ref: { layer, name: n, path: `/model_weights/${layer}/${n}`, shape: [...ds.shape], dtype: ds.dtype, read: async () => data },
      data,
    };
  });
}

function dataset(f: H5, path: string): Tensor {
  const ds = f.get(path);
  return { shape: [...ds.shape], data: Float64Array.from(ds.value as ArrayLike<number>) };
}

function modelLayers(f: H5): { class_name: string; config: Record<string, any> }[] {
  const cfg = JSON.parse(String(f.attrs.model_config.value));
  return Array.isArray(cfg.config) ? cfg.config : cfg.config.layers;
}

function toLayer(l: { class_name: string; config: Record<string, any> }): LayerConfig {
  return { name: l.config.name, className: l.class_name, config: l.config, inbound: [] };
}

/** Compare with rtol 1e-5 relative to the largest magnitude (the README's tolerance for these files). */
function assertClose(got: ArrayLike<number>, want: ArrayLike<number>, what: string): number {
  assert.equal(got.length, want.length, `${what}: length`);
  let scale = 1;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]));
  let err = 0;
  for (let i = 0; i < want.length; i++) err = Math.max(err, Math.abs(got[i] - want[i]));
  assert.ok(err <= 1e-5 * scale, `${what}: max abs error ${err} (scale ${scale})`);
  return err;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function run(layer: LayerConfig, weights: Map<string, Tensor>, x: Tensor, kerasVersion: string | null): Tensor {
  const ctx: RunContext = { kerasVersion, states: new Map() };
  return kindFor(layer.className)!.forward({ layer, inputs: [x], masks: [null], weights, ctx }).outputs[0];
}

for (const backend of ['tf', 'th']) {
  test(`Keras 1.2.2 (${backend}) LSTM: split arrays fused by name reproduce Keras's activations and predictions`, async () => {
    const dir = join(DL4J, 'examples', 'simple_lstm');
    const f = await openH5(join(dir, `simple_lstm_${backend}_keras_1_model.h5`));
    const io = await openH5(join(dir, `simple_lstm_${backend}_keras_1_inputs_and_outputs.h5`));
    const [lstmCfg, denseCfg] = modelLayers(f).map(toLayer);
    const lstm = kindFor('LSTM')!;
    const stored = layerWeights(f, 'lstm_1');
    assert.deepEqual(
      stored.map((s) => s.ref.name.replace(/:0$/, '').replace('lstm_1_', '')),
      ['W_i', 'U_i', 'b_i', 'W_c', 'U_c', 'b_c', 'W_f', 'U_f', 'b_f', 'W_o', 'U_o', 'b_o'],
      'Keras 1.2 stores i, c, f, o',
    );
    const ctx = { kerasVersion: '1.2.2', inputShapes: [[null, 1, 1]] };
    // storedRoles: each split array gets its role and its one gate block
    const roles = lstm.storedRoles(lstmCfg, stored.map((s) => s.ref), ctx);
    const wc = roles[3];
    assert.equal(wc.role, 'kernel');
    assert.deepEqual(wc.blocks.map((b) => [b.label, b.meaning, b.start, b.end]), [['c', 'cell candidate (c̃)', 0, 50]]);
    assert.equal(roles[7].role, 'recurrent_kernel');
    assert.equal(roles[7].blocks[0].label, 'f');
    // bindWeights fuses by name into i, f, c, o
    const w = lstm.bindWeights(lstmCfg, stored, ctx);
    const kernel = w.get('kernel')!;
    assert.deepEqual(kernel.shape, [1, 200]);
    const byName = (n: string) => stored.find((s) => s.ref.name.startsWith(`lstm_1_${n}`))!.data;
    assert.deepEqual(Array.from(kernel.data.slice(100, 150)), Array.from(byName('W_c')), 'W_c lands in the c block (columns 100..150)');
    assert.deepEqual(Array.from(kernel.data.slice(50, 100)), Array.from(byName('W_f')), 'W_f lands in the f block');
    assert.deepEqual(Array.from(w.get('recurrent_kernel')!.data.slice(2 * 50 * 4 + 150, 2 * 50 * 4 + 200)), Array.from(byName('U_o').slice(100, 150)));
    assert.deepEqual(Array.from(w.get('bias')!.data.slice(150, 200)), Array.from(byName('b_o')));

    const x = dataset(io, 'inputs/lstm_input_1');
    const h = run(lstmCfg, w, x, '1.2.2');
    assertClose(h.data, dataset(io, 'activations/lstm_1').data, 'lstm_1 activations');
    const dense = kindFor('Dense')!;
    const dw = dense.bindWeights(denseCfg, layerWeights(f, 'dense_1'), { kerasVersion: '1.2.2', inputShapes: [[null, 50]] });
    const y = run(denseCfg, dw, h, '1.2.2');
    const want = dataset(io, 'predictions/dense_1').data;
    assertClose(y.data, want, 'predictions');

    // fusing by stored position (i, c, f, o read as i, f, c, o) must give a clearly different answer
    const positional = new Map<string, Tensor>();
    for (const role of ['W', 'U', 'b']) {
      const parts = stored.filter((s) => new RegExp(`_${role}_[icfo]`).test(s.ref.name));
      const rows = parts[0].ref.shape.length === 2 ? parts[0].ref.shape[0] : 1;
      const fused = new Float32Array(rows * 200);
      parts.forEach((p, k) => {
        for (let r = 0; r < rows; r++) for (let c = 0; c < 50; c++) fused[r * 200 + k * 50 + c] = p.data[r * 50 + c];
      });
      positional.set(role === 'W' ? 'kernel' : role === 'U' ? 'recurrent_kernel' : 'bias', { shape: rows === 1 && role === 'b' ? [200] : [rows, 200], data: fused });
    }
    const yWrong = run(denseCfg, dw, run(lstmCfg, positional, x, '1.2.2'), '1.2.2');
    assert.ok(maxDiff(yWrong.data, want) > 1, `positional fusion differs from Keras by ${maxDiff(yWrong.data, want)}`);
    f.close();
    io.close();
  });
}

for (const [folder, layerName] of [
  ['simple_rnn', 'simple_rnn_1'],
  ['simple_flatten_lstm', 'lstm_1'],
] as const) {
  test(`Keras 2.1.3 ${folder}: weights bound by name suffix reproduce Keras's activations`, async () => {
    const dir = join(DL4J, 'examples', folder);
    const f = await openH5(join(dir, `${folder}_tf_keras_2_model.h5`));
    const io = await openH5(join(dir, `${folder}_tf_keras_2_inputs_and_outputs.h5`));
    const layers = modelLayers(f).map(toLayer);
    const rnn = layers.find((l) => l.name === layerName)!;
    const kind = kindFor(rnn.className)!;
    const stored = layerWeights(f, layerName);
    const ctx = { kerasVersion: '2.1.3', inputShapes: [[null, 1, 1]] };
    assert.deepEqual(
      kind.storedRoles(rnn, stored.map((s) => s.ref), ctx).map((r) => r.role),
      ['kernel', 'recurrent_kernel', 'bias'],
    );
    const w = kind.bindWeights(rnn, stored, ctx);
    const x = dataset(io, `inputs/${layerName}_input`);
    const h = run(rnn, w, x, '2.1.3');
    assertClose(h.data, dataset(io, `activations/${layerName}`).data, `${layerName} activations`);
    f.close();
    io.close();
  });
}

/** Walk a linear tf.keras model, feeding each layer the output shape of the previous one; check every weight shape. */
async function checkShapes(file: string): Promise<number> {
  const f = await openH5(join(DL4J, 'tfkeras', file));
  const layers = modelLayers(f).map(toLayer);
  let shape = layers[0].config.batch_input_shape as (number | null)[];
  let checked = 0;
  for (const layer of layers.slice(1)) {
    const kind = kindFor(layer.className);
    assert.ok(kind, `kind for ${layer.className}`);
    const ctx = { kerasVersion: '2.2.4-tf', inputShapes: [shape] };
    const roles = kind.weightRoles(layer, ctx);
    const g = f.get(`model_weights/${layer.name}`);
    const stored = g ? layerWeights(f, layer.name) : [];
    assert.equal(roles.length, stored.length, `${file} ${layer.name}: number of weights`);
    const storedRoles = kind.storedRoles(layer, stored.map((s) => s.ref), ctx);
    stored.forEach((s, i) => {
      // weightRoles order == stored order here, and storedRoles name the same role/direction
      assert.deepEqual(roles[i].shape, s.ref.shape, `${file} ${s.ref.name} shape`);
      assert.equal(storedRoles[i].role, roles[i].role, `${s.ref.name} role`);
      assert.equal(storedRoles[i].direction, roles[i].direction, `${s.ref.name} direction`);
      if (/kernel|bias/.test(roles[i].role) && /LSTM|ConvLSTM/.test(JSON.stringify(layer.config.layer ?? layer.className))) {
        assert.deepEqual(roles[i].blocks.map((b) => b.label), ['i', 'f', 'c', 'o']);
      }
      checked++;
    });
    const bound = kind.bindWeights(layer, stored, ctx);
    assert.equal(bound.size, stored.length);
    // run on zeros-and-ones to check the output shape matches outputShapes
    const concrete = shape.map((d, k) => (k === 0 ? 2 : (d as number)));
    const n = concrete.reduce((a, b) => a * b, 1);
    const x: Tensor = { shape: concrete, data: Float64Array.from({ length: n }, (_, k) => Math.sin(k)) };
    const out = kind.forward({ layer, inputs: [x], masks: [null], weights: bound, ctx: { kerasVersion: '2.2.4-tf', states: new Map() } }).outputs[0];
    const expectedShape = kind.outputShapes(layer, ctx)[0];
    assert.deepEqual(out.shape.slice(1), expectedShape.slice(1), `${file} ${layer.name}: forward shape = outputShapes`);
    for (const v of out.data) assert.ok(Number.isFinite(v));
    shape = expectedShape;
  }
  f.close();
  return checked;
}

test('tf.keras ConvLSTM2D channels_last (convlstm2d_19): weightRoles shapes = stored shapes (3,3,in,16)', async () => {
  assert.equal(await checkShapes('convlstm2d_19.h5'), 6);
});

test('tf.keras Bidirectional ConvLSTM2D channels_first (convlstm2d_0): both blocks (3,3,4,16), forward then backward', async () => {
  assert.equal(await checkShapes('convlstm2d_0.h5'), 12);
});

for (const file of ['rnn_0.h5', 'rnn_5.h5', 'rnn_6.h5', 'rnn_7.h5', 'rnn_12.h5', 'rnn_20.h5', 'rnn_26.h5', 'rnn_29.h5', 'rnn_44.h5']) {
  test(`tf.keras ${file}: weightRoles shapes and storedRoles match the stored weights`, async (t) => {
    const f = await openH5(join(DL4J, 'tfkeras', file));
    const classes = modelLayers(f).map((l) => l.class_name);
    f.close();
    if (classes.some((c) => !kindFor(c))) {
      t.skip(`needs ${classes.filter((c) => !kindFor(c)).join(', ')} (engine engineer's weightless kinds)`);
      return;
    }
    assert.ok((await checkShapes(file)) >= 3);
  });
}
