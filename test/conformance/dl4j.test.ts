/**
 * dl4j reference files (Keras 1.2.2 tf/th, Keras 2.1.3): every model with stored Keras predictions, opened with
 * openModelFile, built with buildModel and run with predict. Compares `predictions/*` (the model outputs) and
 * `activations/<layer>` (intermediate outputs, e.g. the recurrent layer) to ours: |ours − keras| <= atol + rtol·|keras|.
 * `outputs/*` in these files are training targets, not predictions, and are not used.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openModelFile } from '../../src/formats/open';
import { buildModel } from '../../src/model/graph';
import { predict } from '../../src/engine/predict';

const ROOT = join(__dirname, '../../../shared/keras-reference/dl4j/examples');
const RTOL = 1e-5;
const ATOL = 1e-6;

interface Dl4jCase {
  model: string;
  data: string;
}

const CASES: Dl4jCase[] = [
  { model: 'simple_lstm/simple_lstm_tf_keras_1_model.h5', data: 'simple_lstm/simple_lstm_tf_keras_1_inputs_and_outputs.h5' },
  { model: 'simple_lstm/simple_lstm_th_keras_1_model.h5', data: 'simple_lstm/simple_lstm_th_keras_1_inputs_and_outputs.h5' },
  { model: 'simple_rnn/simple_rnn_tf_keras_2_model.h5', data: 'simple_rnn/simple_rnn_tf_keras_2_inputs_and_outputs.h5' },
  {
    model: 'simple_flatten_lstm/simple_flatten_lstm_tf_keras_2_model.h5',
    data: 'simple_flatten_lstm/simple_flatten_lstm_tf_keras_2_inputs_and_outputs.h5',
  },
  {
    model: 'simple_flatten_rnn/simple_flatten_rnn_tf_keras_2_model.h5',
    data: 'simple_flatten_rnn/simple_flatten_rnn_tf_keras_2_inputs_and_outputs.h5',
  },
];

interface Dataset {
  shape: number[];
  data: Float64Array;
}

/** Reads every dataset of one group of the (read-only) reference file. */
async function readGroup(path: string, group: string): Promise<Map<string, Dataset>> {
  const h5wasm = await import('h5wasm/node');
  await h5wasm.ready;
  const f = new h5wasm.File(path, 'r');
  try {
    const g = f.get(group) as { keys(): string[]; get(k: string): unknown } | null;
    const out = new Map<string, Dataset>();
    if (!g) return out;
    for (const k of g.keys()) {
      const ds = g.get(k) as { shape: number[]; value: ArrayLike<number> };
      out.set(k, { shape: ds.shape, data: Float64Array.from(ds.value) });
    }
    return out;
  } finally {
    f.close();
  }
}

function worstExcess(ours: ArrayLike<number>, keras: ArrayLike<number>): { excess: number; at: number; abs: number } {
  let worst = { excess: -Infinity, at: -1, abs: 0 };
  for (let i = 0; i < keras.length; i++) {
    const d = Math.abs(ours[i] - keras[i]);
    const excess = d - (ATOL + RTOL * Math.abs(keras[i]));
    if (excess > worst.excess) worst = { excess, at: i, abs: d };
  }
  return worst;
}

for (const c of CASES) {
  test(`dl4j ${c.model}: predictions and recurrent activations match Keras`, async () => {
    const dataPath = join(ROOT, c.data);
    const inputs = await readGroup(dataPath, 'inputs');
    const predictions = await readGroup(dataPath, 'predictions');
    const activations = await readGroup(dataPath, 'activations');
    assert.equal(inputs.size, 1);
    assert.ok(predictions.size >= 1, 'the file stores predictions');

    const file = await openModelFile(join(ROOT, c.model));
    try {
      const model = await buildModel(file);
      const [x] = [...inputs.values()];
      const result = await predict(model, { shape: x.shape, data: x.data });
      for (const [name, expected] of predictions) {
        const i = result.outputNames.indexOf(name);
        assert.ok(i >= 0, `output '${name}' among ${result.outputNames.join(', ')}`);
        assert.deepEqual(result.outputs[i].shape, expected.shape, `${name} shape`);
        const w = worstExcess(result.outputs[i].data, expected.data);
        assert.ok(w.excess <= 0, `predictions/${name}: error ${w.abs.toExponential(3)} at ${w.at} exceeds ${ATOL} + ${RTOL}·|keras|`);
      }
      // intermediate layers' activations (recurrent layers, flatten), as Keras computed them
      const layerNames = [...activations.keys()].filter((n) => !predictions.has(n));
      assert.ok(layerNames.length >= 1, 'the file stores intermediate activations');
      const inner = await predict(model, { shape: x.shape, data: x.data }, { outputs: layerNames.map((layer) => ({ layer, node: 0, tensor: 0 })) });
      layerNames.forEach((name, i) => {
        const expected = activations.get(name)!;
        assert.deepEqual(inner.outputs[i].shape, expected.shape, `activations/${name} shape`);
        const w = worstExcess(inner.outputs[i].data, expected.data);
        assert.ok(w.excess <= 0, `activations/${name}: error ${w.abs.toExponential(3)} at ${w.at} exceeds ${ATOL} + ${RTOL}·|keras|`);
      });
    } finally {
      file.close();
    }
  });
}

