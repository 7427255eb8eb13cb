/**
 * NODE-ONLY: the batch split of recurrent layer calls over persistent helper threads (node:worker_threads) — the
 * BatchSplitter of batch-split.ts for Node. src/cli/worker.ts and extension/worker/entry.ts call
 * registerNodeBatchSplitter() at start; the web bundles never import this file (the pure part is batch-split.ts).
 *
 * One call (forward() stays synchronous):
 *   - used only when the batch and the work are large enough (NodeBatchSplitOptions.minBatch / minFlops) and the
 *     machine has ≥ 2 cores (os.availableParallelism()); helpers = cores − 1 (at most 3), started lazily on the
 *     first such call and unref'd, so they never keep a process alive; they end with their owner thread (Node ends
 *     a thread's workers with it) or with close();
 *   - the batch is cut into chunks of whole samples; this thread posts the job to every helper (the layer's weights
 *     only the first time a helper meets that packed layer: it packs its own copy once and keeps it) and the input,
 *     mask, initial states and outputs travel in SharedArrayBuffers; then every thread takes the next chunk from one
 *     shared counter (Atomics.add) until none is left, so a busy or not yet started helper simply takes fewer;
 *   - this thread then waits (Atomics.wait) for the chunks a helper took, as long as the helper should still need
 *     (from the chunk's start and the helper's speed) if that is less than computing it here. A chunk a helper
 *     failed (any exception) or has not finished by then (a slow, busy or crashed thread) is computed here instead.
 *     A helper busy on one job for 5 s (or 20 chunk times) is ended and replaced. A call slower than one thread alone would have been
 *     (a busy machine) makes the next 1, 2, 4, ... 64 calls run alone before the split is tried again.
 *     Samples are independent (batch-split.ts), so every path returns bit for bit the one-thread result.
 */
