/**
 * Activations as small expression trees over one input `x`, so that each target language renders the same formula
 * (numpy vectorised, C/Java/JS as scalar code, torch as tensor code). The parameters and the version rule (Keras 3
 * hard_sigmoid = clip(x/6 + 0.5, 0, 1), earlier clip(0.2x + 0.5, 0, 1)) are the ones src/model/activations.ts
 * computes; test/export checks every expression against that engine function on a grid of points.
 */
import { SELU_ALPHA, SELU_SCALE, activationFromConfig, activationLayerFunction, erf, isKeras3, num, numOrNull } from '../model/activations';
import { KerasLensError } from '../model/types';

export type Expr =
  | { k: 'x' }
  | { k: 'num'; v: number }
  /** Library functions every prelude provides: exp, tanh, log, log1p, expm1, abs, sqrt, erf, sigmoid, softplus. */
  | { k: 'call'; f: MathFn; a: Expr }
  | { k: 'bin'; op: '+' | '-' | '*' | '/'; a: Expr; b: Expr }
  | { k: 'min' | 'max'; a: Expr; b: Expr }
  /** cond ? a : b, with cond = `l op r` */
  | { k: 'where'; l: Expr; op: '>' | '>=' | '<' | '<='; r: Expr; a: Expr; b: Expr };

export type MathFn = 'exp' | 'tanh' | 'log' | 'log1p' | 'expm1' | 'abs' | 'sqrt' | 'erf' | 'sigmoid' | 'softplus';

/** An activation to export: elementwise (an expression) or along the last axis (softmax / log_softmax). */
export interface ExportActivation {
  name: string;
  /** Human formula for comments and the README, e.g. 'clip(0.2x + 0.5, 0, 1)'. */
  formula: string;
  expr: Expr | null;
  /** softmax / log_softmax over the last axis. */
  softmax?: 'softmax' | 'log_softmax';
}

const X: Expr = { k: 'x' };
const n = (v: number): Expr => ({ k: 'num', v });
const call = (f: MathFn, a: Expr): Expr => ({ k: 'call', f, a });
const add = (a: Expr, b: Expr): Expr => ({ k: 'bin', op: '+', a, b });
const sub = (a: Expr, b: Expr): Expr => ({ k: 'bin', op: '-', a, b });
const mul = (a: Expr, b: Expr): Expr => ({ k: 'bin', op: '*', a, b });
const div = (a: Expr, b: Expr): Expr => ({ k: 'bin', op: '/', a, b });
const min = (a: Expr, b: Expr): Expr => ({ k: 'min', a, b });
const max = (a: Expr, b: Expr): Expr => ({ k: 'max', a, b });
const where = (l: Expr, op: '>' | '>=' | '<' | '<=', r: Expr, a: Expr, b: Expr): Expr => ({ k: 'where', l, op, r, a, b });
const clip = (e: Expr, lo: number, hi: number) => min(n(hi), max(n(lo), e));


function hardSigmoidExpr(kerasVersion: string | null): { expr: Expr; formula: string } {
  return isKeras3(kerasVersion)
    ? { expr: clip(add(div(X, n(6)), n(0.5)), 0, 1), formula: 'clip(x/6 + 0.5, 0, 1)' }
    : { expr: clip(add(mul(n(0.2), X), n(0.5)), 0, 1), formula: 'clip(0.2x + 0.5, 0, 1)' };
}

function relu(slope: number, maxValue: number | null, threshold: number): ExportActivation {
  let e: Expr = where(X, '>', n(threshold), X, slope === 0 ? n(0) : mul(n(slope), sub(X, n(threshold))));
  if (maxValue !== null) e = min(e, n(maxValue));
  const plain = slope === 0 && maxValue === null && threshold === 0;
  return {
    name: 'relu',
    formula: plain ? 'max(x, 0)' : `x > ${threshold} ? x : ${slope}(x - ${threshold})${maxValue !== null ? `, at most ${maxValue}` : ''}`,
    expr: e,
  };
}

