/**
 * What each stored array of a layer is, worked out from its name, its shape and (when known) the layer's class
 * and config — used for weights-only files, unknown/custom classes and whenever no layer kind answers. Roles, their
 * order, meanings and gate blocks are the ones the class's layer kind declares (declaredRoles.ts), so a weight reads
 * the same with or without an architecture. Never throws: an array we cannot place is reported as a raw weight.
 */
import type { GateBlock, WeightRef } from '../model/types';
import { isCuDNN, keras1SplitMeaning } from '../model/kinds/gated-roles';
import { declaredRole, declaredRoles, undeclaredRoleMeaning, variableOrder } from './declaredRoles';
import { familyOf, gatesOf, guessClassFromName, keras1Gate, type Family } from './gates';
import { parseWeightName } from './weightNames';
import { kindFor } from '../model/kinds/index';

export interface StoredWeightExplanation {
  role: string;
  meaning: string;
  blocks: GateBlock[];
  direction?: 'forward' | 'backward';
  /** Keras 1 split arrays: the one gate the array holds. */
  gate?: string;
  /** Units of the layer the weight belongs to, when known. */
  units?: number;
}

export interface StoredLayerInfo {
  /** The class whose weights these are (for wrappers: the wrapped class), or null when unknown. */
  className: string | null;
  config?: Record<string, unknown> | null;
  /** The layer is a Bidirectional wrapper: its arrays are the forward copy's, then the backward copy's. */
  bidirectional?: boolean;
  /** Names of the model's layers, to recognise Keras 1 names without a counter. */
  knownLayers?: ReadonlySet<string>;
}

/** Guess the class of a weights-only layer from its name, then from its weights' names. */
export function guessLayerClass(layerName: string, refs: WeightRef[]): string | null {
  // Keras 3 weights-only groups are paths (`layers/lstm_1`): the last segment is the snake_case class.
  const fromLayer = guessClassFromName(layerName.split('/').pop() ?? layerName);
  if (fromLayer && fromLayer !== 'Bidirectional' && fromLayer !== 'TimeDistributed') return fromLayer;
  for (const ref of refs) {
    const parsed = parseWeightName(ref.name);
    if (parsed?.className && parsed.className !== 'Bidirectional' && parsed.className !== 'TimeDistributed') {
      return parsed.className;
    }
  }
  return fromLayer;
}

/**
 * A recurrent class from shapes alone, for names that say nothing (Keras 3 `forward_layer/cell/vars/0`):
 * (in, g·u), (u, g·u), (g·u) or (2, g·u) → g = 4 LSTM, 3 GRU, 1 SimpleRNN; kernels of rank 3/4/5 → ConvLSTM1D/2D/3D.
 */
export function recurrentClassFromShapes(refs: WeightRef[]): string | null {
  if (refs.length < 3) return null;
  const [k, rk, b] = refs.map((r) => r.shape);
  if (!k || !rk || !b || k.length !== rk.length || k.length < 2) return null;
  const u = rk[rk.length - 2];
  const cols = rk[rk.length - 1];
  if (!u || cols % u !== 0 || k[k.length - 1] !== cols || b[b.length - 1] !== cols) return null;
  const g = cols / u;
  if (k.length >= 3 && k.length <= 5) return g === 4 ? `ConvLSTM${k.length - 2}D` : null;
  if (k.length !== 2) return null;
  return g === 4 ? 'LSTM' : g === 3 ? 'GRU' : g === 1 ? 'SimpleRNN' : null;
}

/**
 * Units of a recurrent layer: what the stored recurrent kernel (u, g·u) says (the arrays are what the user
 * sees, even when the config disagrees), else the config.
 */
function unitsOf(family: Family | null, config: Record<string, unknown> | null | undefined, refs: WeightRef[], roles: (string | null)[]): number | undefined {
  const rk = refs.findIndex((_, k) => roles[k] === 'recurrent_kernel');
  if (rk >= 0) {
    const s = refs[rk].shape;
    if (s.length >= 2) return s[s.length - 2];
  }
  const fromConfig = config?.units ?? config?.output_dim ?? (family === 'conv_lstm' ? config?.filters : undefined);
  return typeof fromConfig === 'number' ? fromConfig : undefined;
}

