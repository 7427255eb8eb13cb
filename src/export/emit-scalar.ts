/**
 * The part C, Java and JavaScript share: the same loops in three dialects. One sample at a time; every tensor is a
 * region of one workspace array (`ws`, offsets fixed at export time), every weight its own array; runtime helpers
 * (`kl_lstm`, `kl_gru`, ...) are written once below in the dialect's syntax, with the formulas beside the code.
 * emit-c.ts / emit-java.ts / emit-js.ts add the weights, the entry points and the JSON runner.
 */
import type { Expr, ExportActivation, MathFn } from './activations';
import type { Plan, PlanTensor, PlanWeight, Step } from './plan';
import { activationNames, stepLines } from './describe';

export interface Dialect {
  /** Local declarations: real (double) and int. */
  R: string;
  /** Element type of the hot multiply-add loops (C: float, so they vectorise; Java/JS: double). */
  A: string;
  I: string;
  /** A function definition header; params as [kind, name]. */
  fn(name: string, params: [ParamKind, string][]): string;
  /** math function call name: exp → 'exp' / 'Math.exp'. */
  m(f: 'exp' | 'tanh' | 'log' | 'log1p' | 'expm1' | 'abs' | 'sqrt' | 'erf' | 'floor'): string;
  /** Call an activation parameter. */
  call(fn: string, arg: string): string;
  /** Refer to a generated activation function as a value. */
  fnRef(name: string): string;
  /** No array. */
  none: string;
  /** min/max of two doubles. */
  min: string;
  max: string;
  /** A number literal. */
  num(v: number): string;
  /** Infinity literal. */
  negInf: string;
  /** An expression rounded to float32 (Keras's float32 arithmetic where the result depends on it). */
  f32(x: string): string;
  /** An (array, offset) argument pair. C passes `ws + 48, 0`, so that two regions of one array are two pointers
   * (the helpers' restrict parameters then never see the same pointer twice). */
  at(array: string, offset: string | number): string;
  /** Definition of a generated activation function. */
  actFn(name: string, body: string): string;
}

export type ParamKind = 'in' | 'out' | 'int' | 'real' | 'fn';

export function scalarExpr(e: Expr, d: Dialect, x = 'x'): string {
  const r = (s: Expr) => scalarExpr(s, d, x);
  switch (e.k) {
    case 'x':
      return x;
    case 'num':
      return d.num(e.v);
    case 'call':
      return e.f === 'sigmoid' || e.f === 'softplus' || e.f === 'erf' ? `kl_${e.f}(${r(e.a)})` : `${d.m(e.f as Exclude<MathFn, 'sigmoid' | 'softplus'>)}(${r(e.a)})`;
    case 'bin':
      return `(${r(e.a)} ${e.op} ${r(e.b)})`;
    case 'min':
      return `${d.min}(${r(e.a)}, ${r(e.b)})`;
    case 'max':
      return `${d.max}(${r(e.a)}, ${r(e.b)})`;
    case 'where':
      return `((${r(e.l)} ${e.op} ${r(e.r)}) ? ${r(e.a)} : ${r(e.b)})`;
  }
}

/**
 * The runtime helpers this predictor calls (`uses`: the code that calls them), in the dialect: each helper is one
 * paragraph below; only those reachable from `uses` are written, so the output has no unused function.
 */
