/** normalizeModelConfig / normalizeLayerConfig / singleLayerModel over every Keras generation's spelling. */
import '../fixtures/fast-h5wasm';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kerasSnakeCase, normalizeLayerConfig, normalizeModelConfig, singleLayerModel } from '../../src/model/config';
import { KerasLensError } from '../../src/model/types';
import { fixtureModels } from '../fixtures/models';

const ref = (layer: string, node = 0, tensor = 0) => ({ layer, node, tensor });
const kt = (layer: string) => ({ class_name: '__keras_tensor__', config: { shape: [null, 4], dtype: 'float32', keras_history: [layer, 0, 0] } });

test('Keras 1 Sequential: output_dim/inner_activation/init/... become Keras 2 keys; Embedding keeps input_dim/output_dim', () => {
  const m = fixtureModels().find((x) => x.id === 'char_lstm')!;
  const c = normalizeModelConfig(m.keras1Config, '1.2.2', 'x.h5');
  assert.equal(c.className, 'Sequential');
  assert.deepEqual(c.layers.map((l) => [l.name, l.className]), [
    ['embedding_input_1', 'InputLayer'],
    ['embedding_1', 'Embedding'],
    ['lstm_1', 'LSTM'],
    ['dense_1', 'Dense'],
  ]);
  assert.deepEqual(c.layers[0].config.batch_input_shape, [null, 10]);
  const [, emb, lstm, dense] = c.layers;
  assert.equal(emb.config.input_dim, 20);
  assert.equal(emb.config.output_dim, 8);
  assert.equal(emb.config.units, undefined);
  assert.equal(emb.config.embeddings_initializer, 'uniform');
  assert.equal(lstm.config.units, 16);
  assert.equal(lstm.config.recurrent_activation, 'hard_sigmoid');
  assert.equal(lstm.config.kernel_initializer, 'glorot_uniform');
  assert.equal(lstm.config.recurrent_initializer, 'orthogonal');
  assert.equal(lstm.config.unit_forget_bias, true);
  assert.equal(lstm.config.recurrent_dropout, 0);
  assert.equal(lstm.config.consume_less, 'cpu', 'unknown keys are kept');
  for (const k of ['output_dim', 'inner_activation', 'init', 'inner_init', 'forget_bias_init', 'dropout_W', 'dropout_U', 'W_regularizer']) {
    assert.equal(lstm.config[k], undefined, k);
  }
  assert.equal(dense.config.units, 20);
  assert.equal(dense.config.use_bias, true);
  assert.deepEqual(dense.inbound, [[ref('lstm_1')]]);
  assert.deepEqual(c.inputs, [ref('embedding_input_1')]);
  assert.deepEqual(c.outputs, [ref('dense_1')]);
});

