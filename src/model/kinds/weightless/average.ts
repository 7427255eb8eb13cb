/** Average: y = (x0 + x1 + ... + x(n−1)) / n element-wise. */
import { elementwiseMergeKind } from './elementwiseMerge';

export const averageKind = elementwiseMergeKind(['Average'], (values, size) => {
  const out = new Float64Array(size);
  for (const v of values) for (let i = 0; i < size; i++) out[i] += v[i];
  for (let i = 0; i < size; i++) out[i] /= values.length;
  return out;
});
