/**
 * inspect says what each operation node computes, and traces kernel rows through op nodes. Source of truth: the
 * Python expressions that made the real files (test/tf-keras-ops/generate.py tf_getitem, where y is the LSTM named
 * 'l', tf_shape and tf_mask_flow; test/keras3-real/generate.py ops_shape), so the line must read back as the user
 * wrote it, and rows must follow what each op does to the features.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openModelFile } from '../../src/formats/open';
import { inspectModel } from '../../src/explain/inspect';

const FIXTURES = join(__dirname, '../fixtures/tf-keras-ops');

async function operations(name: string): Promise<string[]> {
  const file = await openModelFile(join(FIXTURES, name, 'model.h5'));
  try {
    return (await inspectModel(file)).layers.flatMap((l) => (l.operation ? [l.operation] : []));
  } finally {
    file.close();
  }
}

test('inspect writes tf.keras getitem layers back as the slices the user wrote', async () => {
  // y[:, -1, :], y[:, 1], y[..., ::2], y[:, 1:4:2, ...], y[:, None, 0], y[:, :, -2:], y[:, ::-1], y[:, -3:-1, 1:]
  assert.deepEqual(await operations('tf_getitem'), [
    'l[:, -1, :]',
    'l[:, 1]',
    'l[..., ::2]',
    'l[:, 1:4:2, ...]',
    'l[:, None, 0]',
    'l[:, :, -2:]',
    'l[:, ::-1]',
    'l[:, -3:-1, 1:]',
  ]);
});

test('inspect names the op, its operands and settings for tf.keras op layers', async () => {
  const ops = await operations('tf_shape');
  for (const expected of ['concatenate([l, input_5], axis=-1)', 'transpose(l, axes=[0,2,1])', 'matmul(l, l, transpose_b=true)', 'reshape(l, newshape=[-1,20])']) {
    assert.ok(ops.includes(expected), `'${expected}' among ${JSON.stringify(ops)}`);
  }
});

test('row sources pass through elementwise op nodes and op concatenation, as the ops define', async () => {
  // tf_mask_flow: GRU(h + 0.0) and LSTM(tf.cast(h, tf.float32)) read the input's 3 features unchanged;
  // keras3-real ops_shape: LSTM(ops.concatenate([h, Dense(2)(h)], axis=-1)) reads input [0,3) then d [3,5)
  const kernelRows = async (path: string, layer: string) => {
    const file = await openModelFile(path);
    try {
      const l = (await inspectModel(file)).layers.find((x) => x.name === layer)!;
      return l.weights[0].rows.map((r) => `${r.source} [${r.start},${r.end})`);
    } finally {
      file.close();
    }
  };
  const tf = join(FIXTURES, 'tf_mask_flow', 'model.h5');
  assert.deepEqual(await kernelRows(tf, 'after_add'), ['input_9 [0,3)']);
  assert.deepEqual(await kernelRows(tf, 'after_cast'), ['input_9 [0,3)']);
  const k3 = join(__dirname, '../fixtures/keras3-real/ops_shape/model.keras');
  assert.deepEqual(await kernelRows(k3, 'tail_lstm'), ['input_layer_6 [0,3)', 'd [3,5)']);
});

test("inspect says where a layer's explicit mask= comes from (Keras 3 writes Masking's mask as op nodes)", async () => {
  // ../shared/keras-reference/keras3/lstm_masking: Masking -> LSTM, the LSTM's node has mask = the Any op's output
  const file = await openModelFile(join(__dirname, '../../../shared/keras-reference/keras3/lstm_masking/model.keras'));
  try {
    const layers = (await inspectModel(file)).layers;
    assert.deepEqual(layers.find((l) => l.className === 'LSTM')?.maskFrom, ['any']);
    assert.deepEqual(layers.find((l) => l.name === 'any')?.operation, 'any(not_equal, axis=-1)');
    assert.deepEqual(layers.find((l) => l.name === 'not_equal')?.operation, 'not_equal(input_layer_10, 0)');
  } finally {
    file.close();
  }
});
