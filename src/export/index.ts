/**
 * `keras-lens export`: a Model (weights bound) → the files of a standalone predictor in one language, plus
 * README.md, golden.json (an input and the output our engine computes for it) and an executable POSIX `run`.
 * Nothing here touches the disk: the caller (CLI, extension) writes the returned files (see writeExport).
 */
import type { Model } from '../model/graph';
import { KerasLensError, type Tensor } from '../model/types';
import { predict } from '../engine/predict';
import { nestedArray } from '../engine/result-json';
import { buildPlan, freeStepsInputs, LANGUAGES, type Language, type Plan } from './plan';
import { SENTINEL_STEPS, stepsGeneric } from './free-steps';
import { emitNumpy } from './emit-numpy';
import { emitJs } from './emit-js';
import { emitC } from './emit-c';
import { emitJava } from './emit-java';
import { emitPytorch } from './emit-pytorch';
import { readme } from './readme';
import { commentText } from './names';

/**
 * How `./run` (and the tests and the bench, so they check what users build) compile the C predictor: portable
 * `-O3` (the vectorizer on its generic baseline), no `-march=native`. On this project's AVX-512 host gcc 12.2 with
 * `-march=native` (rocketlake, also skylake-avx512 / x86-64-v4) miscompiled two exported predictors, an LSTM and a
 * dilated causal Conv1D, by 300-4400x the tolerance in the loop vectorizer, while -O0, -O2, -O3 generic, ASan/UBSan
 * and valgrind all agree with Keras. Users who want the host's vector units can add flags; the tests check these.
 */
export const C_BUILD_FLAGS: readonly string[] = ['-std=c99', '-O3', '-ffp-contract=fast'];
import { seededRandom } from '../kernels/seeded-random';

export { buildPlan, LANGUAGES, type Language, type Plan } from './plan';

export interface ExportFile {
  path: string;
  content: string | Uint8Array;
  executable?: boolean;
}

export interface ExportResult {
  language: Language;
  files: ExportFile[];
  plan: Plan;
}

/** A golden input of 2 samples: integers for Embedding inputs (some 0), masked steps for Masking inputs, else uniform [-1, 1). */
export function goldenInputs(plan: Plan, batch = 2): Tensor[] {
  const rnd = seededRandom(20261201);
  return plan.inputs.map((inp) => {
    const shape = [batch, ...inp.tensor.shape];
    const data = new Float64Array(batch * inp.tensor.size);
    for (let k = 0; k < data.length; k++) {
      data[k] = inp.indices ? Math.floor(rnd() * inp.indices.count) : Math.round((rnd() * 2 - 1) * 1e6) / 1e6;
    }
    const steps = inp.tensor.shape[0];
    const per = inp.tensor.size / steps;
    if (inp.indices && inp.tensor.shape.length === 1 && steps > 2) {
      // sample 0 ends with two padding indices, sample 1 starts with one
      data[steps - 1] = 0;
      data[steps - 2] = 0;
      if (batch > 1) data[steps] = 0;
    }
    if (inp.maskValue !== null && inp.tensor.shape.length === 2 && steps > 2) {
      for (let k = 0; k < per; k++) {
        data[(steps - 1) * per + k] = inp.maskValue;
        data[(steps - 2) * per + k] = inp.maskValue;
        if (batch > 1) data[steps * per + k] = inp.maskValue;
      }
    }
    return { shape, data };
  });
}

/** The languages whose predictors take the steps from the input at call time (a free steps axis). */
export const FREE_STEPS_LANGUAGES: Language[] = ['numpy', 'js', 'java', 'pytorch', 'c'];

/** Steps of the golden input of a model with a free steps axis (more than 2, so that masked steps fit). */
export const GOLDEN_STEPS = 7;

