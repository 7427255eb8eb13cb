/**
 * Hostile and broken model/input files for test/hostile and test/fuzz, written into a temp dir (one sub-directory
 * per model file, so a test can check that nothing new appears beside it). Built from the seeded 'lstm' fixture
 * model (Sequential (5,3) -> LSTM(4) -> Dense(2)) and from real Keras files in ../shared/keras-reference (copied,
 * never modified there).
 */
import { mkdirSync, writeFileSync, readFileSync, copyFileSync, readdirSync, statSync, symlinkSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { zipSync, strToU8 } from 'fflate';
import { crc32, deflateRawSync, constants as zlibConstants } from 'node:zlib';
import { fixtureModels, seededRandom } from '../fixtures/models';
import { writeKeras2H5, writeKeras2WeightsH5, writeKeras3Keras, writeTfjsModel, type FixtureLayerWeights, type RawModelConfig } from '../fixtures/writers';

export const PROJECT = join(__dirname, '../..');
export const DL4J = join(PROJECT, '../shared/keras-reference/dl4j');
/** A real Keras 2.1.3 model file (LSTM(50) -> Dense(1)) with stored inputs beside it. */
export const REAL_H5 = join(DL4J, 'examples/simple_flatten_lstm/simple_flatten_lstm_tf_keras_2_model.h5');
/** A real Keras 1.2.2 model file (12 split LSTM arrays). */
export const REAL_KERAS1_H5 = join(DL4J, 'examples/simple_lstm/simple_lstm_tf_keras_1_model.h5');
/** A real Keras 2.2.0 file whose global heap (byte 3233) we damage: h5wasm then loops forever reading an attribute. */
/** A real Keras 2.1.3 file with 8 flipped bits (fuzz seed h5 1008) on which HDF5 calls abort() (emscripten abort). */
export const ABORT_SOURCE_H5 = join(DL4J, 'examples/simple_rnn/simple_rnn_tf_keras_2_model.h5');
const ABORT_PATCH: [number, number][] = [[967, 16], [1915, 235], [2010, 8], [3560, 123], [36339, 1], [36526, 8], [38534, 4], [38944, 128]];
export const HANG_SOURCE_H5 = join(DL4J, 'examples/masking/masking_zero_lstm.h5');

export const HOSTILE_NAME = '<img src=x onerror=alert(1)>';
export const CUSTOM_CLASS = 'AttentionWithContext';
/** Terminal escape sequences: set the window title, clear the screen, red text. */
export const ANSI_NAME = 'lstm\u001b]0;pwned\u0007\u001b[2J\u001b[31m_1';

type Obj = Record<string, any>;
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

function lstmFixture() {
  const m = fixtureModels().find((x) => x.id === 'lstm');
  if (!m) throw new Error("fixture model 'lstm' not found");
  return m;
}

/** The model file paths, each alone in its own directory. */
export interface HostileModels {
  dir: string;
  /** the good fixture (sanity: must work) */
  good: string;
  goodKeras: string;
  realH5: string;
  randomBytes: string;
  randomWithSignature: string;
  truncated: string[];
  empty: string;
  notKeras: string;
  unitsMismatch: string;
  shapeMismatch: string;
  missingWeights: string;
  customLayer: string;
  nanWeights: string;
  hostileName: string;
  /** the LSTM layer named with terminal escape sequences */
  ansiName: string;
  protoConfig: string;
  /** a .keras whose config.json carries __proto__/constructor keys */
  protoKeras: string;
  /** a weights-only .h5 and an architecture JSON (for --config) carrying __proto__/constructor keys */
  weightsOnly: string;
  protoArchitecture: string;
  deepConfigJson: string;
  notZipKeras: string;
  /** a .keras whose central directory entry claims a 64 KB extra field (fuzz seed keras 5014) */
  zipBadExtra: string;
  noConfigKeras: string;
  zipBomb: string;
  /** one damaged global-heap byte: h5wasm (HDF5 C) never returns from reading the 'backend' attribute */
  hangingH5: string;
  /** 8 flipped bits: the HDF5 C library calls abort() (a WebAssembly.RuntimeError 'Aborted(...)') */
  abortingH5: string;
  /** a 'HDF5 bomb': a few KB whose Dense kernel/bias claim 800M floats (chunked datasets resized, never written) */
  hugeClaim: string;
  /** TF.js model.json files whose weight shard paths are hostile: '../', absolute, malformed %-escape, a symlink
   *  out of the folder, a shard shorter than the manifest says */
  tfjs: { good: string; traversal: string; absolute: string; badEscape: string; symlinkOut: string; shortShard: string };
  /** a .keras whose model.weights.h5 is random bytes */
  garbageWeightsKeras: string;
  /** a directory where a file is expected */
  directory: string;
  missing: string;
}

export interface HostileInputs {
  good: string;
  invalid: string;
  deep: string;
  strings: string;
  proto: string;
  constructorKey: string;
  wrongShape: string;
  infinity: string;
  nanLiteral: string;
  empty: string;
  /** invalid JSON whose first bytes are terminal escape sequences (JSON.parse quotes them in its message) */
  ansi: string;
}

function place(dir: string, id: string, name: string): string {
  const d = join(dir, id);
  mkdirSync(d, { recursive: true });
  return join(d, name);
}

/** Seeded random bytes. */
export function randomBytes(n: number, seed: number): Uint8Array {
  const r = seededRandom(seed);
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256);
  return b;
}

