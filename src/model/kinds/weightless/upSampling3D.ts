/**
 * UpSampling3D: every spatial cell repeated size[a] times along axis a (nearest; Keras: ops.repeat on each axis):
 * y[b, i, j, k, c] = x[b, ⌊i/s0⌋, ⌊j/s1⌋, ⌊k/s2⌋, c]. data_format channels_last / channels_first. No output mask.
 */
import type { LayerConfig, LayerKind, Tensor } from '../../types';
import { channelsFirst, intListSetting } from './layerSettings';
import { transpose } from './tensorLayout';
import { noWeights } from './unusedArrays';

function factors(layer: LayerConfig): number[] {
  const s = intListSetting(layer, ['size']) ?? [2, 2, 2];
  const f = s.length === 1 ? [s[0], s[0], s[0]] : s;
  if (f.length !== 3 || !f.every((n) => n >= 1)) throw new Error(`layer '${layer.name}': size ${JSON.stringify(s)} is not one or three positive integers`);
  return f;
}

function repeat3d(x: Tensor, [f0, f1, f2]: number[]): Tensor {
  const [B, D0, D1, D2, C] = x.shape;
  const [O0, O1, O2] = [D0 * f0, D1 * f1, D2 * f2];
  const out = new Float64Array(B * O0 * O1 * O2 * C);
  let dst = 0;
  for (let b = 0; b < B; b++)
    for (let i = 0; i < O0; i++)
      for (let j = 0; j < O1; j++)
        for (let k = 0; k < O2; k++) {
          const src = (((b * D0 + Math.floor(i / f0)) * D1 + Math.floor(j / f1)) * D2 + Math.floor(k / f2)) * C;
          for (let c = 0; c < C; c++) out[dst++] = x.data[src + c];
        }
  return { shape: [B, O0, O1, O2, C], data: out };
}

export const upSampling3DKind: LayerKind = {
  classNames: ['UpSampling3D'],
  ...noWeights,
  outputShapes(layer, ctx) {
    const s = [...ctx.inputShapes[0]];
    const f = factors(layer);
    const first = channelsFirst(layer);
    f.forEach((n, a) => {
      const axis = first ? a + 2 : a + 1;
      const d = s[axis];
      s[axis] = d === null ? null : d * n;
    });
    return [s];
  },
  forward({ layer, inputs }) {
    let x = inputs[0];
    if (x.shape.length !== 5) throw new Error(`layer '${layer.name}' expects a 5D (batch, dim1, dim2, dim3, channels) input`);
    const first = channelsFirst(layer);
    if (first) x = transpose(x, [0, 2, 3, 4, 1]);
    let y = repeat3d(x, factors(layer));
    if (first) y = transpose(y, [0, 4, 1, 2, 3]);
    return { outputs: [y], masks: [null] };
  },
};
