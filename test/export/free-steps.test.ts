/**
 * Free steps axis (batch_input_shape [None, None, features]): one exported numpy predictor runs sequences of two
 * different lengths, and matches our engine's predict (src/engine, held to Keras by the conformance suites) for
 * both, 1e-5·max(1, |engine|) in float64 (numpy, js), 1e-4·max(1, |engine|) in float32 (c, java, pytorch). Source of truth: the engine's predict on the same inputs; the model is
 * ../shared/keras-reference/dl4j/tfkeras/rnn_148.h5 (tf.keras, free steps). Also: a Flatten after a free steps
 * axis is refused with one line in every language. And the project's fixture models with their steps axis freed
 * ((batch, T, F) inputs made (batch, None, F) in memory): each exported once per language, run at 3 and 9 steps
 * through the conformance harness, against the engine's predict at the same steps; the same for the keras3-real
 * cases of padding/cropping/upsampling, normalization and RNN(cell) at 4 and 9 steps.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { openModelFile } from '../../src/formats/open';
import { buildModel } from '../../src/model/graph';
import { predict } from '../../src/engine/predict';
import { nestedArray } from '../../src/engine/result-json';
import { exportPredictor, FREE_STEPS_LANGUAGES, GOLDEN_STEPS } from '../../src/export/index';
import { freeStepsInputs, LANGUAGES } from '../../src/export/plan';
import { writeExport } from '../../src/cli/export';
import { KerasLensError } from '../../src/model/types';
import { seededRandom } from '../../src/kernels/seeded-random';
import { runJobs, toolchain, type Job } from './harness';
import { fixtureCases, keras3RealCases, type Case } from './cases';
import { buildPlan, type Language } from '../../src/export/plan';
import { goldenInputs } from '../../src/export/index';
import type { ModelFile } from '../../src/model/types';

const RNN_148 = join(__dirname, '../../../shared/keras-reference/dl4j/tfkeras/rnn_148.h5');
const flat = (v: unknown): number[] => (Array.isArray(v) ? v.flatMap(flat) : [v as number]);

for (const lang of FREE_STEPS_LANGUAGES)
test(`one ${lang} predictor of a free-steps model runs two sequence lengths like the engine`, { skip: !existsSync(RNN_148) ? 'rnn_148.h5 not present' : toolchain(lang) ?? false }, async () => {
  const file = await openModelFile(RNN_148);
  const dir = mkdtempSync(join(tmpdir(), 'keras-lens-free-steps-'));
  try {
    const model = await buildModel(file);
    assert.ok(freeStepsInputs(model).length > 0, 'rnn_148 has a free steps axis');
    const result = await exportPredictor(model, lang);
    const out = join(dir, 'out');
    writeExport(out, result.files, { force: false, protect: [] });
    const readme = result.files.find((f) => f.path === 'README.md')!.content as string;
    assert.match(readme, new RegExp(`golden.json uses ${GOLDEN_STEPS} steps`));
    assert.match(readme, /\(batch, steps, \d+\)/);
    if (lang === 'c') {
      // ./run builds it as a user's machine does (C_BUILD_FLAGS)
      const h = result.files.find((f) => f.path === 'model.h')!.content as string;
      assert.match(h, /int kl_workspace_floats\(int steps\);/);
      assert.match(h, /void kl_predict\(int steps, int batch,/);
    }
    const self = spawnSync(join(out, 'run'), ['--self-test'], { encoding: 'utf8' });
    assert.equal(self.status, 0, self.stdout + self.stderr);
    const tol = lang === 'numpy' || lang === 'js' ? 1e-5 : 1e-4;
    const rnd = seededRandom(148);
    const shape = model.shapes.get(`${model.inputs[0].layer}:0:0`)!;
    const features = shape[2] as number;
    for (const steps of [3, 11]) {
      const x = { shape: [2, steps, features], data: Float64Array.from({ length: 2 * steps * features }, () => rnd() * 2 - 1) };
      const expected = (await predict(model, [x])).outputs;
      const input = join(dir, `in_${steps}.json`);
      writeFileSync(input, JSON.stringify(nestedArray(x)));
      const run = spawnSync(join(out, 'run'), [input], { encoding: 'utf8' });
      assert.equal(run.status, 0, run.stderr);
      const got = (JSON.parse(run.stdout) as { outputs: unknown[] }).outputs;
      assert.equal(got.length, expected.length);
      expected.forEach((e, k) => {
        const g = flat(got[k]);
        assert.equal(g.length, e.data.length, `steps ${steps}: output ${k} size`);
        e.data.forEach((v, i) => assert.ok(Math.abs(g[i] - v) <= 1e-5 * Math.max(1, Math.abs(v)), `steps ${steps}: output ${k}[${i}] ${g[i]} vs engine ${v}`));
      });
    }
  } finally {
    file.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a Flatten after the free steps axis is refused with one line in every language (its size is unknown, as in Keras)', { skip: !existsSync(RNN_148) ? 'rnn_148.h5 not present' : false }, async () => {
  const file = await openModelFile(RNN_148);
  try {
    const config = file.model!;
    const flatten = { name: 'flatten_x', className: 'Flatten', config: { name: 'flatten_x' }, inbound: [[{ layer: 'activation_76', node: 0, tensor: 0 }]] };
    const withFlatten = Object.assign(Object.create(Object.getPrototypeOf(file)), file, {
      model: { ...config, layers: [...config.layers, flatten], outputs: [{ layer: 'flatten_x', node: 0, tensor: 0 }] },
    });
    const model = await buildModel(withFlatten);
    for (const lang of LANGUAGES) {
      await assert.rejects(exportPredictor(model, lang), (err: unknown) => err instanceof KerasLensError && /'flatten_x' \(Flatten\).*free steps axis/.test(err.problem) && !err.problem.includes('\n'));
    }
  } finally {
    file.close();
  }
});

/** The same file with every (batch, T, F) input's steps axis made free (None), in memory. */
function freed(file: ModelFile): ModelFile {
  const config = file.model!;
  const layers = config.layers.map((l) => {
    const shape = l.config.batch_input_shape as (number | null)[] | undefined;
    if (l.className !== 'InputLayer' || !Array.isArray(shape) || shape.length !== 3) return l;
    return { ...l, config: { ...l.config, batch_input_shape: [shape[0], null, shape[2]] } };
  });
  return Object.assign(Object.create(Object.getPrototypeOf(file)), file, { model: { ...config, layers } });
}

