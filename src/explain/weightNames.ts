/**
 * Recognising Keras weight names as users meet them in code, logs and HDF5 viewers:
 *
 *   lstm_1/kernel:0                              Keras 2 / tf.keras (HDF5 weight_names)
 *   model_weights/lstm_1/lstm_1/kernel:0         the same weight's HDF5 path
 *   lstm/lstm_cell/recurrent_kernel              tf.keras 2.x variable names (with the cell scope)
 *   bidirectional_1/forward_lstm_1/bias:0        Bidirectional halves
 *   layers/lstm/cell/vars/1                      Keras 3 .weights.h5 / .keras variable paths (positional)
 *   lstm_1_U_f, dense_1_W:0                      Keras 1 split arrays (one gate per array)
 */
import { variableOrder } from './declaredRoles';
import { familyOf, guessClassFromName } from './gates';

export type WeightNameStyle = 'keras2' | 'keras1' | 'keras3';

export interface ParsedWeightName {
  /** The text as it was recognised. */
  text: string;
  style: WeightNameStyle;
  /** The top-level Keras layer (the wrapper for Bidirectional), when the name says it. */
  layer: string | null;
  /** Wrapped layer name for Bidirectional halves (`forward_lstm_1` → `lstm_1`). */
  inner?: string;
  direction?: 'forward' | 'backward';
  /** Canonical Keras-2 role ('kernel', 'recurrent_kernel', 'bias', ...), null when only the position is known. */
  role: string | null;
  /** Keras 1 split arrays: the one gate this array holds ('i', 'f', 'c', 'o', 'z', 'r', 'h'). */
  gate?: string;
  /** Keras 3: the N of `vars/N`. */
  varIndex?: number;
  /** Keras 3: the group path before `vars` (e.g. `layers/lstm/cell`). */
  group?: string;
  /** Class guessed from the name (`lstm_1` → LSTM), or null. For Bidirectional: the wrapped class when known. */
  className: string | null;
}

const ROLES = new Set([
  'kernel',
  'recurrent_kernel',
  'bias',
  'embeddings',
  'gamma',
  'beta',
  'moving_mean',
  'moving_variance',
  'depthwise_kernel',
  'pointwise_kernel',
  'alpha',
]);

const DIRECTION = /^(forward|backward)_(.+)$/;
const CELL_SCOPE = /(^cell$|_cell(_\d+)?$)/;
const KERAS1_MATRIX = /^(.+?)_(W|U|b)(?:_([a-z]))?$/;
const KERAS1_NORM = /^(.+)_(gamma|beta|running_mean|running_std)$/;

/**
 * Parse one weight name (no surrounding text). Returns null when it is not recognisably a weight name.
 * `knownLayers`: names of the open model's layers, which lets Keras 1 names without a `_<n>` counter be recognised.
 */
