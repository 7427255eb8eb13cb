/**
 * The viewer's model work in a real worker thread (the built dist/worker.js through extension/worker/node.ts), as
 * the extension host runs it: the file opens there and the host gets the same summary as an in-process
 * ModelSession (source of truth: the session, whose numbers test/extension/modelSession.test.ts checks against
 * h5wasm); a weight read comes back; the test-only faults (KERAS_LENS_TEST_FAULTS spec) really hang or blow the
 * worker's heap, the watchdog ends it with one line naming the file and the operation, and the next request opens
 * the file again in a fresh worker. Needs `npm run build`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelSession } from '../../extension/modelSession';
import { RemoteModel } from '../../extension/remoteModel';
import { nodeWorkerSpawner } from '../../extension/worker/node';
import { parseFaults } from '../../extension/worker/faults';
import { capWasmMemory } from '../../extension/worker/memoryCap';

const ROOT = join(__dirname, '../..');
const WORKER = join(ROOT, 'dist/worker.js');
const MODEL = join(ROOT, '../shared/keras-reference/dl4j/examples/simple_lstm/simple_lstm_tf_keras_2_model.h5');
const skip = existsSync(WORKER) ? false : 'run npm run build first';

function remote(path: string, faults = '', timeoutMs = 20_000, memoryLimitMB = 256) {
  return new RemoteModel({ path, maxTensorElements: 1e6, timeoutMs, spawn: nodeWorkerSpawner(WORKER, { memoryLimitMB, faults }) });
}

test('open and a weight read in the worker give what an in-process session gives', { skip, timeout: 60_000 }, async () => {
  const here = await ModelSession.open(MODEL, { maxTensorElements: 1e6 });
  const there = remote(MODEL);
  try {
    const opened = await there.open();
    assert.deepEqual(opened.summary, here.summary());
    assert.equal(opened.report.totalParams, 10451);
    const req = { type: 'getWeight' as const, layer: 'lstm_1', weight: 'lstm_1/kernel:0' };
    assert.deepEqual(await there.answer(req), await here.answer(req));
    assert.equal(there.client.generation, 1);
  } finally {
    here.close();
    there.close();
  }
});

test('a hang while reading a weight: one line naming file and operation, then the file works again', { skip, timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kl-worker-'));
  const path = join(dir, 'hang_me.h5');
  copyFileSync(MODEL, path);
  const m = remote(path, 'hang:weight:hang_me', 1500);
  try {
    await m.open();
    const t0 = Date.now();
    const r = await m.answer({ type: 'getWeight', layer: 'lstm_1', weight: 'lstm_1/kernel:0' });
    assert.equal(r.type, 'error');
    assert.equal(
      (r as { message: string }).message,
      "hang_me.h5: reading weight 'lstm_1/kernel:0' of layer 'lstm_1' did not finish within 1.5 s (kerasLens.worker.timeoutSeconds); its worker was stopped",
    );
    assert.ok(Date.now() - t0 < 10_000);
    assert.equal(m.client.alive, false, 'the hung worker is gone');
    // The summary comes back from a fresh worker (the file is opened again there).
    const s = await m.answer({ type: 'getSummary' });
    assert.equal(s.type, 'summary');
    assert.equal(m.client.generation, 2);
  } finally {
    m.close();
  }
});

test('a memory blow-up while opening: the heap cap ends the worker, one line says so', { skip, timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kl-worker-'));
  const path = join(dir, 'oom_me.h5');
  copyFileSync(MODEL, path);
  const m = remote(path, 'oom:open:oom_me', 30_000, 128);
  try {
    const r = await m.answer({ type: 'getSummary' });
    assert.equal(r.type, 'error');
    assert.match((r as { message: string }).message, /^oom_me\.h5: opening the file stopped the worker: ran out of memory \(the cap is 128 MB, kerasLens\.worker\.memoryLimitMB\)$/);
  } finally {
    m.close();
  }
  // A model in another worker opens as usual afterwards.
  const good = remote(MODEL);
  try {
    assert.equal((await good.open()).report.totalParams, 10451);
  } finally {
    good.close();
  }
});

test('fault specs: parsed only from the test spec; an empty spec is inert', () => {
  assert.deepEqual(parseFaults(''), []);
  assert.deepEqual(parseFaults(undefined), []);
  assert.deepEqual(parseFaults('hang:open:a.h5, oom:weight:b, nonsense, boom:open:x'), [
    { kind: 'hang', op: 'open', name: 'a.h5' },
    { kind: 'oom', op: 'weight', name: 'b' },
  ]);
});

test('the WebAssembly memory cap refuses growth past it (emscripten then fails the allocation)', () => {
  capWasmMemory(2);
  try {
    const mem = new WebAssembly.Memory({ initial: 16 }); // 1 MB
    assert.equal(mem.grow(8), 16); // to 1.5 MB: fine
    assert.throws(() => mem.grow(16), /RangeError|cap of 2 MB/);
    assert.equal(mem.buffer.byteLength, 24 * 64 * 1024);
  } finally {
    capWasmMemory(0);
  }
});
