/**
 * The model worker's watchdog (extension/worker/client.ts) with fake workers: calls are answered in order, one at a
 * time; a call that does not answer within its limit ends that worker (terminate) and comes back as one line naming
 * the file, the operation and the setting; a worker that dies (out of memory) rejects what it held; the next call
 * starts a new worker; another client is untouched; dispose cancels. Source of truth: the client's contract in its
 * header (what the viewer shows on a hang or blow-up).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { STARTUP_ALLOWANCE_MS, WorkerClient, WorkerFailure, withSpare, type WorkerPort } from '../../extension/worker/client';
import type { CallMessage, WorkerMessage } from '../../extension/worker/protocol';

/** A fake worker: answers `status` with its number; `open` on a path containing 'hang' never answers; 'oom' dies. */
function fakeWorkers() {
  const made: { n: number; terminated: boolean; seen: string[] }[] = [];
  const spawn = (): WorkerPort => {
    const me = { n: made.length + 1, terminated: false, seen: [] as string[] };
    made.push(me);
    let onMessage: (m: WorkerMessage) => void = () => {};
    let onExit: (r: string) => void = () => {};
    return {
      post(m: CallMessage) {
        me.seen.push(m.call.op);
        if (me.terminated) return;
        const path = m.call.op === 'open' ? m.call.path : '';
        if (path.includes('hang')) return;
        if (path.includes('oom')) {
          setTimeout(() => onExit('ran out of memory (the cap is 64 MB, kerasLens.worker.memoryLimitMB)'), 5);
          return;
        }
        if (path.includes('bad')) {
          setTimeout(() => onMessage({ id: m.id, error: 'bad.h5: not a Keras model file' }), 1);
          return;
        }
        setTimeout(() => {
          onMessage({ id: m.id, progress: 0.5, what: 'reading' });
          onMessage({ id: m.id, ok: { models: me.n } });
        }, 2);
      },
      onMessage: (h) => void (onMessage = h),
      onExit: (h) => void (onExit = h),
      terminate: () => void (me.terminated = true),
    };
  };
  return { spawn, made };
}

const open = (path: string) => ({ op: 'open' as const, model: path, path, maxTensorElements: 1000 });
const opts = (file: string, timeoutMs = 200) => ({ file, what: 'opening the file', timeoutMs, timeoutSetting: 'kerasLens.worker.timeoutSeconds' });

test('calls are answered by one worker started on the first call; progress events reach the caller', async () => {
  const { spawn, made } = fakeWorkers();
  const c = new WorkerClient(spawn);
  assert.equal(made.length, 0, 'no worker before the first call');
  const progress: number[] = [];
  const [a, b] = await Promise.all([
    c.call({ op: 'status' }, { ...opts('a.h5'), onProgress: (f) => progress.push(f) }),
    c.call({ op: 'status' }, opts('a.h5')),
  ]);
  assert.deepEqual([a, b], [{ models: 1 }, { models: 1 }]);
  assert.deepEqual(progress, [0.5]);
  assert.equal(made.length, 1);
  assert.equal(c.generation, 1);
  c.dispose();
});

test('a hang: the worker is ended, one line names file, operation and setting; the next call gets a new worker', async () => {
  const { spawn, made } = fakeWorkers();
  const c = new WorkerClient(spawn);
  const failures: WorkerFailure[] = [];
  c.onFailure((f) => failures.push(f));
  await c.call({ op: 'status' }, opts('hang.h5')); // the worker is up: the next call gets its own limit only
  const hung = c.call(open('/x/hang.h5'), opts('hang.h5', 100));
  const queued = c.call({ op: 'status' }, opts('hang.h5'));
  await assert.rejects(hung, (e: Error) => {
    assert.ok(e instanceof WorkerFailure);
    assert.equal(e.kind, 'timeout');
    assert.equal(e.message, 'hang.h5: opening the file did not finish within 0.1 s (kerasLens.worker.timeoutSeconds); its worker was stopped');
    return true;
  });
  // the call queued behind the hang was never sent; it is rejected too (the new worker would not know the model)
  await assert.rejects(queued, /hang\.h5: .*interrupted/);
  assert.equal(made[0].terminated, true, 'the hung worker was terminated');
  assert.deepEqual(made[0].seen, ['status', 'open'], 'the queued call never reached the hung worker');
  assert.equal(failures.length, 1);
  assert.equal(await c.call({ op: 'status' }, opts('hang.h5')).then((r) => r.models), 2, 'answered by a second worker');
  assert.equal(c.generation, 2);
  c.dispose();
});

