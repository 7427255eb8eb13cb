/**
 * Running a model like Keras `predict()`: every layer call in graph order, masks carried between layers as Keras's
 * compute_mask does, RNN initial states, stateful layers keeping their state in a PredictSession between calls,
 * and an optional per-timestep gate trace. Intermediates are Float64Array.
 */
import { formatShape, tensorKey, type LayerCall, type Model, type Shape } from '../model/graph';
import { forgetFloat32Input, rememberFloat32Input } from '../model/kinds/fast-recurrent';
import {
  KerasLensError,
  type ForwardResult,
  type Mask,
  type RecurrentTrace,
  type RunContext,
  type Tensor,
  type TensorRef,
} from '../model/types';

export interface PredictResult {
  /** One tensor per model output (batch axis kept), Float64Array data. */
  outputs: Tensor[];
  outputNames: string[];
  /** Per recurrent layer run (and direction), when asked with `trace: true`. */
  trace?: RecurrentTrace[];
}

/** Keeps the states of stateful layers between predict calls, as one Keras model object does. */
export class PredictSession {
  readonly states = new Map<string, Tensor[]>();
  /** Keras `model.reset_states()`: the next call starts from zero states. */
  reset(): void {
    this.states.clear();
  }
}

export interface PredictOptions {
  trace?: boolean;
  session?: PredictSession;
  /**
   * Compute these tensors instead of the model's outputs (e.g. an intermediate layer's activations); they are
   * returned in this order, named by their layer.
   */
  outputs?: TensorRef[];
}

/** Recurrent classes whose extra positional inputs (old Keras 2 `initial_state` style) are initial states. */
const RECURRENT_CLASSES = new Set(['LSTM', 'GRU', 'SimpleRNN', 'CuDNNLSTM', 'CuDNNGRU', 'ConvLSTM1D', 'ConvLSTM2D', 'ConvLSTM3D', 'Bidirectional', 'RNN']);

/**
 * Layers that Keras marks `supports_masking` with the default compute_mask (the mask passes through unchanged).
 * Used only when a kind's forward leaves `masks` out.
 */
const PASSES_MASK = new Set([
  'Dense',
  'TimeDistributed',
  'BatchNormalization',
  'LayerNormalization',
  'PReLU',
  'Activation',
  'Dropout',
  'SpatialDropout1D',
  'GaussianNoise',
  'GaussianDropout',
  'AlphaDropout',
  'ReLU',
  'LeakyReLU',
  'ELU',
  'Softmax',
  'ThresholdedReLU',
]);

function source(model: Model): string {
  return model.file.source;
}

/** The declared shape of a model input (batch axis first), or null when the architecture does not say. */
export function declaredInputShape(model: Model, input: TensorRef): Shape | null {
  return model.shapes.get(tensorKey(input)) ?? null;
}

function toFloat64(t: Tensor): Tensor {
  return t.data instanceof Float64Array ? t : { shape: [...t.shape], data: Float64Array.from(t.data) };
}

/**
 * A float32 input as the engine's float64 tensor, converted on first read of `data` (then kept): the fast recurrent
 * path reads the float32 values themselves (fast-recurrent.ts, rememberFloat32Input) and so never pays for a float64
 * copy — at batch 1 a new 51 KB array, its first-touch page faults and two conversion passes each call were ~5% of
 * an LSTM(128) predict. Any other reader gets exactly the Float64Array it got before. The values are taken now (a
 * float32 copy), as the float64 copy was: the caller may change its array while predict() awaits the weights.
 */
function lazyFloat64(shape: number[], given: Float32Array): Tensor {
  const source = given.slice();
  let data: Float64Array | null = null;
  const t: Tensor = {
    shape: [...shape],
    get data(): Float64Array {
      return (data ??= Float64Array.from(source));
    },
    set data(value) {
      data = Float64Array.from(value);
      forgetFloat32Input(t);
    },
  };
  rememberFloat32Input(t, source);
  return t;
}

