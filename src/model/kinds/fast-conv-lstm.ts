/**
 * The fast path of a ConvLSTM1D/2D/3D call, shaped for the kind (conv-lstm.ts): given the ForwardArgs, the layer's
 * flags and its convolution geometry, run the whole sequence with the packed runner of src/kernels/conv-recurrent.ts
 * (patches × [W; U] on the SIMD matmul) and return what the kind's readable step loop returns — outputs channels_last
 * (B, [T,] S1'..Sn', F), final states with return_state, stateful states, the output mask.
 *
 * The kind calls it only when no trace is requested, and runs its own step loop when this returns null: an activation
 * the runner does not compute exactly as the kind's own function (the same probe as fast-recurrent.ts), or weights
 * that do not fit the input (the kind then reports the mismatch).
 *
 * Precision: the rule of fast-recurrent.ts — float32 (f32x4 SIMD, Keras's own precision) where WebAssembly SIMD runs
 * and both activations saturate; float64 otherwise (relu or linear states can grow step by step, and float32 rounding
 * with them). The checks, state handling and outputs around the time loop are the readable step's own
 * (recurrent-call.ts). Packed weights are cached per layer (keyed by the bound kernel array).
 */
import type { ForwardArgs, ForwardResult, Tensor } from '../types';
import { KEEP_WORKSPACE_BYTES, preferredMatmulBackend, type Precision } from '../../kernels/workspace';
import { convGather, prepareConvLstm, runConvLstm, type PreparedConvLstm } from '../../kernels/conv-recurrent';
import { hardSigmoidFormula, runnerActivation, SATURATING, type NamedActivation } from './fast-recurrent';
import { callStartStates, checkedCallMask, finishCall } from './recurrent-call';
import { convAxis } from './conv2d';
import type { RecurrentFlags, RunOverrides } from './recurrent';

export interface FastConvLstmSpec {
  kernel: Tensor;
  recurrentKernel: Tensor;
  bias?: Tensor;
  activation: NamedActivation;
  recurrentActivation: NamedActivation;
  kernelSize: number[];
  strides: number[];
  dilation: number[];
  padding: string;
  filters: number;
}

/** The channels_last input of the call: (batch, steps, S1..Sn, channels) as one array. */
export interface ConvSequence {
  data: Tensor['data'];
  batch: number;
  steps: number;
  spatial: number[];
  channels: number;
}

let runs = 0;
/** How many ConvLSTM calls have run on the fast path in this process (lets tests and the benchmark see it ran). */
export function fastConvLstmRunCount(): number {
  return runs;
}

let enabled = true;
/** Turn the ConvLSTM fast path off (every call then runs the readable step) or back on; for the benchmark. */
export function setFastConvLstmPath(on: boolean): void {
  enabled = on;
}

let precision: Precision = 'float32';
/**
 * The precision of the ConvLSTM fast path from now on: 'float32' (default where SIMD runs and the activations
 * saturate) or 'float64' (equal to the readable step to ~1e-12; test/kinds/fast-conv-lstm.test.ts checks both).
 */
export function setFastConvLstmPrecision(p: Precision): void {
  precision = p;
}

interface Packed {
  recurrentKernel: Tensor['data'];
  bias: Tensor['data'] | null;
  taps: number;
  prepared: PreparedConvLstm;
}
/** Packings per bound kernel array: one per recurrent kernel / bias / backend / precision met (a few at most). */
const cache = new WeakMap<Tensor['data'], Packed[]>();

