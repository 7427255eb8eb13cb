/** Maximum: y = max(x0, x1, ...) element-wise. */
import { elementwiseMergeKind, foldInputs } from './elementwiseMerge';

export const maximumKind = elementwiseMergeKind(['Maximum'], foldInputs((a, b) => (a >= b || Number.isNaN(a) ? a : b)));