test('a memory blow-up: the worker died, the call says so in one line; other clients never noticed', async () => {
  const { spawn, made } = fakeWorkers();
  const c = new WorkerClient(spawn);
  const other = new WorkerClient(spawn);
  assert.deepEqual(await other.call({ op: 'status' }, opts('good.h5')), { models: 1 });
  await assert.rejects(c.call(open('/x/oom.h5'), opts('oom.h5', 5000)), (e: Error) => {
    assert.equal(e.message, 'oom.h5: opening the file stopped the worker: ran out of memory (the cap is 64 MB, kerasLens.worker.memoryLimitMB)');
    assert.equal((e as WorkerFailure).kind, 'died');
    return true;
  });
  assert.equal(made[1].terminated, true);
  assert.equal(made[0].terminated, false, "the other client's worker runs on");
  assert.deepEqual(await other.call({ op: 'status' }, opts('good.h5')), { models: 1 });
  c.dispose();
  other.dispose();
});

test("the file's own errors pass through as they are and keep the worker", async () => {
  const { spawn, made } = fakeWorkers();
  const c = new WorkerClient(spawn);
  await assert.rejects(c.call(open('/x/bad.h5'), opts('bad.h5')), /^Error: bad\.h5: not a Keras model file$/);
  await c.call({ op: 'status' }, opts('bad.h5'));
  assert.equal(made.length, 1);
  c.dispose();
});

test('dispose ends the worker and cancels what waits; later calls are refused', async () => {
  const { spawn, made } = fakeWorkers();
  const c = new WorkerClient(spawn);
  const pending = c.call(open('/x/hang.h5'), opts('hang.h5', 10_000));
  assert.ok(STARTUP_ALLOWANCE_MS > 0);
  c.dispose();
  await assert.rejects(pending, /hang\.h5: opening the file was cancelled/);
  assert.equal(made[0].terminated, true);
  await assert.rejects(c.call({ op: 'status' }, opts('a.h5')), /cancelled/);
});

test('withSpare: the second worker is the one started ahead; a spare that died while idle is not handed out', async () => {
  const made: { exit: (r: string) => void; terminated: boolean }[] = [];
  const spawn = (): WorkerPort => {
    const handlers: ((r: string) => void)[] = [];
    const me = { exit: (r: string) => handlers.forEach((h) => h(r)), terminated: false };
    made.push(me);
    return { post() {}, onMessage() {}, onExit: (h) => void handlers.push(h), terminate: () => void (me.terminated = true) };
  };
  const pool = withSpare(spawn);
  const first = pool();
  assert.equal(made.length, 1, 'the first caller waits for its own worker');
  await new Promise((r) => setTimeout(r, 2100));
  assert.equal(made.length, 2, 'a spare was started after the first start-up');
  const second = pool();
  assert.notEqual(second, first);
  assert.equal(made.length, 2, 'the spare was handed out, nothing new started');
  await new Promise((r) => setTimeout(r, 2100));
  assert.equal(made.length, 3);
  made[2].exit('crashed'); // the idle spare dies
  pool();
  assert.equal(made.length, 4, 'a dead spare is replaced by a fresh worker');
  pool.dispose();
  await new Promise((r) => setTimeout(r, 2100));
  assert.equal(made.length, 4, 'no spare after dispose');
});

test('warm() starts the worker before any call; its first call still gets the start-up allowance, later calls do not', async () => {
  const { spawn, made } = fakeWorkers();
  const c = new WorkerClient(spawn);
  c.warm();
  assert.equal(made.length, 1, 'the worker started without a call');
  assert.equal(c.alive, true);
  c.warm();
  assert.equal(made.length, 1, 'a second warm() starts nothing');
  // First call on the warmed worker: a 20 ms limit plus STARTUP_ALLOWANCE_MS, so it is still waiting at 100 ms.
  let settled = false;
  const first = c.call(open('/x/hang.h5'), opts('hang.h5', 20)).finally(() => (settled = true));
  first.catch(() => {});
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(settled, false, 'the first call on a warmed worker has the start-up allowance');
  c.dispose();
  await assert.rejects(first, /cancelled/);

  const d = new WorkerClient(spawn);
  d.warm();
  assert.deepEqual(await d.call({ op: 'status' }, opts('a.h5')), { models: 2 }, 'the call went to the warmed worker');
  assert.equal(made.length, 2);
  await assert.rejects(d.call(open('/x/hang.h5'), opts('hang.h5', 20)), /hang\.h5: opening the file did not finish within 0 s/);
});

