/**
 * Every conformance model that uses only exportable layers, exported to numpy, JavaScript, C, Java and PyTorch and
 * run with the real toolchain, against the numbers Keras produced (keras3 and keras3-real expected.json, keras-js, dl4j stored
 * predictions) or, for models without stored Keras output (fixtures, dl4j tfkeras), our engine's predict (see
 * cases.ts). Tolerance: float64 predictors (numpy, js) 1e-5·max(1, |keras|); float32 ones (C, Java, PyTorch)
 * 1e-4·max(1, |keras|). A language is skipped only when its toolchain is not installed, and says so.
 * Also: each language's own `./run` builds and prints predict-shaped JSON, `./run --self-test` passes on golden.json
 * and fails (exit 1) on a golden.json whose numbers were changed.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { exportPredictor, GOLDEN_STEPS } from '../../src/export/index';
import { buildPlan, EXPORTABLE_CLASSES, freeStepsInputs, LANGUAGES, type Language, type Plan } from '../../src/export/plan';
import { KerasLensError } from '../../src/model/types';
import { writeExport } from '../../src/cli/export';
import { dl4jCases, fixtureCases, keras3Cases, keras3RealCases, kerasJsCases, type Case } from './cases';
import { runJobs, runScript, toolchain, type Job } from './harness';

interface Prepared {
  id: string;
  truth: 'keras' | 'engine';
  input: string;
  expected: number[][];
  dirs: Record<Language, string>;
  plan: Plan;
}

let root = '';
const prepared: Prepared[] = [];
const refused: { id: string; why: string; classes: string[] }[] = [];
/** Cases whose input has a free steps axis, exported for any steps (free-steps.ts). */
const freeSteps: string[] = [];

function tolerance(lang: Language): number {
  return lang === 'numpy' || lang === 'js' ? 1e-5 : 1e-4;
}

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'keras-lens-export-'));
  const fixturesDir = join(root, 'fixtures');
  mkdirSync(fixturesDir);
  const cases: Case[] = [...keras3Cases(), ...keras3RealCases(), ...kerasJsCases(), ...dl4jCases(), ...(await fixtureCases(fixturesDir))];
  let k = 0;
  for (const c of cases) {
    const opened = await c.open();
    try {
      const model = opened.model;
      await model.bindAll();
      try {
        // a free steps axis (None): planned for the golden steps; the export writes code for any steps
        buildPlan(model, 'numpy', freeStepsInputs(model).length ? GOLDEN_STEPS : undefined);
      } catch (err) {
        if (!(err instanceof KerasLensError)) throw err;
        refused.push({ id: c.id, why: err.problem, classes: [...new Set(model.layers.map((l) => l.config.className))] });
        continue;
      }
      const dir = join(root, `case_${k++}`);
      mkdirSync(dir);
      const { path, expected } = await c.input(model, dir);
      const dirs = {} as Record<Language, string>;
      let plan: Plan | null = null;
      for (const lang of LANGUAGES) {
        const r = await exportPredictor(model, lang);
        dirs[lang] = join(dir, lang);
        writeExport(dirs[lang], r.files, { force: false, protect: [] });
        plan = r.plan;
      }
      prepared.push({ id: c.id, truth: c.truth, input: path, expected, dirs, plan: plan! });
      if (freeStepsInputs(model).length) freeSteps.push(c.id);
    } finally {
      opened.close();
    }
  }
});

