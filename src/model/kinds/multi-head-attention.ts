/**
 * MultiHeadAttention, as Keras 3.15 computes it (keras/src/layers/attention/multi_head_attention.py).
 * N = num_heads, K = key_dim, V = value_dim (default K); query (B, T..., dq), value (B, S..., dv),
 * key (B, S..., dk) = value unless given.
 *
 *   Q[b, t, n, c] = Σ_i query[b, t, i] · Wq[i, n, c] + bq[n, c]        (EinsumDense 'abc,cde->abde'; likewise K, V)
 *   score[b, n, t, s] = Σ_c (Q[b, t, n, c] / √K) · Kp[b, s, n, c]       ('aecd,abcd->acbe')
 *   w = softmax over the key attention axes (all of them jointly), masked (below)
 *   A[b, t, n, c] = Σ_s w[b, n, t, s] · Vp[b, s, n, c]                  ('acbe,aecd->abcd')
 *   A ← A ⊙ sigmoid(query·Wg + bg)                                      (use_gate only)
 *   out[b, t, o] = Σ_{n, c} A[b, t, n, c] · Wo[n, c, o] + bo[o]         ('abcd,cde->abe'; o over output_shape,
 *                                                                         default the query's last dim)
 * attention_axes (default: every axis between batch and features) choose which axes attend; the others act as
 * batch axes (they must agree between query and key).
 *
 * Masks (rank-3 inputs): attention_mask[b, t, s] = query_mask[b, t] ∧ value_mask[b, s] ∧ key_mask[b, s]
 *   ∧ (s ≤ t if use_causal_mask) ∧ (|t − s| < sliding_window if set) ∧ the call's attention_mask tensor.
 * The key mask counts only when a key is passed. A row that the mask closes completely: Keras's fused path
 * (dropout 0, no return_attention_scores, rank-3 inputs) gives it a uniform softmax over all key steps; the explicit
 * path (Softmax layer with a mask) gives it zeros; tf.keras 2.x's Softmax adds −1e9 to the masked scores (so
 * such a row gets the softmax of the shifted scores). All three are reproduced. Output mask: the query's mask. Keras 3
 * also deletes the Keras masks of the query, value and key tensors themselves: layers that read them later see none.
 * Dropout acts only in training: ignored here.
 *
 * Weights: four (five with use_gate) EinsumDense sublayers. get_weights() order: query kernel, query bias, key
 * kernel, key bias, [gate kernel, gate bias,] value kernel, value bias, output kernel, output bias (no biases
 * without use_bias). Files name them by sublayer: Keras 3 `.keras`/`.weights.h5` `query_dense/vars/0`,
 * `output_dense/vars/1`, ...; legacy `.h5` and tf.keras `multi_head_attention/query/kernel(:0)`,
 * `.../attention_output/bias`. Bound by those names, never by position when names are there.
 */
import type { ForwardArgs, ForwardResult, KindContext, LayerConfig, LayerKind, Mask, Tensor, WeightRef, WeightRole } from '../types';
import { KerasLensError } from '../types';
import { addBiasRows, matmul } from '../../kernels/reference';
import { callOption, returnsScores } from './dense-attention';
import { tensorOf } from './bind-by-name';

type Part = 'query' | 'key' | 'value' | 'gate' | 'output';

interface MhaSettings {
  heads: number;
  keyDim: number;
  valueDim: number;
  useBias: boolean;
  useGate: boolean;
  outputShape: number[] | null;
  attentionAxes: number[] | null;
  dropout: number;
  slidingWindow: number | null;
}

function positiveInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0;
}

/**
 * The layer's settings. `lenient` (weights-only explanations, where no config is at hand): a missing num_heads /
 * key_dim reads as 1 and weightRoles then gives no shapes nor rows, only what each array is.
 */
