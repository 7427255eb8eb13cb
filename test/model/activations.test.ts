// Activations beyond the keras-js set: version-dependent hard_sigmoid, gelu (erf and tanh forms), Keras 3 config
// objects, activation layers. Expected numbers are published constants or closed forms written here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { activationByName, activationFromConfig, activationLayerFunction, defaultRecurrentActivation, erf } from '../../src/model/activations';

function apply(a: { apply(d: Float64Array, s: number[]): void }, xs: number[], shape = [xs.length]): number[] {
  const d = Float64Array.from(xs);
  a.apply(d, shape);
  return Array.from(d);
}
function close(a: number[], b: number[], tol = 1e-12) {
  assert.equal(a.length, b.length);
  a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) <= tol, `[${i}] ${v} vs ${b[i]}`));
}

test('erf matches published values to 1e-15', () => {
  // Abramowitz & Stegun table values
  const table: [number, number][] = [
    [0.5, 0.5204998778130465],
    [1, 0.8427007929497149],
    [2, 0.9953222650189527],
    [3, 0.9999779095030014],
    [-1.5, -0.9661051464753108],
    [0.1, 0.1124629160182849],
  ];
  for (const [x, v] of table) assert.ok(Math.abs(erf(x) - v) < 1e-15, `erf(${x}) = ${erf(x)}`);
});

test('gelu: approximate=false is the erf form, approximate=true the tanh form', () => {
  const xs = [-3, -1, -0.5, 0, 0.5, 1, 2.5];
  close(apply(activationByName('gelu', '3.0.0'), xs), xs.map((x) => 0.5 * x * (1 + erf(x / Math.SQRT2))));
  close(
    apply(activationByName('gelu', '3.0.0', { approximate: true }), xs),
    xs.map((x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)))),
  );
  // the two forms really differ
  assert.ok(Math.abs(apply(activationByName('gelu', null), [1.5])[0] - apply(activationByName('gelu', null, { approximate: true }), [1.5])[0]) > 1e-5);
});

test('hard_sigmoid depends on the Keras version', () => {
  close(apply(activationByName('hard_sigmoid', '2.2.4'), [-3, -1, 0, 1, 2, 3]), [0, 0.3, 0.5, 0.7, 0.9, 1]);
  close(apply(activationByName('hard_sigmoid', '1.2.2'), [1]), [0.7]);
  close(apply(activationByName('hard_sigmoid', '2.2.4-tf'), [1]), [0.7]);
  close(apply(activationByName('hard_sigmoid', '3.1.0'), [-4, -1, 0, 1, 3, 4]), [0, 1 / 3, 0.5, 2 / 3, 1, 1]);
});

test('default recurrent activation: hard_sigmoid up to Keras 2.2.x, sigmoid from 2.3 and in Keras 3', () => {
  assert.equal(defaultRecurrentActivation('1.2.2'), 'hard_sigmoid');
  assert.equal(defaultRecurrentActivation('2.2.5'), 'hard_sigmoid');
  assert.equal(defaultRecurrentActivation('2.3.1'), 'sigmoid');
  assert.equal(defaultRecurrentActivation('3.3.3'), 'sigmoid');
});

