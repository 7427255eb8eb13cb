/**
 * LSTM and CuDNNLSTM.
 *
 * Weights (get_weights order): kernel (in, 4u), recurrent_kernel (u, 4u), bias (4u) — gate blocks i, f, c, o on the
 * last axis. Keras 1 stores 12 arrays `<name>_{W,U,b}_{i,c,f,o}`; they are fused by NAME into that layout.
 * CuDNNLSTM (Keras 2 cudnn_recurrent.py) stores kernel (in, 4u) and recurrent_kernel (u, 4u) in this same Keras layout
 * and bias (8u) = [input bias i,f,c,o | recurrent bias i,f,c,o]. Its bound weights keep exactly that layout (bias 8u,
 * so they match weightRoles); forward adds the two halves into the LSTM bias (4u). It always uses recurrent
 * activation sigmoid and activation tanh.
 */
import type { ForwardArgs, ForwardResult, KindContext, LayerConfig, Tensor, WeightRef, WeightRole } from '../types';
import { KerasLensError } from '../types';
import { activationByName, type Activation } from '../activations';
import { addBiasRows, asFloat64, matmul, matmulInto } from '../../kernels/reference';
import { bindByMatch } from './bind-by-name';
import { runRecurrentFast } from './fast-recurrent';
import { LSTM_GATES, cudnnBiasRole, gateBlocks, gatedKernelRoles, isCuDNN } from './gated-roles';
import { fuseKeras1Split, recurrentStoredRoles } from './keras1-split';
import {
  activationOf,
  firstInputShape,
  inputFeatureSize,
  recurrentActivationOf,
  recurrentFlags,
  recurrentOutputShapes,
  requireWeight,
  type RecurrentKind,
  type RunOverrides,
} from './recurrent';
import { runLayerCell, sequenceInput, type RecurrentCell } from './time-loop';

function lstmWeightRoles(layer: LayerConfig, ctx: KindContext): WeightRole[] {
  const { units: u, useBias } = recurrentFlags(layer);
  const inDim = inputFeatureSize(layer, ctx);
  const roles: WeightRole[] = gatedKernelRoles(LSTM_GATES, u, inDim);
  if (isCuDNN(layer.className)) {
    roles.push(cudnnBiasRole(LSTM_GATES, u, 'the two halves are added'));
  } else if (useBias) {
    roles.push({ role: 'bias', meaning: 'bias, one block per gate', shape: [4 * u], blocks: gateBlocks(LSTM_GATES, u) });
  }
  return roles;
}

/**
 * The readable LSTM steps over one (batch, steps, in) input with canonical weights (x·W + b for every step is
 * computed here once); the time loop runs them. Not Keras's LSTMCell class, which RNN(cell) maps to this kind.
 */
