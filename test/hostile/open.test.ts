// Hostile and broken files through the core API, in process: openModelFile -> inspectModel -> buildModel ->
// parseInputJson -> predict. Every failure must be a KerasLensError with ONE line naming the file; nothing may be
// written beside the model file; no prototype pollution; a layer named like HTML comes out of inspect verbatim.
//
// Decisions (documented here and in scratch/hostile-findings.md):
//  - a config that disagrees with its weights: `inspect` still lists the file and adds a note naming the layer;
//    `predict` refuses with one line naming the layer and what disagrees.
//  - a custom layer class: `inspect` lists it (class + raw weights) with a note; `predict` refuses naming layer + class.
//  - NaN/Infinity in weights: `predict` refuses naming the weight; inputs holding non-finite numbers are refused.
import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openModelFile, inspectModel, buildModel, predict, KerasLensError } from '../../src/index';
import { parseInputJson } from '../../src/engine/predict';
import {
  writeHostileModels,
  writeHostileInputs,
  snapshot,
  HOSTILE_NAME,
  CUSTOM_CLASS,
  type HostileModels,
  type HostileInputs,
} from './hostileFiles';

let dir: string;
let M: HostileModels;
let I: HostileInputs;
let before_: Record<string, string>;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'keras-lens-hostile-'));
  M = await writeHostileModels(dir);
  I = writeHostileInputs(dir);
  before_ = snapshot(dir);
});

after(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Asserts a clean refusal: KerasLensError, one line, naming the file, no stack frames; returns the message. */
function assertClean(err: unknown, file: string, re?: RegExp): string {
  assert.ok(err instanceof KerasLensError, `expected a KerasLensError for ${file}, got ${err instanceof Error ? `${err.name}: ${err.message}` : typeof err + ' ' + String(err)}`);
  const msg = err.message;
  assert.ok(!/[\r\n]/.test(msg), `message is not one line: ${JSON.stringify(msg)}`);
  assert.ok(!/\n\s+at |\bat .*\(.*:\d+:\d+\)/.test(msg), `message holds a stack frame: ${msg}`);
  assert.ok(msg.startsWith(`${file}: `), `message does not start with the file name '${file}': ${msg}`);
  assert.ok(msg.length < 400, `message too long (${msg.length}): ${msg}`);
  if (re) assert.match(msg, re);
  return msg;
}

async function rejects(p: Promise<unknown>, file: string, re?: RegExp): Promise<string> {
  try {
    await p;
  } catch (e) {
    return assertClean(e, file, re);
  }
  assert.fail(`expected ${file} to be refused`);
}

/** open -> inspect -> build -> predict(good input); returns where it stopped and the message. */
async function pipeline(path: string) {
  const t0 = performance.now();
  let stage = 'open';
  try {
    const file = await openModelFile(path);
    try {
      stage = 'inspect';
      const report = await inspectModel(file);
      stage = 'build';
      const model = await buildModel(file);
      stage = 'predict';
      const inputs = parseInputJson(readFileSync(I.good, 'utf8'), model, I.good);
      const result = await predict(model, inputs);
      return { stage: 'done', report, result, ms: performance.now() - t0 };
    } finally {
      file.close();
    }
  } catch (e) {
    return { stage, error: e, ms: performance.now() - t0 };
  }
}

test('sanity: the unmodified fixture and the real Keras file work end to end', async () => {
  const r = await pipeline(M.good);
  assert.equal(r.stage, 'done', String(r.error));
  assert.ok(r.result!.outputs[0].data.every((v) => Number.isFinite(v)));
  const k = await pipeline(M.goodKeras);
  assert.equal(k.stage, 'done', String(k.error));
  const file = await openModelFile(M.realH5);
  try {
    const report = await inspectModel(file);
    assert.ok(report.layers.some((l) => l.className === 'LSTM'));
  } finally {
    file.close();
  }
});

const refusedAtOpen: [string, (m: HostileModels) => string, RegExp][] = [
  ['random bytes named .h5', (m) => m.randomBytes, /not a Keras model file/],
  ['random bytes behind an HDF5 signature', (m) => m.randomWithSignature, /HDF5|damaged|truncated/i],
  ['an empty file', (m) => m.empty, /empty/],
  ['a valid HDF5 file that is not Keras', (m) => m.notKeras, /not a Keras model/],
  ['a .json architecture nested 100k levels', (m) => m.deepConfigJson, /nested deeper/],
  ['a .keras that is not a zip', (m) => m.notZipKeras, /not a Keras model file|zip/],
  ['a .keras whose zip directory claims a 64 KB extra field', (m) => m.zipBadExtra, /zip|damaged/],
  ['a directory', (m) => m.directory, /directory/],
  ['a missing file', (m) => m.missing, /not found/],
];

for (const [name, pick, re] of refusedAtOpen) {
  test(`refused at open: ${name}`, async () => {
    const path = pick(M);
    const t0 = performance.now();
    await rejects(openModelFile(path), path, re);
    assert.ok(performance.now() - t0 < 5000, 'took more than 5 s');
  });
}

test('a file on which the HDF5 C library aborts: one clean line, and the reader keeps working afterwards', async () => {
  const r = await pipeline(M.abortingH5);
  assert.notEqual(r.stage, 'done');
  assertClean(r.error, M.abortingH5, /HDF5|damaged/);
  const again = await pipeline(M.good);
  assert.equal(again.stage, 'done', `after the abort: ${String(again.error)}`);
});

test('a file on which the HDF5 C library loops forever (damaged global heap) is refused in process, in seconds', () => {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(__dirname, 'openOnce.ts'), M.hangingH5], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.signal, null, `the in-process open did not return within 30 s (killed by ${r.signal})`);
  const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { ok?: boolean; error?: string; clean?: boolean };
  assert.ok(out.clean, `not a clean refusal: ${r.stdout} ${r.stderr.slice(0, 500)}`);
  assert.match(out.error ?? '', /global heap|damaged/);
  assert.ok(!/[\r\n]/.test(out.error ?? ''));
  assert.ok(performance.now() - t0 < 30_000);
});

