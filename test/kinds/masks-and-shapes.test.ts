// Output masks (Embedding mask_zero → RNN), outputShapes with return_state / merge_mode None, Bidirectional
// return_state order, errors as one-line KerasLensErrors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kindFor } from '../../src/model/kinds/index';
import { KerasLensError } from '../../src/model/types';
import type { LayerConfig, RunContext, Tensor, WeightRef } from '../../src/model/types';
import { seededSigned } from '../fixtures/models';

const ctxOf = (v: string | null = '2.2.4'): RunContext => ({ kerasVersion: v, states: new Map() });
const L = (className: string, config: Record<string, unknown>, name = 'l'): LayerConfig => ({ name, className, config, inbound: [] });
function stored(layer: string, arrays: { shape: number[]; data: Float32Array }[], names?: string[]) {
  return arrays.map((a, i) => ({
    ref: { layer, name: names ? names[i] : `${layer}/vars/${i}`, path: String(i), shape: a.shape, dtype: '<f4', read: async () => a.data } as WeightRef,
    data: a.data,
  }));
}

test('Embedding mask_zero produces the mask (index != 0) and a downstream LSTM carries state over masked steps', () => {
  const emb = L('Embedding', { input_dim: 5, output_dim: 2, mask_zero: true }, 'emb');
  const table = Float32Array.from([0, 0, 1, 2, 3, 4, 5, 6, 7, 8]);
  const w = kindFor('Embedding')!.bindWeights(emb, stored('emb', [{ shape: [5, 2], data: table }]), { kerasVersion: null, inputShapes: [] });
  const x: Tensor = { shape: [2, 3], data: Float64Array.from([1, 0, 2, 0, 3, 4]) };
  const r = kindFor('Embedding')!.forward({ layer: emb, inputs: [x], masks: [null], weights: w, ctx: ctxOf() });
  assert.deepEqual(r.outputs[0].shape, [2, 3, 2]);
  assert.deepEqual(Array.from(r.outputs[0].data), [1, 2, 0, 0, 3, 4, 0, 0, 5, 6, 7, 8]);
  const mask = r.masks![0]!;
  assert.deepEqual([mask.batch, mask.steps, Array.from(mask.data)], [2, 3, [1, 0, 1, 0, 1, 1]]);
  // without mask_zero: no mask
  const plain = kindFor('Embedding')!.forward({ layer: L('Embedding', { input_dim: 5, output_dim: 2 }), inputs: [x], masks: [null], weights: w, ctx: ctxOf() });
  assert.equal(plain.masks?.[0] ?? null, null);

  // SimpleRNN(return_sequences) over the embedding with that mask: sample 0 step 1 repeats step 0's output
  const rnn = L('SimpleRNN', { units: 2, return_sequences: true, activation: 'tanh' }, 'rnn');
  const rr = seededSigned(3);
  const rw = kindFor('SimpleRNN')!.bindWeights(
    rnn,
    stored('rnn', [
      { shape: [2, 2], data: Float32Array.from({ length: 4 }, rr) },
      { shape: [2, 2], data: Float32Array.from({ length: 4 }, rr) },
      { shape: [2], data: Float32Array.from({ length: 2 }, rr) },
    ]),
    { kerasVersion: null, inputShapes: [] },
  );
  const out = kindFor('SimpleRNN')!.forward({ layer: rnn, inputs: [r.outputs[0]], masks: [mask], weights: rw, ctx: ctxOf() });
  const y = out.outputs[0].data;
  assert.deepEqual([y[2], y[3]], [y[0], y[1]], 'masked step repeats the previous output');
  assert.notDeepEqual([y[4], y[5]], [y[0], y[1]]);
  assert.equal(out.masks![0], mask, 'return_sequences passes the mask on');
});

