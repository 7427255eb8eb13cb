/**
 * What Attention and AdditiveAttention share (Keras's dense-attention base, keras/src/layers/attention/attention.py):
 * inputs [query (B, Tq, d), value (B, Tv, dv)] or [query, value, key (B, Tv, d)] (key defaults to value), masks
 * [query mask, value mask] (a key mask is ignored, as in Keras), and, once the kind has the scores s (B, Tq, Tv):
 *
 *   scores mask  m[b, i, j] = value_mask[b, j] ∧ (j ≤ i if use_causal_mask)
 *   s'[b, i, j]  = s − 1e9 where ¬m  (Keras subtracts 1e9 in float32; done in float32 here too, so a row whose
 *                  every value step is masked comes out as Keras's, near-uniform, instead of softmax(s))
 *   w = softmax_j(s')          out[b, i, :] = Σ_j w[b, i, j] · value[b, j, :]   (· query_mask[b, i] when masked)
 *
 * Outputs [out] or, when the call passes return_attention_scores=True, [out, w]. Output mask: the query mask
 * (compute_mask returns mask[0]), on the first output only. Dropout acts only in training: ignored here.
 * use_causal_mask is a call argument in Keras 3 and tf.keras ≥ 2.10; older tf.keras had `causal` in the config.
 */
import type { ForwardArgs, ForwardResult, KindContext, LayerConfig, LayerKind, Mask, Tensor, WeightRef, WeightRole } from '../types';
import { KerasLensError } from '../types';
import { asFloat64 } from '../../kernels/reference';
import { bindByMatch, storedRolesByMatch } from './bind-by-name';

/** A non-tensor keyword argument of one call (Keras 3 node kwargs / tf.keras inbound kwargs), or undefined. */
export function callOption(layer: LayerConfig, node: number | undefined, name: string): unknown {
  return layer.callOptions?.[node ?? 0]?.[name];
}

export function useCausalMask(layer: LayerConfig, node: number | undefined): boolean {
  return callOption(layer, node, 'use_causal_mask') === true || layer.config.causal === true;
}

export function returnsScores(layer: LayerConfig, node: number | undefined): boolean {
  return callOption(layer, node, 'return_attention_scores') === true || layer.config.return_attention_scores === true;
}

export interface AttentionInputs {
  query: Tensor;
  value: Tensor;
  key: Tensor;
  batch: number;
  tq: number;
  tv: number;
  /** feature size of query and key */
  dim: number;
  /** feature size of value */
  valueDim: number;
}

/** [query, value, key?] checked for rank 3, equal batch, equal query/key features and value/key steps. */
export function attentionInputs(args: ForwardArgs): AttentionInputs {
  const { layer, inputs } = args;
  if (inputs.length < 2 || inputs.length > 3) {
    throw new KerasLensError(null, `layer '${layer.name}' (${layer.className}) takes [query, value] or [query, value, key], not ${inputs.length} input(s)`);
  }
  const [query, value] = inputs;
  const key = inputs[2] ?? value;
  for (const t of [query, value, key]) {
    if (t.shape.length !== 3) throw new KerasLensError(null, `layer '${layer.name}' (${layer.className}) expects (batch, steps, features) inputs, got (${t.shape.join(', ')})`);
  }
  const [batch, tq, dim] = query.shape;
  const [, tv, valueDim] = value.shape;
  if (value.shape[0] !== batch || key.shape[0] !== batch || key.shape[1] !== tv || key.shape[2] !== dim) {
    throw new KerasLensError(
      null,
      `layer '${layer.name}' (${layer.className}): query (${query.shape.join(', ')}), value (${value.shape.join(', ')}) and key (${key.shape.join(', ')}) do not fit together`,
    );
  }
  return { query, value, key, batch, tq, tv, dim, valueDim };
}

/** Output shapes for input shapes [query, value, key?]: (B, Tq, dv), plus the scores (B, Tq, Tv) when returned. */
export function denseAttentionOutputShapes(layer: LayerConfig, ctx: KindContext): (number | null)[][] {
  const [q, v] = ctx.inputShapes;
  if (!q || !v) return [];
  const out = [...q.slice(0, -1), v[v.length - 1]];
  return returnsScores(layer, ctx.node) ? [out, [q[0], q[1], v[1]]] : [out];
}

