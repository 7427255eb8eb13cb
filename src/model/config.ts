/**
 * Architecture normalisation: every Keras generation's `model_config` / `model.to_json()` / TF.js topology
 * becomes the one functional form of the contract (`ModelConfig`, `LayerConfig` in ./types).
 *
 * What changes:
 *  - Sequential models become a chain that starts from an explicit InputLayer built from the first layer's
 *    batch_input_shape / input_shape / input_dim (+ input_length).
 *  - Keras 1 spellings become Keras 2 ones (output_dim -> units, inner_activation -> recurrent_activation, ...),
 *    Keras 1 class names become Keras 2 ones (Convolution1D -> Conv1D, Merge(mode=...) -> Concatenate/Add/...).
 *  - Keras 3 spellings become Keras 2 ones (batch_shape -> batch_input_shape, dtype policy objects -> 'float32').
 *  - Inbound nodes of every shape ([name,node,tensor], [name,node,tensor,kwargs], Keras 3 {args, kwargs}) become
 *    TensorRef lists; tensors passed as keyword arguments (initial_state=...) go to `inboundKwargs`.
 * Unknown keys are kept untouched. Config objects built here are plain data with null prototypes never needed:
 * keys come from JSON.parse (which never sets prototypes) and are copied with Object.entries into fresh objects
 * through defineProperty-free assignment guarded against `__proto__`.
 */
import { KerasLensError } from './types';
import type { LayerConfig, ModelConfig, TensorRef } from './types';

type Json = unknown;
type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Copy a JSON object into a fresh plain object, dropping keys that would touch a prototype. */
function plainCopy(o: Obj): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(o)) {
    if (k === '__proto__' || k === 'constructor' || k === 'prototype') continue;
    out[k] = v;
  }
  return out;
}

/** Keras 3's snake_case (keras/src/utils/naming.py to_snake_case): also names Keras 3 weight groups. */
export function kerasSnakeCase(name: string): string {
  let s = name.replace(/\W+/g, '');
  s = s.replace(/(.)([A-Z][a-z]+)/g, '$1_$2');
  s = s.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
  return s;
}

export function isKeras1(kerasVersion: string | null): boolean {
  return kerasVersion !== null && /^1\./.test(kerasVersion);
}

// ---------------------------------------------------------------------------------------------
// Key renames
// ---------------------------------------------------------------------------------------------

/** Keras 1 -> Keras 2 key renames that hold for every layer that has the key. */
const KERAS1_KEYS: Record<string, string> = {
  inner_activation: 'recurrent_activation',
  init: 'kernel_initializer',
  inner_init: 'recurrent_initializer',
  W_regularizer: 'kernel_regularizer',
  U_regularizer: 'recurrent_regularizer',
  b_regularizer: 'bias_regularizer',
  W_constraint: 'kernel_constraint',
  U_constraint: 'recurrent_constraint',
  b_constraint: 'bias_constraint',
  bias: 'use_bias',
  dropout_W: 'dropout',
  dropout_U: 'recurrent_dropout',
  nb_filter: 'filters',
  filter_length: 'kernel_size',
  subsample_length: 'strides',
  border_mode: 'padding',
  pool_length: 'pool_size',
};

/** Keras 1 class names that Keras 2 renamed. */
const KERAS1_CLASSES: Record<string, string> = {
  Convolution1D: 'Conv1D',
  Convolution2D: 'Conv2D',
  Convolution3D: 'Conv3D',
  AtrousConvolution1D: 'Conv1D',
  AtrousConvolution2D: 'Conv2D',
  Deconvolution2D: 'Conv2DTranspose',
  SeparableConvolution2D: 'SeparableConv2D',
};

const MERGE_MODES: Record<string, string> = {
  concat: 'Concatenate',
  sum: 'Add',
  mul: 'Multiply',
  ave: 'Average',
  max: 'Maximum',
  dot: 'Dot',
};

/** A Keras 3 dtype policy object ({class_name:'DTypePolicy', config:{name:'float32'}}) -> 'float32'. */
function plainDtype(v: unknown): unknown {
  if (isObj(v) && isObj(v.config) && typeof v.config.name === 'string') return v.config.name;
  return v;
}

