/**
 * Every Keras activation, by name and config, as Keras computes it at inference (float64 here).
 *
 * An activation config is what a layer's `activation` / `recurrent_activation` holds: a name ('relu'), a Keras 3
 * object ({module, class_name: 'function', config: 'relu', registered_name}) or an activation *layer* object
 * ({class_name: 'LeakyReLU', config: {...}}). Version-dependent: hard_sigmoid (Keras 1/2/tf.keras:
 * clip(0.2x + 0.5, 0, 1); Keras 3: clip(x/6 + 0.5, 0, 1)).
 */
import { KerasLensError } from './types';

export type Elementwise = (x: number) => number;

export interface Activation {
  /** Keras name, e.g. 'tanh', 'hard_sigmoid', 'softmax'. */
  name: string;
  /** The per-element function, or null for activations that look along an axis (softmax, log_softmax). */
  elementwise: Elementwise | null;
  /** Apply in place to a row-major tensor of the given shape (batch axis included). */
  apply(data: Float64Array, shape: number[]): void;
}

export function isKeras3(kerasVersion: string | null): boolean {
  return !!kerasVersion && kerasVersion.startsWith('3');
}

/** Keras 1 and standalone Keras 2.0–2.2 (not tf.keras): the era whose LSTM/GRU default recurrent activation is hard_sigmoid. */
function isHardSigmoidEra(kerasVersion: string | null): boolean {
  if (!kerasVersion) return false;
  if (kerasVersion.startsWith('1.')) return true;
  return /^2\.[012]\./.test(kerasVersion) && !kerasVersion.includes('tf');
}

/** The default `recurrent_activation` of LSTM/GRU when a config leaves it out: hard_sigmoid up to Keras 2.2.5, sigmoid from 2.3. */
export function defaultRecurrentActivation(kerasVersion: string | null): string {
  return isHardSigmoidEra(kerasVersion) ? 'hard_sigmoid' : 'sigmoid';
}

export function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

/** hard_sigmoid: clip(0.2x + 0.5, 0, 1) in Keras 1/2/tf.keras; clip(x/6 + 0.5, 0, 1) in Keras 3. */
export function hardSigmoid(kerasVersion: string | null): Elementwise {
  if (isKeras3(kerasVersion)) return (x) => Math.min(1, Math.max(0, x / 6 + 0.5));
  return (x) => Math.min(1, Math.max(0, 0.2 * x + 0.5));
}

function softplus(x: number): number {
  // log(1 + e^x), stable for large |x|
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

/** erf(x) to float64 accuracy: Taylor series near 0, continued fraction for erfc in the tails. */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax > 6) return Math.sign(x);
  if (ax < 2.5) {
    // erf(x) = 2/√π Σ (-1)^n x^(2n+1) / (n! (2n+1))
    let term = x;
    let sum = x;
    const x2 = x * x;
    for (let n = 1; n < 200; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(x) = e^(-x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...)))))
  let f = ax;
  for (let k = 80; k >= 1; k--) f = ax + k / 2 / f;
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}

export const SELU_ALPHA = 1.6732632423543772848170429916717;
export const SELU_SCALE = 1.0507009873554804934193349852946;

/** A finite number setting, or the fallback. */
export function num(v: unknown, fallback: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : fallback;
}
export function numOrNull(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function elementwiseActivation(name: string, f: Elementwise): Activation {
  return {
    name,
    elementwise: f,
    apply(data) {
      for (let i = 0; i < data.length; i++) data[i] = f(data[i]);
    },
  };
}

/** Apply a function along one axis: fn receives the values of one lane (copied), writes results back. */
function alongAxis(data: Float64Array, shape: number[], axis: number, fn: (lane: Float64Array) => void): void {
  const rank = shape.length;
  const ax = axis < 0 ? axis + rank : axis;
  if (ax < 0 || ax >= rank) throw new KerasLensError(null, `softmax axis ${axis} does not exist for a tensor of rank ${rank}`);
  const n = shape[ax];
  let inner = 1;
  for (let i = ax + 1; i < rank; i++) inner *= shape[i];
  const outer = data.length / (n * inner);
  const lane = new Float64Array(n);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const base = o * n * inner + j;
      for (let k = 0; k < n; k++) lane[k] = data[base + k * inner];
      fn(lane);
      for (let k = 0; k < n; k++) data[base + k * inner] = lane[k];
    }
  }
}

