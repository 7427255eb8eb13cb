/**
 * `npm run bench`: LSTM(128) and GRU(128) over 100 steps of 64 features, batch 1 and batch 32, with the same
 * weights and inputs, in one process:
 *   (a) Keras Lens: predict() on a Model built from an in-memory model file (the public engine path), with the
 *       WebAssembly SIMD matmul backend (float32, the default), then again with the pure-TypeScript fallback
 *       backend (float64), and with SIMD in float64;
 *   (b) tfjs-layers on tfjs-backend-cpu;
 *   (c) tfjs-layers on tfjs-backend-wasm (SIMD; .wasm files from node_modules, no network);
 *   (d) Keras Lens with its fast path switched off (setFastRecurrentPath(false)): the kinds' readable step, the
 *       number that justifies keeping two implementations;
 *   (e) numpy + OpenBLAS in a python3 child (test/bench/numpy_rnn.py) on the same weights and inputs, written to a
 *       temporary folder as float32 files; OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are removed from that child's
 *       environment only, so OpenBLAS picks its kernels for this CPU. Skipped, with the reason printed, where
 *       python3 or numpy is missing. Run twice: as installed (OpenBLAS threads = cores; the *_vs_numpy ratios), and
 *       with OPENBLAS_NUM_THREADS=1 (*_vs_numpy_1thread; on a loaded 2-core machine often the faster of the two);
 *   (f) at batch 32, predict() with the batch split over helper threads (src/engine/batch-split-node.ts, what the
 *       CLI and the extension's model worker register where there are ≥ 2 cores) alternating with predict() on one
 *       thread; the b32 *_vs_numpy ratios use the split time (the product path), *_vs_numpy_no_split the other.
 * Prints per-case medians after warm-up (ours and tfjs alternating run by run), as wall-clock time and as this
 * process's CPU time (robust when other processes share the cores), GFLOP/s (2·batch·steps·(features+units)·
 * gates·units), the speed-ups and the max abs difference between outputs. The LAST line is one JSON object with
 * the ratios.
 * GRU is reset_after=false: tfjs-layers does not implement reset_after=true.
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { dirname, join } from 'node:path';
import { cpus, loadavg, tmpdir } from 'node:os';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { buildModel, type Model } from '../../src/model/graph';
import { predict } from '../../src/engine/predict';
import type { LayerConfig, ModelFile, Tensor, WeightRef } from '../../src/model/types';
import { setPreferredMatmulBackend, simdSupported, type MatmulBackend } from '../../src/kernels/workspace';
import { fastRecurrentRunCount, packingFor, setFastRecurrentPath, setFastRecurrentPrecision } from '../../src/model/kinds/fast-recurrent';
import { runGru, runLstm, type PreparedGru } from '../../src/kernels/recurrent';
import { setBatchSplitter } from '../../src/kernels/batch-split';
import { createNodeBatchSplitter } from '../../src/engine/batch-split-node';
import { seededRandom as rng } from '../fixtures/models';
import { alternate, maxAbsDiff, uniform } from './timing';

const UNITS = 128;
const FEATURES = 64;
const STEPS = 100;
const BATCHES = [1, 32];
const CELLS = ['lstm', 'gru'] as const;
type Cell = (typeof CELLS)[number];

// ---- deterministic data -----------------------------------------------------------------------
interface Weights {
  kernel: Float32Array;
  recurrentKernel: Float32Array;
  bias: Float32Array;
}
function weightsFor(cell: Cell): Weights {
  const g = cell === 'lstm' ? 4 : 3;
  const rand = rng(cell === 'lstm' ? 11 : 22);
  // Glorot-like scales so the gates are neither saturated nor flat.
  return {
    kernel: uniform(FEATURES * g * UNITS, Math.sqrt(6 / (FEATURES + g * UNITS)), rand),
    recurrentKernel: uniform(UNITS * g * UNITS, Math.sqrt(6 / (UNITS + g * UNITS)) * 1.5, rand),
    bias: uniform(g * UNITS, 0.1, rand),
  };
}

// ---- timing -------------------------------------------------------------------------------------
interface Timing {
  /** median wall-clock ms */
  ms: number;
  /** median CPU ms of this process: what the call costs when other processes compete for the cores */
  cpuMs: number;
}
/** alternate() (timing.ts) in this file's units. */
async function alternateMedians(contenders: (() => unknown | Promise<unknown>)[]): Promise<Timing[]> {
  return (await alternate(contenders)).map((s) => ({ ms: s.wall, cpuMs: s.cpu }));
}
async function medianMs(run: () => unknown | Promise<unknown>): Promise<Timing> {
  return (await alternateMedians([run]))[0];
}
function gflops(batch: number, cell: Cell, ms: number): number {
  const g = cell === 'lstm' ? 4 : 3;
  return (2 * batch * STEPS * (FEATURES + UNITS) * g * UNITS) / (ms * 1e6);
}
/** run() with a setting switched on around it (and off again whatever happens). */
async function toggled<T>(on: () => void, off: () => void, run: () => Promise<T>): Promise<T> {
  on();
  try {
    return await run();
  } finally {
    off();
  }
}

