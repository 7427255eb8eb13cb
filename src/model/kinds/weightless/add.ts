/** Add: y = x0 + x1 + ... (element-wise, broadcast as Keras). */
import { elementwiseMergeKind, foldInputs } from './elementwiseMerge';

export const addKind = elementwiseMergeKind(['Add'], foldInputs((a, b) => a + b));
