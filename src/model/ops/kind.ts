/**
 * The one layer kind of every operation node: Keras 3 ops (class names 'ops.<Class>', see the normaliser) and
 * tf.keras's TFOpLambda / SlicingOpLambda. No weights. Output shape and forward come from the op family files via
 * the bound call; the output carries no mask, except through TensorFlow's identities (see op.ts for Keras's rule).
 */
import { KerasLensError, type ForwardArgs, type ForwardResult, type KindContext, type LayerConfig, type LayerKind, type Tensor } from '../types';
import { noWeights } from '../kinds/weightless/unusedArrays';
import { bindKeras3Op, KERAS3_OP_CLASSES } from './keras3';
import { bindTfOpLambda } from './tf-op-lambda';
import { elementwiseOps } from './elementwise';
import { reduceOps } from './reduce';
import { layoutOps } from './layout';
import { getItemOps } from './get-item';
import { linalgOps } from './linalg';
import type { OpCall, OpImpl, Shape } from './op';

/** The class-name prefix the normaliser gives Keras 3 operation nodes (their classes share names with layers: Add, Concatenate, Softmax, ...). */
export const OP_CLASS_PREFIX = 'ops.';

const TF_OP_LAYERS = ['TFOpLambda', 'SlicingOpLambda'];

/** 2^27 float64 values = 1 GiB: no inference-sized tensor is larger. */
const MAX_OP_ELEMENTS = 2 ** 27;

export const OPS: Record<string, OpImpl> = { ...elementwiseOps, ...reduceOps, ...layoutOps, ...getItemOps, ...linalgOps };

function what(layer: LayerConfig): string {
  return `layer '${layer.name}' (${layer.className})`;
}

/** The op, operands and settings of call `node` of an operation layer. Throws KerasLensError (no file) when unsupported. */
export function boundCall(layer: LayerConfig, node: number): { call: OpCall; impl: OpImpl } {
  const stored = layer.callArgs?.[node];
  if (!stored) throw new KerasLensError(null, `${what(layer)} has no stored arguments for its call ${node}`);
  let call: OpCall;
  try {
    call = TF_OP_LAYERS.includes(layer.className)
      ? bindTfOpLambda(layer, stored)
      : bindKeras3Op(layer, layer.className.slice(OP_CLASS_PREFIX.length), stored);
  } catch (err) {
    throw new KerasLensError(null, `${what(layer)}: ${(err as Error).message}`);
  }
  const impl = OPS[call.op];
  if (!impl) throw new KerasLensError(null, `${what(layer)}: Keras Lens does not run '${call.op}'`);
  return { call, impl };
}

/** Ops whose output feature j (last axis) is computed from feature j of their one tensor operand alone. */
const FEATURE_WISE = new Set([...Object.keys(elementwiseOps), 'identity']);

/**
 * For row tracing (model/rows.ts): how an op node's output features relate to its inputs. `follow`: the output's
 * features are those of the call's input k (an elementwise op of one tensor and constants); `concat`: joined on
 * the last axis from these inputs in order. Null: the op makes new features (or cannot be bound).
 */
export function opFeatureSources(layer: LayerConfig, node: number, outRank: number | null): { follow: number } | { concat: number[] } | null {
  let call: OpCall;
  try {
    call = boundCall(layer, node).call;
  } catch {
    return null;
  }
  const tensors = call.operands.flatMap((o) => ('tensor' in o ? [o.tensor] : []));
  if (FEATURE_WISE.has(call.op) && tensors.length === 1) return { follow: tensors[0] };
  if (call.op === 'concatenate' && tensors.length === call.operands.length) {
    const axis = Number(call.params.axis ?? 0);
    if (axis === -1 || (outRank !== null && axis === outRank - 1)) return { concat: tensors };
  }
  return null;
}

export const opKind: LayerKind = {
  classNames: [...KERAS3_OP_CLASSES.map((c) => OP_CLASS_PREFIX + c), ...TF_OP_LAYERS],
  ...noWeights,
  outputShapes(layer: LayerConfig, ctx: KindContext) {
    const { call, impl } = boundCall(layer, ctx.node ?? 0);
    const shapes: Shape[] = call.operands.map((o) => {
      if ('constant' in o) return o.constant.shape;
      const s = ctx.inputShapes[o.tensor];
      if (!s) throw new Error(`input ${o.tensor} has no known shape`);
      return s;
    });
    return [impl.shape(shapes, call.params)];
  },
  forward(args: ForwardArgs): ForwardResult {
    const { call, impl } = boundCall(args.layer, args.node ?? 0);
    const xs: Tensor[] = call.operands.map((o) => ('constant' in o ? o.constant : args.inputs[o.tensor]));
    let out: Tensor;
    try {
      // a file's settings (tile repeats, broadcasting, reshape) could ask for more memory than a machine has
      const size = impl.shape(xs.map((t) => t.shape), call.params).reduce<number>((a, d) => a * (d ?? 1), 1);
      if (size > MAX_OP_ELEMENTS) throw new Error(`its output would hold ${size.toExponential(1)} values, more than Keras Lens computes (${MAX_OP_ELEMENTS.toExponential(1)})`);
      out = impl.run(xs, call.params);
    } catch (err) {
      throw new KerasLensError(null, `${what(args.layer)}: ${(err as Error).message}`);
    }
    const x = call.operands[0];
    const mask = call.passesMask && x && 'tensor' in x ? (args.masks[x.tensor] ?? null) : null;
    return { outputs: [out], masks: [mask] };
  },
};
