/**
 * Matching stored weights to an architecture's layers when names do not help: the shapes each layer sees, and
 * Keras's own `load_weights` rule for weights-only files (layers that have weights, in model order, by position).
 */
import { KerasLensError } from '../model/types';
import type { LayerConfig, LayerWeights, ModelConfig } from '../model/types';
import { kindFor } from '../model/kinds/index';

/** Output shapes keyed by layer name (first call only), walking the layers with the kinds' outputShapes; best effort. (model/graph inferShapes keys every tensor of every call.) */
export function outputShapesByLayer(model: ModelConfig, kerasVersion: string | null): Map<string, (number | null)[][]> {
  const shapes = new Map<string, (number | null)[][]>();
  for (const layer of model.layers) {
    try {
      if (layer.className === 'InputLayer') {
        const s = layer.config.batch_input_shape;
        if (Array.isArray(s)) shapes.set(layer.name, [s as (number | null)[]]);
        continue;
      }
      const inputShapes = (layer.inbound[0] ?? []).map((r) => shapes.get(r.layer)?.[r.tensor]);
      if (inputShapes.some((s) => !s)) continue;
      const kind = kindFor(layer.className);
      if (!kind) continue;
      shapes.set(layer.name, kind.outputShapes(layer, { kerasVersion, inputShapes: inputShapes as (number | null)[][] }));
    } catch {
      /* shapes are a help for weightRoles, not required */
    }
  }
  return shapes;
}

export function inputShapesOf(layer: LayerConfig, shapes: Map<string, (number | null)[][]>): (number | null)[][] {
  const s = (layer.inbound[0] ?? []).map((r) => shapes.get(r.layer)?.[r.tensor]);
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
