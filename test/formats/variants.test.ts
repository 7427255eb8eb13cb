/**
 * Format variants the round trip does not cover: TF.js quantized and multi-shard weights, float64 datasets,
 * stored (uncompressed) .keras entries, content detection regardless of extension, architecture-only JSON,
 * NaN in JSON dumps, configPath overriding an embedded architecture, lazy reads.
 */
import '../fixtures/fast-h5wasm';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openModelFile } from '../../src/formats/open';
import { halfToFloat } from '../../src/formats/hdf5';
import { fixtureModels } from '../fixtures/models';
import { writeKeras2H5, writeKeras2WeightsH5, writeKeras3Keras, writeTfjsModel } from '../fixtures/writers';
import { KerasLensError } from '../../src/model/types';

const dir = mkdtempSync(join(tmpdir(), 'keras-lens-variants-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const lstm = () => fixtureModels().find((x) => x.id === 'lstm')!;

test('TF.js uint8/uint16 quantized weights dequantize to q*scale+min (within one step)', async () => {
  const m = lstm();
  for (const q of ['uint8', 'uint16'] as const) {
    const p = writeTfjsModel(join(dir, `tfjs-${q}`), { modelConfig: m.keras2Config, layers: m.layers, quantization: q });
    const f = await openModelFile(p);
    try {
      assert.equal(f.format, 'tfjs-json');
      for (const [i, l] of m.layers.entries()) {
        for (const [j, w] of l.weights.entries()) {
          const ref = f.layers[i].weights[j];
          assert.match(ref.dtype, new RegExp(q));
          const got = await ref.read();
          let min = Infinity;
          let max = -Infinity;
          for (const x of w.data) (min = Math.min(min, x)), (max = Math.max(max, x));
          const step = (max - min) / (q === 'uint8' ? 255 : 65535);
          for (let k = 0; k < got.length; k++) assert.ok(Math.abs(got[k] - w.data[k]) <= step / 2 + 1e-6, `${ref.name}[${k}]`);
        }
      }
    } finally {
      f.close();
    }
  }
});

test('TF.js weights spanning several shard files read back exactly', async () => {
  const m = fixtureModels().find((x) => x.id === 'two_input')!;
  const p = writeTfjsModel(join(dir, 'tfjs-shards'), { modelConfig: m.keras2Config, layers: m.layers, shards: 5 });
  const f = await openModelFile(p);
  try {
    const all = f.layers.flatMap((l) => l.weights);
    const want = m.layers.flatMap((l) => l.weights);
    assert.equal(all.length, want.length);
    for (const [i, ref] of all.entries()) assert.deepEqual(Array.from(await ref.read()), Array.from(want[i].data), ref.name);
  } finally {
    f.close();
  }
});

test('float64 datasets are converted to Float32Array; dtype reports <f8', async () => {
  const m = lstm();
  const layers = m.layers.map((l) => ({ ...l, weights: l.weights.map((w) => ({ ...w, data: Float64Array.from(w.data, (x) => x + 1e-12) })) }));
  const p = join(dir, 'f8.h5');
  await writeKeras2H5(p, { modelConfig: m.keras2Config, layers });
  const f = await openModelFile(p);
  try {
    const ref = f.layers[0].weights[0];
    assert.equal(ref.dtype, '<f8');
    const got = await ref.read();
    assert.ok(got instanceof Float32Array);
    assert.deepEqual(Array.from(got), Array.from(Float32Array.from(layers[0].weights[0].data)));
  } finally {
    f.close();
  }
});

test('half floats widen exactly', () => {
  assert.equal(halfToFloat(0x3c00), 1);
  assert.equal(halfToFloat(0xc000), -2);
  assert.equal(halfToFloat(0x3555), 0.333251953125);
  assert.equal(halfToFloat(0x0001), 2 ** -24);
  assert.equal(halfToFloat(0x7c00), Infinity);
  assert.ok(Number.isNaN(halfToFloat(0x7e00)));
});

test('stored (uncompressed) .keras entries; detection by content, not extension', async () => {
  const m = lstm();
  const p = join(dir, 'stored.keras');
  await writeKeras3Keras(p, { config: m.keras3Config!, layers: m.layers, compression: 'store' });
  const renamed = join(dir, 'stored-model.bin');
  copyFileSync(p, renamed);
  for (const file of [p, renamed]) {
    const f = await openModelFile(file);
    try {
      assert.equal(f.format, 'keras3-keras');
      assert.equal(f.kerasVersion, '3.6.0');
      assert.deepEqual(Array.from(await f.layers[1].weights[1].read()), Array.from(m.layers[1].weights[1].data));
    } finally {
      f.close();
    }
  }
  const h5 = join(dir, 'model.json'); // an HDF5 file with a .json name
  await writeKeras2H5(h5, { modelConfig: m.keras2Config, layers: m.layers });
  const f = await openModelFile(h5);
  assert.equal(f.format, 'keras2-h5');
  f.close();
});

test('HDF5 behind a 512-byte user block is found by its signature', async () => {
  const src = readFileSync('../shared/keras-reference/dl4j/tfkeras/rnn_5.h5');
  const p = join(dir, 'userblock.h5');
  writeFileSync(p, Buffer.concat([Buffer.alloc(512), src]));
  const f = await openModelFile(p);
  try {
    assert.equal(f.format, 'keras2-h5');
    assert.deepEqual(f.layers[0].weights[0].shape, [4, 24]);
  } finally {
    f.close();
  }
});

test('a weight dump whose embedded architecture is the to_json() string', async () => {
  const m = lstm();
  const p = join(dir, 'string-arch.json');
  const weights = m.layers.flatMap((l) => l.weights.map((w) => ({ data: Array.from(w.data), shape: w.shape })));
  writeFileSync(p, JSON.stringify({ config: JSON.stringify(m.keras2Config), weights }));
  const f = await openModelFile(p);
  try {
    assert.equal(f.format, 'weights-json');
    assert.deepEqual(f.layers.map((l) => [l.layer, l.weights.length]), [['lstm_1', 3], ['dense_1', 2]]);
    assert.deepEqual(Array.from(await f.layers[1].weights[0].read()), Array.from(m.layers[1].weights[0].data));
  } finally {
    f.close();
  }
});

test('architecture-only JSON (model.to_json()) opens as keras-json with no weights', async () => {
  for (const [gen, cfg, version] of [
    ['keras2', lstm().keras2Config, '2.2.4'],
    ['keras3', lstm().keras3Config!, null],
    ['keras1', lstm().keras1Config!, null],
  ] as const) {
    const p = join(dir, `${gen}-arch.json`);
    writeFileSync(p, JSON.stringify(cfg));
    const f = await openModelFile(p);
    try {
      assert.equal(f.format, 'keras-json');
      assert.equal(f.kerasVersion, version);
      assert.deepEqual(f.layers, []);
      const l = f.model!.layers.find((x) => x.className === 'LSTM')!;
      assert.equal(l.config.units, 4, gen);
    } finally {
      f.close();
    }
  }
});

test('JSON dumps with NaN (as Python json.dumps writes it) read NaN back', async () => {
  const p = join(dir, 'nan.json');
  writeFileSync(p, '{"dense_1/kernel:0": {"data": [1.5, NaN, -Infinity, 2], "shape": [2, 2]}, "dense_1/bias:0": {"data": [0, 1], "shape": [2]}}');
  const f = await openModelFile(p);
  try {
    const got = await f.layers[0].weights[0].read();
    assert.equal(got[0], 1.5);
    assert.ok(Number.isNaN(got[1]));
    assert.ok(Number.isNaN(got[2]), 'non-finite values come back as NaN');
    assert.equal(got[3], 2);
  } finally {
    f.close();
  }
});

test('configPath overrides an embedded architecture; listing is lazy (a broken dataset fails only on read)', async () => {
  const m = lstm();
  const p = join(dir, 'override.h5');
  await writeKeras2H5(p, { modelConfig: m.keras2Config, layers: m.layers });
  const arch = join(dir, 'renamed-arch.json');
  const cfg = JSON.parse(JSON.stringify(m.keras2Config));
  cfg.config.name = 'from_config_path';
  writeFileSync(arch, JSON.stringify(cfg));
  const f = await openModelFile(p, { configPath: arch });
  try {
    assert.equal(f.model!.name, 'from_config_path');
  } finally {
    f.close();
  }
  // After close(), reads fail with an Error (no crash); close is idempotent.
  const g = await openModelFile(p);
  const ref = g.layers[0].weights[0];
  g.close();
  g.close();
  await assert.rejects(ref.read());
});

test('weights-only file from another session (other layer names) pairs with the architecture by order, as load_weights does', async () => {
  const m = fixtureModels().find((x) => x.id === 'two_input')!;
  const renamed = m.layers.map((l, i) => {
    const name = `${l.name.replace(/_\d+$/, '')}_${7 + i}`;
    return { ...l, name, weights: l.weights.map((w) => ({ ...w, name: w.name.replace(`${l.name}/`, `${name}/`) })) };
  });
  const p = join(dir, 'other-session.h5');
  await writeKeras2WeightsH5(p, { layers: renamed, layerNames: ['main_input', 'aux_input', ...renamed.map((l) => l.name)] });
  const arch = join(dir, 'two-input-arch.json');
  writeFileSync(arch, JSON.stringify(m.keras2Config));
  const f = await openModelFile(p, { configPath: arch });
  try {
    assert.deepEqual(f.layers.map((l) => l.layer), ['lstm_1', 'dense_1', 'dense_2']);
    assert.deepEqual(f.layers[1].weights.map((w) => [w.layer, w.name]), [
      ['dense_1', 'dense_8/kernel:0'],
      ['dense_1', 'dense_8/bias:0'],
    ]);
  } finally {
    f.close();
  }
  const short = join(dir, 'other-session-short.h5');
  await writeKeras2WeightsH5(short, { layers: renamed.slice(0, 2) });
  await assert.rejects(openModelFile(short, { configPath: arch }), (e: unknown) => e instanceof KerasLensError && /has 2 layers with weights where the architecture has 3/.test(e.message));
});

test('Keras 0.x/1.0 layer groups without weight_names (nb_params + param_0..n)', async () => {
  const h5 = await import('h5wasm/node');
  await h5.ready;
  const p = join(dir, 'keras0.h5');
  const f = new h5.File(p, 'w');
  f.create_attribute('layer_names', ['dense_1'], [1], 'S7');
  const g = f.create_group('dense_1');
  g.create_attribute('nb_params', 2);
  g.create_dataset({ name: 'param_0', data: new Float32Array([1, 2, 3, 4, 5, 6]), shape: [3, 2] });
  g.create_dataset({ name: 'param_1', data: new Float32Array([7, 8]), shape: [2] });
  f.close();
  const m = await openModelFile(p);
  try {
    assert.equal(m.format, 'keras1-weights-h5');
    assert.deepEqual(m.layers[0].weights.map((w) => [w.name, w.shape]), [['param_0', [3, 2]], ['param_1', [2]]]);
    assert.deepEqual(Array.from(await m.layers[0].weights[1].read()), [7, 8]);
  } finally {
    m.close();
  }
});
