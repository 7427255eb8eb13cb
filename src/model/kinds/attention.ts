/**
 * Attention (Luong-style dot-product attention), Keras 3 keras/src/layers/attention/attention.py:
 *   score_mode 'dot':    s[b, i, j] = Σ_c q[b, i, c] · k[b, j, c]   (· scale when use_scale)
 *   score_mode 'concat': s[b, i, j] = concat_score_weight · Σ_c tanh(q[b, i, c] + k[b, j, c])
 *                        (tanh(scale · (q + k)) when use_scale)
 * then masks, softmax over value steps and the weighted sum of values as in dense-attention.ts.
 * Weights (get_weights order): scale () if use_scale, concat_score_weight () if score_mode is 'concat'.
 */
import type { KindContext, LayerConfig, WeightRole } from '../types';
import { KerasLensError } from '../types';
import { denseAttentionKind } from './dense-attention';

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

export const attentionKind = denseAttentionKind(['Attention'], attentionWeightRoles, (args, a) => {
  const { layer, weights } = args;
  const dim = a.dim;
  const scale = layer.config.use_scale === true ? weights.get('scale')?.data[0] : undefined;
  if (layer.config.use_scale === true && scale === undefined) throw new KerasLensError(null, `layer '${layer.name}' (Attention) has use_scale but no 'scale' weight`);
  if (scoreMode(layer) === 'dot') {
    return (q, qi, k, kj) => {
      let s = 0;
      for (let c = 0; c < dim; c++) s += q[qi + c] * k[kj + c];
      return scale === undefined ? s : s * scale;
    };
  }
  const csw = weights.get('concat_score_weight')?.data[0];
  if (csw === undefined) throw new KerasLensError(null, `layer '${layer.name}' (Attention) has score_mode 'concat' but no 'concat_score_weight' weight`);
  return (q, qi, k, kj) => {
    let s = 0;
    for (let c = 0; c < dim; c++) s += Math.tanh(scale === undefined ? q[qi + c] + k[kj + c] : scale * (q[qi + c] + k[kj + c]));
    return csw * s;
  };
});
