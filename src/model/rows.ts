/**
 * Row sources: where each range of rows of a weight comes from.
 *
 * A kernel multiplies its layer's input features, so its rows are the input's features along the last axis,
 * traced back through layers that keep features in place (Dropout, Activation, Masking, BatchNormalization,
 * RepeatVector, ...), through Concatenate (last-axis offsets) and Flatten (one copy of the features per
 * flattened position, e.g. per timestep), to the layer that *made* them (an Input, a Dense, an RNN, ...).
 * A recurrent kernel's rows are the previous hidden state h(t-1). Embedding rows are token ids.
 *
 * Weights of rank > 2 are seen as a matrix (product of the leading axes, last axis): a Conv1D kernel (k, in, out)
 * has rows (kernel position, input channel), a ConvLSTM2D kernel (kh, kw, in, 4f) rows (dy, dx, channel).
 */
import type { LayerConfig, ModelConfig, RowSource, TensorRef } from './types';
import { identityKind } from './kinds/weightless/identity';
import { opFeatureSources } from './ops/kind';

/** A RowSource with the details needed to name one row. */
export interface RowSpan extends RowSource {
  /** Index inside the source of the span's first row (e.g. `lstm_1` unit 0). */
  offset?: number;
  /** The word for one row of this span: 'unit', 'feature', 'channel', 'token id'. */
  index?: string;
  /** Flatten of a sequence: the timestep these rows were at. */
  timestep?: number;
  /** Flatten of an image, or a convolution kernel position: the multi-index along the flattened axes. */
  position?: number[];
}

/** Output shape (batch axis included as null) of a tensor, or null when unknown. */
export type ShapeOf = (ref: TensorRef) => (number | null)[] | null;

export interface RowTraceContext {
  model: ModelConfig;
  shapeOf: ShapeOf;
}

export interface RowWeight {
  role: string;
  shape: number[];
  /** The class the weight belongs to (for wrappers, the wrapped class). */
  className: string | null;
}

/** Layers whose output feature j is input feature j (same last axis). */
const KEEPS_FEATURES = new Set([
  ...identityKind.classNames, // Dropout and its relatives
  'Activation',
  'Masking',
  'BatchNormalization',
  'LayerNormalization',
  'ReLU',
  'LeakyReLU',
  'PReLU',
  'ELU',
  'ThresholdedReLU',
  'RepeatVector',
  'Identity',
]);

const RECURRENT = /^(LSTM|GRU|SimpleRNN|CuDNNLSTM|CuDNNGRU)$/;
const CONV_LSTM = /^ConvLSTM[123]D$/;

/** Where each range of rows of `weight` (a weight of `layer`) comes from. Empty when rows have no source. */
export function rowSources(layer: LayerConfig, weight: RowWeight, ctx: RowTraceContext | null): RowSpan[] {
  const { role, shape } = weight;
  const cls = weight.className ?? '';
  const rows = shape.length === 0 ? 1 : shape.length === 1 ? 1 : shape.slice(0, -1).reduce((a, b) => a * b, 1);
  if (shape.length < 2) return [];

  if (role === 'embeddings') {
    return [{ source: 'token ids', start: 0, end: shape[0], index: 'token id', offset: 0, meaning: 'row k is the vector for token id k' }];
  }
  if (role === 'bias' && shape.length === 2 && shape[0] === 2) {
    return [
      { source: 'input bias', start: 0, end: 1, meaning: 'added to x·W' },
      { source: 'recurrent bias', start: 1, end: 2, meaning: 'added to h(t-1)·U (inside the reset gate for the candidate)' },
    ];
  }
  const channelsFirst = (layer.inner ?? layer).config?.data_format === 'channels_first';
  if (shape.length > 2) {
    // Convolution kernels: one block of rows per kernel position, channels inside.
    if (role !== 'kernel' && role !== 'recurrent_kernel') return [];
    const channels = shape[shape.length - 2];
    const channelSpans: RowSpan[] =
      role === 'recurrent_kernel'
        ? [{ source: 'h(t-1)', start: 0, end: channels, offset: 0, index: 'channel', meaning: 'previous hidden state' }]
        : (!channelsFirst && fit(inputFeatures(layer, ctx), channels)) || [
            { source: upstreamName(layer) ?? 'input', start: 0, end: channels, offset: 0, index: 'channel' },
          ];
    const positionAxes = shape.slice(0, -2);
    const positions = positionAxes.reduce((a, b) => a * b, 1);
    const out: RowSpan[] = [];
    for (let p = 0; p < positions; p++) {
      const position = unravel(p, positionAxes);
      for (const s of channelSpans) {
        out.push({
          ...s,
          start: p * channels + s.start,
          end: p * channels + s.end,
          position,
          meaning: `kernel position (${position.join(', ')})${s.meaning ? '; ' + s.meaning : ''}`,
        });
      }
    }
    return out;
  }
  // Rank 2.
  if (role === 'recurrent_kernel') {
    return [{ source: 'h(t-1)', start: 0, end: shape[0], offset: 0, index: 'unit', meaning: 'previous hidden state' }];
  }
  if (role === 'kernel') {
    const traced = fit(inputFeatures(layer, ctx), rows);
    if (traced) return sharedLayerNote(layer, traced);
    const up = upstreamName(layer);
    return [
      {
        source: up ?? 'input',
        start: 0,
        end: rows,
        offset: 0,
        index: 'feature',
        meaning: up ? undefined : RECURRENT.test(cls) || CONV_LSTM.test(cls) ? 'input features x(t)' : 'input features',
      },
    ];
  }
  return [];
}