function softmaxActivation(axes: number[], log: boolean): Activation {
  return {
    name: log ? 'log_softmax' : 'softmax',
    elementwise: null,
    apply(data, shape) {
      if (axes.length !== 1) throw new KerasLensError(null, `softmax over several axes (${axes.join(',')}) is not supported`);
      alongAxis(data, shape, axes[0], (lane) => {
        // softmax(x) = exp(x - max) / Σ exp(x - max); log_softmax(x) = x - max - log Σ exp(x - max)
        let max = -Infinity;
        for (const v of lane) if (v > max) max = v;
        let sum = 0;
        for (let k = 0; k < lane.length; k++) sum += Math.exp(lane[k] - max);
        for (let k = 0; k < lane.length; k++) lane[k] = log ? lane[k] - max - Math.log(sum) : Math.exp(lane[k] - max) / sum;
      });
    },
  };
}

/** Keras 2 relu(x, alpha, max_value, threshold) / Keras 3 relu(x, negative_slope, max_value, threshold). */
function reluFunction(negativeSlope: number, maxValue: number | null, threshold: number): Elementwise {
  // Keras: x·[x > threshold] (clipped to max_value) − slope·relu(threshold − x)
  return (x) => {
    let y = x > threshold ? x : negativeSlope * (x - threshold);
    if (x <= threshold && negativeSlope === 0) y = 0;
    if (maxValue !== null && y > maxValue) y = maxValue;
    return y;
  };
}

/**
 * An activation by its Keras name and keyword arguments (e.g. relu's alpha/max_value/threshold, elu's alpha,
 * gelu's approximate, softmax's axis).
 */
export function activationByName(
  rawName: string,
  kerasVersion: string | null,
  params: Record<string, unknown> = {},
): Activation {
  const name = rawName.replace(/^(keras\.)?activations\./, '').toLowerCase();
  switch (name) {
    case 'linear':
    case 'none':
    case '':
      return elementwiseActivation('linear', (x) => x);
    case 'tanh':
      return elementwiseActivation('tanh', Math.tanh);
    case 'sigmoid':
      return elementwiseActivation('sigmoid', sigmoid);
    case 'hard_sigmoid':
      return elementwiseActivation('hard_sigmoid', hardSigmoid(kerasVersion));
    case 'hard_silu':
    case 'hard_swish': {
      const hs = hardSigmoid('3');
      return elementwiseActivation(name, (x) => x * hs(x));
    }
    case 'relu':
      return elementwiseActivation(
        'relu',
        reluFunction(num(params.negative_slope ?? params.alpha, 0), numOrNull(params.max_value), num(params.threshold, 0)),
      );
    case 'relu6':
      return elementwiseActivation('relu6', (x) => Math.min(6, Math.max(0, x)));
    case 'leaky_relu': {
      const slope = num(params.negative_slope ?? params.alpha, isKeras3(kerasVersion) ? 0.2 : 0.3);
      return elementwiseActivation('leaky_relu', (x) => (x >= 0 ? x : slope * x));
    }
    case 'elu': {
      const alpha = num(params.alpha, 1);
      // elu(x) = x if x > 0 else alpha · (e^x − 1)
      return elementwiseActivation('elu', (x) => (x > 0 ? x : alpha * Math.expm1(x)));
    }
    case 'celu': {
      const alpha = num(params.alpha, 1);
      return elementwiseActivation('celu', (x) => Math.max(0, x) + Math.min(0, alpha * Math.expm1(x / alpha)));
    }
    case 'selu':
      return elementwiseActivation('selu', (x) => SELU_SCALE * (x > 0 ? x : SELU_ALPHA * Math.expm1(x)));
    case 'softplus':
      return elementwiseActivation('softplus', softplus);
    case 'softsign':
      return elementwiseActivation('softsign', (x) => x / (1 + Math.abs(x)));
    case 'swish':
    case 'silu':
      return elementwiseActivation(name, (x) => x * sigmoid(x));
    case 'gelu': {
      const approximate = params.approximate === true;
      // exact: 0.5·x·(1 + erf(x/√2)); approximate: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
      if (approximate) {
        const k = Math.sqrt(2 / Math.PI);
        return elementwiseActivation('gelu', (x) => 0.5 * x * (1 + Math.tanh(k * (x + 0.044715 * x * x * x))));
      }
      return elementwiseActivation('gelu', (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)));
    }
    case 'exponential':
      return elementwiseActivation('exponential', Math.exp);
    case 'mish':
      return elementwiseActivation('mish', (x) => x * Math.tanh(softplus(x)));
    case 'log_sigmoid':
      return elementwiseActivation('log_sigmoid', (x) => -softplus(-x));
    case 'hard_tanh':
      return elementwiseActivation('hard_tanh', (x) => Math.min(1, Math.max(-1, x)));
    case 'tanh_shrink':
      return elementwiseActivation('tanh_shrink', (x) => x - Math.tanh(x));
    case 'soft_shrink': {
      const th = num(params.threshold, 0.5);
      return elementwiseActivation('soft_shrink', (x) => (x > th ? x - th : x < -th ? x + th : 0));
    }
    case 'hard_shrink': {
      const th = num(params.threshold, 0.5);
      return elementwiseActivation('hard_shrink', (x) => (Math.abs(x) > th ? x : 0));
    }
    case 'sparse_plus':
      // 0 for x ≤ −1, (x+1)²/4 for −1 < x < 1, x for x ≥ 1
      return elementwiseActivation('sparse_plus', (x) => (x <= -1 ? 0 : x >= 1 ? x : ((x + 1) * (x + 1)) / 4));
    case 'squareplus': {
      const b = num(params.b, 4);
      return elementwiseActivation('squareplus', (x) => (x + Math.sqrt(x * x + b)) / 2);
    }
    case 'softmax':
    case 'log_softmax': {
      const axis = params.axis;
      const axes = Array.isArray(axis) ? axis.map((a) => num(a, -1)) : [num(axis, -1)];
      return softmaxActivation(axes, name === 'log_softmax');
    }
    default:
      throw new KerasLensError(null, `unknown activation '${rawName}'`);
  }
}