/**
 * Each case's model with its steps axis freed, exported once per language and run at each of `stepCounts` steps
 * through the conformance harness, against the engine's predict at the same steps; at least `atLeast` exported.
 */
async function freedCasesMatchEngine(t: TestContext, root: string, cases: Case[], stepCounts: number[], atLeast: number): Promise<void> {
  {
    const done: { id: string; dirs: Record<Language, string>; runs: { steps: number; input: string; expected: number[][]; plans: Record<Language, ReturnType<typeof buildPlan>> }[] }[] = [];
    const refused: string[] = [];
    let k = 0;
    for (const c of cases) {
      const opened = await c.open();
      try {
        const model = await buildModel(freed(opened.model.file));
        if (!freeStepsInputs(model).length) continue;
        await model.bindAll();
        try {
          buildPlan(model, 'numpy', stepCounts[0]);
        } catch (err) {
          if (!(err instanceof KerasLensError)) throw err;
          refused.push(`${c.id}: ${err.problem}`);
          continue;
        }
        const dir = join(root, `m${k++}`);
        mkdirSync(dir);
        const dirs = {} as Record<Language, string>;
        for (const lang of LANGUAGES) {
          dirs[lang] = join(dir, lang);
          writeExport(dirs[lang], (await exportPredictor(model, lang)).files, { force: false, protect: [] });
        }
        const runs = [];
        for (const steps of stepCounts) {
          const plans = Object.fromEntries(LANGUAGES.map((l) => [l, buildPlan(model, l, steps)])) as Record<Language, ReturnType<typeof buildPlan>>;
          const inputs = goldenInputs(plans.numpy);
          const expected = (await predict(model, inputs)).outputs.map((o) => Array.from(o.data));
          const input = join(dir, `input_${steps}.json`);
          writeFileSync(input, JSON.stringify(Object.fromEntries(plans.numpy.inputs.map((i, n) => [i.name, nestedArray(inputs[n])]))));
          runs.push({ steps, input, expected, plans });
        }
        done.push({ id: c.id, dirs, runs });
      } finally {
        opened.close();
      }
    }
    t.diagnostic(`${done.length} models exported with a free steps axis (${done.map((d) => d.id).join(', ')}); refused: ${refused.length ? refused.join('; ') : 'none'}`);
    assert.ok(done.length >= atLeast, `only ${done.length} models with a free steps axis`);
    for (const r of refused) assert.match(r, /depends on the free steps axis|not a linear function|not exported/);
    for (const lang of LANGUAGES) {
      if (toolchain(lang)) {
        t.diagnostic(`${lang} skipped: ${toolchain(lang)}`);
        continue;
      }
      const jobs: Job[] = done.flatMap((d) => d.runs.map((r) => ({ dir: d.dirs[lang], input: r.input, plan: r.plans[lang] })));
      const results = await runJobs(lang, jobs, join(root, `work-${lang}`));
      const tol = lang === 'numpy' || lang === 'js' ? 1e-5 : 1e-4;
      const failures: string[] = [];
      let j = 0;
      for (const d of done) {
        for (const r of d.runs) {
          const got = results[j++];
          if (!got.outputs) failures.push(`${d.id} @${r.steps}: ${got.error}`);
          else if (got.outputs.length !== r.expected.length || r.expected.some((e, o) => e.length !== got.outputs![o].length || e.some((v, i) => !(Math.abs(got.outputs![o][i] - v) <= tol * Math.max(1, Math.abs(v)))))) {
            failures.push(`${d.id} @${r.steps} steps: differs from the engine`);
          }
        }
      }
      assert.deepEqual(failures, [], `${lang}: ${failures.slice(0, 10).join('\n')}`);
    }
  }
}

test('fixture models with their steps axis freed: one predictor per language runs 3 and 9 steps like the engine', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'keras-lens-free-fixtures-'));
  try {
    mkdirSync(join(root, 'fixtures'));
    await freedCasesMatchEngine(t, root, await fixtureCases(join(root, 'fixtures')), [3, 9], 10);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

// the keras3-real cases of the kinds whose sizes along the steps axis move (padding, cropping, upsampling) or that
// run per step (normalization, RNN(cell) and stacked cells): 4 and 9 steps (cropping (1, 2) needs 4)
const FREED_KERAS3_REAL = /^keras3-real\/(zero_padding1d|cropping1d|up_sampling1d|batchnorm_|layernorm_|rnn_cell_options|stacked_(two_lstm|list_state|embedding))/;

test('keras3-real models of the newer kinds with their steps axis freed: one predictor per language runs 4 and 9 steps like the engine', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'keras-lens-free-keras3-real-'));
  try {
    await freedCasesMatchEngine(t, root, keras3RealCases().filter((c) => FREED_KERAS3_REAL.test(c.id)), [4, 9], 10);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