function settings(layer: LayerConfig, lenient = false): MhaSettings {
  const c = layer.config;
  const known = positiveInt(c.num_heads) && positiveInt(c.key_dim);
  const heads = known || !lenient ? c.num_heads : 1;
  const keyDim = known || !lenient ? c.key_dim : 1;
  if (!positiveInt(heads) || !positiveInt(keyDim)) {
    throw new KerasLensError(null, `layer '${layer.name}' (MultiHeadAttention) needs positive integers num_heads and key_dim in its config`);
  }
  const valueDim = positiveInt(c.value_dim) ? c.value_dim : keyDim;
  let outputShape: number[] | null = null;
  if (positiveInt(c.output_shape)) outputShape = [c.output_shape];
  else if (Array.isArray(c.output_shape) && c.output_shape.length > 0) {
    if (!c.output_shape.every(positiveInt)) throw new KerasLensError(null, `layer '${layer.name}': output_shape ${JSON.stringify(c.output_shape)} is not a list of positive integers`);
    outputShape = c.output_shape as number[];
  }
  let attentionAxes: number[] | null = null;
  if (typeof c.attention_axes === 'number') attentionAxes = [c.attention_axes];
  else if (Array.isArray(c.attention_axes)) attentionAxes = c.attention_axes.map(Number);
  return {
    heads,
    keyDim,
    valueDim,
    useBias: c.use_bias !== false,
    useGate: c.use_gate === true,
    outputShape,
    attentionAxes,
    dropout: typeof c.dropout === 'number' ? c.dropout : 0,
    slidingWindow: positiveInt(c.sliding_window) ? c.sliding_window : null,
  };
}

const PART_WORDS: Record<Part, { what: string; input: string; dim: 'key_dim' | 'value_dim' }> = {
  query: { what: 'query projection', input: 'query', dim: 'key_dim' },
  key: { what: 'key projection', input: 'key', dim: 'key_dim' },
  value: { what: 'value projection', input: 'value', dim: 'value_dim' },
  gate: { what: 'gate projection (sigmoid)', input: 'query', dim: 'value_dim' },
  output: { what: 'output projection', input: '', dim: 'value_dim' },
};

type DeclaredRows = NonNullable<WeightRole['rows']>;

/** Matrix-view rows of a projection kernel (feature, head, dim): row i·N + n is (input feature i, head n). */
function featureHeadRows(source: string, inDim: number, heads: number): DeclaredRows {
  return Array.from({ length: inDim }, (_, i) => ({ source: `${source} feature ${i} →`, start: i * heads, end: (i + 1) * heads, offset: 0, index: 'head' }));
}

/** Matrix-view rows of the output kernel (head, value_dim, out...): row n·V + c is component c of head n. */
function headComponentRows(heads: number, valueDim: number): DeclaredRows {
  return Array.from({ length: heads }, (_, n) => ({ source: `head ${n}`, start: n * valueDim, end: (n + 1) * valueDim, offset: 0, index: 'component' }));
}

/** The layer feeding the call's query / value / key (positional, or tf.keras-style keyword), for row names. */
function feeder(layer: LayerConfig, part: 'query' | 'value' | 'key'): string {
  const refs = layer.inbound[0] ?? [];
  const kw = layer.inboundKwargs?.[0] ?? {};
  const q = refs[0]?.layer ?? kw.query?.[0]?.layer;
  const v = refs[1]?.layer ?? kw.value?.[0]?.layer;
  const k = refs[2]?.layer ?? kw.key?.[0]?.layer ?? v;
  return (part === 'query' ? q : part === 'value' ? v : k) ?? part;
}

function partRoles(part: Part, s: MhaSettings, inDim: number | null, outDims: number[] | null, source = ''): WeightRole[] {
  const w = PART_WORDS[part];
  const n = s.heads;
  const dim = part === 'query' || part === 'key' ? s.keyDim : s.valueDim;
  const roles: WeightRole[] = [];
  if (part === 'output') {
    const out = outDims ?? null;
    roles.push({
      role: 'output_kernel',
      meaning: `output projection kernel, axes (head, value_dim, output feature): Wo[n, c, o] carries component c of head n's attended value into output feature o (matrix view: row r = head ⌊r/${s.valueDim}⌋, component r mod ${s.valueDim})`,
      shape: out ? [n, s.valueDim, ...out] : null,
      // heads lie along axis 0, not the last axis that gate blocks split: the rows below name them
      blocks: [],
      rows: out && out.length === 1 ? headComponentRows(n, s.valueDim) : undefined,
    });
    if (s.useBias) roles.push({ role: 'output_bias', meaning: 'output projection bias, one per output feature', shape: out ? [...out] : null, blocks: [] });
    return roles;
  }
  roles.push({
    role: `${part}_kernel`,
    meaning: `${w.what} kernel, axes (${w.input} feature, head, ${w.dim}): W[i, n, c] carries ${w.input} feature i into component c of head n (matrix view: row r = feature ⌊r/${n}⌋, head r mod ${n})`,
    shape: inDim === null ? null : [inDim, n, dim],
    blocks: [], // heads lie along axis 1: the rows name them
    rows: inDim === null ? undefined : featureHeadRows(source, inDim, n),
  });
  if (s.useBias) {
    roles.push({
      role: `${part}_bias`,
      meaning: `${w.what} bias, axes (head, ${w.dim})`,
      shape: [n, dim],
      blocks: [],
      rows: [{ source: 'attention', start: 0, end: n, offset: 0, index: 'head' }],
    });
  }
  return roles;
}

