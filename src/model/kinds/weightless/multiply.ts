/** Multiply: y = x0 · x1 · ... (element-wise). */
import { elementwiseMergeKind, foldInputs } from './elementwiseMerge';

export const multiplyKind = elementwiseMergeKind(['Multiply'], foldInputs((a, b) => a * b));