const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

export async function writeHostileModels(dir: string, opts: { zipBombBytes?: number } = {}): Promise<HostileModels> {
  const m = lstmFixture();
  const cfg = m.keras2Config;
  const layers = m.layers;
  const out: Partial<HostileModels> = { dir };

  out.good = place(dir, 'good', 'model.h5');
  await writeKeras2H5(out.good, { modelConfig: cfg, layers });
  out.goodKeras = place(dir, 'good-keras', 'model.keras');
  await writeKeras3Keras(out.goodKeras, { config: m.keras3Config!, layers });

  out.realH5 = place(dir, 'real', 'model.h5');
  copyFileSync(REAL_H5, out.realH5);

  out.randomBytes = place(dir, 'random', 'model.h5');
  writeFileSync(out.randomBytes, randomBytes(64 * 1024, 1));
  out.randomWithSignature = place(dir, 'random-signature', 'model.h5');
  const sig = randomBytes(64 * 1024, 2);
  sig.set(HDF5_SIGNATURE, 0);
  writeFileSync(out.randomWithSignature, sig);

  const real = readFileSync(REAL_H5);
  out.truncated = [0.01, 0.25, 0.5, 0.9, 0.999].map((f) => {
    const p = place(dir, `truncated-${f}`, 'model.h5');
    writeFileSync(p, real.subarray(0, Math.floor(real.length * f)));
    return p;
  });

  out.empty = place(dir, 'empty', 'model.h5');
  writeFileSync(out.empty, '');

  // A valid HDF5 file that has nothing to do with Keras.
  out.notKeras = place(dir, 'not-keras', 'data.h5');
  {
    const h5 = (await import('h5wasm')) as any;
    await h5.ready;
    const name = '/hostile-not-keras.h5';
    const f = new h5.File(name, 'w');
    const g = f.create_group('measurements');
    g.create_dataset({ name: 'temperature', data: new Float32Array([20.5, 21, 19.75]), shape: [3], dtype: '<f' });
    f.create_attribute('instrument', 'thermometer', null, 'S11');
    f.close();
    writeFileSync(out.notKeras, h5.FS.readFile(name));
    h5.FS.unlink(name);
  }

  // Config says LSTM(5) but the weights are for LSTM(4).
  out.unitsMismatch = place(dir, 'units-mismatch', 'model.h5');
  {
    const c = clone(cfg) as Obj;
    c.config.layers[0].config.units = 5;
    await writeKeras2H5(out.unitsMismatch, { modelConfig: c as RawModelConfig, layers });
  }
  // Dense kernel stored as (4, 3) where Dense(2) needs (4, 2).
  out.shapeMismatch = place(dir, 'shape-mismatch', 'model.h5');
  {
    const l = layers.map((x) => ({ ...x, weights: [...x.weights] }));
    const dense = l.find((x) => x.name === 'dense_1')!;
    dense.weights[0] = { name: 'dense_1/kernel:0', shape: [4, 3], data: new Float32Array(12).fill(0.5) };
    dense.weights[1] = { name: 'dense_1/bias:0', shape: [3], data: new Float32Array(3) };
    await writeKeras2H5(out.shapeMismatch, { modelConfig: cfg, layers: l });
  }
  // dense_1 is listed but has no weights.
  out.missingWeights = place(dir, 'missing-weights', 'model.h5');
  await writeKeras2H5(out.missingWeights, { modelConfig: cfg, layers: layers.filter((x) => x.name !== 'dense_1') });

  // A custom layer class (user code Keras Lens cannot know) between the LSTM and the Dense.
  out.customLayer = place(dir, 'custom-layer', 'model.h5');
  {
    const c = clone(cfg) as Obj;
    c.config.layers.splice(1, 0, { class_name: CUSTOM_CLASS, config: { name: 'attention_1', trainable: true, units: 4 } });
    const l: FixtureLayerWeights[] = [
      layers[0],
      { name: 'attention_1', weights: [{ name: 'attention_1/W:0', shape: [4, 4], data: new Float32Array(16).fill(0.25) }] },
      layers[1],
    ];
    await writeKeras2H5(out.customLayer, { modelConfig: c as RawModelConfig, layers: l });
  }

  // NaN and Infinity inside the LSTM kernel.
  out.nanWeights = place(dir, 'nan-weights', 'model.h5');
  {
    const l = layers.map((x) => ({ ...x, weights: x.weights.map((w) => ({ ...w, data: w.data.slice() })) }));
    l[0].weights[0].data[5] = NaN;
    l[0].weights[0].data[7] = Infinity;
    await writeKeras2H5(out.nanWeights, { modelConfig: cfg, layers: l });
  }

  // The Dense layer is named like an HTML injection.
  out.hostileName = place(dir, 'hostile-name', 'model.h5');
  {
    const c = clone(cfg) as Obj;
    c.config.layers[1].config.name = HOSTILE_NAME;
    const l = layers.map((x) =>
      x.name === 'dense_1'
        ? { ...x, name: HOSTILE_NAME, weights: x.weights.map((w) => ({ ...w, name: w.name.replace('dense_1', HOSTILE_NAME) })) }
        : x,
    );
    await writeKeras2H5(out.hostileName, { modelConfig: c as RawModelConfig, layers: l });
  }

  out.ansiName = place(dir, 'ansi-name', 'model.h5');
  {
    const c = clone(cfg) as Obj;
    c.config.layers[0].config.name = ANSI_NAME;
    const l = layers.map((x) =>
      x.name === 'lstm_1' ? { ...x, name: ANSI_NAME, weights: x.weights.map((w) => ({ ...w, name: w.name.replace('lstm_1', ANSI_NAME) })) } : x,
    );
    await writeKeras2H5(out.ansiName, { modelConfig: c as RawModelConfig, layers: l });
  }

  // model_config carrying prototype-pollution keys.
  out.protoConfig = place(dir, 'proto-config', 'model.h5');
  {
    const text = JSON.stringify(cfg).replace(
      '"name":"lstm_1"',
      '"name":"lstm_1","__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}}',
    );
    if (!text.includes('__proto__')) throw new Error('proto fixture: replacement failed');
    const c = JSON.parse(text) as RawModelConfig; // JSON.parse keeps "__proto__" as an own key
    await writeKeras2H5(out.protoConfig, { modelConfig: c, layers });
  }

  const pollute = (text: string) => {
    const out = text.replace(/"name":"(lstm_1|lstm)"/, '"name":"$1","__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}}');
    if (!out.includes('__proto__')) throw new Error('proto fixture: replacement failed');
    return out;
  };
  out.protoKeras = place(dir, 'proto-keras', 'model.keras');
  await writeKeras3Keras(out.protoKeras, { config: JSON.parse(pollute(JSON.stringify(m.keras3Config))) as RawModelConfig, layers });
  out.weightsOnly = place(dir, 'weights-only', 'weights.h5');
  await writeKeras2WeightsH5(out.weightsOnly, { layers });
  out.protoArchitecture = place(dir, 'proto-architecture', 'architecture.json');
  writeFileSync(out.protoArchitecture, pollute(JSON.stringify(cfg)));

  // A model.to_json() architecture nested 100k levels deep.
  out.deepConfigJson = place(dir, 'deep-config', 'model.json');
  writeFileSync(out.deepConfigJson, '{"class_name": "Sequential", "config": {"name": "s", "layers": ' + '['.repeat(100_000) + ']'.repeat(100_000) + '}}');

  out.notZipKeras = place(dir, 'not-zip', 'model.keras');
  writeFileSync(out.notZipKeras, 'this is not a zip file, just text someone renamed\n');

  out.zipBadExtra = place(dir, 'zip-bad-extra', 'model.keras');
  {
    const b = Buffer.from(readFileSync(out.goodKeras));
    const cd = b.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    if (cd < 0) throw new Error('zip fixture: no central directory');
    b.writeUInt16LE(0xffff, cd + 30); // extra field length of the first entry
    writeFileSync(out.zipBadExtra, b);
  }

  out.noConfigKeras = place(dir, 'no-config', 'model.keras');
  {
    const good = await import('fflate').then((f) => f.unzipSync(readFileSync(out.goodKeras!)));
    delete good['config.json'];
    writeFileSync(out.noConfigKeras, zipSync(good));
  }

  // A zip bomb: hundreds of MB of zeros as model.weights.h5, deflated at level 9 to a few hundred KB.
  out.zipBomb = place(dir, 'zip-bomb', 'model.keras');
  {
    writeFileSync(
      out.zipBomb,
      zipWithZeroBomb(
        [
          { name: 'metadata.json', data: strToU8(JSON.stringify({ keras_version: '3.6.0' })) },
          { name: 'config.json', data: strToU8(JSON.stringify(m.keras3Config)) },
        ],
        'model.weights.h5',
        opts.zipBombBytes ?? 300 * 1024 * 1024,
      ),
    );
  }

  out.hangingH5 = place(dir, 'hanging', 'model.h5');
  {
    const b = readFileSync(HANG_SOURCE_H5);
    if (b[3233] !== 0) throw new Error('hanging fixture: unexpected source byte');
    b[3233] = 1;
    writeFileSync(out.hangingH5, b);
  }

  out.hugeClaim = place(dir, 'huge-claim', 'model.h5');
  {
    const units = 200_000_000;
    const c = clone(cfg) as Obj;
    c.config.layers[1].config.units = units;
    await writeKeras2H5(out.hugeClaim, { modelConfig: c as RawModelConfig, layers: layers.filter((x) => x.name !== 'dense_1') });
    const h5 = (await import('h5wasm')) as any;
    await h5.ready;
    const name = '/hostile-huge-claim.h5';
    h5.FS.writeFile(name, readFileSync(out.hugeClaim));
    const f = new h5.File(name, 'a');
    const g = f.get('model_weights/dense_1');
    g.delete_attribute('weight_names');
    g.create_attribute('weight_names', ['dense_1/kernel:0', 'dense_1/bias:0'], [2], 'S16');
    const inner = g.create_group('dense_1');
    const k = inner.create_dataset({ name: 'kernel:0', data: new Float32Array(8).fill(0.5), shape: [4, 2], dtype: '<f', maxshape: [null, null], chunks: [4, 2] });
    k.resize([4, units]);
    const b = inner.create_dataset({ name: 'bias:0', data: new Float32Array(2), shape: [2], dtype: '<f', maxshape: [null], chunks: [2] });
    b.resize([units]);
    f.close();
    writeFileSync(out.hugeClaim, h5.FS.readFile(name));
    h5.FS.unlink(name);
  }

  out.abortingH5 = place(dir, 'aborting', 'model.h5');
  {
    const b = readFileSync(ABORT_SOURCE_H5);
    for (const [at, v] of ABORT_PATCH) b[at] = v;
    writeFileSync(out.abortingH5, b);
  }

  {
    const good = writeTfjsModel(join(dir, 'tfjs-good'), { modelConfig: cfg, layers });
    const json = JSON.parse(readFileSync(good, 'utf8')) as { weightsManifest: { paths: string[] }[] };
    const shard = json.weightsManifest[0].paths[0];
    const variant = (id: string, path: string, shardBytes?: Uint8Array) => {
      const d = join(dir, id);
      mkdirSync(d, { recursive: true });
      const j = JSON.parse(JSON.stringify(json)) as typeof json;
      j.weightsManifest[0].paths = [path];
      writeFileSync(join(d, 'model.json'), JSON.stringify(j));
      if (shardBytes) writeFileSync(join(d, path), shardBytes);
      return join(d, 'model.json');
    };
    const shardBytes = readFileSync(join(dir, 'tfjs-good', shard));
    // a "secret" outside the model folder, same size as the shard so only the path check can stop it
    writeFileSync(join(dir, 'secret.bin'), shardBytes);
    const symlinkOut = variant('tfjs-symlink', 'shard.bin');
    symlinkSync(join(dir, 'secret.bin'), join(dir, 'tfjs-symlink', 'shard.bin'));
    out.tfjs = {
      good,
      traversal: variant('tfjs-traversal', '../secret.bin'),
      absolute: variant('tfjs-absolute', join(dir, 'secret.bin')),
      badEscape: variant('tfjs-bad-escape', '%E0%A4%A.bin'),
      symlinkOut,
      shortShard: variant('tfjs-short', 'shard.bin', shardBytes.subarray(0, 100)),
    };
  }

  out.garbageWeightsKeras = place(dir, 'garbage-weights', 'model.keras');
  writeFileSync(
    out.garbageWeightsKeras,
    zipSync({
      'metadata.json': strToU8(JSON.stringify({ keras_version: '3.6.0' })),
      'config.json': strToU8(JSON.stringify(m.keras3Config)),
      'model.weights.h5': randomBytes(20_000, 3),
    }),
  );

  out.directory = place(dir, 'a-directory', 'model.h5');
  mkdirSync(out.directory, { recursive: true });
  out.missing = place(dir, 'missing', 'model.h5'); // never written
  return out as HostileModels;
}

