/**
 * The model graph: the architecture's layers bound to their layer kinds, the layer calls (Keras "nodes") in an order
 * where every call comes after the calls that produce its inputs, the shape of every tensor, and the file's weights
 * bound to each layer in the canonical Keras-2 layout.
 *
 * A layer called twice (a shared layer) is one layer with two calls; both calls use the same weights.
 * Unknown or custom layer classes get `kind: null` and unknown output shapes: building never fails because of them
 * (inspect shows such files too); predict refuses them before computing anything.
 */
import { checkFinite } from './finite';
import { kindFor } from './kinds/index';
import {
  KerasLensError,
  type KindContext,
  type LayerConfig,
  type LayerKind,
  type ModelConfig,
  type ModelFile,
  type Tensor,
  type TensorRef,
  type WeightRef,
  type WeightRole,
} from './types';

/** A shape with the batch axis (usually null) first. */
export type Shape = (number | null)[];

/** One layer of the model. */
export interface ModelLayer {
  name: string;
  config: LayerConfig;
  /** The kind that knows this class, or null for unknown/custom layers. */
  kind: LayerKind | null;
  /** The file's arrays for this layer, in file order ([] when the file has none). */
  stored: WeightRef[];
  /** Canonical weights by role once bound (see Model.bindAll); null before. */
  weights: Map<string, Tensor> | null;
  /** The calls of this layer, in node order. */
  calls: LayerCall[];
}

/** One call of a layer (a Keras node). */
export interface LayerCall {
  layer: ModelLayer;
  node: number;
  /** The call's input tensors. */
  inputs: TensorRef[];
  /** Extra tensor arguments, e.g. `initial_state`. */
  kwargs: Record<string, TensorRef[]>;
  /** Input shapes (null where unknown). */
  inputShapes: (Shape | null)[];
  /** Output shapes, or null when they cannot be inferred (unknown kind or unknown input shape). */
  outputShapes: Shape[] | null;
}

export interface Model {
  file: ModelFile;
  config: ModelConfig;
  kerasVersion: string | null;
  layers: ModelLayer[];
  layerByName: Map<string, ModelLayer>;
  /** Every layer call, producers before consumers. */
  calls: LayerCall[];
  /** Shape of every tensor whose shape is known, keyed by `tensorKey()` ('layer:node:tensor'). */
  shapes: Map<string, Shape>;
  inputs: TensorRef[];
  outputs: TensorRef[];
  /** Names of the model inputs (input layer names), in input order. */
  inputNames: string[];
  /** Names of the model outputs (producing layer names; made unique when one layer gives several outputs). */
  outputNames: string[];
  /**
   * Layers whose class has no kind (unknown / custom). Nested models (a Sequential/Functional used as a layer) are
   * inlined into the outer graph by the normaliser (model/config.ts), so they are not layers here.
   */
  unknownLayers: ModelLayer[];
  /** Read the weights of every layer and bind them to their kinds. Idempotent. Throws KerasLensError on mismatch. */
  bindAll(): Promise<void>;
}

/** 'layer:node:tensor' — the key of one tensor in `Model.shapes` and in the engine's value store. */
export function tensorKey(ref: TensorRef): string {
  return `${ref.layer}:${ref.node}:${ref.tensor}`;
}

export function formatShape(shape: readonly (number | null)[] | null | undefined): string {
  if (!shape) return '(unknown)';
  const dims = shape.map((d) => (d === null || d === undefined ? 'None' : String(d)));
  return `(${dims.join(', ')}${dims.length === 1 ? ',' : ''})`;
}

/** How many calls a layer has: one per inbound entry; an InputLayer has its one implicit call. */
function callCount(layer: LayerConfig): number {
  if (layer.className === 'InputLayer') return 1;
  return layer.inbound.length;
}

interface PlannedCall {
  layer: LayerConfig;
  node: number;
  inputs: TensorRef[];
  kwargs: Record<string, TensorRef[]>;
}

/**
 * Orders every layer call so that producers come before consumers (depth-first from each call, layers in config
 * order). Throws KerasLensError for references to missing layers/calls and for cycles.
 */
