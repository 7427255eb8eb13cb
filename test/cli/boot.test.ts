/**
 * src/cli/boot.ts: the CLI runner's bundle loaded from a V8 code cache. Source of truth: V8's own verdict on a cache
 * (vm.Script#cachedDataRejected) and the bundle's behaviour — a cache must never make a bundle run other code than
 * its source says, whatever the cache file holds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBundle, writeCodeCache } from '../../src/cli/boot';

const dir = mkdtempSync(join(tmpdir(), 'keras-lens-boot-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

/** A CommonJS file whose `answer()` returns `value` (same length for every one-digit value). */
function bundle(name: string, value: number): string {
  const file = join(dir, name);
  writeFileSync(file, `const path = require('node:path');\nexports.answer = () => ${value};\nexports.here = () => path.basename(__filename);\n`);
  return file;
}

test('a cache made for the bundle is accepted by V8 and the bundle runs as required', async () => {
  const file = bundle('a.js', 7);
  assert.equal(loadBundle(file).cache, 'absent');
  const bytes = await writeCodeCache(file, async (ex) => {
    assert.equal((ex.answer as () => number)(), 7); // warm-up runs the bundle's own code
  });
  assert.ok(bytes > 50);
  const loaded = loadBundle(file);
  assert.equal(loaded.cache, 'accepted');
  assert.equal((loaded.exports.answer as () => number)(), 7);
  assert.equal((loaded.exports.here as () => string)(), 'a.js', '__filename and require are the bundle’s own');
});

test('a cache made for another bundle of the same length is ignored: the new source runs', async () => {
  const file = bundle('b.js', 1);
  await writeCodeCache(file);
  const before = readFileSync(file, 'utf8');
  bundle('b.js', 2); // same length: V8's own check (source length) would take the stale code
  assert.equal(readFileSync(file, 'utf8').length, before.length);
  const loaded = loadBundle(file);
  assert.equal(loaded.cache, 'other-bundle');
  assert.equal((loaded.exports.answer as () => number)(), 2);
});

test('a damaged cache is rejected by V8 and the bundle is compiled from source', async () => {
  const file = bundle('c.js', 3);
  await writeCodeCache(file);
  const raw = readFileSync(`${file}.cache`);
  const eol = raw.indexOf(0x0a);
  for (let i = eol + 1; i < raw.length; i++) raw[i] ^= 0x5a; // header intact, V8 data garbage
  writeFileSync(`${file}.cache`, raw);
  // in a fresh process: this one holds the compiled script in V8's in-memory cache, which would be used instead
  const code = `const { loadBundle } = require('./src/cli/boot.ts'); const l = loadBundle(${JSON.stringify(file)}); console.log(l.cache, l.exports.answer());`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', code], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'rejected 3');
});

test('the build writes dist/cli-worker.js.cache, which this Node accepts, and the runner holds no import()', () => {
  const build = spawnSync(process.execPath, ['scripts/build.mjs'], { encoding: 'utf8' });
  assert.equal(build.status, 0, build.stderr);
  const runner = readFileSync('dist/cli-worker.js', 'utf8');
  assert.doesNotMatch(runner, /[^\w$.]import\(/, 'a script run from a code cache has no loader for import()');
  const loaded = loadBundle(join(process.cwd(), 'dist/cli-worker.js'));
  assert.equal(loaded.cache, 'accepted');
  assert.equal(typeof loaded.exports.main, 'function');
});

