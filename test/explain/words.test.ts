import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspectModel, type InspectReport, type InspectWeight } from '../../src/explain/inspect';
import { openModelFile } from '../../src/formats/open';
import {
  cellIndex,
  describeBlock,
  describeCell,
  describeWeight,
  explainGetWeightsIndex,
  explainWeightName,
  findGetWeightsIndexAt,
} from '../../src/explain/words';
import { auxModel, flattenModel, input, layer, mixedModel, syntheticModel } from './syntheticModels';

const DL4J = '../shared/keras-reference/dl4j';

function weight(report: InspectReport, name: string): InspectWeight {
  const w = report.layers.flatMap((l) => l.weights).find((x) => x.name === name);
  assert.ok(w, `no weight ${name}`);
  return w;
}

async function inspectPath(path: string): Promise<InspectReport> {
  const file = await openModelFile(path);
  try {
    return await inspectModel(file);
  } finally {
    file.close();
  }
}

test('describeCell: LSTM recurrent kernel, gates i,f,c,o of 128 units', async () => {
  const report = await inspectModel(auxModel());
  const rk = weight(report, 'lstm_1/recurrent_kernel:0');
  // Column 130 lies in [128, 256): the forget gate, unit 130 - 128 = 2.
  const text = describeCell(rk, 5, 130);
  assert.match(text, /^recurrent_kernel\[5, 130\]/);
  assert.match(text, /h\(t-1\) unit 5/);
  assert.match(text, /forget gate of unit 2\b/);
  // Column 511 is the last output-gate column: unit 127.
  assert.match(describeCell(rk, 127, 511), /h\(t-1\) unit 127 .*output gate of unit 127\b/);
  assert.match(describeCell(rk, 0, 256), /cell candidate.* of unit 0\b/);
  assert.match(describeCell(rk, 0, 127), /input gate of unit 127\b/);
  assert.match(describeCell(rk, 128, 0), /outside/);
});

test('describeCell: kernel rows name the input feature they come from', async () => {
  const report = await inspectModel(auxModel());
  const k = weight(report, 'dense_1/kernel:0');
  assert.match(describeCell(k, 128, 5), /from aux_input feature 0 into dense_1 unit 5$/);
  assert.match(describeCell(k, 17, 63), /from lstm_1 unit 17 into dense_1 unit 63$/);
  const lk = weight(report, 'lstm_1/kernel:0');
  assert.match(describeCell(lk, 3, 384 + 9), /from main_input feature 3 into the output gate of unit 9$/);
  const bias = weight(report, 'lstm_1/bias:0');
  assert.match(describeCell(bias, 0, 128 + 64), /^bias\[192\]: bias of the forget gate of unit 64$/);
});

test('describeCell: Flatten rows name the timestep', async () => {
  const report = await inspectModel(flattenModel());
  // Row 9 = timestep 2 (rows 8..11), unit 1 of simple_rnn_1.
  assert.match(describeCell(weight(report, 'dense_1/kernel:0'), 9, 1), /from simple_rnn_1 unit 1 at timestep 2 into dense_1 unit 1$/);
});

test('describeCell: GRU reset_after bias, Bidirectional direction, Embedding, Conv1D', async () => {
  const report = await inspectModel(mixedModel());
  const b = weight(report, 'bidirectional_1/backward_gru_1/bias:0');
  // Row 1 = recurrent bias; column 7 in [5, 10) = reset gate, unit 2.
  const text = describeCell(b, 1, 7);
  assert.match(text, /^bias\[1, 7\] \(backward GRU\): recurrent bias of the reset gate of unit 2$/);
  assert.match(describeCell(b, 0, 14), /input bias of the candidate.* of unit 4$/);
  assert.match(describeCell(weight(report, 'bidirectional_1/forward_gru_1/recurrent_kernel:0'), 4, 0), /h\(t-1\) unit 4 into the update gate of unit 0$/);
  assert.equal(describeCell(weight(report, 'embedding_1/embeddings:0'), 12, 3), 'embeddings[12, 3]: dimension 3 of the vector for token id 12');
  const conv = weight(report, 'conv1d_1/kernel:0');
  // kernel (2, 8, 4): row 11 = position 1, channel 3.
  assert.deepEqual(cellIndex(conv, 11, 2), [1, 3, 2]);
  assert.match(describeCell(conv, 11, 2), /^kernel\[1, 3, 2\]: from kernel position \(1\), embedding_1 dimension 3 into conv1d_1 filter 2$/);
  const td = weight(report, 'time_distributed_1/kernel:0');
  assert.match(describeCell(td, 6, 1), /from bidirectional_1 backward unit 1 into time_distributed_1 unit 1$/);
});