function lastDim(shape: (number | null)[] | undefined): number | null {
  const d = shape?.[shape.length - 1];
  return typeof d === 'number' ? d : null;
}

function mhaWeightRoles(layer: LayerConfig, ctx: KindContext): WeightRole[] {
  const known = positiveInt(layer.config.num_heads) && positiveInt(layer.config.key_dim);
  if (!known) {
    // no config (weights-only files): what each array is, without shapes or rows
    const s = settings(layer, true);
    const bare = (r: WeightRole): WeightRole => ({ ...r, shape: null, blocks: [], rows: undefined });
    return [...partRoles('query', s, null, null), ...partRoles('key', s, null, null), ...partRoles('gate', s, null, null), ...partRoles('value', s, null, null), ...partRoles('output', s, null, null)]
      .map(bare)
      .map((r) => ({ ...r, meaning: r.meaning.replace(/ \(matrix view: .*\)$/, '') }));
  }
  const s = settings(layer);
  const [q, v, k] = ctx.inputShapes ?? [];
  const dq = lastDim(q);
  const dv = lastDim(v);
  // a key passed by keyword (key=...) is not among the call's input shapes: its size is then left unchecked
  const keyByKeyword = !!layer.inboundKwargs?.[ctx.node ?? 0]?.key;
  const dk = k ? lastDim(k) : keyByKeyword ? null : dv;
  const out = s.outputShape ?? (dq === null ? null : [dq]);
  return [
    ...partRoles('query', s, dq, null, feeder(layer, 'query')),
    ...partRoles('key', s, dk, null, feeder(layer, 'key')),
    ...(s.useGate ? partRoles('gate', s, dq, null, feeder(layer, 'query')) : []),
    ...partRoles('value', s, dv, null, feeder(layer, 'value')),
    ...partRoles('output', s, null, out),
  ];
}

const SUBLAYER_PART: Record<string, Part> = {
  query: 'query',
  query_dense: 'query',
  key: 'key',
  key_dense: 'key',
  value: 'value',
  value_dense: 'value',
  gate: 'gate',
  gate_dense: 'gate',
  attention_output: 'output',
  output_dense: 'output',
};

/** The role a stored array holds, from its name: `.../query_dense/vars/0` or `.../query/kernel:0`; null if unsaid. */
function roleFromStoredName(name: string): string | null {
  const seg = name.replace(/:\d+$/, '').split('/');
  let sub: string | undefined;
  let what: 'kernel' | 'bias' | undefined;
  if (seg.length >= 3 && seg[seg.length - 2] === 'vars') {
    sub = seg[seg.length - 3];
    const i = seg[seg.length - 1];
    what = i === '0' ? 'kernel' : i === '1' ? 'bias' : undefined;
  } else if (seg.length >= 2) {
    sub = seg[seg.length - 2];
    const last = seg[seg.length - 1];
    what = last === 'kernel' ? 'kernel' : last === 'bias' ? 'bias' : undefined;
  }
  // Keras 3 names a sublayer's group by its attribute: `query_dense` (a public property), `_gate_dense` (none)
  const part = sub ? SUBLAYER_PART[sub.replace(/^_/, '')] : undefined;
  return part && what ? `${part}_${what}` : null;
}