test('relu with negative slope, max_value and threshold; relu6; leaky_relu; elu; selu; swish; mish; softplus', () => {
  close(apply(activationByName('relu', null, { alpha: 0.1, max_value: 2 }), [-2, 0.5, 3]), [-0.2, 0.5, 2]);
  close(apply(activationByName('relu', null, { threshold: 1 }), [0.5, 1, 1.5]), [0, 0, 1.5]); // Keras keeps x only where x > threshold
  close(apply(activationByName('relu', '3.0.0', { negative_slope: 0.5, threshold: 1 }), [0, 2]), [-0.5, 2]);
  close(apply(activationByName('relu6', null), [-1, 3, 7]), [0, 3, 6]);
  close(apply(activationByName('leaky_relu', '3.0.0'), [-1]), [-0.2]);
  close(apply(activationByName('elu', null, { alpha: 2 }), [-1, 1]), [2 * (Math.exp(-1) - 1), 1]);
  close(apply(activationByName('selu', null), [-1, 1]), [1.0507009873554805 * 1.6732632423543772 * (Math.exp(-1) - 1), 1.0507009873554805]);
  close(apply(activationByName('swish', null), [1]), [1 / (1 + Math.exp(-1))]);
  close(apply(activationByName('silu', null), [-2]), [-2 / (1 + Math.exp(2))]);
  close(apply(activationByName('mish', null), [1]), [Math.tanh(Math.log(1 + Math.E))]);
  close(apply(activationByName('softplus', null), [0, 40, -40]), [Math.LN2, 40, Math.exp(-40)]);
  close(apply(activationByName('exponential', null), [1]), [Math.E]);
  close(apply(activationByName('soft_shrink', '3.5.0'), [-1, 0.2, 2]), [-0.5, 0, 1.5]);
  close(apply(activationByName('hard_shrink', '3.5.0'), [-1, 0.2, 2]), [-1, 0, 2]);
  close(apply(activationByName('sparse_plus', '3.5.0'), [-2, 0, 3]), [0, 0.25, 3]);
  close(apply(activationByName('squareplus', '3.5.0'), [0]), [1]);
});

test('softmax and log_softmax along a chosen axis', () => {
  const x = [1, 2, 3, 4, 5, 6]; // shape (1, 2, 3)
  const e = (v: number[]) => v.map(Math.exp);
  const norm = (v: number[]) => v.map((a) => a / v.reduce((p, q) => p + q, 0));
  close(apply(activationByName('softmax', null), x, [1, 2, 3]), [...norm(e([1, 2, 3])), ...norm(e([4, 5, 6]))]);
  const ax1 = apply(activationByName('softmax', null, { axis: 1 }), x, [1, 2, 3]);
  const pair = norm(e([1, 4]));
  close([ax1[0], ax1[3]], pair);
  const ls = apply(activationByName('log_softmax', null), [1, 2, 3]);
  close(ls, norm(e([1, 2, 3])).map(Math.log));
});

test('activation config forms: string, Keras 3 function object, activation layer object, null', () => {
  close(apply(activationFromConfig('tanh', null), [1]), [Math.tanh(1)]);
  close(apply(activationFromConfig({ module: 'keras.activations', class_name: 'function', config: 'relu', registered_name: 'function' }, '3.0.0'), [-1, 2]), [0, 2]);
  close(apply(activationFromConfig({ class_name: 'LeakyReLU', config: { negative_slope: 0.5 } }, '3.0.0'), [-2]), [-1]);
  close(apply(activationFromConfig(null, null, 'tanh'), [1]), [Math.tanh(1)]);
  close(apply(activationFromConfig(undefined, null), [5]), [5]);
  assert.throws(() => activationFromConfig('no_such_activation', null), /unknown activation 'no_such_activation'/);
});

test('activation layers: LeakyReLU (Keras 2 alpha default 0.3), ELU, ReLU, ThresholdedReLU, Softmax', () => {
  close(apply(activationLayerFunction('LeakyReLU', {}, '2.2.4')!, [-1]), [-0.3]);
  close(apply(activationLayerFunction('LeakyReLU', { alpha: 0.1 }, '2.2.4')!, [-1]), [-0.1]);
  close(apply(activationLayerFunction('ELU', { alpha: 0.5 }, null)!, [-1]), [0.5 * (Math.exp(-1) - 1)]);
  close(apply(activationLayerFunction('ReLU', { max_value: 1, negative_slope: 0.1 }, null)!, [-1, 0.5, 3]), [-0.1, 0.5, 1]);
  close(apply(activationLayerFunction('ThresholdedReLU', { theta: 1 }, null)!, [0.5, 2]), [0, 2]);
  close(apply(activationLayerFunction('Softmax', { axis: -1 }, null)!, [0, 0]), [0.5, 0.5]);
  assert.equal(activationLayerFunction('Dense', {}, null), null);
});