function packed(spec: FastConvLstmSpec, taps: number, wanted: Precision): Packed {
  const backend = preferredMatmulBackend();
  const bias = spec.bias?.data ?? null;
  const list = cache.get(spec.kernel.data) ?? [];
  const same = (e: Packed) =>
    e.recurrentKernel === spec.recurrentKernel.data && e.bias === bias && e.taps === taps && e.prepared.backend === backend && e.prepared.precision === (backend === 'simd' ? wanted : 'float64');
  const hit = list.find(same);
  if (hit) return hit;
  const prepared = prepareConvLstm({ kernel: spec.kernel.data, recurrentKernel: spec.recurrentKernel.data, bias }, taps, spec.filters, { backend, precision: wanted });
  const entry = { recurrentKernel: spec.recurrentKernel.data, bias, taps, prepared };
  cache.set(spec.kernel.data, [entry, ...list].slice(0, 4));
  return entry;
}

/**
 * Run one ConvLSTM call on the fast path; null when it cannot (the kind then runs its own steps). `args` carries the
 * initial states already channels_last; the result is channels_last, as the readable loop's.
 */
export function runConvLstmFast(args: ForwardArgs, flags: RecurrentFlags, overrides: RunOverrides, spec: FastConvLstmSpec, x: ConvSequence): ForwardResult | null {
  if (args.ctx.trace || !enabled) return null;
  const act = runnerActivation(spec.activation);
  const recAct = runnerActivation(spec.recurrentActivation);
  if (!act || !recAct) return null;
  const keras3 = hardSigmoidFormula(act, recAct);
  if (keras3 === null) return null;
  const F = spec.filters;
  const taps = spec.kernelSize.reduce((a, b) => a * b, 1);
  const { batch: B, steps: T, spatial, channels: C } = x;
  if (spec.kernel.data.length !== taps * C * 4 * F || spec.recurrentKernel.data.length !== taps * F * 4 * F) return null;
  if (spec.bias && spec.bias.data.length !== 4 * F) return null;

  // the input convolution as the layer defines it; the recurrent one 'same', stride 1, no dilation (Keras's recurrent_conv)
  const inputAxes = spatial.map((size, d) => ({ size, kernel: spec.kernelSize[d], stride: spec.strides[d], dilation: spec.dilation[d], ...convAxis(size, spec.kernelSize[d], spec.strides[d], spec.dilation[d], spec.padding) }));
  const outSpatial = inputAxes.map((a) => a.out);
  const recurrentAxes = outSpatial.map((size, d) => ({ size, kernel: spec.kernelSize[d], stride: 1, dilation: 1, ...convAxis(size, spec.kernelSize[d], 1, 1, 'same') }));
  const P = outSpatial.reduce((a, b) => a * b, 1);

  const mask = checkedCallMask(args, args.masks[0] ?? null, B, T);
  const call = { ...flags, stateKey: overrides.stateKey ?? args.layer.name };
  const [h0, c0] = callStartStates(args, call, 2, B, P * F);
  const saturating = SATURATING.has(act.name) && SATURATING.has(recAct.name);
  const entry = packed(spec, taps, saturating ? precision : 'float64');
  const p = entry.prepared;
  const run = runConvLstm(p, x.data, B, T, convGather(inputAxes), convGather(recurrentAxes), {
    goBackwards: overrides.goBackwards ?? flags.goBackwards,
    returnSequences: flags.returnSequences,
    initialH: h0,
    initialC: c0,
    mask: mask?.data ?? null,
    maskedOutput: (overrides.zeroOutputForMask ?? flags.zeroOutputForMask) ? 'zero' : 'previous',
    activation: act.name,
    recurrentActivation: recAct.name,
    hardSigmoidKeras3: keras3,
  });
  if (p.ws.heap.byteLength > KEEP_WORKSPACE_BYTES) cache.set(spec.kernel.data, (cache.get(spec.kernel.data) ?? []).filter((e) => e !== entry));
  if (!run) return null;
  runs++;
  const stateShape = [B, ...outSpatial, F];
  const states: Tensor[] = [{ shape: stateShape, data: run.h }, { shape: stateShape, data: run.c! }];
  const main: Tensor = run.sequence ? { shape: [B, T, ...outSpatial, F], data: run.sequence } : { shape: stateShape, data: run.last };
  return finishCall(args, call, mask, main, states);
}
