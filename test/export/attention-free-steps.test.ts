/**
 * Attention over a free steps axis (batch_input_shape [None, None, features]): a masked, causal self-attention
 * (AdditiveAttention over Masking(x), query = value = x) exported once to numpy and PyTorch runs sequences of 3 and 8
 * steps like our engine's predict (src/engine, held to Keras by the keras3-real attention cases in the conformance
 * test), 1e-5·max(1, |engine|) in float64 (numpy) and 1e-4·max(1, |engine|) in float32 (PyTorch). Source of truth:
 * the engine's predict on the same inputs. The scalar languages keep the (steps x steps) weights in a workspace whose
 * offsets must be linear in the steps, so they refuse it in one line; a query and a value from two free inputs
 * (whose lengths may differ at call time) are refused in one line in every language.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { buildModel } from '../../src/model/graph';
import { predict } from '../../src/engine/predict';
import { nestedArray } from '../../src/engine/result-json';
import { exportPredictor } from '../../src/export/index';
import { LANGUAGES, type Language } from '../../src/export/plan';
import { writeExport } from '../../src/cli/export';
import { KerasLensError } from '../../src/model/types';
import { seededRandom } from '../../src/kernels/seeded-random';
import { inputLayer, layer, memoryFile, modelConfig, ref } from '../engine/memoryModel';
import { toolchain } from './harness';

const flat = (v: unknown): number[] => (Array.isArray(v) ? v.flatMap(flat) : [v as number]);
const FEATURES = 3;

async function selfAttention() {
  const layers = [
    inputLayer('x', [null, FEATURES]),
    layer('m', 'Masking', { mask_value: 0 }, [ref('x')]),
    layer('att', 'AdditiveAttention', { use_scale: true, causal: true }, [ref('m'), ref('m')]),
  ];
  const model = await buildModel(memoryFile(modelConfig(layers, [ref('x')], [ref('att')]), { att: [{ name: 'att/scale:0', shape: [FEATURES], data: [0.5, -1.2, 0.8] }] }));
  await model.bindAll();
  return model;
}

for (const lang of ['numpy', 'pytorch'] as Language[]) {
  test(`one ${lang} predictor of a masked causal self-attention over a free steps axis runs 3 and 8 steps like the engine`, { skip: toolchain(lang) ?? false }, async () => {
    const model = await selfAttention();
    const dir = mkdtempSync(join(tmpdir(), 'keras-lens-attention-free-'));
    try {
      const out = join(dir, 'out');
      writeExport(out, (await exportPredictor(model, lang)).files, { force: false, protect: [] });
      const tol = lang === 'numpy' ? 1e-5 : 1e-4;
      const rnd = seededRandom(31);
      for (const steps of [3, 8]) {
        const data = Float64Array.from({ length: 2 * steps * FEATURES }, () => rnd() * 2 - 1);
        // the last step of sample 0 and the first of sample 1 masked (all features = mask_value)
        data.fill(0, (steps - 1) * FEATURES, steps * FEATURES);
        data.fill(0, steps * FEATURES, (steps + 1) * FEATURES);
        const x = { shape: [2, steps, FEATURES], data };
        const expected = (await predict(model, [x])).outputs[0].data;
        const input = join(dir, `in_${steps}.json`);
        writeFileSync(input, JSON.stringify(nestedArray(x)));
        const run = spawnSync(join(out, 'run'), [input], { encoding: 'utf8' });
        assert.equal(run.status, 0, run.stderr);
        const got = flat((JSON.parse(run.stdout) as { outputs: unknown[] }).outputs[0]);
        assert.equal(got.length, expected.length, `steps ${steps}: output size`);
        expected.forEach((v, i) => assert.ok(Math.abs(got[i] - v) <= tol * Math.max(1, Math.abs(v)), `steps ${steps}: output[${i}] ${got[i]} vs engine ${v}`));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('attention over a free steps axis: js, c and java refuse the steps x steps weights in one line; two free inputs are refused everywhere', async () => {
  const one = await selfAttention();
  for (const lang of ['js', 'c', 'java'] as Language[]) {
    await assert.rejects(exportPredictor(one, lang), (err: unknown) => err instanceof KerasLensError && /'att' \(AdditiveAttention\) to \w+: its attention weights \(steps x steps/.test(err.problem) && !err.message.includes('\n'));
  }
  const two = await buildModel(
    memoryFile(modelConfig([inputLayer('q', [null, FEATURES]), inputLayer('v', [null, FEATURES]), layer('att', 'Attention', {}, [ref('q'), ref('v')])], [ref('q'), ref('v')], [ref('att')])),
  );
  await two.bindAll();
  for (const lang of LANGUAGES) {
    await assert.rejects(exportPredictor(two, lang), (err: unknown) => err instanceof KerasLensError && /'att' \(Attention\) to \w+: .*two different inputs/.test(err.problem) && !err.message.includes('\n'));
  }
});