after(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

test('export: the conformance sets give many exportable models; every refusal names a layer export does not know', (t) => {
  t.diagnostic(`${prepared.length} models exported (${prepared.filter((p) => p.truth === 'keras').length} against Keras's own numbers), ${refused.length} refused: ${refused.map((r) => r.id).join(', ')}`);
  assert.ok(prepared.length >= 100, `only ${prepared.length} models exported`);
  t.diagnostic(`free steps axis, exported for any steps: ${freeSteps.join(', ')}`);
  if (prepared.some((p) => p.id.includes('tfkeras/rnn_148'))) assert.ok(freeSteps.some((id) => id.includes('tfkeras/rnn_148')), 'rnn_148 (free steps) is exported');
  else assert.ok(!refused.some((r) => r.id.includes('tfkeras/rnn_148')), `rnn_148 is refused: ${refused.find((r) => r.id.includes('rnn_148'))?.why}`);
  assert.ok(prepared.filter((p) => p.truth === 'keras').length >= 80, 'most models are checked against Keras itself');
  for (const r of refused) {
    const m = /cannot export layer '.*' \(([\w.]+)\) to numpy: (.*)$/.exec(r.why);
    assert.ok(m, `${r.id}: refusal is one line naming the layer: ${r.why}`);
    const unknown = r.classes.filter((c) => !EXPORTABLE_CLASSES.includes(c) && c !== 'Functional' && c !== 'Sequential');
    // the refusals of exportable classes: a free (None) axis other than the steps axis, or a Flatten/Reshape whose
    // size depends on the free steps axis (Keras needs it fixed too)
    assert.ok(
      unknown.length > 0 || /not exported|has a free axis besides the batch|depends on the free steps axis/.test(m[2]),
      `${r.id} uses only exportable classes (${r.classes.join(', ')}) but was refused: ${r.why}`,
    );
  }
});

function compare(p: Prepared, lang: Language, outputs: number[][]): string | null {
  if (outputs.length !== p.expected.length) return `${outputs.length} outputs, expected ${p.expected.length}`;
  let worst = 0;
  let where = '';
  for (let o = 0; o < outputs.length; o++) {
    if (outputs[o].length !== p.expected[o].length) return `output ${o} has ${outputs[o].length} values, expected ${p.expected[o].length}`;
    for (let i = 0; i < outputs[o].length; i++) {
      const e = p.expected[o][i];
      const r = Math.abs(outputs[o][i] - e) / (tolerance(lang) * Math.max(1, Math.abs(e)));
      if (!(r <= worst)) {
        worst = r;
        where = `output ${o}[${i}] = ${outputs[o][i]}, ${p.truth} ${e}`;
      }
    }
  }
  return worst <= 1 ? null : `off by ${worst.toFixed(2)}× the tolerance at ${where}`;
}

for (const lang of LANGUAGES) {
  test(`export ${lang}: every exported conformance model matches ${'Keras (or the engine where Keras stored nothing)'}`, async (t) => {
    const missing = toolchain(lang);
    if (missing) {
      t.skip(`${lang} toolchain cannot run here: ${missing}`);
      return;
    }
    const jobs: Job[] = prepared.map((p) => ({ dir: p.dirs[lang], input: p.input, plan: p.plan }));
    const results = await runJobs(lang, jobs, join(root, `work-${lang}`));
    const failures: string[] = [];
    results.forEach((r, k) => {
      const p = prepared[k];
      if (!r.outputs) failures.push(`${p.id}: ${r.error}`);
      else {
        const bad = compare(p, lang, r.outputs);
        if (bad) failures.push(`${p.id}: ${bad}`);
      }
    });
    assert.equal(results.length, prepared.length);
    assert.deepEqual(failures, [], `${failures.length} of ${prepared.length} models differ in ${lang}:\n${failures.slice(0, 15).join('\n')}`);
  });
}

// several inputs keyed by name (the runners' JSON reading) and several outputs; the slow starters (JVM, torch) run one
const RUN_CASES: Record<Language, string[]> = {
  numpy: ['keras3/two_inputs_concat', 'keras3/bidir_return_state'],
  js: ['keras3/two_inputs_concat', 'keras3/bidir_return_state'],
  c: ['keras3/two_inputs_concat', 'keras3/bidir_return_state'],
  java: ['keras3/two_inputs_concat'],
  pytorch: ['keras3/bidir_return_state'],
};

for (const lang of LANGUAGES) {
  test(`export ${lang}: ./run builds, prints predict --json output, and --self-test passes on golden.json and fails on a changed one`, async (t) => {
    const missing = toolchain(lang);
    if (missing) {
      t.skip(`${lang} toolchain cannot run here: ${missing}`);
      return;
    }
    const picked = prepared.filter((p) => RUN_CASES[lang].includes(p.id));
    assert.equal(picked.length, RUN_CASES[lang].length, `cases ${RUN_CASES[lang].join(', ')} were exported`);
    for (const p of picked) {
      const dir = p.dirs[lang];
      const out = await runScript(dir, [p.input]);
      assert.equal(out.code, 0, `${p.id} ${lang}: ./run failed: ${out.stderr.slice(0, 500)}`);
      const json = JSON.parse(out.stdout) as { outputs: unknown[]; outputNames: string[] };
      const golden = JSON.parse(readFileSync(join(dir, 'golden.json'), 'utf8')) as { outputs: unknown[]; outputNames: string[] };
      assert.deepEqual(json.outputNames, golden.outputNames, `${p.id}: output names as predict --json`);
      const flat = (v: unknown): number[] => (Array.isArray(v) ? v.flatMap(flat) : [v as number]);
      assert.equal(compare(p, lang, json.outputs.map(flat)), null, `${p.id} ${lang}: ./run output`);
      if (lang === 'c') {
        // the generated C is clean C99: no warning even with -pedantic -Wall -Wextra
        const cc = spawnSync('cc', ['-std=c99', '-pedantic', '-Wall', '-Wextra', '-Werror', '-O2', '-c', 'model.c', '-o', join(root, 'pedantic.o')], { cwd: dir, encoding: 'utf8' });
        assert.equal(cc.status, 0, `${p.id}: cc -pedantic -Wall -Wextra: ${cc.stderr.slice(0, 800)}`);
      }
      const self = await runScript(dir, ['--self-test']);
      assert.equal(self.code, 0, `${p.id} ${lang}: self-test: ${self.stdout}${self.stderr.slice(0, 500)}`);
      if (p !== picked[0]) continue;
      // a golden.json with one number changed must fail the self-test
      const changed = structuredClone(golden) as { outputs: number[][] };
      const bump = (v: unknown): unknown => (Array.isArray(v) ? [bump(v[0]), ...v.slice(1)] : (v as number) + 0.5);
      changed.outputs[0] = bump(changed.outputs[0]) as number[];
      writeFileSync(join(dir, 'golden.json'), JSON.stringify(changed));
      const bad = await runScript(dir, ['--self-test']);
      writeFileSync(join(dir, 'golden.json'), JSON.stringify(golden));
      assert.equal(bad.code, 1, `${p.id} ${lang}: self-test must fail on a changed golden.json: ${bad.stdout}`);
    }
  });
}