// ---- Keras Lens through its public engine path ----------------------------------------------------
function modelFileFor(cell: Cell, w: Weights): ModelFile {
  const className = cell === 'lstm' ? 'LSTM' : 'GRU';
  const name = cell;
  const layers: LayerConfig[] = [
    { name: 'input', className: 'InputLayer', config: { batch_input_shape: [null, STEPS, FEATURES], dtype: 'float32' }, inbound: [] },
    {
      name,
      className,
      config: {
        name,
        units: UNITS,
        activation: 'tanh',
        recurrent_activation: 'sigmoid',
        use_bias: true,
        return_sequences: false,
        ...(cell === 'gru' ? { reset_after: false } : {}),
      },
      inbound: [[{ layer: 'input', node: 0, tensor: 0 }]],
    },
  ];
  const ref = (role: string, data: Float32Array, shape: number[]): WeightRef => ({
    layer: name,
    name: `${name}/${name}_cell/${role}:0`,
    path: `/model_weights/${name}/${name}/${name}_cell/${role}:0`,
    shape,
    dtype: '<f4',
    read: async () => data,
  });
  const g = cell === 'lstm' ? 4 : 3;
  return {
    source: `bench-${cell}.h5 (in memory)`,
    format: 'keras2-h5',
    kerasVersion: '2.15.0',
    backend: 'tensorflow',
    model: {
      name: `bench_${cell}`,
      className: 'Functional',
      layers,
      inputs: [{ layer: 'input', node: 0, tensor: 0 }],
      outputs: [{ layer: name, node: 0, tensor: 0 }],
    },
    layers: [
      {
        layer: name,
        weights: [
          ref('kernel', w.kernel, [FEATURES, g * UNITS]),
          ref('recurrent_kernel', w.recurrentKernel, [UNITS, g * UNITS]),
          ref('bias', w.bias, [g * UNITS]),
        ],
      },
    ],
    close() {},
  };
}

async function ours(model: Model, x: Tensor): Promise<{ out: Float64Array; fast: boolean }> {
  const before = fastRecurrentRunCount();
  const r = await predict(model, x);
  return { out: r.outputs[0].data as Float64Array, fast: fastRecurrentRunCount() > before };
}

// ---- tfjs ----------------------------------------------------------------------------------------
function tfModel(cell: Cell, w: Weights): tf.LayersModel {
  const g = cell === 'lstm' ? 4 : 3;
  const common = {
    units: UNITS,
    activation: 'tanh' as const,
    recurrentActivation: 'sigmoid' as const,
    inputShape: [STEPS, FEATURES],
    // the weights are set below; zeros skips tfjs's slow orthogonal initialiser
    kernelInitializer: 'zeros' as const,
    recurrentInitializer: 'zeros' as const,
  };
  const layer = cell === 'lstm' ? tf.layers.lstm(common) : tf.layers.gru(common);
  const m = tf.sequential({ layers: [layer] });
  m.setWeights([
    tf.tensor2d(w.kernel, [FEATURES, g * UNITS]),
    tf.tensor2d(w.recurrentKernel, [UNITS, g * UNITS]),
    tf.tensor1d(w.bias),
  ]);
  return m;
}
function tfPredict(m: tf.LayersModel, x: Float32Array, batch: number): Float32Array {
  return tf.tidy(() => (m.predict(tf.tensor3d(x, [batch, STEPS, FEATURES])) as tf.Tensor).dataSync() as Float32Array);
}

// ---- numpy + OpenBLAS ------------------------------------------------------------------------------
interface NumpyPeer {
  version: string;
  /** keyed `${cell}_b${batch}` */
  timings: Map<string, { t: Timing; out: Float32Array }>;
}
/**
 * Runs test/bench/numpy_rnn.py on the same weights and inputs; a string says why it was skipped. `threads` sets
 * OPENBLAS_NUM_THREADS for the child (default: OpenBLAS's own choice, one thread per core).
 */
