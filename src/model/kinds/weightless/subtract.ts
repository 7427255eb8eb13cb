/** Subtract: y = x0 − x1 (exactly two inputs). */
import { elementwiseMergeKind, foldInputs } from './elementwiseMerge';

export const subtractKind = elementwiseMergeKind(['Subtract'], foldInputs((a, b) => a - b), 2);