export function scalarHelpers(d: Dialect, uses: string): string {
  const blocks = allHelpers(d).split(/\n\s*\n/).filter((b) => b.trim());
  const defines = (b: string) => /(?:function |static \w+ )(kl_\w+)\(/.exec(b)?.[1] ?? null;
  const keep = new Set<string>();
  let text = uses;
  for (let changed = true; changed; ) {
    changed = false;
    for (const b of blocks) {
      const name = defines(b);
      if (name && !keep.has(name) && new RegExp(`\\b${name}\\b`).test(text)) {
        keep.add(name);
        text += b;
        changed = true;
      }
    }
  }
  return blocks.filter((b) => keep.has(defines(b) ?? '')).join('\n\n') + '\n';
}

function allHelpers(d: Dialect): string {
  const { R, I, A } = d;
  const fn = d.fn.bind(d);
  return `
${d.actFn('kl_sigmoid', `if (x >= 0) { return 1.0 / (1.0 + ${d.m('exp')}(-x)); } ${R} e = ${d.m('exp')}(x); return e / (1.0 + e);`)}

${d.actFn('kl_softplus', `/* log(1 + exp(x)), no overflow */ return x > 0 ? x + ${d.m('log1p')}(${d.m('exp')}(-x)) : ${d.m('log1p')}(${d.m('exp')}(x));`)}

${d.actFn('kl_identity', 'return x;')}

/* z[zo + j] += sum_k v[vo + k] * M[mo + k * stride + j] for j < cols: a vector times a row-major matrix block,
 * four rows at a time (z is read and written once per four rows) */
${fn('kl_matvec', [['out', 'z'], ['int', 'zo'], ['in', 'v'], ['int', 'vo'], ['int', 'n'], ['in', 'M'], ['int', 'mo'], ['int', 'stride'], ['int', 'cols']])} {
  ${I} k = 0;
  for (; k + 4 <= n; k += 4) {
    ${A} a0 = v[vo + k];
    ${A} a1 = v[vo + k + 1];
    ${A} a2 = v[vo + k + 2];
    ${A} a3 = v[vo + k + 3];
    ${I} r0 = mo + k * stride;
    ${I} r1 = r0 + stride;
    ${I} r2 = r1 + stride;
    ${I} r3 = r2 + stride;
    for (${I} j = 0; j < cols; j++) z[zo + j] += a0 * M[r0 + j] + a1 * M[r1 + j] + a2 * M[r2 + j] + a3 * M[r3 + j];
  }
  for (; k < n; k++) {
    ${A} a = v[vo + k];
    ${I} r = mo + k * stride;
    for (${I} j = 0; j < cols; j++) z[zo + j] += a * M[r + j];
  }
}

/* y[r, :] = act(x[r, :] W + b) for each of rows rows; W is (inDim, units) row-major */
${fn('kl_dense', [['in', 'x'], ['int', 'xo'], ['int', 'rows'], ['int', 'inDim'], ['in', 'W'], ['int', 'units'], ['in', 'b'], ['int', 'hasBias'], ['out', 'y'], ['int', 'yo'], ['fn', 'act']])} {
  for (${I} r = 0; r < rows; r++) {
    ${I} o = yo + r * units;
    for (${I} j = 0; j < units; j++) y[o + j] = hasBias != 0 ? b[j] : 0.0;
    kl_matvec(y, o, x, xo + r * inDim, inDim, W, 0, units, units);
    for (${I} j = 0; j < units; j++) y[o + j] = ${d.call('act', 'y[o + j]')};
  }
}

${fn('kl_apply', [['in', 'x'], ['int', 'xo'], ['int', 'n'], ['out', 'y'], ['int', 'yo'], ['fn', 'act']])} {
  for (${I} k = 0; k < n; k++) y[yo + k] = ${d.call('act', 'x[xo + k]')};
}

/* softmax (or log_softmax) over each row of width values, in place */
${fn('kl_softmax', [['out', 'y'], ['int', 'yo'], ['int', 'rows'], ['int', 'width'], ['int', 'logarithm']])} {
  for (${I} r = 0; r < rows; r++) {
    ${I} o = yo + r * width;
    ${R} mx = y[o];
    for (${I} k = 1; k < width; k++) if (y[o + k] > mx) mx = y[o + k];
    ${R} sum = 0.0;
    for (${I} k = 0; k < width; k++) sum += ${d.m('exp')}(y[o + k] - mx);
    for (${I} k = 0; k < width; k++) y[o + k] = logarithm != 0 ? y[o + k] - mx - ${d.m('log')}(sum) : ${d.m('exp')}(y[o + k] - mx) / sum;
  }
}

${fn('kl_copy', [['in', 'x'], ['int', 'xo'], ['int', 'n'], ['out', 'y'], ['int', 'yo']])} {
  for (${I} k = 0; k < n; k++) y[yo + k] = x[xo + k];
}

${fn('kl_zero', [['out', 'y'], ['int', 'yo'], ['int', 'n']])} {
  for (${I} k = 0; k < n; k++) y[yo + k] = 0.0;
}

/* y[t, :] = table[index(t), :]; an index outside the table gives zeros (Keras raises an error) */
${fn('kl_embedding', [['in', 'x'], ['int', 'xo'], ['int', 'count'], ['in', 'table'], ['int', 'rows'], ['int', 'dim'], ['out', 'y'], ['int', 'yo']])} {
  for (${I} t = 0; t < count; t++) {
    ${I} idx = ${d.I === 'let' ? 'Math.trunc(x[xo + t])' : '(int) x[xo + t]'};
    for (${I} j = 0; j < dim; j++) y[yo + t * dim + j] = (idx >= 0 && idx < rows) ? table[idx * dim + j] : 0.0;
  }
}

/* m[t] = 1 where index(t) != 0 (mask_zero) */
${fn('kl_mask_nonzero', [['in', 'x'], ['int', 'xo'], ['int', 'steps'], ['out', 'm'], ['int', 'mo']])} {
  for (${I} t = 0; t < steps; t++) m[mo + t] = x[xo + t] != 0.0 ? 1.0 : 0.0;
}

/* Masking: m[t] = any_k(x[t, k] != value); y = x where real, 0 where masked */
${fn('kl_masking', [['in', 'x'], ['int', 'xo'], ['int', 'steps'], ['int', 'features'], ['in', 'value'], ['out', 'y'], ['int', 'yo'], ['out', 'm'], ['int', 'mo']])} {
  for (${I} t = 0; t < steps; t++) {
    ${I} real = 0;
    for (${I} k = 0; k < features; k++) if (x[xo + t * features + k] != value[0]) real = 1;
    m[mo + t] = real != 0 ? 1.0 : 0.0;
    for (${I} k = 0; k < features; k++) y[yo + t * features + k] = real != 0 ? x[xo + t * features + k] : 0.0;
  }
}

${fn('kl_mask_and', [['in', 'a'], ['int', 'ao'], ['in', 'b'], ['int', 'bo'], ['int', 'steps'], ['out', 'm'], ['int', 'mo']])} {
  for (${I} t = 0; t < steps; t++) m[mo + t] = (a[ao + t] != 0.0 && b[bo + t] != 0.0) ? 1.0 : 0.0;
}

/*
 * The time loop all three cells share (Keras's rnn()): step s reads input step t = s, or T-1-s with go_backwards.
 * At a masked step the states are kept and the output is the previous output (0 with zero_output_for_mask).
 * The sequence output (return_sequences) is in processing order; otherwise y is the last output.
 * state: h at so (and c at so + u for LSTM) holds the initial state on entry and the final state on return.
 */

/* The end of one step of every cell: unless step t is masked, the n new state values (at nso in sc) become the state
 * (at so in st) and the new h the output; at a masked step the state stays and the output is the previous output
 * (0 with zero_output_for_mask); with return_sequences the output goes to row s of y. */
${fn('kl_step_end', [['in', 'mask'], ['int', 'mo'], ['int', 'hasMask'], ['int', 't'], ['int', 's'], ['out', 'st'], ['int', 'so'], ['out', 'sc'], ['int', 'nso'], ['int', 'n'], ['int', 'po'], ['int', 'u'], ['int', 'zeroOutputForMask'], ['int', 'returnSequences'], ['out', 'y'], ['int', 'yo']])} {
  if (hasMask == 0 || mask[mo + t] != 0.0) {
    for (${I} k = 0; k < n; k++) st[so + k] = sc[nso + k];
    for (${I} j = 0; j < u; j++) sc[po + j] = sc[nso + j];
  } else if (zeroOutputForMask != 0) {
    for (${I} j = 0; j < u; j++) sc[po + j] = 0.0;
  }
  if (returnSequences != 0) for (${I} j = 0; j < u; j++) y[yo + s * u + j] = sc[po + j];
}

/* LSTM, gates i | f | c | o along the columns of W (in, 4u), U (u, 4u), b (4u):
 *   i = rec(x W_i + h U_i + b_i)   f = rec(x W_f + h U_f + b_f)   c~ = act(x W_c + h U_c + b_c)   o = rec(x W_o + h U_o + b_o)
 *   c = f * c(t-1) + i * c~        h = o * act(c)
 * scratch: 7u values */
${fn('kl_lstm', [['in', 'x'], ['int', 'xo'], ['int', 'T'], ['int', 'F'], ['int', 'u'], ['in', 'W'], ['in', 'U'], ['in', 'b'], ['int', 'hasBias'], ['in', 'mask'], ['int', 'mo'], ['int', 'hasMask'], ['int', 'goBackwards'], ['int', 'returnSequences'], ['int', 'zeroOutputForMask'], ['out', 'st'], ['int', 'so'], ['out', 'y'], ['int', 'yo'], ['out', 'sc'], ['int', 'sco'], ['fn', 'act'], ['fn', 'rec']])} {
  ${I} G = 4 * u;
  ${I} zo = sco;          /* z: 4u pre-activations */
  ${I} po = sco + G;      /* previous output: u */
  ${I} ho = so;
  ${I} co = so + u;
  ${I} nho = sco + G + u; /* new h: u */
  ${I} nco = nho + u;     /* new c: u */
  for (${I} j = 0; j < u; j++) sc[po + j] = 0.0;
  for (${I} s = 0; s < T; s++) {
    ${I} t = goBackwards != 0 ? T - 1 - s : s;
    /* z = x(t) W + h(t-1) U + b, accumulated row by row of W and U (contiguous inner loops) */
    for (${I} g = 0; g < G; g++) sc[zo + g] = hasBias != 0 ? b[g] : 0.0;
    kl_matvec(sc, zo, x, xo + t * F, F, W, 0, G, G);
    kl_matvec(sc, zo, st, ho, u, U, 0, G, G);
    for (${I} j = 0; j < u; j++) {
      ${R} ig = ${d.call('rec', 'sc[zo + j]')};
      ${R} fg = ${d.call('rec', 'sc[zo + u + j]')};
      ${R} cc = ${d.call('act', 'sc[zo + 2 * u + j]')};
      ${R} og = ${d.call('rec', 'sc[zo + 3 * u + j]')};
      ${R} c = fg * st[co + j] + ig * cc;
      sc[nco + j] = c;
      sc[nho + j] = og * ${d.call('act', 'c')};
    }
    kl_step_end(mask, mo, hasMask, t, s, st, so, sc, nho, 2 * u, po, u, zeroOutputForMask, returnSequences, y, yo);
  }
  if (returnSequences == 0) for (${I} j = 0; j < u; j++) y[yo + j] = sc[po + j];
}

/* GRU, gates z | r | h along the columns of W (in, 3u), U (u, 3u); b (3u), or (2, 3u) with reset_after
 * (row 0 input bias b, row 1 recurrent bias b'):
 *   z = rec(x W_z + b_z + h U_z [+ b'_z])     r = rec(x W_r + b_r + h U_r [+ b'_r])
 *   reset_after=True:  h~ = act(x W_h + b_h + r * (h U_h + b'_h))
 *   reset_after=False: h~ = act(x W_h + b_h + (r * h) U_h)
 *   h = z * h(t-1) + (1 - z) * h~
 * scratch: 9u values */
${fn('kl_gru', [['in', 'x'], ['int', 'xo'], ['int', 'T'], ['int', 'F'], ['int', 'u'], ['in', 'W'], ['in', 'U'], ['in', 'b'], ['int', 'hasBias'], ['int', 'resetAfter'], ['in', 'mask'], ['int', 'mo'], ['int', 'hasMask'], ['int', 'goBackwards'], ['int', 'returnSequences'], ['int', 'zeroOutputForMask'], ['out', 'st'], ['int', 'so'], ['out', 'y'], ['int', 'yo'], ['out', 'sc'], ['int', 'sco'], ['fn', 'act'], ['fn', 'rec']])} {
  ${I} G = 3 * u;
  ${I} xw = sco;          /* x W + b: 3u */
  ${I} hu = sco + G;      /* h U (+ b'): 3u */
  ${I} po = hu + G;       /* previous output: u */
  ${I} nh = po + u;       /* new h: u */
  ${I} rh = nh + u;       /* r * h(t-1): u */
  for (${I} j = 0; j < u; j++) sc[po + j] = 0.0;
  for (${I} s = 0; s < T; s++) {
    ${I} t = goBackwards != 0 ? T - 1 - s : s;
    /* xw = x(t) W + b;  hu = h(t-1) U (+ b'), all 3u columns with reset_after, else only z | r */
    ${I} upto = resetAfter != 0 ? G : 2 * u;
    for (${I} g = 0; g < G; g++) {
      sc[xw + g] = hasBias != 0 ? b[g] : 0.0;
      sc[hu + g] = (hasBias != 0 && resetAfter != 0) ? b[G + g] : 0.0;
    }
    kl_matvec(sc, xw, x, xo + t * F, F, W, 0, G, G);
    kl_matvec(sc, hu, st, so, u, U, 0, G, upto);
    for (${I} j = 0; j < u; j++) sc[rh + j] = ${d.call('rec', 'sc[xw + u + j] + sc[hu + u + j]')};
    if (resetAfter != 0) {
      for (${I} j = 0; j < u; j++) sc[nh + j] = sc[xw + 2 * u + j] + sc[rh + j] * sc[hu + 2 * u + j];
    } else {
      /* (r * h(t-1)) U_h: U's last u columns, row by row */
      for (${I} j = 0; j < u; j++) sc[nh + j] = sc[xw + 2 * u + j];
      for (${I} k = 0; k < u; k++) sc[rh + k] = sc[rh + k] * st[so + k];
      kl_matvec(${d.at('sc', 'nh')}, ${d.at('sc', 'rh')}, u, U, 2 * u, G, u);
    }
    for (${I} j = 0; j < u; j++) {
      ${R} zg = ${d.call('rec', 'sc[xw + j] + sc[hu + j]')};
      ${R} hh = ${d.call('act', 'sc[nh + j]')};
      sc[nh + j] = zg * st[so + j] + (1.0 - zg) * hh;
    }
    kl_step_end(mask, mo, hasMask, t, s, st, so, sc, nh, u, po, u, zeroOutputForMask, returnSequences, y, yo);
  }
  if (returnSequences == 0) for (${I} j = 0; j < u; j++) y[yo + j] = sc[po + j];
}

/* SimpleRNN: h = act(x W + b + h(t-1) U); scratch: 2u values */
${fn('kl_simple_rnn', [['in', 'x'], ['int', 'xo'], ['int', 'T'], ['int', 'F'], ['int', 'u'], ['in', 'W'], ['in', 'U'], ['in', 'b'], ['int', 'hasBias'], ['in', 'mask'], ['int', 'mo'], ['int', 'hasMask'], ['int', 'goBackwards'], ['int', 'returnSequences'], ['int', 'zeroOutputForMask'], ['out', 'st'], ['int', 'so'], ['out', 'y'], ['int', 'yo'], ['out', 'sc'], ['int', 'sco'], ['fn', 'act']])} {
  ${I} po = sco;
  ${I} nh = sco + u;
  for (${I} j = 0; j < u; j++) sc[po + j] = 0.0;
  for (${I} s = 0; s < T; s++) {
    ${I} t = goBackwards != 0 ? T - 1 - s : s;
    for (${I} j = 0; j < u; j++) sc[nh + j] = hasBias != 0 ? b[j] : 0.0;
    kl_matvec(sc, nh, x, xo + t * F, F, W, 0, u, u);
    kl_matvec(sc, nh, st, so, u, U, 0, u, u);
    for (${I} j = 0; j < u; j++) sc[nh + j] = ${d.call('act', 'sc[nh + j]')};
    kl_step_end(mask, mo, hasMask, t, s, st, so, sc, nh, u, po, u, zeroOutputForMask, returnSequences, y, yo);
  }
  if (returnSequences == 0) for (${I} j = 0; j < u; j++) y[yo + j] = sc[po + j];
}

/* ConvLSTM1D/2D/3D, channels_last, the spatial axes padded to 3 (leading axes of size 1): x(t) is (i1, i2, i3, C),
 * the states h, c (o1, o2, o3, F) = P positions of F values; W (k1, k2, k3, C, 4F), U (k1, k2, k3, F, 4F), b (4F),
 * gates i | f | c | o along the last axis. For each output position q and kernel tap a:
 *   z[q] = b + sum_{a, c} x(t)[q * s + a * d - p, c] W[a, c, :]   (zeros outside x: the taps there are skipped)
 *            + sum_{a, f} h(t-1)[q + a - r, f] U[a, f, :]         (recurrent: 'same' padding r, stride 1)
 *   i = rec(z_i)  f = rec(z_f)  c~ = act(z_c)  o = rec(z_o);  c = f * c(t-1) + i * c~;  h = o * act(c)
 * The time loop is kl_lstm's, over state vectors of u = P F values; scratch: 7u values */
${fn('kl_conv_lstm', [['in', 'x'], ['int', 'xo'], ['int', 'T'], ['int', 'C'], ['int', 'i1'], ['int', 'i2'], ['int', 'i3'], ['int', 'o1'], ['int', 'o2'], ['int', 'o3'], ['int', 'F'], ['in', 'W'], ['in', 'U'], ['in', 'b'], ['int', 'hasBias'], ['int', 'k1'], ['int', 'k2'], ['int', 'k3'], ['int', 's1'], ['int', 's2'], ['int', 's3'], ['int', 'd1'], ['int', 'd2'], ['int', 'd3'], ['int', 'p1'], ['int', 'p2'], ['int', 'p3'], ['int', 'r1'], ['int', 'r2'], ['int', 'r3'], ['in', 'mask'], ['int', 'mo'], ['int', 'hasMask'], ['int', 'goBackwards'], ['int', 'returnSequences'], ['int', 'zeroOutputForMask'], ['out', 'st'], ['int', 'so'], ['out', 'y'], ['int', 'yo'], ['out', 'sc'], ['int', 'sco'], ['fn', 'act'], ['fn', 'rec']])} {
  ${I} P = o1 * o2 * o3;
  ${I} G = 4 * F;
  ${I} u = P * F;
  ${I} S = i1 * i2 * i3;
  ${I} zo = sco;          /* z: P rows of 4F pre-activations */
  ${I} po = sco + P * G;  /* previous output: u */
  ${I} nho = po + u;      /* new h: u */
  ${I} nco = nho + u;     /* new c: u */
  for (${I} j = 0; j < u; j++) sc[po + j] = 0.0;
  for (${I} s = 0; s < T; s++) {
    ${I} t = goBackwards != 0 ? T - 1 - s : s;
    for (${I} q1 = 0; q1 < o1; q1++) for (${I} q2 = 0; q2 < o2; q2++) for (${I} q3 = 0; q3 < o3; q3++) {
      ${I} z = zo + ((q1 * o2 + q2) * o3 + q3) * G;
      for (${I} g = 0; g < G; g++) sc[z + g] = hasBias != 0 ? b[g] : 0.0;
      for (${I} a1 = 0; a1 < k1; a1++) for (${I} a2 = 0; a2 < k2; a2++) for (${I} a3 = 0; a3 < k3; a3++) {
        ${I} tap = (a1 * k2 + a2) * k3 + a3;
        ${I} x1 = q1 * s1 + a1 * d1 - p1;
        ${I} x2 = q2 * s2 + a2 * d2 - p2;
        ${I} x3 = q3 * s3 + a3 * d3 - p3;
        if (x1 >= 0 && x1 < i1 && x2 >= 0 && x2 < i2 && x3 >= 0 && x3 < i3) kl_matvec(sc, z, x, xo + (t * S + (x1 * i2 + x2) * i3 + x3) * C, C, W, tap * C * G, G, G);
        ${I} h1 = q1 + a1 - r1;
        ${I} h2 = q2 + a2 - r2;
        ${I} h3 = q3 + a3 - r3;
        if (h1 >= 0 && h1 < o1 && h2 >= 0 && h2 < o2 && h3 >= 0 && h3 < o3) kl_matvec(sc, z, st, so + ((h1 * o2 + h2) * o3 + h3) * F, F, U, tap * F * G, G, G);
      }
    }
    for (${I} q = 0; q < P; q++) {
      for (${I} j = 0; j < F; j++) {
        ${I} zq = zo + q * G;
        ${I} k = q * F + j;
        ${R} ig = ${d.call('rec', 'sc[zq + j]')};
        ${R} fg = ${d.call('rec', 'sc[zq + F + j]')};
        ${R} cc = ${d.call('act', 'sc[zq + 2 * F + j]')};
        ${R} og = ${d.call('rec', 'sc[zq + 3 * F + j]')};
        ${R} c = fg * st[so + u + k] + ig * cc;
        sc[nco + k] = c;
        sc[nho + k] = og * ${d.call('act', 'c')};
      }
    }
    kl_step_end(mask, mo, hasMask, t, s, st, so, sc, nho, 2 * u, po, u, zeroOutputForMask, returnSequences, y, yo);
  }
  if (returnSequences == 0) for (${I} j = 0; j < u; j++) y[yo + j] = sc[po + j];
}

/* y[t] = x[T-1-t]: the backward direction's sequence back in input time */
${fn('kl_reverse', [['in', 'x'], ['int', 'xo'], ['int', 'T'], ['int', 'w'], ['out', 'y'], ['int', 'yo']])} {
  for (${I} t = 0; t < T; t++) for (${I} k = 0; k < w; k++) y[yo + t * w + k] = x[xo + (T - 1 - t) * w + k];
}

/* y = a (op) b elementwise; op 0 add, 1 subtract, 2 multiply, 3 maximum, 4 minimum */
${fn('kl_merge', [['in', 'a'], ['int', 'ao'], ['in', 'b'], ['int', 'bo'], ['int', 'n'], ['int', 'op'], ['out', 'y'], ['int', 'yo']])} {
  for (${I} k = 0; k < n; k++) {
    ${R} p = a[ao + k];
    ${R} q = b[bo + k];
    y[yo + k] = op == 0 ? p + q : op == 1 ? p - q : op == 2 ? p * q : op == 3 ? (p > q ? p : q) : (p < q ? p : q);
  }
}

${fn('kl_scale', [['out', 'y'], ['int', 'yo'], ['int', 'n'], ['int', 'divisor']])} {
  for (${I} k = 0; k < n; k++) y[yo + k] = y[yo + k] / divisor;
}

/* concatenation: for each of outer blocks, chunk values of x go to y at column offset at, row width yw */
${fn('kl_concat_part', [['in', 'x'], ['int', 'xo'], ['int', 'outer'], ['int', 'chunk'], ['out', 'y'], ['int', 'yo'], ['int', 'yw'], ['int', 'at']])} {
  for (${I} o = 0; o < outer; o++) for (${I} k = 0; k < chunk; k++) y[yo + o * yw + at + k] = x[xo + o * chunk + k];
}

/* Conv1D: y[t, f] = act(b[f] + sum_{j, c} x[t stride + j dilation - padBefore, c] W[j, c, f]), zeros outside x */
${fn('kl_conv1d', [['in', 'x'], ['int', 'xo'], ['int', 'T'], ['int', 'C'], ['in', 'W'], ['int', 'K'], ['int', 'F'], ['int', 'stride'], ['int', 'dilation'], ['int', 'padBefore'], ['int', 'outT'], ['in', 'b'], ['int', 'hasBias'], ['out', 'y'], ['int', 'yo'], ['fn', 'act']])} {
  for (${I} t = 0; t < outT; t++) {
    ${I} o = yo + t * F;
    for (${I} f = 0; f < F; f++) y[o + f] = hasBias != 0 ? b[f] : 0.0;
    for (${I} j = 0; j < K; j++) {
      ${I} at = t * stride + j * dilation - padBefore;
      if (at < 0 || at >= T) continue;
      for (${I} c = 0; c < C; c++) {
        ${A} xv = x[xo + at * C + c];
        for (${I} f = 0; f < F; f++) y[o + f] += xv * W[(j * C + c) * F + f];
      }
    }
    for (${I} f = 0; f < F; f++) y[o + f] = ${d.call('act', 'y[o + f]')};
  }
}

/* Max/AveragePooling1D: window of pool steps every stride steps; padded cells are ignored */
${fn('kl_pool1d', [['in', 'x'], ['int', 'xo'], ['int', 'T'], ['int', 'C'], ['int', 'pool'], ['int', 'stride'], ['int', 'padBefore'], ['int', 'outT'], ['int', 'average'], ['out', 'y'], ['int', 'yo']])} {
  for (${I} t = 0; t < outT; t++) {
    ${I} from = t * stride - padBefore;
    ${I} to = from + pool;
    if (from < 0) from = 0;
    if (to > T) to = T;
    for (${I} c = 0; c < C; c++) {
      ${R} acc = average != 0 ? 0.0 : ${d.negInf};
      for (${I} s = from; s < to; s++) {
        ${R} v = x[xo + s * C + c];
        if (average != 0) acc += v; else if (v > acc) acc = v;
      }
      y[yo + t * C + c] = average != 0 ? acc / (to - from) : acc;
    }
  }
}

/* GlobalAverage/MaxPooling1D: over all steps (the average over the real steps when masked) */
${fn('kl_global_pool', [['in', 'x'], ['int', 'xo'], ['int', 'T'], ['int', 'C'], ['int', 'average'], ['in', 'mask'], ['int', 'mo'], ['int', 'hasMask'], ['out', 'y'], ['int', 'yo']])} {
  for (${I} c = 0; c < C; c++) {
    ${R} acc = average != 0 ? 0.0 : ${d.negInf};
    ${R} weight = 0.0;
    for (${I} t = 0; t < T; t++) {
      ${R} v = x[xo + t * C + c];
      ${R} m = hasMask != 0 ? mask[mo + t] : 1.0;
      if (average != 0) { acc += v * m; weight += m; } else if (v > acc) acc = v;
    }
    y[yo + c] = average != 0 ? acc / weight : acc;
  }
}

/* PReLU: y = x if x >= 0 else alpha * x (alpha: one slope per value) */
${fn('kl_prelu', [['in', 'x'], ['int', 'xo'], ['int', 'n'], ['in', 'alpha'], ['out', 'y'], ['int', 'yo']])} {
  for (${I} k = 0; k < n; k++) y[yo + k] = x[xo + k] >= 0.0 ? x[xo + k] : alpha[k] * x[xo + k];
}

/* mask operations: y = (x != value) as 1/0; y[r] = 1 where any of row r's w values is non-zero */
${fn('kl_not_equal', [['in', 'x'], ['int', 'xo'], ['int', 'n'], ['real', 'value'], ['out', 'y'], ['int', 'yo']])} {
  for (${I} k = 0; k < n; k++) y[yo + k] = x[xo + k] != value ? 1.0 : 0.0;
}

${fn('kl_any_last', [['in', 'x'], ['int', 'xo'], ['int', 'rows'], ['int', 'w'], ['out', 'y'], ['int', 'yo']])} {
  for (${I} r = 0; r < rows; r++) {
    ${I} any = 0;
    for (${I} k = 0; k < w; k++) if (x[xo + r * w + k] != 0.0) any = 1;
    y[yo + r] = any != 0 ? 1.0 : 0.0;
  }
}

/* ZeroPadding1D / Cropping1D: y[t, :] = x[t - before, :] where that step exists, else 0 (before < 0 crops) */
${fn('kl_pad_steps', [['in', 'x'], ['int', 'xo'], ['int', 'T'], ['int', 'C'], ['int', 'before'], ['int', 'outT'], ['out', 'y'], ['int', 'yo']])} {
  for (${I} t = 0; t < outT; t++) {
    ${I} src = t - before;
    for (${I} c = 0; c < C; c++) y[yo + t * C + c] = (src >= 0 && src < T) ? x[xo + src * C + c] : 0.0;
  }
}

/* UpSampling1D: y[t, :] = x[t / size, :] (integer division): every step size times */
${fn('kl_upsample_steps', [['in', 'x'], ['int', 'xo'], ['int', 'T'], ['int', 'C'], ['int', 'size'], ['out', 'y'], ['int', 'yo']])} {
  for (${I} t = 0; t < T * size; t++) {
    ${I} src = (t - t % size) / size;
    for (${I} c = 0; c < C; c++) y[yo + t * C + c] = x[xo + src * C + c];
  }
}

/* Permute: y, walked in order over its axes of sizes n0..n3, reads x at i0 s0 + i1 s1 + i2 s2 + i3 s3, where s_k is
 * x's stride along the axis that becomes y's axis k (fewer axes: leading n = 1, s = 0) */
${fn('kl_transpose', [['in', 'x'], ['int', 'xo'], ['int', 'n0'], ['int', 'n1'], ['int', 'n2'], ['int', 'n3'], ['int', 's0'], ['int', 's1'], ['int', 's2'], ['int', 's3'], ['out', 'y'], ['int', 'yo']])} {
  ${I} k = yo;
  for (${I} i0 = 0; i0 < n0; i0++)
    for (${I} i1 = 0; i1 < n1; i1++)
      for (${I} i2 = 0; i2 < n2; i2++)
        for (${I} i3 = 0; i3 < n3; i3++) y[k++] = x[xo + i0 * s0 + i1 * s1 + i2 * s2 + i3 * s3];
}

/* LayerNormalization over each row of W values, in Keras's order:
 *   mean, variance of the row;  inv = 1 / sqrt(variance + eps) * gamma[j];  y = x * inv + (beta[j] - mean * inv)
 * mode 1 (rms_scaling=True, as Keras 3 computes it): the same inv, y = x * inv;
 * mode 2 (RMSNormalization): variance is the mean square of the row, y = x * inv */
${fn('kl_layernorm', [['in', 'x'], ['int', 'xo'], ['int', 'rows'], ['int', 'W'], ['in', 'gamma'], ['int', 'hasGamma'], ['in', 'beta'], ['int', 'hasBeta'], ['real', 'eps'], ['int', 'mode'], ['out', 'y'], ['int', 'yo']])} {
  for (${I} r = 0; r < rows; r++) {
    ${I} o = r * W;
    ${R} mean = 0.0;
    for (${I} j = 0; j < W; j++) mean += x[xo + o + j];
    mean = mean / W;
    ${R} variance = 0.0;
    for (${I} j = 0; j < W; j++) variance += mode == 2 ? x[xo + o + j] * x[xo + o + j] : (x[xo + o + j] - mean) * (x[xo + o + j] - mean);
    variance = variance / W;
    ${R} base = 1.0 / ${d.m('sqrt')}(variance + eps);
    for (${I} j = 0; j < W; j++) {
      ${R} inv = hasGamma != 0 ? base * gamma[j] : base;
      y[yo + o + j] = mode == 0 ? x[xo + o + j] * inv + ((hasBeta != 0 ? beta[j] : 0.0) - mean * inv) : x[xo + o + j] * inv;
    }
  }
}

/* BatchNormalization over the last axis (rows of C channels), in TensorFlow's order:
 *   inv = 1 / sqrt(variance[c] + eps) * gamma[c];  y = x * inv + (beta[c] - mean[c] * inv) */
${fn('kl_batchnorm', [['in', 'x'], ['int', 'xo'], ['int', 'rows'], ['int', 'C'], ['in', 'gamma'], ['int', 'hasGamma'], ['in', 'beta'], ['int', 'hasBeta'], ['in', 'mean'], ['in', 'variance'], ['real', 'eps'], ['out', 'y'], ['int', 'yo']])} {
  for (${I} c = 0; c < C; c++) {
    ${R} inv = 1.0 / ${d.m('sqrt')}(variance[c] + eps);
    if (hasGamma != 0) inv = inv * gamma[c];
    ${R} shift = (hasBeta != 0 ? beta[c] : 0.0) - mean[c] * inv;
    for (${I} r = 0; r < rows; r++) y[yo + r * C + c] = x[xo + r * C + c] * inv + shift;
  }
}

/* Attention / AdditiveAttention (Keras's dense attention) on query q (Tq, D), key k (Tv, D), value v (Tv, Dv):
 *   mode 0 (dot):      s[i, j] = sum_c q[i, c] k[j, c]                  (* scale[0] with use_scale)
 *   mode 1 (concat):   s[i, j] = csw * sum_c tanh(q[i, c] + k[j, c])    (tanh(scale[0] * (q + k)) with use_scale)
 *   mode 2 (additive): s[i, j] = sum_c scale[c] * tanh(q[i, c] + k[j, c]) (scale = 1 without use_scale)
 *   kept where vm[j] != 0 and (j <= i when causal); elsewhere s = float32(float32(s) - 1e9), as Keras computes it
 *   w[i, :] = softmax_j(s[i, :]);  y[i, :] = sum_j w[i, j] v[j, :], 0 where qm[i] = 0 */
${fn('kl_attention', [['in', 'q'], ['int', 'qo'], ['in', 'k'], ['int', 'ko'], ['in', 'v'], ['int', 'vo'], ['int', 'Tq'], ['int', 'Tv'], ['int', 'D'], ['int', 'Dv'], ['int', 'mode'], ['in', 'scale'], ['int', 'hasScale'], ['in', 'csw'], ['int', 'hasCsw'], ['in', 'qm'], ['int', 'qmo'], ['int', 'hasQm'], ['in', 'vm'], ['int', 'vmo'], ['int', 'hasVm'], ['int', 'causal'], ['out', 'w'], ['int', 'wo'], ['out', 'y'], ['int', 'yo']])} {
  for (${I} i = 0; i < Tq; i++) {
    ${I} wr = wo + i * Tv;
    ${R} mx = ${d.negInf};
    for (${I} j = 0; j < Tv; j++) {
      ${R} s = 0.0;
      for (${I} c = 0; c < D; c++) {
        ${R} a = q[qo + i * D + c];
        ${R} b = k[ko + j * D + c];
        if (mode == 0) s += a * b;
        else if (mode == 1) s += ${d.m('tanh')}(hasScale != 0 ? scale[0] * (a + b) : a + b);
        else s += (hasScale != 0 ? scale[c] : 1.0) * ${d.m('tanh')}(a + b);
      }
      if (mode == 0 && hasScale != 0) s = s * scale[0];
      if (mode == 1 && hasCsw != 0) s = csw[0] * s;
      if (!((hasVm == 0 || vm[vmo + j] != 0.0) && (causal == 0 || j <= i))) s = ${d.f32(`${d.f32('s')} - 1e9`)};
      w[wr + j] = s;
      if (s > mx) mx = s;
    }
    ${R} sum = 0.0;
    for (${I} j = 0; j < Tv; j++) {
      ${R} e = ${d.m('exp')}(w[wr + j] - mx);
      w[wr + j] = e;
      sum += e;
    }
    for (${I} j = 0; j < Tv; j++) w[wr + j] = w[wr + j] / sum;
    ${I} real = (hasQm == 0 || qm[qmo + i] != 0.0) ? 1 : 0;
    for (${I} c = 0; c < Dv; c++) {
      ${R} acc = 0.0;
      if (real != 0) for (${I} j = 0; j < Tv; j++) acc += w[wr + j] * v[vo + j * Dv + c];
      y[yo + i * Dv + c] = acc;
    }
  }
}

/* RepeatVector: n copies of the w values */
${fn('kl_repeat', [['in', 'x'], ['int', 'xo'], ['int', 'n'], ['int', 'w'], ['out', 'y'], ['int', 'yo']])} {
  for (${I} t = 0; t < n; t++) for (${I} k = 0; k < w; k++) y[yo + t * w + k] = x[xo + k];
}
`;
}

/** Offsets in the per-sample workspace: every tensor and mask, then the recurrent scratch. */
export interface Layout {
  offset: Map<string, number>;
  scratch: number;
  scratchSize: number;
  total: number;
}

export function layout(plan: Plan): Layout {
  const offset = new Map<string, number>();
  let at = 0;
  const aliases = new Map<string, string>();
  for (const s of plan.steps) if (s.op === 'reshape') aliases.set(s.y.id, s.x.id);
  for (const t of plan.tensors) {
    if (aliases.has(t.id)) continue;
    offset.set(t.id, at);
    at += t.size;
  }
  for (const [y, x] of aliases) {
    let root = x;
    while (aliases.has(root)) root = aliases.get(root)!;
    offset.set(y, offset.get(root)!);
  }
  for (const m of plan.masks) {
    offset.set(m.id, at);
    at += m.steps;
  }
  // states: h (and c) of each recurrent step must be adjacent (h at so, c at so + u): they are, in plan order
  let scratchSize = 1;
  for (const s of plan.steps) if (s.op === 'rnn') scratchSize = Math.max(scratchSize, (s.cell === 'lstm' ? 7 : s.cell === 'gru' ? 9 : 2) * s.units);
  for (const s of plan.steps) if (s.op === 'conv_lstm') scratchSize = Math.max(scratchSize, 7 * s.states[0].size); // kl_conv_lstm: 4u + 3u
  return { offset, scratch: at, scratchSize, total: at + scratchSize };
}

/** The generated activation functions. Softmax ones are the identity here (the softmax helper runs after). */
export function activationFunctions(plan: Plan, d: Dialect): string {
  const out: string[] = [];
  const done = new Set<string>();
  for (const [a, id] of activationNames(plan)) {
    if (done.has(id)) continue;
    done.add(id);
    out.push(`/* ${a.name} = ${a.formula} */`);
    out.push(d.actFn(id, a.softmax ? 'return x; /* the softmax over the row runs after (kl_softmax) */' : `return ${scalarExpr(a.expr!, d)};`));
  }
  return out.join('\n');
}

/** The per-sample body: one helper call per step under its comment block. `w(weight)` names a weight array. */
export function sampleBody(plan: Plan, d: Dialect, lay: Layout, w: (x: PlanWeight) => string, indent = '  '): string {
  const acts = activationNames(plan);
  const L: string[] = [];
  const off = (t: PlanTensor | string) => String(lay.offset.get(typeof t === 'string' ? t : t.id));
  const W = (o: string | number) => d.at('ws', o);
  const T = (t: PlanTensor) => W(off(t));
  const M = (m: string | null) => (m ? `${W(off(m))}, 1` : `${d.none}, 0, 0`);
  const act = (a: ExportActivation) => d.fnRef(acts.get(a)!);
  const B = (b: PlanWeight | null) => (b ? `${w(b)}, 1` : `${d.none}, 0`);
  const softmax = (a: ExportActivation, y: PlanTensor, rows: number, width: number) =>
    a.softmax ? [`kl_softmax(${W(off(y))}, ${rows}, ${width}, ${a.softmax === 'log_softmax' ? 1 : 0});`] : [];
  const code = (s: Step): string[] => {
    switch (s.op) {
      case 'dense':
        return [`kl_dense(${T(s.x)}, ${s.rows}, ${s.inDim}, ${w(s.kernel)}, ${s.units}, ${B(s.bias)}, ${T(s.y)}, ${act(s.act)});`, ...softmax(s.act, s.y, s.rows, s.units)];
      case 'activation':
        return [`kl_apply(${T(s.x)}, ${s.x.size}, ${T(s.y)}, ${act(s.act)});`, ...softmax(s.act, s.y, s.rows, s.width)];
      case 'reshape':
        return [`/* ${s.y.id} is ${s.x.id} (same values) */`];
      case 'embedding':
        return [`kl_embedding(${T(s.x)}, ${s.count}, ${w(s.table)}, ${s.rows}, ${s.dim}, ${T(s.y)});`];
      case 'masking':
        return [`kl_masking(${T(s.x)}, ${s.steps}, ${s.features}, MASK_VALUE_${s.mask}, ${T(s.y)}, ${W(off(s.mask))});`];
      case 'mask_nonzero':
        return [`kl_mask_nonzero(${T(s.x)}, ${s.steps}, ${W(off(s.mask))});`];
      case 'mask_and': {
        const lines = [`kl_mask_and(${W(off(s.masks[0]))}, ${W(off(s.masks[1]))}, ${s.steps}, ${W(off(s.mask))});`];
        for (const m of s.masks.slice(2)) lines.push(`kl_mask_and(${W(off(s.mask))}, ${W(off(m))}, ${s.steps}, ${W(off(s.mask))});`);
        return lines;
      }
      case 'mask_reverse':
        return [`kl_reverse(${W(off(s.source))}, ${s.steps}, 1, ${W(off(s.mask))});`];
      case 'rnn': {
        const lines: string[] = [];
        const so = off(s.states[0]);
        // states: initial values (or zeros) into h (and c, right after h)
        s.states.forEach((st, k) => {
          if (s.initial) lines.push(`kl_copy(${T(s.initial[k])}, ${s.units}, ${T(st)});`);
          else lines.push(`kl_zero(${T(st)}, ${s.units});`);
        });
        const common = `${T(s.x)}, ${s.steps}, ${s.inDim}, ${s.units}, ${w(s.kernel)}, ${w(s.recurrent)}, ${B(s.bias)}`;
        const flags = `${M(s.mask)}, ${s.goBackwards ? 1 : 0}, ${s.returnSequences ? 1 : 0}, ${s.zeroOutputForMask ? 1 : 0}, ${W(so)}, ${T(s.y)}, ${W(lay.scratch)}`;
        if (s.cell === 'lstm') lines.push(`kl_lstm(${common}, ${flags}, ${act(s.act)}, ${act(s.recAct!)});`);
        else if (s.cell === 'gru') lines.push(`kl_gru(${common}, ${s.resetAfter ? 1 : 0}, ${flags}, ${act(s.act)}, ${act(s.recAct!)});`);
        else lines.push(`kl_simple_rnn(${common}, ${flags}, ${act(s.act)});`);
        return lines;
      }
      case 'conv_lstm': {
        const u = s.states[0].size;
        const lines = s.states.map((st, k) => (s.initial ? `kl_copy(${T(s.initial[k])}, ${u}, ${T(st)});` : `kl_zero(${T(st)}, ${u});`));
        // the spatial axes padded to 3 with leading size-1 axes (kernel 1, stride 1, no padding there)
        const three = (v: number[], fill: number) => [...new Array(3 - v.length).fill(fill), ...v].join(', ');
        const geometry = [three(s.kernelSize, 1), three(s.strides, 1), three(s.dilation, 1), three(s.padBefore, 0), three(s.recPadBefore, 0)].join(', ');
        const flags = `${M(s.mask)}, ${s.goBackwards ? 1 : 0}, ${s.returnSequences ? 1 : 0}, ${s.zeroOutputForMask ? 1 : 0}, ${T(s.states[0])}, ${T(s.y)}, ${W(lay.scratch)}`;
        lines.push(`kl_conv_lstm(${T(s.x)}, ${s.steps}, ${s.cin}, ${three(s.inSpatial, 1)}, ${three(s.outSpatial, 1)}, ${s.filters}, ${w(s.kernel)}, ${w(s.recurrent)}, ${B(s.bias)}, ${geometry}, ${flags}, ${act(s.act)}, ${act(s.recAct)});`);
        return lines;
      }
      case 'reverse':
        return [`kl_reverse(${T(s.x)}, ${s.steps}, ${s.width}, ${T(s.y)});`];
      case 'merge': {
        const op = { add: 0, subtract: 1, multiply: 2, maximum: 3, minimum: 4, average: 0 }[s.mode];
        const lines = [`kl_merge(${T(s.xs[0])}, ${T(s.xs[1])}, ${s.y.size}, ${op}, ${T(s.y)});`];
        for (const x of s.xs.slice(2)) lines.push(`kl_merge(${T(s.y)}, ${T(x)}, ${s.y.size}, ${op}, ${T(s.y)});`);
        if (s.mode === 'average') lines.push(`kl_scale(${T(s.y)}, ${s.y.size}, ${s.xs.length});`);
        return lines;
      }
      case 'concat': {
        const yw = s.chunks.reduce((a, b) => a + b, 0);
        let at = 0;
        return s.xs.map((x, k) => {
          const line = `kl_concat_part(${T(x)}, ${s.outer}, ${s.chunks[k]}, ${T(s.y)}, ${yw}, ${at});`;
          at += s.chunks[k];
          return line;
        });
      }
      case 'conv1d':
        return [
          `kl_conv1d(${T(s.x)}, ${s.steps}, ${s.cin}, ${w(s.kernel)}, ${s.k}, ${s.filters}, ${s.stride}, ${s.dilation}, ${s.padBefore}, ${s.outSteps}, ${B(s.bias)}, ${T(s.y)}, ${act(s.act)});`,
          ...softmax(s.act, s.y, s.outSteps, s.filters),
        ];
      case 'pool1d':
        return [`kl_pool1d(${T(s.x)}, ${s.steps}, ${s.channels}, ${s.pool}, ${s.stride}, ${s.padBefore}, ${s.outSteps}, ${s.average ? 1 : 0}, ${T(s.y)});`];
      case 'global_pool':
        return [`kl_global_pool(${T(s.x)}, ${s.steps}, ${s.channels}, ${s.average ? 1 : 0}, ${M(s.mask)}, ${T(s.y)});`];
      case 'repeat':
        return [`kl_repeat(${T(s.x)}, ${s.n}, ${s.width}, ${T(s.y)});`];
      case 'prelu':
        return [`kl_prelu(${T(s.x)}, ${s.x.size}, ${w(s.alpha)}, ${T(s.y)});`];
      case 'not_equal':
        return [`kl_not_equal(${T(s.x)}, ${s.x.size}, ${d.num(s.value)}, ${T(s.y)});`];
      case 'any_last':
        return [`kl_any_last(${T(s.x)}, ${s.rows}, ${s.width}, ${T(s.y)});`];
      case 'pad_steps':
        return [`kl_pad_steps(${T(s.x)}, ${s.steps}, ${s.channels}, ${s.before}, ${s.outSteps}, ${T(s.y)});`];
      case 'upsample_steps':
        return [`kl_upsample_steps(${T(s.x)}, ${s.steps}, ${s.channels}, ${s.size}, ${T(s.y)});`];
      case 'transpose': {
        // x's strides (row-major), then y's axis sizes and x's strides in y's axis order, padded to 4 axes
        const strides = s.x.shape.map((_, a) => s.x.shape.slice(a + 1).reduce((p, q) => p * q, 1));
        const pad = 4 - s.perm.length;
        const n = [...new Array(pad).fill(1), ...s.perm.map((a) => s.x.shape[a])];
        const st = [...new Array(pad).fill(0), ...s.perm.map((a) => strides[a])];
        return [`kl_transpose(${T(s.x)}, ${n.join(', ')}, ${st.join(', ')}, ${T(s.y)});`];
      }
      case 'layernorm':
        return [`kl_layernorm(${T(s.x)}, ${s.rows}, ${s.width}, ${B(s.gamma)}, ${B(s.beta)}, ${d.num(s.epsilon)}, ${s.mode === 'layer' ? 0 : s.mode === 'rms_scaling' ? 1 : 2}, ${T(s.y)});`];
      case 'attention': {
        const mode = s.score === 'dot' ? 0 : s.score === 'concat' ? 1 : 2;
        return [`kl_attention(${T(s.q)}, ${T(s.k)}, ${T(s.v)}, ${s.tq}, ${s.tv}, ${s.dim}, ${s.valueDim}, ${mode}, ${B(s.scale)}, ${B(s.concatWeight)}, ${M(s.qMask)}, ${M(s.vMask)}, ${s.causal ? 1 : 0}, ${T(s.w)}, ${T(s.y)});`];
      }
      case 'batchnorm':
        return [`kl_batchnorm(${T(s.x)}, ${s.rows}, ${s.channels}, ${B(s.gamma)}, ${B(s.beta)}, ${w(s.mean)}, ${w(s.variance)}, ${d.num(s.epsilon)}, ${T(s.y)});`];
    }
  };
  for (const s of plan.steps) {
    L.push('');
    for (const line of stepLines(s)) L.push(`${indent}/* ${line} */`);
    for (const line of code(s)) L.push(`${indent}${line}`);
  }
  return L.join('\n');
}

/** Masking values used by the plan (as one-element arrays, so the helpers can read them like weights). */
export function maskingValues(plan: Plan): { id: string; value: number }[] {
  return plan.steps.filter((s): s is Extract<Step, { op: 'masking' }> => s.op === 'masking').map((s) => ({ id: `MASK_VALUE_${s.mask}`, value: s.value }));
}
