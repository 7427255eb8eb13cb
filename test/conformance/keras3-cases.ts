/**
 * Reusable loader and runner for folders of real-Keras cases laid out like ../shared/keras-reference/keras3 (see its
 * README): one folder per case with case.json ({name, files: {format: file}, inputs: [InputLayer names]}),
 * input.json (one nested list, or an object keyed by InputLayer name) and expected.json ({outputs: [one nested
 * list per model output, in model.outputs order]}) — what Keras's own model.predict() returned.
 *
 * Each case is run through the real pipeline: openModelFile (the saved file, and for the weights-only format the
 * saved model.to_json() as the architecture) -> buildModel -> parseInputJson -> predict. Outputs are compared with
 * |ours - keras| <= rtol * max(1, |keras|) (the folder's README rule, rtol = 1e-5).
 *
 * Another helper reuses this module for its own folder of cases: keep it free of a fixed root.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { openModelFile } from '../../src/formats/open';
import { buildModel, formatShape, tensorKey, type Model } from '../../src/model/graph';
import { parseInputJson, predict } from '../../src/engine/predict';
import { inspectModel } from '../../src/explain/inspect';
import type { Tensor } from '../../src/model/types';

/** The saved formats a case may come in, as case.json names them. */
export type CaseFormat = 'keras' | 'h5' | 'weights';

export interface Keras3Case {
  name: string;
  dir: string;
  /** format -> file name inside dir ('config' names the to_json() architecture used with 'weights'). */
  files: Record<string, string>;
  inputs: string[];
}

export interface CaseRun {
  name: string;
  format: CaseFormat;
  /** What predict returned, one tensor per model output. */
  outputs: Tensor[];
  /** What Keras returned, one nested list per model output. */
  expected: unknown[];
  model: Model;
}

/** Every case folder under root (folders with a case.json), sorted by name. */
export function loadCases(root: string): Keras3Case[] {
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((n) => statSync(join(root, n)).isDirectory() && existsSync(join(root, n, 'case.json')))
    .sort()
    .map((n) => {
      const dir = join(root, n);
      const c = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8')) as { name?: string; files: Record<string, string>; inputs?: string[] };
      return { name: c.name ?? n, dir, files: c.files, inputs: c.inputs ?? [] };
    });
}

/** The runnable formats of a case, in a fixed order. */
export function caseFormats(c: Keras3Case): CaseFormat[] {
  const out: CaseFormat[] = [];
  if (c.files.keras) out.push('keras');
  if (c.files.h5) out.push('h5');
  if (c.files.weights && c.files.config) out.push('weights');
  return out;
}

/** Open one case in one format and build its model (the caller closes `model.file`). */
export async function openCase(c: Keras3Case, format: CaseFormat): Promise<Model> {
  const path = join(c.dir, c.files[format]);
  const file = await openModelFile(path, format === 'weights' ? { configPath: join(c.dir, c.files.config) } : {});
  try {
    return await buildModel(file);
  } catch (err) {
    file.close();
    throw err;
  }
}

/** Runs one case in one format through open -> build -> parse input -> predict. */
export async function runCase(c: Keras3Case, format: CaseFormat): Promise<CaseRun> {
  const model = await openCase(c, format);
  try {
    const inputs = parseInputJson(readFileSync(join(c.dir, 'input.json'), 'utf8'), model, join(c.dir, 'input.json'));
    const result = await predict(model, inputs);
    const expected = (JSON.parse(readFileSync(join(c.dir, 'expected.json'), 'utf8')) as { outputs: unknown[] }).outputs;
    return { name: c.name, format, outputs: result.outputs, expected, model };
  } finally {
    model.file.close();
  }
}

/** A nested list -> shape and flat values (row-major). */
export function flatten(v: unknown): { shape: number[]; data: number[] } {
  const shape: number[] = [];
  let p: unknown = v;
  while (Array.isArray(p)) {
    shape.push(p.length);
    p = p[0];
  }
  const data: number[] = [];
  const walk = (x: unknown) => {
    if (Array.isArray(x)) x.forEach(walk);
    else data.push(typeof x === 'boolean' ? Number(x) : (x as number));
  };
  walk(v);
  return { shape, data };
}

