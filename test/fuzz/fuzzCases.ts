/**
 * Seeded mutation fuzzing of model files. One case = (format, seed): pick a corpus file, mutate its bytes (bit flips,
 * byte runs, truncation) or its structure (Keras config JSON edits, zip entry edits), write it to a temp file, then
 * run openModelFile -> inspectModel -> buildModel -> predict in process. Any thrown value must be a KerasLensError
 * with one line that starts with the file's path.
 *
 * Reproduce one case: `node --import tsx test/fuzz/fuzzWorker.ts <format> <seed> 1 <dir>` (prints the outcome).
 */
import { readFileSync, writeFileSync, mkdirSync, copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { strToU8, unzipSync, zipSync } from 'fflate';
import { seededRandom, fixtureModels } from '../fixtures/models';
import { writeKeras2H5, writeKeras3Keras, writeTfjsModel, type RawModelConfig } from '../fixtures/writers';
import { KerasLensError, type Tensor } from '../../src/model/types';
import { openModelFile, inspectModel, buildModel, predict } from '../../src/index';
import { tensorKey } from '../../src/model/graph';

export type FuzzFormat = 'h5' | 'keras' | 'json' | 'tfjs' | 'h5attr';
export const FUZZ_FORMATS: FuzzFormat[] = ['h5', 'keras', 'json', 'tfjs', 'h5attr'];

const DL4J = join(__dirname, '../../../shared/keras-reference/dl4j');
const DL4J_FILES = [
  'examples/functional_lstm/lstm_functional_tf_keras_2.h5',
  'examples/masking/masking_zero_lstm.h5',
  'examples/simple_lstm/simple_lstm_tf_keras_1_model.h5',
  'examples/simple_rnn/simple_rnn_tf_keras_2_model.h5',
  'tfkeras/rnn_6.h5',
];

export interface Corpus {
  dir: string;
  h5: string[];
  keras: string[];
  /** raw Keras 2 model configs (JSON text) + the weights they go with, for structure-aware mutation */
  configs: { text: string; modelId: string }[];
  /** TF.js model.json paths (shards beside them) */
  tfjs: string[];
}

/** Copies/writes the seed files into `dir` (never touching ../shared). */
export async function prepareCorpus(dir: string): Promise<Corpus> {
  mkdirSync(join(dir, 'corpus'), { recursive: true });
  const h5: string[] = [];
  for (const rel of DL4J_FILES) {
    const src = join(DL4J, rel);
    if (!existsSync(src)) continue;
    const dst = join(dir, 'corpus', rel.replace(/\//g, '__'));
    copyFileSync(src, dst);
    h5.push(dst);
  }
  const models = fixtureModels().filter((m) => ['lstm', 'gru_reset_after', 'bidirectional_lstm', 'two_input'].includes(m.id));
  const keras: string[] = [];
  for (const m of models) {
    const p = join(dir, 'corpus', `${m.id}.h5`);
    await writeKeras2H5(p, { modelConfig: m.keras2Config, layers: m.layers });
    h5.push(p);
    if (m.keras3Config) {
      const k = join(dir, 'corpus', `${m.id}.keras`);
      await writeKeras3Keras(k, { config: m.keras3Config, layers: m.layers });
      keras.push(k);
    }
  }
  const configs = models.map((m) => ({ text: JSON.stringify(m.keras2Config), modelId: m.id }));
  const tfjs = models.map((m) => writeTfjsModel(join(dir, 'corpus', `tfjs-${m.id}`), { modelConfig: m.keras2Config, layers: m.layers }));
  return { dir, h5, keras, configs, tfjs };
}

type Rand = () => number;
const int = (r: Rand, n: number) => Math.floor(r() * n);

/** Byte-level mutation: bit flips, byte runs, truncation, duplication; positions biased to the metadata at the start. */
export function mutateBytes(bytes: Uint8Array, r: Rand): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(bytes);
  const pos = () => (r() < 0.5 ? int(r, Math.min(out.length, 4096)) : int(r, out.length));
  const kind = int(r, 5);
  if (kind === 0) {
    const flips = 1 + int(r, 8);
    for (let i = 0; i < flips; i++) {
      const p = pos();
      out[p] ^= 1 << int(r, 8);
    }
    return out;
  }
  if (kind === 1) {
    const p = pos();
    const len = 1 + int(r, 64);
    const fill = [0x00, 0xff, -1][int(r, 3)];
    for (let i = p; i < Math.min(out.length, p + len); i++) out[i] = fill < 0 ? int(r, 256) : fill;
    return out;
  }
  if (kind === 2) return out.subarray(0, int(r, out.length));
  if (kind === 3) {
    // 32/64-bit little-endian fields set to extreme values (lengths, addresses, dimension sizes)
    const p = pos() & ~3;
    const v = [0xffffffff, 0x7fffffff, 0x80000000, 0, 1, 0x10000][int(r, 6)];
    if (p + 4 <= out.length) new DataView(out.buffer, out.byteOffset).setUint32(p, v >>> 0, true);
    return out;
  }
  // duplicate a block elsewhere
  const a = pos();
  const b = pos();
  const len = 1 + int(r, 256);
  out.copyWithin(b, a, Math.min(out.length, a + len));
  return out;
}

const EXTREMES: unknown[] = [0, -1, 1e9, 2 ** 31, -(2 ** 53), 1.5, NaN, null, '', 'x', true, [], {}, [[[]]], 'relu', 'Dense', 'tanh', '__proto__'];

/** Structure-aware mutation of a Keras config: change numbers, delete keys, swap values, rename classes. */
export function mutateConfig(text: string, r: Rand): string {
  const root = JSON.parse(text) as unknown;
  const slots: { parent: Record<string, unknown> | unknown[]; key: string | number }[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach((x, i) => (slots.push({ parent: v, key: i }), walk(x)));
    else if (v && typeof v === 'object') for (const k of Object.keys(v)) slots.push({ parent: v as Record<string, unknown>, key: k }), walk((v as Record<string, unknown>)[k]);
  };
  walk(root);
  const edits = 1 + int(r, 3);
  for (let e = 0; e < edits && slots.length; e++) {
    const s = slots[int(r, slots.length)];
    const op = int(r, 4);
    const parent = s.parent as Record<string | number, unknown>;
    if (op === 0 && !Array.isArray(s.parent)) delete parent[s.key];
    else if (op === 1 && typeof parent[s.key] === 'number') parent[s.key] = (parent[s.key] as number) * [0, -1, 2, 1000, 0.5][int(r, 5)];
    else if (op === 2 && typeof parent[s.key] === 'string' && s.key === 'class_name') parent[s.key] = ['LSTM', 'GRU', 'Dense', 'Bidirectional', 'Nope', 'InputLayer'][int(r, 6)];
    else parent[s.key] = EXTREMES[int(r, EXTREMES.length)];
  }
  let out = JSON.stringify(root);
  if (r() < 0.1) out = out.slice(0, int(r, out.length)); // broken JSON
  if (r() < 0.05) out = out.replace('"config":', '"config":' + '['.repeat(5000) + ']'.repeat(5000) + ',"config":');
  return out;
}

type H5Node = { path: string; attrs: Record<string, unknown>; keys?: () => string[]; get?: (k: string) => unknown; delete_attribute?: (n: string) => number; create_attribute?: (...a: unknown[]) => unknown; create_dataset?: (a: unknown) => unknown };

const ATTR_VALUES: [string, () => [unknown, number[] | null, string | null]][] = [
  ['a float64 array', () => [new Float64Array([1, 2, 3]), [3], null]],
  ['an empty float64 array', () => [new Float64Array(0), [0], null]],
  ['an int32 scalar', () => [new Int32Array([7]), null, null]],
  ['a 1 MB string', () => ['x'.repeat(1 << 20), null, null]],
  ['a string of JSON garbage', () => ['{"class_name": [[[', null, null]],
  ['a list of 10000 names', () => [Array.from({ length: 10000 }, (_, i) => `layer_${i}`), [10000], 'S12']],
  ['an empty string', () => ['', null, null]],
  ['a list with an empty name', () => [['', 'dense_1'], [2], 'S8']],
  ['names of a missing layer', () => [['no_such_layer'], [1], 'S13']],
];

/** Opens `src` in memory, rewrites one attribute (or adds a dataset), writes the result to `dst`; says what it did. */
async function rewriteHdf5(src: string, dst: string, r: Rand): Promise<string> {
  const h5 = (await import('h5wasm')) as unknown as {
    ready: Promise<unknown>;
    File: new (p: string, m: string) => H5Node & { close(): void };
    FS: { writeFile(p: string, d: Uint8Array): void; readFile(p: string): Uint8Array; unlink(p: string): void };
  };
  await h5.ready;
  const name = `/fuzz-attr-${process.pid}.h5`;
  h5.FS.writeFile(name, readFileSync(src));
  let what = 'nothing';
  try {
    const f = new h5.File(name, 'a');
    try {
      // every group, depth first
      const groups: H5Node[] = [];
      const walk = (g: H5Node, depth: number) => {
        groups.push(g);
        if (depth > 6 || !g.keys) return;
        for (const k of g.keys()) {
          const c = g.get!(k) as H5Node | null;
          if (c && typeof c.keys === 'function') walk(c, depth + 1);
        }
      };
      walk(f, 0);
      const g = groups[int(r, groups.length)];
      const attrs = Object.keys(g.attrs);
      const [label, make] = ATTR_VALUES[int(r, ATTR_VALUES.length)];
      const [value, shape, dtype] = make();
      const target = attrs.length && r() < 0.8 ? attrs[int(r, attrs.length)] : ['layer_names', 'weight_names', 'model_config', 'keras_version'][int(r, 4)];
      if (attrs.includes(target)) g.delete_attribute!(target);
      g.create_attribute!(target, value, shape, dtype);
      what = `attribute ${g.path}:${target} set to ${label}`;
    } finally {
      f.close();
    }
    writeFileSync(dst, h5.FS.readFile(name));
  } catch (e) {
    // the rewrite itself failed (h5wasm refused the value): use the original bytes
    writeFileSync(dst, readFileSync(src));
    what = `unchanged (rewrite failed: ${String(e).slice(0, 60)})`;
  } finally {
    try {
      h5.FS.unlink(name);
    } catch {
      /* gone */
    }
  }
  return what;
}

export interface Outcome {
  format: FuzzFormat;
  seed: number;
  file: string;
  /** how the case was made */
  mutation: string;
  stage: 'open' | 'inspect' | 'build' | 'predict' | 'done';
  /** null when everything worked */
  error: null | { clean: boolean; kind: string; message: string };
}

/** One input tensor per model input, shaped from the declared shapes (batch 1, unknown steps 3); null if too big. */
function inputsFor(model: Awaited<ReturnType<typeof buildModel>>): Tensor[] | null {
  const out: Tensor[] = [];
  for (const ref of model.inputs) {
    const declared = model.shapes.get(tensorKey(ref));
    if (!declared) return null;
    const shape = declared.map((d, i) => (d === null ? (i === 0 ? 1 : 3) : d));
    const n = shape.reduce((a, b) => a * b, 1);
    if (!Number.isSafeInteger(n) || n <= 0 || n > 100_000) return null;
    const data = new Float64Array(n);
    for (let i = 0; i < n; i++) data[i] = ((i * 7919) % 17) / 17 - 0.5;
    out.push({ shape, data });
  }
  return out;
}

/** Makes the mutated file for (format, seed) and runs it through the core. */
export async function runCase(corpus: Corpus, format: FuzzFormat, seed: number): Promise<Outcome> {
  const r = seededRandom(seed * 2654435761 + FUZZ_FORMATS.indexOf(format));
  const caseDir = join(corpus.dir, 'cases');
  mkdirSync(caseDir, { recursive: true });
  let file: string;
  let mutation: string;
  if (format === 'h5') {
    const src = corpus.h5[int(r, corpus.h5.length)];
    file = join(caseDir, `h5-${seed}.h5`);
    writeFileSync(file, mutateBytes(readFileSync(src), r));
    mutation = `bytes of ${src.split('/').pop()}`;
  } else if (format === 'keras') {
    const src = corpus.keras[int(r, corpus.keras.length)];
    file = join(caseDir, `keras-${seed}.keras`);
    const bytes = readFileSync(src);
    if (r() < 0.5) {
      writeFileSync(file, mutateBytes(bytes, r));
      mutation = `zip bytes of ${src.split('/').pop()}`;
    } else {
      const entries = unzipSync(bytes);
      const which = ['config.json', 'metadata.json', 'model.weights.h5'][int(r, 3)];
      if (which === 'model.weights.h5') entries[which] = mutateBytes(entries[which], r);
      else if (r() < 0.2) delete entries[which];
      else entries[which] = strToU8(mutateConfig(new TextDecoder().decode(entries[which]), r));
      writeFileSync(file, zipSync(entries));
      mutation = `entry ${which} of ${src.split('/').pop()}`;
    }
  } else if (format === 'h5attr') {
    // HDF5 structure: a Keras attribute or dataset rewritten with another type, shape or size
    const src = corpus.h5[int(r, corpus.h5.length)];
    file = join(caseDir, `h5attr-${seed}.h5`);
    mutation = `${await rewriteHdf5(src, file, r)} in ${src.split('/').pop()}`;
  } else if (format === 'tfjs') {
    // model.json mutated structurally (topology and weightsManifest), or its shard's bytes cut/flipped
    const src = corpus.tfjs[int(r, corpus.tfjs.length)];
    const caseDir2 = join(caseDir, `tfjs-${seed}`);
    mkdirSync(caseDir2, { recursive: true });
    const json = readFileSync(src, 'utf8');
    const manifest = JSON.parse(json) as { weightsManifest: { paths: string[] }[] };
    const shard = manifest.weightsManifest[0].paths[0];
    const shardBytes = readFileSync(join(src, '..', shard));
    file = join(caseDir2, 'model.json');
    if (r() < 0.6) {
      writeFileSync(file, mutateConfig(json, r));
      writeFileSync(join(caseDir2, shard), shardBytes);
      mutation = `model.json of ${src.split('/').slice(-2, -1)[0]}`;
    } else {
      writeFileSync(file, json);
      writeFileSync(join(caseDir2, shard), mutateBytes(shardBytes, r));
      mutation = `shard of ${src.split('/').slice(-2, -1)[0]}`;
    }
  } else {
    // a Keras config mutated structurally, stored as model_config of an .h5 with the original weights
    const c = corpus.configs[int(r, corpus.configs.length)];
    const m = fixtureModels().find((x) => x.id === c.modelId)!;
    const text = mutateConfig(c.text, r);
    file = join(caseDir, `json-${seed}.h5`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = null;
    }
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
      await writeKeras2H5(file, { modelConfig: parsed as RawModelConfig, layers: m.layers, layerNames: m.layers.map((l) => l.name) });
    } else {
      // not an object: write the architecture as a .json model file
      file = join(caseDir, `json-${seed}.json`);
      writeFileSync(file, text);
    }
    mutation = `config of ${c.modelId}`;
  }
  return runFile(format, seed, file, mutation);
}

export async function runFile(format: FuzzFormat, seed: number, file: string, mutation: string): Promise<Outcome> {
  let stage: Outcome['stage'] = 'open';
  try {
    const mf = await openModelFile(file);
    try {
      stage = 'inspect';
      await inspectModel(mf);
      if (!mf.model) return { format, seed, file, mutation, stage: 'done', error: null };
      stage = 'build';
      const model = await buildModel(mf);
      stage = 'predict';
      const inputs = inputsFor(model);
      if (inputs) await predict(model, inputs);
    } finally {
      mf.close();
    }
    return { format, seed, file, mutation, stage: 'done', error: null };
  } catch (e) {
    return { format, seed, file, mutation, stage, error: classify(e, file) };
  }
}

/** Clean = KerasLensError, one line, starting with the file's path. */
export function classify(e: unknown, file: string): { clean: boolean; kind: string; message: string } {
  if (e instanceof KerasLensError) {
    const msg = e.message;
    const clean = !/[\r\n]/.test(msg) && msg.startsWith(`${file}: `) && msg.length < 1000;
    return { clean, kind: 'KerasLensError', message: msg.slice(0, 1000) };
  }
  const kind = e instanceof Error ? e.constructor.name : typeof e;
  let message: string;
  try {
    message = e instanceof Error ? `${e.message}\n${(e.stack ?? '').split('\n').slice(1, 6).join('\n')}` : String(e);
  } catch {
    message = '(unprintable)';
  }
  return { clean: false, kind, message: message.slice(0, 1500) };
}
