/**
 * The export's activation expressions compute what the engine's activations compute (src/model/activations.ts, held
 * to Keras by the conformance tests), on a grid of points, for every spelling and version rule the export reads:
 * names, Keras 3 function objects, activation-layer configs with parameters, hard_sigmoid by keras_version.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { activationFromConfig, activationLayerFunction } from '../../src/model/activations';
import { evaluate, fromActivationLayer, fromConfig } from '../../src/export/activations';

const NAMES = ['linear', 'tanh', 'sigmoid', 'hard_sigmoid', 'relu', 'relu6', 'elu', 'selu', 'softplus', 'softsign', 'swish', 'silu', 'gelu', 'exponential', 'mish', 'log_sigmoid', 'hard_tanh', 'hard_silu', 'tanh_shrink', 'leaky_relu'];
const GRID = Array.from({ length: 161 }, (_, i) => -8 + i * 0.1).concat([-1e-9, 0, 1e-9, 2.5, -2.5, 3, -3]);

function close(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b));
}

for (const version of ['1.2.2', '2.1.2', '2.2.4-tf', '3.15.1']) {
  test(`export activations (Keras ${version}): every named activation equals the engine's`, () => {
    const specs: unknown[] = [...NAMES, ...NAMES.map((n) => ({ module: 'keras.activations', class_name: 'function', config: n, registered_name: null }))];
    specs.push({ class_name: 'function', config: { name: 'gelu', approximate: true } });
    for (const spec of specs) {
      const ours = fromConfig(spec, version);
      const engine = activationFromConfig(spec, version);
      for (const x of GRID) assert.ok(close(evaluate(ours.expr!, x), engine.elementwise!(x)), `${JSON.stringify(spec)} at ${x}: ${evaluate(ours.expr!, x)} vs ${engine.elementwise!(x)}`);
    }
  });
}

test('export activations: activation layers with their parameters equal the engine', () => {
  const layers: [string, Record<string, unknown>][] = [
    ['LeakyReLU', { alpha: 0.1 }],
    ['LeakyReLU', { negative_slope: 0.25 }],
    ['ELU', { alpha: 0.7 }],
    ['ReLU', { max_value: 2.5, negative_slope: 0.1, threshold: 0.5 }],
    ['ReLU', { max_value: 6 }],
    ['ThresholdedReLU', { theta: 0.3 }],
    ['Activation', { activation: 'selu' }],
  ];
  for (const [cls, cfg] of layers) {
    const ours = fromActivationLayer(cls, cfg, '2.2.4');
    const engine = activationLayerFunction(cls, cfg, '2.2.4')!;
    for (const x of GRID) assert.ok(close(evaluate(ours.expr!, x), engine.elementwise!(x)), `${cls} ${JSON.stringify(cfg)} at ${x}`);
  }
});

test('export activations: hard_sigmoid follows keras_version and says so; softmax is along the last axis only', () => {
  assert.equal(fromConfig('hard_sigmoid', '2.0.8').formula, 'clip(0.2x + 0.5, 0, 1)');
  assert.equal(fromConfig('hard_sigmoid', '3.1.0').formula, 'clip(x/6 + 0.5, 0, 1)');
  assert.equal(fromConfig('softmax', '2.2.4').softmax, 'softmax');
  assert.throws(() => fromConfig({ class_name: 'Softmax', config: { axis: 1 } }, '2.2.4'), /only the last axis/);
});
