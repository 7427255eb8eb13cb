/**
 * The `inspect` report: every layer of a model file, every stored weight with its role, meaning, gate blocks
 * (column ranges) and row sources. This object is what `keras-lens inspect --json` prints and what the
 * extension's webview and hovers read.
 *
 * Inspect never fails because of a layer it does not know: unknown/custom layers are listed with their raw
 * weights (no blocks). Weights-only files (no architecture) are explained from the weights' names and shapes.
 */
import { inferShapes, tensorKey } from '../model/graph';
import { kindFor } from '../model/kinds/index';
import { describeOpCall } from '../model/ops/describe';
import { columnSources, rowSources, type RowSpan, type RowTraceContext } from '../model/rows';
import type { FormatId, GateBlock, KindContext, LayerConfig, ModelFile, WeightRef, WeightRole } from '../model/types';
import { guessClassFromName } from './gates';
import { explainStoredWeights, guessLayerClass, recurrentClassFromShapes, type StoredWeightExplanation } from './storedWeights';

export interface InspectWeight {
  /** The weight's Keras name as stored (`lstm_1/kernel:0`, `lstm_1_W_f`, `layers/lstm/cell/vars/0`). */
  name: string;
  /** The top-level layer this weight belongs to. */
  layer: string;
  /** Position in the layer's get_weights(). */
  index: number;
  role: string;
  meaning: string;
  shape: number[];
  params: number;
  dtype: string;
  /** Where it lives in the file (HDF5 path, ...). */
  path: string;
  /** The class the weight belongs to (the wrapped class for Bidirectional/TimeDistributed), or null if unknown. */
  layerClass: string | null;
  /** Units (or filters) of that layer, when known. */
  units?: number;
  direction?: 'forward' | 'backward';
  /** Keras 1 split arrays: the one gate this array holds. */
  gate?: string;
  blocks: GateBlock[];
  /** Where each range of rows of the matrix view comes from. */
  rows: RowSpan[];
  /** Per-feature vectors (BatchNormalization γ, β, ...): where each column's input feature comes from. */
  columns?: RowSpan[];
  /** The matrix the blocks and rows index: (product of the leading axes, last axis); a vector is one row. */
  view: [number, number];
}

export interface InspectLayer {
  name: string;
  className: string;
  /** Wrappers (Bidirectional, TimeDistributed): the wrapped class. */
  innerClassName?: string;
  /** Wrappers: the wrapped layer's name, and Bidirectional's explicit backward layer's (Keras 3 variable paths use them). */
  innerName?: string;
  backwardName?: string;
  /** Weights-only files: the class was guessed from names and shapes. */
  classGuessed?: boolean;
  outputShape?: (number | null)[];
  /** Layers feeding this one (first call). */
  inputs?: string[];
  /** Operation nodes (keras.ops calls, TFOpLambda): what the first call computes, e.g. `lstm[:, -1, :]`. */
  operation?: string;
  /** Where the first call's explicit `mask=` comes from (Keras 3 writes Masking's mask as NotEqual/Any op nodes). */
  maskFrom?: string[];
  params: number;
  weights: InspectWeight[];
}

export interface InspectReport {
  source: string;
  format: FormatId;
  kerasVersion: string | null;
  backend?: string | null;
  /** True when the file has no architecture (weights-only) and none was given. */
  weightsOnly: boolean;
  totalParams: number;
  layers: InspectLayer[];
  /** Things the reader should know (e.g. shapes that could not be inferred). */
  notes?: string[];
}

