/**
 * The viewer's and hovers' Keras names and gate slices (extension/protocol.ts weightNaming / sliceText).
 * Sources of truth: issue 10's own examples (`model.get_weights()[0][:, 128:256]  # lstm_1 kernel, f (forget gate)`,
 * `model.get_layer('lstm_1').get_weights()[0][:, 128:256]`, `bidirectional/forward_lstm/lstm_cell/kernel`), the
 * order Keras wrote the weights in the dl4j and keras3 files (= get_weights order), and numpy slicing run by python3
 * on the stored arrays when python3 + numpy is here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { openModelFile } from '../../src/formats/open';
import { inspectModel } from '../../src/explain/inspect';
import { pythonString, sliceText, weightNaming, type NamingModel } from '../../extension/protocol';

const SHARED = join(__dirname, '../../../shared/keras-reference');

test('slice text: the issue example, for a matrix, a vector and a (2, 3u) GRU bias', () => {
  const s = sliceText('lstm_1', { getWeightsIndex: 0, layerIndex: 0 }, { role: 'kernel', shape: [64, 512] }, { label: 'f', meaning: 'forget gate', start: 128, end: 256 });
  assert.equal(s.model, 'model.get_weights()[0][:, 128:256]  # lstm_1 kernel, f (forget gate)');
  assert.equal(s.layer, "model.get_layer('lstm_1').get_weights()[0][:, 128:256]");
  const b = sliceText('lstm_1', { getWeightsIndex: 2, layerIndex: 2 }, { role: 'bias', shape: [512] }, { label: 'o', meaning: 'output gate', start: 384, end: 512 });
  assert.equal(b.model, 'model.get_weights()[2][384:512]  # lstm_1 bias, o (output gate)');
  const g = sliceText('gru', { getWeightsIndex: 5, layerIndex: 2 }, { role: 'recurrent_kernel', shape: [4, 12], direction: 'backward' }, { label: 'z', meaning: 'update gate (z)', start: 0, end: 4 });
  assert.equal(g.model, 'model.get_weights()[5][:, 0:4]  # gru backward recurrent kernel, z (update gate)');
  assert.equal(g.layer, "model.get_layer('gru').get_weights()[2][:, 0:4]");
});

test('slice text: a hostile layer name stays one Python string and one comment line', () => {
  const s = sliceText("a'b\\c\nimport os", { getWeightsIndex: 1, layerIndex: 0 }, { role: 'kernel', shape: [2, 8] }, { label: 'i', meaning: 'input gate', start: 0, end: 2 });
  assert.equal(pythonString("a'b\\c\nimport os"), "'a\\'b\\\\c\\nimport os'");
  assert.ok(!s.model.includes('\n') && !s.layer.includes('\n'));
  assert.equal(s.layer, "model.get_layer('a\\'b\\\\c\\nimport os').get_weights()[0][:, 0:2]");
});

test('get_weights index: every weight of every layer in model order (dl4j Keras 2.0.8 functional LSTM)', async (t) => {
  const path = join(SHARED, 'dl4j/examples/functional_lstm/lstm_functional_tf_keras_2.h5');
  if (!existsSync(path)) return t.skip('../shared/keras-reference is not here');
  const file = await openModelFile(path);
  try {
    const report = await inspectModel(file);
    const naming = weightNaming(report);
    const got = report.layers.flatMap((l) => l.weights.map((w) => [w.name, naming.get(`${l.name}\u0000${w.name}`)!.getWeightsIndex, naming.get(`${l.name}\u0000${w.name}`)!.layerIndex]));
    assert.deepEqual(got, [
      ['lstm/kernel:0', 0, 0],
      ['lstm/recurrent_kernel:0', 1, 1],
      ['lstm/bias:0', 2, 2],
      ['outputLayer_a/kernel:0', 3, 0],
      ['outputLayer_a/bias:0', 4, 1],
    ]);
    assert.equal(naming.get('lstm\u0000lstm/kernel:0')!.kerasName, 'lstm/kernel:0', 'a Keras 2 file: the stored name is the Keras name');
  } finally {
    file.close();
  }
});

test('Keras 3 variable paths: Bidirectional halves and cells, the storage path kept as the second name', async (t) => {
  const synthetic: NamingModel = {
    format: 'keras3-keras',
    layers: [
      { name: 'bidirectional', className: 'Bidirectional', innerClassName: 'LSTM', innerName: 'forward_lstm', weights: [{ name: 'layers/bidirectional/forward_layer/cell/vars/0', role: 'kernel', shape: [3, 16], direction: 'forward' }] },
      { name: 'dense', className: 'Dense', weights: [{ name: 'layers/dense/vars/0', role: 'kernel', shape: [8, 2] }] },
    ],
  };
  const n = weightNaming(synthetic);
  assert.equal(n.get('bidirectional\u0000layers/bidirectional/forward_layer/cell/vars/0')!.kerasName, 'bidirectional/forward_lstm/lstm_cell/kernel');
  assert.equal(n.get('bidirectional\u0000layers/bidirectional/forward_layer/cell/vars/0')!.storedName, 'layers/bidirectional/forward_layer/cell/vars/0');
  assert.equal(n.get('dense\u0000layers/dense/vars/0')!.kerasName, 'dense/kernel');
  assert.equal(n.get('dense\u0000layers/dense/vars/0')!.getWeightsIndex, 1);

  const path = join(SHARED, 'keras3/bidir_lstm_concat/model.keras');
  if (!existsSync(path)) return t.skip('../shared/keras-reference is not here');
  const file = await openModelFile(path);
  try {
    const report = await inspectModel(file);
    const names = [...weightNaming(report).values()].map((w) => w.kerasName);
    assert.deepEqual(names, [
      'bidirectional/forward_lstm_12/lstm_cell/kernel',
      'bidirectional/forward_lstm_12/lstm_cell/recurrent_kernel',
      'bidirectional/forward_lstm_12/lstm_cell/bias',
      'bidirectional/backward_lstm_12/lstm_cell/kernel',
      'bidirectional/backward_lstm_12/lstm_cell/recurrent_kernel',
      'bidirectional/backward_lstm_12/lstm_cell/bias',
    ]);
  } finally {
    file.close();
  }
});

test('slice text evaluated by numpy on the stored arrays gives the gate block (when python3 + numpy is here)', async (t) => {
  const path = join(SHARED, 'dl4j/examples/functional_lstm/lstm_functional_tf_keras_2.h5');
  if (!existsSync(path)) return t.skip('../shared/keras-reference is not here');
  if (spawnSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' }).status !== 0) return t.skip('python3 with numpy is not installed');
  const file = await openModelFile(path);
  try {
    const report = await inspectModel(file);
    const naming = weightNaming(report);
    const lstm = report.layers.find((l) => l.name === 'lstm')!;
    const k = lstm.weights[0];
    const f = k.blocks.find((b) => b.label === 'f')!;
    const s = sliceText('lstm', naming.get(`lstm\u0000${k.name}`)!, k, f);
    const all = await Promise.all(report.layers.flatMap((l) => l.weights).map(async (w) => ({ shape: w.shape, data: Array.from(await file.layers.flatMap((g) => g.weights).find((r) => r.name === w.name)!.read()) })));
    const script = `import json, sys, numpy as np
ws = [np.array(w["data"], dtype=np.float32).reshape(w["shape"]) for w in json.load(sys.stdin)]
class M:
    def get_weights(self): return ws
model = M()
print(json.dumps(np.asarray(${s.model.split('  #')[0]}).ravel().tolist()))`;
    const r = spawnSync('python3', ['-c', script], { input: JSON.stringify(all), encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const got = JSON.parse(r.stdout) as number[];
    const data = all[0].data;
    const cols = k.shape[1];
    const want: number[] = [];
    for (let row = 0; row < k.shape[0]; row++) for (let c = f.start; c < f.end; c++) want.push(data[row * cols + c]);
    assert.deepEqual(got.map((v) => Math.fround(v)), want.map((v) => Math.fround(v)));
  } finally {
    file.close();
  }
});