test('Keras 1 functional Model: 3-element inbound refs, Merge(concat) -> Concatenate, Convolution1D -> Conv1D', () => {
  const raw = {
    class_name: 'Model',
    config: {
      name: 'model_1',
      layers: [
        { name: 'a', class_name: 'InputLayer', config: { batch_input_shape: [null, 5, 3], input_dtype: 'float32', name: 'a' }, inbound_nodes: [] },
        { name: 'b', class_name: 'InputLayer', config: { batch_input_shape: [null, 2], name: 'b' }, inbound_nodes: [] },
        { name: 'conv', class_name: 'Convolution1D', config: { name: 'conv', nb_filter: 6, filter_length: 3, border_mode: 'same', subsample_length: 1, bias: true }, inbound_nodes: [[['a', 0, 0]]] },
        { name: 'lstm_1', class_name: 'LSTM', config: { name: 'lstm_1', output_dim: 4, inner_activation: 'sigmoid' }, inbound_nodes: [[['conv', 0, 0]]] },
        { name: 'merge_1', class_name: 'Merge', config: { name: 'merge_1', mode: 'concat', concat_axis: -1 }, inbound_nodes: [[['lstm_1', 0, 0], ['b', 0, 0]]] },
        { name: 'sum_1', class_name: 'Merge', config: { name: 'sum_1', mode: 'sum' }, inbound_nodes: [[['merge_1', 0, 0], ['merge_1', 0, 0]]] },
      ],
      input_layers: [['a', 0, 0], ['b', 0, 0]],
      output_layers: [['sum_1', 0, 0]],
    },
  };
  const c = normalizeModelConfig(raw, '1.2.2', 'k1.h5');
  assert.equal(c.className, 'Model');
  const by = new Map(c.layers.map((l) => [l.name, l]));
  const conv = by.get('conv')!;
  assert.equal(conv.className, 'Conv1D');
  assert.deepEqual([conv.config.filters, conv.config.kernel_size, conv.config.padding, conv.config.strides, conv.config.use_bias], [6, [3], 'same', [1], true]);
  assert.equal(by.get('lstm_1')!.config.units, 4);
  assert.equal(by.get('lstm_1')!.config.recurrent_activation, 'sigmoid');
  const merge = by.get('merge_1')!;
  assert.equal(merge.className, 'Concatenate');
  assert.equal(merge.config.axis, -1);
  assert.equal(merge.config.mode, undefined);
  assert.deepEqual(merge.inbound, [[ref('lstm_1'), ref('b')]]);
  assert.equal(by.get('sum_1')!.className, 'Add');
  assert.deepEqual(c.inputs, [ref('a'), ref('b')]);
  assert.deepEqual(c.outputs, [ref('sum_1')]);
});

test('Keras 2 / tf.keras: 4-element refs; initial_state tensors in kwargs go to inboundKwargs', () => {
  const raw = {
    class_name: 'Functional',
    config: {
      name: 'enc_dec',
      layers: [
        { name: 'x', class_name: 'InputLayer', config: { batch_input_shape: [null, 7, 3], name: 'x' }, inbound_nodes: [] },
        { name: 'h0', class_name: 'InputLayer', config: { batch_input_shape: [null, 4], name: 'h0' }, inbound_nodes: [] },
        { name: 'c0', class_name: 'InputLayer', config: { batch_input_shape: [null, 4], name: 'c0' }, inbound_nodes: [] },
        {
          name: 'lstm',
          class_name: 'LSTM',
          config: { name: 'lstm', units: 4 },
          inbound_nodes: [[['x', 0, 0, { initial_state: [['h0', 0, 0], ['c0', 0, 0]], training: false }]]],
        },
      ],
      input_layers: [['x', 0, 0], ['h0', 0, 0], ['c0', 0, 0]],
      output_layers: [['lstm', 0, 0]],
    },
  };
  const c = normalizeModelConfig(raw, '2.4.0', 'tf.h5');
  const lstm = c.layers[3];
  assert.deepEqual(lstm.inbound, [[ref('x')]]);
  assert.deepEqual(lstm.inboundKwargs, [{ initial_state: [ref('h0'), ref('c0')] }]);
  assert.equal(c.className, 'Functional');
});

