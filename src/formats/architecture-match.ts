/**
 * Matching stored weights to an architecture's layers when names do not help: the shapes each layer sees, and
 * Keras's own `load_weights` rule for weights-only files (layers that have weights, in model order, by position).
 */
import { KerasLensError } from '../model/types';
import type { LayerConfig, LayerWeights, ModelConfig } from '../model/types';
import { kindFor } from '../model/kinds/index';
import { inferShapes, tensorKey } from '../model/graph';

/**
 * Output shapes keyed by layer name (first call only), read from the one shape inference (model/graph inferShapes,
 * which keys every tensor of every call); best effort: an architecture whose references cannot be ordered gives
 * no shapes here (building the model reports it).
 */
export function outputShapesByLayer(model: ModelConfig, kerasVersion: string | null): Map<string, (number | null)[][]> {
  const shapes = new Map<string, (number | null)[][]>();
  let tensors: Map<string, (number | null)[]>;
  try {
    tensors = inferShapes(model, kerasVersion);
  } catch {
    return shapes; /* shapes are a help for weightRoles, not required */
  }
  for (const layer of model.layers) {
    const outs: (number | null)[][] = [];
    for (let t = 0; tensors.has(tensorKey({ layer: layer.name, node: 0, tensor: t })); t++) {
      outs.push(tensors.get(tensorKey({ layer: layer.name, node: 0, tensor: t }))!);
    }
    if (outs.length) shapes.set(layer.name, outs);
  }
  return shapes;
}

/** Input shapes of a layer's first call, or [] when one is unknown. */
export function inputShapesOf(layer: LayerConfig, shapes: Map<string, (number | null)[][]>): (number | null)[][] {
  const s = (layer.inbound[0] ?? []).map((r) => (r.node === 0 ? shapes.get(r.layer)?.[r.tensor] : undefined));
  return s.every((x) => !!x) ? (s as (number | null)[][]) : [];
}

/**
 * A weights-only file saved from another session names its layers differently (lstm_3 vs lstm_1). Keras's
 * load_weights ignores names and pairs the file's weighted layers with the model's weighted layers in order; do the
 * same, renaming each LayerWeights/WeightRef.layer to the architecture's name (weight names stay as stored).
 * Leaves everything alone when every stored layer name is in the architecture.
 */
export function matchWeightsByOrder(model: ModelConfig, kerasVersion: string | null, layers: LayerWeights[], source: string): LayerWeights[] {
  const names = new Set(model.layers.map((l) => l.name));
  if (layers.every((l) => names.has(l.layer))) return layers;
  const shapes = outputShapesByLayer(model, kerasVersion);
  const weighted: LayerConfig[] = [];
  for (const layer of model.layers) {
    if (layer.className === 'InputLayer') continue;
    const kind = kindFor(layer.className);
    if (!kind) {
      const missing = layers.find((l) => !names.has(l.layer))!.layer;
      throw new KerasLensError(source, `the weights name layer '${missing}', which the architecture does not have, and layer '${layer.name}' (${layer.className}) is unknown to Keras Lens, so they cannot be paired by order`);
    }
    if (kind.weightRoles(layer, { kerasVersion, inputShapes: inputShapesOf(layer, shapes) }).length > 0) weighted.push(layer);
  }
  if (weighted.length !== layers.length) {
    const missing = layers.find((l) => !names.has(l.layer))!.layer;
    throw new KerasLensError(
      source,
      `the weights name layer '${missing}', which the architecture does not have, and the file has ${layers.length} layers with weights where the architecture has ${weighted.length}`,
    );
  }
  return layers.map((l, i) => {
    const name = weighted[i].name;
    return { layer: name, weights: l.weights.map((w) => ({ ...w, layer: name })) };
  });
}
