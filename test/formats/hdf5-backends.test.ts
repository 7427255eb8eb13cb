// The two HDF5 readers agree: every HDF5 file in test/fixtures and ../shared/keras-reference (the model.weights.h5
// inside each .keras archive too) walked whole by jsfive (src/formats/hdf5-jsfive.ts) and by h5wasm
// (src/formats/hdf5-h5wasm.ts). Oracle: h5wasm, i.e. the HDF5 C library. Same keys in the same order, attribute names,
// string / string-list / number attributes, dataset shapes and dtypes, float32 values bit for bit, and the same
// answers for paths HDF5 resolves specially ('', '.', '//', '/absolute').
// It also counts the files jsfive reads (the rest go to h5wasm) and fails when any file it reads today (all of them,
// every Keras-written reference file among them) goes to h5wasm instead.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { unzipSync } from 'fflate';
import '../fixtures/fast-h5wasm';
import { openH5wasmMemory } from '../../src/formats/hdf5-h5wasm';
import { openJsfive } from '../../src/formats/hdf5-jsfive';
import { compareTrees } from './hdf5-compare';

const ROOT = join(__dirname, '../..');
const FIXTURES = join(ROOT, 'test/fixtures');
const REFERENCE = join(ROOT, '../shared/keras-reference');

/**
 * Today jsfive reads every one of these files (155 committed fixtures, written by h5py or by h5wasm in
 * test/fixtures/writers.ts, and 90 Keras-written reference files). Files listed here may go to h5wasm instead (none
 * now); any other file that does fails the test, as does a corpus smaller than when this test was written.
 */
const H5WASM_EXPECTED = new Set<string>([]);
const MIN_FILES = 245;

function hdf5Files(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(h5|hdf5|keras)$/.test(name)) out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}

/** The HDF5 bytes of a file: itself, or a .keras archive's model.weights.h5; null when it has none. */
function hdf5Bytes(path: string): Uint8Array | null {
  const bytes = new Uint8Array(readFileSync(path));
  if (!path.endsWith('.keras')) return bytes;
  try {
    return unzipSync(bytes)['model.weights.h5'] ?? null;
  } catch {
    return null;
  }
}

test('jsfive and h5wasm (the HDF5 C library) read every fixture and reference HDF5 file alike', async () => {
  const files = [...hdf5Files(FIXTURES), ...hdf5Files(REFERENCE)];
  let jsfiveRead = 0;
  let datasets = 0;
  const refused: string[] = [];
  for (const file of files) {
    const bytes = hdf5Bytes(file);
    const name = relative(ROOT, file);
    if (!bytes) continue;
    let why = '';
    const js = openJsfive(bytes, name, () => openH5wasmMemory(bytes, name, 'the file'), (w) => (why = w));
    if (!js) {
      refused.push(`${name}: ${why}`);
      continue;
    }
    jsfiveRead++;
    const h5 = await openH5wasmMemory(bytes, name, 'the file');
    try {
      datasets += await compareTrees(name, js, h5);
    } finally {
      h5.close();
      js.close();
    }
  }
  console.log(`jsfive read ${jsfiveRead} of ${files.length} HDF5 files (${datasets} datasets compared); h5wasm: ${refused.length}`);
  for (const r of refused) console.log(`  h5wasm reads ${r}`);
  assert.ok(files.length >= MIN_FILES, `only ${files.length} HDF5 files found (${MIN_FILES} when this test was written)`);
  const unexpected = refused.filter((r) => !H5WASM_EXPECTED.has(r.slice(0, r.indexOf(': '))));
  assert.deepEqual(unexpected, [], 'files jsfive no longer reads (every Keras-written reference file among them must stay)');
});
