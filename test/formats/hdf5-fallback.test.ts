// Which HDF5 reader opens a file, and that the choice never changes what is read. Files built here with h5wasm in
// shapes jsfive reads (every integer/float type, float16, big-endian, scalars, string and number attributes) and shapes it
// leaves to h5wasm (chunked and gzip-compressed datasets, read through h5wasm after a jsfive open; HDF5 1.8+ format
// files, groups tracking creation order, soft links, non-ASCII strings: opened by h5wasm). Oracle: h5wasm (the HDF5
// C library) reading the same bytes, compared node by node (hdf5-compare.ts).
// Behaviour: openModelFile reads an ordinary Keras .h5 (weights too) without loading h5wasm at all
// (h5wasmLoads counts each h5wasm build this process loads), and a file jsfive refuses still opens, through h5wasm.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '../fixtures/fast-h5wasm';
import { openHdf5Memory } from '../../src/formats/hdf5-open';
import { h5wasmLoads, openH5wasmMemory } from '../../src/formats/hdf5-h5wasm';
import { openModelFile } from '../../src/formats/open';
import { compareTrees } from './hdf5-compare';

type H5Lib = typeof import('h5wasm', { with: { 'resolution-mode': 'import' } });
type H5File = import('h5wasm', { with: { 'resolution-mode': 'import' } }).File;

const FIXTURE = join(__dirname, '../fixtures/keras3-real/additive_attention/model.h5');

let built = 0;
/**
 * An HDF5 file built in h5wasm's memory file system. `options` (File's libver / track_order) default to h5py's
 * format bounds (libver earliest): h5wasm's own defaults write some datasets in the HDF5 1.8+ format.
 */
async function build(fill: (f: H5File) => void, options: object = { libver: ['earliest', 'v108'] }): Promise<Uint8Array> {
  const m = (await import('h5wasm')) as unknown as H5Lib;
  await m.ready;
  const name = `/fallback-${process.pid}-${++built}.h5`;
  const f = new (m.File as unknown as new (n: string, mode: string, o?: object) => H5File)(name, 'w', options);
  try {
    fill(f);
  } finally {
    f.close();
  }
  const fs = m.FS as unknown as { readFile(p: string): Uint8Array; unlink(p: string): void };
  const bytes = fs.readFile(name);
  fs.unlink(name);
  return bytes;
}

const seq = (n: number, f = (i: number) => (i - n / 2) * 0.37) => Array.from({ length: n }, (_, i) => f(i));

/** A Keras 2 weights-only layout: root layer_names, one group per layer with weight_names, the datasets below. */
function kerasLayout(f: H5File, dataset: (g: H5File, name: string) => void): void {
  f.create_attribute('layer_names', ['dense'], [1], 'S5');
  const g = f.create_group('dense') as unknown as H5File;
  g.create_attribute('weight_names', ['dense/kernel:0'], [1], 'S14');
  const inner = g.create_group('dense') as unknown as H5File;
  dataset(inner, 'kernel:0');
}

/** Opens `bytes` as the readers do, compares with h5wasm alone; returns the backend that opened it. */
async function sameAsH5wasm(label: string, bytes: Uint8Array): Promise<string> {
  const chosen = await openHdf5Memory(bytes, label, 'the file');
  const oracle = await openH5wasmMemory(bytes, label, 'the file');
  try {
    await compareTrees(label, chosen, oracle);
    return chosen.backend;
  } finally {
    chosen.close();
    oracle.close();
  }
}

