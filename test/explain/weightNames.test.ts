import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findWeightNameAt, parseWeightName } from '../../src/explain/weightNames';

test('Keras 2 names: layer and role', () => {
  const p = parseWeightName('lstm_1/kernel:0')!;
  assert.equal(p.style, 'keras2');
  assert.equal(p.layer, 'lstm_1');
  assert.equal(p.role, 'kernel');
  assert.equal(p.className, 'LSTM');
});

test('HDF5 path of a Keras 2 weight', () => {
  const p = parseWeightName('model_weights/dense_1/dense_1/bias:0')!;
  assert.equal(p.layer, 'dense_1');
  assert.equal(p.role, 'bias');
  assert.equal(p.className, 'Dense');
});

test('tf.keras variable names with the cell scope', () => {
  const p = parseWeightName('lstm/lstm_cell/recurrent_kernel')!;
  assert.equal(p.layer, 'lstm');
  assert.equal(p.role, 'recurrent_kernel');
  assert.equal(p.className, 'LSTM');
  const g = parseWeightName('gru_2/gru_cell_2/bias:0')!;
  assert.equal(g.layer, 'gru_2');
  assert.equal(g.className, 'GRU');
});

test('Bidirectional halves', () => {
  const p = parseWeightName('bidirectional_1/forward_lstm_1/bias:0')!;
  assert.equal(p.layer, 'bidirectional_1');
  assert.equal(p.inner, 'lstm_1');
  assert.equal(p.direction, 'forward');
  assert.equal(p.role, 'bias');
  assert.equal(p.className, 'LSTM');
  const b = parseWeightName('bidirectional/backward_conv_lst_m2d/kernel:0')!;
  assert.equal(b.direction, 'backward');
  assert.equal(b.className, 'ConvLSTM2D');
});

test('Keras 3 variable paths are positional', () => {
  const p = parseWeightName('layers/lstm/cell/vars/1')!;
  assert.equal(p.style, 'keras3');
  assert.equal(p.varIndex, 1);
  assert.equal(p.role, 'recurrent_kernel');
  assert.equal(p.className, 'LSTM');
  const d = parseWeightName('layers/dense_2/vars/0')!;
  assert.equal(d.role, 'kernel');
  assert.equal(d.className, 'Dense');
  const bi = parseWeightName('layers/bidirectional/backward_layer/cell/vars/2')!;
  assert.equal(bi.direction, 'backward');
});

test('Keras 1 split arrays carry their gate', () => {
  const u = parseWeightName('lstm_1_U_f')!;
  assert.equal(u.style, 'keras1');
  assert.equal(u.layer, 'lstm_1');
  assert.equal(u.role, 'recurrent_kernel');
  assert.equal(u.gate, 'f');
  const w = parseWeightName('lstm_1_W_i:0')!;
  assert.equal(w.role, 'kernel');
  assert.equal(w.gate, 'i');
  const z = parseWeightName('gru_1_b_z')!;
  assert.equal(z.role, 'bias');
  assert.equal(z.gate, 'z');
  assert.equal(z.className, 'GRU');
  const dense = parseWeightName('dense_1_W')!;
  assert.equal(dense.role, 'kernel');
  assert.equal(dense.gate, undefined);
  const emb = parseWeightName('embedding_1_W')!;
  assert.equal(emb.role, 'embeddings');
});

test('plain identifiers and prose are not weight names', () => {
  for (const text of ['kernel', 'bias', 'model', 'x_b', 'hello/world', 'lstm_1', 'np.array']) {
    assert.equal(parseWeightName(text), null, text);
  }
});

test('findWeightNameAt finds the name under the cursor, with its exact range', () => {
  const line = `w = f['model_weights/lstm_1/lstm_1/kernel:0'][()]  # see bidirectional_1/forward_lstm_1/bias:0`;
  const start = line.indexOf('model_weights');
  const hit = findWeightNameAt(line, start + 5)!;
  assert.equal(hit.text, 'model_weights/lstm_1/lstm_1/kernel:0');
  assert.equal(hit.start, start);
  assert.equal(hit.end, start + 'model_weights/lstm_1/lstm_1/kernel:0'.length);
  const second = line.indexOf('bidirectional_1');
  assert.equal(findWeightNameAt(line, second + 3)?.text, 'bidirectional_1/forward_lstm_1/bias:0');
  assert.equal(findWeightNameAt(line, 1), null);
  assert.equal(findWeightNameAt('print(lstm_1_U_f.shape)', 8)?.text, 'lstm_1_U_f');
});
