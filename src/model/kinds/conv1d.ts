/**
 * Conv1D: y = act(conv(x, kernel) + bias) over (batch, steps, channels) (channels_first: (batch, channels, steps)).
 * kernel (k, in, filters), bias (filters); padding valid/same/causal (causal pads (k−1)·dilation on the left);
 * strides; dilation_rate. Keras 1 `Convolution1D` stores W as (k, 1, in, filters); it is reshaped to (k, in, filters).
 */
import type { ForwardArgs, ForwardResult, KindContext, LayerConfig, LayerKind, WeightRef, WeightRole } from '../types';
import { KerasLensError } from '../types';
import { activationFromConfig } from '../activations';
import { bindByMatch, storedRolesByMatch } from './bind-by-name';
import { firstInputShape, requireWeight } from './recurrent';
import { channelsFirst, configPadding, convAxisLength, convolve2d, intTuple, moveChannels } from './conv2d';

function conv1dParams(layer: LayerConfig) {
  const c = layer.config;
  const filters = c.filters ?? c.nb_filter;
  const k = intTuple(c.kernel_size ?? c.filter_length, 1, NaN)[0];
  if (typeof filters !== 'number' || !Number.isFinite(k)) {
    throw new KerasLensError(null, `layer '${layer.name}' (Conv1D) needs 'filters' and 'kernel_size' in its config`);
  }
  return {
    filters,
    k,
    stride: intTuple(c.strides ?? c.subsample_length, 1, 1)[0],
    dilation: intTuple(c.dilation_rate ?? c.atrous_rate, 1, 1)[0],
    padding: configPadding(layer),
  };
}

function conv1dWeightRoles(layer: LayerConfig, ctx: KindContext): WeightRole[] {
  const p = conv1dParams(layer);
  const s = firstInputShape(layer, ctx);
  const cin = s ? (channelsFirst(layer) ? s[1] : s[s.length - 1]) : null;
  const roles: WeightRole[] = [
    {
      role: 'kernel',
      meaning: 'convolution kernel (width, input channels, filters)',
      shape: typeof cin === 'number' ? [p.k, cin, p.filters] : null,
      blocks: [],
    },
  ];
  if (layer.config.use_bias !== false && layer.config.bias !== false) roles.push({ role: 'bias', meaning: 'bias, one per filter', shape: [p.filters], blocks: [] });
  return roles;
}

export const conv1dKind: LayerKind = {
  classNames: ['Conv1D', 'Convolution1D', 'AtrousConvolution1D'],
  weightRoles: conv1dWeightRoles,
  storedRoles(layer: LayerConfig, refs: WeightRef[], ctx: KindContext) {
    return storedRolesByMatch(layer, refs, conv1dWeightRoles(layer, ctx));
  },
  bindWeights(layer, stored, ctx) {
    const bound = bindByMatch(layer, stored, conv1dWeightRoles(layer, { ...ctx, inputShapes: [] }));
    const kernel = bound.get('kernel');
    if (kernel && kernel.shape.length === 4) {
      // Keras 1 (tf ordering): (k, 1, in, filters) → (k, in, filters)
      if (kernel.shape[1] !== 1) {
        throw new KerasLensError(null, `layer '${layer.name}': Keras 1 Convolution1D kernel (${kernel.shape.join(',')}) is in an ordering this reader does not know`);
      }
      bound.set('kernel', { shape: [kernel.shape[0], kernel.shape[2], kernel.shape[3]], data: kernel.data });
    }
    return bound;
  },
  outputShapes(layer, ctx) {
    const p = conv1dParams(layer);
    const s = firstInputShape(layer, ctx) ?? [null, null, null];
    const cf = channelsFirst(layer);
    const steps = convAxisLength((cf ? s[2] : s[1]) ?? null, p.k, p.stride, p.dilation, p.padding);
    return [cf ? [s[0], p.filters, steps] : [s[0], steps, p.filters]];
  },
  forward(args: ForwardArgs): ForwardResult {
    const layer = args.layer;
    const p = conv1dParams(layer);
    const cf = channelsFirst(layer);
    let x = args.inputs[0];
    if (x.shape.length !== 3) throw new KerasLensError(null, `layer '${layer.name}' (Conv1D) needs a 3D input, got (${x.shape.join(',')})`);
    if (cf) x = moveChannels(x.data, x.shape, false);
    const [B, T, C] = x.shape;
    const kernel = requireWeight(args, 'kernel');
    if (kernel.data.length !== p.k * C * p.filters) {
      throw new KerasLensError(null, `layer '${layer.name}': kernel (${kernel.shape.join(',')}) does not fit ${C} input channels`);
    }
    // a 1D convolution is a 2D one over a (1, T) image
    const r = convolve2d(x.data, B, 1, T, C, kernel.data, 1, p.k, p.filters, [1, p.stride], [1, p.dilation], p.padding);
    const bias = args.weights.get('bias');
    if (bias) for (let k = 0; k < r.data.length; k++) r.data[k] += bias.data[k % p.filters];
    let out = { data: r.data, shape: [B, r.outW, p.filters] };
    if (cf) out = moveChannels(out.data, out.shape, true);
    activationFromConfig(layer.config.activation, args.ctx.kerasVersion, 'linear').apply(out.data, out.shape);
    return { outputs: [out] };
  },
};