import { Worker, isMainThread, parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import type { RecurrentArray, RecurrentRunOptions, RecurrentRunResult } from '../kernels/recurrent';
import { KEEP_WORKSPACE_BYTES, setRelaxedSimd, type MatmulBackend, type Precision } from '../kernels/workspace';
import { placeSampleRange, preparePacked, runSampleRange, setBatchSplitter, type BatchSplitter, type PreparedRecurrent, type SplitJob, type SplitOutputs } from '../kernels/batch-split';

const HELPER_KEY = 'kerasLensBatchSplitHelper';

/** Chunk states in the control array. */
const PENDING = 0;
const DONE = 1;
const FAILED = 2;

export interface NodeBatchSplitOptions {
  /** Helper threads; default os.availableParallelism() − 1, at most 3. 0: nothing is split. */
  helpers?: number;
  /** Smallest batch that is split (default 8). */
  minBatch?: number;
  /**
   * Smallest call that is split, in flops 2·batch·steps·(features + units)·gates·units (default 2e7: about 0.6 ms on
   * one core; below that, posting the job and waking a helper is not repaid).
   */
  minFlops?: number;
  /**
   * Samples per chunk (default 4: one 4-row tile of the products, as efficient per sample as a larger batch, and the
   * smallest tail a slow helper can leave this thread waiting for).
   */
  chunk?: number;
  /**
   * How long this thread, out of chunks, waits for a chunk a helper is still computing before computing it itself
   * (the same numbers; the helper's copy is dropped). Default: from the chunk's start time and the helper's recent
   * speed, the time it should still need — unless that is more than computing it here would take: on a machine whose
   * other core is busy a helper may run at a fraction of its speed.
   */
  tailWaitMs?: number;
  /** Run the next calls alone after a split call that lost to one thread (default true; tests of the split itself turn it off). */
  backoff?: boolean;
  /** Tests only: the helpers fail in every chunk they take ('throw') or end their thread in it ('exit'). */
  fault?: 'throw' | 'exit' | null;
}

export interface NodeBatchSplitter extends BatchSplitter {
  /** Counts since creation (tests and benchmarks read them). */
  /** lost: calls slower than this thread alone would have been (each makes the next calls run alone for a while) */
  readonly stats: { calls: number; ownChunks: number; helperChunks: number; recomputed: number; helpersStarted: number; lost: number };
  /** Start the helpers now (normally the first large call does) and resolve when all have started. */
  ready(): Promise<void>;
  /** End the helper threads (a later large call starts new ones). */
  close(): Promise<void>;
}

interface WeightsMessage {
  cell: PreparedRecurrent['cell'];
  units: number;
  resetAfter: boolean;
  backend: MatmulBackend;
  precision: Precision;
  relaxed: boolean;
  kernel: RecurrentArray;
  recurrentKernel: RecurrentArray;
  bias: RecurrentArray | null;
}

interface JobMessage {
  kind: 'job';
  layer: number;
  weights: WeightsMessage | null;
  x: RecurrentArray;
  steps: number;
  features: number;
  units: number;
  opts: RecurrentRunOptions;
  chunk: number;
  chunks: number;
  batch: number;
  /** [0] next chunk; [1 + i] state of chunk i; [1 + chunks + i] 1 + the index of the helper that took it */
  control: Int32Array;
  /** [2i] the time (ms since the epoch) a helper started chunk i, [2i + 1] when it finished */
  times: Float64Array;
  out: SplitOutputs;
  helper: number;
  fault: 'throw' | 'exit' | null;
}

type HelperMessage = { kind: 'ready' } | { kind: 'need'; layer: number };

interface Helper {
  worker: Worker;
  started: Promise<void>;
  dead: boolean;
  /** the packed layers this helper holds */
  known: Set<number>;
  /** [0] = 1 while the helper works on a job (it gets no new one then) */
  busy: Int32Array;
  /** when a call first found it busy (a helper busy for BUSY_LIMIT_MS is ended) */
  busySince: number;
}

/** A helper still on one job after this long (or 20 of this thread's chunk times, if longer) is taken for hung and ended. */
const BUSY_LIMIT_MS = 5000;

const layerIds = new WeakMap<PreparedRecurrent, number>();
let nextLayerId = 1;

function sharedCopy<T extends Float32Array | Float64Array | Uint8Array>(make: (b: SharedArrayBuffer) => T, bytesPer: number, values: ArrayLike<number>): T {
  const a = make(new SharedArrayBuffer(Math.max(1, values.length) * bytesPer));
  a.set(values);
  return a;
}

/** Milliseconds since the epoch, sub-millisecond: comparable between threads (performance.now() is per thread). */
function now(): number {
  return performance.timeOrigin + performance.now();
}

function sharedF64(n: number): Float64Array {
  return new Float64Array(new SharedArrayBuffer(Math.max(1, n) * 8));
}

/** A splitter over helper threads of this Node runtime (not registered; see registerNodeBatchSplitter). */
export function createNodeBatchSplitter(options: NodeBatchSplitOptions = {}): NodeBatchSplitter {
  const helperCount = Math.max(0, Math.floor(options.helpers ?? Math.min(3, availableParallelism() - 1)));
  const minBatch = options.minBatch ?? 8;
  const minFlops = options.minFlops ?? 2e7;
  let helpers: Helper[] = [];
  const stats = { calls: 0, ownChunks: 0, helperChunks: 0, recomputed: 0, helpersStarted: 0, lost: 0 };
  /** a helper's chunk time over this thread's (estimated from the last call whose helpers finished chunks) */
  let slowness = 1;
  /** calls still to run alone, and the length of the last such pause (doubling while the split keeps losing) */
  let skip = 0;
  let backoff = 0;
  /** this thread's mean chunk time in the last split call */
  let lastChunkMs = 0;
  // a packing this thread dropped is dropped by the helpers too
  const dropped = new FinalizationRegistry<number>((id) => {
    for (const h of helpers) if (!h.dead && h.known.delete(id)) h.worker.postMessage({ kind: 'forget', layer: id });
  });

  /**
   * The input in shared memory. One buffer is kept and reused (a fresh 800 KB SharedArrayBuffer per call cost ~0.6 ms
   * of page faults at batch 32): helpers only read it, and a helper still on an earlier call's chunk that reads the
   * new values writes its result into that call's outputs, which nobody reads any more.
   */
  let inputBuffer: SharedArrayBuffer | null = null;
  function sharedInput(values: RecurrentArray, bytesPer: 4 | 8): Float32Array | Float64Array {
    const bytes = Math.max(1, values.length) * bytesPer;
    if (!inputBuffer || inputBuffer.byteLength < bytes) inputBuffer = new SharedArrayBuffer(bytes);
    const view = bytesPer === 4 ? new Float32Array(inputBuffer, 0, values.length) : new Float64Array(inputBuffer, 0, values.length);
    view.set(values);
    return view;
  }

  function start(): Helper {
    const file = __filename;
    const busy = new Int32Array(new SharedArrayBuffer(4));
    const data = { [HELPER_KEY]: { busy } };
    // under tsx (tests, benches) the helper loads this .ts file through tsx; bundled, the bundle itself
    const worker = file.endsWith('.ts')
      ? new Worker(`require('tsx/cjs/api').register(); require(${JSON.stringify(file)});`, { eval: true, workerData: data })
      : new Worker(file, { workerData: data });
    stats.helpersStarted++;
    let resolve!: () => void;
    const started = new Promise<void>((r) => (resolve = r));
    const h: Helper = { worker, started, dead: false, known: new Set(), busy, busySince: 0 };
    const end = () => {
      h.dead = true;
      resolve();
    };
    worker.on('message', (m: HelperMessage) => {
      if (m.kind === 'ready') resolve();
      else if (m.kind === 'need') h.known.delete(m.layer);
    });
    worker.on('error', end);
    worker.on('exit', end);
    worker.unref(); // after the listeners: adding a 'message' listener refs the worker's port again
    return h;
  }

  /** The helpers, started where missing (up to 8 starts in all: a runtime whose threads keep dying stops splitting). */
  function alive(): Helper[] {
    helpers = helpers.filter((h) => !h.dead);
    while (helpers.length < helperCount && stats.helpersStarted < 8) helpers.push(start());
    return helpers;
  }

  /**
   * The helpers for a new job. One still busy with an earlier job (a chunk this thread stopped waiting for) gets it
   * too and takes what is left when it is free; one busy for BUSY_LIMIT_MS is ended (replaced on a later call).
   */
  function team(): Helper[] {
    const now = performance.now();
    return alive().filter((h) => {
      if (Atomics.load(h.busy, 0) === 0) h.busySince = 0;
      else if (!h.busySince) h.busySince = now;
      else if (now - h.busySince > Math.max(BUSY_LIMIT_MS, 20 * lastChunkMs)) {
        h.dead = true;
        void h.worker.terminate();
        return false;
      }
      return true;
    });
  }

  function run(job: SplitJob): RecurrentRunResult | null | undefined {
    const { prepared: p, batch, steps, features, opts } = job;
    const u = p.units;
    const gates = p.cell === 'lstm' ? 4 : p.cell === 'gru' ? 3 : 1;
    if (helperCount === 0 || batch < minBatch || 2 * batch * steps * (features + u) * gates * u < minFlops) return undefined;
    // sizes that do not fit are reported by the one-thread run, not cut into chunks
    const fits = (a: ArrayLike<number> | null | undefined, n: number) => !a || a.length === n;
    if (!fits(job.x, batch * steps * features) || !fits(opts.mask, batch * steps) || !fits(opts.initialH, batch * u) || !fits(opts.initialC, batch * u)) return undefined;
    if (skip > 0) {
      skip--;
      return undefined;
    }
    const helpersNow = team();
    if (helpersNow.length === 0) return undefined;
    const chunk = Math.max(1, Math.floor(options.chunk ?? 4));
    const chunks = Math.ceil(batch / chunk);
    if (chunks < 2) return undefined;
    stats.calls++;

    // what the helpers read and write
    const control = new Int32Array(new SharedArrayBuffer(4 * (1 + 2 * chunks)));
    const times = new Float64Array(new SharedArrayBuffer(8 * 2 * chunks));
    const callStart = performance.now();
    const x = sharedInput(job.x, p.precision === 'float32' ? 4 : 8);
    const shared: RecurrentRunOptions = {
      ...opts,
      initialH: opts.initialH ? sharedCopy((b) => new Float64Array(b), 8, opts.initialH) : null,
      initialC: opts.initialC ? sharedCopy((b) => new Float64Array(b), 8, opts.initialC) : null,
      mask: opts.mask ? sharedCopy((b) => new Uint8Array(b), 1, opts.mask) : null,
    };
    const withCell = p.cell === 'lstm';
    const out: SplitOutputs = {
      last: sharedF64(batch * u),
      h: sharedF64(batch * u),
      c: withCell ? sharedF64(batch * u) : null,
      sequence: opts.returnSequences ? sharedF64(batch * steps * u) : null,
    };
    let id = layerIds.get(p);
    if (id === undefined) {
      layerIds.set(p, (id = nextLayerId++));
      dropped.register(p, id);
    }
    const w = job.weights;
    helpersNow.forEach((h, k) => {
      const weights: WeightsMessage | null = h.known.has(id)
        ? null
        : {
            cell: p.cell,
            units: u,
            resetAfter: p.cell === 'gru' && p.resetAfter,
            backend: p.backend,
            precision: p.precision,
            relaxed: p.ws.fusedMultiplyAdd,
            kernel: w.kernel,
            recurrentKernel: w.recurrentKernel,
            bias: w.bias ?? null,
          };
      h.known.add(id);
      const m: JobMessage = { kind: 'job', layer: id, weights, x, steps, features, units: u, opts: shared, chunk, chunks, batch, control, times, out, helper: k, fault: options.fault ?? null };
      h.worker.postMessage(m);
    });

    // the whole batch's results; this thread's chunks go straight in
    const result: RecurrentRunResult = {
      last: new Float64Array(batch * u),
      h: new Float64Array(batch * u),
      c: withCell ? new Float64Array(batch * u) : null,
      sequence: opts.returnSequences ? new Float64Array(batch * steps * u) : null,
    };
    const own = new Uint8Array(chunks);
    let ownTime = 0;
    let ownCount = 0;
    const compute = (i: number): boolean => {
      const from = i * chunk;
      const to = Math.min(batch, from + chunk);
      const t0 = performance.now();
      const r = runSampleRange(p, job.x, steps, features, opts, from, to);
      ownTime += performance.now() - t0;
      ownCount++;
      if (!r) return false;
      placeSampleRange(r, result, u, steps, from);
      return true;
    };
    for (let i = Atomics.add(control, 0, 1); i < chunks; i = Atomics.add(control, 0, 1)) {
      own[i] = 1;
      stats.ownChunks++;
      if (!compute(i)) return null;
    }
    const ownMean = ownTime / Math.max(1, ownCount);
    lastChunkMs = ownMean;
    // the helpers' speed relative to this thread, from their chunks done so far (this call, else earlier calls)
    let doneTime = 0;
    let doneCount = 0;
    for (let i = 0; i < chunks; i++) {
      if (!own[i] && Atomics.load(control, 1 + i) === DONE) {
        doneTime += times[2 * i + 1] - times[2 * i];
        doneCount++;
      }
    }
    if (doneCount && ownMean > 0) slowness = doneTime / doneCount / ownMean;
    for (let i = 0; i < chunks; i++) {
      if (own[i]) continue;
      let waitMs = options.tailWaitMs;
      if (waitMs === undefined) {
        const started = times[2 * i] || now();
        const left = started + ownMean * slowness - now();
        waitMs = left > ownMean ? 0 : Math.max(0, left) + 0.25 * ownMean;
      }
      const deadline = performance.now() + waitMs;
      for (let left = waitMs; Atomics.load(control, 1 + i) === PENDING && left > 0; left = deadline - performance.now()) {
        Atomics.wait(control, 1 + i, PENDING, left);
      }
      if (Atomics.load(control, 1 + i) === DONE) {
        stats.helperChunks++;
        const from = i * chunk;
        const to = Math.min(batch, from + chunk);
        result.last.set(out.last.subarray(from * u, to * u), from * u);
        result.h.set(out.h.subarray(from * u, to * u), from * u);
        if (result.c && out.c) result.c.set(out.c.subarray(from * u, to * u), from * u);
        if (result.sequence && out.sequence) result.sequence.set(out.sequence.subarray(from * steps * u, to * steps * u), from * steps * u);
        continue;
      }
      // failed, or not finished yet: this thread computes it (the same numbers)
      stats.recomputed++;
      if (!compute(i)) return null;
    }
    // slower than this thread alone would have been (a busy machine): the next calls run alone, 1, 2, 4, ... 64 of
    // them, before the split is tried again
    if (options.backoff !== false && performance.now() - callStart > ownMean * chunks) {
      backoff = Math.min(64, Math.max(1, 2 * backoff));
      skip = backoff;
      stats.lost++;
    } else backoff = 0;
    return result;
  }

  return {
    run,
    stats,
    async ready() {
      // held alive while they start (an awaited start must not let the process end under the caller)
      await Promise.all(
        alive().map(async (h) => {
          h.worker.ref();
          await h.started;
          h.worker.unref();
        }),
      );
    },
    async close() {
      const ending = helpers;
      helpers = [];
      for (const h of ending) h.dead = true;
      await Promise.all(ending.map((h) => h.worker.terminate()));
    },
  };
}

/** True in a helper thread of this module (which must not split again). */
function isHelperThread(): boolean {
  return !isMainThread && !!workerData && typeof workerData === 'object' && HELPER_KEY in (workerData as object);
}

/**
 * Register a Node splitter for this thread's recurrent calls (where there are ≥ 2 cores; a helper thread registers
 * nothing). Returns it, or null when nothing was registered.
 */
export function registerNodeBatchSplitter(options: NodeBatchSplitOptions = {}): NodeBatchSplitter | null {
  if (isHelperThread() || availableParallelism() < 2) return null;
  const s = createNodeBatchSplitter(options);
  setBatchSplitter(s);
  return s;
}

// ---------------------------------------------------------------------------------------------
// The helper thread
// ---------------------------------------------------------------------------------------------

function prepareCopy(w: WeightsMessage): PreparedRecurrent {
  setRelaxedSimd(w.relaxed);
  const weights = { kernel: w.kernel, recurrentKernel: w.recurrentKernel, bias: w.bias };
  const opts = { backend: w.backend, precision: w.precision };
  const p = preparePacked(w.cell, weights, w.units, w.resetAfter, opts);
  // the same kernels as the calling thread, or no help at all (results must be bit for bit the same)
  if (p.backend !== w.backend || p.precision !== w.precision || p.ws.fusedMultiplyAdd !== w.relaxed) throw new Error('helper thread kernels differ');
  return p;
}


function serveHelper(port: MessagePort, busy: Int32Array): void {
  const layers = new Map<number, PreparedRecurrent>();
  port.on('message', (m: JobMessage | { kind: 'forget'; layer: number }) => {
    if (m.kind === 'forget') {
      layers.delete(m.layer);
      return;
    }
    Atomics.store(busy, 0, 1);
    try {
      work(m);
    } finally {
      Atomics.store(busy, 0, 0);
    }
  });
  const work = (m: JobMessage) => {
    let p = layers.get(m.layer) ?? null;
    if (!p && m.weights) {
      try {
        p = prepareCopy(m.weights);
        layers.set(m.layer, p);
      } catch {
        p = null;
      }
    }
    if (!p) {
      // cannot help with this layer (asked to pack it again next time); the caller does the chunks
      port.postMessage({ kind: 'need', layer: m.layer } satisfies HelperMessage);
      return;
    }
    const { control, chunks, chunk, batch, times } = m;
    for (let i = Atomics.add(control, 0, 1); i < chunks; i = Atomics.add(control, 0, 1)) {
      Atomics.store(control, 1 + chunks + i, m.helper + 1);
      times[2 * i] = now();
      let state = FAILED;
      try {
        if (m.fault === 'exit') process.exit(1);
        if (m.fault === 'throw') throw new Error('fault injected for a test');
        const from = i * chunk;
        const r = runSampleRange(p, m.x, m.steps, m.features, m.opts, from, Math.min(batch, from + chunk));
        if (r) {
          placeSampleRange(r, m.out, m.units, m.steps, from);
          state = DONE;
        }
      } catch {
        state = FAILED;
      }
      times[2 * i + 1] = now();
      Atomics.store(control, 1 + i, state);
      Atomics.notify(control, 1 + i);
    }
    if (p.ws.heap.byteLength > KEEP_WORKSPACE_BYTES) {
      layers.delete(m.layer);
      port.postMessage({ kind: 'need', layer: m.layer } satisfies HelperMessage);
    }
  };
  port.postMessage({ kind: 'ready' } satisfies HelperMessage);
}

if (isHelperThread() && parentPort) serveHelper(parentPort, (workerData as Record<string, { busy: Int32Array }>)[HELPER_KEY].busy);
