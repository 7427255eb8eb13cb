/**
 * ConvLSTM timings (not a test; `node --import tsx test/bench/bench-conv-lstm.ts`): the ConvLSTM fast path
 * (fast-conv-lstm.ts → src/kernels/conv-recurrent.ts) against the kind's readable step, and ConvLSTM2D against
 * tfjs-layers' convLstm2d (an independent implementation of the same Keras layer), with the same seeded weights and
 * inputs, through predict() on a model built from an in-memory model file (the public engine path), in one process:
 *   - fast float32 (default: WebAssembly SIMD, f32x4), fast float64 (SIMD f64x2), fast TypeScript backend (float64);
 *   - readable: setFastConvLstmPath(false), the float64 reference step the fast path is tested against;
 *   - tfjs-layers on tfjs-backend-wasm (SIMD, .wasm from node_modules) and on tfjs-backend-cpu (2D cases only:
 *     tfjs has no ConvLSTM1D/3D).
 * Contenders run in alternation (A, B, C, A, B, C, ...) after one warm-up each, so load from other processes hits all
 * alike; medians of wall-clock time and of this process's CPU time. Prints per case the times, the ratios measured in
 * the same run (readable ÷ fast, tfjs ÷ fast) and max|Δ| of each output against the readable step. The LAST line is
 * one JSON object with the ratios.
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { dirname, join } from 'node:path';
import { loadavg } from 'node:os';
import { buildModel, type Model } from '../../src/model/graph';
import { predict } from '../../src/engine/predict';
import type { Tensor } from '../../src/model/types';
import { setPreferredMatmulBackend, simdSupported } from '../../src/kernels/workspace';
import { fastConvLstmRunCount, setFastConvLstmPath, setFastConvLstmPrecision } from '../../src/model/kinds/fast-conv-lstm';
import { seededRandom } from '../fixtures/models';
import { inputLayer, layer, memoryFile, modelConfig, ref } from '../engine/memoryModel';
import { alternate, maxAbsDiff, type Sample, uniform } from './timing';

interface Case {
  name: string;
  className: 'ConvLSTM1D' | 'ConvLSTM2D' | 'ConvLSTM3D';
  batch: number;
  steps: number;
  spatial: number[];
  channels: number;
  filters: number;
  kernel: number[];
  padding: 'same' | 'valid';
  strides?: number[];
  returnSequences?: boolean;
}

const CASES: Case[] = [
  { name: '2D b1 10×16×16×8 → 16f 3×3 same', className: 'ConvLSTM2D', batch: 1, steps: 10, spatial: [16, 16], channels: 8, filters: 16, kernel: [3, 3], padding: 'same' },
  { name: '2D b4 8×24×24×4 → 8f 3×3 same seq', className: 'ConvLSTM2D', batch: 4, steps: 8, spatial: [24, 24], channels: 4, filters: 8, kernel: [3, 3], padding: 'same', returnSequences: true },
  { name: '2D b2 8×20×20×3 → 12f 5×5 valid s2', className: 'ConvLSTM2D', batch: 2, steps: 8, spatial: [20, 20], channels: 3, filters: 12, kernel: [5, 5], padding: 'valid', strides: [2, 2] },
  { name: '1D b8 20×64×8 → 16f 5 same', className: 'ConvLSTM1D', batch: 8, steps: 20, spatial: [64], channels: 8, filters: 16, kernel: [5], padding: 'same' },
  { name: '3D b1 6×8×8×8×2 → 8f 3×3×3 same', className: 'ConvLSTM3D', batch: 1, steps: 6, spatial: [8, 8, 8], channels: 2, filters: 8, kernel: [3, 3, 3], padding: 'same' },
];

const product = (v: number[]) => v.reduce((a, b) => a * b, 1);

interface Weights {
  kernel: Float32Array;
  recurrentKernel: Float32Array;
  bias: Float32Array;
}
function weightsFor(c: Case, seed: number): Weights {
  const r = seededRandom(seed);
  const taps = product(c.kernel);
  const G = 4 * c.filters;
  // Glorot-like scales so the gates are neither saturated nor flat
  return {
    kernel: uniform(taps * c.channels * G, Math.sqrt(6 / (taps * (c.channels + G))), r),
    recurrentKernel: uniform(taps * c.filters * G, Math.sqrt(6 / (taps * (c.filters + G))), r),
    bias: uniform(G, 0.1, r),
  };
}

function oursModel(c: Case, w: Weights): Promise<Model> {
  const config = {
    filters: c.filters,
    kernel_size: c.kernel,
    strides: c.strides ?? c.kernel.map(() => 1),
    padding: c.padding,
    activation: 'tanh',
    recurrent_activation: 'sigmoid',
    use_bias: true,
    return_sequences: !!c.returnSequences,
  };
  const G = 4 * c.filters;
  const file = memoryFile(
    modelConfig([inputLayer('x', [c.steps, ...c.spatial, c.channels]), layer('conv', c.className, config, [ref('x')])], [ref('x')], [ref('conv')]),
    {
      conv: [
        { name: 'conv/kernel:0', shape: [...c.kernel, c.channels, G], data: Array.from(w.kernel) },
        { name: 'conv/recurrent_kernel:0', shape: [...c.kernel, c.filters, G], data: Array.from(w.recurrentKernel) },
        { name: 'conv/bias:0', shape: [G], data: Array.from(w.bias) },
      ],
    },
    '2.15.0',
  );
  return buildModel(file);
}

function tfModel(c: Case, w: Weights): tf.LayersModel {
  const layerTf = tf.layers.convLstm2d({
    filters: c.filters,
    kernelSize: c.kernel,
    strides: c.strides ?? [1, 1],
    padding: c.padding,
    activation: 'tanh',
    recurrentActivation: 'sigmoid',
    returnSequences: !!c.returnSequences,
    inputShape: [c.steps, ...c.spatial, c.channels],
    // the weights are set below; zeros skips tfjs's slow orthogonal initialiser
    kernelInitializer: 'zeros',
    recurrentInitializer: 'zeros',
  });
  const m = tf.sequential({ layers: [layerTf] });
  const G = 4 * c.filters;
  m.setWeights([tf.tensor(w.kernel, [...c.kernel, c.channels, G]), tf.tensor(w.recurrentKernel, [...c.kernel, c.filters, G]), tf.tensor1d(w.bias)]);
  return m;
}

/** alternate() (timing.ts) with at most 15 rounds. */
const alternateConv = (contenders: (() => unknown)[]) => alternate(contenders, 15);

