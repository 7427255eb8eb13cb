/**
 * tf.keras 2.x op layers (TFOpLambda: math.*, nn.softmax/relu, concat, stack, expand_dims, squeeze, reshape,
 * transpose, linalg.matmul, clip_by_value, where, cast, reduce_*, __operators__.add; SlicingOpLambda:
 * __operators__.getitem with negative indices, steps, ..., None), plain and after Masking, saved as legacy .h5 and
 * as weights + to_json. Source of truth: the tf.keras 2.x implementation TensorFlow 2.21 ships
 * (tensorflow.python.keras) — generator test/tf-keras-ops/generate.py, outputs committed in
 * test/fixtures/tf-keras-ops/, each file reloaded by tf.keras to the same numbers. Rule: |ours - keras| <= 1e-5 *
 * max(1, |keras|).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { defineCaseTests, loadCases } from './keras3-cases';

const ROOT = join(__dirname, '../fixtures/tf-keras-ops');
const cases = loadCases(ROOT);

test('the tf-keras-ops cases are there', () => {
  assert.ok(cases.length >= 10, `found ${cases.length} cases under ${ROOT}`);
});

defineCaseTests('tf-keras-ops', cases);
