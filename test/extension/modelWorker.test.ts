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
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelSession } from '../../extension/modelSession';
import { writeBigLstmModel } from './harness/bigModel';
import { RemoteModel } from '../../extension/remoteModel';
import { nodeWorkerSpawner } from '../../extension/worker/node';
import { parseFaults } from '../../extension/worker/faults';
import { capWasmMemory } from '../../extension/worker/memoryCap';
import { ModelService } from '../../extension/worker/service';
import { replyTransfers, type WorkerMessage } from '../../extension/worker/protocol';
import type { HostReply } from '../../extension/protocol';
import { MessageChannel } from 'node:worker_threads';

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
    const got = await there.answer(req);
    if (got.type !== 'weight') assert.fail(got.type);
    assert.ok(got.data.window.values instanceof Float32Array && got.data.heatmaps.every((h) => h.grid.values instanceof Float32Array), 'values crossed the thread as Float32Arrays');
    assert.deepEqual(got, await here.answer(req));
    const stats = { type: 'getStats' as const, layer: 'lstm_1', weight: 'lstm_1/recurrent_kernel:0' };
    assert.deepEqual(await there.answer(stats), await here.answer(stats));
    assert.equal(there.client.generation, 1);
  } finally {
    here.close();
    there.close();
  }
});

test('a table window asked right after the statistics of a big weight comes back before them (they give way per gate block)', { skip, timeout: 120_000 }, async () => {
  // Source of truth: the order of the replies (the client posts light calls in a yielding call's gaps, the session
  // yields before each block); the window's values against the in-process session's.
  const dir = mkdtempSync(join(tmpdir(), 'kl-stats-gap-'));
  const big = join(dir, 'big_lstm.h5');
  await writeBigLstmModel(big);
  const m = new RemoteModel({ path: big, maxTensorElements: 65536, timeoutMs: 60_000, spawn: nodeWorkerSpawner(WORKER, { memoryLimitMB: 1024, faults: '' }) });
  const here = await ModelSession.open(big, { maxTensorElements: 65536 });
  try {
    const ref = { layer: 'lstm_big', weight: 'lstm_big/kernel:0' };
    assert.equal((await m.answer({ type: 'getWeight', ...ref })).type, 'weight');
    const order: string[] = [];
    const window = { rowStart: 1000, rowEnd: 1040, colStart: 4000, colEnd: 4100 };
    const [stats, win] = await Promise.all([
      m.answer({ type: 'getStats', ...ref }).then((r) => (order.push(r.type), r)),
      m.answer({ type: 'getWindow', ...ref, window }).then((r) => (order.push(r.type), r)),
    ]);
    assert.deepEqual(order, ['window', 'stats']);
    assert.deepEqual(win, await here.answer({ type: 'getWindow', ...ref, window }));
    assert.deepEqual(stats, await here.answer({ type: 'getStats', ...ref }));
  } finally {
    m.close();
    here.close();
    rmSync(dir, { recursive: true, force: true });
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

test('a weight reply moves its values (transfer list) and the worker keeps the weight it caches', { timeout: 60_000 }, async () => {
  // Source of truth: an in-process session on the same file. The service posts through a real MessageChannel, as
  // worker/node.ts does on parentPort: a transferred buffer is emptied on the sending side.
  const here = await ModelSession.open(MODEL, { maxTensorElements: 1024 });
  const service = new ModelService({ memoryLimitMB: 0, faults: '' });
  const { port1, port2 } = new MessageChannel();
  const received: WorkerMessage[] = [];
  port2.on('message', (m: WorkerMessage) => received.push(m));
  let sent: { m: WorkerMessage; transfer: ArrayBuffer[] } | null = null;
  const post = (m: WorkerMessage, transfer: ArrayBuffer[] = []) => {
    if ('ok' in m) sent = { m, transfer };
    port1.postMessage(m, transfer);
  };
  /** The reply to call `id` (progress events skipped). */
  const next = async (id: number) => {
    const find = () => received.find((m) => m.id === id && ('ok' in m || 'error' in m));
    while (!find()) await new Promise((r) => setTimeout(r, 5));
    return find() as { id: number; ok: HostReply };
  };
  try {
    await service.reply(1, { op: 'open', model: 'm', path: MODEL, maxTensorElements: 1024 }, post);
    await next(1);
    const req = { type: 'getWeight' as const, layer: 'lstm_1', weight: 'lstm_1/recurrent_kernel:0' };
    await service.reply(2, { op: 'answer', model: 'm', request: req }, post);
    const reply = (await next(2)).ok;
    if (reply.type !== 'weight' || !sent) assert.fail('no weight reply');
    const posted = (sent as { m: { ok: HostReply } }).m.ok as Extract<HostReply, { type: 'weight' }>;
    assert.equal((sent as { transfer: ArrayBuffer[] }).transfer.length, posted.data.heatmaps.length + 1, 'every heatmap and the window are moved');
    assert.ok(posted.data.heatmaps.every((h) => h.grid.values.byteLength === 0) && posted.data.window.values.byteLength === 0, 'moved, not copied');
    assert.deepEqual(reply, await here.answer(req), 'and arrive whole');
    // The cached weight was not moved: another window of it still has the stored values.
    const win = { type: 'getWindow' as const, layer: 'lstm_1', weight: 'lstm_1/recurrent_kernel:0', window: { rowStart: 10, rowEnd: 40, colStart: 100, colEnd: 180 } };
    await service.reply(3, { op: 'answer', model: 'm', request: win }, post);
    assert.deepEqual((await next(3)).ok, await here.answer(win));
  } finally {
    port1.close();
    here.close();
    await service.handle({ op: 'close', model: 'm' }, () => {});
  }
});

test('replyTransfers lists each whole buffer of a weight reply once, never a view into a bigger one', () => {
  // Source of truth: structured clone's rules — a transferred buffer is emptied for every array on it, and a buffer
  // listed twice fails the post (DataCloneError).
  const own = new Float32Array(6);
  const bigger = new Float32Array(16);
  const grid = (values: Float32Array) => ({ rows: 2, cols: 3, values, absMax: 0 });
  const reply: HostReply = {
    type: 'weight',
    data: {
      layer: 'l',
      weight: 'w',
      shape: [4, 4],
      matrix: { rows: 4, cols: 4 },
      stats: null,
      heatmaps: [
        { label: 'a', colStart: 0, colEnd: 2, grid: grid(own) },
        { label: 'b', colStart: 2, colEnd: 4, grid: grid(own) },
      ],
      window: { rowStart: 0, rowEnd: 1, colStart: 0, colEnd: 4, values: bigger.subarray(4, 8) },
      complete: false,
    },
  };
  const list = replyTransfers(reply);
  assert.deepEqual(list, [own.buffer]);
  const { port1, port2 } = new MessageChannel();
  port1.postMessage(reply, list);
  assert.equal(own.byteLength, 0, 'moved');
  assert.equal(bigger.length, 16, 'the bigger buffer stays');
  port1.close();
  port2.close();
  assert.deepEqual(replyTransfers({ type: 'cellText', text: 'x' }), []);
  assert.deepEqual(replyTransfers(null), []);
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