test('describeCell: ConvLSTM2D kernel positions and filter blocks (tf.keras file)', async () => {
  const report = await inspectPath(`${DL4J}/tfkeras/convlstm2d_19.h5`);
  const k = weight(report, 'conv_lst_m2d_22/kernel:0');
  assert.deepEqual(k.shape, [3, 3, 3, 16]);
  assert.deepEqual(k.view, [27, 16]);
  // Row 15 = (dy 1, dx 2, channel 0); column 5 in [4, 8) = forget gate, filter 1.
  assert.deepEqual(cellIndex(k, 15, 5), [1, 2, 0, 5]);
  const text = describeCell(k, 15, 5);
  assert.match(text, /kernel position \(1, 2\)/);
  assert.match(text, /channel 0|feature 0/);
  assert.match(text, /forget gate of filter 1$/);
  const rk = weight(report, 'conv_lst_m2d_22/recurrent_kernel:0');
  assert.match(describeCell(rk, 4 * 4 + 3, 15), /kernel position \(1, 1\), h\(t-1\) channel 3 into the output gate of filter 3$/);
});

test('describeBlock and describeWeight give the column ranges', async () => {
  const report = await inspectModel(auxModel());
  const k = weight(report, 'lstm_1/kernel:0');
  assert.equal(describeBlock(k, k.blocks[1]), 'f — forget gate: columns [128, 256) of lstm_1/kernel:0 (128 units)');
  assert.match(describeWeight(k), /^lstm_1\/kernel:0: .*shape \(6, 512\) — i \[0, 128\) f \[128, 256\) c \[256, 384\) o \[384, 512\)$/);
});

test('explainWeightName with an open model uses its real units', async () => {
  const report = await inspectPath(`${DL4J}/examples/functional_lstm/lstm_functional_tf_keras_2.h5`);
  const md = explainWeightName('lstm/recurrent_kernel:0', { report })!;
  assert.ok(md);
  // units = 8: i [0,8) f [8,16) c [16,24) o [24,32)
  assert.match(md, /\| \[0, 8\) \| \*\*i\*\* — input gate \|/);
  assert.match(md, /\| \[8, 16\) \| \*\*f\*\* — forget gate \|/);
  assert.match(md, /\| \[24, 32\) \| \*\*o\*\* — output gate \|/);
  assert.match(md, /h\(t-1\) units 0–7/);
  assert.match(md, /get_weights\(\)\[1\]/);
  // The tf.keras cell-scope spelling and the HDF5 path find the same weight.
  assert.equal(explainWeightName('lstm/lstm_cell/recurrent_kernel', { report }), md);
  assert.equal(explainWeightName('model_weights/lstm/lstm/recurrent_kernel:0', { report }), md);
  // Dense kernel rows come from the LSTM.
  assert.match(explainWeightName('outputLayer_a/kernel:0', { report })!, /lstm units 0–7/);
});

test('explainWeightName on a Keras 1 file: the split array and its gate', async () => {
  const report = await inspectPath(`${DL4J}/examples/simple_lstm/simple_lstm_tf_keras_1_model.h5`);
  const md = explainWeightName('w = lstm_1_U_f', { report })!;
  assert.match(md, /\*\*lstm_1_U_f:0\*\*/);
  assert.match(md, /forget gate only/);
  assert.match(md, /\| \[0, 50\) \| \*\*f\*\* — forget gate \|/);
  // Stored order i, c, f, o: U_f is the 8th array of lstm_1 (index 7).
  assert.match(md, /get_layer\('lstm_1'\)\.get_weights\(\)\[7\]/);
});

test('explainWeightName without a model: generic layout with u', () => {
  const lstm = explainWeightName('lstm_1/kernel:0')!;
  assert.match(lstm, /\| \[0, u\) \| \*\*i\*\* — input gate \|/);
  assert.match(lstm, /\| \[u, 2u\) \| \*\*f\*\* — forget gate \|/);
  assert.match(lstm, /\| \[3u, 4u\) \| \*\*o\*\* — output gate \|/);
  const gru = explainWeightName('gru_1/bias:0')!;
  assert.match(gru, /\*\*z\*\* — update gate/);
  assert.match(gru, /\| \[2u, 3u\) \| \*\*h\*\*/);
  assert.match(gru, /\(2, 3u\)/);
  const k1 = explainWeightName('lstm_1_U_f')!;
  assert.match(k1, /only the \*\*f\*\* block/);
  assert.match(k1, /columns \[u, 2u\)/);
  const bi = explainWeightName('bidirectional_1/forward_lstm_1/bias:0')!;
  assert.match(bi, /\(forward\)/);
  assert.match(bi, /output gate/);
  const k3 = explainWeightName('layers/lstm/cell/vars/1')!;
  assert.match(k3, /recurrent_kernel/);
  assert.match(k3, /\| \[2u, 3u\) \| \*\*c\*\*/);
  const cell = explainWeightName('lstm/lstm_cell/recurrent_kernel')!;
  assert.match(cell, /h\(t-1\)/);
  const cudnn = explainWeightName('cu_dnnlstm_1/bias:0')!;
  assert.match(cudnn, /8u entries/);
  assert.match(cudnn, /\| \[u, 2u\) \| \*\*f\*\* — forget gate, input bias/);
  assert.match(cudnn, /\| \[7u, 8u\) \| \*\*o\*\* — output gate, recurrent bias/);
  assert.match(explainWeightName('conv_lst_m2d_1/recurrent_kernel:0')!, /u = filters/);
  assert.doesNotMatch(explainWeightName('gru_1_W_h')!, /every gate/);
  assert.equal(explainWeightName('nothing to see here'), null);
});