test('a .keras whose weights are not HDF5 is refused cleanly', async () => {
  await rejects(openModelFile(M.garbageWeightsKeras), M.garbageWeightsKeras, /HDF5|weights/);
});

test('libraries print nothing to stderr while hostile files are refused (no HDF5-DIAG stacks, no Aborted())', async () => {
  // h5wasm writes HDF5's error stack straight to fd 2 unless its throwing error handler is active.
  const fs = require('node:fs') as { writeSync: (...a: unknown[]) => number };
  const originalWriteSync = fs.writeSync;
  const originalWrite = process.stderr.write;
  const captured: string[] = [];
  fs.writeSync = (fd: unknown, buf: unknown, ...rest: unknown[]) => {
    if (fd === 2) {
      if (typeof buf === 'string') {
        captured.push(buf);
        return Buffer.byteLength(buf);
      }
      // emscripten passes (fd, HEAP8, offset, length, position)
      const view = buf as Uint8Array;
      const offset = typeof rest[0] === 'number' ? rest[0] : 0;
      const length = typeof rest[1] === 'number' ? rest[1] : view.byteLength - offset;
      captured.push(Buffer.from(view.buffer, view.byteOffset + offset, length).toString());
      return length;
    }
    return originalWriteSync(fd, buf, ...rest);
  };
  process.stderr.write = ((chunk: unknown) => {
    captured.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  try {
    for (const p of [M.randomWithSignature, M.notKeras, M.garbageWeightsKeras, ...M.truncated]) {
      const r = await pipeline(p);
      assert.notEqual(r.stage, 'done');
    }
  } finally {
    fs.writeSync = originalWriteSync;
    process.stderr.write = originalWrite;
  }
  assert.equal(captured.join('').slice(0, 600), '');
});

test('refused at open: truncated real .h5 files (1%, 25%, 50%, 90%, 99.9%)', async () => {
  for (const path of M.truncated) await rejects(openModelFile(path), path, /truncated|damaged/i);
});

test('a zip bomb (300 MB of zeros in ~300 KB) is refused by a cap, quickly, without inflating it', async () => {
  const t0 = performance.now();
  const rss0 = process.memoryUsage().rss;
  await rejects(openModelFile(M.zipBomb), M.zipBomb, /zip bomb|limit/i);
  const ms = performance.now() - t0;
  const grew = process.memoryUsage().rss - rss0;
  assert.ok(ms < 2000, `took ${ms.toFixed(0)} ms`);
  assert.ok(grew < 100 * 1024 * 1024, `RSS grew by ${(grew / 1048576).toFixed(0)} MB`);
  // An explicit smaller cap is honoured too (the hidden budget must not be larger than asked).
  await rejects(openModelFile(M.zipBomb, { maxInflateBytes: 1024 * 1024 }), M.zipBomb, /limit|zip bomb/i);
});

test('an HDF5 bomb (a few KB whose weights claim 800M floats): inspect lists it, predict refuses by a limit, memory bounded', async () => {
  const file = await openModelFile(M.hugeClaim);
  try {
    const report = await inspectModel(file);
    const dense = report.layers.find((l) => l.name === 'dense_1');
    assert.deepEqual(dense?.weights.map((w) => w.shape), [[4, 200_000_000], [200_000_000]]);
  } finally {
    file.close();
  }
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  const r = await pipeline(M.hugeClaim);
  assert.notEqual(r.stage, 'done');
  assertClean(r.error, M.hugeClaim, /dense_1.*(limit|too large|memory)|(limit|too large|memory).*dense_1/i);
  assert.ok(performance.now() - t0 < 5000, 'took more than 5 s');
  assert.ok(process.memoryUsage().rss - rss0 < 500 * 1024 * 1024, 'allocated the claimed size');
  // and the reader still works afterwards (no emscripten abort left it dead)
  const again = await pipeline(M.good);
  assert.equal(again.stage, 'done', String(again.error));
});

test('TF.js model.json: weight shards outside the model folder are refused; malformed paths and short shards fail cleanly', async () => {
  const good = await pipeline(M.tfjs.good);
  assert.equal(good.stage, 'done', String(good.error));
  for (const p of [M.tfjs.traversal, M.tfjs.absolute]) await rejects(openModelFile(p), p, /outside|refused/);
  const bad = await pipeline(M.tfjs.badEscape);
  assert.notEqual(bad.stage, 'done');
  assertClean(bad.error, M.tfjs.badEscape, /shard|path/);
  const short = await pipeline(M.tfjs.shortShard);
  assert.notEqual(short.stage, 'done');
  assertClean(short.error, M.tfjs.shortShard, /shard|past the end|bytes/);
  // a shard that is a symlink to a file outside the folder: refused, or at least not read silently
  const link = await pipeline(M.tfjs.symlinkOut);
  assert.notEqual(link.stage, 'done', 'read weights through a symlink that leaves the model folder');
  assertClean(link.error, M.tfjs.symlinkOut, /outside|symlink|link/);
});

test('a .keras without config.json: inspect lists its weights (weights only), predict asks for an architecture', async () => {
  const r = await pipeline(M.noConfigKeras);
  assert.ok(r.stage === 'build' || r.stage === 'predict' || r.stage === 'open', `stopped at ${r.stage}`);
  assertClean(r.error, M.noConfigKeras, /architecture|config\.json/);
});

test('config/weights disagreement (units): inspect lists with a note naming the layer, predict refuses naming it', async () => {
  const r = await pipeline(M.unitsMismatch);
  assert.ok(r.stage === 'build' || r.stage === 'predict', `stopped at ${r.stage}: ${String(r.error)}`);
  assertClean(r.error, M.unitsMismatch, /lstm_1/);
  const file = await openModelFile(M.unitsMismatch);
  try {
    const report = await inspectModel(file);
    assert.ok(report.layers.some((l) => l.name === 'lstm_1' && l.weights.length === 3));
    assert.ok((report.notes ?? []).some((n) => /lstm_1/.test(n)), `no note names lstm_1: ${JSON.stringify(report.notes)}`);
  } finally {
    file.close();
  }
});

test('config/weights disagreement (Dense kernel shape): predict refuses naming layer and shapes; inspect notes it', async () => {
  const r = await pipeline(M.shapeMismatch);
  assertClean(r.error, M.shapeMismatch, /dense_1.*\(4, ?3\)|dense_1.*\(3\)/);
  const file = await openModelFile(M.shapeMismatch);
  try {
    const report = await inspectModel(file);
    assert.ok((report.notes ?? []).some((n) => /dense_1/.test(n)), `no note names dense_1: ${JSON.stringify(report.notes)}`);
  } finally {
    file.close();
  }
});

test('missing weights: predict refuses naming the layer; inspect notes it', async () => {
  const r = await pipeline(M.missingWeights);
  assertClean(r.error, M.missingWeights, /dense_1.*no weights|no weights.*dense_1/);
  const file = await openModelFile(M.missingWeights);
  try {
    const report = await inspectModel(file);
    assert.ok((report.notes ?? []).some((n) => /dense_1/.test(n)), `no note names dense_1: ${JSON.stringify(report.notes)}`);
  } finally {
    file.close();
  }
});

test('a custom layer class: inspect lists it with its weights and a note; predict refuses naming layer and class', async () => {
  const r = await pipeline(M.customLayer);
  assertClean(r.error, M.customLayer, new RegExp(`attention_1.*${CUSTOM_CLASS}`));
  const file = await openModelFile(M.customLayer);
  try {
    const report = await inspectModel(file);
    const layer = report.layers.find((l) => l.name === 'attention_1');
    assert.ok(layer, 'custom layer not listed');
    assert.equal(layer.className, CUSTOM_CLASS);
    assert.deepEqual(layer.weights.map((w) => [w.name, w.shape]), [['attention_1/W:0', [4, 4]]]);
    assert.ok((report.notes ?? []).some((n) => n.includes('attention_1') && n.includes(CUSTOM_CLASS)), `no note names the custom layer: ${JSON.stringify(report.notes)}`);
  } finally {
    file.close();
  }
});

test('NaN/Infinity in weights: predict refuses, naming the weight, instead of printing NaN', async () => {
  const r = await pipeline(M.nanWeights);
  assert.notEqual(r.stage, 'done', `predicted ${r.result ? Array.from(r.result.outputs[0].data).join(',') : ''} from NaN weights`);
  assertClean(r.error, M.nanWeights, /lstm_1\/kernel:0.*(NaN|non-finite)/);
});

test('a layer named like HTML comes out of inspect verbatim, as data', async () => {
  const file = await openModelFile(M.hostileName);
  try {
    const report = await inspectModel(file);
    const layer = report.layers.find((l) => l.name === HOSTILE_NAME);
    assert.ok(layer, `no layer named ${HOSTILE_NAME}: ${report.layers.map((l) => l.name).join(', ')}`);
    assert.ok(layer.weights.every((w) => w.layer === HOSTILE_NAME && w.name.startsWith(HOSTILE_NAME + '/')));
    assert.ok(JSON.stringify(report).includes(`"name":"${HOSTILE_NAME}"`));
  } finally {
    file.close();
  }
  const r = await pipeline(M.hostileName);
  assert.equal(r.stage, 'done', String(r.error));
});

test('__proto__/constructor keys in a model config pollute nothing (the file is either refused cleanly or read)', async () => {
  const r = await pipeline(M.protoConfig);
  if (r.stage !== 'done') assertClean(r.error, M.protoConfig);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal((Object.prototype as Record<string, unknown>).polluted, undefined);
  assert.equal((Object as unknown as Record<string, unknown>).polluted, undefined);
});

test('__proto__/constructor keys in a .keras config.json and in a --config architecture pollute nothing', async () => {
  const r = await pipeline(M.protoKeras);
  if (r.stage !== 'done') assertClean(r.error, M.protoKeras);
  let file;
  try {
    file = await openModelFile(M.weightsOnly, { configPath: M.protoArchitecture });
    const report = await inspectModel(file);
    assert.ok(report.layers.some((l) => l.name === 'lstm_1'));
    const model = await buildModel(file);
    await predict(model, parseInputJson(readFileSync(I.good, 'utf8'), model, I.good));
  } catch (e) {
    assert.ok(e instanceof KerasLensError && !/[\r\n]/.test(e.message) && /architecture\.json|weights\.h5/.test(e.message), String(e));
  } finally {
    file?.close();
  }
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal((Object.prototype as Record<string, unknown>).polluted, undefined);
});

test('hostile input JSON is refused with one line naming the input file', async () => {
  const file = await openModelFile(M.good);
  try {
    const model = await buildModel(file);
    const cases: [string, RegExp][] = [
      [I.invalid, /not valid JSON/],
      [I.deep, /nested|deep/],
      [I.strings, /not a number/],
      [I.proto, /input|__proto__/],
      [I.constructorKey, /input|constructor/],
      [I.wrongShape, /\(2, ?2\).*expects.*\(.*5, ?3\)/],
      [I.infinity, /finite|Infinity/],
      [I.nanLiteral, /not valid JSON|NaN/],
      [I.empty, /empty|not valid JSON/],
    ];
    for (const [path, re] of cases) {
      const t0 = performance.now();
      let err: unknown;
      try {
        parseInputJson(readFileSync(path, 'utf8'), model, path);
      } catch (e) {
        err = e;
      }
      assertClean(err, path, re);
      assert.ok(performance.now() - t0 < 2000);
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  } finally {
    file.close();
  }
});

test('read-only: every model file is byte-identical afterwards and nothing new appeared beside it', async () => {
  // run everything once more so this test does not depend on test order
  for (const p of [M.good, M.goodKeras, M.realH5, M.nanWeights, M.customLayer, M.unitsMismatch, M.hostileName, M.noConfigKeras, M.zipBomb, ...M.truncated]) {
    await pipeline(p);
  }
  assert.deepEqual(snapshot(dir), before_);
});
