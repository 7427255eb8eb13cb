/**
 * inspect says what each operation node computes. Source of truth: the Python expressions that made the real
 * files — test/tf-keras-ops/generate.py tf_getitem (y = the LSTM named 'l') and tf_shape — so the line must read
 * back as the user wrote it.
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