/**
 * The activation computed by an activation *layer* config: LeakyReLU (alpha, Keras 2 default 0.3 /
 * negative_slope, Keras 3 default 0.3), ELU (alpha 1), ReLU (max_value, negative_slope, threshold),
 * Softmax (axis -1), ThresholdedReLU (theta 1), Activation (activation). Returns null for other class names.
 * PReLU has weights: see kinds/prelu.ts.
 */
export function activationLayerFunction(
  className: string,
  config: Record<string, unknown>,
  kerasVersion: string | null,
): Activation | null {
  switch (className) {
    case 'LeakyReLU': {
      const slope = num(config.negative_slope ?? config.alpha, 0.3);
      return elementwiseActivation('leaky_relu', (x) => (x >= 0 ? x : slope * x));
    }
    case 'ELU': {
      const alpha = num(config.alpha, 1);
      return elementwiseActivation('elu', (x) => (x > 0 ? x : alpha * Math.expm1(x)));
    }
    case 'ReLU':
      return elementwiseActivation(
        'relu',
        reluFunction(num(config.negative_slope ?? config.alpha, 0), numOrNull(config.max_value), num(config.threshold, 0)),
      );
    case 'ThresholdedReLU': {
      const theta = num(config.theta, 1);
      return elementwiseActivation('thresholded_relu', (x) => (x > theta ? x : 0));
    }
    case 'Softmax': {
      const axis = config.axis;
      const axes = Array.isArray(axis) ? axis.map((a) => num(a, -1)) : [num(axis, -1)];
      return softmaxActivation(axes, false);
    }
    case 'Activation':
      return activationFromConfig(config.activation, kerasVersion, 'linear');
    default:
      return null;
  }
}

function snakeCase(s: string): string {
  return s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

/**
 * The activation a config value names: a string, null/undefined (→ `fallback`), a Keras 3 serialized function
 * ({class_name: 'function', config: 'relu'}), a serialized activation layer ({class_name: 'LeakyReLU', config})
 * or a serialized callable with keyword arguments.
 */
export function activationFromConfig(spec: unknown, kerasVersion: string | null, fallback = 'linear'): Activation {
  if (spec === null || spec === undefined) return activationByName(fallback, kerasVersion);
  if (typeof spec === 'string') return activationByName(spec, kerasVersion);
  if (typeof spec === 'object') {
    const o = spec as Record<string, unknown>;
    const className = typeof o.class_name === 'string' ? o.class_name : '';
    const config = o.config;
    if (typeof config === 'string') return activationByName(config, kerasVersion);
    const cfg = config && typeof config === 'object' ? (config as Record<string, unknown>) : {};
    const asLayer = activationLayerFunction(className, cfg, kerasVersion);
    if (asLayer) return asLayer;
    if (typeof cfg.name === 'string' && className === 'function') return activationByName(cfg.name, kerasVersion, cfg);
    if (className) return activationByName(snakeCase(className), kerasVersion, cfg);
  }
  throw new KerasLensError(null, `cannot read activation ${JSON.stringify(spec)}`);
}