test('get_weights()[k]: model-wide and per layer, negative indices like Python', async () => {
  const report = await inspectModel(auxModel());
  // Model order: lstm_1 kernel, recurrent_kernel, bias, dense_1 kernel, bias, dense_2 kernel, bias.
  assert.match(explainGetWeightsIndex(3, report)!, /is dense_1\/kernel:0/);
  assert.match(explainGetWeightsIndex(-1, report)!, /is dense_2\/bias:0/);
  assert.match(explainGetWeightsIndex(1, report, 'lstm_1')!, /is lstm_1\/recurrent_kernel:0/);
  assert.match(explainGetWeightsIndex(9, report)!, /out of range .* 7 weight arrays/);
  const line = `rk = model.get_layer('lstm_1').get_weights()[1]`;
  const at = findGetWeightsIndexAt(line, line.indexOf('get_weights') + 2)!;
  assert.deepEqual([at.index, at.layer, line.slice(at.start, at.end)], [1, 'lstm_1', `get_layer('lstm_1').get_weights()[1]`]);
  assert.deepEqual(findGetWeightsIndexAt('w = model.get_weights()[-2]', 12)?.index, -2);
  assert.equal(findGetWeightsIndexAt('w = model.get_weights()', 12), null);
});

test('explainWeightName across generations: a fused name on a Keras 1 file, a Keras 1 name on a fused file', async () => {
  const k1 = await inspectPath(`${DL4J}/examples/simple_lstm/simple_lstm_tf_keras_1_model.h5`);
  const md = explainWeightName('lstm_1/kernel:0', { report: k1 })!;
  assert.match(md, /4 separate arrays/);
  // Listed in fused order i, f, c, o with u = 50.
  assert.match(md, /`lstm_1_W_i:0` — \*\*i\*\* input gate, shape \(1, 50\) \[0, 50\)/);
  assert.match(md, /`lstm_1_W_f:0` — \*\*f\*\* forget gate, shape \(1, 50\) \[50, 100\)/);
  assert.match(md, /`lstm_1_W_c:0` — \*\*c\*\* cell candidate \(c̃\), shape \(1, 50\) \[100, 150\)/);
  assert.ok(md.indexOf('lstm_1_W_f') < md.indexOf('lstm_1_W_c'));
  const k2 = await inspectPath(`${DL4J}/examples/functional_lstm/lstm_functional_tf_keras_2.h5`);
  const uf = explainWeightName('lstm_U_f', { report: k2 })!;
  assert.match(uf, /Keras 1 name of the \*\*f\*\* block \(forget gate\) of `lstm\/recurrent_kernel:0`: columns \[8, 16\)/);
});

test('names from the file cannot inject markdown, HTML or table cells into hovers', async () => {
  const evil = 'x<img src=y>|[link](http://e)`';
  const report = await inspectModel(
    syntheticModel('evil', [input('in', [null, 3]), layer(evil, 'Dense', { units: 2 }, 'in')], ['in'], [evil], {
      [evil]: [
        ['kernel', [3, 2]],
        ['bias', [2]],
      ],
    }),
  );
  const text = explainGetWeightsIndex(0, report)!;
  // Outside code spans (which markdown shows literally) every <, |, [ and backtick from the name is escaped.
  const outsideCode = text.replace(/(`+)[\s\S]*?\1/g, '');
  assert.ok(!/(^|[^\\])[<|\[`]/.test(outsideCode.replace(/^- \[\d+, \d+\): /gm, '')), outsideCode);
  assert.ok(text.includes('`` x<img src=y>|[link](http://e)` ``'), text);
  assert.match(text, /\\<img src=y\\>\\\|\\\[link\\\]/);
});
