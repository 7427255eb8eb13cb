/**
 * ConvLSTM1D / ConvLSTM2D / ConvLSTM3D: an LSTM whose matrix products are convolutions over n = 1, 2, 3 spatial axes.
 *   z = conv(x(t), kernel; padding, strides, dilation) + bias + conv(h(t-1), recurrent_kernel; 'same', stride 1, no dilation)
 *   i = σ(z_i), f = σ(z_f), c̃ = act(z_c), o = σ(z_o);  c = f⊙c(t-1) + i⊙c̃;  h = o⊙act(c)
 * (Keras 3 keras/src/layers/rnn/conv_lstm.py: input_conv uses the layer's strides/padding/dilation, recurrent_conv
 * strides 1 and padding 'same'.)
 * Weights (get_weights order): kernel (k1..kn, in, 4f), recurrent_kernel (k1..kn, f, 4f), bias (4f); gate blocks
 * i, f, c, o on the last axis. Input (batch, time, S1..Sn, channels) or channels_first (batch, time, channels,
 * S1..Sn). States and the trace are kept channels_last (batch, S1'..Sn', filters) internally.
 *
 * Two implementations of the same step: the readable one below (the reference, float64, formulas beside the code,
 * and the only one that records the gate trace), and the fast path of fast-conv-lstm.ts (patches × [W; U] on the
 * packed SIMD matmul, float32 where the activations saturate), taken by default when no trace is asked for;
 * test/kinds/fast-conv-lstm.test.ts holds the two equal.
 */
import type { ForwardArgs, ForwardResult, KindContext, LayerConfig, WeightRef, WeightRole } from '../types';
import { KerasLensError } from '../types';
import { bindByMatch } from './bind-by-name';
import { asFloat64 } from '../../kernels/reference';
import { LSTM_GATES, gateBlocks } from './gated-roles';
import { recurrentStoredRoles } from './keras1-split';
import {
  activationOf,
  firstInputShape,
  recurrentActivationOf,
  recurrentFlags,
  recurrentOutputShapes,
  requireWeight,
  type RecurrentKind,
  type RunOverrides,
} from './recurrent';
import { runLayerCell, type RecurrentCell } from './time-loop';
import { runConvLstmFast } from './fast-conv-lstm';
import { channelsFirst, configPadding, convAxisLength, convolveNd, intTuple, moveChannels } from './conv2d';

/** Number of spatial axes: the digit of the class name (ConvLSTM2D → 2). */
function spatialRank(layer: LayerConfig): number {
  const m = /^ConvLSTM([123])D/.exec(layer.className);
  return m ? Number(m[1]) : 2;
}

export interface ConvLstmParams {
  n: number;
  kernelSize: number[];
  strides: number[];
  dilation: number[];
  padding: string;
  filters: number;
}

/** The layer's geometry as the engine reads it (Keras 1's nb_row/nb_col/subsample too); the export reads it here. */
export function convLstmParams(layer: LayerConfig): ConvLstmParams {
  const c = layer.config;
  const n = spatialRank(layer);
  const ks = c.kernel_size ?? (n === 2 && typeof c.nb_row === 'number' ? [c.nb_row, c.nb_col] : undefined);
  const filters = c.filters ?? c.nb_filter;
  if (ks === undefined || typeof filters !== 'number') {
    throw new KerasLensError(null, `layer '${layer.name}' (${layer.className}) needs 'filters' and 'kernel_size' in its config`);
  }
  const p = {
    n,
    kernelSize: intTuple(ks, n, 1),
    strides: intTuple(c.strides ?? c.subsample, n, 1),
    dilation: intTuple(c.dilation_rate, n, 1),
    padding: configPadding(layer),
    filters,
  };
  for (const [what, v] of [['kernel_size', p.kernelSize], ['strides', p.strides], ['dilation_rate', p.dilation]] as const) {
    if (v.length !== n || v.some((x) => !Number.isInteger(x) || x < 1)) {
      throw new KerasLensError(null, `layer '${layer.name}' (${layer.className}): '${what}' must be ${n} positive integers, got ${JSON.stringify(v)}`);
    }
  }
  return p;
}

