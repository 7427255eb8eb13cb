/**
 * The export plan: a model as a straight list of steps over named, fixed-size tensors (one sample, batch axis left
 * out), with every weight already in the Keras 2 fused layout the engine binds (LSTM columns i|f|c|o, GRU z|r|h,
 * CuDNN biases resolved), gate slices with their column ranges, and the semantics (activations with their formula,
 * hard_sigmoid by keras_version, GRU reset_after, Bidirectional's zero_output_for_mask) decided by the same
 * functions the engine uses. Each language's emitter (emit-*.ts) maps every step kind to code; a new layer kind
 * adds its case in `planCall` below and one case per emitter.
 *
 * Masks are per-sample arrays of `steps` 0/1 values (a step is real where 1), carried as Keras's compute_mask does:
 * Embedding(mask_zero) and Masking make one, Dense/activations/Dropout/TimeDistributed and recurrent layers with
 * return_sequences pass it on, merges AND them, pooling, Conv1D, Flatten and Reshape drop it.
 */
import { inferShapes, tensorKey, type LayerCall, type Model } from '../model/graph';
import { KerasLensError, type LayerConfig, type Tensor, type TensorRef } from '../model/types';
import { defaultRecurrentActivation } from '../model/activations';
import { recurrentFlags } from '../model/kinds/recurrent';
import { LSTM_GATES, GRU_GATES, type Gate } from '../model/kinds/gated-roles';
import { gruResetAfter } from '../model/kinds/gru';
import { convLstmParams, type ConvLstmParams } from '../model/kinds/conv-lstm';
import { directionLayers, forcesZeroOutputForMask } from '../model/kinds/bidirectional';
import { wrappedLayer } from '../model/kinds/wrapped-layer';
import { cellLayer, isStacked, stackedCellLayers, type CellLayer } from '../model/kinds/rnn';
import { convAxis, intTuple, configPadding, channelsFirst } from '../model/kinds/conv2d';
import { configAxes } from '../model/kinds/batch-normalization';
import { beforeAfterSetting } from '../model/kinds/weightless/spatial';
import { intSetting, numberSetting, stringSetting, boolSetting } from '../model/kinds/weightless/layerSettings';
import { boundCall, OP_CLASS_PREFIX } from '../model/ops/kind';
import { returnsScores, useCausalMask } from '../model/kinds/dense-attention';
import { fromActivationLayer, fromConfig, type ExportActivation } from './activations';
import { IdentifierPool, commentText } from './names';

export type Language = 'numpy' | 'js' | 'c' | 'java' | 'pytorch';
export const LANGUAGES: Language[] = ['numpy', 'js', 'c', 'java', 'pytorch'];

export interface PlanTensor {
  id: string;
  /** Per-sample shape (no batch axis). */
  shape: number[];
  size: number;
}

export interface GateSlice {
  label: string;
  meaning: string;
  start: number;
  end: number;
}

export interface PlanWeight {
  id: string;
  layer: string;
  role: string;
  /** The Keras name as stored (e.g. `lstm_1/kernel:0`, or a Keras 3 variable path). */
  kerasName: string;
  shape: number[];
  data: Float64Array;
  /** True when every value is exactly a float32 (then float32 storage loses nothing). */
  float32: boolean;
  gates: GateSlice[];
  /** `model.get_weights()[k]` of this array, or null when it is fused from several stored arrays (Keras 1, CuDNN). */
  getWeightsIndex: number | null;
}

export type RnnCell = 'lstm' | 'gru' | 'simple';

/** What every recurrent step carries beside its cell: the time loop's settings (Keras's rnn()) and its tensors. */
interface RecurrentLoop {
  layer: string;
  className: string;
  direction: 'forward' | 'backward' | null;
  x: PlanTensor;
  mask: string | null;
  steps: number;
  kernel: PlanWeight;
  recurrent: PlanWeight;
  act: ExportActivation;
  goBackwards: boolean;
  returnSequences: boolean;
  zeroOutputForMask: boolean;
  /** Initial state tensors (h, and c for an LSTM), or null for zeros. */
  initial: PlanTensor[] | null;
  /** The output: the sequence (steps, ...) in processing order, or the output at the last processed step. */
  y: PlanTensor;
  /** Final states h (and c): always computed. */
  states: PlanTensor[];
  gates: Gate[];
}

export type Step =
  | { op: 'dense'; layer: string; x: PlanTensor; y: PlanTensor; rows: number; inDim: number; units: number; kernel: PlanWeight; bias: PlanWeight | null; act: ExportActivation }
  | { op: 'activation'; layer: string; x: PlanTensor; y: PlanTensor; rows: number; width: number; act: ExportActivation }
  /** Same values, new shape (Flatten, Reshape) or the identity at inference (Dropout family): no computation. */
  | { op: 'reshape'; layer: string; className: string; x: PlanTensor; y: PlanTensor }
  | { op: 'embedding'; layer: string; x: PlanTensor; y: PlanTensor; table: PlanWeight; rows: number; dim: number; count: number }
  | { op: 'masking'; layer: string; x: PlanTensor; y: PlanTensor; mask: string; value: number; steps: number; features: number }
  | { op: 'mask_nonzero'; layer: string; x: PlanTensor; mask: string; steps: number }
  | { op: 'mask_and'; layer: string; masks: string[]; mask: string; steps: number }
  /** The mask in processing order of a go_backwards RNN over stacked cells: y[s] = x[steps - 1 - s]. */
  | { op: 'mask_reverse'; layer: string; source: string; mask: string; steps: number }
  | ({
      op: 'rnn';
      cell: RnnCell;
      inDim: number;
      units: number;
      /** lstm (4u), gru (3u, or (2,3u) with resetAfter: row 0 input bias, row 1 recurrent bias), simple (u). */
      bias: PlanWeight | null;
      resetAfter: boolean;
      recAct: ExportActivation | null;
    } & RecurrentLoop)
  /**
   * ConvLSTM1D/2D/3D (channels_last): an LSTM whose products are convolutions over the n spatial axes, as the engine's
   * model/kinds/conv-lstm.ts computes it. Per step t and output position q (row-major over outSpatial):
   *   z[q] = b + sum_{tap a, c} x(t)[q * strides + a * dilation - padBefore, c] W[a, c, :]   (zeros outside x)
   *            + sum_{tap a, f} h(t-1)[q + a - recPadBefore, f] U[a, f, :]                   ('same', stride 1, no dilation)
   *   gates i | f | c | o in W's and U's last axis (4 filters); c = f * c(t-1) + i * c~, h = o * act(c).
   * The time loop, masks, go_backwards, initial states and return_sequences are the rnn step's (Keras's rnn()).
   */
  | ({
      op: 'conv_lstm';
      /** Input spatial sizes (n = 1, 2, 3 axes) and channels; output spatial sizes and filters. */
      inSpatial: number[];
      cin: number;
      outSpatial: number[];
      filters: number;
      kernelSize: number[];
      strides: number[];
      dilation: number[];
      /** Zeros padded before each spatial axis: of the input convolution, and of the recurrent one ('same'). */
      padBefore: number[];
      recPadBefore: number[];
      /** kernel (k..., cin, 4f), recurrent (k..., f, 4f), bias (4f); states and y carry (outSpatial..., f) per step. */
      bias: PlanWeight | null;
      recAct: ExportActivation;
    } & RecurrentLoop)
  | { op: 'reverse'; layer: string; x: PlanTensor; y: PlanTensor; steps: number; width: number }
  | { op: 'merge'; layer: string; mode: 'add' | 'subtract' | 'multiply' | 'average' | 'maximum' | 'minimum'; xs: PlanTensor[]; y: PlanTensor }
  /** out = for each outer index: the inputs' chunks (chunk_k elements each) one after another. */
  | { op: 'concat'; layer: string; xs: PlanTensor[]; chunks: number[]; outer: number; axis: number; y: PlanTensor }
  | {
      op: 'conv1d';
      layer: string;
      x: PlanTensor;
      y: PlanTensor;
      steps: number;
      cin: number;
      k: number;
      stride: number;
      dilation: number;
      padBefore: number;
      outSteps: number;
      filters: number;
      kernel: PlanWeight;
      bias: PlanWeight | null;
      act: ExportActivation;
    }
  | { op: 'pool1d'; layer: string; average: boolean; x: PlanTensor; y: PlanTensor; steps: number; channels: number; pool: number; stride: number; padBefore: number; outSteps: number }
  | { op: 'global_pool'; layer: string; average: boolean; x: PlanTensor; mask: string | null; y: PlanTensor; steps: number; channels: number }
  | { op: 'repeat'; layer: string; x: PlanTensor; y: PlanTensor; n: number; width: number }
  /** Keras 3 mask operation nodes: y = (x != value) as 0/1, and y = any over the last axis (rows of width values). */
  | { op: 'not_equal'; layer: string; x: PlanTensor; y: PlanTensor; value: number }
  /** PReLU: y = x if x >= 0 else alpha * x, alpha spread over the whole per-sample shape (shared axes repeated). */
  | { op: 'prelu'; layer: string; x: PlanTensor; y: PlanTensor; alpha: PlanWeight }
  | { op: 'any_last'; layer: string; x: PlanTensor; y: PlanTensor; rows: number; width: number }
  /**
   * BatchNormalization at inference over the last axis (rows of `channels` values), in TensorFlow's order
   * (tf.nn.batch_normalization, what Keras 3 and tf.keras run): inv = 1/sqrt(variance + epsilon) * gamma;
   * y = x * inv + (beta - mean * inv). gamma/beta are absent with scale=False/center=False (1 and 0).
   */
  /**
   * ZeroPadding1D (before/after >= 0) and Cropping1D (both <= 0) on (steps, channels):
   * y[t] = x[t - before] where 0 <= t - before < steps, else zeros.
   */
  | { op: 'pad_steps'; layer: string; className: string; x: PlanTensor; y: PlanTensor; steps: number; channels: number; before: number; after: number; outSteps: number }
  /** UpSampling1D: y[t] = x[floor(t / size)] on (steps, channels). */
  | { op: 'upsample_steps'; layer: string; x: PlanTensor; y: PlanTensor; steps: number; channels: number; size: number }
  /** Permute: y = x with its per-sample axes reordered, y axis k = x axis perm[k] (0-based, batch left out). */
  | { op: 'transpose'; layer: string; x: PlanTensor; y: PlanTensor; perm: number[] }
  /**
   * LayerNormalization over the last axis (rows of `width` values), in Keras 3's order (ops.layer_normalization):
   * mean, variance = moments of the row; inv = 1/sqrt(variance + epsilon) * gamma; y = x * inv + (beta - mean * inv).
   * mode 'rms_scaling' (LayerNormalization(rms_scaling=True), as Keras 3 computes it): the same inv, y = x * inv.
   * mode 'rms' (RMSNormalization): inv = 1/sqrt(mean(x²) + epsilon) * gamma (its `scale`), y = x * inv.
   */
  | { op: 'layernorm'; layer: string; mode: 'layer' | 'rms_scaling' | 'rms'; x: PlanTensor; y: PlanTensor; rows: number; width: number; gamma: PlanWeight | null; beta: PlanWeight | null; epsilon: number }
  /**
   * Attention / AdditiveAttention, as the engine's kinds compute them (model/kinds/dense-attention.ts, attention.ts,
   * additive-attention.ts), on query q (tq, dim), value v (tv, dv) and key k (tv, dim) (the value when not given):
   *   dot:      s[i, j] = sum_c q[i, c] k[j, c]                   (* scale when use_scale)
   *   concat:   s[i, j] = csw * sum_c tanh(q[i, c] + k[j, c])     (tanh(scale * (q + k)) when use_scale)
   *   additive: s[i, j] = sum_c scale[c] * tanh(q[i, c] + k[j, c]) (scale = 1 without use_scale)
   *   kept where value_mask[j] and (j <= i if causal); elsewhere s = float32(float32(s) - 1e9), as Keras computes it
   *   w[i, :] = softmax_j(s[i, :]);  y[i, :] = sum_j w[i, j] v[j, :], 0 where query_mask[i] = 0
   * `w` is always computed; it is the second output with return_attention_scores. Dropout acts only in training.
   */
  | {
      op: 'attention';
      layer: string;
      className: string;
      score: 'dot' | 'concat' | 'additive';
      q: PlanTensor;
      v: PlanTensor;
      k: PlanTensor;
      tq: number;
      tv: number;
      dim: number;
      valueDim: number;
      qMask: string | null;
      vMask: string | null;
      causal: boolean;
      /** dot/concat: one value (use_scale), additive: one per query feature (use_scale), else null. */
      scale: PlanWeight | null;
      /** concat: the concat score weight (one value). */
      concatWeight: PlanWeight | null;
      y: PlanTensor;
      w: PlanTensor;
    }
  | { op: 'batchnorm'; layer: string; x: PlanTensor; y: PlanTensor; rows: number; channels: number; gamma: PlanWeight | null; beta: PlanWeight | null; mean: PlanWeight; variance: PlanWeight; epsilon: number };

