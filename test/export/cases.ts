/**
 * The models the export test runs in every language, each with its source of truth:
 *   keras3/<case>       Keras 3.15.1's own model.predict output (expected.json) for input.json
 *   keras3-real/<case>  the same, from the project's own Keras-made cases (test/fixtures/keras3-real, written by
 *                       test/keras3-real/generate.py): stacked cells, padding/cropping, normalization, Permute
 *   keras-js <case>     the Keras 2 outputs stored by the keras-js notebooks (rounded to 6 decimals)
 *   dl4j examples       Keras 1.2.2 / 2.1.3 predictions stored in *_inputs_and_outputs.h5
 *   dl4j tfkeras, masking, functional; the project's fixtures (Keras 1/2/3 writers, CuDNN layers):
 *                       no Keras output stored; the reference is our engine's predict, which the conformance tests
 *                       hold to Keras (and the tfjs oracle, for tfkeras) — so the export must match the engine.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildModel, type Model } from '../../src/model/graph';
import { openModelFile } from '../../src/formats/open';
import { predict } from '../../src/engine/predict';
import { nestedArray } from '../../src/engine/result-json';
import type { ModelFile, Tensor } from '../../src/model/types';
import { goldenInputs, GOLDEN_STEPS } from '../../src/export/index';
import { buildPlan, freeStepsInputs } from '../../src/export/plan';
import { ROOT as KERAS_JS, caseModelFile, index as kerasJsIndex, type CaseData } from '../conformance/keras-js-cases';
import { fixtureModels } from '../fixtures/models';
import { writeKeras1H5, writeKeras2H5, writeKeras3Keras } from '../fixtures/writers';

const SHARED = join(__dirname, '../../../shared/keras-reference');

export interface Case {
  id: string;
  /** Where the expected numbers come from. */
  truth: 'keras' | 'engine';
  open(): Promise<{ model: Model; close(): void }>;
  /** Writes the input JSON (list or object keyed by input name) and returns its path plus the expected outputs (flat). */
  input(model: Model, dir: string): Promise<{ path: string; expected: number[][] }>;
}

const flat = (v: unknown): number[] => (Array.isArray(v) ? v.flatMap(flat) : [v as number]);

async function fromFile(path: string): Promise<{ model: Model; close(): void }> {
  const file = await openModelFile(path);
  return { model: await buildModel(file), close: () => file.close() };
}

async function fromMemory(file: ModelFile): Promise<{ model: Model; close(): void }> {
  return { model: await buildModel(file), close: () => file.close() };
}

/** An engine-referenced input: the golden input drawn for the plan, the engine's output. */
async function engineInput(model: Model, dir: string): Promise<{ path: string; expected: number[][] }> {
  const plan = buildPlan(model, 'numpy', freeStepsInputs(model).length ? GOLDEN_STEPS : undefined);
  const inputs = goldenInputs(plan);
  const result = await predict(model, inputs);
  const path = join(dir, 'input.json');
  writeFileSync(path, JSON.stringify(Object.fromEntries(plan.inputs.map((i, k) => [i.name, nestedArray(inputs[k])]))));
  return { path, expected: result.outputs.map((t) => Array.from(t.data)) };
}

function writeInputs(model: Model, tensors: Tensor[], dir: string): string {
  const path = join(dir, 'input.json');
  writeFileSync(path, JSON.stringify(Object.fromEntries(model.inputNames.map((n, k) => [n, nestedArray(tensors[k])]))));
  return path;
}

export function keras3Cases(): Case[] {
  const root = join(SHARED, 'keras3');
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((d) => existsSync(join(root, d, 'model.keras')))
    .sort()
    .map((d) => ({
      id: `keras3/${d}`,
      truth: 'keras' as const,
      open: () => fromFile(join(root, d, 'model.keras')),
      input: async () => ({
        path: join(root, d, 'input.json'),
        expected: (JSON.parse(readFileSync(join(root, d, 'expected.json'), 'utf8')) as { outputs: unknown[] }).outputs.map(flat),
      }),
    }));
}

/** test/fixtures/keras3-real: each case's model.keras against Keras's expected.json (laid out like keras3/). */
export function keras3RealCases(): Case[] {
  const root = join(__dirname, '../fixtures/keras3-real');
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((d) => existsSync(join(root, d, 'model.keras')) && existsSync(join(root, d, 'expected.json')))
    .sort()
    .map((d) => ({
      id: `keras3-real/${d}`,
      truth: 'keras' as const,
      open: () => fromFile(join(root, d, 'model.keras')),
      input: async () => ({
        path: join(root, d, 'input.json'),
        expected: (JSON.parse(readFileSync(join(root, d, 'expected.json'), 'utf8')) as { outputs: unknown[] }).outputs.map(flat),
      }),
    }));
}