/** Layers whose 1-D weights hold one number per input feature (last axis). */
const PER_FEATURE = new Set(['BatchNormalization', 'LayerNormalization', 'PReLU']);

/**
 * For weights with one entry per *input* feature (BatchNormalization γ/β/moving statistics, LayerNormalization,
 * PReLU α over the last axis): where each column's feature comes from. Empty for anything else.
 */
export function columnSources(layer: LayerConfig, weight: RowWeight, ctx: RowTraceContext | null): RowSpan[] {
  if (!PER_FEATURE.has(weight.className ?? '') || weight.shape.length !== 1) return [];
  const c = (layer.inner ?? layer).config;
  const axis = c.axis;
  const lastAxis = axis === undefined || axis === -1 || (Array.isArray(axis) && axis.length === 1 && axis[0] === -1);
  if (!lastAxis && weight.className !== 'PReLU') {
    const ref = layer.inbound[0]?.[0];
    const rank = ref && ctx ? ctx.shapeOf(ref)?.length : undefined;
    const a = Array.isArray(axis) ? axis[0] : axis;
    if (rank === undefined || a !== rank - 1) return [];
  }
  return fit(inputFeatures(layer, ctx), weight.shape[0]) ?? [];
}

/**
 * A shared layer (called more than once) reads different tensors on each call: the rows shown are those of its
 * first call, and each span says so, naming what the other calls read.
 */
function sharedLayerNote(layer: LayerConfig, spans: RowSpan[]): RowSpan[] {
  if (layer.inbound.length < 2) return spans;
  const others = [...new Set(layer.inbound.slice(1).flatMap((call) => call.map((r) => r.layer)))];
  const first = new Set(spans.map((s) => s.source));
  if (others.every((o) => first.has(o))) return spans;
  const note = `shared layer: rows of its first call; its other ${layer.inbound.length - 1 === 1 ? 'call reads' : 'calls read'} ${others.join(', ')}`;
  return spans.map((s) => ({ ...s, meaning: s.meaning ? `${s.meaning}; ${note}` : note }));
}

/** The name of the layer feeding `layer`'s first call, if any. */
function upstreamName(layer: LayerConfig): string | null {
  return layer.inbound[0]?.[0]?.layer ?? null;
}

/** Feature sources of `layer`'s first input (its first call). */
function inputFeatures(layer: LayerConfig, ctx: RowTraceContext | null): RowSpan[] | null {
  const ref = layer.inbound[0]?.[0];
  if (!ctx || !ref) return null;
  return featureSources(ref, ctx);
}

/** The trace, when it covers exactly `rows` features. */
function fit(spans: RowSpan[] | null, rows: number): RowSpan[] | null {
  if (!spans || spans.length === 0) return null;
  return spans[spans.length - 1].end === rows ? spans : null;
}

/**
 * Where each feature (last axis) of a tensor comes from. Null when it cannot be traced (unknown widths).
 */
