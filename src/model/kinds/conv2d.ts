/**
 * Conv2D: y = act(conv(x, kernel) + bias), kernel (kh, kw, in, filters), bias (filters).
 * data_format channels_last (default) or channels_first; padding valid/same (TensorFlow's rule: 'same' pads
 * max((out−1)·stride + (k−1)·dilation + 1 − size, 0), the smaller half before); strides; dilation_rate.
 * Also the convolution arithmetic shared by Conv1D and ConvLSTM1D/2D/3D (convolveNd: any number of spatial axes).
 */
import type { ForwardArgs, ForwardResult, KindContext, LayerConfig, LayerKind, WeightRef, WeightRole } from '../types';
import { KerasLensError } from '../types';
import { activationFromConfig } from '../activations';
import { asFloat64 } from '../../kernels/reference';
import { bindByMatch, storedRolesByMatch } from './bind-by-name';
import { firstInputShape, requireWeight } from './recurrent';

/** A config value that is an int or a list of ints, as `n` ints. */
export function intTuple(v: unknown, n: number, fallback: number): number[] {
  if (Array.isArray(v)) return v.map((x) => Number(x));
  if (typeof v === 'number') return new Array(n).fill(v);
  return new Array(n).fill(fallback);
}

export function configPadding(layer: LayerConfig): string {
  const p = layer.config.padding ?? layer.config.border_mode ?? 'valid';
  return String(p).toLowerCase();
}

export function channelsFirst(layer: LayerConfig): boolean {
  const f = layer.config.data_format ?? layer.config.dim_ordering;
  return f === 'channels_first' || f === 'th';
}

/** Output length along one spatial axis and the padding before it. */
export function convAxis(
  size: number,
  k: number,
  stride: number,
  dilation: number,
  padding: string,
): { out: number; padBefore: number } {
  const span = (k - 1) * dilation + 1;
  if (padding === 'same') {
    const out = Math.ceil(size / stride);
    const total = Math.max((out - 1) * stride + span - size, 0);
    return { out, padBefore: Math.floor(total / 2) };
  }
  if (padding === 'causal') return { out: Math.ceil(size / stride), padBefore: span - 1 };
  if (padding === 'valid') return { out: Math.max(0, Math.floor((size - span) / stride) + 1), padBefore: 0 };
  throw new KerasLensError(null, `padding '${padding}' is not supported`);
}

export function convAxisLength(size: number | null, k: number, stride: number, dilation: number, padding: string): number | null {
  return size === null ? null : convAxis(size, k, stride, dilation, padding).out;
}

/**
 * out[b, oy, ox, f] (+)= Σ_{ky,kx,c} x[b, oy·sh + ky·dh − padTop, ox·sw + kx·dw − padLeft, c] · kernel[ky, kx, c, f]
 * x is (B, H, W, C) channels_last; kernel (kh, kw, C, F); zeros outside the input. Float64 accumulation.
 */
export function convolve2d(
  xIn: Float32Array | Float64Array,
  B: number,
  H: number,
  W: number,
  C: number,
  kernelIn: Float32Array | Float64Array,
  kh: number,
  kw: number,
  F: number,
  strides: number[],
  dilation: number[],
  padding: string,
  out?: Float64Array,
): { data: Float64Array; outH: number; outW: number } {
  const x = asFloat64(xIn);
  const kernel = asFloat64(kernelIn);
  const ay = convAxis(H, kh, strides[0], dilation[0], padding);
  const ax = convAxis(W, kw, strides[1], dilation[1], padding);
  const outH = ay.out;
  const outW = ax.out;
  const data = out ?? new Float64Array(B * outH * outW * F);
  if (!out) data.fill(0);
  for (let b = 0; b < B; b++) {
    for (let oy = 0; oy < outH; oy++) {
      for (let ox = 0; ox < outW; ox++) {
        const o = ((b * outH + oy) * outW + ox) * F;
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * strides[0] + ky * dilation[0] - ay.padBefore;
          if (iy < 0 || iy >= H) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * strides[1] + kx * dilation[1] - ax.padBefore;
            if (ix < 0 || ix >= W) continue;
            const xi = ((b * H + iy) * W + ix) * C;
            const ki = (ky * kw + kx) * C * F;
            for (let c = 0; c < C; c++) {
              const xv = x[xi + c];
              if (xv === 0) continue;
              const kr = ki + c * F;
              for (let f = 0; f < F; f++) data[o + f] += xv * kernel[kr + f];
            }
          }
        }
      }
    }
  }
  return { data, outH, outW };
}