export async function exportPredictor(model: Model, language: Language): Promise<ExportResult> {
  if (!LANGUAGES.includes(language)) {
    throw new KerasLensError(null, `unknown language '${commentText(String(language), 20)}' (use ${LANGUAGES.join(', ')})`);
  }
  await model.bindAll();
  const free = freeStepsInputs(model).length > 0;
  if (free && !FREE_STEPS_LANGUAGES.includes(language)) {
    throw new KerasLensError(model.file.source, `cannot export to ${language}: the model's input has a free steps axis (None); so far ${FREE_STEPS_LANGUAGES.join(', ')} export variable-length sequences (fix the steps in the input shape for ${language})`);
  }
  // a free steps axis: the golden input has GOLDEN_STEPS steps; the code is built for any steps (free-steps.ts)
  const plan = buildPlan(model, language, free ? GOLDEN_STEPS : undefined);
  const inputs = goldenInputs(plan);
  const result = await predict(model, inputs);
  const golden = {
    about: 'an input and the output Keras Lens computed for it (float64); ./run --self-test checks the exported code against it',
    inputs: Object.fromEntries(plan.inputs.map((inp, k) => [inp.name, nestedArray(inputs[k])])),
    outputs: result.outputs.map(nestedArray),
    outputNames: result.outputNames,
  };
  const header = [
    `Keras Lens export of model ${commentText(plan.modelName, 60)} from ${commentText(basename(plan.source), 80)} (Keras ${commentText(plan.kerasVersion ?? 'version not recorded', 30)}).`,
    'Generated code: predicts like Keras model.predict. See README.md.',
  ];
  const files: ExportFile[] = [];
  if (free) {
    // the code for any steps: built at the two sentinel step counts, sizes written in steps (free-steps.ts)
    const [a, b] = SENTINEL_STEPS.map((n) => buildPlan(model, language, n));
    const fa = sourceFiles(a, language, header);
    const fb = sourceFiles(b, language, header);
    fa.forEach((f, k) => files.push(typeof f.content === 'string' ? { ...f, content: stepsGeneric(model.file.source, [f.content, fb[k].content as string], 'steps', f.path) } : f));
  } else files.push(...sourceFiles(plan, language, header));
  files.push({ path: 'golden.json', content: JSON.stringify(golden) + '\n' });
  files.push({ path: 'run', content: runScript(language), executable: true });
  const notes = free ? stepsGeneric(model.file.source, SENTINEL_STEPS.map((n) => readme(buildPlan(model, language, n), language, GOLDEN_STEPS)) as [string, string], 'steps', 'README.md') : readme(plan, language);
  files.push({ path: 'README.md', content: notes });
  return { language, files, plan };
}

function sourceFiles(plan: Plan, language: Language, header: string[]): ExportFile[] {
  switch (language) {
    case 'numpy':
      return [{ path: 'model.py', content: emitNumpy(plan, header) }];
    case 'js':
      return emitJs(plan, header);
    case 'c':
      return emitC(plan, header);
    case 'java':
      return emitJava(plan, header);
    case 'pytorch':
      return emitPytorch(plan, header);
  }
}

function basename(p: string): string {
  return p.split(/[\\/]/).pop() ?? p;
}

/** The POSIX sh `run`: ./run INPUT.json | ./run --self-test. Builds (gcc, javac) when the build is missing or older. */
export function runScript(language: Language): string {
  const head = `#!/bin/sh
# ./run INPUT.json     prints {"outputs": [...], "outputNames": [...]} like keras-lens predict --json
# ./run --self-test    runs golden.json's input and compares with its outputs; exit 0 (ok) or 1
#                      (numpy: add --float32 to run in float32)
set -e
here=$(cd "$(dirname "$0")" && pwd)
if [ "$#" -lt 1 ]; then echo "usage: ./run INPUT.json | ./run --self-test" >&2; exit 2; fi
if [ "$1" = "--self-test" ]; then shift; set -- --self-test "$here/golden.json" "$@"; fi
`;
  switch (language) {
    case 'numpy':
      return head + `exec python3 "$here/model.py" "$@"\n`;
    case 'pytorch':
      return head + `exec python3 "$here/model_torch.py" "$@"\n`;
    case 'js':
      return head + `exec node "$here/main.mjs" "$@"\n`;
    case 'c':
      return (
        head +
        `bin="$here/build/predict"
if [ ! -x "$bin" ] || [ "$here/model.c" -nt "$bin" ] || [ "$here/main.c" -nt "$bin" ]; then
  mkdir -p "$here/build"
  \${CC:-cc} ${C_BUILD_FLAGS.join(' ')} -o "$bin" "$here/model.c" "$here/main.c" -lm
fi
exec "$bin" "$@"
`
      );
    case 'java':
      return (
        head +
        `cls="$here/build/KerasModel.class"
if [ ! -f "$cls" ] || [ "$here/KerasModel.java" -nt "$cls" ]; then
  mkdir -p "$here/build"
  javac --release 8 -nowarn -d "$here/build" "$here/KerasModel.java" 2>/dev/null || javac -source 8 -target 8 -nowarn -d "$here/build" "$here/KerasModel.java"
  cp "$here/weights.bin" "$here/build/weights.bin"
fi
exec java -cp "$here/build" KerasModel "$@"
`
      );
  }
}