/** Matches the given inputs to the model's input layers and checks their shapes. */
function assignInputs(model: Model, inputs: Tensor | Tensor[] | Record<string, Tensor>): Map<string, Tensor> {
  const names = model.inputNames;
  let list: Tensor[];
  if (Array.isArray(inputs)) {
    list = inputs;
  } else if (isTensor(inputs)) {
    list = [inputs];
  } else {
    const given = Object.keys(inputs);
    const missing = names.filter((n) => !(n in inputs));
    const extra = given.filter((n) => !names.includes(n));
    if (missing.length || extra.length) {
      throw new KerasLensError(
        source(model),
        `the model's inputs are ${names.map((n) => `'${n}'`).join(', ')}` +
          (missing.length ? `; missing ${missing.map((n) => `'${n}'`).join(', ')}` : '') +
          (extra.length ? `; unknown ${extra.map((n) => `'${n}'`).join(', ')}` : ''),
      );
    }
    list = names.map((n) => inputs[n]);
  }
  if (list.length !== names.length) {
    throw new KerasLensError(source(model), `the model has ${names.length} input(s) (${names.join(', ')}) but ${list.length} were given`);
  }
  const values = new Map<string, Tensor>();
  let batch: number | null = null;
  model.inputs.forEach((ref, i) => {
    const t = list[i];
    const declared = declaredInputShape(model, ref);
    if (t.data.length !== t.shape.reduce((a, b) => a * b, 1)) {
      throw new KerasLensError(source(model), `input '${ref.layer}' has ${t.data.length} values for shape ${formatShape(t.shape)}`);
    }
    if (declared) {
      // the batch axis is free: Keras predict splits any number of samples into batches
      const fits = declared.length === t.shape.length && declared.every((d, a) => a === 0 || d === null || d === t.shape[a]);
      if (!fits) {
        throw new KerasLensError(
          source(model),
          `input '${ref.layer}' expects shape ${formatShape(declared)} (batch first) but was given ${formatShape(t.shape)}`,
        );
      }
    }
    if (batch !== null && t.shape[0] !== batch) {
      throw new KerasLensError(source(model), `the inputs have different batch sizes (${batch} and ${t.shape[0]})`);
    }
    batch = t.shape[0];
    values.set(tensorKey(ref), t.data instanceof Float32Array ? lazyFloat64(t.shape, t.data) : toFloat64(t));
  });
  return values;
}

function isTensor(x: unknown): x is Tensor {
  return !!x && typeof x === 'object' && Array.isArray((x as Tensor).shape) && ArrayBuffer.isView((x as Tensor).data);
}

/**
 * neededCalls per model for its own outputs (the same `model.outputs` array every call): the graph walk runs once,
 * not on every predict (a model's calls never change after buildModel).
 */
const callsForOutputs = new WeakMap<Model, { wanted: TensorRef[]; calls: LayerCall[] }>();

/** The calls needed to compute the model outputs, in graph order. */
function neededCalls(model: Model, wanted: TensorRef[]): LayerCall[] {
  const known = callsForOutputs.get(model);
  if (known && known.wanted === wanted && wanted === model.outputs) return known.calls;
  const calls = walkNeededCalls(model, wanted);
  if (wanted === model.outputs) callsForOutputs.set(model, { wanted, calls });
  return calls;
}

function walkNeededCalls(model: Model, wanted: TensorRef[]): LayerCall[] {
  const byKey = new Map(model.calls.map((c) => [`${c.layer.name}:${c.node}`, c]));
  const needed = new Set<string>();
  for (const r of wanted) {
    if (!byKey.has(`${r.layer}:${r.node}`)) throw new KerasLensError(source(model), `the model has no layer call '${r.layer}' (node ${r.node})`);
  }
  const stack = wanted.map((r) => `${r.layer}:${r.node}`);
  while (stack.length) {
    const key = stack.pop()!;
    if (needed.has(key)) continue;
    needed.add(key);
    const call = byKey.get(key);
    if (!call) continue;
    for (const r of [...call.inputs, ...Object.values(call.kwargs).flat()]) stack.push(`${r.layer}:${r.node}`);
  }
  return model.calls.filter((c) => needed.has(`${c.layer.name}:${c.node}`));
}

