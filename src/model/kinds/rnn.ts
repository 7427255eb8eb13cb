/**
 * The generic `RNN` layer wrapping one cell (LSTMCell, GRUCell, SimpleRNNCell): the same computation and weights as
 * the matching layer (LSTM, GRU, SimpleRNN), with the RNN's flags (return_sequences, go_backwards, stateful, ...) and
 * the cell's settings. Stacked cells (a list of cells) are refused with a clear message.
 */
import type { ForwardArgs, ForwardResult, KindContext, LayerConfig, WeightRef } from '../types';
import { KerasLensError } from '../types';
import { gruKind } from './gru';
import { lstmKind } from './lstm';
import { simpleRnnKind } from './simple-rnn';
import type { RecurrentKind, RunOverrides } from './recurrent';

const LAYER_OF_CELL: Record<string, { className: string; kind: RecurrentKind }> = {
  LSTMCell: { className: 'LSTM', kind: lstmKind },
  GRUCell: { className: 'GRU', kind: gruKind },
  SimpleRNNCell: { className: 'SimpleRNN', kind: simpleRnnKind },
};

const RNN_FLAGS = ['return_sequences', 'return_state', 'go_backwards', 'stateful', 'unroll', 'zero_output_for_mask', 'batch_input_shape'];

/** The equivalent single layer: cell settings + the RNN's flags, under the RNN's name. */
export function cellLayer(layer: LayerConfig): { layer: LayerConfig; kind: RecurrentKind } {
  const cell = layer.config.cell as { class_name?: string; config?: Record<string, unknown> } | unknown[] | undefined;
  if (Array.isArray(cell)) {
    if (cell.length !== 1) {
      throw new KerasLensError(null, `layer '${layer.name}' (RNN) stacks ${cell.length} cells, which Keras Lens does not run yet`);
    }
    return cellLayer({ ...layer, config: { ...layer.config, cell: cell[0] } });
  }
  const spec = cell as { class_name?: string; config?: Record<string, unknown> } | undefined;
  const target = spec?.class_name ? LAYER_OF_CELL[spec.class_name] : undefined;
  if (!spec || !target) {
    throw new KerasLensError(null, `layer '${layer.name}' (RNN) wraps a ${spec?.class_name ?? 'missing cell'}, which Keras Lens does not know`);
  }
  const config: Record<string, unknown> = { ...(spec.config ?? {}) };
  for (const k of RNN_FLAGS) if (k in layer.config) config[k] = layer.config[k];
  return { layer: { ...layer, className: target.className, config }, kind: target.kind };
}

export const rnnKind: RecurrentKind = {
  classNames: ['RNN'],
  weightRoles(layer, ctx: KindContext) {
    const c = cellLayer(layer);
    return c.kind.weightRoles(c.layer, ctx);
  },
  storedRoles(layer, refs: WeightRef[], ctx: KindContext) {
    const c = cellLayer(layer);
    return c.kind.storedRoles(c.layer, refs, ctx);
  },
  bindWeights(layer, stored, ctx) {
    const c = cellLayer(layer);
    return c.kind.bindWeights(c.layer, stored, ctx);
  },
  outputShapes(layer, ctx) {
    const c = cellLayer(layer);
    return c.kind.outputShapes(c.layer, ctx);
  },
  forward(args: ForwardArgs): ForwardResult {
    return rnnKind.runWith(args, {});
  },
  runWith(args: ForwardArgs, overrides: RunOverrides): ForwardResult {
    const c = cellLayer(args.layer);
    return c.kind.runWith({ ...args, layer: c.layer }, overrides);
  },
};
