/**
 * CLI start-up path (issue 11 item 3), asserted as behaviour, not timed: for an HDF5 model the watchdog (dist/cli.js,
 * main thread) compiles h5wasm's WebAssembly once while the worker thread starts, and the worker instantiates that
 * compiled module instead of compiling the 3.5 MB file again; for a .keras archive (h5wasm's in-memory build) the
 * watchdog compiles nothing. Source of truth: a probe preloaded with `node -r` into both threads records every
 * WebAssembly.compile / WebAssembly.instantiate of h5wasm-sized input; the report must equal the unprobed run's.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const H5 = '../shared/keras-reference/dl4j/examples/functional_lstm/lstm_functional_tf_keras_2.h5';
const KERAS = 'test/fixtures/keras3-real/stacked_initial_state/model.keras';

const PROBE = `
const { isMainThread } = require('node:worker_threads');
const who = isMainThread ? 'main' : 'worker';
const say = (s) => process._rawDebug('KL-PROBE ' + who + ' ' + s);
const big = (b) => b instanceof WebAssembly.Module || (b && b.byteLength > 1000000);
const compile = WebAssembly.compile, instantiate = WebAssembly.instantiate, Module = WebAssembly.Module;
WebAssembly.compile = function (b) { if (big(b)) say('compile'); return compile.call(this, b); };
WebAssembly.instantiate = function (b, i) { if (big(b)) say('instantiate ' + (b instanceof Module ? 'module' : 'bytes')); return instantiate.call(this, b, i); };
`;

let probe = '';
before(() => {
  const build = spawnSync(process.execPath, ['scripts/build.mjs'], { encoding: 'utf8' });
  assert.equal(build.status, 0, build.stderr);
  probe = join(mkdtempSync(join(tmpdir(), 'keras-lens-start-')), 'probe.js');
  writeFileSync(probe, PROBE);
});

function run(withProbe: boolean, ...args: string[]): { code: number | null; stdout: string; events: string[]; other: string } {
  const r = spawnSync(process.execPath, [...(withProbe ? ['-r', probe] : []), 'bin/keras-lens.js', ...args], { encoding: 'utf8' });
  const lines = r.stderr.split('\n').filter((l) => l.length > 0);
  return {
    code: r.status,
    stdout: r.stdout,
    events: lines.filter((l) => l.startsWith('KL-PROBE ')).map((l) => l.slice('KL-PROBE '.length)),
    other: lines.filter((l) => !l.startsWith('KL-PROBE ')).join('\n'),
  };
}

test('HDF5 model: compiled once, by the watchdog; the worker instantiates that module; same report', () => {
  const probed = run(true, 'inspect', H5, '--json');
  assert.equal(probed.code, 0, probed.other);
  assert.equal(probed.other, '');
  assert.deepEqual(probed.events, ['main compile', 'worker instantiate module']);
  const plain = run(false, 'inspect', H5, '--json');
  assert.equal(plain.code, 0, plain.other);
  assert.deepEqual(JSON.parse(probed.stdout), JSON.parse(plain.stdout));
});

test('.keras archive: the watchdog compiles nothing; the worker loads the in-memory build itself', () => {
  const probed = run(true, 'inspect', KERAS, '--json');
  assert.equal(probed.code, 0, probed.other);
  assert.deepEqual(probed.events, ['worker instantiate bytes']);
  assert.ok(JSON.parse(probed.stdout).layers.length > 0);
});