function renameKeras1Keys(className: string, c: Obj): { className: string; config: Obj } {
  const out = plainCopy(c);
  let cls = KERAS1_CLASSES[className] ?? className;
  if ('output_dim' in out && cls !== 'Embedding') {
    if (!('units' in out)) out.units = out.output_dim;
    delete out.output_dim;
  }
  if (cls === 'Embedding') {
    // Embedding keeps input_dim (vocabulary) and output_dim (vector size); only its initializer/regularizer move.
    if ('init' in out && !('embeddings_initializer' in out)) out.embeddings_initializer = out.init;
    if ('W_regularizer' in out && !('embeddings_regularizer' in out)) out.embeddings_regularizer = out.W_regularizer;
    if ('W_constraint' in out && !('embeddings_constraint' in out)) out.embeddings_constraint = out.W_constraint;
    delete out.init;
    delete out.W_regularizer;
    delete out.W_constraint;
  }
  for (const [from, to] of Object.entries(KERAS1_KEYS)) {
    if (from in out) {
      if (!(to in out)) out[to] = out[from];
      delete out[from];
    }
  }
  if ('forget_bias_init' in out) {
    if (!('unit_forget_bias' in out)) out.unit_forget_bias = out.forget_bias_init === 'one';
    delete out.forget_bias_init;
  }
  if ('dim_ordering' in out) {
    const d = out.dim_ordering;
    if (!('data_format' in out)) out.data_format = d === 'th' ? 'channels_first' : d === 'tf' ? 'channels_last' : d;
    delete out.dim_ordering;
  }
  if (cls === 'Conv2D' || cls === 'Conv2DTranspose' || cls === 'SeparableConv2D') {
    if ('nb_row' in out && 'nb_col' in out && !('kernel_size' in out)) out.kernel_size = [out.nb_row, out.nb_col];
    if ('subsample' in out && !('strides' in out)) out.strides = out.subsample;
    delete out.nb_row;
    delete out.nb_col;
    delete out.subsample;
  }
  if (cls === 'Conv1D') {
    if (typeof out.kernel_size === 'number') out.kernel_size = [out.kernel_size];
    if (typeof out.strides === 'number') out.strides = [out.strides];
  }
  if (/Pooling1D$/.test(cls)) {
    if ('stride' in out && !('strides' in out)) out.strides = out.stride;
    delete out.stride;
  }
  if (cls === 'Merge') {
    const mode = typeof out.mode === 'string' ? out.mode : null;
    const to = mode ? MERGE_MODES[mode] : undefined;
    if (to) {
      cls = to;
      if (to === 'Concatenate') out.axis = out.concat_axis ?? -1;
      if (to === 'Dot') out.axes = out.dot_axes ?? -1;
      delete out.mode;
      delete out.concat_axis;
      delete out.dot_axes;
    }
  }
  return { className: cls, config: out };
}

