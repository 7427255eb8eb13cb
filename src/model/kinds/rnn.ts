/**
 * The generic `RNN` layer over one cell (LSTMCell, GRUCell, SimpleRNNCell) or a stack of cells (`StackedRNNCells`,
 * or a plain list of cells in older configs).
 *
 * One cell: the same computation and weights as the matching layer (LSTM, GRU, SimpleRNN), with the RNN's flags
 * (return_sequences, go_backwards, stateful, ...) and the cell's settings.
 *
 * Stacked cells (Keras 3 keras/src/layers/rnn/stacked_rnn_cells.py): at every step t, cell 0 reads x(t), cell k
 * reads cell k−1's output at t; the RNN's output is the last cell's. States are each cell's states in cell order,
 * flattened (LSTMCell h, c; GRUCell h; SimpleRNNCell h) — the order of `initial_state` and of return_state's outputs.
 * A masked step carries every cell's states over (Keras's rnn() masks the stacked cell as one). That equals running
 * the cells as layers one after another over the whole sequence, each with return_sequences and the same mask (a
 * masked step is skipped by every cell, so what a lower cell outputs there is never read): this is how it runs here,
 * so each cell keeps its own kind's forward step and its own trace. go_backwards: the input and the mask are
 * reversed in time first and every cell then runs forward (the output sequence stays in processing order, as Keras's).
 * Bound weights are keyed 'cells/<k>/<role>'. Each cell's stored arrays are found by name (Keras 3
 * `…/cell/cells/<snake_case class>[_n]/vars/i`, tf.keras `…/<cell name>/kernel:0`), else by count in cell order.
 */
import type { ForwardArgs, ForwardResult, KindContext, LayerConfig, Tensor, WeightRef, WeightRole } from '../types';
import { KerasLensError } from '../types';
import { gruKind } from './gru';
import { lstmKind } from './lstm';
import { simpleRnnKind } from './simple-rnn';
import { recurrentFlags, type RecurrentKind, type RunOverrides } from './recurrent';

const LAYER_OF_CELL: Record<string, { className: string; kind: RecurrentKind; states: number }> = {
  LSTMCell: { className: 'LSTM', kind: lstmKind, states: 2 },
  GRUCell: { className: 'GRU', kind: gruKind, states: 1 },
  SimpleRNNCell: { className: 'SimpleRNN', kind: simpleRnnKind, states: 1 },
};

const RNN_FLAGS = ['return_sequences', 'return_state', 'go_backwards', 'stateful', 'unroll', 'zero_output_for_mask', 'batch_input_shape'];

type CellSpec = { class_name?: string; config?: Record<string, unknown> };

/** The cells of an RNN config: [cell], the cells of a StackedRNNCells, or a list of cells. */
function cellSpecs(layer: LayerConfig): CellSpec[] {
  const cell = layer.config.cell as CellSpec | CellSpec[] | undefined;
  if (Array.isArray(cell)) return cell;
  if (cell?.class_name === 'StackedRNNCells') {
    const cells = cell.config?.cells;
    if (!Array.isArray(cells) || cells.length === 0) {
      throw new KerasLensError(null, `layer '${layer.name}' (RNN) has a StackedRNNCells without 'cells' in its config`);
    }
    return cells as CellSpec[];
  }
  return [cell as CellSpec];
}

export interface CellLayer {
  layer: LayerConfig;
  kind: RecurrentKind;
  /** Number of states this cell carries. */
  states: number;
  /** The cell's class (LSTMCell, ...) and Keras name. */
  cellClass: string;
  cellName: string;
}

/** The equivalent single layer of one cell: cell settings + the RNN's flags. */
function layerOfCell(layer: LayerConfig, spec: CellSpec | undefined, name: string, flags: Record<string, unknown>): CellLayer {
  const target = spec?.class_name ? LAYER_OF_CELL[spec.class_name] : undefined;
  if (!spec || !target) {
    throw new KerasLensError(null, `layer '${layer.name}' (RNN) wraps a ${spec?.class_name ?? 'missing cell'}, which Keras Lens does not know`);
  }
  const config: Record<string, unknown> = { ...(spec.config ?? {}) };
  for (const k of RNN_FLAGS) if (k in flags) config[k] = flags[k];
  return {
    layer: { ...layer, name, className: target.className, config },
    kind: target.kind,
    states: target.states,
    cellClass: spec.class_name!,
    cellName: String(spec.config?.name ?? spec.class_name),
  };
}

/** One cell: the equivalent layer under the RNN's own name. */
export function cellLayer(layer: LayerConfig): CellLayer {
  const specs = cellSpecs(layer);
  if (specs.length !== 1) throw new KerasLensError(null, `layer '${layer.name}' (RNN) stacks ${specs.length} cells`);
  return layerOfCell(layer, specs[0], layer.name, layer.config);
}

/**
 * The cells of a stack as layers: every cell but the last returns sequences; all return their states (the RNN
 * decides what to output); none goes backwards (the RNN reverses the input once). Only cell 0 keeps the RNN's
 * declared input shape: cell k reads cell k−1's units.
 */