/**
 * Compares every output with Keras's: same count, same shapes, and every value within rtol·max(1, |keras|).
 * Returns null when all agree, else one line saying where the worst disagreement is; `worst` is the largest
 * |ours - keras| / max(1, |keras|) over all outputs (for reports).
 */
export function compareOutputs(run: CaseRun, rtol = 1e-5): { problem: string | null; worst: number } {
  if (run.outputs.length !== run.expected.length) {
    return { problem: `${run.outputs.length} outputs, Keras gave ${run.expected.length}`, worst: Infinity };
  }
  let worst = 0;
  for (let o = 0; o < run.outputs.length; o++) {
    const ours = run.outputs[o];
    const keras = flatten(run.expected[o]);
    if (ours.shape.length !== keras.shape.length || ours.shape.some((d, i) => d !== keras.shape[i])) {
      return { problem: `output ${o} has shape ${formatShape(ours.shape)}, Keras gave ${formatShape(keras.shape)}`, worst: Infinity };
    }
    for (let i = 0; i < keras.data.length; i++) {
      const err = Math.abs(ours.data[i] - keras.data[i]) / Math.max(1, Math.abs(keras.data[i]));
      if (!(err <= rtol)) {
        return { problem: `output ${o} value ${i}: ours ${ours.data[i]}, Keras ${keras.data[i]} (error ${err.toExponential(2)} > ${rtol})`, worst: Infinity };
      }
      worst = Math.max(worst, err);
    }
  }
  return { problem: null, worst };
}

/** Layers (first call) whose output shape the graph could not infer: none, for a model predict can run. */
export function unknownShapes(model: Model): string[] {
  return model.layers
    .filter((l) => l.calls.length > 0 && !model.shapes.has(tensorKey({ layer: l.name, node: l.calls[0].node, tensor: 0 })))
    .map((l) => `${l.name} (${l.config.className})`);
}

/**
 * Shapes that inspect reports (first call of each layer) against the shapes predict's graph holds for the same
 * tensors; returns the disagreements (empty when they agree). Both come from the config alone.
 */
export async function shapeDisagreements(c: Keras3Case, format: CaseFormat): Promise<string[]> {
  const model = await openCase(c, format);
  try {
    const report = await inspectModel(model.file);
    const out: string[] = [];
    for (const layer of report.layers) {
      const graphShape = model.shapes.get(tensorKey({ layer: layer.name, node: 0, tensor: 0 })) ?? null;
      const a = formatShape(layer.outputShape ?? null);
      const b = formatShape(graphShape);
      if (a !== b) out.push(`${layer.name}: inspect ${a}, predict ${b}`);
    }
    return out;
  } finally {
    model.file.close();
  }
}

/**
 * The tests of a folder of cases: one per case and format (every output within rtol·max(1, |keras|), every layer's
 * shape inferred, each output's inferred shape = the shape predict returned, batch axis aside), and one that
 * inspect's and predict's shapes agree on every layer. `todo` maps case names to the reason they may still fail
 * (node:test runs them and reports, without failing the suite).
 */
export function defineCaseTests(label: string, cases: Keras3Case[], opts: { rtol?: number; todo?: Record<string, string> } = {}): void {
  const rtol = opts.rtol ?? 1e-5;
  for (const c of cases) {
    for (const format of caseFormats(c)) {
      const todo = opts.todo?.[c.name];
      test(`${label} ${c.name} (${format}) matches Keras predict`, todo ? { todo } : {}, async () => {
        const run = await runCase(c, format);
        const { problem } = compareOutputs(run, rtol);
        assert.equal(problem, null, `${c.name} (${format}): ${problem}`);
        assert.deepEqual(unknownShapes(run.model), [], 'every layer has an inferred output shape');
        run.model.outputs.forEach((ref, i) => {
          const inferred = run.model.shapes.get(tensorKey(ref));
          assert.ok(inferred, `output ${i} (${ref.layer}) has an inferred shape`);
          assert.deepEqual(inferred.slice(1), run.outputs[i].shape.slice(1), `output ${i} (${ref.layer}): inferred vs predicted shape`);
        });
      });
    }
  }
  test(`inspect and predict agree on every layer shape of every ${label} case`, async () => {
    const problems: string[] = [];
    for (const c of cases) {
      for (const format of caseFormats(c)) for (const p of await shapeDisagreements(c, format)) problems.push(`${c.name} (${format}) ${p}`);
    }
    assert.deepEqual(problems, []);
  });
}