function convLstmWeightRoles(layer: LayerConfig, ctx: KindContext): WeightRole[] {
  const p = convLstmParams(layer);
  const f = p.filters;
  const s = firstInputShape(layer, ctx);
  const cin = s ? (channelsFirst(layer) ? s[2] : s[s.length - 1]) : null;
  const roles: WeightRole[] = [
    {
      role: 'kernel',
      meaning: 'input kernel: convolves the input x(t), one filter block per gate',
      shape: typeof cin === 'number' ? [...p.kernelSize, cin, 4 * f] : null,
      blocks: gateBlocks(LSTM_GATES, f),
    },
    {
      role: 'recurrent_kernel',
      meaning: "recurrent kernel: convolves the previous hidden state h(t-1) ('same' padding), one filter block per gate",
      shape: [...p.kernelSize, f, 4 * f],
      blocks: gateBlocks(LSTM_GATES, f),
    },
  ];
  if (layer.config.use_bias !== false) roles.push({ role: 'bias', meaning: 'bias, one block per gate', shape: [4 * f], blocks: gateBlocks(LSTM_GATES, f) });
  return roles;
}

export const convLstmKind: RecurrentKind = {
  classNames: ['ConvLSTM1D', 'ConvLSTM2D', 'ConvLSTM3D'],
  weightRoles: convLstmWeightRoles,
  storedRoles(layer: LayerConfig, refs: WeightRef[], ctx: KindContext) {
    return recurrentStoredRoles(layer, refs, convLstmWeightRoles(layer, ctx), LSTM_GATES);
  },
  bindWeights(layer, stored, ctx) {
    return bindByMatch(layer, stored, convLstmWeightRoles(layer, { ...ctx, inputShapes: [] }));
  },
  outputShapes(layer, ctx) {
    const flags = recurrentFlags(layer);
    const p = convLstmParams(layer);
    const s = firstInputShape(layer, ctx) ?? new Array<null>(p.n + 3).fill(null);
    const cf = channelsFirst(layer);
    const sizes = cf ? s.slice(3, 3 + p.n) : s.slice(2, 2 + p.n);
    const out = sizes.map((size, k) => convAxisLength(size ?? null, p.kernelSize[k], p.strides[k], p.dilation[k], p.padding));
    const step = cf ? [flags.units, ...out] : [...out, flags.units];
    return recurrentOutputShapes(flags, s, step, 2);
  },
  forward(args: ForwardArgs): ForwardResult {
    return convLstmKind.runWith(args, {});
  },
  runWith(args: ForwardArgs, overrides: RunOverrides): ForwardResult {
    const layer = args.layer;
    const flags = recurrentFlags(layer);
    const p = convLstmParams(layer);
    const cf = channelsFirst(layer);
    const input = args.inputs[0];
    if (input.shape.length !== p.n + 3) {
      throw new KerasLensError(null, `layer '${layer.name}' (${layer.className}) needs a ${p.n + 3}D input (batch, time, ...), got (${input.shape.join(',')})`);
    }
    const [B, T] = input.shape;
    // every (batch, time) sample as channels_last: (B·T, S1..Sn, C)
    const images = cf ? moveChannels(input.data, [B * T, ...input.shape.slice(2)], false) : { data: input.data, shape: [B * T, ...input.shape.slice(2)] };
    const spatial = images.shape.slice(1, -1);
    const C = images.shape[images.shape.length - 1];
    const F = p.filters;
    const G = 4 * F;
    const kernel = requireWeight(args, 'kernel');
    const recurrentKernel = requireWeight(args, 'recurrent_kernel');
    const taps = p.kernelSize.reduce((a, b) => a * b, 1);
    if (kernel.data.length !== taps * C * G) {
      throw new KerasLensError(null, `layer '${layer.name}': kernel (${kernel.shape.join(',')}) does not fit ${C} input channels`);
    }
    if (recurrentKernel.data.length !== taps * F * G) {
      throw new KerasLensError(null, `layer '${layer.name}': recurrent kernel (${recurrentKernel.shape.join(',')}) does not fit ${F} filters`);
    }
    const bias = flags.useBias ? args.weights.get('bias') : undefined;
    const act = activationOf(layer, args.ctx.kerasVersion);
    const recAct = recurrentActivationOf(layer, args.ctx.kerasVersion);
    // initial states given channels_first arrive as (B, F, S1'..Sn')
    const initialStates = cf && args.initialStates ? args.initialStates.map((s) => moveChannels(s.data, s.shape, false)) : args.initialStates;
    const fast = args.ctx.trace
      ? null
      : runConvLstmFast({ ...args, initialStates }, flags, overrides, { kernel, recurrentKernel, bias, activation: act, recurrentActivation: recAct, ...p }, { data: images.data, batch: B, steps: T, spatial, channels: C });
    const result = fast ?? readableConvLstm();
    if (cf) {
      result.outputs = result.outputs.map((o) => {
        if (o.shape.length === p.n + 3) {
          // (B, T, S1'..Sn', F) → (B, T, F, S1'..Sn')
          const m = moveChannels(o.data, [o.shape[0] * o.shape[1], ...o.shape.slice(2)], true);
          return { shape: [o.shape[0], o.shape[1], F, ...o.shape.slice(2, -1)], data: m.data };
        }
        return moveChannels(o.data, o.shape, true);
      });
    }
    return result;

    /** The readable step: the reference implementation (and the trace). */
    function readableConvLstm(): ForwardResult {
      // conv(x(t), W) + b for every step at once
      const xw = convolveNd(images.data, B * T, spatial, C, kernel.data, p.kernelSize, G, p.strides, p.dilation, p.padding);
      if (bias) for (let k = 0; k < xw.data.length; k++) xw.data[k] += bias.data[k % G];
      const outSpatial = xw.outSpatial;
      const P = outSpatial.reduce((a, b) => a * b, 1); // positions per sample
      const ones = new Array<number>(p.n).fill(1);
      const actFn = act.elementwise ?? ((v: number) => v);
      const recActFn = recAct.elementwise ?? ((v: number) => v);
      const hu = new Float64Array(B * P * G);
      const recurrentKernel64 = asFloat64(recurrentKernel.data);
      const cell: RecurrentCell = {
        stateCount: 2,
        stateSize: P * F,
        stateShape: [...outSpatial, F],
        gates: ['i', 'f', 'c', 'o'],
        step(t, [hPrev, cPrev], record) {
          // conv(h(t-1), U) with 'same' padding, stride 1, no dilation
          hu.fill(0);
          convolveNd(hPrev, B, outSpatial, F, recurrentKernel64, p.kernelSize, G, ones, ones, 'same', hu);
          const h = new Float64Array(B * P * F);
          const c = new Float64Array(B * P * F);
          const rec = record ? { i: new Float64Array(B * P * F), f: new Float64Array(B * P * F), c: new Float64Array(B * P * F), o: new Float64Array(B * P * F) } : null;
          for (let b = 0; b < B; b++) {
            for (let q = 0; q < P; q++) {
              const xr = ((b * T + t) * P + q) * G;
              const hr = (b * P + q) * G;
              const s = (b * P + q) * F;
              for (let j = 0; j < F; j++) {
                const i = recActFn(xw.data[xr + j] + hu[hr + j]); //                 i = σ(z_i)
                const fg = recActFn(xw.data[xr + F + j] + hu[hr + F + j]); //        f = σ(z_f)
                const cc = actFn(xw.data[xr + 2 * F + j] + hu[hr + 2 * F + j]); //   c̃ = act(z_c)
                const o = recActFn(xw.data[xr + 3 * F + j] + hu[hr + 3 * F + j]); // o = σ(z_o)
                const cn = fg * cPrev[s + j] + i * cc; //                           c = f⊙c(t-1) + i⊙c̃
                c[s + j] = cn;
                h[s + j] = o * actFn(cn); //                                          h = o⊙act(c)
                if (rec) {
                  rec.i[s + j] = i;
                  rec.f[s + j] = fg;
                  rec.c[s + j] = cc;
                  rec.o[s + j] = o;
                }
              }
            }
          }
          if (record && rec) Object.assign(record, rec);
          return [h, c];
        },
      };
      return runLayerCell({ ...args, initialStates }, flags, cell, B, T, overrides);
    }
  },
};