export function stackedCellLayers(layer: LayerConfig): CellLayer[] {
  const specs = cellSpecs(layer);
  return specs.map((spec, k) => {
    const flags: Record<string, unknown> = { ...layer.config, return_state: true, go_backwards: false };
    if (k < specs.length - 1) flags.return_sequences = true;
    const cell = layerOfCell(layer, spec, '', flags);
    cell.layer.name = `${layer.name}/${cell.cellName}`;
    if (k > 0) {
      delete cell.layer.config.batch_input_shape;
      delete cell.layer.config.input_shape;
      delete cell.layer.config.input_dim;
    }
    return cell;
  });
}

export function isStacked(layer: LayerConfig): boolean {
  return cellSpecs(layer).length > 1;
}

/** Input shapes of each cell of a stack: cell 0 the RNN's, cell k (batch, steps, units of cell k−1). */
function cellContexts(cells: CellLayer[], ctx: KindContext): KindContext[] {
  const first = ctx.inputShapes?.[0] ?? null;
  return cells.map((_, k) => {
    if (k === 0) return ctx;
    const units = recurrentFlags(cells[k - 1].layer).units;
    return { ...ctx, inputShapes: [[first?.[0] ?? null, first?.[1] ?? null, units]] };
  });
}

/** Keras 3 saving's name for the k-th object of a list: snake_case of its class, `_1`, `_2` … for repeats. */
function keras3ListNames(classes: string[]): string[] {
  const used = new Map<string, number>();
  return classes.map((c) => {
    const snake = c
      .replace(/\W+/g, '')
      .replace(/(.)([A-Z][a-z]+)/g, '$1_$2')
      .replace(/([a-z])([A-Z])/g, '$1_$2')
      .toLowerCase();
    const n = used.get(snake);
    used.set(snake, n === undefined ? 0 : n + 1);
    return n === undefined ? snake : `${snake}_${n + 1}`;
  });
}

/** Which cell each stored array belongs to (indices into `refs`, per cell, in variable order). */
function splitByCell(layer: LayerConfig, cells: CellLayer[], refs: { name: string }[], ctx: KindContext): number[][] {
  const k3 = keras3ListNames(cells.map((c) => c.cellClass));
  const owner = refs.map((r) => {
    const segs = r.name.replace(/:\d+$/, '').split('/');
    const i = segs.indexOf('cells');
    if (i >= 0 && i + 1 < segs.length) {
      const k = k3.indexOf(segs[i + 1]);
      if (k >= 0) return k;
    }
    const k = cells.findIndex((c) => segs.slice(0, -1).includes(c.cellName));
    return k >= 0 ? k : null;
  });
  if (owner.every((o) => o !== null)) {
    const parts = cells.map(() => [] as number[]);
    owner.forEach((o, i) => parts[o!].push(i));
    // Keras 3 vars/0, vars/1, … may be listed in another order (HDF5 keeps names sorted)
    const varIndex = (i: number) => Number(/(?:^|\/)vars\/(\d+)$/.exec(refs[i].name)?.[1] ?? i);
    for (const p of parts) p.sort((a, b) => varIndex(a) - varIndex(b));
    return parts;
  }
  const contexts = cellContexts(cells, ctx);
  const counts = cells.map((c, k) => c.kind.weightRoles(c.layer, contexts[k]).length);
  const total = counts.reduce((a, b) => a + b, 0);
  if (total !== refs.length) {
    throw new KerasLensError(null, `layer '${layer.name}' (RNN) stores ${refs.length} array(s) but its ${cells.length} cells have ${total}`);
  }
  let at = 0;
  return counts.map((n) => Array.from({ length: n }, () => at++));
}

function labelled(role: WeightRole, cells: CellLayer[], k: number): WeightRole {
  const cell = cells[k];
  const reads = k === 0 ? '' : ` (its input x(t) is cell ${k - 1}'s output)`;
  const out: WeightRole = { ...role, meaning: `cell ${k} (${cell.cellClass} '${cell.cellName}')${reads}: ${role.meaning}` };
  if (k > 0 && role.role === 'kernel') out.rowsFrom = `${cells[k - 1].layer.name} (cell ${k - 1}) output h(t)`;
  return out;
}

function reverseTime(data: ArrayLike<number>, B: number, T: number, inner: number): Float64Array {
  const out = new Float64Array(B * T * inner);
  for (let b = 0; b < B; b++) {
    for (let s = 0; s < T; s++) {
      for (let j = 0; j < inner; j++) out[(b * T + (T - 1 - s)) * inner + j] = data[(b * T + s) * inner + j];
    }
  }
  return out;
}