export interface PlanInput {
  name: string;
  tensor: PlanTensor;
  /** Indices into an Embedding (integers): the golden input draws integers for it. */
  indices: { count: number } | null;
  /** Masking value of a Masking layer this input feeds, if any (the golden input masks some steps). */
  maskValue: number | null;
}

export interface Plan {
  source: string;
  modelName: string;
  kerasVersion: string | null;
  inputs: PlanInput[];
  outputs: { name: string; tensor: PlanTensor }[];
  tensors: PlanTensor[];
  /** Mask ids with their step counts. */
  masks: { id: string; steps: number }[];
  weights: PlanWeight[];
  steps: Step[];
  /** Layers in model order, for the README: name, class and one line. */
  layers: { name: string; className: string; summary: string }[];
  /** Semantics the file's Keras version implies, one line each, for the README. */
  semantics: string[];
  /** The number of steps this plan was built for when the model's inputs have a free steps axis, else null. */
  freeSteps: number | null;
}

/**
 * Inputs whose steps axis (axis 1 of (batch, steps, ...)) is free (None) while every other per-sample axis is fixed:
 * the model takes sequences of any length. Their names, or [] when every per-sample shape is fixed.
 */
export function freeStepsInputs(model: Model): string[] {
  return model.inputs
    .filter((r) => {
      const s = model.shapes.get(tensorKey({ layer: r.layer, node: 0, tensor: 0 }));
      return !!s && s.length >= 2 && s[1] === null && s.slice(2).every((d) => typeof d === 'number');
    })
    .map((r) => r.layer);
}

/** Every tensor shape of the model when its free-steps inputs take `steps` steps (the config's inputs made fixed). */
function shapesWithSteps(model: Model, steps: number): Map<string, (number | null)[]> {
  const free = new Set(freeStepsInputs(model));
  const config = {
    ...model.config,
    layers: model.config.layers.map((l) => {
      const shape = l.config.batch_input_shape as (number | null)[] | undefined;
      if (!free.has(l.name) || !Array.isArray(shape)) return l;
      return { ...l, config: { ...l.config, batch_input_shape: [shape[0], steps, ...shape.slice(2)] } };
    }),
  };
  return inferShapes(config, model.kerasVersion);
}

/** Classes the export knows, for messages and the README. */
export const EXPORTABLE_CLASSES = [
  'InputLayer', 'Dense', 'TimeDistributedDense', 'LSTM', 'GRU', 'SimpleRNN', 'CuDNNLSTM', 'CuDNNGRU', 'Bidirectional',
  'Embedding', 'Masking', 'Dropout', 'SpatialDropout1D', 'GaussianNoise', 'GaussianDropout', 'AlphaDropout', 'ActivityRegularization',
  'Activation', 'ReLU', 'LeakyReLU', 'ELU', 'Softmax', 'ThresholdedReLU', 'PReLU', 'Concatenate', 'Add', 'Subtract', 'Multiply', 'Average',
  'Maximum', 'Minimum', 'Conv1D', 'Convolution1D', 'MaxPooling1D', 'AveragePooling1D', 'GlobalMaxPooling1D', 'GlobalAveragePooling1D',
  'TimeDistributed', 'Flatten', 'Reshape', 'RepeatVector', 'BatchNormalization',
  'ZeroPadding1D', 'Cropping1D', 'UpSampling1D', 'Permute', 'RNN',
  'LayerNormalization', 'RMSNormalization', 'ConvLSTM1D', 'ConvLSTM2D', 'ConvLSTM3D', 'Attention', 'AdditiveAttention',
];

const IDENTITY_CLASSES = new Set(['Dropout', 'SpatialDropout1D', 'GaussianNoise', 'GaussianDropout', 'AlphaDropout', 'ActivityRegularization']);
const ACTIVATION_CLASSES = new Set(['Activation', 'ReLU', 'LeakyReLU', 'ELU', 'Softmax', 'ThresholdedReLU']);
const MERGES: Record<string, 'add' | 'subtract' | 'multiply' | 'average' | 'maximum' | 'minimum'> = {
  Add: 'add', Subtract: 'subtract', Multiply: 'multiply', Average: 'average', Maximum: 'maximum', Minimum: 'minimum',
};
const RECURRENT = new Set(['LSTM', 'GRU', 'SimpleRNN', 'CuDNNLSTM', 'CuDNNGRU']);
const CONV_LSTM = new Set(['ConvLSTM1D', 'ConvLSTM2D', 'ConvLSTM3D']);

const product = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** The scalar languages' transpose helper walks at most 4 axes (one sample of a 5D tensor). */
export const MAX_TRANSPOSE_RANK = 4;

function isFloat32(d: Float64Array): boolean {
  for (let i = 0; i < d.length; i++) if (Math.fround(d[i]) !== d[i]) return false;
  return true;
}

class Planner {
  readonly ids = new IdentifierPool();
  readonly tensors: PlanTensor[] = [];
  readonly masks: { id: string; steps: number }[] = [];
  readonly weights: PlanWeight[] = [];
  readonly steps: Step[] = [];
  readonly values = new Map<string, PlanTensor>();
  readonly maskOf = new Map<string, string | null>();
  readonly semantics = new Set<string>();
  private readonly weightIds = new Map<string, PlanWeight>();
  /** model.get_weights() index of the first stored array of each layer. */
  private readonly firstIndex = new Map<string, number>();

  constructor(
    readonly model: Model,
    readonly language: Language,
    /** Shapes for this plan: the model's, or those with the free steps axis set (see shapesWithSteps). */
    readonly shapes: Map<string, (number | null)[]> = model.shapes,
    readonly freeSteps: number | null = null,
  ) {
    let k = 0;
    for (const l of model.layers) {
      this.firstIndex.set(l.name, k);
      k += l.stored.length;
    }
  }

