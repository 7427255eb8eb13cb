/**
 * One line saying what an operation node computes, for inspect and the viewer: `x[:, -1, :]` for get_item,
 * `mean(lstm, axis=1)`, `not_equal(input_layer, 0)`, `concatenate([a, b], axis=-1)`; operands are named by the
 * layer that produced them ('name:tensor' for a layer's second output and later, ':node' for a shared layer's later
 * call), constants by value (a constant array as const[shape]). Null when the call cannot be bound.
 */
import type { LayerConfig } from '../types';
import { boundCall } from './kind';
import type { KeyItem } from './get-item';
import type { Operand } from './op';

const LIST_OPS = new Set(['concatenate', 'stack']);

function operandText(o: Operand, layer: LayerConfig, node: number): string {
  if ('constant' in o) {
    const c = o.constant;
    return c.shape.length === 0 ? String(c.data[0]) : `const[${c.shape.join('×')}]`;
  }
  const r = layer.inbound[node]?.[o.tensor];
  if (!r) return '?';
  return `${r.layer}${r.node ? `:${r.node}` : ''}${r.tensor ? `[${r.tensor}]` : ''}`;
}

function keyText(key: KeyItem[]): string {
  return key
    .map((k) => {
      if (k === 'ellipsis') return '...';
      if (k === 'newaxis') return 'None';
      if ('index' in k) return String(k.index);
      const [a, b, s] = k.slice;
      return `${a ?? ''}:${b ?? ''}${s !== null ? `:${s}` : ''}`;
    })
    .join(', ');
}

export function describeOpCall(layer: LayerConfig, node = 0): string | null {
  let bound;
  try {
    bound = boundCall(layer, node);
  } catch {
    return null;
  }
  const { call } = bound;
  const ops = call.operands.map((o) => operandText(o, layer, node));
  if (call.op === 'get_item') return `${ops[0]}[${keyText(call.params.key as KeyItem[])}]`;
  const settings = Object.entries(call.params)
    .filter(([, v]) => v !== undefined && v !== null && v !== false)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  const args = LIST_OPS.has(call.op) ? [`[${ops.join(', ')}]`] : ops;
  return `${call.op}(${[...args, ...settings].join(', ')})`;
}
