/**
 * AdditiveAttention (Bahdanau-style), Keras 3 keras/src/layers/attention/additive_attention.py:
 *   s[b, i, j] = Σ_c scale[c] · tanh(q[b, i, c] + k[b, j, c])      (scale = 1 without use_scale)
 * then masks, softmax over value steps and the weighted sum of values as in dense-attention.ts.
 * Weights (get_weights order): scale (dim,) if use_scale (the default).
 */
import type { KindContext, LayerConfig, WeightRole } from '../types';
import { KerasLensError } from '../types';
import { denseAttentionKind } from './dense-attention';
import { firstInputShape } from './recurrent';

function additiveWeightRoles(layer: LayerConfig, ctx: KindContext): WeightRole[] {
  if (layer.config.use_scale === false) return [];
  const q = firstInputShape(layer, ctx);
  const dim = q?.[q.length - 1];
  return [
    {
      role: 'scale',
      meaning: 'scale, one per query/key feature c: weighs tanh(query_c + key_c) in each score',
      shape: typeof dim === 'number' ? [dim] : null,
      blocks: [],
    },
  ];
}

export const additiveAttentionKind = denseAttentionKind(['AdditiveAttention'], additiveWeightRoles, (args, a) => {
  const { layer, weights } = args;
  const dim = a.dim;
  const scaleW = layer.config.use_scale === false ? null : weights.get('scale');
  if (scaleW === undefined) throw new KerasLensError(null, `layer '${layer.name}' (AdditiveAttention) has use_scale but no 'scale' weight`);
  if (scaleW && scaleW.data.length !== dim) {
    throw new KerasLensError(null, `layer '${layer.name}' (AdditiveAttention): scale has ${scaleW.data.length} values for ${dim} query features`);
  }
  return (q, qi, k, kj) => {
    let s = 0;
    for (let c = 0; c < dim; c++) s += (scaleW ? scaleW.data[c] : 1) * Math.tanh(q[qi + c] + k[kj + c]);
    return s;
  };
});