  refuse(layer: LayerConfig, why: string): never {
    throw new KerasLensError(
      this.model.file.source,
      `cannot export layer '${commentText(layer.name, 60)}' (${commentText(layer.className, 40)}) to ${this.language}: ${why}`,
    );
  }

  tensor(name: string, shape: number[]): PlanTensor {
    const t = { id: this.ids.take('t_', name), shape, size: product(shape) };
    this.tensors.push(t);
    return t;
  }

  mask(name: string, steps: number): string {
    const id = this.ids.take('m_', name);
    this.masks.push({ id, steps });
    return id;
  }

  /** Per-sample shape of a tensor, which must be fully known. */
  shapeOf(ref: TensorRef, layer: LayerConfig): number[] {
    const s = this.shapes.get(tensorKey(ref));
    if (!s) this.refuse(layer, 'the shape of its output is unknown');
    const rest = s.slice(1);
    if (!rest.every((d): d is number => typeof d === 'number')) {
      this.refuse(layer, `its output shape (${s.map((d) => d ?? 'None').join(', ')}) has a free axis besides the batch; the export needs fixed shapes`);
    }
    return rest;
  }

  /**
   * A bound weight of a layer as a plan weight. `key` is the engine's key ('kernel', 'forward/bias'); `role` the role
   * as get_weights names it; `transform` (CuDNN bias sums) makes a new array, which then has no get_weights index.
   */
  /** Does the layer have this weight bound (an optional bias, gamma, beta)? */
  hasWeight(layerName: string, key: string): boolean {
    return !!this.model.layerByName.get(layerName)!.weights?.has(key);
  }

  weight(layerName: string, key: string, gates: GateSlice[], transform?: (t: Tensor) => Tensor): PlanWeight {
    const cacheKey = `${layerName}\u0000${key}`;
    const cached = this.weightIds.get(cacheKey);
    if (cached) return cached;
    const ml = this.model.layerByName.get(layerName)!;
    const bound = ml.weights?.get(key);
    if (!bound) this.refuse(ml.config, `its '${key}' weight is not bound`);
    const t = transform ? transform(bound) : bound;
    const data = Float64Array.from(t.data);
    // 'forward/cells/1/kernel': direction, then the cell of an RNN over stacked cells, then the role
    const role = key.replace(/^(forward|backward)\//, '').replace(/^cells\/\d+\//, '');
    const cell = /^(?:(?:forward|backward)\/)?cells\/(\d+)\//.exec(key)?.[1] ?? null;
    const direction = key.startsWith('forward/') ? 'forward' : key.startsWith('backward/') ? 'backward' : null;
    // which stored array this is: the stored array whose role (and direction) match, if exactly one and same size
    let index: number | null = null;
    let kerasName = `${layerName}/${key}`;
    if (ml.kind && !transform) {
      try {
        const roles = ml.kind.storedRoles(ml.config, ml.stored, { kerasVersion: this.model.kerasVersion, inputShapes: ml.calls[0]?.inputShapes.map((s) => s ?? []) ?? [] });
        // a stacked cell's roles say whose they are: '[forward ]cell <k> (...' (model/kinds/rnn.ts labelled())
        const cellOf = (meaning: string) => /^(?:(?:forward|backward) )?cell (\d+) \(/.exec(meaning)?.[1] ?? null;
        const hits = roles.map((r, i) => ({ r, i })).filter(({ r, i }) => r.role === role && cellOf(r.meaning) === cell && (r.direction ?? null) === direction && product(ml.stored[i].shape) === data.length);
        if (hits.length === 1) {
          index = this.firstIndex.get(layerName)! + getWeightsOrder(roles.map((r, i) => ({ direction: r.direction ?? null, cell: cellOf(r.meaning), name: ml.stored[i].name }))).indexOf(hits[0].i);
          kerasName = ml.stored[hits[0].i].name;
        }
      } catch {
        index = null;
      }
    }
    const w: PlanWeight = {
      id: this.ids.take('w_', `${layerName}_${key.replace('/', '_')}`),
      layer: layerName,
      role: key,
      kerasName,
      shape: [...t.shape],
      data,
      float32: isFloat32(data),
      gates,
      getWeightsIndex: index,
    };
    this.weightIds.set(cacheKey, w);
    this.weights.push(w);
    return w;
  }

  activation(layer: LayerConfig, f: () => ExportActivation): ExportActivation {
    try {
      const a = f();
      if (a.name === 'hard_sigmoid') {
        const v = this.model.kerasVersion;
        this.semantics.add(`hard_sigmoid = ${a.formula}: saved by Keras ${v ?? '(version not recorded; Keras 2 rule)'}`);
      }
      return a;
    } catch (err) {
      this.refuse(layer, `${err instanceof KerasLensError ? err.problem : String(err)} is not exported`);
    }
  }
}

/**
 * The stored arrays of one layer in model.get_weights() order (their indices). Stored order, except for RNNs over
 * stacked cells: Keras lists the weights cell by cell (within each direction), each cell's variables in order, while a
 * Keras 3 file keeps them under names sorted alphabetically (`cells/gru_cell/vars/0` before `cells/lstm_cell/...`).
 */
function getWeightsOrder(stored: { direction: string | null; cell: string | null; name: string }[]): number[] {
  const order = stored.map((_, i) => i);
  if (stored.every((s) => s.cell === null)) return order;
  const directions = [...new Set(stored.map((s) => s.direction))];
  const varIndex = (i: number) => Number(/(?:^|\/)vars\/(\d+)$/.exec(stored[i].name)?.[1] ?? i);
  const key = (i: number) => [directions.indexOf(stored[i].direction), Number(stored[i].cell ?? -1), varIndex(i), i];
  return order.sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    for (let k = 0; k < ka.length; k++) if (ka[k] !== kb[k]) return ka[k] - kb[k];
    return 0;
  });
}

function gateSlices(gates: Gate[], width: number, offset = 0): GateSlice[] {
  return gates.map((g, k) => ({ label: g.label, meaning: g.meaning, start: offset + k * width, end: offset + (k + 1) * width }));
}

/** The calls needed for the model outputs, in graph order. */
function neededCalls(model: Model): LayerCall[] {
  const byKey = new Map(model.calls.map((c) => [`${c.layer.name}:${c.node}`, c]));
  const needed = new Set<string>();
  const stack = model.outputs.map((r) => `${r.layer}:${r.node}`);
  while (stack.length) {
    const key = stack.pop()!;
    if (needed.has(key)) continue;
    needed.add(key);
    const call = byKey.get(key);
    if (call) for (const r of [...call.inputs, ...Object.values(call.kwargs).flat()]) stack.push(`${r.layer}:${r.node}`);
  }
  return model.calls.filter((c) => needed.has(`${c.layer.name}:${c.node}`));
}

/**
 * Builds the plan of a model whose weights are bound (call `await model.bindAll()` first). A model whose inputs have a
 * free steps axis needs `steps`: the plan is then the one for sequences of that many steps (the emitters build the
 * code from plans at two sentinel step counts and write the sizes as expressions in `steps`; see free-steps.ts).
 */
export function buildPlan(model: Model, language: Language, steps?: number): Plan {
  const free = freeStepsInputs(model);
  const p = free.length && steps !== undefined ? new Planner(model, language, shapesWithSteps(model, steps), steps) : new Planner(model, language);
  const calls = neededCalls(model);
  // refuse unknown layers first, naming the first one
  for (const call of calls) {
    const c = call.layer.config;
    if (!EXPORTABLE_CLASSES.includes(c.className) && !isOpNode(c)) p.refuse(c, 'this layer class is not exported (export knows ' + 'Dense, LSTM, GRU, SimpleRNN, CuDNN*, Bidirectional, Embedding, Masking, Dropout, activations, merges, Conv1D, pooling, TimeDistributed(Dense), Flatten, Reshape, RepeatVector, BatchNormalization, ZeroPadding1D, Cropping1D, UpSampling1D, Permute, RNN(LSTMCell/GRUCell/SimpleRNNCell, stacked), LayerNormalization, RMSNormalization, ConvLSTM1D/2D/3D, Attention, AdditiveAttention)');
  }
  const inputs: PlanInput[] = [];
  for (const call of calls) {
    if (call.layer.config.className === 'InputLayer') {
      const ref = { layer: call.layer.name, node: 0, tensor: 0 };
      if (!model.inputs.some((r) => r.layer === ref.layer)) p.refuse(call.layer.config, 'it is used but is not one of the model inputs');
      const t = p.tensor(`in_${call.layer.name}`, p.shapeOf(ref, call.layer.config));
      p.values.set(tensorKey(ref), t);
      p.maskOf.set(tensorKey(ref), null);
      inputs.push({ name: call.layer.name, tensor: t, indices: null, maskValue: null });
      continue;
    }
    planCall(p, call, inputs);
  }
  // inputs in the model's order
  const ordered = model.inputs.map((r) => {
    const i = inputs.find((x) => x.name === r.layer);
    if (!i) throw new KerasLensError(model.file.source, `the model input '${commentText(r.layer, 60)}' is not used by any output`);
    return i;
  });
  const outputs = model.outputs.map((r, k) => {
    const t = p.values.get(tensorKey(r));
    if (!t) throw new KerasLensError(model.file.source, `the model output '${commentText(r.layer, 60)}' is not produced`);
    return { name: model.outputNames[k], tensor: t };
  });
  const layers = calls
    .filter((c, i, all) => c.layer.config.className !== 'InputLayer' && all.findIndex((d) => d.layer === c.layer) === i)
    .map((c) => ({ name: c.layer.name, className: c.layer.config.className, summary: layerSummary(c.layer.config, model.kerasVersion) }));
  return {
    source: model.file.source,
    modelName: model.config.name,
    kerasVersion: model.kerasVersion,
    inputs: ordered,
    outputs,
    tensors: p.tensors,
    masks: p.masks,
    weights: p.weights,
    steps: p.steps,
    layers,
    semantics: [...p.semantics],
    freeSteps: p.freeSteps,
  };
}

