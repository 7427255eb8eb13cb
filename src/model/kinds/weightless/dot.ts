/**
 * Dot(axes, normalize): per sample, the dot product of x1 and x2 along axes[0] of x1 and axes[1] of x2
 * (Keras batch_dot). Negative axes count from the end. With normalize, each input is first L2-normalised along
 * its axis: x / sqrt(max(Σx², 1e-12)). Output shape: x1's axes without the summed one, then x2's; a result
 * with only the batch axis gets a trailing axis of 1. No output mask.
 */
import type { LayerConfig, LayerKind, Tensor } from '../../types';
import { boolSetting } from './layerSettings';
import { asFloat64, elementCount, transpose, type Shape } from './tensorLayout';
import { noWeights } from './unusedArrays';

function dotAxes(layer: LayerConfig, ranks: [number, number]): [number, number] {
  const raw = layer.config.axes ?? layer.config.dot_axes ?? -1;
  const list = Array.isArray(raw) ? raw : [raw, raw];
  if (list.length !== 2 || !list.every((a) => typeof a === 'number')) {
    throw new Error(`layer '${layer.name}': axes ${JSON.stringify(raw)} is not an int or a pair of ints`);
  }
  const axes = (list as number[]).map((a, i) => (a < 0 ? ((a % ranks[i]) + ranks[i]) % ranks[i] : a)) as [number, number];
  if (axes[0] === 0 || axes[1] === 0 || axes[0] >= ranks[0] || axes[1] >= ranks[1]) {
    throw new Error(`layer '${layer.name}': axes ${JSON.stringify(raw)} do not fit inputs of ranks ${ranks[0]} and ${ranks[1]}`);
  }
  return axes;
}

function l2Normalise(t: Tensor, axis: number): Tensor {
  const n = t.shape[axis];
  const inner = elementCount(t.shape.slice(axis + 1));
  const outer = elementCount(t.shape.slice(0, axis));
  const out = Float64Array.from(t.data);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      let sq = 0;
      for (let k = 0; k < n; k++) sq += out[(o * n + k) * inner + j] ** 2;
      const scale = 1 / Math.sqrt(Math.max(sq, 1e-12));
      for (let k = 0; k < n; k++) out[(o * n + k) * inner + j] *= scale;
    }
  }
  return { shape: [...t.shape], data: out };
}

function outputShape<T>(s1: T[], s2: T[], axes: [number, number]): (T | 1)[] {
  const shape: (T | 1)[] = [...s1.filter((_, i) => i !== axes[0]), ...s2.filter((_, i) => i !== axes[1] && i !== 0)];
  if (shape.length === 1) shape.push(1);
  return shape;
}

export const dotKind: LayerKind = {
  classNames: ['Dot'],
  ...noWeights,
  outputShapes(layer, ctx) {
    const [s1, s2] = ctx.inputShapes;
    const axes = dotAxes(layer, [s1.length, s2.length]);
    if (s1[axes[0]] !== null && s2[axes[1]] !== null && s1[axes[0]] !== s2[axes[1]]) {
      throw new Error(`layer '${layer.name}': dot axes have lengths ${s1[axes[0]]} and ${s2[axes[1]]}`);
    }
    return [outputShape(s1, s2, axes) as Shape];
  },
  forward({ layer, inputs }) {
    if (inputs.length !== 2) throw new Error(`layer '${layer.name}' (Dot) takes exactly 2 inputs`);
    let [x1, x2] = inputs;
    const axes = dotAxes(layer, [x1.shape.length, x2.shape.length]);
    if (boolSetting(layer, ['normalize'], false)) {
      x1 = l2Normalise(x1, axes[0]);
      x2 = l2Normalise(x2, axes[1]);
    }
    const k = x1.shape[axes[0]];
    if (k !== x2.shape[axes[1]]) throw new Error(`layer '${layer.name}': dot axes have lengths ${k} and ${x2.shape[axes[1]]}`);
    // x1 -> (batch, rows, k), x2 -> (batch, k, cols), then one matrix product per sample
    const r1 = x1.shape.length;
    const a = asFloat64(transpose(x1, [...Array.from({ length: r1 }, (_, i) => i).filter((i) => i !== axes[0]), axes[0]]));
    const r2 = x2.shape.length;
    const b = asFloat64(transpose(x2, [0, axes[1], ...Array.from({ length: r2 }, (_, i) => i).filter((i) => i !== 0 && i !== axes[1])]));
    const batch = x1.shape[0];
    const rows = elementCount(x1.shape) / (batch * k);
    const cols = elementCount(x2.shape) / (batch * k);
    const out = new Float64Array(batch * rows * cols);
    for (let s = 0; s < batch; s++) {
      for (let i = 0; i < rows; i++) {
        for (let j = 0; j < cols; j++) {
          let acc = 0;
          for (let q = 0; q < k; q++) acc += a[(s * rows + i) * k + q] * b[(s * k + q) * cols + j];
          out[(s * rows + i) * cols + j] = acc;
        }
      }
    }
    return { outputs: [{ shape: outputShape(x1.shape, x2.shape, axes) as number[], data: out }], masks: [null] };
  },
};