test('outputShapes: return_state, Bidirectional concat/None/return_state, TimeDistributed, Conv1D causal, Embedding', () => {
  const k = { kerasVersion: '2.2.4', inputShapes: [[null, 7, 3]] };
  assert.deepEqual(kindFor('LSTM')!.outputShapes(L('LSTM', { units: 4, return_state: true }), k), [[null, 4], [null, 4], [null, 4]]);
  assert.deepEqual(kindFor('GRU')!.outputShapes(L('GRU', { units: 4, return_sequences: true, return_state: true }), k), [[null, 7, 4], [null, 4]]);
  const inner = { class_name: 'LSTM', config: { name: 'lstm', units: 4, return_sequences: true, return_state: true } };
  assert.deepEqual(kindFor('Bidirectional')!.outputShapes(L('Bidirectional', { layer: inner, merge_mode: 'concat' }), k), [[null, 7, 8], [null, 4], [null, 4], [null, 4], [null, 4]]);
  assert.deepEqual(kindFor('Bidirectional')!.outputShapes(L('Bidirectional', { layer: inner, merge_mode: null }), k).slice(0, 2), [[null, 7, 4], [null, 7, 4]]);
  assert.deepEqual(kindFor('TimeDistributed')!.outputShapes(L('TimeDistributed', { layer: { class_name: 'Dense', config: { units: 5 } } }), k), [[null, 7, 5]]);
  assert.deepEqual(kindFor('Conv1D')!.outputShapes(L('Conv1D', { filters: 2, kernel_size: 3, padding: 'causal', strides: 2 }), k), [[null, 4, 2]]);
  assert.deepEqual(kindFor('Conv1D')!.outputShapes(L('Conv1D', { filters: 2, kernel_size: 3, padding: 'valid', dilation_rate: 2 }), k), [[null, 3, 2]]);
  assert.deepEqual(kindFor('Embedding')!.outputShapes(L('Embedding', { input_dim: 9, output_dim: 3 }), { kerasVersion: null, inputShapes: [[null, 6]] }), [[null, 6, 3]]);
  assert.deepEqual(
    kindFor('ConvLSTM2D')!.outputShapes(L('ConvLSTM2D', { filters: 5, kernel_size: [3, 3], padding: 'valid', data_format: 'channels_first', return_state: true }), {
      kerasVersion: null,
      inputShapes: [[null, 4, 2, 10, 9]],
    }),
    [[null, 5, 8, 7], [null, 5, 8, 7], [null, 5, 8, 7]],
  );
});

test('Bidirectional merge_mode=None with return_state: [forward out, backward out, h_f, c_f, h_b, c_b]', () => {
  const r = seededSigned(5);
  const U = 2, D = 3, T = 4;
  const inner = { class_name: 'LSTM', config: { name: 'lstm', units: U, return_sequences: true, return_state: true, recurrent_activation: 'sigmoid' } };
  const layer = L('Bidirectional', { layer: inner, merge_mode: null }, 'bi');
  const arrays = [0, 1].flatMap(() => [
    { shape: [D, 4 * U], data: Float32Array.from({ length: D * 4 * U }, r) },
    { shape: [U, 4 * U], data: Float32Array.from({ length: U * 4 * U }, r) },
    { shape: [4 * U], data: Float32Array.from({ length: 4 * U }, r) },
  ]);
  const kind = kindFor('Bidirectional')!;
  const w = kind.bindWeights(layer, stored('bi', arrays), { kerasVersion: '3.0.0', inputShapes: [] });
  const x: Tensor = { shape: [1, T, D], data: Float64Array.from({ length: T * D }, r) };
  const out = kind.forward({ layer, inputs: [x], masks: [null], weights: w, ctx: ctxOf('3.0.0') }).outputs;
  assert.equal(out.length, 6);
  assert.deepEqual(out.map((o) => o.shape), [[1, T, U], [1, T, U], [1, U], [1, U], [1, U], [1, U]]);
  // forward final h = forward sequence at the last step; backward final h = backward sequence at input step 0 (reversed back)
  assert.deepEqual(Array.from(out[2].data), Array.from(out[0].data.slice((T - 1) * U)));
  assert.deepEqual(Array.from(out[4].data), Array.from(out[1].data.slice(0, U)));
  // the directions have their own weights
  const lstm = kindFor('LSTM')!;
  const single = L('LSTM', { units: U, return_sequences: true, recurrent_activation: 'sigmoid' });
  const fw = lstm.bindWeights(single, stored('x', arrays.slice(0, 3)), { kerasVersion: '3.0.0', inputShapes: [] });
  const direct = lstm.forward({ layer: single, inputs: [x], masks: [null], weights: fw, ctx: ctxOf('3.0.0') }).outputs[0];
  assert.deepEqual(Array.from(out[0].data), Array.from(direct.data));
});