export function explainStoredWeights(info: StoredLayerInfo, refs: WeightRef[]): StoredWeightExplanation[] {
  const parsed = refs.map((r) => parseWeightName(r.name, info.knownLayers));
  let className = info.className;
  let family = familyOf(className);
  // Keras 3 positional names carry no role: take it from the class's variable order.
  const roles: (string | null)[] = parsed.map((p, k) => {
    const named = className ? kindFor(className)?.roleOfStoredName?.(refs[k].name) : null;
    if (named) return named;
    if (p?.role) return p.role;
    if (p?.varIndex !== undefined) {
      const order = variableOrder(className, family);
      // Bidirectional halves list the same variables twice (forward, then backward).
      return order ? (order[p.varIndex % order.length] ?? null) : null;
    }
    return refs[k].shape.length === 1 ? 'bias' : null;
  });
  const units = unitsOf(family, info.config, refs, roles);
  const gates = gatesOf(className);

  // Check the guessed gate count against the shapes: a recurrent kernel (u, g·u) must have g gates.
  const rkIndex = roles.indexOf('recurrent_kernel');
  let mismatch = '';
  if (rkIndex >= 0 && units) {
    const s = refs[rkIndex].shape;
    const ratio = s[s.length - 1] / units;
    const isSplit = parsed[rkIndex]?.gate !== undefined;
    if (!isSplit && gates && ratio !== gates.length) {
      mismatch = ` (the shapes do not fit ${className}: the recurrent kernel has ${ratio} blocks of ${units}, not ${gates.length})`;
      className = null;
      family = null;
    }
  }
  const declared = className ? declaredRoles(roleClass(className, gates, units, refs, roles), storedConfig(family, info.config, refs, roles, parsed), units) : null;

  // Bidirectional without direction in the names (Keras 3 positional): first half forward, second backward.
  const dirs: ('forward' | 'backward' | undefined)[] = parsed.map((p) => p?.direction);
  if (info.bidirectional && !dirs.some((d) => d !== undefined) && refs.length % 2 === 0) {
    for (let k = 0; k < refs.length; k++) dirs[k] = k < refs.length / 2 ? 'forward' : 'backward';
  }

  return refs.map((ref, k) => {
    const p = parsed[k];
    const role = roles[k] ?? 'weight';
    const own = declaredRole(declared, role);
    const out: StoredWeightExplanation = {
      role,
      meaning: (roles[k] ? (own?.meaning ?? undeclaredRoleMeaning(role, family)) : `weight of ${className ?? 'an unknown layer'} (role not recognised)`) + mismatch,
      blocks: [],
    };
    if (dirs[k]) out.direction = dirs[k];
    if (units !== undefined) out.units = units;
    if (p?.gate) {
      // Keras 1 split array: holds exactly one gate.
      const g = className && units ? keras1Gate(className, p.gate) : null;
      if (g && ref.shape[ref.shape.length - 1] === units) {
        out.gate = g.label;
        out.blocks = [{ label: g.label, meaning: g.meaning, axis: -1, start: 0, end: units }];
        out.meaning = keras1SplitMeaning(role, g);
      }
      return out;
    }
    if (own && spansLastAxis(own.blocks, ref.shape)) out.blocks = own.blocks;
    return out;
  });
}

/** The class whose roles describe the arrays: a CuDNN-sized bias (2·g·u) on LSTM/GRU reads as CuDNNLSTM/CuDNNGRU. */
function roleClass(className: string, gates: unknown[] | null, units: number | undefined, refs: WeightRef[], roles: (string | null)[]): string {
  const b = roles.indexOf('bias');
  if (b < 0 || !gates || !units || isCuDNN(className) || (className !== 'LSTM' && className !== 'GRU')) return className;
  const last = refs[b].shape[refs[b].shape.length - 1];
  return last === 2 * gates.length * units ? `CuDNN${className}` : className;
}

/** The config the arrays imply where the file's config is silent: a GRU bias of shape (2, 3u) means reset_after. */
function storedConfig(
  family: Family | null,
  config: Record<string, unknown> | null | undefined,
  refs: WeightRef[],
  roles: (string | null)[],
  parsed: ({ gate?: string } | null)[],
): Record<string, unknown> {
  const out = { ...(config ?? {}) };
  const b = roles.indexOf('bias');
  if (family === 'gru' && typeof out.reset_after !== 'boolean' && b >= 0 && parsed[b]?.gate === undefined) out.reset_after = refs[b].shape.length === 2;
  return out;
}

/** Blocks that tile the last axis of a stored array exactly (a kind's blocks for the units the shapes say). */
function spansLastAxis(blocks: GateBlock[], shape: number[]): boolean {
  if (blocks.length === 0) return true;
  const last = shape[shape.length - 1];
  return blocks.every((b) => b.axis === -1 && b.start >= 0 && b.end <= last) && Math.max(...blocks.map((b) => b.end)) === last;
}
