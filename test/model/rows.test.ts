import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspectModel, type InspectReport, type InspectWeight } from '../../src/explain/inspect';
import { featureSources, rowSources } from '../../src/model/rows';
import { auxModel, flattenModel, input, layer, mixedModel, syntheticModel } from '../explain/syntheticModels';
import { describeCell } from '../../src/explain/words';

function weight(report: InspectReport, name: string): InspectWeight {
  const w = report.layers.flatMap((l) => l.weights).find((x) => x.name === name);
  assert.ok(w, `no weight ${name}`);
  return w;
}

const plain = (rows: InspectWeight['rows']) => rows.map((r) => ({ source: r.source, start: r.start, end: r.end }));

test('two inputs: Dense after Concatenate gets rows 0-127 from the LSTM and row 128 from aux_input', async () => {
  const report = await inspectModel(auxModel());
  assert.deepEqual(plain(weight(report, 'dense_1/kernel:0').rows), [
    { source: 'lstm_1', start: 0, end: 128 },
    { source: 'aux_input', start: 128, end: 129 },
  ]);
  const k = weight(report, 'dense_1/kernel:0');
  assert.equal(k.rows[0].index, 'unit');
  assert.equal(k.rows[1].offset, 0);
  // The LSTM's own kernel reads the 6 features of main_input; its recurrent kernel reads h(t-1).
  assert.deepEqual(plain(weight(report, 'lstm_1/kernel:0').rows), [{ source: 'main_input', start: 0, end: 6 }]);
  assert.deepEqual(plain(weight(report, 'lstm_1/recurrent_kernel:0').rows), [{ source: 'h(t-1)', start: 0, end: 128 }]);
  assert.deepEqual(plain(weight(report, 'dense_2/kernel:0').rows), [{ source: 'dense_1', start: 0, end: 64 }]);
  // Bias vectors have no row sources.
  assert.deepEqual(weight(report, 'dense_1/bias:0').rows, []);
  assert.equal(report.totalParams, 6 * 512 + 128 * 512 + 512 + 129 * 64 + 64 + 64 + 1);
});

test('Flatten of an RNN sequence: one range of rows per timestep, through Dropout', async () => {
  const report = await inspectModel(flattenModel());
  const rows = weight(report, 'dense_1/kernel:0').rows;
  assert.equal(rows.length, 5);
  rows.forEach((r, t) => {
    assert.equal(r.source, 'simple_rnn_1');
    assert.equal(r.timestep, t);
    assert.equal(r.start, 4 * t);
    assert.equal(r.end, 4 * t + 4);
    assert.equal(r.offset, 0);
  });
});

test('Bidirectional concat feeds TimeDistributed(Dense): forward units then backward units', async () => {
  const report = await inspectModel(mixedModel());
  const rows = weight(report, 'time_distributed_1/kernel:0').rows;
  assert.deepEqual(
    rows.map((r) => [r.source, r.start, r.end, r.meaning]),
    [
      ['bidirectional_1', 0, 5, 'forward'],
      ['bidirectional_1', 5, 10, 'backward'],
    ],
  );
});

test('GRU reset_after bias (2, 3u): row 0 input bias, row 1 recurrent bias; blocks z, r, h', async () => {
  const report = await inspectModel(mixedModel());
  for (const dir of ['forward', 'backward']) {
    const b = weight(report, `bidirectional_1/${dir}_gru_1/bias:0`);
    assert.equal(b.direction, dir);
    assert.deepEqual(plain(b.rows), [
      { source: 'input bias', start: 0, end: 1 },
      { source: 'recurrent bias', start: 1, end: 2 },
    ]);
    assert.deepEqual(
      b.blocks.map((x) => [x.label, x.start, x.end]),
      [
        ['z', 0, 5],
        ['r', 5, 10],
        ['h', 10, 15],
      ],
    );
  }
});

test('Embedding rows are token ids; Conv1D rows are (kernel position, input channel)', async () => {
  const report = await inspectModel(mixedModel());
  assert.deepEqual(plain(weight(report, 'embedding_1/embeddings:0').rows), [{ source: 'token ids', start: 0, end: 100 }]);
  const conv = weight(report, 'conv1d_1/kernel:0');
  assert.deepEqual(conv.view, [16, 4]);
  assert.deepEqual(
    conv.rows.map((r) => [r.source, r.start, r.end, r.position]),
    [
      ['embedding_1', 0, 8, [0]],
      ['embedding_1', 8, 16, [1]],
    ],
  );
});

test('rowSources without an architecture still names h(t-1), token ids and the GRU bias halves', () => {
  const bare = { name: 'gru_1', className: 'GRU', config: {}, inbound: [] };
  assert.deepEqual(plain(rowSources(bare, { role: 'recurrent_kernel', shape: [5, 15], className: 'GRU' }, null)), [{ source: 'h(t-1)', start: 0, end: 5 }]);
  assert.deepEqual(
    plain(rowSources(bare, { role: 'bias', shape: [2, 15], className: 'GRU' }, null)).map((r) => r.source),
    ['input bias', 'recurrent bias'],
  );
  assert.deepEqual(rowSources(bare, { role: 'bias', shape: [15], className: 'GRU' }, null), []);
});

