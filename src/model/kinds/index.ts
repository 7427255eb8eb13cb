/**
 * The registry of layer kinds. Adding a layer kind = one file under kinds/ + one line here.
 * Weighted and recurrent kinds live in kinds/*.ts; weightless ones (merges, pooling, reshapes) in kinds/weightless/.
 */
import type { LayerKind } from '../types';
import { weightlessKinds } from './weightless/index';
import { lstmKind } from './lstm';
import { gruKind } from './gru';
import { simpleRnnKind } from './simple-rnn';
import { convLstmKind } from './conv-lstm';
import { bidirectionalKind } from './bidirectional';
import { timeDistributedKind } from './time-distributed';
import { denseKind } from './dense';
import { embeddingKind } from './embedding';
import { conv1dKind } from './conv1d';
import { conv2dKind } from './conv2d';
import { batchNormalizationKind } from './batch-normalization';
import { layerNormalizationKind } from './layer-normalization';
import { preluKind } from './prelu';
import { rnnKind } from './rnn';
import { attentionKind } from './attention';
import { additiveAttentionKind } from './additive-attention';
import { multiHeadAttentionKind } from './multi-head-attention';
import { opKind } from '../ops/kind';

const weightedKinds: LayerKind[] = [
  lstmKind,
  gruKind,
  simpleRnnKind,
  convLstmKind,
  bidirectionalKind,
  timeDistributedKind,
  denseKind,
  embeddingKind,
  conv1dKind,
  conv2dKind,
  batchNormalizationKind,
  layerNormalizationKind,
  preluKind,
  rnnKind,
  attentionKind,
  additiveAttentionKind,
  multiHeadAttentionKind,
];

const byClassName = new Map<string, LayerKind>();
// opKind: the operation nodes (Keras 3 keras.ops calls, tf.keras TFOpLambda / SlicingOpLambda), see model/ops/.
for (const kind of [...weightedKinds, ...weightlessKinds, opKind]) {
  for (const name of kind.classNames) byClassName.set(name, kind);
}

/** The kind for a Keras class name, or undefined for unknown/custom layers. */
export function kindFor(className: string): LayerKind | undefined {
  return byClassName.get(className);
}

export function knownClassNames(): string[] {
  return [...byClassName.keys()].sort();
}
