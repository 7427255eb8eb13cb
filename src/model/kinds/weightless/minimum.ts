/** Minimum: y = min(x0, x1, ...) element-wise. */
import { elementwiseMergeKind, foldInputs } from './elementwiseMerge';

export const minimumKind = elementwiseMergeKind(['Minimum'], foldInputs((a, b) => (a <= b || Number.isNaN(a) ? a : b)));
