/**
 * GRU and CuDNNGRU.
 *
 * Weights (get_weights order): kernel (in, 3u), recurrent_kernel (u, 3u), bias — gate blocks z, r, h on the last
 * axis. bias is (3u) with reset_after=False and (2, 3u) with reset_after=True (row 0 input bias, row 1 recurrent bias).
 * Keras 1 stores 9 arrays `<name>_{W,U,b}_{z,r,h}`, fused by NAME.
 * CuDNNGRU stores bias (6u) = [input bias z,r,h | recurrent bias z,r,h] and computes like reset_after=True with
 * sigmoid/tanh; its bound bias keeps the stored (6u) layout (matching weightRoles) and forward reads it as (2, 3u).
 *
 *   reset_after=False: h̃ = act(x·W_h + b_h + (r⊙h)·U_h)
 *   reset_after=True:  h̃ = act(x·W_h + b_in_h + r⊙(h·U_h + b_rec_h))
 *   h' = z⊙h + (1−z)⊙h̃
 */
import type { ForwardArgs, ForwardResult, KindContext, LayerConfig, Tensor, WeightRef, WeightRole } from '../types';
import { KerasLensError } from '../types';
import { activationByName, isKeras3, type Activation } from '../activations';
import { addBiasRows, asFloat64, matmul, matmulInto } from '../../kernels/reference';
import { bindByMatch } from './bind-by-name';
import { runRecurrentFast } from './fast-recurrent';
import { GRU_GATES, cudnnBiasRole, gateBlocks, gatedKernelRoles, isCuDNN } from './gated-roles';
import { fuseKeras1Split, recurrentStoredRoles } from './keras1-split';
import {
  activationOf,
  firstInputShape,
  inputFeatureSize,
  recurrentActivationOf,
  recurrentFlags,
  recurrentOutputShapes,
  requireWeight,
  type RecurrentKind,
  type RunOverrides,
} from './recurrent';
import { runLayerCell, sequenceInput, type RecurrentCell } from './time-loop';

/** reset_after from the config; when absent, Keras 3 and tf.keras ≥ 2.4 default to True, older Keras to False. */
export function gruResetAfter(layer: LayerConfig, kerasVersion: string | null): boolean {
  if (isCuDNN(layer.className)) return true;
  const v = layer.config.reset_after;
  if (typeof v === 'boolean') return v;
  if (isKeras3(kerasVersion)) return true;
  const m = kerasVersion ? /^2\.(\d+)/.exec(kerasVersion) : null;
  return !!m && Number(m[1]) >= 4;
}

function gruWeightRoles(layer: LayerConfig, ctx: KindContext): WeightRole[] {
  const { units: u, useBias } = recurrentFlags(layer);
  const inDim = inputFeatureSize(layer, ctx);
  const roles: WeightRole[] = gatedKernelRoles(GRU_GATES, u, inDim);
  if (isCuDNN(layer.className)) {
    roles.push(cudnnBiasRole(GRU_GATES, u, 'read as the reset_after bias (2, 3u)'));
  } else if (useBias) {
    const v = ctx.kerasVersion;
    if (typeof layer.config.reset_after !== 'boolean' && !(v && (v.startsWith('1.') || isKeras3(v)))) {
      // the config is silent and the version does not settle it: (3u) or (2, 3u), the stored bias tells
      roles.push({
        role: 'bias',
        meaning: 'bias, one block per gate: (3u), or (2, 3u) with reset_after (row 0 input bias, row 1 recurrent bias)',
        shape: null,
        blocks: gateBlocks(GRU_GATES, u),
      });
    } else if (gruResetAfter(layer, ctx.kerasVersion)) {
      roles.push({
        role: 'bias',
        meaning: 'bias: row 0 = input bias (added to x·W), row 1 = recurrent bias (added to h·U); one column block per gate',
        shape: [2, 3 * u],
        blocks: gateBlocks(GRU_GATES, u),
      });
    } else {
      roles.push({ role: 'bias', meaning: 'bias, one block per gate', shape: [3 * u], blocks: gateBlocks(GRU_GATES, u) });
    }
  }
  return roles;
}