test('warm() after dispose() starts nothing', () => {
  const { spawn, made } = fakeWorkers();
  const c = new WorkerClient(spawn);
  c.dispose();
  c.warm();
  assert.equal(made.length, 0);
});

/** A fake worker the test answers by hand: `posted` lists the calls it was sent, in order; `answer(id)` replies. */
function manualWorker() {
  const posted: { id: number; what: string }[] = [];
  let reply: (m: WorkerMessage) => void = () => {};
  const spawn = (): WorkerPort => ({
    post: (m: CallMessage) => void posted.push({ id: m.id, what: m.call.op === 'answer' ? m.call.request.type : m.call.op }),
    onMessage: (h) => void (reply = h),
    onExit() {},
    terminate() {},
  });
  const answer = (what: string) => {
    const p = posted.find((x) => x.what === what)!;
    reply({ id: p.id, ok: what });
  };
  return { spawn, posted, answer, reply: (m: WorkerMessage) => reply(m) };
}

const ask = (type: 'getStats' | 'getWindow' | 'getWeight') => {
  const request = type === 'getWindow' ? { type, layer: 'l', weight: 'w', window: { rowStart: 0, rowEnd: 1, colStart: 0, colEnd: 1 } } : { type, layer: 'l', weight: 'w' };
  return { op: 'answer' as const, model: 'm', request } as Extract<CallMessage['call'], { op: 'answer' }>;
};

test('a light call is posted and answered while a yielding call runs; other calls still wait for the worker', async () => {
  // Source of truth: the client's contract in its header (one at a time, except light calls in a yielding one's gaps).
  const w = manualWorker();
  const c = new WorkerClient(w.spawn);
  const done: string[] = [];
  const stats = c.call(ask('getStats'), { ...opts('big.h5', 10_000), yields: true }).then((r) => void done.push(r as unknown as string));
  const window = c.call(ask('getWindow'), { ...opts('big.h5', 10_000), light: true }).then((r) => void done.push(r as unknown as string));
  const weight = c.call(ask('getWeight'), opts('big.h5', 10_000)).then((r) => void done.push(r as unknown as string));
  const window2 = c.call(ask('getWindow'), { ...opts('big.h5', 10_000), light: true });
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(w.posted.map((p) => p.what), ['getStats', 'getWindow', 'getWindow'], 'both windows went in at once; the weight read waits');
  w.answer('getWindow');
  await window;
  assert.deepEqual(done, ['getWindow'], 'the window came back while the statistics were still running');
  w.answer('getStats');
  await stats;
  assert.deepEqual(w.posted.map((p) => p.what), ['getStats', 'getWindow', 'getWindow'], 'the weight read still waits for the second window');
  w.reply({ id: w.posted[2].id, ok: 'getWindow' });
  await window2;
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(w.posted.map((p) => p.what), ['getStats', 'getWindow', 'getWindow', 'getWeight']);
  w.answer('getWeight');
  await weight;
  assert.deepEqual(done, ['getWindow', 'getStats', 'getWeight']);
  c.dispose();
});

test('without a yielding call running, a light call waits its turn like any other', async () => {
  const w = manualWorker();
  const c = new WorkerClient(w.spawn);
  const weight = c.call(ask('getWeight'), opts('big.h5', 10_000));
  const window = c.call(ask('getWindow'), { ...opts('big.h5', 10_000), light: true });
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(w.posted.map((p) => p.what), ['getWeight']);
  w.answer('getWeight');
  await weight;
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(w.posted.map((p) => p.what), ['getWeight', 'getWindow']);
  w.answer('getWindow');
  await window;
  c.dispose();
});