function layerSummary(layer: LayerConfig, v: string | null): string {
  const c = layer.config;
  if (layer.className === 'Bidirectional' && wrappedLayer(layer).className === 'RNN') {
    return `Bidirectional(${layerSummary(wrappedLayer(layer), v)}), merge_mode=${c.merge_mode === null ? 'None' : String(c.merge_mode ?? 'concat')}`;
  }
  if (RECURRENT.has(layer.className) || CONV_LSTM.has(layer.className) || layer.className === 'Bidirectional') {
    const l = layer.className === 'Bidirectional' ? wrappedLayer(layer) : layer;
    const f = recurrentFlags(l);
    const bits = [`${f.units} units`];
    if (f.returnSequences) bits.push('return_sequences');
    if (f.returnState) bits.push('return_state');
    if (f.goBackwards) bits.push('go_backwards');
    if (l.className === 'GRU') bits.push(`reset_after=${gruResetAfter(l, v) ? 'True' : 'False'}`);
    if (layer.className === 'Bidirectional') bits.push(`merge_mode=${c.merge_mode === null ? 'None' : String(c.merge_mode ?? 'concat')}`);
    return `${l.className}: ${bits.join(', ')}`;
  }
  if (layer.className === 'RNN') {
    try {
      const cells = rnnCells(layer);
      const bits = [cells.map((cell) => `${cell.cellClass}(${recurrentFlags(cell.layer).units})`).join(', then ')];
      if (c.return_sequences === true) bits.push('return_sequences');
      if (c.return_state === true) bits.push('return_state');
      if (c.go_backwards === true) bits.push('go_backwards');
      return `RNN over ${cells.length > 1 ? 'stacked cells ' : ''}${bits.join(', ')}`;
    } catch {
      return '';
    }
  }
  if (layer.className === 'Attention' || layer.className === 'AdditiveAttention') {
    // the call options of the first call (Keras 3 passes use_causal_mask / return_attention_scores per call)
    const bits = [layer.className === 'Attention' ? `score_mode=${String(c.score_mode ?? 'dot')}` : 'additive (tanh) score'];
    if (layer.className === 'Attention' ? c.use_scale === true : c.use_scale !== false) bits.push('use_scale');
    if (useCausalMask(layer, 0)) bits.push('use_causal_mask');
    if (returnsScores(layer, 0)) bits.push('return_attention_scores');
    return bits.join(', ');
  }
  if (typeof c.units === 'number') return `${c.units} units`;
  return '';
}

