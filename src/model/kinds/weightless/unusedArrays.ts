/**
 * A weightless layer has no weights; should a file still store arrays under its name (an old optimizer leftover,
 * a custom subclass), each is described as unused so inspect can list it.
 */
import type { LayerConfig, LayerKind, WeightRef, WeightRole } from '../../types';

export function unusedStoredArrays(_layer: LayerConfig, refs: WeightRef[]): WeightRole[] {
  return refs.map((ref) => ({ role: 'unused', meaning: 'an array this layer does not use at inference', shape: ref.shape, blocks: [] }));
}

/** The weight side of every weightless kind: no roles, stored arrays described as unused, nothing to bind. */
export const noWeights: Pick<LayerKind, 'weightRoles' | 'storedRoles' | 'bindWeights'> = {
  weightRoles: () => [],
  storedRoles: unusedStoredArrays,
  bindWeights: () => new Map(),
};
