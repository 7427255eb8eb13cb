/**
 * tf.keras 2.x op layers -> OpCall. `TFOpLambda` wraps a call of a public TensorFlow function (its config's
 * `function`, e.g. 'math.reduce_mean', 'nn.softmax', 'concat', '__operators__.add'); `SlicingOpLambda` wraps
 * '__operators__.getitem' (x[:, -1, :]). tf.keras stores the call (keras/engine/node.py Node.serialize): the
 * function's first argument as the node's tensor entries, every other argument — positional ones renamed after
 * the function's parameters — in the kwargs dict, tensors there as [layer, node, tensor]; slices as
 * {start, stop, step}. The normaliser hands us args = [first argument] and those kwargs.
 */
import type { LayerConfig } from '../types';
import { checkCastDtype } from './elementwise';
import { indexKey, operandList, operandOf, setting } from './arguments';
import type { OpCall, Params } from './op';

type Call = { args: unknown[]; kwargs: Record<string, unknown> };
type Binder = (call: Call) => OpCall;

const first = (call: Call, what: string) => operandOf(call.args[0], `${what}: first argument`);
const unary = (op: string): Binder => (call) => ({ op, operands: [first(call, op)], params: {} });
/** f(x, <second>): tf's name of the second parameter. */
const binary = (op: string, second = 'y'): Binder => (call) => ({
  op,
  operands: [first(call, op), operandOf(call.kwargs[second], `${op} ${second}`)],
  params: {},
});
/** f(x, **settings) where the file's keyword names map to ours. */
const withSettings = (op: string, names: Record<string, string>, defaults: Params = {}): Binder => (call) => {
  const params: Params = { ...defaults };
  for (const [tfName, ours] of Object.entries(names)) if (call.kwargs[tfName] !== undefined) params[ours] = setting(call.kwargs[tfName], `${op} ${tfName}`);
  return { op, operands: [first(call, op)], params };
};
const reduction = (op: string) => withSettings(op, { axis: 'axis', keepdims: 'keepdims' });
/** tf.nn.<activation>(features, ...): our activation by name; settings {ours: [tf keyword, TensorFlow's default]}. */
const tfActivation = (name: string, settings: Record<string, [string, unknown]> = {}): Binder => (call) => {
  const params: Params = { name };
  for (const [ours, [tfName, d]] of Object.entries(settings)) params[ours] = setting(call.kwargs[tfName] ?? d, `${name} ${tfName}`);
  return { op: 'activation', operands: [first(call, name)], params };
};