test('Keras 3 Functional: __keras_tensor__ args (nested for Concatenate), kwargs tensors, batch_shape, dtype policies', () => {
  const m = fixtureModels().find((x) => x.id === 'two_input')!;
  const c = normalizeModelConfig(m.keras3Config, '3.6.0', 'm.keras');
  assert.equal(c.className, 'Functional');
  const by = new Map(c.layers.map((l) => [l.name, l]));
  assert.deepEqual(by.get('main_input')!.config.batch_input_shape, [null, 30, 6]);
  assert.equal(by.get('main_input')!.config.batch_shape, undefined);
  assert.deepEqual(by.get('concatenate_1')!.inbound, [[ref('lstm_1'), ref('aux_input')]]);
  assert.equal(by.get('lstm_1')!.config.dtype, 'float32');
  assert.equal(by.get('lstm_1')!.config.units, 128);
  assert.deepEqual(c.inputs, [ref('main_input'), ref('aux_input')]);
  assert.deepEqual(c.outputs, [ref('dense_2')]);

  const withState = {
    class_name: 'Functional',
    config: {
      name: 'f',
      layers: [
        { name: 'x', class_name: 'InputLayer', config: { batch_shape: [null, 7, 3], name: 'x' }, inbound_nodes: [] },
        { name: 'h', class_name: 'InputLayer', config: { batch_shape: [null, 4], name: 'h' }, inbound_nodes: [] },
        { name: 'gru', class_name: 'GRU', module: 'keras.layers', config: { name: 'gru', units: 4 }, inbound_nodes: [{ args: [kt('x')], kwargs: { initial_state: [kt('h')], training: false, mask: null } }] },
      ],
      input_layers: ['x', 0, 0],
      output_layers: ['gru', 0, 0],
    },
  };
  const s = normalizeModelConfig(withState, '3.1.0', 'f.keras');
  assert.deepEqual(s.layers[2].inbound, [[ref('x')]]);
  assert.deepEqual(s.layers[2].inboundKwargs, [{ initial_state: [ref('h')] }]);
  assert.deepEqual(s.inputs, [ref('x')], 'a single un-nested [name, node, tensor] input ref');
  assert.deepEqual(s.outputs, [ref('gru')]);
});

test('Keras 3 Sequential keeps its explicit InputLayer; wrappers get inner/backward', () => {
  const m = fixtureModels().find((x) => x.id === 'bidirectional_lstm')!;
  const c = normalizeModelConfig(m.keras3Config, '3.6.0', 'b.keras');
  assert.deepEqual(c.layers.map((l) => l.className), ['InputLayer', 'Bidirectional']);
  assert.equal(c.layers[0].name, 'input_layer');
  assert.deepEqual(c.layers[0].config.batch_input_shape, [null, 4, 2]);
  const bidi = c.layers[1];
  assert.equal(bidi.inner!.className, 'LSTM');
  assert.equal(bidi.inner!.config.units, 3);
  assert.equal(bidi.inner!.config.dtype, 'float32');
  assert.deepEqual(bidi.inbound, [[ref('input_layer')]]);

  const explicit = normalizeLayerConfig(
    {
      class_name: 'Bidirectional',
      config: {
        name: 'bi',
        merge_mode: 'sum',
        layer: { class_name: 'GRU', config: { name: 'fwd', units: 2 } },
        backward_layer: { class_name: 'GRU', config: { name: 'bwd', units: 2, go_backwards: true } },
      },
    },
    '2.4.0',
  );
  assert.equal(explicit.inner!.name, 'fwd');
  assert.equal(explicit.backward!.name, 'bwd');
  const td = normalizeLayerConfig({ class_name: 'TimeDistributed', config: { name: 'td', layer: { class_name: 'Dense', config: { name: 'd', output_dim: 3 } } } }, '1.2.2');
  assert.equal(td.inner!.className, 'Dense');
  assert.equal(td.inner!.config.units, 3);
  const k1bidi = normalizeLayerConfig({ class_name: 'Bidirectional', config: { name: 'b', merge_mode: 'concat', layer: { class_name: 'LSTM', config: { name: 'l', output_dim: 5, inner_activation: 'hard_sigmoid' } } } }, '1.2.2');
  assert.equal(k1bidi.inner!.config.units, 5);
  assert.equal(k1bidi.inner!.config.recurrent_activation, 'hard_sigmoid');
});

test('TF.js topology (with and without the model_config envelope)', () => {
  const m = fixtureModels().find((x) => x.id === 'toy_lstm')!;
  const a = normalizeModelConfig({ modelTopology: { keras_version: 'tfjs-layers 4.22.0', backend: 'tensor_flow.js', model_config: m.keras2Config } }, 'tfjs-layers 4.22.0', 'model.json');
  const b = normalizeModelConfig({ modelTopology: m.keras2Config }, null, 'model.json');
  for (const c of [a, b]) {
    assert.deepEqual(c.layers.map((l) => l.name), ['lstm_1_input', 'lstm_1']);
    assert.deepEqual(c.layers[0].config.batch_input_shape, [null, 3, 1]);
    assert.equal(c.layers[1].config.units, 2);
  }
});

