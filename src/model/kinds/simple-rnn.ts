/**
 * SimpleRNN: h = act(x·W + b + h(t-1)·U).
 * Weights (get_weights order): kernel (in, u), recurrent_kernel (u, u), bias (u). Keras 1: `<name>_W`, `_U`, `_b`.
 */
import type { ForwardArgs, ForwardResult, KindContext, LayerConfig, Tensor, WeightRef, WeightRole } from '../types';
import { KerasLensError } from '../types';
import type { Activation } from '../activations';
import { addBiasRows, asFloat64, matmul, matmulInto } from '../../kernels/reference';
import { bindByMatch, storedRolesByMatch } from './bind-by-name';
import { runRecurrentFast } from './fast-recurrent';
import {
  activationOf,
  firstInputShape,
  inputFeatureSize,
  recurrentFlags,
  recurrentOutputShapes,
  requireWeight,
  type RecurrentKind,
  type RunOverrides,
} from './recurrent';
import { runLayerCell, sequenceInput, type RecurrentCell } from './time-loop';

function simpleRnnWeightRoles(layer: LayerConfig, ctx: KindContext): WeightRole[] {
  const { units: u, useBias } = recurrentFlags(layer);
  const inDim = inputFeatureSize(layer, ctx);
  const block = (meaning: string) => [{ label: 'h', meaning, axis: -1, start: 0, end: u }];
  const roles: WeightRole[] = [
    { role: 'kernel', meaning: 'input kernel: multiplies the input x(t)', shape: inDim === null ? null : [inDim, u], blocks: block('hidden state') },
    { role: 'recurrent_kernel', meaning: 'recurrent kernel: multiplies the previous hidden state h(t-1)', shape: [u, u], blocks: block('hidden state') },
  ];
  if (useBias) roles.push({ role: 'bias', meaning: 'bias', shape: [u], blocks: block('hidden state') });
  return roles;
}

/** The readable SimpleRNN steps over one (batch, steps, in) input; the time loop runs them. */
export function simpleRnnSteps(
  x: Tensor,
  batch: number,
  steps: number,
  inDim: number,
  u: number,
  kernel: Tensor,
  recurrentKernel: Tensor,
  bias: Tensor | undefined,
  act: Activation,
): RecurrentCell {
  if (kernel.data.length !== inDim * u) {
    throw new KerasLensError(null, `SimpleRNN kernel has shape (${kernel.shape.join(',')}), expected (${inDim},${u})`);
  }
  const xw = matmul(x.data, batch * steps, inDim, kernel.data, u);
  if (bias) addBiasRows(xw, batch * steps, bias.data, u);
  const U = asFloat64(recurrentKernel.data);
  const z = new Float64Array(batch * u);
  return {
    stateCount: 1,
    stateSize: u,
    stateShape: [u],
    gates: [],
    step(t, [hPrev]) {
      // h = act(x(t)·W + b + h(t-1)·U)
      matmulInto(z, 0, hPrev, 0, batch, u, U, u);
      const h = new Float64Array(batch * u);
      for (let b = 0; b < batch; b++) {
        const xr = (b * steps + t) * u;
        for (let j = 0; j < u; j++) h[b * u + j] = xw[xr + j] + z[b * u + j];
      }
      act.apply(h, [batch, u]);
      return [h];
    },
  };
}

export const simpleRnnKind: RecurrentKind = {
  classNames: ['SimpleRNN'],
  weightRoles: simpleRnnWeightRoles,
  storedRoles(layer: LayerConfig, refs: WeightRef[], ctx: KindContext) {
    return storedRolesByMatch(layer, refs, simpleRnnWeightRoles(layer, ctx));
  },
  bindWeights(layer, stored, ctx) {
    return bindByMatch(layer, stored, simpleRnnWeightRoles(layer, { ...ctx, inputShapes: [] }));
  },
  outputShapes(layer, ctx) {
    const flags = recurrentFlags(layer);
    return recurrentOutputShapes(flags, firstInputShape(layer, ctx), [flags.units], 1);
  },
  forward(args: ForwardArgs): ForwardResult {
    return simpleRnnKind.runWith(args, {});
  },
  runWith(args: ForwardArgs, overrides: RunOverrides): ForwardResult {
    const flags = recurrentFlags(args.layer);
    const { x, batch, steps, featureSize } = sequenceInput(args);
    // Fast path (packed weights, WebAssembly SIMD) when no gate trace is asked; the readable step below otherwise.
    const fast = args.ctx.trace ? null : runRecurrentFast(args, flags, overrides, {
      cell: 'simple_rnn', kernel: requireWeight(args, 'kernel'), recurrentKernel: requireWeight(args, 'recurrent_kernel'),
      bias: flags.useBias ? args.weights.get('bias') : undefined, activation: activationOf(args.layer, args.ctx.kerasVersion),
    });
    if (fast) return fast;
    const cell = simpleRnnSteps(
      x,
      batch,
      steps,
      featureSize,
      flags.units,
      requireWeight(args, 'kernel'),
      requireWeight(args, 'recurrent_kernel'),
      flags.useBias ? args.weights.get('bias') : undefined,
      activationOf(args.layer, args.ctx.kerasVersion),
    );
    return runLayerCell(args, flags, cell, batch, steps, overrides);
  },
};