export function featureSources(ref: TensorRef, ctx: RowTraceContext, seen: Set<string> = new Set()): RowSpan[] | null {
  const key = `${ref.layer}:${ref.node}:${ref.tensor}`;
  if (seen.has(key)) return null;
  seen.add(key);
  const layer = layerNamed(ctx.model, ref.layer);
  const width = widthOf(ref, layer, ctx);
  if (!layer) return width === null ? null : [{ source: ref.layer, start: 0, end: width, offset: 0, index: 'feature' }];
  const inputs = layer.inbound[ref.node] ?? layer.inbound[0] ?? [];
  const cls = layer.className;

  if (cls === 'InputLayer') {
    return width === null ? null : [{ source: layer.name, start: 0, end: width, offset: 0, index: 'feature' }];
  }
  if (KEEPS_FEATURES.has(cls) || (cls === 'TimeDistributed' && layer.inner && KEEPS_FEATURES.has(layer.inner.className))) {
    if (inputs[0]) return featureSources(inputs[0], ctx, seen);
  }
  // operation nodes (keras.ops calls, TFOpLambda): elementwise ops keep their tensor's features; concat joins them
  const op = layer.callArgs ? opFeatureSources(layer, ref.node, ctx.shapeOf(ref)?.length ?? null) : null;
  if (op && 'follow' in op && inputs[op.follow]) return featureSources(inputs[op.follow], ctx, seen);
  if (cls === 'Concatenate' || cls === 'Merge' || (op && 'concat' in op)) {
    const shape = ctx.shapeOf(ref);
    const axis = op ? -1 : Number(layer.config.axis ?? layer.config.concat_axis ?? -1);
    const rank = shape?.length ?? null;
    const lastAxis = axis === -1 || (rank !== null && axis === rank - 1);
    const parts = op && 'concat' in op ? op.concat.map((k) => inputs[k]).filter((r) => r) : inputs;
    if (lastAxis && parts.length > 0 && (cls !== 'Merge' || (layer.config.mode ?? 'concat') === 'concat')) {
      const out: RowSpan[] = [];
      let offset = 0;
      for (const input of parts) {
        const part = featureSources(input, ctx, new Set(seen));
        if (!part || part.length === 0) return newSource(layer, width);
        for (const s of part) out.push({ ...s, start: s.start + offset, end: s.end + offset });
        offset += part[part.length - 1].end;
      }
      return out;
    }
    return newSource(layer, width);
  }
  if (cls === 'Flatten' && inputs[0]) {
    const inShape = ctx.shapeOf(inputs[0]);
    if (layer.config.data_format === 'channels_first' && inShape && inShape.length >= 3) {
      // Keras 2 moves channels last before flattening: (C, H, W) flattens as (H, W, C).
      const channels = inShape[1];
      const spatial = inShape.slice(2);
      if (channels === null || spatial.some((a) => a === null)) return newSource(layer, width);
      const positions = (spatial as number[]).reduce((a, b) => a * b, 1);
      const out: RowSpan[] = [];
      for (let p = 0; p < positions; p++) {
        out.push({ source: inputs[0].layer, start: p * channels, end: (p + 1) * channels, offset: 0, index: 'channel', position: unravel(p, spatial as number[]) });
      }
      return out;
    }
    const inner = featureSources(inputs[0], ctx, seen);
    if (!inShape || !inner || inner.length === 0) return newSource(layer, width);
    const axes = inShape.slice(1, -1);
    if (axes.some((a) => a === null)) return newSource(layer, width);
    const F = inner[inner.length - 1].end;
    const positions = (axes as number[]).reduce((a, b) => a * b, 1);
    const out: RowSpan[] = [];
    for (let p = 0; p < positions; p++) {
      for (const s of inner) {
        const span: RowSpan = { ...s, start: p * F + s.start, end: p * F + s.end };
        if (axes.length === 1) span.timestep = p;
        else span.position = unravel(p, axes as number[]);
        out.push(span);
      }
    }
    return out;
  }
  if (cls === 'Bidirectional' && (layer.config.merge_mode ?? 'concat') === 'concat' && width !== null && width % 2 === 0) {
    const half = width / 2;
    return [
      { source: layer.name, start: 0, end: half, offset: 0, index: 'unit', meaning: 'forward' },
      { source: layer.name, start: half, end: width, offset: 0, index: 'unit', meaning: 'backward' },
    ];
  }
  return newSource(layer, width);
}

const layersByName = new WeakMap<ModelConfig, Map<string, LayerConfig>>();

function layerNamed(model: ModelConfig, name: string): LayerConfig | undefined {
  let byName = layersByName.get(model);
  if (!byName) {
    byName = new Map(model.layers.map((l) => [l.name, l]));
    layersByName.set(model, byName);
  }
  return byName.get(name);
}

/** A layer that makes new features (Dense, RNNs, convolutions, merges by arithmetic, anything unknown). */
function newSource(layer: LayerConfig, width: number | null): RowSpan[] | null {
  if (width === null) return null;
  const inner = layer.inner ?? layer;
  const word =
    inner.className === 'Embedding'
      ? 'dimension'
      : typeof inner.config.units === 'number' || typeof inner.config.output_dim === 'number'
        ? 'unit'
        : typeof inner.config.filters === 'number'
          ? 'channel'
          : 'feature';
  return [{ source: layer.name, start: 0, end: width, offset: 0, index: word }];
}

/** Last-axis width of a tensor: from the shape lookup, else from the producing layer's config. */
function widthOf(ref: TensorRef, layer: LayerConfig | undefined, ctx: RowTraceContext): number | null {
  const shape = ctx.shapeOf(ref);
  const last = shape?.[shape.length - 1];
  if (typeof last === 'number') return last;
  if (!layer) return null;
  const c = (layer.inner ?? layer).config;
  const batchShape = (layer.config.batch_input_shape ?? layer.config.batch_shape) as (number | null)[] | undefined;
  if (layer.className === 'InputLayer' && Array.isArray(batchShape)) {
    const w = batchShape[batchShape.length - 1];
    return typeof w === 'number' ? w : null;
  }
  const units = c.units ?? c.output_dim ?? c.filters;
  if (typeof units === 'number') return layer.className === 'Bidirectional' && (layer.config.merge_mode ?? 'concat') === 'concat' ? 2 * units : units;
  return null;
}

/** Row-major multi-index of flat position p over `dims`. */
export function unravel(p: number, dims: number[]): number[] {
  const out = new Array<number>(dims.length);
  for (let a = dims.length - 1; a >= 0; a--) {
    out[a] = p % dims[a];
    p = Math.floor(p / dims[a]);
  }
  return out;
}