function numpyPeer(weights: Map<Cell, Weights>, inputs: Map<number, Float32Array>, threads?: number): NumpyPeer | string {
  const dir = mkdtempSync(join(tmpdir(), 'keras-lens-bench-'));
  try {
    const file = (name: string, data: Float32Array) => {
      writeFileSync(join(dir, name), new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      return name;
    };
    for (const b of BATCHES) file(`x_b${b}.f32`, inputs.get(b)!);
    const cases = [];
    for (const cell of CELLS) {
      const w = weights.get(cell)!;
      const names = { kernel: file(`${cell}_kernel.f32`, w.kernel), recurrent_kernel: file(`${cell}_recurrent.f32`, w.recurrentKernel), bias: file(`${cell}_bias.f32`, w.bias) };
      for (const batch of BATCHES) {
        cases.push({ name: `${cell}_b${batch}`, cell, units: UNITS, features: FEATURES, steps: STEPS, batch, input: `x_b${batch}.f32`, ...names });
      }
    }
    writeFileSync(join(dir, 'cases.json'), JSON.stringify({ cases }));
    const env = { ...process.env };
    delete env.OPENBLAS_CORETYPE;
    delete env.OPENBLAS_L2_SIZE;
    if (threads) env.OPENBLAS_NUM_THREADS = String(threads);
    const script = join(__dirname, 'numpy_rnn.py');
    const r = spawnSync('python3', [script, dir], { env, encoding: 'utf8', timeout: 600_000 });
    if (r.error) return `python3 could not be started (${r.error.message})`;
    if (r.status !== 0) {
      const why = (r.stderr || '').trim().split('\n').pop() ?? '';
      return /No module named .?numpy/.test(r.stderr ?? '') ? 'numpy is not installed for python3' : `numpy_rnn.py failed: ${why}`;
    }
    const line = r.stdout.trim().split('\n').pop() ?? '';
    const parsed = JSON.parse(line) as Record<string, { ms: number; cpu_ms: number } | string>;
    const timings = new Map<string, { t: Timing; out: Float32Array }>();
    for (const c of cases) {
      const v = parsed[c.name] as { ms: number; cpu_ms: number };
      const bytes = readFileSync(join(dir, `${c.name}.numpy.f32`));
      const out = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
      timings.set(c.name, { t: { ms: v.ms, cpuMs: v.cpu_ms }, out });
    }
    return { version: String(parsed.numpy), timings };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- main ----------------------------------------------------------------------------------------
interface Row {
  cell: Cell;
  batch: number;
  simd: Timing;
  /** the fast path again, from the alternation with float64 and the readable step */
  fast3: Timing;
  /** the fast path again, from the alternation with the bare kernel */
  fastVsKernel: Timing;
  simd64: Timing;
  ts: Timing;
  readable: Timing;
  tfCpu: Timing;
  tfWasm: Timing;
  numpy: Timing | null;
  numpy1: Timing | null;
  diffCpu: number;
  diffWasm: number;
  diffTs: number;
  diffReadable: number;
  diffNumpy: number;
  fast: boolean;
  readableRan: boolean;
  /** batch 32: predict() with the batch split over helper threads (null where not measured) */
  split: Timing | null;
  /** its one-thread partner in that alternation */
  noSplit: Timing | null;
  /** share of the chunks the helpers computed, and whether the outputs were bit-identical */
  splitShare: number;
  splitSame: boolean;
}

async function main(): Promise<void> {
  const wasmDir = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/';
  setWasmPaths(wasmDir);
  const inputs = new Map(BATCHES.map((b) => [b, uniform(b * STEPS * FEATURES, 1, rng(100 + b))]));
  const weights = new Map(CELLS.map((c) => [c, weightsFor(c)]));
  const loadBefore = loadavg()[0];

  // Keras Lens models (each layer packs its weights once, on its first predict) and the same models in tfjs.
  const models = new Map<Cell, Model>();
  for (const cell of CELLS) models.set(cell, await buildModel(modelFileFor(cell, weights.get(cell)!)));
  const oursT = new Map<string, { t: Timing; out: Float64Array; fast: boolean }>();
  const tfT = new Map<string, { t: Timing; out: Float32Array }>();
  let wasmSimd = false;
  // Phase 1: our SIMD backend against tfjs-wasm; phase 2: our TypeScript fallback against tfjs-cpu.
  const phases: [MatmulBackend, string][] = [
    [simdSupported() ? 'simd' : 'typescript', 'wasm'],
    ['typescript', 'cpu'],
  ];
  for (const [matmul, backend] of phases) {
    setPreferredMatmulBackend(matmul);
    await tf.setBackend(backend);
    await tf.ready();
    if (backend === 'wasm') wasmSimd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT') as boolean;
    for (const cell of CELLS) {
      const model = models.get(cell)!;
      const m = tfModel(cell, weights.get(cell)!);
      for (const batch of BATCHES) {
        const data = inputs.get(batch)!;
        const x: Tensor = { shape: [batch, STEPS, FEATURES], data };
        const first = await ours(model, x);
        const tfOut = tfPredict(m, data, batch);
        const [t, tft] = await alternateMedians([() => predict(model, x), () => tfPredict(m, data, batch)]);
        oursT.set(`${matmul}/${cell}/${batch}`, { t, out: first.out, fast: first.fast });
        tfT.set(`${backend}/${cell}/${batch}`, { t: tft, out: tfOut });
        console.error(`  measured ${cell} batch ${batch}: ours (${matmul}) ${t.ms.toFixed(2)} ms, tfjs-${backend} ${tft.ms.toFixed(2)} ms`);
      }
      m.dispose();
    }
  }
  setPreferredMatmulBackend('auto');

  // Phase 3: the fast path (float32, and float64) against the kinds' readable step and against the bare kernel
  // (direct runLstm/runGru calls, no engine around them: what predict() adds), same model and input, alternating.
  const readableT = new Map<string, { t: Timing; out: Float64Array; ran: boolean; fast: Timing; overhead: Timing }>();
  const simd64T = new Map<string, Timing>();
  const directMs = new Map<string, Timing>();
  const float64 = (model: Model, x: Tensor) => toggled(() => setFastRecurrentPrecision('float64'), () => setFastRecurrentPrecision('float32'), () => predict(model, x));
  for (const cell of CELLS) {
    const model = models.get(cell)!;
    for (const batch of BATCHES) {
      const x: Tensor = { shape: [batch, STEPS, FEATURES], data: inputs.get(batch)! };
      const readable = () => toggled(() => setFastRecurrentPath(false), () => setFastRecurrentPath(true), () => ours(model, x));
      const first = await readable();
      // the bare kernel runs on the packing predict() itself uses (packingFor), so the two share the cache as one
      // layer predicting repeatedly does, and the difference is only what predict() adds around the kernel
      await predict(model, x);
      const bound = model.layers.find((l) => l.name === cell)?.weights?.get('kernel')?.data;
      const p = bound ? packingFor(bound, 'float32') : null;
      if (!p || (p.cell !== 'lstm' && p.cell !== 'gru') || p.precision !== 'float32') throw new Error(`no float32 packing for ${cell}`);
      const data = inputs.get(batch)!;
      const kernel = () => (p.cell === 'lstm' ? runLstm(p, data, batch, STEPS, FEATURES) : runGru(p as PreparedGru, data, batch, STEPS, FEATURES));
      // predict() against the bare kernel on their own (after the readable step's allocations the next contender
      // pays for its garbage collection), then against float64 and the readable step
      const [overheadT, directT] = await alternateMedians([() => predict(model, x), kernel]);
      const [fastT, f64T, readT] = await alternateMedians([() => predict(model, x), () => float64(model, x), readable]);
      readableT.set(`${cell}/${batch}`, { t: readT, out: first.out, ran: !first.fast, fast: fastT, overhead: overheadT });
      simd64T.set(`${cell}/${batch}`, f64T);
      directMs.set(`${cell}_b${batch}`, directT);
      console.error(
        `  measured ${cell} batch ${batch}: fast path ${fastT.ms.toFixed(2)} ms (float32), ${f64T.ms.toFixed(2)} ms (float64), readable step ${readT.ms.toFixed(2)} ms`,
      );
    }
  }

  // Phase 3b: batch 32 with the batch split over helper threads (the product path where there are ≥ 2 cores)
  // against predict() on one thread, alternating; the outputs must be bit-identical.
  const splitT = new Map<string, { split: Timing; one: Timing; share: number; same: boolean }>();
  const splitter = createNodeBatchSplitter({});
  await splitter.ready();
  for (const cell of CELLS) {
    const model = models.get(cell)!;
    for (const batch of BATCHES.filter((b) => b >= 8)) {
      const x: Tensor = { shape: [batch, STEPS, FEATURES], data: inputs.get(batch)! };
      const withSplit = () => toggled(() => setBatchSplitter(splitter), () => setBatchSplitter(null), () => predict(model, x));
      const one = (await predict(model, x)).outputs[0].data;
      const two = (await withSplit()).outputs[0].data;
      const same = one.length === two.length && one.every((v, i) => Object.is(v, two[i]));
      const before = { ...splitter.stats };
      const [splitTime, oneTime] = await alternateMedians([withSplit, () => predict(model, x)]);
      const helper = splitter.stats.helperChunks - before.helperChunks;
      const all = helper + splitter.stats.ownChunks - before.ownChunks + splitter.stats.recomputed - before.recomputed;
      splitT.set(`${cell}/${batch}`, { split: splitTime, one: oneTime, share: all ? helper / all : 0, same });
      console.error(`  measured ${cell} batch ${batch}: split ${splitTime.ms.toFixed(2)} ms, one thread ${oneTime.ms.toFixed(2)} ms (helpers ${helper}/${all} chunks)`);
    }
  }
  await splitter.close();

  // Phase 4: numpy + OpenBLAS in a child process (cannot alternate with ours; run after, on the same data).
  // numpy as installed (OpenBLAS threads = cores), and with one OpenBLAS thread (on a loaded 2-core machine the
  // threaded run can be the slower one: the stricter peer is the faster of the two; both are printed).
  const peer = numpyPeer(weights, inputs);
  const peer1 = typeof peer === 'string' ? peer : numpyPeer(weights, inputs, 1);
  if (typeof peer === 'string') console.error(`  numpy peer skipped: ${peer}`);
  else console.error(`  measured numpy ${peer.version}: ${[...peer.timings].map(([k, v]) => `${k} ${v.t.ms.toFixed(2)} ms`).join(', ')}`);
  if (typeof peer1 !== 'string') console.error(`  measured numpy, 1 OpenBLAS thread: ${[...peer1.timings].map(([k, v]) => `${k} ${v.t.ms.toFixed(2)} ms`).join(', ')}`);

  const rows: Row[] = [];
  for (const cell of CELLS) {
    for (const batch of BATCHES) {
      const simd = oursT.get(`simd/${cell}/${batch}`) ?? oursT.get(`typescript/${cell}/${batch}`)!;
      const ts = oursT.get(`typescript/${cell}/${batch}`)!;
      const cpu = tfT.get(`cpu/${cell}/${batch}`)!;
      const wasm = tfT.get(`wasm/${cell}/${batch}`)!;
      const readable = readableT.get(`${cell}/${batch}`)!;
      const np = typeof peer === 'string' ? null : peer.timings.get(`${cell}_b${batch}`)!;
      rows.push({
        cell,
        batch,
        simd: simd.t,
        fast3: readable.fast,
        fastVsKernel: readable.overhead,
        simd64: simd64T.get(`${cell}/${batch}`)!,
        ts: ts.t,
        readable: readable.t,
        tfCpu: cpu.t,
        tfWasm: wasm.t,
        numpy: np ? np.t : null,
        numpy1: typeof peer1 === 'string' ? null : peer1.timings.get(`${cell}_b${batch}`)!.t,
        diffCpu: maxAbsDiff(simd.out, cpu.out),
        diffWasm: maxAbsDiff(simd.out, wasm.out),
        diffTs: maxAbsDiff(readable.out, ts.out),
        diffReadable: maxAbsDiff(simd.out, readable.out),
        diffNumpy: np ? maxAbsDiff(simd.out, np.out) : NaN,
        fast: simd.fast && ts.fast,
        readableRan: readable.ran,
        split: splitT.get(`${cell}/${batch}`)?.split ?? null,
        noSplit: splitT.get(`${cell}/${batch}`)?.one ?? null,
        splitShare: splitT.get(`${cell}/${batch}`)?.share ?? 0,
        splitSame: splitT.get(`${cell}/${batch}`)?.same ?? true,
      });
    }
  }

  const direct = [...directMs].map(
    ([key, t]) => `${key.replace('_', ' ').toUpperCase().replace(' B', ' b')} ${t.ms.toFixed(2)} ms wall, ${t.cpuMs.toFixed(2)} ms CPU (${gflops(Number(key.split('_b')[1]), key.split('_')[0] as Cell, t.cpuMs).toFixed(1)} GFLOP/s)`,
  );

  const fast = rows.every((r) => r.fast);
  const load = Math.max(loadBefore, loadavg()[0]);
  console.log(`Keras Lens recurrent benchmark — units ${UNITS}, ${STEPS} steps × ${FEATURES} features, LSTM and GRU (reset_after=false)`);
  console.log(
    `Node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), load average ${load.toFixed(1)}; ` +
      `WebAssembly SIMD: ours ${simdSupported() ? 'yes' : 'no'}, tfjs-wasm ${wasmSimd ? 'yes' : 'no'}; ` +
      (typeof peer === 'string' ? `numpy peer skipped: ${peer}` : `numpy ${peer.version} (float32, OpenBLAS, its own threads)`),
  );
  console.log(
    fast
      ? 'measured through the engine\'s public path: predict() on a Model built from an in-memory model file (the fast recurrent kernels ran)'
      : 'measured through the engine\'s public path: predict() on a Model built from an in-memory model file — NOTE: the fast kernels did NOT run (the layer kinds call the readable reference step), so "ours" is the reference step',
  );
  console.log('times = median of several runs after one warm-up, ours and tfjs (and fast and readable) alternating; numpy in its own process after; wall-clock ms, and CPU ms of the measuring process (robust when other processes load the machine)');
  const fmt = (t: Timing | null) => (t ? `${t.ms.toFixed(2).padStart(9)} (${t.cpuMs.toFixed(1).padStart(7)})` : '        — (      —)');
  console.log('ours = the default fast path (SIMD float32); SIMD64 = the same in float64; TS = the TypeScript fallback (float64); readable = the kinds\' own step (float64)');
  console.log(
    'case      ours wall (cpu)       SIMD64 wall (cpu)     ours TS wall (cpu)    readable wall (cpu)   tfjs-cpu wall (cpu)   tfjs-wasm wall (cpu)  numpy wall (cpu)      numpy 1-thr wall (cpu) ' +
      '| GFLOP/s by CPU time ours/TS/cpu/wasm | speed-up wall [cpu]: fast×readable ×numpy ×numpy-1-thread ×tfjs-wasm ×tfjs-cpu TS×tfjs-cpu | max|Δ| ours vs readable, numpy, tfjs-cpu, tfjs-wasm; TS vs readable',
  );
  const result: Record<string, number | boolean | string> = {};
  /** the time compared with numpy: predict() alternating with the bare kernel; at batch 32 the split predict() */
  const engineTime = (r: Row): Timing => r.split ?? r.fastVsKernel;
  const ratio = (slow: Timing, quick: Timing) => ({ wall: slow.ms / quick.ms, cpu: slow.cpuMs / quick.cpuMs });
  for (const r of rows) {
    const key = `${r.cell}_b${r.batch}`;
    const vsWasm = ratio(r.tfWasm, r.simd);
    const vsCpu = ratio(r.tfCpu, r.simd);
    const tsVsCpu = ratio(r.tfCpu, r.ts);
    const vsReadable = ratio(r.readable, r.fast3);
    // against numpy: our predict() from its run alternating with the bare kernel only (numpy runs in its own
    // process, so the tfjs alternation's cache and GC effects would be charged to us alone)
    // (at batch 32 the split predict(), the path the CLI and the extension take where there are ≥ 2 cores)
    const vsNumpy = r.numpy ? ratio(r.numpy, engineTime(r)) : null;
    const vsNumpy1 = r.numpy1 ? ratio(r.numpy1, engineTime(r)) : null;
    const both = (x: { wall: number; cpu: number } | null) => (x ? `${x.wall.toFixed(1)}× [${x.cpu.toFixed(1)}×]` : '— [—]');
    console.log(
      `${(r.cell.toUpperCase() + ' b' + r.batch).padEnd(8)}${fmt(r.simd)}  ${fmt(r.simd64)}  ${fmt(r.ts)}  ${fmt(r.readable)}  ${fmt(r.tfCpu)}  ${fmt(r.tfWasm)}  ${fmt(r.numpy)}  ${fmt(r.numpy1)} | ` +
        `${[r.simd, r.ts, r.tfCpu, r.tfWasm].map((t) => gflops(r.batch, r.cell, t.cpuMs).toFixed(2)).join(' / ')} | ` +
        `${both(vsReadable)} ${both(vsNumpy)} ${both(vsNumpy1)} ${both(vsWasm)} ${both(vsCpu)} ${both(tsVsCpu)} | ` +
        `${[r.diffReadable, r.diffNumpy, r.diffCpu, r.diffWasm, r.diffTs].map((d) => (Number.isNaN(d) ? '—' : d.toExponential(1))).join(', ')}`,
    );
    result[`${key}_ms`] = +r.simd.ms.toFixed(3);
    result[`${key}_cpu_ms`] = +r.simd.cpuMs.toFixed(3);
    result[`${key}_predict_ms`] = +r.fastVsKernel.ms.toFixed(3);
    result[`${key}_predict_cpu_ms`] = +r.fastVsKernel.cpuMs.toFixed(3);
    result[`${key}_fast_vs_readable`] = +vsReadable.wall.toFixed(2);
    result[`${key}_fast_vs_readable_cpu_time`] = +vsReadable.cpu.toFixed(2);
    result[`${key}_float64_ms`] = +r.simd64.ms.toFixed(3);
    if (vsNumpy) {
      result[`${key}_vs_numpy`] = +vsNumpy.wall.toFixed(2);
      result[`${key}_vs_numpy_cpu_time`] = +vsNumpy.cpu.toFixed(2);
      result[`${key}_max_abs_diff_vs_numpy`] = +r.diffNumpy.toExponential(2);
    }
    if (vsNumpy1) {
      result[`${key}_vs_numpy_1thread`] = +vsNumpy1.wall.toFixed(2);
      result[`${key}_vs_numpy_1thread_cpu_time`] = +vsNumpy1.cpu.toFixed(2);
    }
    result[`${key}_vs_tfjs_wasm`] = +vsWasm.wall.toFixed(2);
    result[`${key}_vs_tfjs_wasm_cpu_time`] = +vsWasm.cpu.toFixed(2);
    result[`${key}_vs_tfjs_cpu`] = +vsCpu.wall.toFixed(2);
    result[`${key}_typescript_vs_tfjs_cpu`] = +tsVsCpu.wall.toFixed(2);
    result[`${key}_typescript_vs_tfjs_cpu_cpu_time`] = +tsVsCpu.cpu.toFixed(2);
    result[`${key}_max_abs_diff_vs_tfjs`] = +Math.max(r.diffCpu, r.diffWasm).toExponential(2);
    const d = directMs.get(key)!;
    if (r.split && r.noSplit) {
      result[`${key}_split_predict_ms`] = +r.split.ms.toFixed(3);
      result[`${key}_split_predict_cpu_ms`] = +r.split.cpuMs.toFixed(3);
      result[`${key}_split_speedup`] = +(r.noSplit.ms / r.split.ms).toFixed(2);
      result[`${key}_split_helper_share`] = +r.splitShare.toFixed(2);
      result[`${key}_split_bit_identical`] = r.splitSame;
      if (r.numpy) result[`${key}_vs_numpy_no_split`] = +(r.numpy.ms / r.fastVsKernel.ms).toFixed(2);
      if (r.numpy1) result[`${key}_vs_numpy_1thread_no_split`] = +(r.numpy1.ms / r.fastVsKernel.ms).toFixed(2);
    }
    result[`${key}_predict_overhead_vs_kernel`] = +(r.fastVsKernel.ms / d.ms - 1).toFixed(3);
    result[`${key}_predict_overhead_vs_kernel_cpu_time`] = +(r.fastVsKernel.cpuMs / d.cpuMs - 1).toFixed(3);
  }
  console.log(`direct kernel calls (SIMD float32, no engine around them): ${direct.join('; ')}`);
  console.log(
    `predict() alternating with the bare kernel only (the time compared with numpy): ${rows.map((r) => `${r.cell.toUpperCase()} b${r.batch} ${r.fastVsKernel.ms.toFixed(2)} ms wall, ${r.fastVsKernel.cpuMs.toFixed(2)} ms CPU`).join('; ')}`,
  );
  const overhead = (r: Row, pick: (t: Timing) => number) => {
    const d = directMs.get(`${r.cell}_b${r.batch}`)!;
    return `${(100 * (pick(r.fastVsKernel) / pick(d) - 1)).toFixed(0)}%`;
  };
  console.log(
    `predict() overhead over the bare kernel (measured alternating): ${rows.map((r) => `${r.cell.toUpperCase()} b${r.batch} ${overhead(r, (t) => t.ms)} [${overhead(r, (t) => t.cpuMs)}]`).join(', ')} (wall [CPU])`,
  );
  const splitRows = rows.filter((r) => r.split && r.noSplit);
  if (splitRows.length) {
    console.log(
      `batch split over helper threads (predict(), alternating with one thread; CPU = all threads of this process): ` +
        splitRows
          .map(
            (r) =>
              `${r.cell.toUpperCase()} b${r.batch} ${r.split!.ms.toFixed(2)} ms (${r.split!.cpuMs.toFixed(1)} CPU) vs ${r.noSplit!.ms.toFixed(2)} ms one thread = ` +
              `${(r.noSplit!.ms / r.split!.ms).toFixed(2)}×, helpers took ${(100 * r.splitShare).toFixed(0)}% of the chunks, ` +
              `${gflops(r.batch, r.cell, r.split!.ms).toFixed(1)} GFLOP/s wall, bit-identical ${r.splitSame ? 'yes' : 'NO'}`,
          )
          .join('; '),
    );
  }
  // A target counts as met when both the wall-clock and the CPU-time ratio reach it.
  const meets = (rs: Row[], slow: (r: Row) => Timing, quick: (r: Row) => Timing, factor: number) =>
    rs.every((r) => slow(r).ms / quick(r).ms >= factor && slow(r).cpuMs / quick(r).cpuMs >= factor);
  const withNumpy = rows.filter((r) => r.numpy);
  /** the faster numpy of the two runs, wall and CPU time each: the stricter peer */
  const bestNumpy = (r: Row): Timing => ({
    ms: Math.min(r.numpy!.ms, r.numpy1?.ms ?? Infinity),
    cpuMs: Math.min(r.numpy!.cpuMs, r.numpy1?.cpuMs ?? Infinity),
  });
  const targets = {
    wasm_b1: meets(rows.filter((r) => r.batch === 1), (r) => r.tfWasm, (r) => r.simd, 5),
    wasm_b32: meets(rows.filter((r) => r.batch === 32), (r) => r.tfWasm, (r) => r.simd, 1.5),
    typescript_vs_cpu: meets(rows, (r) => r.tfCpu, (r) => r.ts, 5),
    numpy_b1: withNumpy.length > 0 && meets(withNumpy.filter((r) => r.batch === 1), (r) => r.numpy!, (r) => r.fastVsKernel, 1.5),
    numpy_b32: withNumpy.length > 0 && meets(withNumpy.filter((r) => r.batch === 32), (r) => r.numpy!, engineTime, 0.8),
    best_numpy_b1: withNumpy.length > 0 && meets(withNumpy.filter((r) => r.batch === 1), bestNumpy, (r) => r.fastVsKernel, 1.5),
    best_numpy_b32: withNumpy.length > 0 && meets(withNumpy.filter((r) => r.batch === 32), bestNumpy, engineTime, 0.8),
    exact: rows.every((r) => r.splitSame && r.diffCpu <= 1e-5 && r.diffWasm <= 1e-5 && r.diffTs <= 1e-12 && r.diffReadable <= 1e-5 && !(r.diffNumpy > 1e-5)),
  };
  const met = (ok: boolean) => (ok ? 'MET' : 'NOT met');
  console.log(
    `targets (wall and CPU time): ≥5× tfjs-wasm at batch 1 ${met(targets.wasm_b1)}; ≥1.5× at batch 32 ${met(targets.wasm_b32)}; ` +
      `TypeScript fallback ≥5× tfjs-cpu ${met(targets.typescript_vs_cpu)}; ` +
      (withNumpy.length
        ? `≥1.5× numpy at batch 1 ${met(targets.numpy_b1)} (faster numpy of the two: ${met(targets.best_numpy_b1)}); ` +
          `≥0.8× numpy at batch 32 ${met(targets.numpy_b32)} (faster numpy: ${met(targets.best_numpy_b32)}); `
        : 'numpy targets not measured; ') +
      `outputs within 1e-5 of the readable step, tfjs${withNumpy.length ? ' and numpy' : ''}, TS fallback = readable (1e-12) ${targets.exact ? 'yes' : 'NO'}` +
      (rows.every((r) => r.readableRan) ? '' : ' — NOTE: the readable step did not run when asked'),
  );
  result.path = fast ? 'predict' : 'predict-reference-step';
  result.load_average = +load.toFixed(1);
  if (typeof peer === 'string') result.numpy_skipped = peer;
  else result.numpy = peer.version;
  result.numpy_targets_met_vs_faster_numpy = targets.best_numpy_b1 && targets.best_numpy_b32;
  result.targets_met =
    fast && rows.every((r) => r.readableRan) && targets.wasm_b1 && targets.wasm_b32 && targets.typescript_vs_cpu && targets.exact && targets.numpy_b1 && targets.numpy_b32;
  console.log(JSON.stringify(result));
}

main().catch((err) => {
  console.error(`bench failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
