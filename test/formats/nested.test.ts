/**
 * Models used as layers (a Sequential inside a functional model): the normaliser inlines their layers and the
 * readers hand each stored weight to the inner layer it belongs to, in Keras 2 .h5 (one group for the nested
 * model, weight names prefixed by the inner layer) and Keras 3 (.keras: `layers/sequential/layers/<class>/...`).
 */
import '../fixtures/fast-h5wasm';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openModelFile } from '../../src/formats/open';
import { normalizeModelConfig } from '../../src/model/config';
import { seededRandom } from '../fixtures/models';
import { writeKeras2H5, writeKeras3Keras, type FixtureLayerWeights } from '../fixtures/writers';

const dir = mkdtempSync(join(tmpdir(), 'keras-lens-nested-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const ref = (layer: string, node = 0, tensor = 0) => ({ layer, node, tensor });
const rand = seededRandom(7);
const t = (shape: number[]) => Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rand() - 0.5);

// Input(5,3) -> Sequential[LSTM(4) 'lstm_1', Dense(2) 'dense_1'] -> Dense(1) 'dense_1' (same name as the inner one)
const inner = {
  class_name: 'Sequential',
  config: {
    name: 'sequential_1',
    layers: [
      { class_name: 'LSTM', config: { name: 'lstm_1', units: 4, batch_input_shape: [null, 5, 3] } },
      { class_name: 'Dense', config: { name: 'dense_1', units: 2 } },
    ],
  },
};
const keras2Config = {
  class_name: 'Model',
  config: {
    name: 'outer',
    layers: [
      { name: 'x', class_name: 'InputLayer', config: { name: 'x', batch_input_shape: [null, 5, 3] }, inbound_nodes: [] },
      { name: 'sequential_1', ...inner, inbound_nodes: [[['x', 0, 0, {}]]] },
      { name: 'dense_1', class_name: 'Dense', config: { name: 'dense_1', units: 1 }, inbound_nodes: [[['sequential_1', 1, 0, {}]]] },
    ],
    input_layers: [['x', 0, 0]],
    output_layers: [['dense_1', 0, 0]],
  },
};
const w = {
  k: t([3, 16]),
  rk: t([4, 16]),
  b: t([16]),
  dk: t([4, 2]),
  db: t([2]),
  ok: t([2, 1]),
  ob: t([1]),
};

test('normalisation inlines the nested Sequential, renaming the clashing inner dense_1', () => {
  const c = normalizeModelConfig(keras2Config, '2.2.4', 'n.h5');
  assert.deepEqual(
    c.layers.map((l) => [l.name, l.className, l.nestedIn ?? null, l.storedName ?? null]),
    [
      ['x', 'InputLayer', null, null],
      ['lstm_1', 'LSTM', 'sequential_1', null],
      ['sequential_1/dense_1', 'Dense', 'sequential_1', 'dense_1'],
      ['dense_1', 'Dense', null, null],
    ],
  );
  assert.deepEqual(c.layers[1].inbound, [[ref('x')]]);
  assert.deepEqual(c.layers[2].inbound, [[ref('lstm_1')]]);
  assert.deepEqual(c.layers[3].inbound, [[ref('sequential_1/dense_1')]]);
  assert.deepEqual(c.outputs, [ref('dense_1')]);
});

test('Keras 2 .h5: the nested model group is split into its inner layers', async () => {
  const layers: FixtureLayerWeights[] = [
    {
      name: 'sequential_1',
      weights: [
        { name: 'lstm_1/kernel:0', shape: [3, 16], data: w.k },
        { name: 'lstm_1/recurrent_kernel:0', shape: [4, 16], data: w.rk },
        { name: 'lstm_1/bias:0', shape: [16], data: w.b },
        { name: 'dense_1/kernel:0', shape: [4, 2], data: w.dk },
        { name: 'dense_1/bias:0', shape: [2], data: w.db },
      ],
    },
    { name: 'dense_1', weights: [{ name: 'dense_1/kernel:0', shape: [2, 1], data: w.ok }, { name: 'dense_1/bias:0', shape: [1], data: w.ob }] },
  ];
  const p = join(dir, 'nested.h5');
  await writeKeras2H5(p, { modelConfig: keras2Config, layers });
  const m = await openModelFile(p);
  try {
    assert.deepEqual(
      m.layers.map((l) => [l.layer, l.weights.map((x) => x.name)]),
      [
        ['lstm_1', ['lstm_1/kernel:0', 'lstm_1/recurrent_kernel:0', 'lstm_1/bias:0']],
        ['sequential_1/dense_1', ['dense_1/kernel:0', 'dense_1/bias:0']],
        ['dense_1', ['dense_1/kernel:0', 'dense_1/bias:0']],
      ],
    );
    assert.deepEqual(Array.from(await m.layers[1].weights[0].read()), Array.from(w.dk));
    assert.deepEqual(Array.from(await m.layers[2].weights[0].read()), Array.from(w.ok));
  } finally {
    m.close();
  }
});

test('Keras 3 .keras: layers/sequential/layers/<class> groups map to the inlined layers', async () => {
  const k3inner = {
    module: 'keras',
    class_name: 'Sequential',
    config: {
      name: 'sequential_1',
      layers: [
        { module: 'keras.layers', class_name: 'InputLayer', config: { name: 'input_layer', batch_shape: [null, 5, 3] } },
        { module: 'keras.layers', class_name: 'LSTM', config: { name: 'lstm_1', units: 4 } },
        { module: 'keras.layers', class_name: 'Dense', config: { name: 'dense_1', units: 2 } },
      ],
    },
  };
  const kt = (l: string) => ({ class_name: '__keras_tensor__', config: { keras_history: [l, 0, 0] } });
  const config = {
    module: 'keras',
    class_name: 'Functional',
    config: {
      name: 'outer',
      layers: [
        { module: 'keras.layers', class_name: 'InputLayer', name: 'x', config: { name: 'x', batch_shape: [null, 5, 3] }, inbound_nodes: [] },
        { ...k3inner, name: 'sequential_1', inbound_nodes: [{ args: [kt('x')], kwargs: {} }] },
        { module: 'keras.layers', class_name: 'Dense', name: 'dense_1', config: { name: 'dense_1', units: 1 }, inbound_nodes: [{ args: [kt('sequential_1')], kwargs: {} }] },
      ],
      input_layers: [['x', 0, 0]],
      output_layers: [['dense_1', 0, 0]],
    },
  };
  const p = join(dir, 'nested.keras');
  // Keras 3 addresses the inner layers by class inside the nested model's own container; give the writer each
  // layer's weights under its (unique) config name.
  const innerDense = { name: 'dense_1', className: 'Dense', weights: [{ name: 'k', shape: [4, 2], data: w.dk }, { name: 'b', shape: [2], data: w.db }] };
  await writeKeras3Keras(p, {
    config: { ...config, config: { ...config.config, layers: [config.config.layers[0], config.config.layers[1], { ...config.config.layers[2], name: 'dense_out', config: { name: 'dense_out', units: 1 } }] } } as never,
    layers: [
      { name: 'lstm_1', className: 'LSTM', weights: [{ name: 'k', shape: [3, 16], data: w.k }, { name: 'r', shape: [4, 16], data: w.rk }, { name: 'b', shape: [16], data: w.b }] },
      innerDense,
      { name: 'dense_out', className: 'Dense', weights: [{ name: 'k', shape: [2, 1], data: w.ok }, { name: 'b', shape: [1], data: w.ob }] },
    ],
  });
  // Read it with the architecture whose outer Dense is also called dense_1 (the clash case).
  const arch = join(dir, 'nested-k3.json');
  (await import('node:fs')).writeFileSync(arch, JSON.stringify(config));
  const m = await openModelFile(p, { configPath: arch });
  try {
    assert.deepEqual(
      m.layers.map((l) => [l.layer, l.weights.map((x) => x.name)]),
      [
        ['lstm_1', ['layers/sequential/layers/lstm/cell/vars/0', 'layers/sequential/layers/lstm/cell/vars/1', 'layers/sequential/layers/lstm/cell/vars/2']],
        ['sequential_1/dense_1', ['layers/sequential/layers/dense/vars/0', 'layers/sequential/layers/dense/vars/1']],
        ['dense_1', ['layers/dense/vars/0', 'layers/dense/vars/1']],
      ],
    );
    assert.deepEqual(Array.from(await m.layers[1].weights[0].read()), Array.from(w.dk));
    assert.deepEqual(Array.from(await m.layers[2].weights[1].read()), Array.from(w.ob));
  } finally {
    m.close();
  }
});

test('a nested model called twice: inner layers become shared (one node per call); calls are numbered from 1', () => {
  const raw = {
    class_name: 'Functional',
    config: {
      name: 'outer',
      layers: [
        { name: 'a', class_name: 'InputLayer', config: { name: 'a', batch_input_shape: [null, 5, 3] }, inbound_nodes: [] },
        { name: 'b', class_name: 'InputLayer', config: { name: 'b', batch_input_shape: [null, 5, 3] }, inbound_nodes: [] },
        { name: 'enc', ...inner, config: { ...inner.config, name: 'enc' }, inbound_nodes: [[['a', 0, 0, {}]], [['b', 0, 0, {}]]] },
        // only the SECOND call is used here (node 2 in Keras numbering), then the first (node 1)
        { name: 'add', class_name: 'Add', config: { name: 'add' }, inbound_nodes: [[['enc', 2, 0, {}], ['enc', 1, 0, {}]]] },
      ],
      input_layers: [['a', 0, 0], ['b', 0, 0]],
      output_layers: [['add', 0, 0], ['enc', 2, 0]],
    },
  };
  const c = normalizeModelConfig(raw, '2.4.0', 'shared.h5');
  const by = new Map(c.layers.map((l) => [l.name, l]));
  assert.deepEqual(by.get('lstm_1')!.inbound, [[ref('a')], [ref('b')]]);
  assert.deepEqual(by.get('dense_1')!.inbound, [[ref('lstm_1', 0)], [ref('lstm_1', 1)]]);
  assert.deepEqual(by.get('add')!.inbound, [[ref('dense_1', 1), ref('dense_1', 0)]]);
  assert.deepEqual(c.outputs, [ref('add'), ref('dense_1', 1)]);
});
