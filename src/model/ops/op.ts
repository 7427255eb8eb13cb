/**
 * Operation nodes: tensor functions called inside a functional model rather than layers — Keras 3 writes calls of
 * `keras.ops` (and the mask computation of Masking / Embedding(mask_zero=True)) into its config as nodes of module
 * `keras.src.ops.*`; tf.keras 2.x wraps calls of TensorFlow functions in `TFOpLambda` / `SlicingOpLambda` layers.
 * Both spell the same few computations; each family file (elementwise, reduce, layout, get-item, linalg) implements
 * them once as an `OpImpl`, and the two bindings (keras3.ts, tf-op-lambda.ts) turn a stored call into an `OpCall`.
 *
 * Masks: an operation node passes NO mask on, except through the identities at OpCall.passesMask. Keras 3
 * `Operation.__call__` has no mask handling (only `Layer.__call__` sets `_keras_mask` on outputs,
 * keras/src/layers/layer.py), and tf.keras's op layers do not support masking (`_set_mask_metadata` returns early
 * when `supports_masking` is False). Keras 3 passes masks to the layers that need them as explicit `mask=` tensors
 * computed by op nodes (NotEqual, Any, ...), which predict reads from the call's `mask` keyword.
 */
import type { Tensor } from '../types';

/** A shape with the batch axis first; null = unknown. */
export type Shape = (number | null)[];

/** The op's settings (axis, keepdims, dtype, newshape, key, subscripts, ...), already read from the file. */
export type Params = Record<string, unknown>;

export interface OpImpl {
  /** The output shape for these operand shapes; throws an Error saying why the shapes do not fit. */
  shape(shapes: Shape[], p: Params): Shape;
  /** The computation (float64; booleans are 0/1). */
  run(xs: Tensor[], p: Params): Tensor;
}

/** One operand of a call: a tensor of the graph (index into the call's inputs) or a constant written in the file. */
export type Operand = { tensor: number } | { constant: Tensor };

/** A stored call, bound: which op, its operands in order, its settings. */
export interface OpCall {
  op: string;
  operands: Operand[];
  params: Params;
  /**
   * Set when Keras, on its TensorFlow backend, hands back the very tensor object it was given (convert_to_tensor /
   * cast to the dtype it already has): that object still carries its `_keras_mask`, so the next layer called
   * without an explicit mask= sees the mask. Measured with Keras 3.15.1: Masking -> ops.cast(x, 'float32') or
   * ops.convert_to_tensor(x) -> LSTM masks; ops.reshape to the same shape, x[:, :, :], x + 0.0 do not.
   */
  passesMask?: boolean;
}

export function scalar(v: number): Tensor {
  return { shape: [], data: Float64Array.of(v) };
}

/** Numpy broadcasting of shapes of any ranks (aligned on the right) with unknown (null) dims. */
export function broadcastShapes(shapes: Shape[], what: string): Shape {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out: Shape = [];
  for (let i = 0; i < rank; i++) {
    let known: number | null = null;
    let unknown = false;
    for (const s of shapes) {
      const d = s[s.length - rank + i];
      if (d === undefined || d === 1) continue;
      if (d === null) unknown = true;
      else if (known === null) known = d;
      else if (known !== d) {
        throw new Error(`${what}: shapes ${shapes.map((x) => `(${x.map((v) => v ?? 'None').join(', ')})`).join(' and ')} do not broadcast`);
      }
    }
    out.push(known ?? (unknown ? null : 1));
  }
  return out;
}