function planCall(p: Planner, call: LayerCall, inputs: PlanInput[]): void {
  const layer = call.layer.config;
  const cls = layer.className;
  const name = layer.name;
  const v = p.model.kerasVersion;
  if (isOpNode(layer)) {
    planOpNode(p, call, inputs);
    return;
  }
  // Keras 3 passes masks as explicit mask= tensors computed by op nodes (NotEqual, Any): one value per step
  const givenMasks = (call.kwargs.mask ?? []).map((r) => {
    const m = p.values.get(tensorKey(r));
    if (!m || m.shape.length !== 1) p.refuse(layer, 'its mask= argument is not a (steps) tensor');
    return m.id;
  });
  let inputRefs = call.inputs;
  let stateRefs = call.kwargs.initial_state ?? [];
  if (stateRefs.length === 0 && (RECURRENT.has(cls) || CONV_LSTM.has(cls) || cls === 'RNN' || cls === 'Bidirectional') && inputRefs.length > 1) {
    stateRefs = inputRefs.slice(1);
    inputRefs = inputRefs.slice(0, 1);
  }
  const xs = inputRefs.map((r) => {
    const t = p.values.get(tensorKey(r));
    if (!t) p.refuse(layer, `its input '${commentText(r.layer, 60)}' is not computed`);
    return t;
  });
  const inMasks = inputRefs.map((r) => p.maskOf.get(tensorKey(r)) ?? null);
  // mask= given by hand, read as the engine reads it (engine/predict.ts): one tensor for the first input, or a list
  // with one per input (Attention(mask=[qm, vm])); a list with None in it says which places the tensors fill
  const slots = layer.callOptions?.[call.node]?.mask;
  if (Array.isArray(slots) && givenMasks.length) {
    let k = 0;
    slots.forEach((slot, i) => (inMasks[i] = slot === null || k >= givenMasks.length ? null : givenMasks[k++]));
  } else if (givenMasks.length > 1 && givenMasks.length === inputRefs.length) givenMasks.forEach((m, i) => (inMasks[i] = m));
  else if (givenMasks.length) inMasks[0] = givenMasks[0];
  const x = xs[0];
  const outRef = (k: number) => ({ layer: name, node: call.node, tensor: k });
  const out = (k: number, suffix = ''): PlanTensor => p.tensor(`${name}${suffix}`, p.shapeOf(outRef(k), layer));
  const set = (k: number, t: PlanTensor, mask: string | null) => {
    p.values.set(tensorKey(outRef(k)), t);
    p.maskOf.set(tensorKey(outRef(k)), mask);
  };
  const inputOf = (t: PlanTensor) => inputs.find((i) => i.tensor === t) ?? null;

  if (p.freeSteps !== null && (cls === 'Flatten' || cls === 'Reshape' || cls === 'PReLU')) {
    // as in Keras: the size of a Flatten/Reshape after the free steps axis is unknown until the call
    const s = p.model.shapes.get(tensorKey(outRef(0)));
    if (!s || s.slice(1).some((d) => d === null)) p.refuse(layer, `its output size depends on the free steps axis (None); the export needs it fixed, as Keras does`);
  }
  if (IDENTITY_CLASSES.has(cls) || cls === 'Flatten' || cls === 'Reshape') {
    const y = { ...x, shape: p.shapeOf(outRef(0), layer), id: x.id };
    const shaped = cls === 'Flatten' || cls === 'Reshape';
    if (shaped && channelsFirst(layer) && x.shape.length > 1) p.refuse(layer, 'channels_first is not exported');
    const yt = shaped ? p.tensor(name, y.shape) : x;
    if (shaped) p.steps.push({ op: 'reshape', layer: name, className: cls, x, y: yt });
    set(0, yt, shaped ? null : inMasks[0]);
    return;
  }
  if (ACTIVATION_CLASSES.has(cls)) {
    const act = p.activation(layer, () => fromActivationLayer(cls, layer.config, v));
    const y = out(0);
    p.steps.push({ op: 'activation', layer: name, x, y, rows: x.size / x.shape[x.shape.length - 1], width: x.shape[x.shape.length - 1], act });
    set(0, y, inMasks[0]);
    return;
  }
  if (cls === 'PReLU') {
    const dims = x.shape;
    const alpha = p.weight(name, 'alpha', [], (t) => {
      // alpha is shaped like the input with 1 on each shared axis: repeat it along those axes
      const aDims = t.shape.length === dims.length ? t.shape : dims.map(() => 1);
      const data = new Float64Array(x.size);
      for (let k = 0; k < x.size; k++) {
        let rem = k;
        let stride = x.size;
        let at = 0;
        for (let i = 0; i < dims.length; i++) {
          stride /= dims[i];
          const c = Math.floor(rem / stride);
          rem -= c * stride;
          at = at * aDims[i] + (aDims[i] === 1 ? 0 : c);
        }
        data[k] = t.data[at];
      }
      return { shape: [...dims], data };
    });
    const y = out(0);
    p.steps.push({ op: 'prelu', layer: name, x, y, alpha });
    set(0, y, inMasks[0]);
    return;
  }
  if (cls === 'ZeroPadding1D' || cls === 'Cropping1D') {
    // the engine's reading of the setting (model/kinds/weightless/spatial.ts): n or (before, after), default 1;
    // Cropping1D has no data_format; neither passes a mask on (Keras's layers do not support masking)
    if (x.shape.length !== 2) p.refuse(layer, `${cls} is exported for (steps, channels) inputs`);
    if (cls === 'ZeroPadding1D' && channelsFirst(layer)) p.refuse(layer, 'channels_first is not exported');
    const pad = cls === 'ZeroPadding1D';
    let amounts: [number, number];
    try {
      amounts = beforeAfterSetting(layer, [pad ? 'padding' : 'cropping'], 1, 1)[0];
    } catch (err) {
      p.refuse(layer, err instanceof Error ? commentText(err.message, 120) : String(err));
    }
    const sign = pad ? 1 : -1;
    const [steps, channels] = x.shape;
    const y = out(0);
    if (y.shape[0] !== steps + sign * (amounts[0] + amounts[1])) p.refuse(layer, 'its output steps do not match its setting');
    p.steps.push({ op: 'pad_steps', layer: name, className: cls, x, y, steps, channels, before: sign * amounts[0], after: sign * amounts[1], outSteps: y.shape[0] });
    set(0, y, null);
    return;
  }
  if (cls === 'UpSampling1D') {
    if (x.shape.length !== 2) p.refuse(layer, 'UpSampling1D is exported for (steps, channels) inputs');
    const size = intSetting(layer, ['size', 'length'], 2);
    if (!Number.isInteger(size) || size < 1) p.refuse(layer, `size ${size} is not a positive integer`);
    const [steps, channels] = x.shape;
    const y = out(0);
    p.steps.push({ op: 'upsample_steps', layer: name, x, y, steps, channels, size });
    set(0, y, null);
    return;
  }
  if (cls === 'Permute') {
    // dims are 1-based over the per-sample axes (Keras: dims=(2, 1) swaps steps and features); no mask passes on
    const dims = layer.config.dims;
    const rank = x.shape.length;
    if (!Array.isArray(dims) || dims.length !== rank || [...dims].map(Number).sort((a, b) => a - b).some((d, i) => d !== i + 1)) {
      p.refuse(layer, `dims ${commentText(JSON.stringify(dims), 40)} is not a permutation of the ${rank} axes after the batch`);
    }
    if (rank > MAX_TRANSPOSE_RANK) p.refuse(layer, `Permute of ${rank} axes after the batch is not exported (at most ${MAX_TRANSPOSE_RANK})`);
    const perm = dims.map((d) => Number(d) - 1);
    const y = out(0);
    p.steps.push({ op: 'transpose', layer: name, x, y, perm });
    set(0, y, null);
    return;
  }
  if (cls === 'LayerNormalization' || cls === 'RMSNormalization') {
    // settings as the engine reads them (model/kinds/layer-normalization.ts): epsilon 1e-3 (RMSNormalization 1e-6),
    // gamma with scale or rms_scaling (RMSNormalization: its `scale`), beta with center and without rms_scaling
    const rank = x.shape.length + 1;
    const axes = [...new Set(configAxes(layer).map((a) => (a < 0 ? a + rank : a)))];
    if (axes.length !== 1 || axes[0] !== rank - 1) p.refuse(layer, `axis ${commentText(JSON.stringify(layer.config.axis ?? -1), 30)} is not exported (only the last axis)`);
    // Keras 3 computes rms_scaling as x / sqrt(variance + eps) * gamma (its own warning: "incorrectly scales the input
    // by the variance"); RMSNormalization divides by sqrt(mean(x²) + eps)
    const mode = cls === 'RMSNormalization' ? 'rms' : layer.config.rms_scaling === true ? 'rms_scaling' : 'layer';
    const width = x.shape[x.shape.length - 1];
    const has = (role: string) => p.hasWeight(name, role);
    const gamma = mode === 'rms' ? p.weight(name, 'scale', []) : (layer.config.scale !== false || mode === 'rms_scaling') && has('gamma') ? p.weight(name, 'gamma', []) : null;
    const beta = mode === 'layer' && layer.config.center !== false && has('beta') ? p.weight(name, 'beta', []) : null;
    if ([gamma, beta].some((w) => w && w.data.length !== width)) p.refuse(layer, `its gamma/beta do not have one value per feature (${width})`);
    const epsilon = numberSetting(layer, ['epsilon'], mode === 'rms' ? 1e-6 : 1e-3);
    const y = out(0);
    p.semantics.add(
      mode === 'layer'
        ? "LayerNormalization: each row's own mean and (population) variance over the last axis, in Keras's order inv = 1/sqrt(variance + epsilon) * gamma, y = x * inv + (beta - mean * inv)"
        : mode === 'rms_scaling'
          ? "LayerNormalization(rms_scaling=True): as Keras 3 computes it, y = x / sqrt(variance + epsilon) * gamma with the row's (centred, population) variance — not its mean square (Keras's own warning calls this deprecated)"
          : 'RMSNormalization: y = x / sqrt(mean(x²) + epsilon) * scale over the last axis; it drops the mask, as in Keras',
    );
    p.steps.push({ op: 'layernorm', layer: name, mode, x, y, rows: x.size / width, width, gamma, beta, epsilon });
    set(0, y, mode === 'rms' ? null : inMasks[0]);
    return;
  }
  if (cls === 'Attention' || cls === 'AdditiveAttention') {
    // the engine's kinds decide the settings (model/kinds/dense-attention.ts, attention.ts, additive-attention.ts):
    // inputs [query, value, key?] (key defaults to value), masks [query mask, value mask] (a key mask is ignored, as
    // in Keras), use_causal_mask / return_attention_scores from the call (or the older config), use_scale's default
    // False for Attention and True for AdditiveAttention; dropout acts only in training
    if (xs.length < 2 || xs.length > 3) p.refuse(layer, `it takes [query, value] or [query, value, key], not ${xs.length} input(s)`);
    const [q, val] = xs;
    const k = xs[2] ?? val;
    if ([q, val, k].some((t) => t.shape.length !== 2)) p.refuse(layer, `${cls} is exported for (steps, features) query, value and key`);
    const [tq, dim] = q.shape;
    const [tv, valueDim] = val.shape;
    if (k.shape[0] !== tv || k.shape[1] !== dim) p.refuse(layer, `query ${q.shape.join('x')}, value ${val.shape.join('x')} and key ${k.shape.join('x')} do not fit together`);
    // the generated code carries one free steps count: query and value read from two free-steps inputs could differ
    const free = (r: TensorRef | undefined) => !!r && p.model.shapes.get(tensorKey(r))?.[1] === null;
    if (free(inputRefs[0]) && free(inputRefs[1]) && freeStepsInputs(p.model).length > 1) p.refuse(layer, 'a query and a value whose free steps axes (None) may come from two different inputs are not exported; fix the steps in the input shapes');
    // the scalar languages keep the weights (tq, tv) in the workspace, whose offsets must be linear in the steps
    if (free(inputRefs[0]) && free(inputRefs[1]) && (p.language === 'js' || p.language === 'c' || p.language === 'java')) {
      p.refuse(layer, 'its attention weights (steps x steps, both axes free) do not fit the workspace of a free steps axis; fix the steps in the input shape (numpy and pytorch export it)');
    }
    let score: 'dot' | 'concat' | 'additive' = 'additive';
    if (cls === 'Attention') {
      const mode = layer.config.score_mode ?? 'dot';
      if (mode !== 'dot' && mode !== 'concat') p.refuse(layer, `score_mode '${commentText(String(mode), 20)}' is not exported (only 'dot' and 'concat')`);
      score = mode;
    }
    const useScale = cls === 'AdditiveAttention' ? layer.config.use_scale !== false : layer.config.use_scale === true;
    const scale = useScale ? p.weight(name, 'scale', []) : null;
    if (scale && scale.data.length !== (score === 'additive' ? dim : 1)) p.refuse(layer, `its scale has ${scale.data.length} values (${score === 'additive' ? dim : 1} expected)`);
    const concatWeight = score === 'concat' ? p.weight(name, 'concat_score_weight', []) : null;
    if (concatWeight && concatWeight.data.length !== 1) p.refuse(layer, 'its concat_score_weight is not one value');
    p.semantics.add(`${cls}: scores of masked value steps (and of later steps with use_causal_mask) become float32(s) - 1e9 in float32, as Keras computes them, before the softmax over the value steps; outputs at masked query steps are 0`);
    const returns = returnsScores(layer, call.node);
    const y = out(0);
    const w = returns ? out(1, '_scores') : p.tensor(`${name}_weights`, [tq, tv]);
    if (y.size !== tq * valueDim || w.size !== tq * tv) p.refuse(layer, 'its output shapes do not match its inputs');
    p.steps.push({
      op: 'attention', layer: name, className: cls, score, q, v: val, k, tq, tv, dim, valueDim, qMask: inMasks[0] ?? null, vMask: inMasks[1] ?? null,
      causal: useCausalMask(layer, call.node), scale, concatWeight, y, w,
    });
    // the output mask is the query mask, on the first output only (Keras's compute_mask)
    set(0, y, inMasks[0] ?? null);
    if (returns) set(1, w, null);
    return;
  }
  if (cls === 'BatchNormalization') {
    // the engine's kind (model/kinds/batch-normalization.ts) decides the settings: epsilon 1e-3 by default, gamma only
    // with scale, beta only with center; Keras 1's mode 1/2 use batch statistics even at inference
    if (typeof layer.config.mode === 'number' && layer.config.mode !== 0) p.refuse(layer, `Keras 1 mode=${layer.config.mode} normalises with the batch's statistics at inference, which is not exported`);
    const rank = x.shape.length + 1;
    const axes = configAxes(layer).map((a) => (a < 0 ? a + rank : a));
    if (axes.length !== 1 || axes[0] !== rank - 1) p.refuse(layer, `axis ${commentText(JSON.stringify(layer.config.axis ?? -1), 30)} is not exported (only the last axis, the channels)`);
    const channels = x.shape[x.shape.length - 1];
    const has = (role: string) => p.hasWeight(name, role);
    const gamma = layer.config.scale !== false && has('gamma') ? p.weight(name, 'gamma', []) : null;
    const beta = layer.config.center !== false && has('beta') ? p.weight(name, 'beta', []) : null;
    const mean = p.weight(name, 'moving_mean', []);
    const variance = p.weight(name, 'moving_variance', []);
    if ([gamma, beta, mean, variance].some((w) => w && w.data.length !== channels)) p.refuse(layer, `its statistics do not have one value per channel (${channels})`);
    const epsilon = numberSetting(layer, ['epsilon'], 1e-3);
    const y = out(0);
    p.semantics.add("BatchNormalization runs at inference: the moving mean and variance, in TensorFlow's order inv = 1/sqrt(variance + epsilon) * gamma, y = x * inv + (beta - mean * inv)");
    p.steps.push({ op: 'batchnorm', layer: name, x, y, rows: x.size / channels, channels, gamma, beta, mean, variance, epsilon });
    set(0, y, inMasks[0]);
    return;
  }
  if (cls === 'Dense' || cls === 'TimeDistributedDense' || cls === 'TimeDistributed') {
    const inner = cls === 'TimeDistributed' ? wrappedLayer(layer) : layer;
    if (inner.className !== 'Dense') p.refuse(layer, `TimeDistributed(${commentText(inner.className, 40)}) is not exported (only TimeDistributed(Dense))`);
    const kernel = p.weight(name, 'kernel', []);
    const units = kernel.shape[kernel.shape.length - 1];
    const inDim = x.shape[x.shape.length - 1];
    const bias = p.hasWeight(name, 'bias') ? p.weight(name, 'bias', []) : null;
    const act = p.activation(layer, () => fromConfig(inner.config.activation, v, 'linear'));
    const y = out(0);
    p.steps.push({ op: 'dense', layer: name, x, y, rows: x.size / inDim, inDim, units, kernel, bias, act });
    set(0, y, inMasks[0]);
    return;
  }
  if (cls === 'Embedding') {
    const table = p.weight(name, 'embeddings', []);
    const [rows, dim] = table.shape;
    const y = out(0);
    p.steps.push({ op: 'embedding', layer: name, x, y, table, rows, dim, count: x.size });
    const inp = inputOf(x);
    if (inp) inp.indices = { count: rows };
    let mask: string | null = null;
    if (layer.config.mask_zero === true && x.shape.length === 1) {
      mask = p.mask(name, x.shape[0]);
      p.steps.push({ op: 'mask_nonzero', layer: name, x, mask, steps: x.shape[0] });
    }
    set(0, y, mask);
    return;
  }
  if (cls === 'Masking') {
    if (x.shape.length !== 2) p.refuse(layer, 'Masking is exported for (steps, features) inputs');
    const value = numberSetting(layer, ['mask_value'], 0);
    const y = out(0);
    const mask = p.mask(name, x.shape[0]);
    p.steps.push({ op: 'masking', layer: name, x, y, mask, value, steps: x.shape[0], features: x.shape[1] });
    const inp = inputOf(x);
    if (inp) inp.maskValue = value;
    set(0, y, mask);
    return;
  }
  if (cls in MERGES) {
    if (!xs.every((t) => t.size === x.size && t.shape.length === x.shape.length)) p.refuse(layer, 'merging inputs of different shapes (broadcasting) is not exported');
    if (cls === 'Subtract' && xs.length !== 2) p.refuse(layer, 'Subtract takes two inputs');
    const y = out(0);
    p.steps.push({ op: 'merge', layer: name, mode: MERGES[cls], xs, y });
    set(0, y, andMasks(p, name, inMasks));
    return;
  }
  if (cls === 'Concatenate') {
    const rank = x.shape.length + 1;
    let axis = intSetting(layer, ['axis', 'concat_axis'], -1);
    if (axis < 0) axis += rank;
    if (axis < 1 || axis >= rank) p.refuse(layer, `axis ${axis} is not exported`);
    const a = axis - 1;
    if (inMasks.some((m) => m) && x.shape.length === 2 && a === 0) p.refuse(layer, 'joining masked sequences along the steps axis is not exported');
    const y = out(0);
    const outer = product(x.shape.slice(0, a));
    p.steps.push({ op: 'concat', layer: name, xs, chunks: xs.map((t) => product(t.shape.slice(a))), outer, axis: a, y });
    set(0, y, andMasks(p, name, inMasks));
    return;
  }
  if (cls === 'Conv1D' || cls === 'Convolution1D') {
    if (channelsFirst(layer)) p.refuse(layer, 'channels_first is not exported');
    const c = layer.config;
    const k = intTuple(c.kernel_size ?? c.filter_length, 1, NaN)[0];
    const stride = intTuple(c.strides ?? c.subsample_length, 1, 1)[0];
    const dilation = intTuple(c.dilation_rate ?? c.atrous_rate, 1, 1)[0];
    const [steps, cin] = x.shape;
    const geo = convAxis(steps, k, stride, dilation, configPadding(layer));
    const kernel = p.weight(name, 'kernel', []);
    const filters = kernel.shape[kernel.shape.length - 1];
    const bias = p.hasWeight(name, 'bias') ? p.weight(name, 'bias', []) : null;
    const act = p.activation(layer, () => fromConfig(c.activation, v, 'linear'));
    const y = out(0);
    p.steps.push({ op: 'conv1d', layer: name, x, y, steps, cin, k, stride, dilation, padBefore: geo.padBefore, outSteps: geo.out, filters, kernel, bias, act });
    set(0, y, null);
    return;
  }
  if (cls === 'MaxPooling1D' || cls === 'AveragePooling1D') {
    if (channelsFirst(layer)) p.refuse(layer, 'channels_first is not exported');
    const pool = intSetting(layer, ['pool_size', 'pool_length'], 2);
    const stride = intSetting(layer, ['strides', 'stride'], null) ?? pool;
    const same = stringSetting(layer, ['padding', 'border_mode'], 'valid') === 'same';
    const [steps, channels] = x.shape;
    const outSteps = same ? Math.ceil(steps / stride) : Math.floor((steps - pool) / stride) + 1;
    const padBefore = same ? Math.floor(Math.max((outSteps - 1) * stride + pool - steps, 0) / 2) : 0;
    const y = out(0);
    p.steps.push({ op: 'pool1d', layer: name, average: cls === 'AveragePooling1D', x, y, steps, channels, pool, stride, padBefore, outSteps });
    set(0, y, null);
    return;
  }
  if (cls === 'GlobalMaxPooling1D' || cls === 'GlobalAveragePooling1D') {
    if (channelsFirst(layer)) p.refuse(layer, 'channels_first is not exported');
    boolSetting(layer, ['keepdims'], false);
    const [steps, channels] = x.shape;
    const y = out(0);
    const average = cls === 'GlobalAveragePooling1D';
    p.steps.push({ op: 'global_pool', layer: name, average, x, mask: average ? inMasks[0] : null, y, steps, channels });
    set(0, y, null);
    return;
  }
  if (cls === 'RepeatVector') {
    const n = intSetting(layer, ['n'], 1);
    const y = out(0);
    p.steps.push({ op: 'repeat', layer: name, x, y, n, width: x.size });
    set(0, y, null);
    return;
  }
  if (RECURRENT.has(cls) || CONV_LSTM.has(cls) || cls === 'RNN') {
    const states = stateRefs.map((r) => p.values.get(tensorKey(r)) ?? p.refuse(layer, 'its initial state is not computed'));
    const flags = outerFlags(layer);
    const r = planRnnLayer(p, { top: layer, layer, prefix: '', x, mask: inMasks[0], initial: states.length ? states : null, direction: null, zeroOverride: undefined });
    set(0, r.y, flags.returnSequences ? inMasks[0] : null);
    if (flags.returnState) r.states.forEach((s, k) => set(1 + k, s, null));
    return;
  }
  if (cls === 'Bidirectional') {
    const { forward, backward } = directionLayers(layer);
    const known = (l: LayerConfig) => RECURRENT.has(l.className) || CONV_LSTM.has(l.className) || l.className === 'RNN';
    if (!known(forward) || !known(backward)) p.refuse(layer, `Bidirectional(${commentText(forward.className, 40)}) is not exported`);
    const flags = outerFlags(forward);
    const zero = forcesZeroOutputForMask(v) ? flags.returnSequences : undefined;
    const init = stateRefs.map((r) => p.values.get(tensorKey(r)) ?? p.refuse(layer, 'its initial state is not computed'));
    const half = init.length / 2;
    const f = planRnnLayer(p, { top: layer, layer: forward, prefix: 'forward/', x, mask: inMasks[0], initial: init.length ? init.slice(0, half) : null, direction: 'forward', zeroOverride: zero });
    const b = planRnnLayer(p, { top: layer, layer: backward, prefix: 'backward/', x, mask: inMasks[0], initial: init.length ? init.slice(half) : null, direction: 'backward', zeroOverride: zero });
    let yb = b.y;
    if (flags.returnSequences) {
      yb = p.tensor(`${name}_backward_in_time`, b.y.shape);
      p.steps.push({ op: 'reverse', layer: name, x: b.y, y: yb, steps: b.y.shape[0], width: b.y.size / b.y.shape[0] });
    }
    const mode = layer.config.merge_mode === null ? null : String(layer.config.merge_mode ?? 'concat');
    const seqMask = flags.returnSequences ? inMasks[0] : null;
    let k = 0;
    if (mode === null) {
      set(k++, f.y, seqMask);
      set(k++, yb, seqMask);
    } else {
      const y = out(0);
      if (mode === 'concat') {
        const w = f.y.shape[f.y.shape.length - 1];
        p.steps.push({ op: 'concat', layer: name, xs: [f.y, yb], chunks: [w, w], outer: f.y.size / w, axis: f.y.shape.length - 1, y });
      } else if (mode === 'sum' || mode === 'mul' || mode === 'ave') {
        p.steps.push({ op: 'merge', layer: name, mode: mode === 'sum' ? 'add' : mode === 'mul' ? 'multiply' : 'average', xs: [f.y, yb], y });
      } else p.refuse(layer, `merge_mode '${commentText(mode, 20)}' is not exported`);
      set(k++, y, seqMask);
    }
    if (flags.returnState) for (const s of [...f.states, ...b.states]) set(k++, s, null);
    return;
  }
  p.refuse(layer, 'this layer class is not exported');
}