/**
 * Applies the masks, the softmax over value steps and the weighted sum of values (see the file comment).
 * `scores` is (B, Tq, Tv) row-major.
 */
export function applyScores(args: ForwardArgs, a: AttentionInputs, scores: Float64Array): ForwardResult {
  const { layer, masks, node } = args;
  const qMask: Mask | null = masks[0] ?? null;
  const vMask: Mask | null = masks[1] ?? null;
  const causal = useCausalMask(layer, node);
  const { batch, tq, tv, valueDim } = a;
  const v = asFloat64(a.value.data);
  const weights = new Float64Array(batch * tq * tv);
  const out = new Float64Array(batch * tq * valueDim);
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < tq; i++) {
      const row = (b * tq + i) * tv;
      let max = -Infinity;
      for (let j = 0; j < tv; j++) {
        let s = scores[row + j];
        const keep = (!vMask || vMask.data[b * vMask.steps + j] !== 0) && (!causal || j <= i);
        // scores -= 1e9 · padding, in float32 as Keras computes it
        if (!keep) s = Math.fround(Math.fround(s) - 1e9);
        weights[row + j] = s;
        if (s > max) max = s;
      }
      let sum = 0;
      for (let j = 0; j < tv; j++) {
        const e = Math.exp(weights[row + j] - max);
        weights[row + j] = e;
        sum += e;
      }
      for (let j = 0; j < tv; j++) weights[row + j] /= sum;
      const keepRow = !qMask || qMask.data[b * qMask.steps + i] !== 0;
      const o = (b * tq + i) * valueDim;
      if (!keepRow) continue; // result · query_mask = 0
      for (let j = 0; j < tv; j++) {
        const w = weights[row + j];
        const vr = (b * tv + j) * valueDim;
        for (let c = 0; c < valueDim; c++) out[o + c] += w * v[vr + c];
      }
    }
  }
  const outputs: Tensor[] = [{ shape: [batch, tq, valueDim], data: out }];
  if (returnsScores(layer, node)) outputs.push({ shape: [batch, tq, tv], data: weights });
  return { outputs, masks: outputs.map((_, i) => (i === 0 ? qMask : null)) };
}

/** One score s[b, i, j] from query row q[qi .. qi + dim) and key row k[kj .. kj + dim). */
export type Score = (q: Float64Array, qi: number, k: Float64Array, kj: number) => number;

/**
 * A dense-attention kind from its weight roles and its score (made once per call from the bound weights); inputs,
 * masks, softmax, weighted sum and output shapes are the shared ones above.
 */
export function denseAttentionKind(
  classNames: string[],
  roles: (layer: LayerConfig, ctx: KindContext) => WeightRole[],
  scoreOf: (args: ForwardArgs, a: AttentionInputs) => Score,
): LayerKind {
  return {
    classNames,
    weightRoles: roles,
    storedRoles(layer: LayerConfig, refs: WeightRef[], ctx: KindContext) {
      return storedRolesByMatch(layer, refs, roles(layer, ctx));
    },
    bindWeights(layer, stored, ctx) {
      return bindByMatch(layer, stored, roles(layer, ctx));
    },
    outputShapes: denseAttentionOutputShapes,
    forward(args: ForwardArgs): ForwardResult {
      const a = attentionInputs(args);
      const q = asFloat64(a.query.data);
      const k = asFloat64(a.key.data);
      const score = scoreOf(args, a);
      const { batch, tq, tv, dim } = a;
      const scores = new Float64Array(batch * tq * tv);
      for (let b = 0; b < batch; b++)
        for (let i = 0; i < tq; i++)
          for (let j = 0; j < tv; j++) scores[(b * tq + i) * tv + j] = score(q, (b * tq + i) * dim, k, (b * tv + j) * dim);
      return applyScores(args, a, scores);
    },
  };
}