/**
 * The same sum over any number of spatial axes: x (B, S1..Sn, C) channels_last, kernel (k1..kn, C, F).
 * Rank ≤ 2 is convolve2d (rank 1 as a 1-row image); a higher rank peels its first spatial axis:
 *   out[b, o1, ...] += conv_{n−1}(x[b, o1·s1 + j·d1 − pad1, ...], kernel[j, ...]) for every kernel offset j.
 */
export function convolveNd(
  xIn: Float32Array | Float64Array,
  B: number,
  spatial: number[],
  C: number,
  kernelIn: Float32Array | Float64Array,
  kernelSize: number[],
  F: number,
  strides: number[],
  dilation: number[],
  padding: string,
  out?: Float64Array,
): { data: Float64Array; outSpatial: number[] } {
  const n = spatial.length;
  if (n === 1) {
    const r = convolve2d(xIn, B, 1, spatial[0], C, kernelIn, 1, kernelSize[0], F, [1, strides[0]], [1, dilation[0]], padding, out);
    return { data: r.data, outSpatial: [r.outW] };
  }
  if (n === 2) {
    const r = convolve2d(xIn, B, spatial[0], spatial[1], C, kernelIn, kernelSize[0], kernelSize[1], F, strides, dilation, padding, out);
    return { data: r.data, outSpatial: [r.outH, r.outW] };
  }
  const x = asFloat64(xIn);
  const kernel = asFloat64(kernelIn);
  const a = convAxis(spatial[0], kernelSize[0], strides[0], dilation[0], padding);
  const rest = spatial.slice(1);
  const restOut = rest.map((size, k) => convAxis(size, kernelSize[k + 1], strides[k + 1], dilation[k + 1], padding).out);
  const inSlice = rest.reduce((p, q) => p * q, 1) * C; // one input slice x[b, i1]
  const outSlice = restOut.reduce((p, q) => p * q, 1) * F; // one output slice out[b, o1]
  const kSlice = kernelSize.slice(1).reduce((p, q) => p * q, 1) * C * F; // kernel[j]
  const data = out ?? new Float64Array(B * a.out * outSlice);
  for (let b = 0; b < B; b++) {
    for (let o = 0; o < a.out; o++) {
      const target = data.subarray((b * a.out + o) * outSlice, (b * a.out + o + 1) * outSlice);
      for (let j = 0; j < kernelSize[0]; j++) {
        const i = o * strides[0] + j * dilation[0] - a.padBefore;
        if (i < 0 || i >= spatial[0]) continue;
        convolveNd(
          x.subarray((b * spatial[0] + i) * inSlice, (b * spatial[0] + i + 1) * inSlice),
          1,
          rest,
          C,
          kernel.subarray(j * kSlice, (j + 1) * kSlice),
          kernelSize.slice(1),
          F,
          strides.slice(1),
          dilation.slice(1),
          padding,
          target,
        );
      }
    }
  }
  return { data, outSpatial: [a.out, ...restOut] };
}

/** (N, C, S...) ↔ (N, S..., C): move axis 1 to the end, or back with `toFirst`. */
export function moveChannels(data: ArrayLike<number>, shape: number[], toFirst: boolean): { data: Float64Array; shape: number[] } {
  const N = shape[0];
  const out = new Float64Array(data.length);
  if (!toFirst) {
    const C = shape[1];
    const S = shape.slice(2).reduce((a, b) => a * b, 1);
    for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let s = 0; s < S; s++) out[(n * S + s) * C + c] = data[(n * C + c) * S + s];
    return { data: out, shape: [N, ...shape.slice(2), C] };
  }
  const C = shape[shape.length - 1];
  const S = shape.slice(1, -1).reduce((a, b) => a * b, 1);
  for (let n = 0; n < N; n++) for (let s = 0; s < S; s++) for (let c = 0; c < C; c++) out[(n * C + c) * S + s] = data[(n * S + s) * C + c];
  return { data: out, shape: [N, C, ...shape.slice(1, -1)] };
}

export interface Conv2DParams {
  kernelSize: number[];
  strides: number[];
  dilation: number[];
  padding: string;
  filters: number;
}