function isOpNode(layer: LayerConfig): boolean {
  return layer.className.startsWith(OP_CLASS_PREFIX) || layer.className === 'TFOpLambda' || layer.className === 'SlicingOpLambda';
}

/** The operation nodes Keras 3 writes for masks: NotEqual(x, constant) and Any(axis=-1). Others are refused. */
function planOpNode(p: Planner, call: LayerCall, inputs: PlanInput[]): void {
  const layer = call.layer.config;
  let bound;
  try {
    bound = boundCall(layer, call.node).call;
  } catch (err) {
    p.refuse(layer, err instanceof KerasLensError ? err.problem : String(err));
  }
  const tensorOf = (k: number) => {
    const r = call.inputs[k];
    const t = r ? p.values.get(tensorKey(r)) : undefined;
    if (!t) p.refuse(layer, 'its input is not computed');
    return t;
  };
  const out = (): PlanTensor => p.tensor(layer.name, p.shapeOf({ layer: layer.name, node: call.node, tensor: 0 }, layer));
  const set = (t: PlanTensor) => {
    p.values.set(tensorKey({ layer: layer.name, node: call.node, tensor: 0 }), t);
    p.maskOf.set(tensorKey({ layer: layer.name, node: call.node, tensor: 0 }), null);
  };
  const [a, b] = bound.operands;
  if (bound.op === 'not_equal' && a && b && 'tensor' in a && 'constant' in b && b.constant.data.length === 1) {
    const x = tensorOf(a.tensor);
    const value = b.constant.data[0];
    const y = out();
    p.steps.push({ op: 'not_equal', layer: layer.name, x, y, value });
    const inp = inputs.find((i) => i.tensor === x);
    if (inp && !inp.indices && inp.maskValue === null) inp.maskValue = value;
    set(y);
    return;
  }
  if (bound.op === 'any' && a && 'tensor' in a && bound.operands.length === 1) {
    const x = tensorOf(a.tensor);
    // the last axis, or every axis after the steps (Keras 3's ConvLSTM masks: any over (2, 3, ...)): axes counted with
    // the batch (rank = per-sample rank + 1); they must be the trailing ones, so each output value is one row
    const rank = x.shape.length + 1;
    const axis = bound.params.axis;
    const list = (Array.isArray(axis) ? axis : [axis]).map((d) => (typeof d === 'number' && d < 0 ? d + rank : d));
    const sorted = [...new Set(list)].sort((m, n) => Number(m) - Number(n));
    const trailing = sorted.length > 0 && sorted.every((d, k) => d === rank - sorted.length + k) && sorted[0] !== 0;
    if (!trailing || bound.params.keepdims === true) p.refuse(layer, 'only any(x, axis=-1) or any over the trailing axes is exported');
    const width = x.shape.slice(x.shape.length - sorted.length).reduce((m, n) => m * n, 1);
    const y = out();
    p.steps.push({ op: 'any_last', layer: layer.name, x, y, rows: x.size / width, width });
    set(y);
    return;
  }
  p.refuse(layer, `the operation '${commentText(bound.op, 30)}' is not exported (only the mask operations not_equal and any)`);
}