export function kerasJsCases(): Case[] {
  const out: Case[] = [];
  for (const [file, entry] of Object.entries(kerasJsIndex.files)) {
    const fixtures = JSON.parse(readFileSync(join(KERAS_JS, file), 'utf8')) as Record<string, CaseData>;
    for (const [key, c] of Object.entries(entry.cases)) {
      // stateful cases: Keras's expected value is the SECOND predict of one session; an export starts from zeros
      if (c.stateful) continue;
      const data = fixtures[key];
      out.push({
        id: `keras-js ${key}`,
        truth: 'keras',
        open: () => fromMemory(caseModelFile(key, c, data)),
        input: async (model, dir) => ({
          path: writeInputs(model, [{ shape: [1, ...data.input.shape], data: Float64Array.from(data.input.data) }], dir),
          expected: [data.expected.data],
        }),
      });
    }
  }
  return out;
}

type H5 = any; // eslint-disable-line @typescript-eslint/no-explicit-any
async function readH5(path: string, dataset: string): Promise<Tensor> {
  const h5wasm: any = await import('h5wasm/node'); // eslint-disable-line @typescript-eslint/no-explicit-any
  await h5wasm.ready;
  const f: H5 = new h5wasm.File(path, 'r');
  try {
    const ds = f.get(dataset);
    return { shape: [...ds.shape], data: Float64Array.from(ds.value as ArrayLike<number>) };
  } finally {
    f.close();
  }
}

export function dl4jCases(): Case[] {
  const ex = join(SHARED, 'dl4j', 'examples');
  if (!existsSync(ex)) return [];
  const stored: [string, string, string, string][] = [
    ['simple_lstm/simple_lstm_tf_keras_1_model.h5', 'simple_lstm/simple_lstm_tf_keras_1_inputs_and_outputs.h5', 'inputs/lstm_input_1', 'predictions/dense_1'],
    ['simple_lstm/simple_lstm_th_keras_1_model.h5', 'simple_lstm/simple_lstm_th_keras_1_inputs_and_outputs.h5', 'inputs/lstm_input_1', 'predictions/dense_1'],
    ['simple_rnn/simple_rnn_tf_keras_2_model.h5', 'simple_rnn/simple_rnn_tf_keras_2_inputs_and_outputs.h5', 'inputs/simple_rnn_1_input', 'predictions/dense_1'],
    ['simple_flatten_lstm/simple_flatten_lstm_tf_keras_2_model.h5', 'simple_flatten_lstm/simple_flatten_lstm_tf_keras_2_inputs_and_outputs.h5', 'inputs/lstm_1_input', 'predictions/dense_1'],
    ['simple_flatten_rnn/simple_flatten_rnn_tf_keras_2_model.h5', 'simple_flatten_rnn/simple_flatten_rnn_tf_keras_2_inputs_and_outputs.h5', 'inputs/simple_rnn_1_input', 'predictions/dense_1'],
  ];
  const cases: Case[] = stored.map(([model, io, inName, outName]) => ({
    id: `dl4j ${model}`,
    truth: 'keras' as const,
    open: () => fromFile(join(ex, model)),
    input: async (m: Model, dir: string) => {
      const x = await readH5(join(ex, io), inName);
      const y = await readH5(join(ex, io), outName);
      return { path: writeInputs(m, [x], dir), expected: [Array.from(y.data)] };
    },
  }));
  const engineOnly = ['masking/masking_zero_lstm.h5', 'masking/masking_two_lstm.h5', 'functional_lstm/lstm_functional_tf_keras_2.h5'].map((f) => join(ex, f));
  const tfk = join(SHARED, 'dl4j', 'tfkeras');
  if (existsSync(tfk)) for (const f of readdirSync(tfk).filter((n) => n.endsWith('.h5')).sort()) engineOnly.push(join(tfk, f));
  for (const path of engineOnly) {
    cases.push({ id: `dl4j ${path.split('/dl4j/')[1]}`, truth: 'engine', open: () => fromFile(path), input: engineInput });
  }
  return cases;
}

/** The project's fixture models written as Keras 2, Keras 1 and Keras 3 files into `dir`. */
export async function fixtureCases(dir: string): Promise<Case[]> {
  const cases: Case[] = [];
  for (const m of fixtureModels()) {
    const p2 = join(dir, `${m.id}.keras2.h5`);
    await writeKeras2H5(p2, { modelConfig: m.keras2Config, layers: m.layers });
    cases.push({ id: `fixture ${m.id} (Keras 2)`, truth: 'engine', open: () => fromFile(p2), input: engineInput });
    if (m.keras1Config) {
      const p1 = join(dir, `${m.id}.keras1.h5`);
      await writeKeras1H5(p1, { modelConfig: m.keras1Config, layers: m.layers, backend: 'tensorflow' });
      cases.push({ id: `fixture ${m.id} (Keras 1)`, truth: 'engine', open: () => fromFile(p1), input: engineInput });
    }
    if (m.keras3Config) {
      const p3 = join(dir, `${m.id}.keras`);
      await writeKeras3Keras(p3, { config: m.keras3Config, layers: m.layers });
      cases.push({ id: `fixture ${m.id} (Keras 3)`, truth: 'engine', open: () => fromFile(p3), input: engineInput });
    }
  }
  return cases;
}
