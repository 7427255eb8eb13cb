/**
 * How masks flow through Keras 3 operation nodes, on cases made and run by real Keras 3.15.1 (TensorFlow 2.21 CPU;
 * generator: test/keras3-ops/generate.py, outputs committed in test/fixtures/keras3-ops/). Source of truth: each
 * case's expected.json, Keras's own model.predict(). Rule: |ours - keras| <= 1e-5 * max(1, |keras|).
 * The cases put convert_to_tensor, cast (same and other dtype), reshape, x[:, :, :], x + 0.0 between Masking and
 * recurrent layers, pass explicit masks built with ops, and follow Embedding(mask_zero=True) with ops.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { defineCaseTests, loadCases } from './keras3-cases';

const ROOT = join(__dirname, '../fixtures/keras3-ops');
const cases = loadCases(ROOT);

test('the keras3-ops cases are there', () => {
  assert.ok(cases.length >= 10, `found ${cases.length} cases under ${ROOT}`);
});

defineCaseTests('keras3-ops', cases);
