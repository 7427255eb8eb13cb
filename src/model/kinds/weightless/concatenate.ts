/**
 * Concatenate(axis=-1): joins the inputs along one axis (all other axes must agree).
 * Mask (Keras compute_mask): each input's mask (all real when absent) is broadcast over its features and
 * concatenated along the axis, then a step is real when it is real everywhere along the last axis. So joining
 * features ANDs the masks; joining along the steps axis (axis 1 of 3D inputs) joins the masks end to end.
 */
import type { LayerConfig, LayerKind, Mask, Tensor } from '../../types';
import { intSetting } from './layerSettings';
import { andMasks } from './mergeMasks';
import { concatenateAlong, normaliseAxis, type Shape } from './tensorLayout';
import { noWeights } from './unusedArrays';

function axisOf(layer: LayerConfig, rank: number): number {
  return normaliseAxis(intSetting(layer, ['axis', 'concat_axis'], -1), rank, `layer '${layer.name}'`);
}

function concatenatedMask(inputs: Tensor[], masks: (Mask | null)[], axis: number): Mask | null {
  if (masks.every((m) => !m)) return null;
  const rank = inputs[0].shape.length;
  if (rank === 3 && axis === 1) {
    // masks join along the steps
    const batch = inputs[0].shape[0];
    const steps = inputs.reduce((s, t) => s + t.shape[1], 0);
    const data = new Uint8Array(batch * steps);
    for (let b = 0; b < batch; b++) {
      let t0 = 0;
      inputs.forEach((x, i) => {
        const n = x.shape[1];
        for (let t = 0; t < n; t++) data[b * steps + t0 + t] = masks[i] ? masks[i]!.data[b * n + t] : 1;
        t0 += n;
      });
    }
    return { batch, steps, data };
  }
  return andMasks(masks);
}

export const concatenateKind: LayerKind = {
  classNames: ['Concatenate'],
  ...noWeights,
  outputShapes(layer, ctx) {
    const rank = ctx.inputShapes[0].length;
    const axis = axisOf(layer, rank);
    const shape: Shape = [...ctx.inputShapes[0]];
    for (const s of ctx.inputShapes) {
      if (s.length !== rank) throw new Error(`layer '${layer.name}': inputs of different ranks`);
      s.forEach((d, i) => {
        if (i === axis || i === 0) return;
        if (d !== null && shape[i] !== null && d !== shape[i]) {
          throw new Error(`layer '${layer.name}': inputs differ at axis ${i} (${shape[i]} vs ${d})`);
        }
        if (shape[i] === null) shape[i] = d;
      });
    }
    shape[axis] = ctx.inputShapes.some((s) => s[axis] === null) ? null : ctx.inputShapes.reduce((s, x) => s + (x[axis] as number), 0);
    return [shape];
  },
  forward({ layer, inputs, masks }) {
    const rank = inputs[0].shape.length;
    const axis = axisOf(layer, rank);
    for (const t of inputs) {
      if (t.shape.length !== rank || t.shape.some((d, i) => i !== axis && d !== inputs[0].shape[i])) {
        throw new Error(
          `layer '${layer.name}': cannot concatenate shapes ${inputs.map((x) => `(${x.shape.join(', ')})`).join(' and ')} along axis ${axis}`,
        );
      }
    }
    return { outputs: [concatenateAlong(inputs, axis)], masks: [concatenatedMask(inputs, masks, axis)] };
  },
};