test('featureSources follows Concatenate offsets with shapes given explicitly (concat of two inputs and a Dense)', () => {
  const model = auxModel().model!;
  const shapes: Record<string, (number | null)[]> = {
    'main_input:0:0': [null, 30, 6],
    'lstm_1:0:0': [null, 128],
    'aux_input:0:0': [null, 1],
    'concatenate_1:0:0': [null, 129],
  };
  const spans = featureSources({ layer: 'concatenate_1', node: 0, tensor: 0 }, { model, shapeOf: (r) => shapes[`${r.layer}:${r.node}:${r.tensor}`] ?? null });
  assert.deepEqual(plain(spans!), [
    { source: 'lstm_1', start: 0, end: 128 },
    { source: 'aux_input', start: 128, end: 129 },
  ]);
});

test('BatchNormalization passes features through; its γ/β columns name the input feature', async () => {
  const file = syntheticModel(
    'bn',
    [
      input('a', [null, 4]),
      input('b', [null, 3]),
      layer('concatenate_1', 'Concatenate', { axis: -1 }, 'a', 'b'),
      layer('batch_normalization_1', 'BatchNormalization', { axis: -1, center: true, scale: true, epsilon: 0.001 }, 'concatenate_1'),
      layer('dense_1', 'Dense', { units: 2 }, 'batch_normalization_1'),
    ],
    ['a', 'b'],
    ['dense_1'],
    {
      batch_normalization_1: ['gamma', 'beta', 'moving_mean', 'moving_variance'].map((n) => [n, [7]] as [string, number[]]),
      dense_1: [
        ['kernel', [7, 2]],
        ['bias', [2]],
      ],
    },
  );
  const report = await inspectModel(file);
  assert.deepEqual(plain(weight(report, 'dense_1/kernel:0').rows), [
    { source: 'a', start: 0, end: 4 },
    { source: 'b', start: 4, end: 7 },
  ]);
  const gamma = weight(report, 'batch_normalization_1/gamma:0');
  assert.deepEqual(plain(gamma.columns!), [
    { source: 'a', start: 0, end: 4 },
    { source: 'b', start: 4, end: 7 },
  ]);
  assert.match(describeCell(gamma, 0, 5), /^gamma\[5\]: scale γ of b feature 1$/);
  assert.match(describeCell(weight(report, 'batch_normalization_1/moving_variance:0'), 0, 2), /^moving_variance\[2\]: moving variance of a feature 2$/);
});

test('Flatten(data_format=channels_first) after a (C, H, W) tensor: rows are (h, w) positions × channels', () => {
  const model = syntheticModel(
    'cf',
    [
      input('img', [null, 2, 3, 4]),
      layer('flatten_1', 'Flatten', { data_format: 'channels_first' }, 'img'),
      layer('dense_1', 'Dense', { units: 1 }, 'flatten_1'),
    ],
    ['img'],
    ['dense_1'],
    {},
  ).model!;
  const shapes: Record<string, (number | null)[]> = { 'img:0:0': [null, 2, 3, 4], 'flatten_1:0:0': [null, 24] };
  const spans = featureSources({ layer: 'flatten_1', node: 0, tensor: 0 }, { model, shapeOf: (r) => shapes[`${r.layer}:${r.node}:${r.tensor}`] ?? null })!;
  assert.equal(spans.length, 12);
  // Position (h=1, w=2) is flat position 1·4 + 2 = 6: rows 12, 13 (channels 0, 1).
  assert.deepEqual([spans[6].start, spans[6].end, spans[6].position, spans[6].index], [12, 14, [1, 2], 'channel']);
});

test('a shared Dense called on two inputs: rows of its first call, saying what the other call reads', async () => {
  const shared = layer('dense_shared', 'Dense', { units: 2 }, 'a');
  shared.inbound_nodes = [[['a', 0, 0, {}]], [['b', 0, 0, {}]]];
  const report = await inspectModel(
    syntheticModel(
      'shared',
      [input('a', [null, 3]), input('b', [null, 3]), shared, { name: 'add_1', class_name: 'Add', config: { name: 'add_1' }, inbound_nodes: [[['dense_shared', 0, 0, {}], ['dense_shared', 1, 0, {}]]] }],
      ['a', 'b'],
      ['add_1'],
      {
        dense_shared: [
          ['kernel', [3, 2]],
          ['bias', [2]],
        ],
      },
    ),
  );
  const k = weight(report, 'dense_shared/kernel:0');
  assert.deepEqual(plain(k.rows), [{ source: 'a', start: 0, end: 3 }]);
  assert.match(k.rows[0].meaning ?? '', /shared layer.*other call reads b/);
});
