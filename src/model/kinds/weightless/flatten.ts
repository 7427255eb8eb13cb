/**
 * Flatten: (batch, d1, d2, ...) -> (batch, d1·d2·...), row-major. With data_format channels_first, Keras first moves
 * the channel axis last (so the element order matches a channels_last model). No output mask.
 */
import type { LayerKind } from '../../types';
import { channelsFirst } from './layerSettings';
import { elementCount, transpose } from './tensorLayout';
import { noWeights } from './unusedArrays';

export const flattenKind: LayerKind = {
  classNames: ['Flatten'],
  ...noWeights,
  outputShapes(_layer, ctx) {
    const [batch, ...rest] = ctx.inputShapes[0];
    const known = rest.every((d) => d !== null);
    return [[batch, known ? elementCount(rest as number[]) : null]];
  },
  forward({ layer, inputs }) {
    let x = inputs[0];
    if (channelsFirst(layer) && x.shape.length > 2) {
      const rank = x.shape.length;
      x = transpose(x, [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2), 1]);
    }
    const [batch, ...rest] = x.shape;
    return { outputs: [{ shape: [batch, elementCount(rest)], data: x.data }], masks: [null] };
  },
};
