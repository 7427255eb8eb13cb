/**
 * Keras 3 operation nodes (module `keras.src.ops.*`) -> OpCall. The class's constructor arguments are its config
 * (Operation records them: `Any(axis=-1, keepdims=False)` -> config {axis: -1, keepdims: false}); the call's
 * tensors and constants are the node's args/kwargs, named as in the class's `call` (keras/src/ops/numpy.py,
 * nn.py, core.py, math.py): `NotEqual.call(x1, x2)` with args [x, 0.0], `Concatenate.call(xs)` with args [[a, b]],
 * `GetItem.call(x, key)`, `Einsum.call(*operands)` with the subscripts in the config.
 */
import type { LayerConfig } from '../types';
import { checkCastDtype } from './elementwise';
import { arg, indexKey, operandList, operandOf, setting, tensorDtype } from './arguments';
import type { OpCall, Params } from './op';

type Call = { args: unknown[]; kwargs: Record<string, unknown> };
type Binder = (c: Record<string, unknown>, call: Call) => OpCall;

const unary = (op: string): Binder => (_c, call) => ({ op, operands: [operandOf(arg(call, 0, 'x'), `${op} x`)], params: {} });
const binary = (op: string): Binder => (_c, call) => ({
  op,
  operands: [operandOf(arg(call, 0, 'x1'), `${op} x1`), operandOf(arg(call, 1, 'x2'), `${op} x2`)],
  params: {},
});
const withConfig = (op: string, keys: string[]): Binder => (c, call) => {
  const params: Params = {};
  for (const k of keys) params[k] = setting(c[k], `${op} ${k}`);
  return { op, operands: [operandOf(arg(call, 0, 'x'), `${op} x`)], params };
};
const reduction = (op: string) => withConfig(op, ['axis', 'keepdims', 'initial']);
/** A Keras 3 activation op: the activation's name and its settings from the config (with Keras 3's defaults). */
const activation = (name: string, defaults: Record<string, unknown> = {}): Binder => (c, call) => {
  const params: Params = { name };
  for (const [k, d] of Object.entries(defaults)) params[k] = setting(c[k] ?? d, `${name} ${k}`);
  return { op: 'activation', operands: [operandOf(arg(call, 0, 'x'), `${name} x`)], params };
};