/** Inputs for the 'lstm' fixture (one input of shape (batch, 5, 3)). */
export function writeHostileInputs(dir: string): HostileInputs {
  const d = join(dir, 'inputs');
  mkdirSync(d, { recursive: true });
  const p = (n: string) => join(d, n);
  const r = seededRandom(99);
  const sample = Array.from({ length: 5 }, () => Array.from({ length: 3 }, () => Math.round((r() * 2 - 1) * 1000) / 1000));
  const files: Record<keyof HostileInputs, string> = {
    good: JSON.stringify([sample]),
    invalid: '[[[0.1, 0.2, 0.3], [0.4,',
    deep: '['.repeat(100_000) + ']'.repeat(100_000),
    strings: JSON.stringify([sample.map((row) => row.map((v) => `${v}`))]),
    proto: '{"__proto__": {"polluted": "yes"}}',
    constructorKey: '{"constructor": {"prototype": {"polluted": "yes"}}}',
    wrongShape: JSON.stringify([[1, 2], [3, 4]]),
    infinity: JSON.stringify([sample]).replace(/^\[\[\[[^,]+/, '[[[1e999'),
    nanLiteral: JSON.stringify([sample]).replace(/^\[\[\[[^,]+/, '[[[NaN'),
    empty: '',
    ansi: '\u001b]0;pwned\u0007\u001b[2J\u001b[31m{not json',
  };
  const out = {} as HostileInputs;
  for (const [k, text] of Object.entries(files)) {
    writeFileSync(p(`${k}.json`), text);
    out[k as keyof HostileInputs] = p(`${k}.json`);
  }
  return out;
}

/** sha256 of a file's bytes. */
export function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Every file under a directory with its sha256 and mode (to see that nothing was written, created or locked). */
export function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) {
        out[p + '/'] = `dir ${st.mode.toString(8)}`;
        walk(p);
      } else out[p] = `${sha256(p)} ${st.size} ${st.mode.toString(8)} ${st.mtimeMs}`;
    }
  };
  walk(dir);
  return out;
}

/**
 * A raw deflate stream of about `approxBytes` zero bytes at zlib's maximum ratio (~1000:1), built in milliseconds:
 * 1 MiB of zeros deflated once with a sync flush (non-final blocks, byte aligned), that piece repeated, then an
 * empty final block. The same data zipSync/zlib produce at level 9, without compressing hundreds of MB per run.
 */
export function deflatedZeros(approxBytes: number): { deflated: Uint8Array; size: number } {
  const piece = 1024 * 1024;
  const copies = Math.max(1, Math.round(approxBytes / piece));
  const one = deflateRawSync(new Uint8Array(piece), { level: 9, finishFlush: zlibConstants.Z_SYNC_FLUSH });
  const out = new Uint8Array(one.length * copies + 2);
  for (let i = 0; i < copies; i++) out.set(one, i * one.length);
  out.set([0x03, 0x00], one.length * copies); // final fixed-Huffman block holding only end-of-block
  return { deflated: out, size: piece * copies };
}

/** A zip (stored small entries + one deflated all-zero entry of about `bombBytes`), written by hand. */
export function zipWithZeroBomb(entries: { name: string; data: Uint8Array }[], bombName: string, bombBytes: number): Uint8Array {
  const { deflated, size } = deflatedZeros(bombBytes);
  const zerosCrc = crc32(new Uint8Array(size));
  const all = [
    ...entries.map((e) => ({ name: e.name, method: 0, crc: crc32(e.data), size: e.data.length, body: e.data })),
    { name: bombName, method: 8, crc: zerosCrc, size, body: deflated },
  ];
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const e of all) {
    const name = strToU8(e.name);
    const lfh = Buffer.alloc(30);
    lfh.writeUInt32LE(0x04034b50, 0);
    lfh.writeUInt16LE(20, 4);
    lfh.writeUInt16LE(e.method, 8);
    lfh.writeUInt32LE(e.crc >>> 0, 14);
    lfh.writeUInt32LE(e.body.length, 18);
    lfh.writeUInt32LE(e.size, 22);
    lfh.writeUInt16LE(name.length, 26);
    const cdh = Buffer.alloc(46);
    cdh.writeUInt32LE(0x02014b50, 0);
    cdh.writeUInt16LE(20, 4);
    cdh.writeUInt16LE(20, 6);
    cdh.writeUInt16LE(e.method, 10);
    cdh.writeUInt32LE(e.crc >>> 0, 16);
    cdh.writeUInt32LE(e.body.length, 20);
    cdh.writeUInt32LE(e.size, 24);
    cdh.writeUInt16LE(name.length, 28);
    cdh.writeUInt32LE(offset, 42);
    parts.push(lfh, name, e.body);
    central.push(cdh, name);
    offset += 30 + name.length + e.body.length;
  }
  const cdSize = central.reduce((a, b) => a + b.length, 0);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(all.length, 8);
  eocd.writeUInt16LE(all.length, 10);
  eocd.writeUInt32LE(cdSize, 12);
  eocd.writeUInt32LE(offset, 16);
  return new Uint8Array(Buffer.concat([...parts, ...central, eocd]));
}