export function lstmSteps(
  x: Tensor,
  batch: number,
  steps: number,
  inDim: number,
  units: number,
  kernel: Tensor,
  recurrentKernel: Tensor,
  bias: Tensor | undefined,
  act: Activation,
  recAct: Activation,
): RecurrentCell {
  const u = units;
  const G = 4 * u;
  if (kernel.data.length !== inDim * G) {
    throw new KerasLensError(null, `LSTM kernel has shape (${kernel.shape.join(',')}), expected (${inDim},${G}) for input size ${inDim}`);
  }
  // x·W + b for every step at once: row (b·T + t)
  const xw = matmul(x.data, batch * steps, inDim, kernel.data, G);
  if (bias) addBiasRows(xw, batch * steps, bias.data, G);
  const f = recAct.elementwise ?? ((v: number) => v);
  const g = act.elementwise ?? ((v: number) => v);
  const U = asFloat64(recurrentKernel.data);
  const z = new Float64Array(batch * G);
  return {
    stateCount: 2,
    stateSize: u,
    stateShape: [u],
    gates: ['i', 'f', 'c', 'o'],
    step(t, [hPrev, cPrev], record) {
      // z = x(t)·W + b + h(t-1)·U     (columns i | f | c | o)
      matmulInto(z, 0, hPrev, 0, batch, u, U, G);
      const h = new Float64Array(batch * u);
      const c = new Float64Array(batch * u);
      const rec = record
        ? { i: new Float64Array(batch * u), f: new Float64Array(batch * u), c: new Float64Array(batch * u), o: new Float64Array(batch * u) }
        : null;
      for (let b = 0; b < batch; b++) {
        const xr = (b * steps + t) * G;
        const zr = b * G;
        for (let j = 0; j < u; j++) {
          const i = f(xw[xr + j] + z[zr + j]); //                 i = σ(z_i)
          const fg = f(xw[xr + u + j] + z[zr + u + j]); //        f = σ(z_f)
          const cc = g(xw[xr + 2 * u + j] + z[zr + 2 * u + j]); // c̃ = act(z_c)
          const o = f(xw[xr + 3 * u + j] + z[zr + 3 * u + j]); //  o = σ(z_o)
          const cn = fg * cPrev[b * u + j] + i * cc; //            c = f⊙c(t-1) + i⊙c̃
          c[b * u + j] = cn;
          h[b * u + j] = o * g(cn); //                             h = o⊙act(c)
          if (rec) {
            rec.i[b * u + j] = i;
            rec.f[b * u + j] = fg;
            rec.c[b * u + j] = cc;
            rec.o[b * u + j] = o;
          }
        }
      }
      if (record && rec) Object.assign(record, rec);
      return [h, c];
    },
  };
}

/** CuDNNLSTM bias (8u) = input half + recurrent half → the LSTM bias (4u). */
function cudnnSummedBias(bias: Tensor | undefined): Tensor | undefined {
  if (!bias) return undefined;
  const half = bias.data.length / 2;
  const summed = new Float64Array(half);
  for (let k = 0; k < half; k++) summed[k] = bias.data[k] + bias.data[half + k];
  return { shape: [half], data: summed };
}

export const lstmKind: RecurrentKind = {
  classNames: ['LSTM', 'CuDNNLSTM'],

  weightRoles: lstmWeightRoles,

  storedRoles(layer: LayerConfig, refs: WeightRef[], ctx: KindContext): WeightRole[] {
    return recurrentStoredRoles(layer, refs, lstmWeightRoles(layer, ctx), LSTM_GATES);
  },

  bindWeights(layer, stored, ctx) {
    const fused = fuseKeras1Split(layer, stored, LSTM_GATES);
    return fused ?? bindByMatch(layer, stored, lstmWeightRoles(layer, { ...ctx, inputShapes: [] }));
  },

  outputShapes(layer, ctx) {
    const flags = recurrentFlags(layer);
    return recurrentOutputShapes(flags, firstInputShape(layer, ctx), [flags.units], 2);
  },

  forward(args: ForwardArgs): ForwardResult {
    return lstmKind.runWith(args, {});
  },

  runWith(args: ForwardArgs, overrides: RunOverrides): ForwardResult {
    const flags = recurrentFlags(args.layer);
    const { x, batch, steps, featureSize } = sequenceInput(args);
    const cudnn = isCuDNN(args.layer.className);
    const v = args.ctx.kerasVersion;
    const act = cudnn ? activationByName('tanh', v) : activationOf(args.layer, v);
    const recAct = cudnn ? activationByName('sigmoid', v) : recurrentActivationOf(args.layer, v);
    // Fast path (packed weights, WebAssembly SIMD) when no gate trace is asked; the readable step below otherwise.
    const bias = cudnn ? cudnnSummedBias(args.weights.get('bias')) : flags.useBias ? args.weights.get('bias') : undefined;
    const kernel = requireWeight(args, 'kernel');
    const recurrentKernel = requireWeight(args, 'recurrent_kernel');
    const fast = args.ctx.trace ? null : runRecurrentFast(args, flags, overrides, { cell: 'lstm', kernel, recurrentKernel, bias, activation: act, recurrentActivation: recAct });
    if (fast) return fast;
    const cell = lstmSteps(x, batch, steps, featureSize, flags.units, kernel, recurrentKernel, bias, act, recAct);
    return runLayerCell(args, flags, cell, batch, steps, overrides);
  },
};