/**
 * The readable GRU steps over one (batch, steps, in) input with canonical weights; bias (3u), or (2,3u) when
 * resetAfter. The time loop runs them. Not Keras's GRUCell class, which RNN(cell) maps to this kind.
 */
export function gruSteps(
  x: Tensor,
  batch: number,
  steps: number,
  inDim: number,
  units: number,
  kernel: Tensor,
  recurrentKernel: Tensor,
  bias: Tensor | undefined,
  resetAfter: boolean,
  act: Activation,
  recAct: Activation,
): RecurrentCell {
  const u = units;
  const G = 3 * u;
  if (kernel.data.length !== inDim * G) {
    throw new KerasLensError(null, `GRU kernel has shape (${kernel.shape.join(',')}), expected (${inDim},${G}) for input size ${inDim}`);
  }
  if (bias && bias.data.length !== (resetAfter ? 2 * G : G)) {
    throw new KerasLensError(null, `GRU bias has shape (${bias.shape.join(',')}), expected ${resetAfter ? `(2,${G})` : `(${G})`}`);
  }
  // x·W + b_in for every step at once: row (b·T + t)
  const xw = matmul(x.data, batch * steps, inDim, kernel.data, G);
  if (bias) addBiasRows(xw, batch * steps, bias.data, G);
  const U = asFloat64(recurrentKernel.data);
  // reset_after=False needs U split into [U_z | U_r] (u × 2u) and U_h (u × u)
  const uzr = new Float64Array(u * 2 * u);
  const uh = new Float64Array(u * u);
  for (let r = 0; r < u; r++) {
    for (let c = 0; c < 2 * u; c++) uzr[r * 2 * u + c] = U[r * G + c];
    for (let c = 0; c < u; c++) uh[r * u + c] = U[r * G + 2 * u + c];
  }
  const f = recAct.elementwise ?? ((v: number) => v);
  const g = act.elementwise ?? ((v: number) => v);
  const inner = new Float64Array(batch * G);
  const rh = new Float64Array(batch * u);
  const hh = new Float64Array(batch * u);
  return {
    stateCount: 1,
    stateSize: u,
    stateShape: [u],
    gates: ['z', 'r', 'h'],
    step(t, [hPrev], record) {
      const h = new Float64Array(batch * u);
      const zs = new Float64Array(batch * u);
      const rs = new Float64Array(batch * u);
      if (resetAfter) {
        // inner = h(t-1)·U + b_rec
        matmulInto(inner, 0, hPrev, 0, batch, u, U, G);
        if (bias) addBiasRows(inner, batch, bias.data, G, G);
        for (let b = 0; b < batch; b++) {
          const xr = (b * steps + t) * G;
          const ir = b * G;
          for (let j = 0; j < u; j++) {
            const z = f(xw[xr + j] + inner[ir + j]); //                     z = σ(x·W_z + b_z + h·U_z + b'_z)
            const r = f(xw[xr + u + j] + inner[ir + u + j]); //             r = σ(x·W_r + b_r + h·U_r + b'_r)
            const c = g(xw[xr + 2 * u + j] + r * inner[ir + 2 * u + j]); // h̃ = act(x·W_h + b_h + r⊙(h·U_h + b'_h))
            zs[b * u + j] = z;
            rs[b * u + j] = r;
            hh[b * u + j] = c;
            h[b * u + j] = z * hPrev[b * u + j] + (1 - z) * c; //           h = z⊙h(t-1) + (1−z)⊙h̃
          }
        }
      } else {
        // [z_pre | r_pre] = x·[W_z|W_r] + b + h(t-1)·[U_z|U_r]
        matmulInto(inner, 0, hPrev, 0, batch, u, uzr, 2 * u);
        for (let b = 0; b < batch; b++) {
          const xr = (b * steps + t) * G;
          const ir = b * 2 * u;
          for (let j = 0; j < u; j++) {
            const z = f(xw[xr + j] + inner[ir + j]); //         z = σ(x·W_z + b_z + h·U_z)
            const r = f(xw[xr + u + j] + inner[ir + u + j]); // r = σ(x·W_r + b_r + h·U_r)
            zs[b * u + j] = z;
            rs[b * u + j] = r;
            rh[b * u + j] = r * hPrev[b * u + j];
          }
        }
        // h̃ = act(x·W_h + b_h + (r⊙h(t-1))·U_h)
        matmulInto(hh, 0, rh, 0, batch, u, uh, u);
        for (let b = 0; b < batch; b++) {
          const xr = (b * steps + t) * G;
          for (let j = 0; j < u; j++) {
            const c = g(xw[xr + 2 * u + j] + hh[b * u + j]);
            hh[b * u + j] = c;
            const z = zs[b * u + j];
            h[b * u + j] = z * hPrev[b * u + j] + (1 - z) * c; // h = z⊙h(t-1) + (1−z)⊙h̃
          }
        }
      }
      if (record) {
        record.z = zs;
        record.r = rs;
        record.h = new Float64Array(hh);
      }
      return [h];
    },
  };
}