test('problems are one-line KerasLensErrors naming the layer', () => {
  const layer = L('LSTM', { units: 3 }, 'lstm_7');
  const bad = stored('lstm_7', [{ shape: [2, 12], data: new Float32Array(24) }, { shape: [3, 12], data: new Float32Array(36) }]);
  assert.throws(
    () => kindFor('LSTM')!.bindWeights(layer, bad, { kerasVersion: null, inputShapes: [] }),
    (e: unknown) => e instanceof KerasLensError && /lstm_7/.test(e.message) && !e.message.includes('\n'),
  );
  const w = kindFor('LSTM')!.bindWeights(
    layer,
    stored('lstm_7', [{ shape: [2, 12], data: new Float32Array(24) }, { shape: [3, 12], data: new Float32Array(36) }, { shape: [12], data: new Float32Array(12) }]),
    { kerasVersion: null, inputShapes: [] },
  );
  assert.throws(
    () => kindFor('LSTM')!.forward({ layer, inputs: [{ shape: [1, 4, 5], data: new Float64Array(20) }], masks: [null], weights: w, ctx: ctxOf() }),
    (e: unknown) => e instanceof KerasLensError && /\(2,12\)/.test(e.message),
  );
  assert.throws(
    () => kindFor('Embedding')!.forward({ layer: L('Embedding', { input_dim: 2, output_dim: 1 }), inputs: [{ shape: [1, 1], data: Float64Array.from([7]) }], masks: [null], weights: new Map([['embeddings', { shape: [2, 1], data: new Float32Array(2) }]]), ctx: ctxOf() }),
    (e: unknown) => e instanceof KerasLensError && /outside the embedding table/.test(e.message),
  );
});

test('Keras 3 positional vars and tf.keras cell names bind to the same roles', () => {
  const layer = L('GRU', { units: 2, reset_after: true }, 'gru');
  const arrays = [
    { shape: [3, 6], data: Float32Array.from({ length: 18 }, (_, i) => i) },
    { shape: [2, 6], data: Float32Array.from({ length: 12 }, (_, i) => 100 + i) },
    { shape: [2, 6], data: Float32Array.from({ length: 12 }, (_, i) => 200 + i) },
  ];
  const ctx = { kerasVersion: '3.1.0', inputShapes: [] };
  const byPos = kindFor('GRU')!.bindWeights(layer, stored('gru', arrays, ['layers/gru/cell/vars/0', 'layers/gru/cell/vars/1', 'layers/gru/cell/vars/2']), ctx);
  // tf.keras lists names; give them scrambled to show names win over positions
  const scrambled = [arrays[2], arrays[0], arrays[1]];
  const byName = kindFor('GRU')!.bindWeights(layer, stored('gru', scrambled, ['gru/gru_cell/bias:0', 'gru/gru_cell/kernel:0', 'gru/gru_cell/recurrent_kernel:0']), ctx);
  for (const role of ['kernel', 'recurrent_kernel', 'bias']) assert.deepEqual(Array.from(byName.get(role)!.data), Array.from(byPos.get(role)!.data), role);
  assert.equal(byPos.get('recurrent_kernel')!.data[0], 100);
});

test('Keras 3 Bidirectional vars are split by forward_layer/backward_layer, whatever order they are listed in', () => {
  const inner = { class_name: 'SimpleRNN', config: { name: 'simple_rnn', units: 1 } };
  const layer = L('Bidirectional', { layer: inner, merge_mode: 'sum' }, 'bidirectional');
  const v = (x: number, shape: number[]) => ({ shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => x) });
  const arrays = [v(1, [2, 1]), v(2, [1, 1]), v(3, [1]), v(4, [2, 1]), v(5, [1, 1]), v(6, [1])];
  const names = [
    'layers/bidirectional/backward_layer/cell/vars/0',
    'layers/bidirectional/backward_layer/cell/vars/1',
    'layers/bidirectional/backward_layer/cell/vars/2',
    'layers/bidirectional/forward_layer/cell/vars/0',
    'layers/bidirectional/forward_layer/cell/vars/1',
    'layers/bidirectional/forward_layer/cell/vars/2',
  ];
  const kind = kindFor('Bidirectional')!;
  const ctx = { kerasVersion: '3.3.3', inputShapes: [[null, 3, 2]] };
  const w = kind.bindWeights(layer, stored('bidirectional', arrays, names), ctx);
  assert.equal(w.get('forward/kernel')!.data[0], 4);
  assert.equal(w.get('backward/kernel')!.data[0], 1);
  assert.equal(w.get('forward/bias')!.data[0], 6);
  const roles = kind.storedRoles(layer, stored('bidirectional', arrays, names).map((s) => s.ref), ctx);
  assert.deepEqual(roles.map((r) => `${r.direction}/${r.role}`), ['backward/kernel', 'backward/recurrent_kernel', 'backward/bias', 'forward/kernel', 'forward/recurrent_kernel', 'forward/bias']);
});