function orderCalls(config: ModelConfig, source: string | null): PlannedCall[] {
  const byName = new Map<string, LayerConfig>();
  for (const layer of config.layers) byName.set(layer.name, layer);
  const done = new Set<string>();
  const visiting = new Set<string>();
  const order: PlannedCall[] = [];
  const validNode = (layer: LayerConfig, node: number) => node >= 0 && node < callCount(layer);
  const describeCalls = (layer: LayerConfig) => {
    const n = callCount(layer);
    return n === 0 ? 'which is never called' : n === 1 ? 'whose only call is 0' : `whose calls are 0..${n - 1}`;
  };

  const visit = (layer: LayerConfig, node: number, from: string | null) => {
    const key = `${layer.name}:${node}`;
    if (done.has(key)) return;
    if (visiting.has(key)) {
      throw new KerasLensError(source, `the architecture has a cycle through layer '${layer.name}'`);
    }
    if (!validNode(layer, node)) {
      throw new KerasLensError(
        source,
        `${from ? `layer '${from}' uses` : 'the model uses'} call ${node} of layer '${layer.name}', ${describeCalls(layer)}`,
      );
    }
    visiting.add(key);
    const inputs = layer.inbound[node] ?? [];
    const kwargs = layer.inboundKwargs?.[node] ?? {};
    for (const ref of [...inputs, ...Object.values(kwargs).flat()]) {
      const producer = byName.get(ref.layer);
      if (!producer) {
        throw new KerasLensError(source, `layer '${layer.name}' takes its input from '${ref.layer}', which is not a layer of the model`);
      }
      visit(producer, ref.node, layer.name);
    }
    visiting.delete(key);
    done.add(key);
    order.push({ layer, node, inputs, kwargs });
  };

  for (const layer of config.layers) {
    for (let node = 0; node < callCount(layer); node++) visit(layer, node, null);
  }
  for (const ref of [...config.inputs, ...config.outputs]) {
    const layer = byName.get(ref.layer);
    if (!layer) throw new KerasLensError(source, `the model's input/output '${ref.layer}' is not a layer of the model`);
    if (!validNode(layer, ref.node)) {
      throw new KerasLensError(source, `the model uses call ${ref.node} of layer '${ref.layer}', ${describeCalls(layer)}`);
    }
  }
  return order;
}

/** Output shapes of one call, or null when unknown (no kind, an unknown input shape, or the kind cannot tell). */
function callOutputShapes(
  kind: LayerKind | null,
  layer: LayerConfig,
  inputShapes: (Shape | null)[],
  kerasVersion: string | null,
  node = 0,
): Shape[] | null {
  if (!kind) return null;
  if (inputShapes.some((s) => s === null)) return null;
  try {
    const shapes = kind.outputShapes(layer, { kerasVersion, inputShapes: inputShapes as Shape[], node });
    return Array.isArray(shapes) && shapes.every((s) => Array.isArray(s)) ? shapes : null;
  } catch {
    return null;
  }
}

/** Shapes of the tensors of all calls, in call order. Fills `shapes` and returns per-call input/output shapes. */
function inferCallShapes(
  planned: PlannedCall[],
  kerasVersion: string | null,
  shapes: Map<string, Shape>,
): { inputShapes: (Shape | null)[]; outputShapes: Shape[] | null }[] {
  return planned.map((call) => {
    const kind = kindFor(call.layer.className) ?? null;
    // Initial states given as kwargs are not part of inputShapes (KindContext.inputShapes = the call's inputs).
    const inputShapes = call.inputs.map((ref) => shapes.get(tensorKey(ref)) ?? null);
    const outputShapes = callOutputShapes(kind, call.layer, inputShapes, kerasVersion, call.node);
    if (outputShapes) {
      outputShapes.forEach((shape, tensor) => shapes.set(tensorKey({ layer: call.layer.name, node: call.node, tensor }), shape));
    }
    return { inputShapes, outputShapes };
  });
}

/**
 * The shape (batch axis first) of every tensor of the architecture, keyed 'layer:node:tensor', computed from the
 * config alone (no weights needed). Tensors whose shape cannot be known (after an unknown/custom layer) are absent.
 */
export function inferShapes(config: ModelConfig, kerasVersion: string | null): Map<string, Shape> {
  const shapes = new Map<string, Shape>();
  inferCallShapes(orderCalls(config, null), kerasVersion, shapes);
  return shapes;
}

/** Builds the graph of a model file. Reads no weight data (see Model.bindAll). */
export async function buildModel(file: ModelFile): Promise<Model> {
  const config = file.model;
  if (!config) {
    throw new KerasLensError(
      file.source,
      'the file holds weights only and no architecture; pass the architecture with --config ARCH.json',
    );
  }
  const kerasVersion = file.kerasVersion;
  const storedByLayer = new Map<string, WeightRef[]>();
  for (const group of file.layers) {
    storedByLayer.set(group.layer, [...(storedByLayer.get(group.layer) ?? []), ...group.weights]);
  }

  const layers: ModelLayer[] = config.layers.map((layerConfig) => ({
    name: layerConfig.name,
    config: layerConfig,
    kind: kindFor(layerConfig.className) ?? null,
    stored: storedByLayer.get(layerConfig.name) ?? [],
    weights: null,
    calls: [],
  }));
  const layerByName = new Map(layers.map((l) => [l.name, l]));

  const planned = orderCalls(config, file.source);
  const shapes = new Map<string, Shape>();
  const callShapes = inferCallShapes(planned, kerasVersion, shapes);
  const calls: LayerCall[] = planned.map((p, i) => {
    const layer = layerByName.get(p.layer.name)!;
    const call: LayerCall = {
      layer,
      node: p.node,
      inputs: p.inputs,
      kwargs: p.kwargs,
      inputShapes: callShapes[i].inputShapes,
      outputShapes: callShapes[i].outputShapes,
    };
    layer.calls.push(call);
    return call;
  });
  for (const layer of layers) layer.calls.sort((a, b) => a.node - b.node);

  const outputNames = uniqueOutputNames(config.outputs);
  let bound: Promise<void> | null = null;
  const model: Model = {
    file,
    config,
    kerasVersion,
    layers,
    layerByName,
    calls,
    shapes,
    inputs: config.inputs,
    outputs: config.outputs,
    inputNames: config.inputs.map((r) => r.layer),
    outputNames,
    unknownLayers: layers.filter((l) => l.kind === null),
    bindAll() {
      bound ??= bindAllWeights(model).catch((err) => {
        bound = null;
        throw err;
      });
      return bound;
    },
  };
  return model;
}