/** A boolean/0-1 tensor of shape (batch, steps) passed as `mask=` becomes our per-step mask. */
function tensorAsMask(t: Tensor): Mask | null {
  if (t.shape.length !== 2) return null;
  return { batch: t.shape[0], steps: t.shape[1], data: Uint8Array.from(t.data, (v) => (v ? 1 : 0)) };
}

/** Layers predict cannot run (unknown/custom classes). */
function unrunnableLayers(calls: LayerCall[]): string[] {
  return [...new Set(calls.map((c) => c.layer))].filter((l) => !l.kind).map((l) => `'${l.name}' (class ${l.config.className})`);
}

/** Runs the model on the inputs (batch axis first) and returns every output, like Keras `model.predict`. */
export async function predict(
  model: Model,
  inputs: Tensor | Tensor[] | Record<string, Tensor>,
  opts: PredictOptions = {},
): Promise<PredictResult> {
  const wanted = opts.outputs ?? model.outputs;
  const calls = neededCalls(model, wanted);
  // Refuse unknown/custom layers before computing (or reading) anything.
  const unknown = unrunnableLayers(calls);
  if (unknown.length) {
    throw new KerasLensError(
      source(model),
      `cannot run layer${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}: ` +
        `Keras Lens does not know ${unknown.length > 1 ? 'these classes' : 'this class'} (custom layers cannot be run)`,
    );
  }
  const values = assignInputs(model, inputs);
  await model.bindAll();

  const session = opts.session ?? new PredictSession();
  const ctx: RunContext = { kerasVersion: model.kerasVersion, states: session.states, trace: opts.trace ? [] : undefined };
  const masks = new Map<string, Mask | null>();
  runCalls(model, calls, values, masks, ctx);

  const outputs = wanted.map((r) => {
    const v = values.get(tensorKey(r));
    if (!v) throw new KerasLensError(source(model), `the model output '${r.layer}' (tensor ${r.tensor}) was not produced`);
    const out = toFloat64(v);
    return { shape: out.shape, data: out.data }; // a plain object (an input passed through is a lazy one)
  });
  const outputNames = opts.outputs ? opts.outputs.map((r) => (r.node || r.tensor ? tensorKey(r) : r.layer)) : model.outputNames;
  const res: PredictResult = { outputs, outputNames };
  if (ctx.trace) res.trace = ctx.trace;
  return res;
}

