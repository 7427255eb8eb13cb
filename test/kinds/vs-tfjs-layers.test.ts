// Kinds without Keras-produced reference data (Conv1D, Conv2D, ConvLSTM2D, BatchNormalization, LayerNormalization,
// PReLU, Dense on 3D input) checked against TensorFlow.js layers, an independent implementation of the same Keras
// layers (float32, so within 2e-5).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { kindFor } from '../../src/model/kinds/index';
import type { LayerConfig, RunContext, Tensor, WeightRef } from '../../src/model/types';
import { seededSigned } from '../fixtures/models';


/**
 * Build the tfjs layer on an input of `shape` (batch included), give it random weights, run both implementations.
 * `positive` lists weight indices that must be > 0 (variances).
 */
function compare(className: string, config: Record<string, unknown>, tfLayer: tf.layers.Layer, shape: number[], seed: number, positive: number[] = []): number {
  const r = seededSigned(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const xData = Float32Array.from({ length: n }, () => r() * 2);
  const xt = tf.tensor(xData, shape);
  tfLayer.apply(xt); // builds
  const weights = tfLayer.getWeights().map((w, i) => {
    const size = w.shape.reduce((a, b) => a * b, 1);
    const data = Float32Array.from({ length: size }, () => (positive.includes(i) ? 0.5 + Math.abs(r()) : r()));
    return { shape: w.shape as number[], data };
  });
  tfLayer.setWeights(weights.map((w) => tf.tensor(w.data, w.shape)));
  const want = (tfLayer.apply(xt) as tf.Tensor).dataSync();
  const wantShape = (tfLayer.apply(xt) as tf.Tensor).shape;

  return compareWith(className, config, shape, xData, weights, want, wantShape as number[]);
}

function compareWith(
  className: string,
  config: Record<string, unknown>,
  shape: number[],
  xData: Float32Array,
  weights: { shape: number[]; data: Float32Array }[],
  want: ArrayLike<number>,
  wantShape: number[],
): number {
  const layer: LayerConfig = { name: 'l', className, config, inbound: [] };
  const kind = kindFor(className)!;
  const kctx = { kerasVersion: '2.2.4-tf', inputShapes: [[null, ...shape.slice(1)]] };
  const roles = kind.weightRoles(layer, kctx);
  assert.deepEqual(roles.map((x) => x.shape), weights.map((w) => w.shape), 'weightRoles shapes = tfjs weight shapes');
  const stored = weights.map((w, i) => ({
    ref: { layer: 'l', name: `layers/l/vars/${i}`, path: String(i), shape: w.shape, dtype: 'float32', read: async () => w.data } as WeightRef,
    data: w.data,
  }));
  const bound = kind.bindWeights(layer, stored, kctx);
  const ctx: RunContext = { kerasVersion: '2.2.4-tf', states: new Map() };
  const x: Tensor = { shape, data: Float64Array.from(xData) };
  const got = kind.forward({ layer, inputs: [x], masks: [null], weights: bound, ctx }).outputs[0];
  assert.deepEqual(got.shape, wantShape, 'output shape');
  assert.deepEqual(kind.outputShapes(layer, kctx)[0].slice(1), wantShape.slice(1), 'outputShapes');
  let err = 0;
  for (let i = 0; i < want.length; i++) err = Math.max(err, Math.abs(got.data[i] - want[i]));
  assert.ok(err < 2e-5, `${className} ${JSON.stringify(config)}: max abs error ${err}`);
  return err;
}

const TFJS_FORMAT = { channels_last: 'channelsLast', channels_first: 'channelsFirst' } as const;

for (const padding of ['valid', 'same'] as const) {
  for (const [strides, dilation] of [[1, 1], [2, 1], [1, 2]]) {
    test(`Conv1D padding=${padding} strides=${strides} dilation=${dilation}`, () => {
      const cfg = { filters: 3, kernel_size: [3], strides: [strides], dilation_rate: [dilation], padding, activation: 'relu', use_bias: true };
      compare('Conv1D', cfg, tf.layers.conv1d({ filters: 3, kernelSize: 3, strides, dilationRate: dilation, padding, activation: 'relu' }), [2, 9, 4], 100 + strides * 10 + dilation);
    });
  }
}

for (const dataFormat of ['channels_last', 'channels_first'] as const) {
  for (const padding of ['valid', 'same'] as const) {
    test(`Conv2D ${dataFormat} padding=${padding} strides=2`, () => {
      const cfg = { filters: 4, kernel_size: [3, 2], strides: [2, 1], padding, data_format: dataFormat, activation: 'tanh' };
      const shape = dataFormat === 'channels_last' ? [2, 7, 6, 3] : [2, 3, 7, 6];
      compare('Conv2D', cfg, tf.layers.conv2d({ filters: 4, kernelSize: [3, 2], strides: [2, 1], padding, dataFormat: TFJS_FORMAT[dataFormat], activation: 'tanh' }), shape, 7);
    });
  }
}

for (const dataFormat of ['channels_last', 'channels_first'] as const) {
  for (const padding of ['same', 'valid'] as const) {
    for (const returnSequences of [true, false]) {
      test(`ConvLSTM2D ${dataFormat} padding=${padding} return_sequences=${returnSequences}`, () => {
        const cfg = { filters: 3, kernel_size: [3, 3], padding, data_format: dataFormat, return_sequences: returnSequences, activation: 'tanh', recurrent_activation: 'sigmoid' };
        const shape = dataFormat === 'channels_last' ? [2, 4, 5, 6, 2] : [2, 4, 2, 5, 6];
        const layer = tf.layers.convLstm2d({ filters: 3, kernelSize: 3, padding, dataFormat: TFJS_FORMAT[dataFormat], returnSequences, activation: 'tanh', recurrentActivation: 'sigmoid' });
        compare('ConvLSTM2D', cfg, layer, shape, 31);
      });
    }
  }
}

test('ConvLSTM2D with strides 2 (input conv strided, recurrent conv same/stride 1)', () => {
  const cfg = { filters: 2, kernel_size: [3, 3], strides: [2, 2], padding: 'same', return_sequences: true, recurrent_activation: 'hard_sigmoid' };
  compare('ConvLSTM2D', cfg, tf.layers.convLstm2d({ filters: 2, kernelSize: 3, strides: 2, padding: 'same', returnSequences: true, recurrentActivation: 'hardSigmoid' }), [1, 3, 6, 6, 2], 37);
});

for (const [strides, dilation] of [[1, 1], [2, 1], [1, 3]]) {
  test(`Conv1D padding=causal strides=${strides} dilation=${dilation} = valid conv on the input left-padded by (k−1)·dilation`, () => {
    // tfjs has no causal conv1d: build the reference from its valid conv on a zero-left-padded input
    const r = seededSigned(200 + strides + dilation);
    const [B, T, C, F, K] = [2, 8, 3, 2, 3];
    const xData = Float32Array.from({ length: B * T * C }, () => r());
    const pad = (K - 1) * dilation;
    const padded = new Float32Array(B * (T + pad) * C);
    for (let b = 0; b < B; b++) padded.set(xData.subarray(b * T * C, (b + 1) * T * C), (b * (T + pad) + pad) * C);
    const ref = tf.layers.conv1d({ filters: F, kernelSize: K, strides, dilationRate: dilation, padding: 'valid' });
    ref.apply(tf.tensor(padded, [B, T + pad, C]));
    const weights = [
      { shape: [K, C, F], data: Float32Array.from({ length: K * C * F }, () => r()) },
      { shape: [F], data: Float32Array.from({ length: F }, () => r()) },
    ];
    ref.setWeights(weights.map((w) => tf.tensor(w.data, w.shape)));
    const y = ref.apply(tf.tensor(padded, [B, T + pad, C])) as tf.Tensor;
    const cfg = { filters: F, kernel_size: [K], strides: [strides], dilation_rate: [dilation], padding: 'causal' };
    compareWith('Conv1D', cfg, [B, T, C], xData, weights, y.dataSync(), y.shape);
  });
}

test('BatchNormalization axis=1 on (2,3,4) vs a hand-written reference (tfjs broadcasts gamma wrongly off the last axis)', () => {
  const r = seededSigned(45);
  const shape = [2, 3, 4];
  const xData = Float32Array.from({ length: 24 }, () => r() * 2);
  const w = [0, 1, 2, 3].map((i) => ({ shape: [3], data: Float32Array.from({ length: 3 }, () => (i === 3 ? 0.5 + Math.abs(r()) : r())) }));
  const [gamma, beta, mean, variance] = w.map((x) => x.data);
  const want = Array.from(xData, (v, k) => {
    const c = Math.floor(k / 4) % 3;
    return ((v - mean[c]) / Math.sqrt(variance[c] + 0.01)) * gamma[c] + beta[c];
  });
  compareWith('BatchNormalization', { axis: 1, epsilon: 0.01 }, shape, xData, w, want, shape);
});

for (const [axis, shape] of [[-1, [2, 3, 4]], [3, [2, 3, 4, 5]]] as const) {
  test(`BatchNormalization axis=${axis}`, () => {
    compare('BatchNormalization', { axis, epsilon: 0.01 }, tf.layers.batchNormalization({ axis, epsilon: 0.01 }), [...shape], 41, [3]);
  });
}

test('BatchNormalization center=false scale=false', () => {
  compare('BatchNormalization', { axis: -1, center: false, scale: false, epsilon: 0.001 }, tf.layers.batchNormalization({ axis: -1, center: false, scale: false }), [3, 5], 43, [1]);
});

test('LayerNormalization axis=-1', () => {
  compare('LayerNormalization', { axis: [-1], epsilon: 0.001 }, tf.layers.layerNormalization({ axis: -1, epsilon: 0.001 }), [2, 3, 6], 51);
});

test('PReLU shared_axes=[1]', () => {
  compare('PReLU', { shared_axes: [1] }, tf.layers.prelu({ sharedAxes: [1] }), [2, 4, 3], 61);
});

test('Dense on a 3D input applies on the last axis', () => {
  compare('Dense', { units: 5, activation: 'softmax' }, tf.layers.dense({ units: 5, activation: 'softmax' }), [2, 3, 4], 71);
});

test('TimeDistributed(Conv1D) runs the wrapped layer per timestep', () => {
  const inner = { class_name: 'Conv1D', config: { name: 'c', filters: 2, kernel_size: 2, padding: 'same' } };
  compare('TimeDistributed', { layer: inner }, tf.layers.timeDistributed({ layer: tf.layers.conv1d({ filters: 2, kernelSize: 2, padding: 'same' }) }), [2, 3, 5, 2], 81);
});