function uniqueOutputNames(outputs: TensorRef[]): string[] {
  const counts = new Map<string, number>();
  for (const r of outputs) counts.set(r.layer, (counts.get(r.layer) ?? 0) + 1);
  return outputs.map((r) => ((counts.get(r.layer) ?? 0) > 1 ? `${r.layer}:${r.node}:${r.tensor}` : r.layer));
}

/** The context a layer's weights are sized for: the input shapes of its first call. */
export function weightContext(model: Model, layer: ModelLayer): KindContext {
  const first = layer.calls[0];
  const inputShapes = first ? first.inputShapes.map((s) => s ?? []) : [];
  return { kerasVersion: model.kerasVersion, inputShapes };
}

/** The roles a layer expects, or null when its kind cannot tell for these shapes. */
function expectedRoles(layer: ModelLayer, ctx: KindContext): WeightRole[] | null {
  if (!layer.kind) return null;
  try {
    return layer.kind.weightRoles(layer.config, ctx);
  } catch {
    return null;
  }
}

function describeRoles(roles: WeightRole[]): string {
  return roles.map((r) => `${r.direction ? `${r.direction} ` : ''}${r.role} ${formatShape(r.shape)}`).join(', ');
}

/** Canonical map key(s) a role may be bound under (Bidirectional halves carry a direction prefix). */
function roleKeys(role: WeightRole): string[] {
  return role.direction ? [`${role.direction}/${role.role}`, `${role.direction}_${role.role}`, role.role] : [role.role];
}

async function bindLayer(model: Model, layer: ModelLayer): Promise<void> {
  const source = model.file.source;
  const kind = layer.kind;
  if (!kind) return;
  const ctx = weightContext(model, layer);
  const roles = expectedRoles(layer, ctx);
  const what = `layer '${layer.name}' (${layer.config.className})`;

  if (layer.stored.length === 0) {
    if (roles && roles.length > 0) {
      const inFile = model.file.layers.map((g) => g.layer).filter((n) => !model.layerByName.has(n));
      throw new KerasLensError(
        source,
        `${what} has no weights in the file; it expects ${describeRoles(roles)}` +
          (inFile.length ? ` (the file has weights for layers not in the architecture: ${inFile.slice(0, 5).join(', ')})` : ''),
      );
    }
    layer.weights = new Map();
    return;
  }
  if (roles && roles.length === 0) {
    // A weightless kind with stored arrays (e.g. an optimizer leftover): nothing to bind.
    layer.weights = new Map();
    return;
  }

  const stored = await Promise.all(
    layer.stored.map(async (ref) => {
      try {
        return { ref, data: await ref.read() };
      } catch (err) {
        if (err instanceof KerasLensError) throw err;
        throw new KerasLensError(source, `cannot read weight '${ref.name}' of ${what}: ${(err as Error).message ?? err}`);
      }
    }),
  );
  // NaN/Infinity in a weight would only print NaN: refuse, naming the weight and the first bad element.
  for (const { ref, data } of stored) checkFinite(data, ref.shape, source, `weight '${ref.name}' of ${what}`);
  let weights: Map<string, Tensor>;
  try {
    weights = kind.bindWeights(layer.config, stored, ctx);
  } catch (err) {
    if (err instanceof KerasLensError) throw err.file ? err : new KerasLensError(source, err.problem);
    throw new KerasLensError(source, `cannot bind the weights of ${what}: ${(err as Error).message ?? err}`);
  }

  if (roles) {
    for (const role of roles) {
      if (!role.shape) continue;
      const key = roleKeys(role).find((k) => weights.has(k));
      if (key === undefined) continue;
      const found = weights.get(key)!.shape;
      const ok = found.length === role.shape.length && found.every((d, i) => d === role.shape![i]);
      if (!ok) {
        const storedNames = layer.stored.map((r) => `${r.name} ${formatShape(r.shape)}`).join(', ');
        throw new KerasLensError(
          source,
          `${what}: weight '${role.direction ? `${role.direction} ` : ''}${role.role}' has shape ${formatShape(found)} but the layer's config ` +
            `and input shape ${formatShape(ctx.inputShapes[0])} expect ${formatShape(role.shape)} (stored: ${storedNames})`,
        );
      }
    }
  }
  layer.weights = weights;
}

async function bindAllWeights(model: Model): Promise<void> {
  for (const layer of model.layers) {
    if (layer.weights === null) await bindLayer(model, layer);
  }
}