export const gruKind: RecurrentKind = {
  classNames: ['GRU', 'CuDNNGRU'],

  weightRoles: gruWeightRoles,

  storedRoles(layer: LayerConfig, refs: WeightRef[], ctx: KindContext): WeightRole[] {
    // a stored (2, 3u) bias means reset_after even when the config does not say so
    const twoRowBias = refs.some((r) => /bias$/.test(r.name.replace(/:\d+$/, '')) && r.shape.length === 2);
    const l = twoRowBias && typeof layer.config.reset_after !== 'boolean' ? { ...layer, config: { ...layer.config, reset_after: true } } : layer;
    return recurrentStoredRoles(l, refs, gruWeightRoles(l, ctx), GRU_GATES);
  },

  bindWeights(layer, stored, ctx) {
    const fused = fuseKeras1Split(layer, stored, GRU_GATES);
    if (fused) return fused;
    const roles = gruWeightRoles(layer, { ...ctx, inputShapes: [] }).map((r) =>
      // the stored bias decides between (3u) and (2,3u) when the config is silent
      r.role === 'bias' && !isCuDNN(layer.className) ? { ...r, shape: null } : r,
    );
    return bindByMatch(layer, stored, roles);
  },

  outputShapes(layer, ctx) {
    const flags = recurrentFlags(layer);
    return recurrentOutputShapes(flags, firstInputShape(layer, ctx), [flags.units], 1);
  },

  forward(args: ForwardArgs): ForwardResult {
    return gruKind.runWith(args, {});
  },

  runWith(args: ForwardArgs, overrides: RunOverrides): ForwardResult {
    const flags = recurrentFlags(args.layer);
    const { x, batch, steps, featureSize } = sequenceInput(args);
    const cudnn = isCuDNN(args.layer.className);
    const v = args.ctx.kerasVersion;
    let bias = flags.useBias || cudnn ? args.weights.get('bias') : undefined;
    // CuDNN: bias (6u) = [input z,r,h | recurrent z,r,h] is the reset_after bias (2, 3u)
    if (bias && cudnn) bias = { shape: [2, bias.data.length / 2], data: bias.data };
    const configured = args.layer.config.reset_after;
    const resetAfter =
      cudnn || (typeof configured === 'boolean' ? configured : bias ? bias.shape.length === 2 : gruResetAfter(args.layer, v));
    const kernel = requireWeight(args, 'kernel');
    const recurrentKernel = requireWeight(args, 'recurrent_kernel');
    const act = cudnn ? activationByName('tanh', v) : activationOf(args.layer, v);
    const recAct = cudnn ? activationByName('sigmoid', v) : recurrentActivationOf(args.layer, v);
    // Fast path (packed weights, WebAssembly SIMD) when no gate trace is asked; the readable step below otherwise.
    const fast = args.ctx.trace
      ? null
      : runRecurrentFast(args, flags, overrides, { cell: 'gru', kernel, recurrentKernel, bias, resetAfter, activation: act, recurrentActivation: recAct });
    if (fast) return fast;
    const cell = gruSteps(x, batch, steps, featureSize, flags.units, kernel, recurrentKernel, bias, resetAfter, act, recAct);
    return runLayerCell(args, flags, cell, batch, steps, overrides);
  },
};
