/**
 * openModelBytes (src/formats/bytes.ts, how the browser opens files) against openModelFile (open.ts, from disk):
 * for every example model (scripts/examples.ts: files Keras wrote, from ../shared/keras-reference, and the seeded
 * fixture writers) the two give the same format, architecture and weight values, and bad bytes give the same one-line
 * refusal. Source of truth: openModelFile on the same file, whose readings the format and oracle tests check against
 * Keras; the truncation case is a real file cut short.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { writeExamples } from '../../scripts/examples';
import { openModelBytes } from '../../src/formats/bytes';
import { openModelFile } from '../../src/formats/open';
import { KerasLensError } from '../../src/model/types';

const dir = mkdtempSync(join(tmpdir(), 'kl-bytes-'));

async function refusal(p: Promise<unknown>, what = 'the file'): Promise<string> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof KerasLensError, `a KerasLensError, not ${String(e)}`);
    return (e as Error).message;
  }
  assert.fail(`${what} was accepted`);
}

test('every example opens from bytes exactly as from disk (format, layers, weight values)', async () => {
  const examples = await writeExamples(dir);
  assert.ok(examples.length >= 6, 'the examples were written');
  for (const ex of examples) {
    const path = join(dir, ex.file);
    const fromDisk = await openModelFile(path);
    const fromBytes = await openModelBytes({ name: basename(path), bytes: new Uint8Array(readFileSync(path)) });
    try {
      assert.equal(fromBytes.format, fromDisk.format, ex.file);
      assert.equal(fromBytes.kerasVersion, fromDisk.kerasVersion, ex.file);
      assert.deepEqual(JSON.parse(JSON.stringify(fromBytes.model)), JSON.parse(JSON.stringify(fromDisk.model)), `${ex.file}: architecture`);
      assert.deepEqual(fromBytes.layers.map((l) => [l.layer, l.weights.map((w) => [w.name, w.shape, w.dtype])]), fromDisk.layers.map((l) => [l.layer, l.weights.map((w) => [w.name, w.shape, w.dtype])]), ex.file);
      for (const [i, l] of fromDisk.layers.entries()) {
        for (const [j, w] of l.weights.entries()) {
          assert.deepEqual(await fromBytes.layers[i].weights[j].read(), await w.read(), `${ex.file}: ${w.name}`);
        }
      }
    } finally {
      fromDisk.close();
      fromBytes.close();
    }
  }
});

test('bad bytes: the same one-line refusal as the file on disk (truncated HDF5, cut .keras, not a model, empty)', async () => {
  const examples = await writeExamples(dir);
  const h5 = examples.find((e) => e.file.endsWith('.h5'))!.file;
  const keras = examples.find((e) => e.file.endsWith('.keras'))!.file;
  const half = (b: Uint8Array) => b.subarray(0, Math.floor(b.length / 2));
  const cases: [string, Uint8Array][] = [
    ['cut.h5', half(readFileSync(join(dir, h5)))],
    ['cut.keras', half(readFileSync(join(dir, keras)))],
    ['notes.h5', new TextEncoder().encode('hello, not a model')],
    ['empty.h5', new Uint8Array(0)],
  ];
  for (const [name, bytes] of cases) {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    const disk = await refusal(openModelFile(path), name);
    const mem = await refusal(openModelBytes({ name: path, bytes: new Uint8Array(bytes) }), name);
    assert.equal(mem, disk, name);
    assert.doesNotMatch(mem, /\n/, `${name}: one line`);
  }
});

test('a TF.js model.json with shards beside it is refused in one line from bytes (only its own bytes were given)', async () => {
  const json = JSON.stringify({
    modelTopology: { class_name: 'Sequential', config: { name: 's', layers: [{ class_name: 'Dense', config: { name: 'd', units: 1, batch_input_shape: [null, 2] } }] } },
    weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: [{ name: 'd/kernel', shape: [2, 1], dtype: 'float32' }] }],
  });
  const msg = await refusal(openModelBytes({ name: 'model.json', bytes: new TextEncoder().encode(json) }));
  assert.match(msg, /^model\.json: weight shard 'group1-shard1of1\.bin' cannot be read here/);
});