test('dl4j masking models: Masking masks the padded steps for the LSTM (mask_value 0 and 2)', async () => {
  // These files store no predictions. With a working mask, padding placed after the 6 real steps or before them
  // gives the same final state (the LSTM skips masked steps, carrying its state; it starts from zeros), while
  // padding that is not the mask value changes the output.
  for (const [name, maskValue] of [
    ['masking/masking_zero_lstm.h5', 0],
    ['masking/masking_two_lstm.h5', 2],
  ] as const) {
    const file = await openModelFile(join(ROOT, name));
    try {
      const model = await buildModel(file);
      const [steps, features, real] = [10, 42, 6];
      const sequence = Float64Array.from({ length: real * features }, (_, i) => Math.sin(i * 0.37) * 0.8);
      const padAfter = new Float64Array(steps * features).fill(maskValue);
      padAfter.set(sequence, 0);
      const padBefore = new Float64Array(steps * features).fill(maskValue);
      padBefore.set(sequence, (steps - real) * features);
      const notMask = new Float64Array(steps * features).fill(maskValue + 0.5);
      notMask.set(sequence, 0);
      const run = async (data: Float64Array) => (await predict(model, { shape: [1, steps, features], data })).outputs[0];
      const a = await run(padAfter);
      const b = await run(padBefore);
      const c = await run(notMask);
      assert.deepEqual(a.shape, [1, 32]);
      const maxDiff = (p: ArrayLike<number>, q: ArrayLike<number>) => Math.max(...Array.from(p, (v, i) => Math.abs(v - q[i])));
      assert.ok(maxDiff(a.data, b.data) < 1e-12, `${name}: padding before/after the sequence gives the same output`);
      assert.ok(maxDiff(a.data, c.data) > 1e-4, `${name}: padding that is not the mask value changes the output`);
    } finally {
      file.close();
    }
  }
});

test('dl4j weights-only files joined to their architecture (--config) predict like the full model files', async () => {
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const h5wasm = await import('h5wasm/node');
  await h5wasm.ready;
  const dir = mkdtempSync(join(tmpdir(), 'keras-lens-dl4j-'));
  try {
    for (const [modelName, weightsName, dataName] of [
      ['simple_rnn/simple_rnn_tf_keras_2_model.h5', 'simple_rnn/simple_rnn_tf_keras_2_weights.h5', 'simple_rnn/simple_rnn_tf_keras_2_inputs_and_outputs.h5'],
      ['simple_lstm/simple_lstm_tf_keras_1_model.h5', 'simple_lstm/simple_lstm_tf_keras_1_weights.h5', 'simple_lstm/simple_lstm_tf_keras_1_inputs_and_outputs.h5'],
    ]) {
      // the architecture as `model.to_json()` would give it: the model file's model_config attribute
      const f = new h5wasm.File(join(ROOT, modelName), 'r');
      const modelConfig = String((f.attrs as Record<string, { value: unknown }>).model_config.value);
      f.close();
      const configPath = join(dir, 'arch.json');
      writeFileSync(configPath, modelConfig);
      const x = [...(await readGroup(join(ROOT, dataName), 'inputs')).values()][0];
      const expected = (await readGroup(join(ROOT, dataName), 'predictions')).get('dense_1')!;
      const file = await openModelFile(join(ROOT, weightsName), { configPath });
      try {
        const result = await predict(await buildModel(file), { shape: x.shape, data: x.data });
        const w = worstExcess(result.outputs[0].data, expected.data);
        assert.ok(w.excess <= 0, `${weightsName}: error ${w.abs.toExponential(3)} at ${w.at}`);
      } finally {
        file.close();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