function andMasks(p: Planner, name: string, masks: (string | null)[]): string | null {
  const present = masks.filter((m): m is string => !!m);
  if (present.length === 0) return null;
  if (present.length === 1) return present[0];
  const steps = p.masks.find((m) => m.id === present[0])!.steps;
  const mask = p.mask(name, steps);
  p.steps.push({ op: 'mask_and', layer: name, masks: present, mask, steps });
  return mask;
}

/** What one recurrent run reads. */
interface RecurrentRun {
  /** The model's layer: its name keys the bound weights, and refusals name it. */
  top: LayerConfig;
  /** The recurrent layer run: top itself, one direction of a Bidirectional, or an RNN's cell as its layer. */
  layer: LayerConfig;
  /** The bound weights' key prefix: '', 'forward/', 'cells/1/', 'backward/cells/0/'. */
  prefix: string;
  x: PlanTensor;
  mask: string | null;
  /** Initial state tensors, or null for zeros. */
  initial: PlanTensor[] | null;
  direction: 'forward' | 'backward' | null;
  /** Bidirectional's forced zero_output_for_mask, if any. */
  zeroOverride: boolean | undefined;
}

/** One recurrent run (a layer, or one direction of a Bidirectional): its weights, semantics and output tensors. */
function planRecurrent(
  p: Planner,
  run: RecurrentRun,
  /** RNN(cell): the class the code comments name (e.g. `RNN(LSTMCell)`) and the tensors' base name. */
  named: { className: string; base: string } | null = null,
): { y: PlanTensor; states: PlanTensor[] } {
  const { top, layer, prefix, x, mask, initial, direction, zeroOverride } = run;
  const v = p.model.kerasVersion;
  const cls = layer.className;
  if (!RECURRENT.has(cls)) p.refuse(top, `${commentText(cls, 40)} is not exported`);
  if (x.shape.length !== 2) p.refuse(top, 'recurrent layers are exported for (steps, features) inputs');
  const flags = recurrentFlags(layer);
  const u = flags.units;
  const [steps, inDim] = x.shape;
  const cudnn = cls.startsWith('CuDNN');
  const cell: RnnCell = cls.endsWith('LSTM') ? 'lstm' : cls.endsWith('GRU') ? 'gru' : 'simple';
  const gates = cell === 'lstm' ? LSTM_GATES : cell === 'gru' ? GRU_GATES : [{ label: 'h', meaning: 'hidden state' }];
  const g = gates.length;
  const weightsOf = p.model.layerByName.get(top.name)!.weights!;
  const kernel = p.weight(top.name, `${prefix}kernel`, gateSlices(gates, u));
  const recurrent = p.weight(top.name, `${prefix}recurrent_kernel`, gateSlices(gates, u));
  let bias: PlanWeight | null = null;
  let resetAfter = false;
  const hasBias = weightsOf.has(`${prefix}bias`) && (flags.useBias || cudnn);
  if (cell === 'lstm' && hasBias) {
    bias = cudnn
      ? p.weight(top.name, `${prefix}bias`, gateSlices(gates, u), (t) => {
          // CuDNNLSTM bias (8u) = input half + recurrent half: the two are added into the LSTM bias (4u)
          const half = t.data.length / 2;
          return { shape: [half], data: Float64Array.from({ length: half }, (_, k) => t.data[k] + t.data[half + k]) };
        })
      : p.weight(top.name, `${prefix}bias`, gateSlices(gates, u));
  } else if (cell === 'gru') {
    const b = weightsOf.get(`${prefix}bias`);
    const configured = layer.config.reset_after;
    resetAfter = cudnn || (typeof configured === 'boolean' ? configured : b && hasBias ? b.shape.length === 2 : gruResetAfter(layer, v));
    if (hasBias) {
      bias = cudnn
        ? p.weight(top.name, `${prefix}bias`, gateSlices(gates, u), (t) => ({ shape: [2, t.data.length / 2], data: t.data })) // (6u) = (2, 3u)
        : p.weight(top.name, `${prefix}bias`, gateSlices(gates, u));
    }
  } else if (cell === 'simple' && hasBias) {
    bias = p.weight(top.name, `${prefix}bias`, gateSlices(gates, u));
  }
  if (kernel.shape[0] !== inDim || kernel.shape[1] !== g * u) p.refuse(top, `kernel (${kernel.shape.join(', ')}) does not fit ${inDim} input features`);
  const act = p.activation(top, () => (cudnn ? fromConfig('tanh', v) : fromConfig(layer.config.activation, v, 'tanh')));
  const recAct =
    cell === 'simple'
      ? null
      : p.activation(top, () => (cudnn ? fromConfig('sigmoid', v) : fromConfig(layer.config.recurrent_activation ?? layer.config.inner_activation, v, defaultRecurrentActivation(v))));
  if (cell === 'gru') p.semantics.add(`GRU ${resetAfter ? 'reset_after=True: h~ = act(x W_h + b_h + r * (h U_h + b\'_h))' : 'reset_after=False: h~ = act(x W_h + b_h + (r * h) U_h)'}${cudnn ? ' (CuDNNGRU)' : ''}`);
  if (flags.stateful) p.semantics.add(`stateful layer '${commentText(top.name, 60)}': each predict call starts from zero states (or the initial states given); state is not kept between calls`);
  const zeroOutputForMask = zeroOverride ?? flags.zeroOutputForMask;
  const goBackwards = flags.goBackwards;
  const base = named?.base ?? (direction ? `${top.name}_${direction}` : top.name);
  const y = p.tensor(flags.returnSequences ? `${base}_seq` : `${base}_out`, flags.returnSequences ? [steps, u] : [u]);
  const states = (cell === 'lstm' ? ['h', 'c'] : ['h']).map((s) => p.tensor(`${base}_${s}`, [u]));
  if (initial && initial.length !== states.length) p.refuse(top, `it is given ${initial.length} initial states, ${states.length} expected`);
  if (initial && initial.some((t) => t.size !== u)) p.refuse(top, 'an initial state does not have the size of the units');
  p.steps.push({
    op: 'rnn', layer: top.name, className: named?.className ?? cls, direction, cell, x, mask, steps, inDim, units: u, kernel, recurrent, bias, resetAfter, act, recAct,
    goBackwards, returnSequences: flags.returnSequences, zeroOutputForMask, initial, y, states, gates,
  });
  return { y, states };
}

