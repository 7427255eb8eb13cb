import { test } from 'node:test';
import assert from 'node:assert/strict';
import { batchSize, looksLikeProbabilities, resultsSummary, traceSummary } from '../../extension/predictResults';
import type { RecurrentTrace } from '../../src/model/types';

const t = (shape: number[], values: number[]) => ({ shape, data: Float64Array.from(values) });

test('softmax-like outputs (rows in [0,1] summing to 1) get bars; others do not', () => {
  assert.equal(looksLikeProbabilities(t([2, 3], [0.2, 0.3, 0.5, 1, 0, 0])), true);
  assert.equal(looksLikeProbabilities(t([1, 3], [0.2, 0.3, 0.6])), false); // sums to 1.1
  assert.equal(looksLikeProbabilities(t([1, 2], [1.5, -0.5])), false); // sums to 1, out of range
  assert.equal(looksLikeProbabilities(t([1, 1], [1])), false); // a single sigmoid unit is not a distribution
});

function lstmTrace(batch: number, units: number, steps: number): RecurrentTrace {
  const step = (k: number) => t([batch, units], Array.from({ length: batch * units }, (_, i) => k * 100 + i));
  const series = () => Array.from({ length: steps }, (_, k) => step(k));
  return { layer: 'lstm_1', direction: 'backward', gates: ['i', 'f', 'c', 'o'], gateValues: { i: series(), f: series(), c: series(), o: series() }, cell: series(), hidden: series() };
}

test('traces are flattened per step as [b*units+u] and keep direction and cell', () => {
  const s = traceSummary(lstmTrace(2, 3, 4));
  assert.equal(s.layer, 'lstm_1');
  assert.equal(s.direction, 'backward');
  assert.deepEqual([s.steps, s.batch, s.units], [4, 2, 3]);
  assert.deepEqual(s.hidden[2], [200, 201, 202, 203, 204, 205]);
  assert.deepEqual(s.gateValues.f[3].slice(0, 3), [300, 301, 302]);
  assert.equal(s.cell!.length, 4);
});

test('big traces keep only the first samples', () => {
  const s = traceSummary(lstmTrace(10, 3, 4), 4 * 3 * 6 * 2); // room for two samples
  assert.equal(s.batch, 2);
  assert.equal(s.hidden[0].length, 6);
});

test('results summary names outputs and counts the batch', () => {
  const r = resultsSummary({ outputs: [t([1, 2], [0.25, 0.75])], outputNames: ['dense_1'] }, 'm.h5', 'in.json', 12);
  assert.equal(r.outputs[0].name, 'dense_1');
  assert.deepEqual(r.outputs[0].values, [0.25, 0.75]);
  assert.equal(r.outputs[0].looksLikeProbabilities, true);
  assert.equal(batchSize({ a: { shape: [7, 3], data: new Float64Array(21) }, b: { shape: [5, 1], data: new Float64Array(5) } }), 7);
});
