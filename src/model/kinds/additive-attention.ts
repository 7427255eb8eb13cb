/**
 * AdditiveAttention (Bahdanau-style), Keras 3 keras/src/layers/attention/additive_attention.py:
 *   s[b, i, j] = Σ_c scale[c] · tanh(q[b, i, c] + k[b, j, c])      (scale = 1 without use_scale)
 * then masks, softmax over value steps and the weighted sum of values as in dense-attention.ts.
 * Weights (get_weights order): scale (dim,) if use_scale (the default).
 */
import type { ForwardArgs, ForwardResult, KindContext, LayerConfig, LayerKind, WeightRef, WeightRole } from '../types';
import { KerasLensError } from '../types';
import { asFloat64 } from '../../kernels/reference';
import { bindByMatch, storedRolesByMatch } from './bind-by-name';
import { applyScores, attentionInputs, denseAttentionOutputShapes } from './dense-attention';
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

export const additiveAttentionKind: LayerKind = {
  classNames: ['AdditiveAttention'],
  weightRoles: additiveWeightRoles,
  storedRoles(layer: LayerConfig, refs: WeightRef[], ctx: KindContext) {
    return storedRolesByMatch(layer, refs, additiveWeightRoles(layer, ctx));
  },
  bindWeights(layer, stored, ctx) {
    return bindByMatch(layer, stored, additiveWeightRoles(layer, { ...ctx, inputShapes: [] }));
  },
  outputShapes: denseAttentionOutputShapes,
  forward(args: ForwardArgs): ForwardResult {
    const a = attentionInputs(args);
    const q = asFloat64(a.query.data);
    const k = asFloat64(a.key.data);
    const { batch, tq, tv, dim } = a;
    const scaleW = args.layer.config.use_scale === false ? null : args.weights.get('scale');
    if (scaleW === undefined) throw new KerasLensError(null, `layer '${args.layer.name}' (AdditiveAttention) has use_scale but no 'scale' weight`);
    if (scaleW && scaleW.data.length !== dim) {
      throw new KerasLensError(null, `layer '${args.layer.name}' (AdditiveAttention): scale has ${scaleW.data.length} values for ${dim} query features`);
    }
    const scores = new Float64Array(batch * tq * tv);
    for (let b = 0; b < batch; b++)
      for (let i = 0; i < tq; i++)
        for (let j = 0; j < tv; j++) {
          const qi = (b * tq + i) * dim;
          const kj = (b * tv + j) * dim;
          let s = 0;
          for (let c = 0; c < dim; c++) s += (scaleW ? scaleW.data[c] : 1) * Math.tanh(q[qi + c] + k[kj + c]);
          scores[(b * tq + i) * tv + j] = s;
        }
    return applyScores(args, a, scores);
  },
};