function runStacked(args: ForwardArgs, ov: RunOverrides): ForwardResult {
  const layer = args.layer;
  const cells = stackedCellLayers(layer);
  const returnSequences = layer.config.return_sequences === true;
  const returnState = layer.config.return_state === true;
  const x = args.inputs[0];
  if (!x || x.shape.length < 3) {
    throw new KerasLensError(null, `layer '${layer.name}' (RNN) needs a (batch, timesteps, features) input, got shape (${x?.shape.join(',')})`);
  }
  const [B, T] = x.shape;
  const mask = args.masks[0] ?? null;
  const backwards = ov.goBackwards ?? layer.config.go_backwards === true;
  let seq: Tensor = x;
  let cellMask = mask;
  if (backwards) {
    seq = { shape: [...x.shape], data: reverseTime(x.data, B, T, x.data.length / (B * T)) };
    if (mask) cellMask = { ...mask, data: Uint8Array.from(reverseTime(mask.data, B, T, 1)) };
  }
  const given = args.initialStates ?? [];
  const wanted = cells.reduce((a, c) => a + c.states, 0);
  if (given.length > 0 && given.length !== wanted) {
    throw new KerasLensError(null, `layer '${layer.name}' (RNN) got ${given.length} initial state(s); its cells carry ${wanted}`);
  }
  const states: Tensor[] = [];
  let at = 0;
  cells.forEach((cell, k) => {
    const weights = new Map<string, Tensor>();
    for (const [key, w] of args.weights) if (key.startsWith(`cells/${k}/`)) weights.set(key.slice(`cells/${k}/`.length), w);
    const initialStates = given.length ? given.slice(at, at + cell.states) : undefined;
    at += cell.states;
    const r = cell.kind.runWith(
      { ...args, layer: cell.layer, inputs: [seq], masks: [cellMask], weights, initialStates },
      {
        goBackwards: false,
        zeroOutputForMask: ov.zeroOutputForMask,
        stateKey: `${ov.stateKey ?? layer.name}/cells/${k}`,
        traceLayer: `${ov.traceLayer ?? layer.name}/${cell.cellName}`,
        direction: ov.direction,
      },
    );
    seq = r.outputs[0];
    states.push(...r.outputs.slice(1));
  });
  // Keras's RNN.compute_mask: the input mask on the sequence output, none on the states
  const outputs = [seq, ...(returnState ? states : [])];
  return { outputs, masks: outputs.map((_, i) => (i === 0 && returnSequences ? mask : null)) };
}

export const rnnKind: RecurrentKind = {
  classNames: ['RNN'],
  weightRoles(layer, ctx: KindContext) {
    if (!isStacked(layer)) {
      const c = cellLayer(layer);
      return c.kind.weightRoles(c.layer, ctx);
    }
    const cells = stackedCellLayers(layer);
    const contexts = cellContexts(cells, ctx);
    return cells.flatMap((c, k) => c.kind.weightRoles(c.layer, contexts[k]).map((r) => labelled(r, cells, k)));
  },
  storedRoles(layer, refs: WeightRef[], ctx: KindContext) {
    if (!isStacked(layer)) {
      const c = cellLayer(layer);
      return c.kind.storedRoles(c.layer, refs, ctx);
    }
    const cells = stackedCellLayers(layer);
    const contexts = cellContexts(cells, ctx);
    const out = new Array<WeightRole>(refs.length);
    splitByCell(layer, cells, refs, ctx).forEach((idx, k) => {
      const roles = cells[k].kind.storedRoles(cells[k].layer, idx.map((i) => refs[i]), contexts[k]);
      idx.forEach((i, j) => (out[i] = labelled(roles[j], cells, k)));
    });
    return out;
  },
  bindWeights(layer, stored, ctx) {
    if (!isStacked(layer)) {
      const c = cellLayer(layer);
      return c.kind.bindWeights(c.layer, stored, ctx);
    }
    const cells = stackedCellLayers(layer);
    const out = new Map<string, Tensor>();
    splitByCell(layer, cells, stored.map((s) => s.ref), ctx).forEach((idx, k) => {
      const bound = cells[k].kind.bindWeights(cells[k].layer, idx.map((i) => stored[i]), ctx);
      for (const [role, w] of bound) out.set(`cells/${k}/${role}`, w);
    });
    return out;
  },
  outputShapes(layer, ctx) {
    if (!isStacked(layer)) {
      const c = cellLayer(layer);
      return c.kind.outputShapes(c.layer, ctx);
    }
    const cells = stackedCellLayers(layer);
    const contexts = cellContexts(cells, ctx);
    const shapes = cells.map((c, k) => c.kind.outputShapes(c.layer, contexts[k]));
    const out = shapes[shapes.length - 1][0];
    return layer.config.return_state === true ? [out, ...shapes.flatMap((s) => s.slice(1))] : [out];
  },
  forward(args: ForwardArgs): ForwardResult {
    return rnnKind.runWith(args, {});
  },
  runWith(args: ForwardArgs, overrides: RunOverrides): ForwardResult {
    if (isStacked(args.layer)) return runStacked(args, overrides);
    const c = cellLayer(args.layer);
    return c.kind.runWith({ ...args, layer: c.layer }, overrides);
  },
};
