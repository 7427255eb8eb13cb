// Every keras-js reference case (data Keras produced) run directly through our layer kinds: within 1e-5 absolute.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { kindFor } from '../../src/model/kinds/index';
import { activationByName } from '../../src/model/activations';
import type { LayerConfig, RunContext, Tensor, WeightRef } from '../../src/model/types';

const ROOT = join(process.cwd(), '..', 'shared', 'keras-reference', 'keras-js');
const KERAS_VERSION = '2.1.2';
const TOLERANCE = 1e-5;

interface Arr {
  data: number[];
  shape: number[];
}
interface CaseData {
  input: Arr;
  weights?: Arr[];
  expected: Arr;
}
const cases = JSON.parse(readFileSync(join(ROOT, 'cases.json'), 'utf8')) as {
  files: Record<string, { cases: Record<string, any> }>;
};

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'length');
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function storedFromWeights(layerName: string, weights: Arr[]): { ref: WeightRef; data: Float32Array }[] {
  return weights.map((w, i) => ({
    ref: {
      layer: layerName,
      name: `${layerName}/vars/${i}`,
      path: `json/${i}`,
      shape: w.shape,
      dtype: 'float32',
      read: async () => Float32Array.from(w.data),
    },
    data: Float32Array.from(w.data),
  }));
}

let ran = 0;
for (const [file, entry] of Object.entries(cases.files)) {
  const data = JSON.parse(readFileSync(join(ROOT, file), 'utf8')) as Record<string, CaseData>;
  for (const [key, meta] of Object.entries(entry.cases)) {
    test(`keras-js ${key}`, () => {
      const c = data[key];
      assert.ok(c, `case ${key} present in ${file}`);
      const input: Tensor = { shape: [1, ...c.input.shape], data: Float64Array.from(c.input.data) };
      let got: Tensor;
      if (meta.function) {
        const name = String(meta.function.name).replace('keras.activations.', '');
        const act = activationByName(name, KERAS_VERSION, meta.function.kwargs ?? {});
        const out = new Float64Array(input.data);
        act.apply(out, input.shape);
        got = { shape: input.shape, data: out };
      } else {
        const layer: LayerConfig = {
          name: key.replace(/\./g, '_'),
          className: meta.layer.class_name,
          config: meta.layer.config,
          inbound: [],
        };
        const kind = kindFor(layer.className);
        assert.ok(kind, `kind for ${layer.className}`);
        const kctx = { kerasVersion: KERAS_VERSION, inputShapes: [[null, ...c.input.shape]] };
        const roles = kind.weightRoles(layer, kctx);
        assert.equal(roles.length, (c.weights ?? []).length, 'weightRoles counts the get_weights() arrays');
        roles.forEach((r, i) => {
          if (r.shape) assert.deepEqual(r.shape, c.weights![i].shape, `role ${r.role} shape`);
        });
        const weights = kind.bindWeights(layer, storedFromWeights(layer.name, c.weights ?? []), kctx);
        const ctx: RunContext = { kerasVersion: KERAS_VERSION, states: new Map() };
        const run = () => kind.forward({ layer, inputs: [input], masks: [null], weights, ctx }).outputs[0];
        got = run();
        if (meta.stateful) got = run(); // expected is the SECOND predict call
        assert.deepEqual(kind.outputShapes(layer, kctx)[0].slice(1), c.expected.shape, 'outputShapes');
      }
      assert.deepEqual(got.shape, [1, ...c.expected.shape], 'output shape');
      const err = maxAbsDiff(got.data, c.expected.data);
      assert.ok(err <= TOLERANCE, `${key}: max abs error ${err}`);
      ran++;
    });
  }
}

test('every keras-js case was run', () => {
  const total = Object.values(cases.files).reduce((n, f) => n + Object.keys(f.cases).length, 0);
  assert.ok(total >= 79, `cases.json lists ${total} cases`);
});
