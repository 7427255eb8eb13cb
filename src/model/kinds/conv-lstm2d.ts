/**
 * ConvLSTM2D: an LSTM whose matrix products are convolutions.
 *   z = conv(x(t), kernel; padding, strides, dilation) + bias + conv(h(t-1), recurrent_kernel; 'same', stride 1)
 *   i = σ(z_i), f = σ(z_f), c̃ = act(z_c), o = σ(z_o);  c = f⊙c(t-1) + i⊙c̃;  h = o⊙act(c)
 * Weights (get_weights order): kernel (kh, kw, in, 4f), recurrent_kernel (kh, kw, f, 4f), bias (4f); gate blocks
 * i, f, c, o on the last axis. Input (batch, time, rows, cols, channels) or channels_first (batch, time, channels,
 * rows, cols). States and the trace are kept channels_last (batch, rows, cols, filters) internally.
 */
import type { ForwardArgs, ForwardResult, KindContext, LayerConfig, WeightRef, WeightRole } from '../types';
import { KerasLensError } from '../types';
import { bindByMatch } from './bind-by-name';
import { asFloat64 } from '../../kernels/reference';
import {
  LSTM_GATES,
  activationOf,
  firstInputShape,
  gateBlocks,
  recurrentActivationOf,
  recurrentFlags,
  recurrentOutputShapes,
  recurrentStoredRoles,
  requireWeight,
  runLayerCell,
  type RecurrentCell,
  type RecurrentKind,
  type RunOverrides,
} from './recurrent';
import { channelsFirst, conv2dParams, convAxisLength, convolve2d, moveChannels } from './conv2d';

function convLstmWeightRoles(layer: LayerConfig, ctx: KindContext): WeightRole[] {
  const p = conv2dParams(layer);
  const f = p.filters;
  const s = firstInputShape(layer, ctx);
  const cin = s ? (channelsFirst(layer) ? s[2] : s[s.length - 1]) : null;
  const [kh, kw] = p.kernelSize;
  const roles: WeightRole[] = [
    {
      role: 'kernel',
      meaning: 'input kernel: convolves the input x(t), one filter block per gate',
      shape: typeof cin === 'number' ? [kh, kw, cin, 4 * f] : null,
      blocks: gateBlocks(LSTM_GATES, f),
    },
    {
      role: 'recurrent_kernel',
      meaning: "recurrent kernel: convolves the previous hidden state h(t-1) ('same' padding), one filter block per gate",
      shape: [kh, kw, f, 4 * f],
      blocks: gateBlocks(LSTM_GATES, f),
    },
  ];
  if (layer.config.use_bias !== false) roles.push({ role: 'bias', meaning: 'bias, one block per gate', shape: [4 * f], blocks: gateBlocks(LSTM_GATES, f) });
  return roles;
}

function spatialOut(layer: LayerConfig, rows: number | null, cols: number | null): [number | null, number | null] {
  const p = conv2dParams(layer);
  return [
    convAxisLength(rows, p.kernelSize[0], p.strides[0], p.dilation[0], p.padding),
    convAxisLength(cols, p.kernelSize[1], p.strides[1], p.dilation[1], p.padding),
  ];
}