function byName(rawName: string, kerasVersion: string | null, params: Record<string, unknown>): ExportActivation {
  const name = rawName.replace(/^(keras\.)?activations\./, '').toLowerCase();
  const el = (nm: string, formula: string, expr: Expr): ExportActivation => ({ name: nm, formula, expr });
  switch (name) {
    case 'linear':
    case 'none':
    case '':
      return el('linear', 'x', X);
    case 'tanh':
      return el('tanh', 'tanh(x)', call('tanh', X));
    case 'sigmoid':
      return el('sigmoid', '1 / (1 + exp(-x))', call('sigmoid', X));
    case 'hard_sigmoid': {
      const h = hardSigmoidExpr(kerasVersion);
      return el('hard_sigmoid', h.formula, h.expr);
    }
    case 'hard_silu':
    case 'hard_swish':
      return el(name, 'x * clip(x/6 + 0.5, 0, 1)', mul(X, hardSigmoidExpr('3').expr));
    case 'relu':
      return relu(num(params.negative_slope ?? params.alpha, 0), numOrNull(params.max_value), num(params.threshold, 0));
    case 'relu6':
      return el('relu6', 'clip(x, 0, 6)', clip(X, 0, 6));
    case 'leaky_relu': {
      const s = num(params.negative_slope ?? params.alpha, isKeras3(kerasVersion) ? 0.2 : 0.3);
      return el('leaky_relu', `x >= 0 ? x : ${s}x`, where(X, '>=', n(0), X, mul(n(s), X)));
    }
    case 'elu': {
      const a = num(params.alpha, 1);
      return el('elu', `x > 0 ? x : ${a}(exp(x) - 1)`, where(X, '>', n(0), X, mul(n(a), call('expm1', X))));
    }
    case 'selu':
      return el('selu', 'scale * (x > 0 ? x : alpha(exp(x) - 1))', mul(n(SELU_SCALE), where(X, '>', n(0), X, mul(n(SELU_ALPHA), call('expm1', X)))));
    case 'softplus':
      return el('softplus', 'log(1 + exp(x))', call('softplus', X));
    case 'softsign':
      return el('softsign', 'x / (1 + |x|)', div(X, add(n(1), call('abs', X))));
    case 'swish':
    case 'silu':
      return el(name, 'x * sigmoid(x)', mul(X, call('sigmoid', X)));
    case 'gelu': {
      if (params.approximate === true) {
        const k = Math.sqrt(2 / Math.PI);
        return el('gelu', '0.5x(1 + tanh(sqrt(2/pi)(x + 0.044715x^3)))', mul(mul(n(0.5), X), add(n(1), call('tanh', mul(n(k), add(X, mul(n(0.044715), mul(X, mul(X, X)))))))));
      }
      return el('gelu', '0.5x(1 + erf(x/sqrt(2)))', mul(mul(n(0.5), X), add(n(1), call('erf', div(X, n(Math.SQRT2))))));
    }
    case 'exponential':
      return el('exponential', 'exp(x)', call('exp', X));
    case 'mish':
      return el('mish', 'x * tanh(softplus(x))', mul(X, call('tanh', call('softplus', X))));
    case 'log_sigmoid':
      return el('log_sigmoid', '-softplus(-x)', sub(n(0), call('softplus', sub(n(0), X))));
    case 'hard_tanh':
      return el('hard_tanh', 'clip(x, -1, 1)', clip(X, -1, 1));
    case 'tanh_shrink':
      return el('tanh_shrink', 'x - tanh(x)', sub(X, call('tanh', X)));
    case 'softmax':
    case 'log_softmax': {
      const axis = params.axis;
      const axes = Array.isArray(axis) ? axis : [axis ?? -1];
      if (axes.length !== 1 || num(axes[0], -1) !== -1) {
        throw new KerasLensError(null, `${name} over axis ${JSON.stringify(axis)} (only the last axis is exported)`);
      }
      return { name, formula: name === 'softmax' ? 'exp(x - max) / sum(exp(x - max)) over the last axis' : 'x - max - log(sum(exp(x - max))) over the last axis', expr: null, softmax: name };
    }
    default:
      throw new KerasLensError(null, `activation '${rawName}'`);
  }
}