test('GRU storedRoles: a stored (2,3u) bias is described as input/recurrent rows even when the config omits reset_after', () => {
  const layer = L('GRU', { units: 2 }, 'gru');
  const refs = stored('gru', [
    { shape: [3, 6], data: new Float32Array(18) },
    { shape: [2, 6], data: new Float32Array(12) },
    { shape: [2, 6], data: new Float32Array(12) },
  ], ['gru/kernel:0', 'gru/recurrent_kernel:0', 'gru/bias:0']).map((s) => s.ref);
  const roles = kindFor('GRU')!.storedRoles(layer, refs, { kerasVersion: '2.2.4', inputShapes: [] });
  assert.match(roles[2].meaning, /row 0 = input bias/);
  assert.deepEqual(roles[2].shape, [2, 6]);
});

test('RNN(LSTMCell) computes exactly like LSTM with the same flags and weights; stacked cells get each cell\'s gates, unknown cells are refused clearly', () => {
  const r = seededSigned(91);
  const arrays = [
    { shape: [3, 8], data: Float32Array.from({ length: 24 }, r) },
    { shape: [2, 8], data: Float32Array.from({ length: 16 }, r) },
    { shape: [8], data: Float32Array.from({ length: 8 }, r) },
  ];
  const rnn = L('RNN', { return_sequences: true, go_backwards: true, cell: { class_name: 'LSTMCell', config: { units: 2, recurrent_activation: 'sigmoid' } } }, 'rnn');
  const lstm = L('LSTM', { units: 2, return_sequences: true, go_backwards: true, recurrent_activation: 'sigmoid' }, 'lstm');
  const ctx = { kerasVersion: '2.4.0', inputShapes: [[null, 4, 3]] };
  assert.deepEqual(kindFor('RNN')!.weightRoles(rnn, ctx).map((x) => x.blocks.map((b) => b.label).join('')), ['ifco', 'ifco', 'ifco']);
  const names = ['rnn/lstm_cell/kernel:0', 'rnn/lstm_cell/recurrent_kernel:0', 'rnn/lstm_cell/bias:0'];
  const wr = kindFor('RNN')!.bindWeights(rnn, stored('rnn', arrays, names), ctx);
  const wl = kindFor('LSTM')!.bindWeights(lstm, stored('lstm', arrays), ctx);
  const x: Tensor = { shape: [1, 4, 3], data: Float64Array.from({ length: 12 }, r) };
  const a = kindFor('RNN')!.forward({ layer: rnn, inputs: [x], masks: [null], weights: wr, ctx: ctxOf('2.4.0') }).outputs[0];
  const b = kindFor('LSTM')!.forward({ layer: lstm, inputs: [x], masks: [null], weights: wl, ctx: ctxOf('2.4.0') }).outputs[0];
  assert.deepEqual(a.shape, [1, 4, 2]);
  assert.deepEqual(Array.from(a.data), Array.from(b.data));
  const stacked = L('RNN', { cell: [{ class_name: 'LSTMCell', config: { units: 2 } }, { class_name: 'GRUCell', config: { units: 2 } }] }, 'deep');
  // each cell its own gates; the second cell's kernel reads the first cell's 2 units
  const roles = kindFor('RNN')!.weightRoles(stacked, ctx);
  assert.deepEqual(roles.map((x) => x.blocks.map((b) => b.label).join('')), ['ifco', 'ifco', 'ifco', 'zrh', 'zrh', 'zrh']);
  assert.deepEqual(roles[3].shape, [2, 6]);
  const odd = L('RNN', { cell: { class_name: 'StackedRNNCells', config: { cells: [{ class_name: 'LSTMCell', config: { units: 2 } }, { class_name: 'MyCell', config: {} }] } } }, 'odd');
  assert.throws(() => kindFor('RNN')!.weightRoles(odd, ctx), (e: unknown) => e instanceof KerasLensError && /wraps a MyCell/.test(e.message));
});
