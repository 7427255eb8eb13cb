/**
 * UpSampling2D: rows × size[0], columns × size[1].
 *   nearest (default): y[b, i, j, c] = x[b, floor(i / sh), floor(j / sw), c]   (Keras: ops.repeat on each axis)
 *   bilinear: TensorFlow's resize with half-pixel centres (Keras 3 ops.image.resize, tf.keras 2.x
 *     tf.image.resize): source coordinate s = (i + 0.5) / sh − 0.5, lower = max(floor(s), 0),
 *     upper = min(ceil(s), H − 1), weight = s − floor(s); the same on columns; y = lerp of the four neighbours.
 * Other interpolations (bicubic, lanczos, area) are refused. data_format channels_last / channels_first.
 * Keras's layer does not support masking: no output mask.
 */
import type { LayerConfig, LayerKind, Tensor } from '../../types';
import { channelsFirst, intListSetting, stringSetting } from './layerSettings';
import { transpose } from './tensorLayout';
import { noWeights } from './unusedArrays';

function factors(layer: LayerConfig): [number, number] {
  const s = intListSetting(layer, ['size']) ?? [2, 2];
  const f: [number, number] = s.length === 1 ? [s[0], s[0]] : [s[0], s[1]];
  if (s.length > 2 || !f.every((n) => n >= 1)) throw new Error(`layer '${layer.name}': size ${JSON.stringify(s)} is not one or two positive integers`);
  return f;
}

function interpolation(layer: LayerConfig): 'nearest' | 'bilinear' {
  const m = stringSetting(layer, ['interpolation'], 'nearest').toLowerCase();
  if (m !== 'nearest' && m !== 'bilinear') throw new Error(`layer '${layer.name}': interpolation '${m}' is not supported (nearest and bilinear are)`);
  return m;
}

/** One axis of the half-pixel bilinear resize: for each output index, its two source indices and the weight of the upper. */
function bilinearTaps(inSize: number, factor: number): { lo: number[]; hi: number[]; w: number[] } {
  const lo: number[] = [];
  const hi: number[] = [];
  const w: number[] = [];
  const scale = Math.fround(inSize / (inSize * factor)); // TF computes the scale in float32
  for (let o = 0; o < inSize * factor; o++) {
    const s = Math.fround((o + 0.5) * scale - 0.5);
    const f = Math.floor(s);
    lo.push(Math.max(f, 0));
    hi.push(Math.min(Math.ceil(s), inSize - 1));
    w.push(s - f);
  }
  return { lo, hi, w };
}

function upsample(x: Tensor, [sh, sw]: [number, number], mode: 'nearest' | 'bilinear'): Tensor {
  const [B, H, W, C] = x.shape;
  const OH = H * sh;
  const OW = W * sw;
  const out = new Float64Array(B * OH * OW * C);
  const at = (b: number, i: number, j: number) => ((b * H + i) * W + j) * C;
  if (mode === 'nearest') {
    for (let b = 0; b < B; b++)
      for (let i = 0; i < OH; i++)
        for (let j = 0; j < OW; j++) {
          const src = at(b, Math.floor(i / sh), Math.floor(j / sw));
          const dst = ((b * OH + i) * OW + j) * C;
          for (let c = 0; c < C; c++) out[dst + c] = x.data[src + c];
        }
    return { shape: [B, OH, OW, C], data: out };
  }
  const ry = bilinearTaps(H, sh);
  const rx = bilinearTaps(W, sw);
  for (let b = 0; b < B; b++)
    for (let i = 0; i < OH; i++)
      for (let j = 0; j < OW; j++) {
        const dst = ((b * OH + i) * OW + j) * C;
        const [t, d, wy] = [ry.lo[i], ry.hi[i], ry.w[i]];
        const [l, r, wx] = [rx.lo[j], rx.hi[j], rx.w[j]];
        for (let c = 0; c < C; c++) {
          const tl = x.data[at(b, t, l) + c];
          const tr = x.data[at(b, t, r) + c];
          const bl = x.data[at(b, d, l) + c];
          const br = x.data[at(b, d, r) + c];
          const top = tl + (tr - tl) * wx;
          const bottom = bl + (br - bl) * wx;
          out[dst + c] = top + (bottom - top) * wy;
        }
      }
  return { shape: [B, OH, OW, C], data: out };
}

export const upSampling2DKind: LayerKind = {
  classNames: ['UpSampling2D'],
  ...noWeights,
  outputShapes(layer, ctx) {
    const s = ctx.inputShapes[0];
    const [sh, sw] = factors(layer);
    interpolation(layer);
    const mul = (d: number | null, f: number) => (d === null ? null : d * f);
    return [channelsFirst(layer) ? [s[0], s[1], mul(s[2], sh), mul(s[3], sw)] : [s[0], mul(s[1], sh), mul(s[2], sw), s[3]]];
  },
  forward({ layer, inputs }) {
    let x = inputs[0];
    if (x.shape.length !== 4) throw new Error(`layer '${layer.name}' expects a 4D (batch, rows, cols, channels) input`);
    const first = channelsFirst(layer);
    if (first) x = transpose(x, [0, 2, 3, 1]);
    let y = upsample(x, factors(layer), interpolation(layer));
    if (first) y = transpose(y, [0, 3, 1, 2]);
    return { outputs: [y], masks: [null] };
  },
};
