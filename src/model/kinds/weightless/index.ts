/** Kinds without weights: merges, pooling, reshapes, dropout, activation, masking, input. */
import type { LayerKind } from '../../types';

export const weightlessKinds: LayerKind[] = [];