function snakeCase(s: string): string {
  return s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

function layerActivation(className: string, config: Record<string, unknown>, kerasVersion: string | null): ExportActivation | null {
  switch (className) {
    case 'LeakyReLU':
      return byName('leaky_relu', kerasVersion, { negative_slope: num(config.negative_slope ?? config.alpha, 0.3) });
    case 'ELU':
      return byName('elu', kerasVersion, { alpha: num(config.alpha, 1) });
    case 'ReLU':
      return relu(num(config.negative_slope ?? config.alpha, 0), numOrNull(config.max_value), num(config.threshold, 0));
    case 'ThresholdedReLU': {
      const t = num(config.theta, 1);
      return { name: 'thresholded_relu', formula: `x > ${t} ? x : 0`, expr: where(X, '>', n(t), X, n(0)) };
    }
    case 'Softmax':
      return byName('softmax', kerasVersion, { axis: config.axis ?? -1 });
    case 'Activation':
      return fromConfig(config.activation, kerasVersion, 'linear');
    default:
      return null;
  }
}

/** The activation a layer config value names, in the same spellings src/model/activations.ts reads. */
export function fromConfig(spec: unknown, kerasVersion: string | null, fallback = 'linear'): ExportActivation {
  // the engine's reader decides whether the spec is readable at all (same errors as predict)
  activationFromConfig(spec, kerasVersion, fallback);
  if (spec === null || spec === undefined) return byName(fallback, kerasVersion, {});
  if (typeof spec === 'string') return byName(spec, kerasVersion, {});
  const o = spec as Record<string, unknown>;
  const className = typeof o.class_name === 'string' ? o.class_name : '';
  const config = o.config;
  if (typeof config === 'string') return byName(config, kerasVersion, {});
  const cfg = config && typeof config === 'object' ? (config as Record<string, unknown>) : {};
  const asLayer = layerActivation(className, cfg, kerasVersion);
  if (asLayer) return asLayer;
  if (typeof cfg.name === 'string' && className === 'function') return byName(cfg.name, kerasVersion, cfg);
  return byName(snakeCase(className), kerasVersion, cfg);
}

/** The activation computed by an activation layer (Activation, ReLU, LeakyReLU, ELU, Softmax, ThresholdedReLU). */
export function fromActivationLayer(className: string, config: Record<string, unknown>, kerasVersion: string | null): ExportActivation {
  if (!activationLayerFunction(className, config, kerasVersion)) throw new KerasLensError(null, `activation layer class ${className}`);
  return layerActivation(className, config, kerasVersion)!;
}

/** Evaluates an expression in JavaScript (float64): the reference the tests compare each language's rendering with. */
export function evaluate(e: Expr, x: number): number {
  switch (e.k) {
    case 'x':
      return x;
    case 'num':
      return e.v;
    case 'call': {
      const a = evaluate(e.a, x);
      switch (e.f) {
        case 'sigmoid':
          return a >= 0 ? 1 / (1 + Math.exp(-a)) : Math.exp(a) / (1 + Math.exp(a));
        case 'softplus':
          return a > 0 ? a + Math.log1p(Math.exp(-a)) : Math.log1p(Math.exp(a));
        case 'erf':
          return erf(a);
        default:
          return Math[e.f](a);
      }
    }
    case 'bin': {
      const a = evaluate(e.a, x);
      const b = evaluate(e.b, x);
      return e.op === '+' ? a + b : e.op === '-' ? a - b : e.op === '*' ? a * b : a / b;
    }
    case 'min':
      return Math.min(evaluate(e.a, x), evaluate(e.b, x));
    case 'max':
      return Math.max(evaluate(e.a, x), evaluate(e.b, x));
    case 'where': {
      const l = evaluate(e.l, x);
      const r = evaluate(e.r, x);
      const c = e.op === '>' ? l > r : e.op === '>=' ? l >= r : e.op === '<' ? l < r : l <= r;
      return c ? evaluate(e.a, x) : evaluate(e.b, x);
    }
  }
}

/** Does the expression use erf (the languages without a library erf then include one)? */
export function usesFunction(e: Expr | null, f: MathFn): boolean {
  if (!e) return false;
  switch (e.k) {
    case 'call':
      return e.f === f || usesFunction(e.a, f);
    case 'bin':
    case 'min':
    case 'max':
      return usesFunction(e.a, f) || usesFunction(e.b, f);
    case 'where':
      return [e.l, e.r, e.a, e.b].some((s) => usesFunction(s, f));
    default:
      return false;
  }
}