/** Every call in order: gathers its inputs, masks and initial states, runs its kind, stores outputs and masks. */
function runCalls(model: Model, calls: LayerCall[], values: Map<string, Tensor>, masks: Map<string, Mask | null>, ctx: RunContext): void {
  for (const call of calls) {
    const layer = call.layer;
    if (layer.config.className === 'InputLayer') {
      if (!values.has(tensorKey({ layer: layer.name, node: call.node, tensor: 0 }))) {
        throw new KerasLensError(source(model), `input layer '${layer.name}' is used but is not one of the model's inputs`);
      }
      continue;
    }
    const get = (r: TensorRef): Tensor => {
      const v = values.get(tensorKey(r));
      if (!v) throw new KerasLensError(source(model), `layer '${layer.name}' needs output ${r.tensor} of '${r.layer}', which that layer does not produce`);
      return v;
    };
    let inputRefs = call.inputs;
    let stateRefs = call.kwargs.initial_state ?? [];
    if (stateRefs.length === 0 && RECURRENT_CLASSES.has(layer.config.className) && inputRefs.length > 1) {
      stateRefs = inputRefs.slice(1);
      inputRefs = inputRefs.slice(0, 1);
    }
    const inputTensors = inputRefs.map(get);
    const inputMasks = inputRefs.map((r) => masks.get(tensorKey(r)) ?? null);
    // mask= given by hand: one tensor for the first input, or a list with one per input (Attention(mask=[qm, vm]))
    // (a list with None in it says which places the tensors fill; a given list replaces the inputs' own masks)
    const givenMasks = call.kwargs.mask ?? [];
    const slots = layer.config.callOptions?.[call.node]?.mask;
    if (Array.isArray(slots) && givenMasks.length) {
      let k = 0;
      slots.forEach((s, i) => (inputMasks[i] = s === null || k >= givenMasks.length ? null : tensorAsMask(get(givenMasks[k++]))));
    } else if (givenMasks.length > 1 && givenMasks.length === inputRefs.length) givenMasks.forEach((r, i) => (inputMasks[i] = tensorAsMask(get(r))));
    else if (givenMasks.length) inputMasks[0] = tensorAsMask(get(givenMasks[0]));
    // Other tensors passed by keyword (MultiHeadAttention key=, attention_mask=), with the masks they carry.
    const kwargs: Record<string, Tensor[]> = {};
    const kwargMasks: Record<string, (Mask | null)[]> = {};
    for (const [k, refs] of Object.entries(call.kwargs)) {
      if (k === 'initial_state' || k === 'mask') continue;
      kwargs[k] = refs.map(get);
      kwargMasks[k] = refs.map((r) => masks.get(tensorKey(r)) ?? null);
    }

    let result: ForwardResult;
    try {
      result = layer.kind!.forward({
        layer: layer.config,
        inputs: inputTensors,
        masks: inputMasks,
        weights: layer.weights ?? new Map(),
        initialStates: stateRefs.length ? stateRefs.map(get) : undefined,
        node: call.node,
        kwargs,
        kwargMasks,
        ctx,
      });
    } catch (err) {
      if (err instanceof KerasLensError) {
        if (err.file) throw err;
        throw new KerasLensError(source(model), err.problem);
      }
      const msg = err instanceof Error ? err.message : String(err);
      throw new KerasLensError(
        source(model),
        `layer '${layer.name}' (${layer.config.className}) failed on inputs ${inputTensors.map((t) => formatShape(t.shape)).join(', ')}: ${msg}`,
      );
    }
    let outMasks = result.masks;
    if (outMasks === undefined && PASSES_MASK.has(layer.config.className) && inputMasks[0]) {
      const m = inputMasks[0];
      const y = result.outputs[0];
      outMasks = y && y.shape[0] === m.batch && y.shape[1] === m.steps ? [m] : [];
    }
    result.outputs.forEach((t, i) => {
      const key = tensorKey({ layer: layer.name, node: call.node, tensor: i });
      values.set(key, t);
      masks.set(key, outMasks?.[i] ?? null);
    });
    // Keras 3 MultiHeadAttention takes the masks off its input tensors: later readers of them get none
    if (result.clearsInputMasks) for (const r of [...call.inputs, ...Object.values(call.kwargs).flat()]) masks.set(tensorKey(r), null);
  }
}

// ---------------------------------------------------------------------------------------------
// Input JSON
// ---------------------------------------------------------------------------------------------

/** Deeper nesting than any Keras input needs: guards the recursive reader. */
const MAX_INPUT_RANK = 16;

interface Nested {
  shape: number[];
  data: Float64Array;
}