export async function inspectModel(file: ModelFile): Promise<InspectReport> {
  const notes: string[] = [];
  const config = file.model;
  const stored = new Map(file.layers.map((l) => [l.layer, l.weights]));
  const layers: InspectLayer[] = [];

  if (config) {
    let shapes = new Map<string, (number | null)[]>();
    try {
      shapes = inferShapes(config, file.kerasVersion);
    } catch (err) {
      notes.push(`shapes could not be inferred: ${err instanceof Error ? err.message : String(err)}`);
    }
    const rowCtx: RowTraceContext = { model: config, shapeOf: (ref) => shapes.get(tensorKey(ref)) ?? null };
    const knownLayers = new Set(config.layers.map((l) => l.name));
    for (const layer of config.layers) {
      const refs = stored.get(layer.name) ?? [];
      const inputShapes = (layer.inbound[0] ?? []).map((ref) => shapes.get(tensorKey(ref)) ?? null);
      const kindCtx: KindContext = { kerasVersion: file.kerasVersion, inputShapes: inputShapes.every((s) => s !== null) ? (inputShapes as (number | null)[][]) : [] };
      const entry: InspectLayer = {
        name: layer.name,
        className: layer.className,
        params: 0,
        weights: explainLayer(layer, refs, kindCtx, rowCtx, knownLayers),
      };
      if (layer.inner) {
        entry.innerClassName = layer.inner.className;
        entry.innerName = layer.inner.name;
        if (layer.backward) entry.backwardName = layer.backward.name;
      }
      const out = shapes.get(`${layer.name}:0:0`);
      if (out) entry.outputShape = out;
      const inputs = (layer.inbound[0] ?? []).map((r) => r.layer);
      if (inputs.length) entry.inputs = inputs;
      if (layer.callArgs) {
        const op = describeOpCall(layer);
        if (op) entry.operation = op;
      }
      const maskRefs = layer.inboundKwargs?.[0]?.mask;
      if (maskRefs?.length) entry.maskFrom = maskRefs.map((r) => r.layer);
      entry.params = entry.weights.reduce((a, w) => a + w.params, 0);
      notes.push(...configDisagreements(layer, refs, kindCtx));
      layers.push(entry);
    }
    for (const lw of file.layers) {
      if (!knownLayers.has(lw.layer) && lw.weights.length > 0) {
        notes.push(`the file has weights for '${lw.layer}', which is not a layer of the architecture`);
        layers.push(guessedLayer(lw.layer, lw.weights));
      }
    }
  } else {
    for (const lw of file.layers) layers.push(guessedLayer(lw.layer, lw.weights));
    notes.push('weights only: no architecture, so classes are guessed from names and shapes and row sources are unknown');
  }

  const report: InspectReport = {
    source: file.source,
    format: file.format,
    kerasVersion: file.kerasVersion,
    weightsOnly: !config,
    totalParams: layers.reduce((a, l) => a + l.params, 0),
    layers,
  };
  if (file.backend !== null && file.backend !== undefined) report.backend = file.backend;
  if (notes.length) report.notes = notes;
  return report;
}

/** A weights-only layer: class guessed from names (layer, then weights), else from the shapes of its arrays. */
function guessedLayer(name: string, refs: WeightRef[]): InspectLayer {
  const outer = guessClassFromName(name.split('/').pop() ?? name);
  const bidirectional = outer === 'Bidirectional' || refs.some((r) => /(^|\/)(forward|backward)_/.test(r.name));
  const timeDistributed = outer === 'TimeDistributed';
  const fromNames = guessLayerClass(name, refs);
  const named = fromNames && fromNames !== 'Bidirectional' && fromNames !== 'TimeDistributed' ? fromNames : null;
  const layerClass = named ?? recurrentClassFromShapes(bidirectional ? refs.slice(0, refs.length / 2) : refs);
  const explained = explainStoredWeights({ className: layerClass, bidirectional }, refs);
  const wrapper = bidirectional ? 'Bidirectional' : timeDistributed ? 'TimeDistributed' : null;
  const layer: LayerConfig = { name, className: wrapper ?? layerClass ?? 'unknown', config: {}, inbound: [] };
  const weights = refs.map((ref, k) => toInspectWeight(layer, ref, k, explained[k], layerClass, null));
  const entry: InspectLayer = {
    name,
    className: layer.className,
    classGuessed: true,
    params: weights.reduce((a, w) => a + w.params, 0),
    weights,
  };
  if (wrapper && layerClass) entry.innerClassName = layerClass;
  return entry;
}