export const convLstm2dKind: RecurrentKind = {
  classNames: ['ConvLSTM2D'],
  weightRoles: convLstmWeightRoles,
  storedRoles(layer: LayerConfig, refs: WeightRef[], ctx: KindContext) {
    return recurrentStoredRoles(layer, refs, convLstmWeightRoles(layer, ctx), LSTM_GATES);
  },
  bindWeights(layer, stored, ctx) {
    return bindByMatch(layer, stored, convLstmWeightRoles(layer, { ...ctx, inputShapes: [] }));
  },
  outputShapes(layer, ctx) {
    const flags = recurrentFlags(layer);
    const s = firstInputShape(layer, ctx) ?? [null, null, null, null, null];
    const cf = channelsFirst(layer);
    const [rows, cols] = cf ? [s[3], s[4]] : [s[2], s[3]];
    const [oh, ow] = spatialOut(layer, rows ?? null, cols ?? null);
    const step = cf ? [flags.units, oh, ow] : [oh, ow, flags.units];
    return recurrentOutputShapes(flags, s, step, 2);
  },
  forward(args: ForwardArgs): ForwardResult {
    return convLstm2dKind.runWith(args, {});
  },
  runWith(args: ForwardArgs, overrides: RunOverrides): ForwardResult {
    const layer = args.layer;
    const flags = recurrentFlags(layer);
    const p = conv2dParams(layer);
    const cf = channelsFirst(layer);
    const input = args.inputs[0];
    if (input.shape.length !== 5) {
      throw new KerasLensError(null, `layer '${layer.name}' (ConvLSTM2D) needs a 5D input (batch, time, ...), got (${input.shape.join(',')})`);
    }
    const [B, T] = input.shape;
    // every (batch, time) image as channels_last: (B·T, H, W, C)
    const images = cf ? moveChannels(input.data, [B * T, ...input.shape.slice(2)], false) : { data: input.data, shape: [B * T, ...input.shape.slice(2)] };
    const [, H, W, C] = images.shape;
    const F = p.filters;
    const G = 4 * F;
    const [kh, kw] = p.kernelSize;
    const kernel = requireWeight(args, 'kernel');
    const recurrentKernel = requireWeight(args, 'recurrent_kernel');
    if (kernel.data.length !== kh * kw * C * G) {
      throw new KerasLensError(null, `layer '${layer.name}': kernel (${kernel.shape.join(',')}) does not fit ${C} input channels`);
    }
    // conv(x(t), W) + b for every step at once
    const xw = convolve2d(images.data, B * T, H, W, C, kernel.data, kh, kw, G, p.strides, p.dilation, p.padding);
    const bias = flags.useBias ? args.weights.get('bias') : undefined;
    if (bias) for (let k = 0; k < xw.data.length; k++) xw.data[k] += bias.data[k % G];
    const oh = xw.outH;
    const ow = xw.outW;
    const P = oh * ow; // positions per image
    const act = activationOf(layer, args.ctx.kerasVersion).elementwise ?? ((v: number) => v);
    const recAct = recurrentActivationOf(layer, args.ctx.kerasVersion).elementwise ?? ((v: number) => v);
    const hu = new Float64Array(B * P * G);
    const recurrentKernel64 = asFloat64(recurrentKernel.data);
    const cell: RecurrentCell = {
      stateCount: 2,
      stateSize: P * F,
      stateShape: [oh, ow, F],
      gates: ['i', 'f', 'c', 'o'],
      step(t, [hPrev, cPrev], record) {
        // conv(h(t-1), U) with 'same' padding, stride 1
        hu.fill(0);
        convolve2d(hPrev, B, oh, ow, F, recurrentKernel64, kh, kw, G, [1, 1], [1, 1], 'same', hu);
        const h = new Float64Array(B * P * F);
        const c = new Float64Array(B * P * F);
        const rec = record ? { i: new Float64Array(B * P * F), f: new Float64Array(B * P * F), c: new Float64Array(B * P * F), o: new Float64Array(B * P * F) } : null;
        for (let b = 0; b < B; b++) {
          for (let q = 0; q < P; q++) {
            const xr = ((b * T + t) * P + q) * G;
            const hr = (b * P + q) * G;
            const s = (b * P + q) * F;
            for (let j = 0; j < F; j++) {
              const i = recAct(xw.data[xr + j] + hu[hr + j]); //                 i = σ(z_i)
              const fg = recAct(xw.data[xr + F + j] + hu[hr + F + j]); //        f = σ(z_f)
              const cc = act(xw.data[xr + 2 * F + j] + hu[hr + 2 * F + j]); //   c̃ = act(z_c)
              const o = recAct(xw.data[xr + 3 * F + j] + hu[hr + 3 * F + j]); // o = σ(z_o)
              const cn = fg * cPrev[s + j] + i * cc; //                           c = f⊙c(t-1) + i⊙c̃
              c[s + j] = cn;
              h[s + j] = o * act(cn); //                                          h = o⊙act(c)
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
    // initial states given channels_first arrive as (B, F, oh, ow)
    const initialStates = cf && args.initialStates ? args.initialStates.map((s) => moveChannels(s.data, s.shape, false)) : args.initialStates;
    const result = runLayerCell({ ...args, initialStates }, flags, cell, B, T, overrides);
    if (cf) {
      result.outputs = result.outputs.map((o) => {
        if (o.shape.length === 5) {
          // (B, T, oh, ow, F) → (B, T, F, oh, ow)
          const m = moveChannels(o.data, [B * T, oh, ow, F], true);
          return { shape: [B, T, F, oh, ow], data: m.data };
        }
        return moveChannels(o.data, o.shape, true);
      });
    }
    return result;
  },
};

