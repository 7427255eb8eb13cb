/**
 * The element-wise merges (Add, Subtract, Multiply, Average, Maximum, Minimum), as Keras's _Merge computes them:
 * inputs of lower rank get axes of length 1 inserted at axis 1 until all ranks agree, then numpy broadcasting.
 * The output mask is the AND of the input masks.
 */
import type { LayerKind, Tensor } from '../../types';
import { andMasks } from './mergeMasks';
import { broadcastShape, broadcastTo, type Shape } from './tensorLayout';
import { noWeights } from './unusedArrays';

type Combine = (values: Float64Array[], size: number) => Float64Array;

function expandToRank<T extends number | null>(shape: T[], rank: number): (T | 1)[] {
  const out: (T | 1)[] = [...shape];
  while (out.length < rank) out.splice(1, 0, 1);
  return out;
}

/** Keras's _compute_elemwise_op_output_shape (None where any input is None, unless the other is 1... as Keras). */
function mergedShape(shapes: Shape[], what: string): Shape {
  const rank = Math.max(...shapes.map((s) => s.length));
  const expanded = shapes.map((s) => expandToRank(s, rank));
  return Array.from({ length: rank }, (_, axis) => {
    let out: number | null = 1;
    for (const s of expanded) {
      const d = s[axis];
      if (out === null || d === null) out = null;
      else if (out === 1) out = d;
      else if (d !== 1 && d !== out) throw new Error(`${what}: input shapes do not match at axis ${axis}`);
    }
    return out;
  });
}

export function elementwiseMergeKind(classNames: string[], combine: Combine, inputCount?: number): LayerKind {
  return {
    classNames,
    ...noWeights,
    outputShapes(layer, ctx) {
      if (inputCount !== undefined && ctx.inputShapes.length !== inputCount) {
        throw new Error(`layer '${layer.name}' (${layer.className}) takes exactly ${inputCount} inputs`);
      }
      return [mergedShape(ctx.inputShapes, `layer '${layer.name}'`)];
    },
    forward({ layer, inputs, masks }) {
      if (inputCount !== undefined && inputs.length !== inputCount) {
        throw new Error(`layer '${layer.name}' (${layer.className}) takes exactly ${inputCount} inputs, got ${inputs.length}`);
      }
      const rank = Math.max(...inputs.map((t) => t.shape.length));
      const expanded: Tensor[] = inputs.map((t) => ({ shape: expandToRank(t.shape, rank) as number[], data: t.data }));
      const shape = broadcastShape(
        expanded.map((t) => t.shape),
        `layer '${layer.name}'`,
      );
      const values = expanded.map((t) => broadcastTo(t, shape));
      const size = values[0].length;
      return { outputs: [{ shape, data: combine(values, size) }], masks: [andMasks(masks)] };
    },
  };
}

/** Folds the inputs pairwise from the first: out = f(f(x0, x1), x2) ... */
export function foldInputs(f: (a: number, b: number) => number): Combine {
  return (values, size) => {
    const out = Float64Array.from(values[0]);
    for (const v of values.slice(1)) for (let i = 0; i < size; i++) out[i] = f(out[i], v[i]);
    return out;
  };
}