/** Explain one layer's stored arrays: the layer kind's roles when it answers sensibly, else names and shapes. */
function explainLayer(layer: LayerConfig, refs: WeightRef[], ctx: KindContext, rowCtx: RowTraceContext, knownLayers: Set<string>): InspectWeight[] {
  if (refs.length === 0) return [];
  const layerClass = layer.inner?.className ?? layer.className;
  const generic = explainStoredWeights(
    { className: layerClass, config: (layer.inner ?? layer).config, knownLayers, bidirectional: layer.className === 'Bidirectional' },
    refs,
  );
  const fromKind = kindRoles(layer, refs, ctx);
  return refs.map((ref, k) => {
    const useKind = fromKind && fitsShape(fromKind[k], ref);
    const explanation = useKind ? fromKindRole(fromKind[k], generic[k]) : generic[k];
    const w = toInspectWeight(layer, ref, k, explanation, layerClass, rowCtx);
    const rowsFrom = useKind ? fromKind[k].rowsFrom : undefined;
    // rows that read another tensor than the layer's input (a stacked cell's kernel: the cell below's output)
    if (rowsFrom && ref.shape.length === 2) w.rows = [{ source: rowsFrom, start: 0, end: ref.shape[0], offset: 0, index: 'unit' }];
    // rows the kind names itself (a MultiHeadAttention kernel's (feature, head) or (head, component) rows)
    const declared = useKind ? fromKind[k].rows : undefined;
    if (declared?.length && Math.max(...declared.map((r) => r.end)) === w.view[0]) w.rows = declared.map((r) => ({ ...r }));
    return w;
  });
}

/**
 * Where the architecture and the stored arrays disagree, in one sentence per problem naming the layer:
 * a class Keras Lens does not know, a weighted layer without arrays, arrays whose count or shapes differ from
 * what the config implies. (Inspect still lists everything; predict refuses such files.)
 */
function configDisagreements(layer: LayerConfig, refs: WeightRef[], ctx: KindContext): string[] {
  const kind = kindFor(layer.className);
  if (!kind) {
    return [`layer '${layer.name}' has class '${layer.className}', which Keras Lens does not know: its ${refs.length} stored array(s) are listed raw, and predict cannot run it`];
  }
  let expected: WeightRole[];
  try {
    expected = kind.weightRoles(layer, ctx);
  } catch (err) {
    return [`layer '${layer.name}': ${err instanceof Error ? err.message : String(err)}`];
  }
  if (!Array.isArray(expected) || expected.length === 0) {
    return refs.length > 0 ? [`layer '${layer.name}' (${layer.className}) has no weights in Keras, but the file stores ${refs.length} array(s) for it`] : [];
  }
  const roleList = expected.map((r) => r.role).join(', ');
  if (refs.length === 0) return [`layer '${layer.name}' (${layer.className}) has no weights in the file (expected ${expected.length}: ${roleList})`];
  let stored: WeightRole[] | null = null;
  try {
    stored = kind.storedRoles(layer, refs, ctx);
  } catch (err) {
    return [`layer '${layer.name}': ${err instanceof Error ? err.message : String(err)}`];
  }
  // Compare each stored array with the shape the config implies for it (split Keras 1 arrays included).
  const problems: string[] = [];
  const sameCount = refs.length === expected.length;
  refs.forEach((ref, k) => {
    // Same count: the config's own expectation. Split Keras 1 arrays: the per-array shape the kind expects.
    // (Same count but the file lists them in another order, e.g. Keras 3 stacked cells sorted by name: the
    // expected role the kind matched this array to.)
    const matched = stored?.[k] ? expected.find((e) => e.role === stored[k].role && e.meaning === stored[k].meaning) : undefined;
    const want = sameCount ? (matched ?? expected[k]).shape : (stored?.[k]?.shape ?? null);
    if (want && !sameShape(want, ref.shape)) {
      problems.push(`${ref.name} has shape ${shapeText(ref.shape)}, the config implies ${shapeText(want)}`);
    }
  });
  const split = stored?.some((r) => (r.blocks ?? []).length === 1 && (expected.find((e) => e.role === r.role)?.blocks.length ?? 0) > 1);
  if (!sameCount && !split && problems.length === 0) {
    problems.push(`the file stores ${refs.length} array(s), the config implies ${expected.length} (${roleList})`);
  }
  return problems.length ? [`layer '${layer.name}' (${layer.className}) disagrees with its config: ${problems.join('; ')}`] : [];
}