function renameKeras3Keys(c: Obj): Obj {
  const out = plainCopy(c);
  if ('batch_shape' in out) {
    if (!('batch_input_shape' in out)) out.batch_input_shape = out.batch_shape;
    delete out.batch_shape;
  }
  if ('dtype' in out) out.dtype = plainDtype(out.dtype);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Single layers
// ---------------------------------------------------------------------------------------------

/** Raw layer entry as Keras writes it: {class_name, config, name?, inbound_nodes?, module?, registered_name?}. */
export interface RawLayer {
  class_name: string;
  config: Record<string, unknown>;
  name?: string;
  inbound_nodes?: unknown;
}

/**
 * Normalise one layer's class name and config (no inbound edges): Keras 1/3 spellings -> Keras 2, wrappers get
 * `inner` (and Bidirectional's explicit `backward`). `kerasVersion` decides whether Keras 1 renames apply; when it
 * is null, Keras 1 spellings are recognised by their keys (output_dim on a non-Embedding layer, inner_activation...).
 */
export function normalizeLayerConfig(raw: unknown, kerasVersion: string | null, source = 'model config'): LayerConfig {
  if (!isObj(raw) || typeof raw.class_name !== 'string') {
    throw new KerasLensError(source, 'a layer in the model config has no class_name');
  }
  const rawConfig = isObj(raw.config) ? raw.config : {};
  let className = raw.class_name;
  let config: Obj;
  const keras1 = isKeras1(kerasVersion) || (kerasVersion === null && looksLikeKeras1(className, rawConfig));
  if (keras1) {
    const r = renameKeras1Keys(className, rawConfig);
    className = r.className;
    config = r.config;
  } else {
    config = renameKeras3Keys(rawConfig);
  }
  if ('dtype' in config) config.dtype = plainDtype(config.dtype);
  // Keras 3 operation nodes (keras.ops calls) are told apart from the layers whose class names they share.
  if (typeof raw.module === 'string' && KERAS3_OP_MODULE.test(raw.module)) className = OP_PREFIX + className;
  const name =
    typeof config.name === 'string' ? config.name : typeof raw.name === 'string' ? raw.name : kerasSnakeCase(className);
  const layer: LayerConfig = { name, className, config, inbound: [] };
  if (isObj(config.layer) && typeof config.layer.class_name === 'string') {
    layer.inner = normalizeLayerConfig(config.layer, kerasVersion, source);
  }
  if (isObj(config.backward_layer) && typeof config.backward_layer.class_name === 'string') {
    layer.backward = normalizeLayerConfig(config.backward_layer, kerasVersion, source);
  }
  return layer;
}

function looksLikeKeras1(className: string, c: Obj): boolean {
  if (className === 'Merge' || className in KERAS1_CLASSES) return true;
  if ('inner_activation' in c || 'inner_init' in c || 'dropout_W' in c || 'nb_filter' in c || 'border_mode' in c) return true;
  if ('output_dim' in c && className !== 'Embedding') return true;
  return false;
}

// ---------------------------------------------------------------------------------------------
// Inbound nodes
// ---------------------------------------------------------------------------------------------

/** [name, node, tensor] (Keras 1/2 history) or a Keras 3 `__keras_tensor__` object -> TensorRef. */
function asTensorRef(v: unknown): TensorRef | null {
  if (Array.isArray(v) && v.length >= 3 && typeof v[0] === 'string' && typeof v[1] === 'number' && typeof v[2] === 'number') {
    return { layer: v[0], node: v[1], tensor: v[2] };
  }
  if (isObj(v) && v.class_name === '__keras_tensor__' && isObj(v.config)) {
    return asTensorRef(v.config.keras_history);
  }
  return null;
}

/** All tensor refs found inside a (possibly nested) Keras 3 call argument, in order. */
function collectRefs(v: unknown, out: TensorRef[], depth = 0): void {
  if (depth > 32) return;
  const r = asTensorRef(v);
  if (r) {
    out.push(r);
    return;
  }
  if (Array.isArray(v)) for (const x of v) collectRefs(x, out, depth + 1);
}

function parseNode(
  node: unknown,
  source: string,
  layerName: string,
): { refs: TensorRef[]; kwargs: Record<string, TensorRef[]>; options: Record<string, unknown> } {
  const refs: TensorRef[] = [];
  const kwargs: Record<string, TensorRef[]> = Object.create(null);
  const options: Record<string, unknown> = Object.create(null);
  const addKwargs = (kw: unknown) => {
    if (!isObj(kw)) return;
    for (const [k, v] of Object.entries(kw)) {
      const found: TensorRef[] = [];
      // tf.keras writes kwargs tensors as [name, node, tensor] lists (or lists of them); Keras 3 as __keras_tensor__.
      collectRefs(v, found);
      if (found.length) {
        kwargs[k] = [...(kwargs[k] ?? []), ...found];
        // a list holding None beside tensors (Attention(mask=[None, value_mask])): which places the tensors fill
        if (Array.isArray(v) && v.some((x) => x === null)) options[k] = v.map((x) => (x === null ? null : 'tensor'));
      } else if (v === null || typeof v === 'boolean' || typeof v === 'number' || typeof v === 'string') options[k] = v;
    }
  };
  if (isObj(node) && ('args' in node || 'kwargs' in node)) {
    // Keras 3: {args: [...], kwargs: {...}}
    collectRefs(node.args, refs);
    addKwargs(node.kwargs);
  } else if (Array.isArray(node)) {
    // Keras 1/2: [[name, node, tensor(, kwargs)], ...]
    for (const entry of node) {
      const r = asTensorRef(entry);
      if (!r) throw new KerasLensError(source, `layer '${layerName}' has an inbound node entry Keras Lens cannot read`);
      refs.push(r);
      if (Array.isArray(entry) && entry.length >= 4) addKwargs(entry[3]);
    }
  } else {
    throw new KerasLensError(source, `layer '${layerName}' has inbound_nodes in a shape Keras Lens cannot read`);
  }
  return { refs, kwargs, options };
}

// ---------------------------------------------------------------------------------------------
// Operation nodes (model/ops): Keras 3 keras.ops calls and tf.keras TFOpLambda / SlicingOpLambda
// ---------------------------------------------------------------------------------------------

/** Keras 3 writes keras.ops calls as nodes of these modules; their classes share names with layers (Add, Softmax). */
const KERAS3_OP_MODULE = /^keras(\.src)?\.ops(\.|$)/;
/** The class-name prefix operation nodes get (model/ops/kind.ts OP_CLASS_PREFIX). */
const OP_PREFIX = 'ops.';
const TF_OP_LAYERS = new Set(['TFOpLambda', 'SlicingOpLambda']);

function isOpNode(layer: LayerConfig): boolean {
  return layer.className.startsWith(OP_PREFIX) || TF_OP_LAYERS.has(layer.className);
}

type CallArgs = { args: unknown[]; kwargs: Record<string, unknown> };

/**
 * A JSON value with every tensor replaced by {$tensor: k} (k = its place in `refs`, where it is appended), plus
 * the tensor's dtype when the file says it (Keras 3's __keras_tensor__ config does).
 */
function tensorTemplate(v: unknown, refs: TensorRef[], isTensor: (v: unknown) => TensorRef | null, depth = 0): unknown {
  if (depth > 32) throw new Error('call arguments nested too deep');
  const r = isTensor(v);
  if (r) {
    refs.push(r);
    const dtype = isObj(v) && isObj(v.config) && typeof v.config.dtype === 'string' ? v.config.dtype : null;
    return dtype ? { $tensor: refs.length - 1, dtype } : { $tensor: refs.length - 1 };
  }
  if (Array.isArray(v)) return v.map((x) => tensorTemplate(x, refs, isTensor, depth + 1));
  if (isObj(v)) {
    const out: Obj = {};
    for (const [k, x] of Object.entries(plainCopy(v))) out[k] = tensorTemplate(x, refs, isTensor, depth + 1);
    return out;
  }
  return v;
}

const keras3Tensor = (v: unknown): TensorRef | null => (isObj(v) && v.class_name === '__keras_tensor__' ? asTensorRef(v) : null);
/** tf.keras node data: [layer, node, tensor] (kwargs tensors) — a list of 3 whose first item is a name. */
const tfKerasTensor = (v: unknown): TensorRef | null => (Array.isArray(v) && v.length === 3 ? asTensorRef(v) : null);
const TF_CONSTANT = '_CONSTANT_VALUE';

/**
 * One call of an operation node -> its tensors (in order) and its arguments with tensors as {$tensor: k}.
 * Keras 3: {args, kwargs} with __keras_tensor__ objects (keras/src/models/functional.py serialize_node).
 * tf.keras (keras/engine/node.py Node.serialize, op layers keep the first argument's structure): the first
 * argument is the node itself when it is one tensor — [layer, node, tensor, kwargs] — or a list of such entries
 * (tf.concat([a, b])), constants as ['_CONSTANT_VALUE', -1, value, kwargs]; every other argument is in the kwargs
 * dict (the last entry's, as Keras reads it), tensors there as [layer, node, tensor].
 */
function parseOpNode(node: unknown, source: string, layerName: string, tfKeras: boolean): { refs: TensorRef[]; call: CallArgs } {
  const refs: TensorRef[] = [];
  const fail = () => new KerasLensError(source, `operation '${layerName}' has an inbound node Keras Lens cannot read`);
  try {
    if (!tfKeras) {
      if (!isObj(node)) throw fail();
      const args = tensorTemplate(Array.isArray(node.args) ? node.args : [], refs, keras3Tensor) as unknown[];
      const kwargs = tensorTemplate(isObj(node.kwargs) ? node.kwargs : {}, refs, keras3Tensor) as Obj;
      return { refs, call: { args, kwargs } };
    }
    if (!Array.isArray(node) || node.length === 0) throw fail();
    const single = typeof node[0] === 'string';
    const entries = (single ? [node] : node) as unknown[];
    let kw: unknown = {};
    const first = entries.map((e) => {
      if (!Array.isArray(e) || e.length < 3 || typeof e[0] !== 'string') throw fail();
      if (e.length >= 4) kw = e[3];
      if (e[0] === TF_CONSTANT) return e[2];
      refs.push({ layer: e[0], node: Number(e[1]), tensor: Number(e[2]) });
      return { $tensor: refs.length - 1 };
    });
    const kwargs = tensorTemplate(isObj(kw) ? kw : {}, refs, tfKerasTensor) as Obj;
    return { refs, call: { args: [single ? first[0] : first], kwargs } };
  } catch (err) {
    if (err instanceof KerasLensError) throw err;
    throw new KerasLensError(source, `operation '${layerName}': ${(err as Error).message}`);
  }
}

function parseRefList(v: unknown): TensorRef[] {
  const single = asTensorRef(v);
  if (single) return [single];
  const out: TensorRef[] = [];
  if (Array.isArray(v)) for (const x of v) collectRefs(x, out);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Models
// ---------------------------------------------------------------------------------------------

/**
 * The full model config of any Keras generation -> functional ModelConfig.
 * Accepts `{class_name, config}` (model_config / to_json), a TF.js `modelTopology` (with or without its
 * `model_config` envelope) and `{modelTopology: ...}`.
 */
export function normalizeModelConfig(raw: unknown, kerasVersion: string | null, source: string): ModelConfig {
  return normalizeModel(raw, kerasVersion, source, false, 0);
}

function normalizeModel(raw: unknown, kerasVersion: string | null, source: string, nested: boolean, depth: number): ModelConfig {
  let m: unknown = raw;
  for (let i = 0; i < 3 && isObj(m); i++) {
    if (isObj(m.modelTopology)) m = m.modelTopology;
    else if (isObj(m.model_config)) m = m.model_config;
    else break;
  }
  if (!isObj(m) || typeof m.class_name !== 'string') {
    throw new KerasLensError(source, 'the model config has no class_name (not a Keras architecture)');
  }
  const cls = m.class_name;
  if (cls === 'Sequential') return expandNestedModels(normalizeSequential(m.config, kerasVersion, source, nested), kerasVersion, source, depth);
  if (cls === 'Model' || cls === 'Functional') return expandNestedModels(normalizeFunctional(cls, m.config, kerasVersion, source), kerasVersion, source, depth);
  throw new KerasLensError(source, `the model is a '${cls}', not a Sequential or functional Model`);
}

function shapeOf(v: unknown): (number | null)[] | null {
  if (!Array.isArray(v)) return null;
  if (!v.every((x) => x === null || typeof x === 'number')) return null;
  return v as (number | null)[];
}

/** The batch input shape a Sequential model's first layer declares. */
function declaredBatchShape(first: LayerConfig, rawConfig: Obj, keras1: boolean): (number | null)[] | null {
  const c = first.config;
  const b = shapeOf(c.batch_input_shape) ?? shapeOf(rawConfig.batch_input_shape) ?? shapeOf(rawConfig.batch_shape);
  if (b) return b;
  const s = shapeOf(c.input_shape);
  if (s) return [null, ...s];
  const inputLength = typeof c.input_length === 'number' ? c.input_length : null;
  if (first.className === 'Embedding') return [null, inputLength];
  if (typeof c.input_dim === 'number') {
    const recurrent = /LSTM|GRU|RNN|Conv1D|Pooling1D/.test(first.className) || keras1 && inputLength !== null;
    return recurrent ? [null, inputLength, c.input_dim] : [null, c.input_dim];
  }
  // Wrappers (Bidirectional, TimeDistributed) may carry the shape on their wrapped layer.
  if (first.inner) return declaredBatchShape(first.inner, first.inner.config, keras1);
  return null;
}

function normalizeSequential(cfg: unknown, kerasVersion: string | null, source: string, nested = false): ModelConfig {
  let name = 'sequential';
  let rawLayers: unknown;
  if (Array.isArray(cfg)) rawLayers = cfg;
  else if (isObj(cfg)) {
    rawLayers = cfg.layers;
    if (typeof cfg.name === 'string') name = cfg.name;
  }
  if (!Array.isArray(rawLayers) || rawLayers.length === 0) {
    throw new KerasLensError(source, 'the Sequential model config lists no layers');
  }
  const layers = rawLayers.map((l) => normalizeLayerConfig(l, kerasVersion, source));
  const keras1 = isKeras1(kerasVersion) || (kerasVersion === null && rawLayers.some((l) => isObj(l) && typeof l.class_name === 'string' && looksLikeKeras1(l.class_name, isObj(l.config) ? l.config : {})));
  let input: LayerConfig;
  let rest: LayerConfig[];
  if (layers[0].className === 'InputLayer') {
    input = layers[0];
    rest = layers.slice(1);
  } else {
    const first = layers[0];
    const shape = declaredBatchShape(first, isObj(rawLayers[0]) && isObj(rawLayers[0].config) ? rawLayers[0].config : {}, keras1);
    // A Sequential used as a layer of another model is fed by its caller; its input shape may be undeclared.
    if (!shape && !nested) {
      throw new KerasLensError(source, `the first layer '${first.name}' of the Sequential model declares no input shape`);
    }
    // Keras 2+/tf.keras name it `<first layer>_input`; Keras 1.2 named it `<class>_input_1` (seen in Keras 1.2.2 files).
    const inputName = keras1 ? `${first.className.toLowerCase()}_input_1` : `${first.name}_input`;
    const dtype = typeof first.config.input_dtype === 'string' ? first.config.input_dtype : typeof first.config.dtype === 'string' ? first.config.dtype : 'float32';
    input = {
      name: inputName,
      className: 'InputLayer',
      config: { name: inputName, batch_input_shape: shape, dtype, sparse: false },
      inbound: [],
    };
    rest = layers;
  }
  input.inbound = [];
  let prev: TensorRef = { layer: input.name, node: 0, tensor: 0 };
  for (const l of rest) {
    l.inbound = [[prev]];
    prev = { layer: l.name, node: 0, tensor: 0 };
  }
  return { name, className: 'Sequential', layers: [input, ...rest], inputs: [{ layer: input.name, node: 0, tensor: 0 }], outputs: [prev] };
}

function normalizeFunctional(cls: 'Model' | 'Functional', cfg: unknown, kerasVersion: string | null, source: string): ModelConfig {
  if (!isObj(cfg) || !Array.isArray(cfg.layers)) throw new KerasLensError(source, `the ${cls} config lists no layers`);
  const layers: LayerConfig[] = [];
  for (const raw of cfg.layers) {
    const layer = normalizeLayerConfig(raw, kerasVersion, source);
    if (isObj(raw) && typeof raw.name === 'string') layer.name = raw.name;
    const nodes = isObj(raw) && Array.isArray(raw.inbound_nodes) ? raw.inbound_nodes : [];
    if (isOpNode(layer)) {
      // operation nodes: every tensor of a call is an input of it; the arguments are kept for model/ops
      layer.callArgs = nodes.map((node) => {
        const p = parseOpNode(node, source, layer.name, TF_OP_LAYERS.has(layer.className));
        layer.inbound.push(p.refs);
        return p.call;
      });
      layers.push(layer);
      continue;
    }
    const kw: Record<string, TensorRef[]>[] = [];
    const opts: Record<string, unknown>[] = [];
    let anyKw = false;
    let anyOpt = false;
    for (const node of nodes) {
      const p = parseNode(node, source, layer.name);
      layer.inbound.push(p.refs);
      const plain: Record<string, TensorRef[]> = {};
      for (const k of Object.keys(p.kwargs)) {
        if (k === '__proto__' || k === 'constructor' || k === 'prototype') continue;
        plain[k] = p.kwargs[k];
        anyKw = true;
      }
      kw.push(plain);
      const plainOpts: Record<string, unknown> = {};
      for (const k of Object.keys(p.options)) {
        if (k === '__proto__' || k === 'constructor' || k === 'prototype') continue;
        plainOpts[k] = p.options[k];
        anyOpt = true;
      }
      opts.push(plainOpts);
    }
    if (anyKw) layer.inboundKwargs = kw;
    if (anyOpt) layer.callOptions = opts;
    layers.push(layer);
  }
  const inputs = parseRefList(cfg.input_layers);
  const outputs = parseRefList(cfg.output_layers);
  const names = new Set(layers.map((l) => l.name));
  for (const r of [...inputs, ...outputs, ...layers.flatMap((l) => l.inbound.flat())]) {
    if (!names.has(r.layer)) throw new KerasLensError(source, `the model config refers to a layer '${r.layer}' it does not define`);
  }
  if (outputs.length === 0) throw new KerasLensError(source, `the ${cls} config names no output layers`);
  return { name: typeof cfg.name === 'string' ? cfg.name : 'model', className: cls, layers, inputs, outputs };
}

/**
 * A one-layer functional model, for tests built from single-layer cases (e.g. keras-js): one InputLayer per input
 * shape (shapes WITHOUT the batch axis, as keras-js writes them) named input_1, input_2, ..., feeding `layer`.
 */
export function singleLayerModel(
  layer: { class_name: string; config: Record<string, unknown> },
  inputShapes: number[][],
  kerasVersion: string | null,
): ModelConfig {
  const l = normalizeLayerConfig(layer, kerasVersion);
  const inputs: LayerConfig[] = inputShapes.map((s, i) => ({
    name: `input_${i + 1}`,
    className: 'InputLayer',
    config: { name: `input_${i + 1}`, batch_input_shape: [null, ...s], dtype: 'float32', sparse: false },
    inbound: [],
  }));
  l.inbound = [inputs.map((x) => ({ layer: x.name, node: 0, tensor: 0 }))];
  return {
    name: 'model',
    className: 'Functional',
    layers: [...inputs, l],
    inputs: inputs.map((x) => ({ layer: x.name, node: 0, tensor: 0 })),
    outputs: [{ layer: l.name, node: 0, tensor: 0 }],
  };
}

// ---------------------------------------------------------------------------------------------
// Nested models
// ---------------------------------------------------------------------------------------------

const MODEL_CLASSES = new Set(['Sequential', 'Functional', 'Model']);

function isNestedModel(l: LayerConfig): boolean {
  return MODEL_CLASSES.has(l.className) && (Array.isArray(l.config.layers) || Array.isArray(l.config));
}

/**
 * Inline models used as layers (e.g. a Sequential inside a functional model, or `model.add(other_model)`): their
 * layers join the outer graph. Each call of the nested model becomes one more call (node) of every inner layer, so
 * a nested model used twice gives inner layers that are shared, exactly like a layer called twice. Inner layers get
 * `nestedIn`; a name that clashes with an outer layer becomes `<nested model>/<name>` (`storedName` keeps the
 * original). Outer references to a nested model's calls are numbered from 1 by Keras 2/3 and TF.js (node 0 is the
 * model's own construction); references to node 0 are read as 0-based numbering.
 */
function expandNestedModels(m: ModelConfig, kerasVersion: string | null, source: string, depth: number): ModelConfig {
  if (!m.layers.some(isNestedModel)) return m;
  if (depth > 16) throw new KerasLensError(source, 'models nested more than 16 deep');
  const taken = new Set(m.layers.filter((l) => !isNestedModel(l)).map((l) => l.name));
  /** nested model name -> per call, its output refs in the outer graph */
  const outputsOf = new Map<string, TensorRef[][]>();
  const layers: LayerConfig[] = [];
  for (const l of m.layers) {
    if (!isNestedModel(l) || l.inbound.length === 0) {
      layers.push(l);
      continue;
    }
    const inner = normalizeModel({ class_name: l.className, config: l.config }, kerasVersion, source, true, depth + 1);
    const inputNames = new Set(inner.inputs.map((r) => r.layer));
    const rename = new Map<string, string>();
    const nodeCount = new Map<string, number>();
    for (const il of inner.layers) {
      if (il.className === 'InputLayer' && inputNames.has(il.name)) continue;
      const name = taken.has(il.name) ? `${l.name}/${il.name}` : il.name;
      taken.add(name);
      rename.set(il.name, name);
      nodeCount.set(il.name, Math.max(1, il.inbound.length));
    }
    // Inner ref during call k: inner inputs -> the call's inputs; inner layer X node j -> X' node k * calls(X) + j.
    const mapRef = (r: TensorRef, k: number): TensorRef => {
      if (inputNames.has(r.layer)) {
        const i = inner.inputs.findIndex((x) => x.layer === r.layer && x.tensor === r.tensor);
        const outer = l.inbound[k][i >= 0 ? i : inner.inputs.findIndex((x) => x.layer === r.layer)];
        if (!outer) throw new KerasLensError(source, `nested model '${l.name}' is called with fewer inputs than it has`);
        return outer;
      }
      const name = rename.get(r.layer);
      if (!name) return r;
      return { layer: name, node: k * nodeCount.get(r.layer)! + r.node, tensor: r.tensor };
    };
    const calls = l.inbound.length;
    for (const il of inner.layers) {
      const name = rename.get(il.name);
      if (!name) continue;
      const inbound: TensorRef[][] = [];
      const kwargs: Record<string, TensorRef[]>[] = [];
      for (let k = 0; k < calls; k++) {
        il.inbound.forEach((node, j) => {
          inbound.push(node.map((r) => mapRef(r, k)));
          const kw = il.inboundKwargs?.[j];
          const o: Record<string, TensorRef[]> = {};
          if (kw) for (const key of Object.keys(kw)) o[key] = kw[key].map((r) => mapRef(r, k));
          kwargs.push(o);
        });
      }
      const copy: LayerConfig = { ...il, name, inbound, nestedIn: il.nestedIn ? `${l.name}/${il.nestedIn}` : l.name };
      if (il.inboundKwargs) copy.inboundKwargs = kwargs;
      if (il.callOptions) copy.callOptions = Array.from({ length: calls }, () => il.callOptions!).flat();
      if (il.callArgs) copy.callArgs = Array.from({ length: calls }, () => il.callArgs!).flat();
      if (name !== il.name) copy.storedName = il.storedName ?? il.name;
      layers.push(copy);
    }
    outputsOf.set(
      l.name,
      Array.from({ length: calls }, (_, k) => inner.outputs.map((r) => mapRef(r, k))),
    );
  }
  // Outer references to a nested model: node = call index, counted from 0 or (TF.js) from 1.
  const uses = new Map<string, number[]>();
  const note = (r: TensorRef) => {
    if (outputsOf.has(r.layer)) uses.set(r.layer, [...(uses.get(r.layer) ?? []), r.node]);
  };
  for (const l of layers) {
    l.inbound.flat().forEach(note);
    l.inboundKwargs?.forEach((kw) => Object.values(kw).flat().forEach(note));
  }
  m.outputs.forEach(note);
  const offset = new Map<string, number>();
  for (const [name, nodes] of uses) {
    const calls = outputsOf.get(name)!.length;
    // Keras 2/3 and TF.js get_config number a nested model's calls from 1 ("networks start with a pre-existing
    // node linking their input to output"); a reference to node 0 can only mean 0-based numbering.
    const zeroBased = Math.min(...nodes) === 0 || (Math.max(...nodes) < calls && isKeras1(kerasVersion));
    offset.set(name, zeroBased ? 0 : 1);
  }
  const resolve = (r: TensorRef): TensorRef => {
    const perCall = outputsOf.get(r.layer);
    if (!perCall) return r;
    const k = r.node - (offset.get(r.layer) ?? 0);
    const o = perCall[k]?.[r.tensor];
    if (!o) {
      throw new KerasLensError(source, `the model uses call ${r.node}, output ${r.tensor} of nested model '${r.layer}', which it does not have`);
    }
    return o;
  };
  for (const l of layers) {
    l.inbound = l.inbound.map((node) => node.map(resolve));
    if (l.inboundKwargs) {
      l.inboundKwargs = l.inboundKwargs.map((kw) => {
        const o: Record<string, TensorRef[]> = {};
        for (const k of Object.keys(kw)) o[k] = kw[k].map(resolve);
        return o;
      });
    }
  }
  return { ...m, layers, inputs: m.inputs.map(resolve), outputs: m.outputs.map(resolve) };
}
