/**
 * Embedding: output[..., :] = embeddings[index]. Weights: embeddings (input_dim, output_dim) (Keras 1: `<name>_W`).
 * mask_zero → the output mask is (index != 0).
 */
import type { ForwardArgs, ForwardResult, KindContext, LayerConfig, LayerKind, Mask, WeightRef, WeightRole } from '../types';
import { KerasLensError } from '../types';
import { bindByMatch, storedRolesByMatch } from './bind-by-name';
import { firstInputShape, requireWeight } from './recurrent';

const EMBEDDING_NAMES = { W: 'embeddings' };

function embeddingWeightRoles(layer: LayerConfig): WeightRole[] {
  const n = layer.config.input_dim;
  const d = layer.config.output_dim ?? layer.config.units;
  return [
    {
      role: 'embeddings',
      meaning: 'embedding table: row k is the vector for index k',
      shape: typeof n === 'number' && typeof d === 'number' ? [n, d] : null,
      blocks: [],
    },
  ];
}

export const embeddingKind: LayerKind = {
  classNames: ['Embedding'],
  weightRoles: (layer) => embeddingWeightRoles(layer),
  storedRoles(layer: LayerConfig, refs: WeightRef[]) {
    return storedRolesByMatch(layer, refs, embeddingWeightRoles(layer));
  },
  bindWeights(layer, stored) {
    return bindByMatch(layer, stored, embeddingWeightRoles(layer), EMBEDDING_NAMES);
  },
  outputShapes(layer, ctx: KindContext) {
    let s = firstInputShape(layer, ctx);
    if (!s) s = [null, typeof layer.config.input_length === 'number' ? layer.config.input_length : null];
    const d = layer.config.output_dim;
    return [[...s, typeof d === 'number' ? d : null]];
  },
  forward(args: ForwardArgs): ForwardResult {
    const x = args.inputs[0];
    const table = requireWeight(args, 'embeddings');
    const [n, d] = table.shape;
    const out = new Float64Array(x.data.length * d);
    for (let k = 0; k < x.data.length; k++) {
      const idx = Math.trunc(x.data[k]);
      if (!(idx >= 0 && idx < n)) {
        throw new KerasLensError(null, `layer '${args.layer.name}': index ${x.data[k]} is outside the embedding table (0..${n - 1})`);
      }
      for (let j = 0; j < d; j++) out[k * d + j] = table.data[idx * d + j];
    }
    let mask: Mask | null = null;
    if (args.layer.config.mask_zero === true && x.shape.length === 2) {
      const data = new Uint8Array(x.data.length);
      for (let k = 0; k < data.length; k++) data[k] = x.data[k] !== 0 ? 1 : 0;
      mask = { batch: x.shape[0], steps: x.shape[1], data };
    }
    return { outputs: [{ shape: [...x.shape, d], data: out }], masks: [mask] };
  },
};