const BINDERS: Record<string, Binder> = {
  // elementwise, two operands
  Add: binary('add'),
  Subtract: binary('subtract'),
  Multiply: binary('multiply'),
  Divide: binary('divide'),
  TrueDivide: binary('divide'),
  Power: binary('power'),
  FloorDivide: binary('floor_divide'),
  Mod: binary('mod'),
  Maximum: binary('maximum'),
  Minimum: binary('minimum'),
  Equal: binary('equal'),
  NotEqual: binary('not_equal'),
  Greater: binary('greater'),
  GreaterEqual: binary('greater_equal'),
  Less: binary('less'),
  LessEqual: binary('less_equal'),
  LogicalAnd: binary('logical_and'),
  LogicalOr: binary('logical_or'),
  // elementwise, one operand
  Exp: unary('exp'),
  Log: unary('log'),
  Sqrt: unary('sqrt'),
  Absolute: unary('abs'),
  Abs: unary('abs'),
  Square: unary('square'),
  Negative: unary('negative'),
  Sign: unary('sign'),
  Floor: unary('floor'),
  Ceil: unary('ceil'),
  Reciprocal: unary('reciprocal'),
  Log1p: unary('log1p'),
  Expm1: unary('expm1'),
  Sin: unary('sin'),
  Cos: unary('cos'),
  Rsqrt: unary('rsqrt'),
  Sigmoid: unary('sigmoid'),
  Tanh: unary('tanh'),
  Relu: unary('relu'),
  LogicalNot: unary('logical_not'),
  Erf: unary('erf'),
  StopGradient: unary('identity'),
  ZerosLike: unary('zeros_like'),
  OnesLike: unary('ones_like'),
  Silu: activation('silu'),
  Gelu: activation('gelu', { approximate: true }),
  LeakyRelu: activation('leaky_relu', { negative_slope: 0.2 }),
  Elu: activation('elu', { alpha: 1.0 }),
  Selu: activation('selu'),
  Softplus: activation('softplus'),
  Softsign: activation('softsign'),
  HardSigmoid: activation('hard_sigmoid'),
  HardSilu: activation('hard_silu'),
  LogSigmoid: activation('log_sigmoid'),
  Relu6: activation('relu6'),
  Where: (_c, call) => ({
    op: 'where',
    operands: [operandOf(arg(call, 0, 'condition'), 'where condition'), operandOf(arg(call, 1, 'x1'), 'where x1'), operandOf(arg(call, 2, 'x2'), 'where x2')],
    params: {},
  }),
  Clip: (c, call) => ({
    op: 'clip',
    operands: [operandOf(arg(call, 0, 'x'), 'clip x'), operandOf(setting(c.x_min, 'clip x_min'), 'clip x_min'), operandOf(setting(c.x_max, 'clip x_max'), 'clip x_max')],
    params: {},
  }),
  // TensorFlow returns the same tensor (mask and all) when no conversion is needed: see OpCall.passesMask
  Cast: (c, call) => {
    checkCastDtype(c.dtype);
    const x = arg(call, 0, 'x');
    return { op: 'cast', operands: [operandOf(x, 'cast x')], params: { dtype: c.dtype }, passesMask: tensorDtype(x) === c.dtype };
  },
  ConvertToTensor: (c, call) => {
    checkCastDtype(c.dtype);
    const x = arg(call, 0, 'x');
    const same = c.dtype === null || c.dtype === undefined || tensorDtype(x) === c.dtype;
    return { op: 'cast', operands: [operandOf(x, 'convert_to_tensor x')], params: { dtype: c.dtype ?? null }, passesMask: same };
  },
  // reductions
  Sum: reduction('sum'),
  Mean: reduction('mean'),
  Max: reduction('max'),
  Amax: reduction('max'),
  Min: reduction('min'),
  Amin: reduction('min'),
  Prod: reduction('prod'),
  Any: reduction('any'),
  All: reduction('all'),
  Var: withConfig('var', ['axis', 'keepdims']),
  Std: withConfig('std', ['axis', 'keepdims']),
  Logsumexp: withConfig('logsumexp', ['axis', 'keepdims']),
  Argmax: withConfig('argmax', ['axis', 'keepdims']),
  Argmin: withConfig('argmin', ['axis', 'keepdims']),
  Cumsum: withConfig('cumsum', ['axis']),
  Normalize: withConfig('normalize', ['axis', 'order', 'epsilon']),
  Softmax: withConfig('softmax', ['axis']),
  LogSoftmax: withConfig('log_softmax', ['axis']),
  // layout
  ExpandDims: withConfig('expand_dims', ['axis']),
  Squeeze: withConfig('squeeze', ['axis']),
  Reshape: withConfig('reshape', ['newshape']),
  Transpose: withConfig('transpose', ['axes']),
  Swapaxes: withConfig('swapaxes', ['axis1', 'axis2']),
  Moveaxis: withConfig('moveaxis', ['source', 'destination']),
  Flip: withConfig('flip', ['axis']),
  Repeat: withConfig('repeat', ['repeats', 'axis']),
  Tile: withConfig('tile', ['repeats']),
  Concatenate: (c, call) => ({ op: 'concatenate', operands: operandList(arg(call, 0, 'xs'), 'concatenate xs'), params: { axis: c.axis ?? 0 } }),
  Stack: (c, call) => ({ op: 'stack', operands: operandList(arg(call, 0, 'x'), 'stack x'), params: { axis: c.axis ?? 0 } }),
  GetItem: (_c, call) => ({ op: 'get_item', operands: [operandOf(arg(call, 0, 'x'), 'get_item x')], params: { key: indexKey(arg(call, 1, 'key')) } }),
  // linear algebra
  Matmul: binary('matmul'),
  Einsum: (c, call) => ({ op: 'einsum', operands: call.args.map((a, i) => operandOf(a, `einsum operand ${i}`)), params: { subscripts: c.subscripts } }),
};

/** The Keras 3 operation classes Keras Lens runs. */
export const KERAS3_OP_CLASSES = Object.keys(BINDERS);

/** Binds call `call` of a Keras 3 operation node whose class (without the 'ops.' prefix) is `cls`. */
export function bindKeras3Op(layer: LayerConfig, cls: string, call: Call): OpCall {
  const binder = BINDERS[cls];
  if (!binder) throw new Error(`Keras Lens does not run the Keras operation ${cls}`);
  return binder(layer.config, call);
}
