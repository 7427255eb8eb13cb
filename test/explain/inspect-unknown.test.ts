/** Inspect never fails on what it does not know: custom layers, weights-only files with uninformative names. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspectModel } from '../../src/explain/inspect';
import type { ModelFile, WeightRef } from '../../src/model/types';
import { describeCell } from '../../src/explain/words';
import { input, layer, syntheticModel } from './syntheticModels';

function ref(layerName: string, name: string, shape: number[]): WeightRef {
  return { layer: layerName, name, path: `/${layerName}/${name}`, shape, dtype: '<f4', read: async () => new Float32Array(shape.reduce((a, b) => a * b, 1)) };
}

function weightsOnly(layers: { layer: string; weights: [string, number[]][] }[]): ModelFile {
  return {
    source: 'w.h5',
    format: 'keras2-weights-h5',
    kerasVersion: '2.2.4',
    backend: 'tensorflow',
    model: null,
    layers: layers.map((l) => ({ layer: l.layer, weights: l.weights.map(([n, s]) => ref(l.layer, n, s)) })),
    close() {},
  };
}

test('a custom layer is listed with its raw weights and no blocks; the Dense after it reads from it', async () => {
  const file = syntheticModel(
    'custom',
    [
      input('seq', [null, 30, 6]),
      layer('lstm_1', 'LSTM', { units: 16, return_sequences: true }, 'seq'),
      layer('attention_1', 'MyAttention', { some_option: 3 }, 'lstm_1'),
      layer('dense_1', 'Dense', { units: 2 }, 'attention_1'),
    ],
    ['seq'],
    ['dense_1'],
    {
      lstm_1: [
        ['kernel', [6, 64]],
        ['recurrent_kernel', [16, 64]],
        ['bias', [64]],
      ],
      attention_1: [
        ['W', [16, 1]],
        ['b', [30, 1]],
      ],
      dense_1: [
        ['kernel', [16, 2]],
        ['bias', [2]],
      ],
    },
  );
  const report = await inspectModel(file);
  assert.deepEqual(
    report.layers.map((l) => [l.name, l.className]),
    [
      ['seq', 'InputLayer'],
      ['lstm_1', 'LSTM'],
      ['attention_1', 'MyAttention'],
      ['dense_1', 'Dense'],
    ],
  );
  const att = report.layers[2];
  assert.equal(att.params, 16 + 30);
  assert.deepEqual(
    att.weights.map((w) => [w.name, w.blocks.length]),
    [
      ['attention_1/W:0', 0],
      ['attention_1/b:0', 0],
    ],
  );
  assert.equal(att.outputShape, undefined);
  const k = report.layers[3].weights[0];
  assert.deepEqual(
    k.rows.map((r) => [r.source, r.start, r.end]),
    [['attention_1', 0, 16]],
  );
  assert.match(describeCell(k, 3, 1), /from attention_1 feature 3 into dense_1 unit 1$/);
  assert.equal(report.totalParams, 6 * 64 + 16 * 64 + 64 + 16 + 30 + 16 * 2 + 2);
  assert.deepEqual(
    (report.notes ?? []).filter((n) => n.includes('attention_1')).length,
    1,
  );
  assert.ok(report.notes!.some((n) => n.includes('MyAttention')));
});

test('notes name layers whose arrays disagree with the config or are missing; the arrays are still explained', async () => {
  const file = syntheticModel(
    'mismatch',
    [
      input('seq', [null, 30, 6]),
      layer('lstm_1', 'LSTM', { units: 16 }, 'seq'),
      layer('dense_1', 'Dense', { units: 2 }, 'lstm_1'),
      layer('dense_2', 'Dense', { units: 1 }, 'dense_1'),
    ],
    ['seq'],
    ['dense_2'],
    {
      // The config says 16 units; the arrays hold 8.
      lstm_1: [
        ['kernel', [6, 32]],
        ['recurrent_kernel', [8, 32]],
        ['bias', [32]],
      ],
      dense_1: [
        ['kernel', [8, 2]],
        ['bias', [2]],
      ],
    },
  );
  const report = await inspectModel(file);
  const notes = report.notes ?? [];
  assert.ok(notes.some((n) => n.includes("'lstm_1'") && n.includes('(8, 32)') && n.includes('(16, 64)')), JSON.stringify(notes));
  assert.ok(notes.some((n) => n.includes("'dense_1'") && n.includes('(8, 2)') && n.includes('(16, 2)')), JSON.stringify(notes));
  assert.ok(notes.some((n) => n.includes("'dense_2'") && /no weights in the file/.test(n)), JSON.stringify(notes));
  // Blocks follow the stored arrays (u = 8), which is what the data really holds.
  const rk = report.layers.find((l) => l.name === 'lstm_1')!.weights[1];
  assert.deepEqual(
    rk.blocks.map((b) => [b.label, b.start, b.end]),
    [
      ['i', 0, 8],
      ['f', 8, 16],
      ['c', 16, 24],
      ['o', 24, 32],
    ],
  );
});

test('weights only: an uninformative name with LSTM-shaped arrays is guessed as LSTM from the shape ratio', async () => {
  const report = await inspectModel(
    weightsOnly([
      {
        layer: 'encoder',
        weights: [
          ['encoder/kernel:0', [3, 20]],
          ['encoder/recurrent_kernel:0', [5, 20]],
          ['encoder/bias:0', [20]],
        ],
      },
    ]),
  );
  assert.equal(report.weightsOnly, true);
  const enc = report.layers[0];
  assert.equal(enc.className, 'LSTM');
  assert.equal(enc.classGuessed, true);
  assert.deepEqual(
    enc.weights[1].blocks.map((b) => [b.label, b.start, b.end]),
    [
      ['i', 0, 5],
      ['f', 5, 10],
      ['c', 10, 15],
      ['o', 15, 20],
    ],
  );
  assert.equal(enc.weights[1].rows[0].source, 'h(t-1)');
});

test('weights only: a name that says LSTM but GRU-shaped arrays gets no LSTM blocks, and says why', async () => {
  const report = await inspectModel(
    weightsOnly([
      {
        layer: 'lstm_1',
        weights: [
          ['lstm_1/kernel:0', [3, 15]],
          ['lstm_1/recurrent_kernel:0', [5, 15]],
          ['lstm_1/bias:0', [15]],
        ],
      },
    ]),
  );
  const w = report.layers[0].weights[0];
  assert.deepEqual(w.blocks, []);
  assert.match(w.meaning, /do not fit LSTM/);
});

test('weights only: unknown names and odd shapes are listed raw', async () => {
  const report = await inspectModel(
    weightsOnly([
      {
        layer: 'thing',
        weights: [
          ['thing/alpha_beta:0', [7, 3, 2]],
          ['thing/scalar:0', []],
        ],
      },
    ]),
  );
  const l = report.layers[0];
  assert.equal(l.className, 'unknown');
  assert.equal(l.params, 43);
  assert.deepEqual(
    l.weights.map((w) => [w.name, w.blocks.length, w.rows.length]),
    [
      ['thing/alpha_beta:0', 0, 0],
      ['thing/scalar:0', 0, 0],
    ],
  );
  assert.deepEqual(l.weights[1].view, [1, 1]);
});

test('a deep model (600 layers: Dense, BatchNormalization, Activation repeated) inspects quickly', async () => {
  const layers = [input('x', [null, 16])];
  const weights: Record<string, [string, number[]][]> = {};
  let prev = 'x';
  for (let k = 1; k <= 200; k++) {
    layers.push(layer(`dense_${k}`, 'Dense', { units: 16 }, prev));
    layers.push(layer(`batch_normalization_${k}`, 'BatchNormalization', { axis: -1 }, `dense_${k}`));
    layers.push(layer(`activation_${k}`, 'Activation', { activation: 'relu' }, `batch_normalization_${k}`));
    weights[`dense_${k}`] = [
      ['kernel', [16, 16]],
      ['bias', [16]],
    ];
    weights[`batch_normalization_${k}`] = ['gamma', 'beta', 'moving_mean', 'moving_variance'].map((n) => [n, [16]] as [string, number[]]);
    prev = `activation_${k}`;
  }
  const file = syntheticModel('deep', layers, ['x'], [prev], weights);
  const t0 = performance.now();
  const report = await inspectModel(file);
  const ms = performance.now() - t0;
  assert.equal(report.layers.length, 601);
  assert.equal(report.totalParams, 200 * (16 * 16 + 16 + 4 * 16));
  // Each Dense reads the previous Dense through BatchNormalization and Activation.
  const k = report.layers.find((l) => l.name === 'dense_200')!.weights[0];
  assert.deepEqual(
    k.rows.map((r) => [r.source, r.start, r.end]),
    [['dense_199', 0, 16]],
  );
  assert.ok(ms < 2000, `inspect took ${ms.toFixed(0)} ms`);
});