test('Sequential input shape from input_shape / input_dim; none at all is a clear error', () => {
  const d = normalizeModelConfig({ class_name: 'Sequential', config: [{ class_name: 'Dense', config: { name: 'dense_1', units: 3, input_dim: 4 } }] }, '2.0.0', 'd.h5');
  assert.deepEqual(d.layers[0].config.batch_input_shape, [null, 4]);
  const s = normalizeModelConfig({ class_name: 'Sequential', config: { name: 's', layers: [{ class_name: 'LSTM', config: { name: 'l', units: 3, input_shape: [7, 2] } }] } }, '2.2.4', 's.h5');
  assert.deepEqual(s.layers[0].config.batch_input_shape, [null, 7, 2]);
  const k1 = normalizeModelConfig({ class_name: 'Sequential', config: [{ class_name: 'LSTM', config: { name: 'l', output_dim: 3, input_dim: 2, input_length: 9 } }] }, '1.2.2', 'k1.h5');
  assert.deepEqual(k1.layers[0].config.batch_input_shape, [null, 9, 2]);
  assert.throws(
    () => normalizeModelConfig({ class_name: 'Sequential', config: [{ class_name: 'Dense', config: { name: 'dense_1', units: 3 } }] }, '2.2.4', 'n.h5'),
    (e: unknown) => e instanceof KerasLensError && /declares no input shape/.test(e.message),
  );
  assert.throws(
    () => normalizeModelConfig({ class_name: 'Model', config: { layers: [{ name: 'a', class_name: 'Dense', config: {}, inbound_nodes: [[['ghost', 0, 0, {}]]] }], input_layers: [], output_layers: [['a', 0, 0]] } }, '2.2.4', 'g.h5'),
    (e: unknown) => e instanceof KerasLensError && /refers to a layer 'ghost'/.test(e.message),
  );
});

test('singleLayerModel builds input_1.. -> layer for keras-js style cases', () => {
  const c = singleLayerModel({ class_name: 'LSTM', config: { units: 4, recurrent_activation: 'hard_sigmoid' } }, [[3, 6]], '2.1.2');
  assert.deepEqual(c.layers.map((l) => [l.name, l.className]), [
    ['input_1', 'InputLayer'],
    ['lstm', 'LSTM'],
  ]);
  assert.deepEqual(c.layers[0].config.batch_input_shape, [null, 3, 6]);
  assert.deepEqual(c.layers[1].inbound, [[ref('input_1')]]);
  assert.deepEqual(c.outputs, [ref('lstm')]);
  const two = singleLayerModel({ class_name: 'Concatenate', config: { name: 'cat', axis: -1 } }, [[2], [3]], '2.1.2');
  assert.deepEqual(two.layers[2].inbound, [[ref('input_1'), ref('input_2')]]);
});

test("Keras 3 snake_case of class names (the weights.h5 group names Keras 3 writes)", () => {
  const cases: [string, string][] = [
    ['LSTM', 'lstm'],
    ['GRU', 'gru'],
    ['SimpleRNN', 'simple_rnn'],
    ['ConvLSTM2D', 'conv_lstm2d'],
    ['Bidirectional', 'bidirectional'],
    ['TimeDistributed', 'time_distributed'],
    ['InputLayer', 'input_layer'],
    ['Dense', 'dense'],
    ['Conv1D', 'conv1d'],
    ['BatchNormalization', 'batch_normalization'],
  ];
  for (const [cls, want] of cases) assert.equal(kerasSnakeCase(cls), want, cls);
});