/**
 * ConvLSTM1D/2D/3D, alone or as one direction of a Bidirectional: the geometry and semantics the engine's kind reads
 * (model/kinds/conv-lstm.ts convLstmParams: kernel_size, strides, dilation_rate, padding; the recurrent convolution
 * 'same' with stride 1), activations by Keras version (hard_sigmoid's formula, the Keras 2 default recurrent
 * activation), channels_last only.
 */
function planConvLstm(p: Planner, run: RecurrentRun): { y: PlanTensor; states: PlanTensor[] } {
  const { top, layer, prefix, x, mask, initial, direction, zeroOverride } = run;
  const v = p.model.kerasVersion;
  const cls = layer.className;
  if (channelsFirst(layer)) p.refuse(top, 'channels_first is not exported');
  let geo: ConvLstmParams;
  try {
    geo = convLstmParams(layer);
  } catch (err) {
    p.refuse(top, err instanceof KerasLensError ? err.problem : String(err));
  }
  const n = geo.n;
  if (x.shape.length !== n + 2) p.refuse(top, `${cls} is exported for (steps, ${n} spatial axes, channels) inputs`);
  if (geo.padding !== 'same' && geo.padding !== 'valid') p.refuse(top, `padding '${commentText(geo.padding, 20)}' is not exported`);
  const flags = recurrentFlags(layer);
  const f = geo.filters;
  const steps = x.shape[0];
  const inSpatial = x.shape.slice(1, 1 + n);
  const cin = x.shape[n + 1];
  // out = ceil(size / stride) ('same') or floor((size - span) / stride) + 1 ('valid'), span = (k - 1) dilation + 1
  const axes = inSpatial.map((size, a) => convAxis(size, geo.kernelSize[a], geo.strides[a], geo.dilation[a], geo.padding));
  const outSpatial = axes.map((g) => g.out);
  if (outSpatial.some((o) => o < 1)) p.refuse(top, `its output has an empty spatial axis (${outSpatial.join(', ')})`);
  const recPadBefore = outSpatial.map((size, a) => convAxis(size, geo.kernelSize[a], 1, 1, 'same').padBefore);
  const slices = gateSlices(LSTM_GATES, f);
  const kernel = p.weight(top.name, `${prefix}kernel`, slices);
  const recurrent = p.weight(top.name, `${prefix}recurrent_kernel`, slices);
  const hasBias = flags.useBias && p.hasWeight(top.name, `${prefix}bias`);
  const bias = hasBias ? p.weight(top.name, `${prefix}bias`, slices) : null;
  const same = (a: number[], b: number[]) => a.length === b.length && a.every((d, k) => d === b[k]);
  if (!same(kernel.shape, [...geo.kernelSize, cin, 4 * f])) p.refuse(top, `kernel (${kernel.shape.join(', ')}) does not fit ${cin} input channels`);
  if (!same(recurrent.shape, [...geo.kernelSize, f, 4 * f])) p.refuse(top, `recurrent kernel (${recurrent.shape.join(', ')}) does not fit ${f} filters`);
  if (bias && bias.data.length !== 4 * f) p.refuse(top, `bias (${bias.shape.join(', ')}) is not 4 x ${f}`);
  const act = p.activation(top, () => fromConfig(layer.config.activation, v, 'tanh'));
  const recAct = p.activation(top, () => fromConfig(layer.config.recurrent_activation ?? layer.config.inner_activation, v, defaultRecurrentActivation(v)));
  if (flags.stateful) p.semantics.add(`stateful layer '${commentText(top.name, 60)}': each predict call starts from zero states (or the initial states given); state is not kept between calls`);
  p.semantics.add(`${cls}: an LSTM whose products are convolutions (input: the layer's padding/strides/dilation; recurrent: 'same', stride 1), gates i | f | c | o along the kernels' last axis`);
  const base = direction ? `${top.name}_${direction}` : top.name;
  const stateShape = [...outSpatial, f];
  const y = p.tensor(flags.returnSequences ? `${base}_seq` : `${base}_out`, flags.returnSequences ? [steps, ...stateShape] : stateShape);
  const states = ['h', 'c'].map((s) => p.tensor(`${base}_${s}`, stateShape));
  if (initial && initial.length !== 2) p.refuse(top, `it is given ${initial.length} initial states, 2 expected (h, c)`);
  if (initial && initial.some((t) => t.size !== states[0].size)) p.refuse(top, `an initial state does not have the state's shape (${stateShape.join(', ')})`);
  p.steps.push({
    op: 'conv_lstm', layer: top.name, className: cls, direction, x, mask, steps, inSpatial, cin, outSpatial, filters: f,
    kernelSize: geo.kernelSize, strides: geo.strides, dilation: geo.dilation, padBefore: axes.map((g) => g.padBefore), recPadBefore,
    kernel, recurrent, bias, act, recAct, goBackwards: flags.goBackwards, returnSequences: flags.returnSequences,
    zeroOutputForMask: zeroOverride ?? flags.zeroOutputForMask, initial, y, states, gates: LSTM_GATES,
  });
  return { y, states };
}

/** return_sequences and return_state of a recurrent layer or an RNN (whose units live in its cells). */
function outerFlags(layer: LayerConfig): { returnSequences: boolean; returnState: boolean } {
  return { returnSequences: layer.config.return_sequences === true, returnState: layer.config.return_state === true };
}

/** The cells of an RNN as the equivalent layers the engine runs (model/kinds/rnn.ts): one, or a stack. */
function rnnCells(layer: LayerConfig): CellLayer[] {
  return isStacked(layer) ? stackedCellLayers(layer) : [cellLayer(layer)];
}

/**
 * One recurrent layer, or one direction of a Bidirectional: LSTM/GRU/SimpleRNN (and CuDNN), RNN(cell) (the cell's
 * layer with the RNN's flags, weights under the same keys), or an RNN over stacked cells. A stack runs as the engine
 * runs it: the cells one after another over the whole sequence, every cell but the last returning its sequence (in
 * processing order), each with the same mask and its own weights ('cells/<k>/kernel' ...); with go_backwards, cell 0
 * reads the input last step first and the later cells read its (processing-order) sequence forward, with the mask
 * reversed to match. Initial states and return_state's states are each cell's states in cell order.
 */
function planRnnLayer(p: Planner, run: RecurrentRun): { y: PlanTensor; states: PlanTensor[] } {
  const { top, layer, prefix, x, mask, initial, direction, zeroOverride } = run;
  if (CONV_LSTM.has(layer.className)) return planConvLstm(p, run);
  if (layer.className !== 'RNN') return planRecurrent(p, run);
  let cells: CellLayer[];
  try {
    cells = rnnCells(layer);
  } catch (err) {
    p.refuse(top, err instanceof KerasLensError ? err.problem : String(err));
  }
  const base = direction ? `${top.name}_${direction}` : top.name;
  if (cells.length === 1) {
    return planRecurrent(p, { ...run, layer: cells[0].layer }, { className: `RNN(${cells[0].cellClass})`, base });
  }
  if (x.shape.length !== 2) p.refuse(top, 'recurrent layers are exported for (steps, features) inputs');
  const wanted = cells.reduce((a, c) => a + (c.cellClass === 'LSTMCell' ? 2 : 1), 0);
  if (initial && initial.length !== wanted) p.refuse(top, `it is given ${initial.length} initial states; its cells carry ${wanted}`);
  p.semantics.add(`RNN over stacked cells ('${commentText(top.name, 60)}'): the cells run one after another over the whole sequence (each reads the previous one's outputs, in processing order), which equals Keras's step-by-step stack; states are each cell's, in cell order`);
  const backwards = layer.config.go_backwards === true;
  let cellMask = mask;
  if (backwards && mask) {
    cellMask = p.mask(`${base}_reversed`, x.shape[0]);
    p.steps.push({ op: 'mask_reverse', layer: top.name, source: mask, mask: cellMask, steps: x.shape[0] });
  }
  let seq = x;
  const states: PlanTensor[] = [];
  let at = 0;
  cells.forEach((cell, k) => {
    const n = cell.cellClass === 'LSTMCell' ? 2 : 1;
    const init = initial ? initial.slice(at, at + n) : null;
    at += n;
    // cell 0 reads x backwards (its sequence comes out in processing order); the rest read forward
    const l = k === 0 && backwards ? { ...cell.layer, config: { ...cell.layer.config, go_backwards: true } } : cell.layer;
    const last = k === cells.length - 1;
    const cellRun = { ...run, layer: l, prefix: `${prefix}cells/${k}/`, x: seq, mask: k === 0 ? mask : cellMask, initial: init, zeroOverride: last ? zeroOverride : undefined };
    const r = planRecurrent(p, cellRun, {
      className: `RNN cell ${k} (${cell.cellClass} '${commentText(cell.cellName, 40)}')`,
      base: `${base}_cell${k}`,
    });
    seq = r.y;
    states.push(...r.states);
  });
  return { y: seq, states };
}