type Mode = 'float32' | 'float64' | 'typescript' | 'readable';
/** One predict in a mode; the fast-path counter says whether the fast path really ran. */
async function ours(model: Model, x: Tensor, mode: Mode): Promise<{ out: ArrayLike<number>; fast: boolean }> {
  setFastConvLstmPath(mode !== 'readable');
  setFastConvLstmPrecision(mode === 'float32' ? 'float32' : 'float64');
  setPreferredMatmulBackend(mode === 'typescript' ? 'typescript' : 'auto');
  const before = fastConvLstmRunCount();
  try {
    const r = await predict(model, x);
    return { out: r.outputs[0].data, fast: fastConvLstmRunCount() > before };
  } finally {
    setFastConvLstmPath(true);
    setFastConvLstmPrecision('float32');
    setPreferredMatmulBackend('auto');
  }
}

async function main(): Promise<void> {
  setWasmPaths(join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/');
  const load = loadavg()[0];
  const modes: Mode[] = simdSupported() ? ['float32', 'float64', 'typescript', 'readable'] : ['typescript', 'readable'];
  const result: Record<string, number> = {};
  const fmt = (s: Sample) => `${s.wall.toFixed(1)} (${s.cpu.toFixed(1)})`;
  console.log(`ConvLSTM fast path vs readable step vs tfjs-layers convLstm2d; medians, ms wall (cpu); load ${load.toFixed(2)}; WebAssembly SIMD ${simdSupported() ? 'yes' : 'no'}`);
  for (const [index, c] of CASES.entries()) {
    const w = weightsFor(c, 500 + index);
    const model = await oursModel(c, w);
    const xData = uniform(c.batch * c.steps * product(c.spatial) * c.channels, 1, seededRandom(900 + index));
    const x: Tensor = { shape: [c.batch, c.steps, ...c.spatial, c.channels], data: xData };
    const outs = new Map<Mode, ArrayLike<number>>();
    for (const mode of modes) {
      const r = await ours(model, x, mode);
      if (r.fast !== (mode !== 'readable')) throw new Error(`${c.name}: mode ${mode} ${r.fast ? 'took' : 'did not take'} the fast path`);
      outs.set(mode, r.out);
    }
    const peers: { name: string; backend: string }[] = c.className === 'ConvLSTM2D' ? [{ name: 'tfjs-wasm', backend: 'wasm' }, { name: 'tfjs-cpu', backend: 'cpu' }] : [];
    const contenders: (() => unknown)[] = modes.map((m) => () => ours(model, x, m));
    const names: string[] = [...modes];
    const tfOuts = new Map<string, ArrayLike<number>>();
    // tfjs cannot switch backends per call cheaply: each tfjs backend gets its own alternation with our default mode
    const timings = new Map<string, Sample>();
    (await alternateConv(contenders)).forEach((s, k) => timings.set(names[k], s));
    for (const peer of peers) {
      await tf.setBackend(peer.backend);
      await tf.ready();
      const m = tfModel(c, w);
      const run = () => tf.tidy(() => (m.predict(tf.tensor(xData, x.shape)) as tf.Tensor).dataSync());
      tfOuts.set(peer.name, run());
      const [mine, theirs] = await alternateConv([() => ours(model, x, modes[0]), run]);
      timings.set(`${modes[0]}@${peer.name}`, mine);
      timings.set(peer.name, theirs);
      m.dispose();
    }
    const fast = timings.get(modes[0])!;
    const readable = timings.get('readable')!;
    const key = c.name.split(' ').slice(0, 2).join('_').toLowerCase() + `_${index}`;
    const lines = [`${c.className} ${c.name}`];
    for (const m of modes) lines.push(`  ${m.padEnd(10)} ${fmt(timings.get(m)!).padEnd(18)} readable÷this ${(readable.wall / timings.get(m)!.wall).toFixed(1)}× wall, ${(readable.cpu / timings.get(m)!.cpu).toFixed(1)}× cpu; max|Δ| vs readable ${maxAbsDiff(outs.get(m)!, outs.get('readable')!).toExponential(1)}`);
    result[`${key}_readable_vs_fast`] = +(readable.wall / fast.wall).toFixed(2);
    result[`${key}_readable_vs_fast_cpu_time`] = +(readable.cpu / fast.cpu).toFixed(2);
    for (const peer of peers) {
      const t = timings.get(peer.name)!;
      const mine = timings.get(`${modes[0]}@${peer.name}`)!;
      lines.push(
        `  ${peer.name.padEnd(10)} ${fmt(t).padEnd(18)} this÷${modes[0]} ${(t.wall / mine.wall).toFixed(1)}× wall, ${(t.cpu / mine.cpu).toFixed(1)}× cpu (${modes[0]} in that alternation ${fmt(mine)}); max|Δ| vs readable ${maxAbsDiff(tfOuts.get(peer.name)!, outs.get('readable')!).toExponential(1)}`,
      );
      result[`${key}_${peer.name.replace('-', '_')}_vs_fast`] = +(t.wall / mine.wall).toFixed(2);
      result[`${key}_${peer.name.replace('-', '_')}_vs_fast_cpu_time`] = +(t.cpu / mine.cpu).toFixed(2);
    }
    console.log(lines.join('\n'));
  }
  console.log(JSON.stringify({ load_before: +load.toFixed(2), load_after: +loadavg()[0].toFixed(2), ...result }));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