const BINDERS: Record<string, Binder> = {
  '__operators__.add': binary('add'),
  'math.add': binary('add'),
  'math.subtract': binary('subtract'),
  'math.multiply': binary('multiply'),
  'math.truediv': binary('divide'),
  'math.divide': binary('divide'),
  'math.pow': binary('power'),
  'math.floordiv': binary('floor_divide'),
  'math.floormod': binary('mod'),
  'math.maximum': binary('maximum'),
  'math.minimum': binary('minimum'),
  'math.equal': binary('equal'),
  'math.not_equal': binary('not_equal'),
  '__operators__.eq': binary('equal', 'other'),
  '__operators__.ne': binary('not_equal', 'other'),
  'math.greater': binary('greater'),
  'math.greater_equal': binary('greater_equal'),
  'math.less': binary('less'),
  'math.less_equal': binary('less_equal'),
  'math.logical_and': binary('logical_and'),
  'math.logical_or': binary('logical_or'),
  'math.logical_not': unary('logical_not'),
  'math.exp': unary('exp'),
  'math.log': unary('log'),
  'math.sqrt': unary('sqrt'),
  'math.abs': unary('abs'),
  'math.square': unary('square'),
  'math.negative': unary('negative'),
  'math.sign': unary('sign'),
  'math.floor': unary('floor'),
  'math.ceil': unary('ceil'),
  'math.reciprocal': unary('reciprocal'),
  'math.log1p': unary('log1p'),
  'math.expm1': unary('expm1'),
  'math.sin': unary('sin'),
  'math.cos': unary('cos'),
  'math.rsqrt': unary('rsqrt'),
  'math.sigmoid': unary('sigmoid'),
  'nn.sigmoid': unary('sigmoid'),
  'math.tanh': unary('tanh'),
  'nn.relu': unary('relu'),
  'math.erf': unary('erf'),
  'stop_gradient': unary('identity'),
  'identity': unary('identity'),
  'zeros_like': unary('zeros_like'),
  'ones_like': unary('ones_like'),
  'nn.relu6': tfActivation('relu6'),
  'nn.selu': tfActivation('selu'),
  'nn.elu': tfActivation('elu'),
  'math.softplus': tfActivation('softplus'),
  'nn.softplus': tfActivation('softplus'),
  'math.softsign': tfActivation('softsign'),
  'nn.softsign': tfActivation('softsign'),
  'nn.gelu': tfActivation('gelu', { approximate: ['approximate', false] }),
  'nn.leaky_relu': tfActivation('leaky_relu', { negative_slope: ['alpha', 0.2] }),
  'nn.silu': (call) => {
    if (call.kwargs.beta !== undefined && call.kwargs.beta !== 1 && call.kwargs.beta !== 1.0) throw new Error(`silu with beta ${JSON.stringify(call.kwargs.beta)} is not supported`);
    return tfActivation('silu')(call);
  },
  'math.reduce_variance': reduction('var'),
  'math.reduce_std': reduction('std'),
  'math.reduce_logsumexp': reduction('logsumexp'),
  // tf.math.argmax / argmin: axis None means axis 0 (TensorFlow's rule, unlike numpy)
  'math.argmax': withSettings('argmax', { axis: 'axis' }, { axis: 0 }),
  'math.argmin': withSettings('argmin', { axis: 'axis' }, { axis: 0 }),
  'math.cumsum': (call) => {
    if (call.kwargs.exclusive === true || call.kwargs.reverse === true) throw new Error('cumsum with exclusive or reverse is not supported');
    return withSettings('cumsum', { axis: 'axis' }, { axis: 0 })(call);
  },
  'reverse': withSettings('flip', { axis: 'axis' }),
  'tile': withSettings('tile', { multiples: 'repeats' }),
  'repeat': withSettings('repeat', { repeats: 'repeats', axis: 'axis' }),
  'math.reduce_sum': reduction('sum'),
  'math.reduce_mean': reduction('mean'),
  'math.reduce_max': reduction('max'),
  'math.reduce_min': reduction('min'),
  'math.reduce_prod': reduction('prod'),
  'math.reduce_any': reduction('any'),
  'math.reduce_all': reduction('all'),
  'nn.softmax': withSettings('softmax', { axis: 'axis' }),
  'nn.log_softmax': withSettings('log_softmax', { axis: 'axis' }),
  'clip_by_value': (call) => ({
    op: 'clip',
    operands: [first(call, 'clip_by_value'), operandOf(call.kwargs.clip_value_min, 'clip_by_value clip_value_min'), operandOf(call.kwargs.clip_value_max, 'clip_by_value clip_value_max')],
    params: {},
  }),
  'where': (call) => ({
    op: 'where',
    operands: [first(call, 'where'), operandOf(call.kwargs.x, 'where x'), operandOf(call.kwargs.y, 'where y')],
    params: {},
  }),
  // tf.cast / tf.convert_to_tensor hand back the same tensor, `_keras_mask` and all, when no conversion is needed
  // (OpCall.passesMask). tf.keras does not store the input's dtype: it is taken to be float32 (Keras's floatx), as
  // every tensor a mask travels with is (Masking, Embedding and recurrent outputs).
  'cast': (call) => {
    checkCastDtype(call.kwargs.dtype);
    return { op: 'cast', operands: [first(call, 'cast')], params: { dtype: call.kwargs.dtype }, passesMask: call.kwargs.dtype === 'float32' };
  },
  'convert_to_tensor': (call) => {
    const dtype = call.kwargs.dtype ?? null;
    checkCastDtype(dtype);
    return { op: 'cast', operands: [first(call, 'convert_to_tensor')], params: { dtype }, passesMask: dtype === null || dtype === 'float32' };
  },
  'expand_dims': withSettings('expand_dims', { axis: 'axis' }),
  'squeeze': withSettings('squeeze', { axis: 'axis' }),
  'reshape': withSettings('reshape', { shape: 'newshape' }),
  'transpose': withSettings('transpose', { perm: 'axes' }),
  'concat': (call) => ({ op: 'concatenate', operands: operandList(call.args[0], 'concat values'), params: { axis: setting(call.kwargs.axis, 'concat axis') } }),
  'stack': (call) => ({ op: 'stack', operands: operandList(call.args[0], 'stack values'), params: { axis: setting(call.kwargs.axis ?? 0, 'stack axis') } }),
  '__operators__.getitem': (call) => ({ op: 'get_item', operands: [first(call, 'getitem')], params: { key: indexKey(call.kwargs.slice_spec) } }),
  // TensorFlow 1 spellings still used by tf.keras 2.x's canonical names (tf.squeeze is stored as compat.v1.squeeze)
  'compat.v1.squeeze': withSettings('squeeze', { axis: 'axis', squeeze_dims: 'axis' }),
  'compat.v1.transpose': withSettings('transpose', { perm: 'axes' }),
  'compat.v1.expand_dims': withSettings('expand_dims', { axis: 'axis', dim: 'axis' }),
  'compat.v1.nn.softmax': withSettings('softmax', { axis: 'axis', dim: 'axis' }),
  'compat.v1.where_v2': (call) => ({
    op: 'where',
    operands: [first(call, 'where'), operandOf(call.kwargs.x, 'where x'), operandOf(call.kwargs.y, 'where y')],
    params: {},
  }),
  ...Object.fromEntries(
    ['sum', 'mean', 'max', 'min', 'prod', 'any', 'all'].map((r) => [
      `compat.v1.reduce_${r}`,
      withSettings(r, { axis: 'axis', reduction_indices: 'axis', keepdims: 'keepdims', keep_dims: 'keepdims' }),
    ]),
  ),
  'linalg.matmul': (call) => ({
    op: 'matmul',
    operands: [first(call, 'matmul'), operandOf(call.kwargs.b, 'matmul b')],
    params: { transpose_a: call.kwargs.transpose_a === true || call.kwargs.adjoint_a === true, transpose_b: call.kwargs.transpose_b === true || call.kwargs.adjoint_b === true },
  }),
};

/** The TensorFlow functions Keras Lens runs inside TFOpLambda / SlicingOpLambda. */
export const TF_OP_FUNCTIONS = Object.keys(BINDERS);

export function bindTfOpLambda(layer: LayerConfig, call: Call): OpCall {
  const fn = layer.config.function;
  const binder = typeof fn === 'string' ? BINDERS[fn] : undefined;
  if (!binder) throw new Error(`Keras Lens does not run the TensorFlow function tf.${String(fn)}`);
  return binder(call);
}