/** Reads a nested JSON array into a dense tensor; every sub-list of one level must have the same length. */
function readNested(value: unknown, file: string, what: string): Nested {
  const shape: number[] = [];
  let probe: unknown = value;
  while (Array.isArray(probe)) {
    if (shape.length >= MAX_INPUT_RANK) throw new KerasLensError(file, `${what} is nested more than ${MAX_INPUT_RANK} levels deep`);
    shape.push(probe.length);
    probe = probe[0];
  }
  if (shape.length === 0) throw new KerasLensError(file, `${what} must be a (nested) array of numbers, got ${describeJson(value)}`);
  if (shape.some((d) => d === 0)) throw new KerasLensError(file, `${what} has an empty list (shape ${formatShape(shape)})`);
  const data = new Float64Array(shape.reduce((a, b) => a * b, 1));
  let n = 0;
  const walk = (v: unknown, depth: number, path: string) => {
    if (depth === shape.length) {
      if (typeof v !== 'number') throw new KerasLensError(file, `${what}${path} is ${describeJson(v)}, not a number`);
      if (!Number.isFinite(v)) throw new KerasLensError(file, `${what}${path} is ${v}, not a finite number`);
      data[n++] = v;
      return;
    }
    if (!Array.isArray(v)) {
      throw new KerasLensError(file, `${what}${path} is ${describeJson(v)} where a list of ${shape[depth]} was expected (ragged input)`);
    }
    if (v.length !== shape[depth]) {
      throw new KerasLensError(file, `${what}${path} has ${v.length} entries where ${shape[depth]} were expected (ragged input)`);
    }
    for (let i = 0; i < v.length; i++) walk(v[i], depth + 1, `${path}[${i}]`);
  };
  walk(value, 0, '');
  return { shape, data };
}

function describeJson(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  const s = JSON.stringify(v);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

/** One input value: with the batch axis, or without it (one sample) when its rank is one less than declared. */
function inputTensor(value: unknown, declared: Shape | null, name: string, file: string, what: string): Tensor {
  const nested = readNested(value, file, what);
  if (!declared) return nested;
  let shape = nested.shape;
  if (shape.length === declared.length - 1) shape = [1, ...shape];
  const fits = shape.length === declared.length && declared.every((d, a) => a === 0 || d === null || d === shape[a]);
  if (!fits) {
    throw new KerasLensError(
      file,
      `${what} has shape ${formatShape(nested.shape)} but input '${name}' expects ${formatShape(declared)} ` +
        `(or ${formatShape(declared.slice(1))} for one sample)`,
    );
  }
  return { shape, data: nested.data };
}

/**
 * Parses predict input JSON: for a one-input model a nested array (with the batch axis, or one sample without it);
 * for several inputs an object keyed by input layer name. Errors name the file and what is wrong.
 */
export function parseInputJson(text: string, model: Model, source: string): Record<string, Tensor> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new KerasLensError(source, `not valid JSON (${(err as Error).message})`);
  }
  const names = model.inputNames;
  const declared = new Map(model.inputs.map((r) => [r.layer, declaredInputShape(model, r)]));
  const result: Record<string, Tensor> = {};
  if (Array.isArray(json)) {
    if (names.length !== 1) {
      throw new KerasLensError(
        source,
        `the model has ${names.length} inputs; give an object keyed by input name: {${names.map((n) => `"${n}": [...]`).join(', ')}}`,
      );
    }
    result[names[0]] = inputTensor(json, declared.get(names[0]) ?? null, names[0], source, 'the input');
    return result;
  }
  if (json && typeof json === 'object') {
    const obj = json as Record<string, unknown>;
    const keys = Object.keys(obj);
    const missing = names.filter((n) => !(n in obj));
    const extra = keys.filter((k) => !names.includes(k));
    if (missing.length || extra.length) {
      throw new KerasLensError(
        source,
        `the model's inputs are ${names.map((n) => `'${n}'`).join(', ')}` +
          (missing.length ? `; missing ${missing.map((n) => `'${n}'`).join(', ')}` : '') +
          (extra.length ? `; not an input: ${extra.map((n) => `'${n}'`).join(', ')}` : ''),
      );
    }
    for (const n of names) result[n] = inputTensor(obj[n], declared.get(n) ?? null, n, source, `input '${n}'`);
    const batches = new Set(Object.values(result).map((t) => t.shape[0]));
    if (batches.size > 1) throw new KerasLensError(source, `the inputs have different batch sizes (${[...batches].join(', ')})`);
    return result;
  }
  throw new KerasLensError(source, `expected a nested array of numbers (or an object keyed by input name), got ${describeJson(json)}`);
}