/** For each stored array, the index of its role: by name when every name says one; else by position. */
function matchStored(layer: LayerConfig, refs: { name: string }[], roles: WeightRole[]): number[] {
  const names = roles.map((r) => r.role);
  const byName = refs.map((r) => roleFromStoredName(r.name));
  if (byName.every((r) => r !== null && names.includes(r)) && new Set(byName).size === byName.length && refs.length === roles.length) {
    return byName.map((r) => names.indexOf(r as string));
  }
  if (byName.every((r) => r === null) && refs.length === roles.length) return roles.map((_, i) => i);
  throw new KerasLensError(
    null,
    `layer '${layer.name}' (MultiHeadAttention) has ${refs.length} stored weight(s) [${refs.map((r) => r.name).join(', ')}] but ${roles.length} were expected [${names.join(', ')}]`,
  );
}

export const multiHeadAttentionKind: LayerKind = {
  classNames: ['MultiHeadAttention'],
  weightRoles: mhaWeightRoles,
  roleOfStoredName: roleFromStoredName,
  storedRoles(layer: LayerConfig, refs: WeightRef[], ctx: KindContext) {
    const roles = mhaWeightRoles(layer, ctx);
    const idx = matchStored(layer, refs, roles);
    return refs.map((ref, i) => ({ ...roles[idx[i]], shape: [...ref.shape] }));
  },
  bindWeights(layer, stored, ctx) {
    const roles = mhaWeightRoles(layer, ctx);
    const idx = matchStored(
      layer,
      stored.map((s) => s.ref),
      roles,
    );
    const out = new Map<string, Tensor>();
    stored.forEach((s, i) => {
      const role = roles[idx[i]];
      if (role.shape && role.shape.reduce((a, b) => a * b, 1) !== s.data.length) {
        throw new KerasLensError(
          null,
          `layer '${layer.name}': weight '${s.ref.name}' has shape (${s.ref.shape.join(',')}) but ${role.role} should be (${role.shape.join(',')})`,
        );
      }
      out.set(role.role, tensorOf(s.ref, s.data));
    });
    return out;
  },
  outputShapes(layer, ctx) {
    const s = settings(layer);
    const [q, v] = ctx.inputShapes;
    if (!q) return [];
    const out = [...q.slice(0, -1), ...(s.outputShape ?? [q[q.length - 1]])];
    if (!returnsScores(layer, ctx.node)) return [out];
    const g = v ? geometry(s, q.length, q, v) : null;
    return [out, g ? g.scoreShape : []];
  },
  forward: mhaForward,
};

// ---------------------------------------------------------------------------------------------
// Forward
// ---------------------------------------------------------------------------------------------

interface Geometry {
  /** attention axes, as axes of the input (1..rank-2) */
  attn: number[];
  /** the other axes between batch and features (batch-like) */
  other: number[];
  /** (B, other..., N, T-axes..., S-axes...) */
  scoreShape: (number | null)[];
}

function geometry(s: MhaSettings, rank: number, q: (number | null)[], k: (number | null)[]): Geometry | null {
  // Keras normalises attention_axes against the projected rank (rank + 1): axis < 0 → (rank + 1 − 1) + axis.
  const projected = rank + 1;
  const attn = (s.attentionAxes ?? Array.from({ length: projected - 3 }, (_, i) => i + 1)).map((a) => (a >= 0 ? a : projected - 1 + a));
  if (attn.some((a) => !Number.isInteger(a) || a < 1 || a > rank - 2)) return null;
  const other = Array.from({ length: rank - 2 }, (_, i) => i + 1).filter((a) => !attn.includes(a));
  const scoreShape = [q[0], ...other.map((a) => q[a]), s.heads, ...attn.map((a) => q[a]), ...attn.map((a) => k[a])];
  return { attn, other, scoreShape };
}

/** y = x · W + b over the last axis of x; W (in, ...out) seen as (in, Π out). */
function project(x: Tensor, w: Tensor, b: Tensor | undefined, what: string): Float64Array {
  const inDim = x.shape[x.shape.length - 1];
  if (w.shape[0] !== inDim) throw new KerasLensError(null, `${what}: kernel (${w.shape.join(', ')}) does not fit inputs with ${inDim} features`);
  const outSize = w.data.length / inDim;
  const rows = x.data.length / inDim;
  const y = matmul(x.data, rows, inDim, w.data, outSize);
  if (b) addBiasRows(y, rows, b.data, outSize);
  return y;
}

