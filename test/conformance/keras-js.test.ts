/**
 * All 79 keras-js cases (Keras 2.0/2.1, TensorFlow backend) through the full pipeline: a one-layer model
 * (formats' singleLayerModel), the case's weights as stored arrays bound by the layer kind, predict.
 * Stateful cases compare the SECOND predict of one session (the notebooks' expected values).
 * Tolerance 1e-5 absolute (the JSON is rounded to 6 decimals).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildModel } from '../../src/model/graph';
import { predict, PredictSession } from '../../src/engine/predict';
import { ROOT, TOLERANCE, caseModelFile, index, type CaseData } from './keras-js-cases';

let caseCount = 0;
for (const [file, entry] of Object.entries(index.files)) {
  const fixtures = JSON.parse(readFileSync(join(ROOT, file), 'utf8')) as Record<string, CaseData>;
  for (const [key, c] of Object.entries(entry.cases)) {
    caseCount++;
    test(`keras-js ${key}`, async () => {
      const data = fixtures[key];
      assert.ok(data, `${key} is in ${file}`);
      const model = await buildModel(caseModelFile(key, c, data));
      const input = { shape: [1, ...data.input.shape], data: Float64Array.from(data.input.data) };
      const session = new PredictSession();
      let result = await predict(model, input, { session });
      if (c.stateful) result = await predict(model, input, { session });
      const out = result.outputs[0];
      assert.deepEqual(out.shape, [1, ...data.expected.shape], `${key}: output shape`);
      let worst = 0;
      data.expected.data.forEach((e, i) => {
        worst = Math.max(worst, Math.abs(out.data[i] - e));
      });
      assert.ok(worst <= TOLERANCE, `${key}: max abs error ${worst.toExponential(3)} > ${TOLERANCE}`);
    });
  }
}

test('keras-js: every indexed case ran', () => {
  assert.equal(caseCount, 79);
});
