/**
 * Every failure is a one-line KerasLensError naming the file: missing/empty/unknown files, truncated or non-Keras
 * HDF5, zip bombs (declared and lying sizes), damaged .keras, bad JSON, prototype-pollution attempts, shard paths
 * outside the model folder.
 */
import '../fixtures/fast-h5wasm';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync, strToU8 } from 'fflate';
import { openModelFile } from '../../src/formats/open';
import { KerasLensError } from '../../src/model/types';
import { fixtureModels } from '../fixtures/models';
import { writeKeras2H5, writeKeras3Keras, writeWeightsJson } from '../fixtures/writers';

const dir = mkdtempSync(join(tmpdir(), 'keras-lens-errors-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

async function rejectsWith(path: string, pattern: RegExp, opts = {}): Promise<void> {
  await assert.rejects(openModelFile(path, opts), (e: unknown) => {
    assert.ok(e instanceof KerasLensError, `expected KerasLensError, got ${e}`);
    assert.match(e.message, pattern);
    assert.ok(!e.message.includes('\n'), `one line: ${e.message}`);
    assert.ok(e.message.startsWith(path) || e.file !== path, 'names the file');
    return true;
  });
}

test('missing, empty, directory and unknown files', async () => {
  await rejectsWith(join(dir, 'nope.h5'), /file not found/);
  writeFileSync(join(dir, 'empty.h5'), '');
  await rejectsWith(join(dir, 'empty.h5'), /the file is empty/);
  mkdirSync(join(dir, 'folder.h5'));
  await rejectsWith(join(dir, 'folder.h5'), /is a directory/);
  writeFileSync(join(dir, 'random.h5'), Buffer.from('this is not a model at all, just some text\n'.repeat(40)));
  await rejectsWith(join(dir, 'random.h5'), /not a Keras model file \(neither HDF5, a \.keras zip nor JSON\)/);
});

test('truncated HDF5 is refused from its superblock', async () => {
  const m = fixtureModels().find((x) => x.id === 'lstm')!;
  const full = join(dir, 'full.h5');
  await writeKeras2H5(full, { modelConfig: m.keras2Config, layers: m.layers });
  const bytes = readFileSync(full);
  writeFileSync(join(dir, 'cut.h5'), bytes.subarray(0, Math.floor(bytes.length / 2)));
  await rejectsWith(join(dir, 'cut.h5'), /truncated HDF5 file/);
});

test('HDF5 that is not a Keras file', async () => {
  const h5 = await import('h5wasm/node');
  await h5.ready;
  const p = join(dir, 'science.h5');
  const f = new h5.File(p, 'w');
  f.create_group('measurements').create_dataset({ name: 'temperature', data: new Float32Array([1, 2, 3]) });
  f.close();
  await rejectsWith(p, /HDF5 file but not a Keras model/);
});

/** Set an entry's uncompressed size in both the local header and the central directory. */
function patchDeclaredSize(zip: Uint8Array, entry: string, size: number): Uint8Array {
  const b = Buffer.from(zip);
  const name = Buffer.from(entry);
  for (let i = 0; i + 4 <= b.length; i++) {
    const sig = b.readUInt32LE(i);
    if (sig === 0x04034b50 && b.subarray(i + 30, i + 30 + name.length).equals(name)) b.writeUInt32LE(size, i + 22);
    if (sig === 0x02014b50 && b.subarray(i + 46, i + 46 + name.length).equals(name)) b.writeUInt32LE(size, i + 24);
  }
  return new Uint8Array(b);
}

test('zip bomb: declared sizes over the cap are refused before inflating', async () => {
  const zeros = new Uint8Array(8 << 20); // 8 MiB of zeros deflates to ~8 KB
  const zip = zipSync({ 'config.json': strToU8('{}'), 'metadata.json': strToU8('{}'), 'model.weights.h5': [zeros, { level: 9 }] });
  assert.ok(zip.length < 100_000);
  const p = join(dir, 'bomb.keras');
  writeFileSync(p, zip);
  await rejectsWith(p, /would inflate to \d+ bytes, over the 1048576-byte limit \(zip bomb\?\); refused/, { maxInflateBytes: 1 << 20 });
  // The default cap (2 GiB) refuses a declared 3 GiB without trying.
  const big = join(dir, 'bigdeclared.keras');
  writeFileSync(big, patchDeclaredSize(zip, 'model.weights.h5', 3 * 1024 ** 3));
  await rejectsWith(big, /over the 2147483648-byte limit/);
});

test('zip bomb: an entry that inflates past its declared size is stopped', async () => {
  const zeros = new Uint8Array(8 << 20);
  const zip = zipSync({ 'config.json': strToU8('{}'), 'model.weights.h5': [zeros, { level: 9 }] });
  const p = join(dir, 'liar.keras');
  writeFileSync(p, patchDeclaredSize(zip, 'model.weights.h5', 1000));
  await rejectsWith(p, /inflates to more than its declared 1000 bytes .*stopped/);
});

test('damaged or foreign zips', async () => {
  const p = join(dir, 'other.keras');
  writeFileSync(p, zipSync({ 'readme.txt': strToU8('hello') }));
  await rejectsWith(p, /not a Keras 3 \.keras file/);
  const q = join(dir, 'noweights.keras');
  writeFileSync(q, zipSync({ 'config.json': strToU8('{}'), 'metadata.json': strToU8('{"keras_version":"3.6.0"}') }));
  await rejectsWith(q, /has no model\.weights\.h5/);
  const m = fixtureModels().find((x) => x.id === 'lstm')!;
  const good = join(dir, 'good.keras');
  await writeKeras3Keras(good, { config: m.keras3Config!, layers: m.layers });
  const bytes = readFileSync(good);
  writeFileSync(join(dir, 'cut.keras'), bytes.subarray(0, bytes.length - 30));
  await rejectsWith(join(dir, 'cut.keras'), /end-of-central-directory|damaged/);
});

test('bad JSON, deep nesting, unknown JSON', async () => {
  writeFileSync(join(dir, 'bad.json'), '{"class_name": "Sequential", ');
  await rejectsWith(join(dir, 'bad.json'), /is not valid JSON/);
  writeFileSync(join(dir, 'deep.json'), '['.repeat(200_000) + ']'.repeat(200_000));
  await rejectsWith(join(dir, 'deep.json'), /not valid JSON|nested deeper/);
  writeFileSync(join(dir, 'deep2.json'), '{"a":'.repeat(1000) + '1' + '}'.repeat(1000));
  await rejectsWith(join(dir, 'deep2.json'), /nested deeper than 256 levels/);
  writeFileSync(join(dir, 'other.json'), '{"name": "not keras", "version": 3}');
  await rejectsWith(join(dir, 'other.json'), /neither a Keras architecture, a TF\.js model\.json nor a weight dump/);
  writeFileSync(join(dir, 'noarch.json'), '[[[1, 2], [3]]]');
  await rejectsWith(join(dir, 'noarch.json'), /not a rectangular array/);
  writeFileSync(join(dir, 'noarch2.json'), '[[1, 2], [3, 4]]');
  await rejectsWith(join(dir, 'noarch2.json'), /needs the architecture/);
  await rejectsWith(join(dir, 'noarch2.json'), /architecture file not found/, { configPath: join(dir, 'missing.json') });
});

test('a get_weights() dump whose count does not match the architecture', async () => {
  const m = fixtureModels().find((x) => x.id === 'lstm')!;
  const p = join(dir, 'short.json');
  writeWeightsJson(p, { layers: [m.layers[0]], form: 'get_weights' });
  const cfg = join(dir, 'lstm-arch.json');
  writeFileSync(cfg, JSON.stringify(m.keras2Config));
  await rejectsWith(p, /has 3 arrays but the architecture needs more/, { configPath: cfg });
});

test('__proto__ / constructor keys in user JSON never reach Object.prototype', async () => {
  const p = join(dir, 'proto.json');
  writeFileSync(
    p,
    '{"__proto__": {"data": [1], "shape": [1], "polluted": "yes"}, "constructor": {"data": [2], "shape": [1]}, "dense_1/kernel:0": {"data": [1, 2], "shape": [1, 2]}}',
  );
  const m = await openModelFile(p);
  try {
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(({} as Record<string, unknown>).data, undefined);
    // The keys are dropped as data, never used.
    assert.deepEqual(
      m.layers.map((l) => l.layer),
      ['dense_1'],
    );
  } finally {
    m.close();
  }
  const arch = join(dir, 'proto-arch.json');
  writeFileSync(
    arch,
    '{"class_name": "Sequential", "config": [{"class_name": "Dense", "config": {"name": "dense_1", "units": 2, "input_dim": 3, "__proto__": {"polluted": "yes"}}}]}',
  );
  const a = await openModelFile(arch);
  try {
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(a.format, 'keras-json');
    assert.equal(a.model!.layers[1].config.units, 2);
    assert.equal(Object.getPrototypeOf(a.model!.layers[1].config), Object.prototype);
    assert.equal((a.model!.layers[1].config as Record<string, unknown>).polluted, undefined);
  } finally {
    a.close();
  }
});

test('TF.js shards must stay inside the model folder', async () => {
  const sub = join(dir, 'tfjs-evil');
  mkdirSync(sub);
  writeFileSync(join(dir, 'secret.bin'), new Uint8Array(16));
  const m = fixtureModels().find((x) => x.id === 'toy_lstm')!;
  writeFileSync(
    join(sub, 'model.json'),
    JSON.stringify({ modelTopology: { model_config: m.keras2Config }, weightsManifest: [{ paths: ['../secret.bin'], weights: [{ name: 'lstm_1/kernel', shape: [2, 2], dtype: 'float32' }] }] }),
  );
  await rejectsWith(join(sub, 'model.json'), /outside the model\.json folder; refused/);
});