function need(args: ForwardArgs, role: string): Tensor {
  const w = args.weights.get(role);
  if (!w) throw new KerasLensError(null, `layer '${args.layer.name}' (MultiHeadAttention) has no '${role}' weight bound`);
  return w;
}

/** A (batch, steps) mask tensor passed as a call argument (value_mask=...), as a Mask; nonzero = keep. */
function maskArgument(t: Tensor | undefined): Mask | null {
  if (!t || t.shape.length !== 2) return null;
  return { batch: t.shape[0], steps: t.shape[1], data: Uint8Array.from(t.data, (v) => (v ? 1 : 0)) };
}

/** Entry [b, i, j] of an explicit attention_mask (B, T, S) (broadcast over size-1 axes) as a boolean. */
function tensorAsBool(t: Tensor, b: number, i: number, j: number): boolean {
  const [mb, mt, ms] = t.shape.length === 3 ? t.shape : t.shape.length === 2 ? [1, t.shape[0], t.shape[1]] : [1, 1, t.shape[0]];
  const idx = ((mb === 1 ? 0 : b) * mt + (mt === 1 ? 0 : i)) * ms + (ms === 1 ? 0 : j);
  return t.data[idx] !== 0;
}

function mhaForward(args: ForwardArgs): ForwardResult {
  const { layer, inputs, masks, node } = args;
  const s = settings(layer);
  const name = `layer '${layer.name}' (MultiHeadAttention)`;
  // query, value, key: positional (Keras 3 `mha(q, v)`) or by keyword (tf.keras 2.x writes `value` as a kwarg of
  // the inbound entry; `mha(query=q, value=v, key=k)`)
  const kw = args.kwargs ?? {};
  const query = inputs[0] ?? kw.query?.[0];
  const value = inputs[1] ?? kw.value?.[0];
  if (!query || !value || inputs.length > 3) throw new KerasLensError(null, `${name} takes query, value and an optional key, not ${inputs.length} input(s)`);
  const keyGiven = inputs[2] ?? kw.key?.[0];
  const key = keyGiven ?? value;
  const rank = query.shape.length;
  if (rank < 3 || value.shape.length !== rank || key.shape.length !== rank) throw new KerasLensError(null, `${name}: query, key and value must have the same rank ≥ 3`);
  const g = geometry(s, rank, query.shape, key.shape);
  if (!g) throw new KerasLensError(null, `${name}: attention_axes ${JSON.stringify(s.attentionAxes)} do not fit rank-${rank} inputs`);
  for (let a = 0; a < rank - 1; a++) {
    if (a === 0 || g.other.includes(a)) {
      if (query.shape[a] !== key.shape[a]) throw new KerasLensError(null, `${name}: query (${query.shape.join(', ')}) and key (${key.shape.join(', ')}) differ on axis ${a}`);
    }
    if (a > 0 && value.shape[a] !== key.shape[a]) throw new KerasLensError(null, `${name}: value (${value.shape.join(', ')}) and key (${key.shape.join(', ')}) differ on axis ${a}`);
  }

  // masks (rank-3 inputs only: Keras Lens masks are per step)
  // value_mask= / key_mask= given by hand win over the tensors' own masks (Keras fills them only when absent);
  // query_mask= is ignored, as Keras 3 reads the query's mask off the tensor itself
  const km = args.kwargMasks ?? {};
  const queryMask: Mask | null = (inputs[0] ? masks[0] : km.query?.[0]) ?? null;
  const valueMask: Mask | null = maskArgument(kw.value_mask?.[0]) ?? (inputs[1] ? masks[1] : km.value?.[0]) ?? null;
  const keyMask: Mask | null = maskArgument(kw.key_mask?.[0]) ?? (keyGiven ? (inputs[2] ? masks[2] : km.key?.[0]) ?? null : null);
  const explicit = args.kwargs?.attention_mask?.[0] ?? null;
  const causal = callOption(layer, node, 'use_causal_mask') === true;
  const anyMask = !!(queryMask || valueMask || keyMask || explicit || causal || s.slidingWindow);
  if (anyMask && rank !== 3) throw new KerasLensError(null, `${name}: masks on rank-${rank} inputs are not supported (rank-3 inputs are)`);
  const scores = returnsScores(layer, node);
  // A row the mask closes completely. Keras 3: the fused dot_product_attention path gives it a uniform softmax,
  // the Softmax-layer path zeros. tf.keras 2.x (Softmax adds −1e9 to masked scores, in float32): softmax of the
  // shifted scores, as computed below.
  const keras3 = /^3(\.|$)/.test(args.ctx.kerasVersion ?? '');
  const closedRow: 'uniform' | 'zeros' | 'shifted' = !keras3 ? 'shifted' : s.dropout === 0 && !scores && rank === 3 ? 'uniform' : 'zeros';

  const H = s.heads;
  const Kd = s.keyDim;
  const Vd = s.valueDim;
  const Q = project(query, need(args, 'query_kernel'), s.useBias ? need(args, 'query_bias') : undefined, `${name} query`);
  const Kp = project(key, need(args, 'key_kernel'), s.useBias ? need(args, 'key_bias') : undefined, `${name} key`);
  const Vp = project(value, need(args, 'value_kernel'), s.useBias ? need(args, 'value_bias') : undefined, `${name} value`);
  if (Q.length !== (query.data.length / query.shape[rank - 1]) * H * Kd || Vp.length !== (value.data.length / value.shape[rank - 1]) * H * Vd) {
    throw new KerasLensError(null, `${name}: projection kernels do not have (features, ${H} heads, key_dim ${Kd} / value_dim ${Vd}) axes`);
  }

  // Positions: the spatial axes 1..rank-2 flattened; split into (other axes, attention axes) index pairs.
  const B = query.shape[0];
  const spatialQ = query.shape.slice(1, -1);
  const spatialK = key.shape.slice(1, -1);
  const positions = (dims: number[]) => {
    const otherDims = g.other.map((a) => dims[a - 1]);
    const attnDims = g.attn.map((a) => dims[a - 1]);
    const nOther = otherDims.reduce((p, d) => p * d, 1);
    const nAttn = attnDims.reduce((p, d) => p * d, 1);
    const strides = new Array<number>(dims.length);
    let acc = 1;
    for (let i = dims.length - 1; i >= 0; i--) {
      strides[i] = acc;
      acc *= dims[i];
    }
    // flat[o * nAttn + t] = flat spatial index
    const flat = new Int32Array(nOther * nAttn);
    for (let o = 0; o < nOther; o++) {
      for (let t = 0; t < nAttn; t++) {
        let idx = 0;
        let r = o;
        for (let i = g.other.length - 1; i >= 0; i--) {
          idx += (r % otherDims[i]) * strides[g.other[i] - 1];
          r = Math.floor(r / otherDims[i]);
        }
        r = t;
        for (let i = g.attn.length - 1; i >= 0; i--) {
          idx += (r % attnDims[i]) * strides[g.attn[i] - 1];
          r = Math.floor(r / attnDims[i]);
        }
        flat[o * nAttn + t] = idx;
      }
    }
    return { nOther, nAttn, flat, total: acc };
  };
  const pq = positions(spatialQ);
  const pk = positions(spatialK);
  const T = pq.nAttn;
  const S = pk.nAttn;
  const PQ = pq.total;
  const PK = pk.total;
  const inv = 1 / Math.sqrt(Kd);

  const A = new Float64Array(B * PQ * H * Vd);
  const W = scores ? new Float64Array(B * pq.nOther * H * T * S) : null;
  const row = new Float64Array(S);
  const open = new Uint8Array(S);
  for (let b = 0; b < B; b++) {
    for (let o = 0; o < pq.nOther; o++) {
      for (let n = 0; n < H; n++) {
        for (let t = 0; t < T; t++) {
          const qi = pq.flat[o * T + t];
          const qOff = ((b * PQ + qi) * H + n) * Kd;
          let max = -Infinity;
          let openCount = 0;
          for (let j = 0; j < S; j++) {
            const kj = pk.flat[o * S + j];
            let keep = true;
            if (anyMask) {
              // rank 3: qi = t, kj = j
              if (queryMask && queryMask.data[b * queryMask.steps + t] === 0) keep = false;
              else if (valueMask && valueMask.data[b * valueMask.steps + j] === 0) keep = false;
              else if (keyMask && keyMask.data[b * keyMask.steps + j] === 0) keep = false;
              else if (causal && j > t) keep = false;
              else if (s.slidingWindow !== null && Math.abs(t - j) >= s.slidingWindow) keep = false;
              else if (explicit && !tensorAsBool(explicit, b, t, j)) keep = false;
            }
            open[j] = keep ? 1 : 0;
            if (!keep) continue;
            openCount++;
            const kOff = ((b * PK + kj) * H + n) * Kd;
            let dot = 0;
            for (let c = 0; c < Kd; c++) dot += Q[qOff + c] * inv * Kp[kOff + c];
            row[j] = dot;
            if (dot > max) max = dot;
          }
          // softmax over the open key positions; a closed row: see closedRow
          if (openCount === 0 && closedRow === 'shifted') {
            let top = -Infinity;
            for (let j = 0; j < S; j++) {
              const kOff = ((b * PK + pk.flat[o * S + j]) * H + n) * Kd;
              let dot = 0;
              for (let c = 0; c < Kd; c++) dot += Q[qOff + c] * inv * Kp[kOff + c];
              row[j] = Math.fround(Math.fround(dot) - 1e9);
              if (row[j] > top) top = row[j];
            }
            let sum = 0;
            for (let j = 0; j < S; j++) sum += row[j] = Math.exp(row[j] - top);
            for (let j = 0; j < S; j++) row[j] /= sum;
          } else if (openCount === 0) {
            if (closedRow === 'uniform') for (let j = 0; j < S; j++) row[j] = 1 / S;
            else row.fill(0);
          } else {
            let sum = 0;
            for (let j = 0; j < S; j++) {
              row[j] = open[j] ? Math.exp(row[j] - max) : 0;
              sum += row[j];
            }
            for (let j = 0; j < S; j++) row[j] /= sum;
          }
          if (W) W.set(row, (((b * pq.nOther + o) * H + n) * T + t) * S);
          const aOff = ((b * PQ + qi) * H + n) * Vd;
          for (let j = 0; j < S; j++) {
            const w = row[j];
            if (w === 0) continue;
            const vOff = ((b * PK + pk.flat[o * S + j]) * H + n) * Vd;
            for (let c = 0; c < Vd; c++) A[aOff + c] += w * Vp[vOff + c];
          }
        }
      }
    }
  }

  if (s.useGate) {
    const gate = project(query, need(args, 'gate_kernel'), s.useBias ? need(args, 'gate_bias') : undefined, `${name} gate`);
    for (let i = 0; i < A.length; i++) A[i] *= 1 / (1 + Math.exp(-gate[i]));
  }
  const wo = need(args, 'output_kernel');
  if (wo.shape[0] !== H || wo.shape[1] !== Vd) throw new KerasLensError(null, `${name}: output kernel (${wo.shape.join(', ')}) does not start with (${H} heads, value_dim ${Vd})`);
  const outDims = wo.shape.slice(2);
  const outSize = outDims.reduce((p, d) => p * d, 1);
  const y = matmul(A, B * PQ, H * Vd, wo.data, outSize);
  if (s.useBias) addBiasRows(y, B * PQ, need(args, 'output_bias').data, outSize);
  const outputs: Tensor[] = [{ shape: [...query.shape.slice(0, -1), ...outDims], data: y }];
  if (W) {
    const scoreShape = [B, ...g.other.map((a) => query.shape[a]), H, ...g.attn.map((a) => query.shape[a]), ...g.attn.map((a) => key.shape[a])];
    outputs.push({ shape: scoreShape, data: W });
  }
  // Keras 3.x call() deletes the masks of query, value and key (set_keras_mask(x, None)): layers reading those
  // tensors after this one see no mask (measured: test/fixtures/keras3-attention/mha_clears_masks_masked).
  return { outputs, masks: outputs.map((_, i) => (i === 0 && rank === 3 ? queryMask : null)), clearsInputMasks: keras3 };
}

