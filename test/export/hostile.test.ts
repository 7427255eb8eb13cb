/**
 * Hostile layer names cannot inject code into any of the five exported languages: names built to close a string,
 * a comment or a docstring, start a C trigraph, a Java unicode escape or a JS template, or hold line separators.
 * Source of truth: the engine's own predict of the same in-memory model (golden.json) and the names themselves —
 * each exported predictor must run, pass its self-test, print the names exactly as given, and no file named PWNED
 * may appear anywhere. Also: the plan refuses an unknown layer in one line naming it and the language.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildModel } from '../../src/model/graph';
import { exportPredictor } from '../../src/export/index';
import { LANGUAGES } from '../../src/export/plan';
import { KerasLensError } from '../../src/model/types';
import { writeExport } from '../../src/cli/export';
import { inputLayer, layer, memoryFile, modelConfig, ref } from '../engine/memoryModel';
import { runScript, toolchain } from './harness';

const NAMES = [
  `in"put'\n# \\ */ ?? ??/`,
  `*/ #include <stdlib.h>\nint pwn = system("touch PWNED"); /* """; import os; os.system('touch PWNED'); """`,
  `\\u000a}static{try{Runtime.getRuntime().exec("touch PWNED");}catch(Exception e){}}// \${require('fs').writeFileSync('PWNED','')} \` \u2028\u2029 ‮rtl`,
];

let root = '';
before(() => {
  root = mkdtempSync(join(tmpdir(), 'keras-lens-export-hostile-'));
});
after(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

function hostileModel() {
  const [a, b, c] = NAMES;
  const rnd = (n: number, seed: number) => Array.from({ length: n }, (_, i) => Math.sin(seed * 97 + i * 13.1) * 0.5);
  const config = modelConfig(
    [inputLayer(a, [4, 3]), layer(b, 'LSTM', { units: 2, return_sequences: true }, [ref(a)]), layer(c, 'Dense', { units: 2, activation: 'tanh' }, [ref(b)])],
    [ref(a)],
    [ref(c)],
  );
  return memoryFile(config, {
    [b]: [
      { name: `${b}/kernel:0`, shape: [3, 8], data: rnd(24, 1) },
      { name: `${b}/recurrent_kernel:0`, shape: [2, 8], data: rnd(16, 2) },
      { name: `${b}/bias:0`, shape: [8], data: rnd(8, 3) },
    ],
    [c]: [
      { name: `${c}/kernel:0`, shape: [2, 2], data: rnd(4, 4) },
      { name: `${c}/bias:0`, shape: [2], data: rnd(2, 5) },
    ],
  });
}

function pwned(dir: string): string[] {
  const found: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) if (e.name === 'PWNED') found.push(e.name);
  return found;
}

for (const lang of LANGUAGES) {
  test(`export ${lang}: hostile layer names stay names (runs, self-test passes, names printed exactly, nothing injected)`, async (t) => {
    const missing = toolchain(lang);
    if (missing) {
      t.skip(`${lang} toolchain cannot run here: ${missing}`);
      return;
    }
    const model = await buildModel(hostileModel());
    const r = await exportPredictor(model, lang);
    const dir = join(root, lang);
    writeExport(dir, r.files, { force: false, protect: [] });
    const self = await runScript(dir, ['--self-test']);
    assert.equal(self.code, 0, `self-test: ${self.stdout} ${self.stderr.slice(0, 1500)}`);
    const out = await runScript(dir, [join(dir, 'golden.json')]);
    assert.equal(out.code, 0, out.stderr.slice(0, 800));
    const json = JSON.parse(out.stdout) as { outputNames: string[] };
    assert.deepEqual(json.outputNames, [NAMES[2]], 'the output name is printed exactly');
    assert.deepEqual(pwned(root), [], 'no injected code ran');
    assert.ok(!existsSync(join(process.cwd(), 'PWNED')));
  });
}

test('export: an unknown layer is refused in one line naming the layer and the language; nothing is returned', async () => {
  const config = modelConfig(
    [inputLayer('x', [4, 3]), layer('attention_1', 'MultiHeadAttention', { num_heads: 2, key_dim: 2 }, [ref('x'), ref('x')])],
    [ref('x')],
    [ref('attention_1')],
  );
  const model = await buildModel(memoryFile(config, {}));
  model.bindAll = async () => {};
  await assert.rejects(
    () => exportPredictor(model, 'c'),
    (err: unknown) =>
      err instanceof KerasLensError && /cannot export layer 'attention_1' \(MultiHeadAttention\) to c: /.test(err.problem) && !err.message.includes('\n'),
  );
});
