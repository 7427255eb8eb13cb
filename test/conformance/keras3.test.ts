/**
 * Every case of ../shared/keras-reference/keras3 (49 small models made and run by real Keras 3.15.1, TensorFlow 2.21
 * CPU, every variable seeded-random) in every saved format it has (.keras, legacy .h5, .weights.h5 + model.json),
 * through the real pipeline (open -> build -> parse input -> predict). Source of truth: the case's expected.json,
 * Keras's own model.predict() output. Rule: |ours - keras| <= 1e-5 * max(1, |keras|) for every value.
 *
 * Every case must pass; a case may be marked `todo` (with its reason) only while a layer it needs is being built.
 *
 * Also: inspect's shape of every layer equals the shape predict's graph holds, and each output's inferred shape
 * equals the shape predict actually returned (batch axis aside).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { caseFormats, defineCaseTests, loadCases } from './keras3-cases';

const ROOT = join(__dirname, '../../../shared/keras-reference/keras3');

/**
 * Cases waiting for a layer owned by another helper, with the reason (node:test runs and reports them without
 * failing the suite). Empty: the attention, ConvLSTM1D/3D, padding/resampling and stacked-cells layers are in, and
 * every case passes in every format.
 */
const TODO: Record<string, string> = {};

const cases = loadCases(ROOT);

test('the keras3 reference folder is there and holds its 49 cases', () => {
  assert.equal(cases.length, 49, `found ${cases.length} cases under ${ROOT}`);
  assert.equal(cases.flatMap(caseFormats).length, 57, 'case-formats');
});

defineCaseTests('keras3', cases, { todo: TODO });