test('an ordinary Keras .h5 is opened and read without loading h5wasm; a file jsfive refuses opens through h5wasm', async () => {
  assert.equal(h5wasmLoads.count, 0, 'no test before this one loaded h5wasm in this process');
  const file = await openModelFile(FIXTURE);
  try {
    let values = 0;
    for (const l of file.layers) for (const w of l.weights) values += (await w.read()).length;
    assert.ok(values > 0);
  } finally {
    file.close();
  }
  assert.equal(h5wasmLoads.count, 0, 'reading an ordinary .h5 loaded h5wasm');

  // HDF5 1.8+ format (superblock 3, version-2 object headers): left to h5wasm
  const latest = await build(
    (f) => kerasLayout(f, (g, name) => g.create_dataset({ name, data: new Float32Array(seq(6)), shape: [2, 3], dtype: '<f4' })),
    { libver: 'latest' },
  );
  const dir = mkdtempSync(join(tmpdir(), 'keras-lens-fallback-'));
  try {
    const p = join(dir, 'latest.h5');
    writeFileSync(p, latest);
    const m = await openModelFile(p);
    try {
      assert.deepEqual([...(await m.layers[0].weights[0].read())], [...new Float32Array(seq(6))]);
    } finally {
      m.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.ok(h5wasmLoads.count > 0, 'the superblock-3 file was read through h5wasm');
});

/** `find` in `bytes` exactly once (the test's own construction would be wrong otherwise); its offset. */
function onlyAt(bytes: Uint8Array, find: Uint8Array): number {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const at = b.indexOf(Buffer.from(find));
  assert.ok(at >= 0 && b.indexOf(Buffer.from(find), at + 1) < 0, 'pattern found exactly once');
  return at;
}

test('big-endian datasets (made by flipping a little-endian file: byte-order bit and data bytes): jsfive, same values as h5wasm', async () => {
  // h5wasm writes no big-endian datasets; HDF5 datatype messages (spec IV.A.2.d) carry the order in bit 0 of the
  // first class bit field, right after the class-and-version byte
  const floats = new Float32Array([1.5, -2.25, 3e-5, 7e10, -0]);
  const shorts = new Int16Array([-300, 2, 30000, 7]);
  const bytes = await build((f) => {
    f.create_dataset({ name: 'f4', data: floats, shape: [5], dtype: '<f' });
    f.create_dataset({ name: 'i2', data: shorts, shape: [4], dtype: '<h' });
  });
  // float32 datatype: class 1 version 1, bit field 0x20 (IEEE mantissa normalisation), sign bit 31, size 4
  const f4type = onlyAt(bytes, Uint8Array.of(0x11, 0x20, 0x1f, 0x00, 4, 0, 0, 0));
  // int16 datatype: class 0 version 1, bit field 0x08 (signed), size 2
  const i2type = onlyAt(bytes, Uint8Array.of(0x10, 0x08, 0x00, 0x00, 2, 0, 0, 0));
  bytes[f4type + 1] |= 1;
  bytes[i2type + 1] |= 1;
  for (const [data, size] of [[new Uint8Array(floats.buffer), 4], [new Uint8Array(shorts.buffer), 2]] as const) {
    const at = onlyAt(bytes, data);
    for (let i = 0; i < data.length; i += size) bytes.subarray(at + i, at + i + size).reverse();
  }
  assert.equal(await sameAsH5wasm('big-endian.h5', bytes), 'jsfive');
  const h5 = await openHdf5Memory(bytes, 'big-endian.h5', 'the file');
  assert.equal(h5.dtype(h5.get('/f4')!), '>f4');
  assert.deepEqual([...(await h5.readFloat32(h5.get('/f4')!))], [...floats]);
  assert.deepEqual([...(await h5.readFloat32(h5.get('/i2')!))], [...shorts]);
  h5.close();
});

test('float16 (made from a float32 file: datatype and dimension rewritten): jsfive, same values as h5wasm', async () => {
  // h5wasm writes no float16; a float32 datatype message (IV.A.2.d) has a float16's length, so it is rewritten in
  // place: size 2, sign bit 15, precision 16, exponent at bit 10 of 5 bits, mantissa of 10 bits, bias 15
  const halves = Uint16Array.of(0x3c00, 0xc000, 0x7bff, 0x0001, 0x8000, 0x7c00, 0x7e00, 0x3555); // 1, -2, 65504, 2^-24, -0, inf, NaN, 0.333
  const bytes = await build((f) => f.create_dataset({ name: 'f2', data: new Float32Array(halves.buffer), shape: [4], dtype: '<f' }));
  const type = onlyAt(bytes, Uint8Array.of(0x11, 0x20, 0x1f, 0x00, 4, 0, 0, 0, 0, 0, 32, 0, 23, 8, 0, 23, 127, 0, 0, 0));
  bytes.set(Uint8Array.of(0x11, 0x20, 0x0f, 0x00, 2, 0, 0, 0, 0, 0, 16, 0, 10, 5, 0, 10, 15, 0, 0, 0), type);
  // the dataspace (IV.A.2.b, version 1, rank 1, maximum given): 4 float32 -> 8 float16
  const space = onlyAt(bytes, Uint8Array.of(1, 1, 1, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0));
  bytes[space + 8] = 8;
  bytes[space + 16] = 8;
  assert.equal(await sameAsH5wasm('float16.h5', bytes), 'jsfive');
  const h5 = await openHdf5Memory(bytes, 'float16.h5', 'the file');
  assert.equal(h5.dtype(h5.get('/f2')!), '<f2');
  assert.deepEqual([...(await h5.readFloat32(h5.get('/f2')!))], [1, -2, 65504, 2 ** -24, -0, Infinity, NaN, Math.fround(0x155 / 1024 * 0.25 + 0.25)]);
  h5.close();
});

test('every integer and float type, scalars and attributes: jsfive, same values as h5wasm', async () => {
  const bytes = await build((f) => {
    f.create_attribute('model_config', '{"class_name": "Sequential"}');
    f.create_attribute('names', ['a', 'bb', 'ccc'], [3], 'S3');
    f.create_attribute('count', 3, null, '<i8');
    f.create_attribute('scale', new Float64Array([0.5, 1e-300]), [2], '<d');
    f.create_attribute('empty', new Float32Array(0), [0], '<f');
    f.create_attribute('bytes', new Uint8Array([104, 105]), [2], '<B');
    const g = f.create_group('w') as unknown as H5File;
    g.create_dataset({ name: 'f4', data: new Float32Array(seq(12)), shape: [3, 4], dtype: '<f' });
    g.create_dataset({ name: 'f8', data: new Float64Array(seq(7, (i) => Math.PI ** i / 3)), shape: [7], dtype: '<d' });
    g.create_dataset({ name: 'i1', data: new Int8Array([-128, -1, 0, 127]), shape: [4], dtype: '<b' });
    g.create_dataset({ name: 'u1', data: new Uint8Array([0, 1, 255]), shape: [3], dtype: '<B' });
    g.create_dataset({ name: 'i2', data: new Int16Array([-300, 2, 30000]), shape: [3], dtype: '<h' });
    g.create_dataset({ name: 'u4', data: new Uint32Array([0, 4294967295, 16777217]), shape: [3], dtype: '<I' });
    g.create_dataset({ name: 'i8', data: new BigInt64Array([-(2n ** 62n), 2n ** 53n + 1n, -5n]), shape: [3], dtype: '<q' });
    g.create_dataset({ name: 'scalar', data: new Float32Array([2.5]), shape: [], dtype: '<f' });
    g.create_dataset({ name: 'empty', data: new Float32Array(0), shape: [0, 4], dtype: '<f' });
  });
  assert.equal(await sameAsH5wasm('types.h5', bytes), 'jsfive');
});

test('chunked and gzip-compressed datasets: jsfive opens the file, h5wasm reads those datasets, same values', async () => {
  const bytes = await build((f) =>
    kerasLayout(f, (g, name) => {
      g.create_dataset({ name, data: new Float32Array(seq(20)), shape: [4, 5], dtype: '<f', chunks: [2, 2] });
      g.create_dataset({ name: 'zipped', data: new Float32Array(seq(64)), shape: [8, 8], dtype: '<f', chunks: [8, 8], compression: 'gzip', compression_opts: 4 } as never);
      g.create_dataset({ name: 'plain', data: new Float32Array(seq(3)), shape: [3], dtype: '<f' });
    }),
  );
  assert.equal(await sameAsH5wasm('chunked.h5', bytes), 'jsfive');
});

test('files jsfive does not read exactly open through h5wasm with the same answers', async () => {
  const cases: [string, (f: H5File) => void, object?][] = [
    ['superblock 3', (f) => kerasLayout(f, (g, name) => g.create_dataset({ name, data: new Float32Array(seq(4)), shape: [4], dtype: '<f' })), { libver: 'latest' }],
    ['creation order', (f) => kerasLayout(f, (g, name) => g.create_dataset({ name, data: new Float32Array(seq(4)), shape: [4], dtype: '<f' })), { track_order: true }],
    [
      'soft link',
      (f) =>
        kerasLayout(f, (g, name) => {
          g.create_dataset({ name, data: new Float32Array(seq(4)), shape: [4], dtype: '<f' });
          (g as unknown as { create_soft_link(t: string, n: string): void }).create_soft_link('/dense/dense/kernel:0', 'alias');
        }),
    ],
    ['non-ASCII string', (f) => f.create_attribute('model_config', '{"name": "dénse"}')],
  ];
  for (const [label, fill, options] of cases) {
    assert.equal(await sameAsH5wasm(label, await build(fill, options)), 'h5wasm', label);
  }
});