function sameShape(a: readonly (number | null)[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === null || d === b[i]);
}

function shapeText(shape: readonly (number | null)[]): string {
  return `(${shape.map((d) => (d === null ? 'None' : String(d))).join(', ')}${shape.length === 1 ? ',' : ''})`;
}

function kindRoles(layer: LayerConfig, refs: WeightRef[], ctx: KindContext): WeightRole[] | null {
  const kind = kindFor(layer.className);
  if (!kind) return null;
  try {
    const roles = kind.storedRoles(layer, refs, ctx);
    return Array.isArray(roles) && roles.length === refs.length ? roles : null;
  } catch {
    return null;
  }
}

/** A kind's role is used only when its blocks lie inside the stored array. */
function fitsShape(role: WeightRole, ref: WeightRef): boolean {
  if (!role || typeof role.role !== 'string') return false;
  const shape = ref.shape.length ? ref.shape : [1];
  return (role.blocks ?? []).every((b) => {
    const axis = b.axis < 0 ? shape.length + b.axis : b.axis;
    return axis >= 0 && axis < shape.length && b.start >= 0 && b.end <= shape[axis] && b.start < b.end;
  });
}

function fromKindRole(role: WeightRole, generic: StoredWeightExplanation): StoredWeightExplanation {
  const out: StoredWeightExplanation = {
    role: role.role,
    // Keras 1 split arrays: our sentence names the one gate the array holds.
    meaning: generic.gate ? generic.meaning : role.meaning || generic.meaning,
    blocks: role.blocks ?? [],
  };
  const direction = role.direction ?? generic.direction;
  if (direction) out.direction = direction;
  if (generic.units !== undefined) out.units = generic.units;
  // Keras 1 split arrays: one block = the gate the array holds.
  if (generic.gate && out.blocks.length === 1 && out.blocks[0].label === generic.gate) out.gate = generic.gate;
  else if (generic.gate && out.blocks.length === 1) out.gate = out.blocks[0].label;
  return out;
}

function toInspectWeight(
  layer: LayerConfig,
  ref: WeightRef,
  index: number,
  e: StoredWeightExplanation,
  layerClass: string | null,
  rowCtx: RowTraceContext | null,
): InspectWeight {
  const shape = [...ref.shape];
  const w: InspectWeight = {
    name: ref.name,
    layer: layer.name,
    index,
    role: e.role,
    meaning: e.meaning,
    shape,
    params: shape.reduce((a, b) => a * b, 1),
    dtype: ref.dtype,
    path: ref.path,
    layerClass,
    blocks: e.blocks,
    rows: rowSources(layer, { role: e.role, shape, className: layerClass }, rowCtx),
    view: matrixView(shape),
  };
  const columns = columnSources(layer, { role: e.role, shape, className: layerClass }, rowCtx);
  if (columns.length) w.columns = columns;
  if (e.units !== undefined) w.units = e.units;
  if (e.direction) w.direction = e.direction;
  if (e.gate) w.gate = e.gate;
  return w;
}

/** (rows, columns) of the matrix view of a weight: leading axes flattened into rows; a vector is one row. */
export function matrixView(shape: readonly number[]): [number, number] {
  if (shape.length === 0) return [1, 1];
  if (shape.length === 1) return [1, shape[0]];
  return [shape.slice(0, -1).reduce((a, b) => a * b, 1), shape[shape.length - 1]];
}
