/**
 * Attention (Luong-style dot-product attention), Keras 3 keras/src/layers/attention/attention.py:
 *   score_mode 'dot':    s[b, i, j] = Σ_c q[b, i, c] · k[b, j, c]   (· scale when use_scale)
 *   score_mode 'concat': s[b, i, j] = concat_score_weight · Σ_c tanh(q[b, i, c] + k[b, j, c])
 *                        (tanh(scale · (q + k)) when use_scale)
 * then masks, softmax over value steps and the weighted sum of values as in dense-attention.ts.
 * Weights (get_weights order): scale () if use_scale, concat_score_weight () if score_mode is 'concat'.
 */
import type { ForwardArgs, ForwardResult, KindContext, LayerConfig, LayerKind, WeightRef, WeightRole } from '../types';
import { KerasLensError } from '../types';
import { asFloat64 } from '../../kernels/reference';
import { bindByMatch, storedRolesByMatch } from './bind-by-name';
import { applyScores, attentionInputs, denseAttentionOutputShapes } from './dense-attention';

function scoreMode(layer: LayerConfig): 'dot' | 'concat' {
  const m = layer.config.score_mode ?? 'dot';
  if (m !== 'dot' && m !== 'concat') throw new KerasLensError(null, `layer '${layer.name}' (Attention): score_mode '${String(m)}' is not 'dot' or 'concat'`);
  return m;
}

function attentionWeightRoles(layer: LayerConfig, _ctx: KindContext): WeightRole[] {
  const roles: WeightRole[] = [];
  const concat = scoreMode(layer) === 'concat';
  if (layer.config.use_scale === true) {
    roles.push({
      role: 'scale',
      meaning: concat ? 'scale (a scalar): multiplies query + key inside the tanh of each score' : 'scale (a scalar): multiplies every query·key score before the softmax',
      shape: [],
      blocks: [],
    });
  }
  if (concat) roles.push({ role: 'concat_score_weight', meaning: 'concat score weight (a scalar): multiplies each summed tanh(query + key) score', shape: [], blocks: [] });
  return roles;
}

export const attentionKind: LayerKind = {
  classNames: ['Attention'],
  weightRoles: attentionWeightRoles,
  storedRoles(layer: LayerConfig, refs: WeightRef[], ctx: KindContext) {
    return storedRolesByMatch(layer, refs, attentionWeightRoles(layer, ctx));
  },
  bindWeights(layer, stored, ctx) {
    return bindByMatch(layer, stored, attentionWeightRoles(layer, ctx));
  },
  outputShapes: denseAttentionOutputShapes,
  forward(args: ForwardArgs): ForwardResult {
    const a = attentionInputs(args);
    const q = asFloat64(a.query.data);
    const k = asFloat64(a.key.data);
    const scale = args.layer.config.use_scale === true ? args.weights.get('scale')?.data[0] : undefined;
    if (args.layer.config.use_scale === true && scale === undefined) throw new KerasLensError(null, `layer '${args.layer.name}' (Attention) has use_scale but no 'scale' weight`);
    const concat = scoreMode(args.layer) === 'concat';
    const csw = concat ? args.weights.get('concat_score_weight')?.data[0] : 1;
    if (csw === undefined) throw new KerasLensError(null, `layer '${args.layer.name}' (Attention) has score_mode 'concat' but no 'concat_score_weight' weight`);
    const { batch, tq, tv, dim } = a;
    const scores = new Float64Array(batch * tq * tv);
    for (let b = 0; b < batch; b++)
      for (let i = 0; i < tq; i++)
        for (let j = 0; j < tv; j++) {
          const qi = (b * tq + i) * dim;
          const kj = (b * tv + j) * dim;
          let s = 0;
          if (concat) {
            for (let c = 0; c < dim; c++) s += Math.tanh(scale === undefined ? q[qi + c] + k[kj + c] : scale * (q[qi + c] + k[kj + c]));
            s *= csw;
          } else {
            for (let c = 0; c < dim; c++) s += q[qi + c] * k[kj + c];
            if (scale !== undefined) s *= scale;
          }
          scores[(b * tq + i) * tv + j] = s;
        }
    return applyScores(args, a, scores);
  },
};