export function conv2dParams(layer: LayerConfig): Conv2DParams {
  const c = layer.config;
  const ks = c.kernel_size ?? (typeof c.nb_row === 'number' ? [c.nb_row, c.nb_col] : undefined);
  const filters = c.filters ?? c.nb_filter;
  if (ks === undefined || typeof filters !== 'number') {
    throw new KerasLensError(null, `layer '${layer.name}' (${layer.className}) needs 'filters' and 'kernel_size' in its config`);
  }
  return {
    kernelSize: intTuple(ks, 2, 1),
    strides: intTuple(c.strides ?? c.subsample, 2, 1),
    dilation: intTuple(c.dilation_rate, 2, 1),
    padding: configPadding(layer),
    filters,
  };
}

function conv2dWeightRoles(layer: LayerConfig, ctx: KindContext): WeightRole[] {
  const p = conv2dParams(layer);
  const s = firstInputShape(layer, ctx);
  const cin = s ? (channelsFirst(layer) ? s[1] : s[s.length - 1]) : null;
  const roles: WeightRole[] = [
    {
      role: 'kernel',
      meaning: 'convolution kernel (rows, cols, input channels, filters)',
      shape: typeof cin === 'number' ? [p.kernelSize[0], p.kernelSize[1], cin, p.filters] : null,
      blocks: [],
    },
  ];
  if (layer.config.use_bias !== false && layer.config.bias !== false) roles.push({ role: 'bias', meaning: 'bias, one per filter', shape: [p.filters], blocks: [] });
  return roles;
}

export const conv2dKind: LayerKind = {
  classNames: ['Conv2D', 'Convolution2D'],
  weightRoles: conv2dWeightRoles,
  storedRoles(layer: LayerConfig, refs: WeightRef[], ctx: KindContext) {
    return storedRolesByMatch(layer, refs, conv2dWeightRoles(layer, ctx));
  },
  bindWeights(layer, stored, ctx) {
    if (layer.config.dim_ordering === 'th') {
      // Keras 1 'th' kernels are (filters, in, rows, cols) and, under Theano, flipped: not the same numbers
      throw new KerasLensError(null, `layer '${layer.name}': Keras 1 Theano-ordered (dim_ordering 'th') convolution kernels are not supported`);
    }
    return bindByMatch(layer, stored, conv2dWeightRoles(layer, { ...ctx, inputShapes: [] }));
  },
  outputShapes(layer, ctx) {
    const p = conv2dParams(layer);
    const s = firstInputShape(layer, ctx) ?? [null, null, null, null];
    const cf = channelsFirst(layer);
    const [h, w] = cf ? [s[2], s[3]] : [s[1], s[2]];
    const oh = convAxisLength(h ?? null, p.kernelSize[0], p.strides[0], p.dilation[0], p.padding);
    const ow = convAxisLength(w ?? null, p.kernelSize[1], p.strides[1], p.dilation[1], p.padding);
    return [cf ? [s[0], p.filters, oh, ow] : [s[0], oh, ow, p.filters]];
  },
  forward(args: ForwardArgs): ForwardResult {
    const layer = args.layer;
    const p = conv2dParams(layer);
    const cf = channelsFirst(layer);
    let x = args.inputs[0];
    if (x.shape.length !== 4) throw new KerasLensError(null, `layer '${layer.name}' (Conv2D) needs a 4D input, got (${x.shape.join(',')})`);
    if (cf) x = moveChannels(x.data, x.shape, false);
    const [B, H, W, C] = x.shape;
    const kernel = requireWeight(args, 'kernel');
    if (kernel.data.length !== p.kernelSize[0] * p.kernelSize[1] * C * p.filters) {
      throw new KerasLensError(null, `layer '${layer.name}': kernel (${kernel.shape.join(',')}) does not fit ${C} input channels`);
    }
    // y = conv(x, kernel) + bias
    const r = convolve2d(x.data, B, H, W, C, kernel.data, p.kernelSize[0], p.kernelSize[1], p.filters, p.strides, p.dilation, p.padding);
    const bias = args.weights.get('bias');
    if (bias) for (let k = 0; k < r.data.length; k++) r.data[k] += bias.data[k % p.filters];
    let out = { data: r.data, shape: [B, r.outH, r.outW, p.filters] };
    if (cf) out = moveChannels(out.data, out.shape, true);
    activationFromConfig(layer.config.activation, args.ctx.kerasVersion, 'linear').apply(out.data, out.shape);
    return { outputs: [out] };
  },
};