export function parseWeightName(raw: string, knownLayers?: ReadonlySet<string>): ParsedWeightName | null {
  const text = raw.trim();
  const name = text.replace(/:\d+$/, '');
  let segs = name.split('/').filter((s) => s.length > 0);
  if (segs[0] === 'model_weights') segs = segs.slice(1);
  if (segs.length === 0 || segs.some((s) => !/^[A-Za-z0-9_]+$/.test(s))) return null;

  // Keras 3: .../layers/<group>[/forward_layer|/backward_layer][/cell|/layer]/vars/<n>
  if (segs.length >= 3 && segs[segs.length - 2] === 'vars' && /^\d+$/.test(segs[segs.length - 1])) {
    const varIndex = Number(segs[segs.length - 1]);
    const layersAt = segs.lastIndexOf('layers');
    const groupName = layersAt >= 0 ? segs[layersAt + 1] : segs[0];
    if (!groupName || groupName === 'vars') return null;
    const rest = segs.slice(layersAt + 2, -2);
    const dirSeg = rest.find((s) => s === 'forward_layer' || s === 'backward_layer');
    const direction = dirSeg ? (dirSeg === 'forward_layer' ? 'forward' : 'backward') : undefined;
    // a cell of a stack (RNN over StackedRNNCells): .../cell/cells/<snake_case cell class>[_n]/vars/<n>
    const cellsAt = rest.indexOf('cells');
    const className = guessClassFromName(cellsAt >= 0 && rest[cellsAt + 1] ? rest[cellsAt + 1] : groupName);
    const roles = variableOrder(className, familyOf(className));
    return {
      text,
      style: 'keras3',
      layer: groupName,
      direction,
      role: roles?.[varIndex] ?? null,
      varIndex,
      group: segs.slice(0, -2).join('/'),
      className,
    };
  }

  const last = segs[segs.length - 1];

  // Keras 2 / tf.keras: .../<layer>[/forward_<inner>|/<cell scope>]/<role>
  if (ROLES.has(last)) {
    const pre = segs.slice(0, -1);
    if (pre.length === 0) return null;
    const dirIdx = pre.findIndex((s) => DIRECTION.test(s));
    if (dirIdx >= 0) {
      const [, dir, inner] = DIRECTION.exec(pre[dirIdx])!;
      const layer = dirIdx >= 1 ? pre[dirIdx - 1] : null;
      return {
        text,
        style: 'keras2',
        layer,
        inner,
        direction: dir as 'forward' | 'backward',
        role: last,
        className: guessClassFromName(inner),
      };
    }
    const cell = pre.find((s) => CELL_SCOPE.test(s) && s !== pre[0]);
    const layers = pre.filter((s) => !(CELL_SCOPE.test(s) && s !== pre[0]));
    let layer = layers[layers.length - 1];
    if (knownLayers) layer = [...layers].reverse().find((s) => knownLayers.has(s)) ?? layer;
    const className = (cell && guessClassFromName(cell)) || guessClassFromName(layer);
    return { text, style: 'keras2', layer, role: last, className };
  }

  // Keras 1: <layer>_W_i, <layer>_U, <layer>_b, <layer>_gamma, ... (possibly under an HDF5 group path)
  const k1 = KERAS1_MATRIX.exec(last) ?? KERAS1_NORM.exec(last);
  if (k1) {
    let layerPart = k1[1];
    let direction: 'forward' | 'backward' | undefined;
    const d = DIRECTION.exec(layerPart);
    if (d && !(knownLayers && knownLayers.has(layerPart))) {
      direction = d[1] as 'forward' | 'backward';
      layerPart = d[2];
    }
    const generated = /_\d+$/.test(layerPart) || !!knownLayers?.has(layerPart);
    if (!generated) return null;
    const letter = k1[3];
    let className = guessClassFromName(layerPart);
    if (!className && letter) className = /[icfo]/.test(letter) ? 'LSTM' : /[zr]/.test(letter) ? 'GRU' : null;
    const family = familyOf(className);
    const kind = k1[2];
    const role =
      kind === 'W'
        ? family === 'embedding'
          ? 'embeddings'
          : 'kernel'
        : kind === 'U'
          ? 'recurrent_kernel'
          : kind === 'b'
            ? 'bias'
            : kind;
    const parsed: ParsedWeightName = { text, style: 'keras1', layer: layerPart, role, className };
    if (letter) parsed.gate = letter;
    if (direction) {
      parsed.direction = direction;
      parsed.inner = layerPart;
      parsed.layer = null;
    }
    return parsed;
  }
  return null;
}

/** A recognised weight name inside a line, for the hover provider's word range (end exclusive). */
export interface WeightNameAt {
  start: number;
  end: number;
  text: string;
}

/** The weight name under `column` in `lineText`, or null. */
export function findWeightNameAt(lineText: string, column: number, knownLayers?: ReadonlySet<string>): WeightNameAt | null {
  for (const found of findWeightNames(lineText, knownLayers)) {
    if (column >= found.start && column < found.end) return found;
  }
  return null;
}

/** Every recognised weight name in a piece of text, in order. */
export function findWeightNames(text: string, knownLayers?: ReadonlySet<string>): WeightNameAt[] {
  const out: WeightNameAt[] = [];
  const token = /[A-Za-z0-9_/:]+/g;
  for (let m = token.exec(text); m; m = token.exec(text)) {
    let start = m.index;
    let word = m[0];
    // Trim separators that belong to the surrounding text, keep a trailing `:<n>`.
    while (word.startsWith('/') || word.startsWith(':')) {
      word = word.slice(1);
      start++;
    }
    word = word.replace(/[/:]+$/, '');
    if (!word) continue;
    if (parseWeightName(word, knownLayers)) out.push({ start, end: start + word.length, text: word });
  }
  return out;
}
