/**
 * Keras 1 stores an LSTM/GRU as one array per gate (`lstm_1_W_i`, `lstm_1_W_c`, `lstm_1_W_f`, ...). The viewer
 * shows them as one fused view per role (and direction), columns in the layer's gate order (i, f, c, o / z, r, h)
 * — the order comes from src/explain/gates, by the arrays' gate labels, never by their position in the file.
 * Pure (no vscode).
 */
import { roleMeaningOf } from '../src/explain/declaredRoles';
import { familyOf, gatesOf } from '../src/explain/gates';
import type { InspectLayer, InspectWeight } from '../src/explain/inspect';

export interface FusedPart {
  weight: InspectWeight;
  /** Columns of the fused view this array fills. */
  colStart: number;
  colEnd: number;
}

/** A fused view: a synthetic weight (name, shape, blocks over all parts) plus its parts in gate order. */
export interface FusedWeight {
  weight: InspectWeight;
  parts: FusedPart[];
}

/** `lstm_1_W_i:0`, `lstm_1_W_f:0` ... -> `lstm_1_W_{i,f,c,o}:0`. */
export function fusedName(names: string[], labels: string[]): string {
  const prefix = names.reduce((p, n) => {
    let k = 0;
    while (k < p.length && k < n.length && p[k] === n[k]) k++;
    return p.slice(0, k);
  });
  const suffix = names.reduce((s, n) => {
    let k = 0;
    while (k < s.length && k < n.length && s[s.length - 1 - k] === n[n.length - 1 - k]) k++;
    return s.slice(s.length - k);
  });
  const kept = prefix.length + suffix.length;
  if (kept === 0 || kept >= Math.min(...names.map((n) => n.length))) return `${names[0]} (+${names.length - 1})`;
  return `${prefix}{${labels.join(',')}}${suffix}`;
}

/**
 * The layer's weights with each group of split gate arrays (same role and direction, all with a `gate`) replaced by
 * one fused view at the position of the group's first array. Groups that do not line up (different row counts)
 * stay split.
 */
export function fuseSplitArrays(layer: InspectLayer): { weights: InspectWeight[]; fused: Map<string, FusedWeight> } {
  const fused = new Map<string, FusedWeight>();
  const groups = new Map<string, InspectWeight[]>();
  for (const w of layer.weights) {
    if (!w.gate) continue;
    const key = `${w.role}\u0000${w.direction ?? ''}`;
    groups.set(key, [...(groups.get(key) ?? []), w]);
  }
  const replaced = new Map<InspectWeight, InspectWeight | null>();
  for (const members of groups.values()) {
    if (members.length < 2) continue;
    const order = (gatesOf(members[0].layerClass) ?? []).map((g) => g.label);
    const rank = (w: InspectWeight) => {
      const k = order.indexOf(w.gate!);
      return k < 0 ? order.length + members.indexOf(w) : k;
    };
    const sorted = [...members].sort((a, b) => rank(a) - rank(b));
    const rows = sorted[0].view[0];
    if (sorted.some((w) => w.view[0] !== rows || w.shape.length !== sorted[0].shape.length)) continue;
    let col = 0;
    const parts: FusedPart[] = sorted.map((w) => {
      const part = { weight: w, colStart: col, colEnd: col + w.view[1] };
      col += w.view[1];
      return part;
    });
    const first = sorted[0];
    const labels = sorted.map((w) => w.gate!);
    const weight: InspectWeight = {
      ...first,
      name: fusedName(sorted.map((w) => w.name), labels),
      shape: [...first.shape.slice(0, -1), col],
      params: sorted.reduce((a, w) => a + w.params, 0),
      meaning: `${roleMeaningOf(first.layerClass, familyOf(first.layerClass), first.role)} — Keras 1 stores one array per gate; shown fused in ${labels.join(', ')} order`,
      path: sorted.map((w) => w.path).join(' + '),
      gate: undefined,
      blocks: parts.flatMap((p) => p.weight.blocks.filter((b) => b.axis === -1 || b.axis === p.weight.shape.length - 1).map((b) => ({ ...b, start: b.start + p.colStart, end: b.end + p.colStart }))),
      view: [rows, col],
    };
    delete weight.gate;
    fused.set(weight.name, { weight, parts });
    members.forEach((w) => replaced.set(w, null));
    replaced.set(members[0], weight);
  }
  const weights: InspectWeight[] = [];
  for (const w of layer.weights) {
    if (!replaced.has(w)) weights.push(w);
    else if (replaced.get(w)) weights.push(replaced.get(w)!);
  }
  return { weights, fused };
}

/** The part holding fused column `col`, and the column inside it. */
export function partAt(f: FusedWeight, col: number): { part: FusedPart; col: number } | null {
  const part = f.parts.find((p) => col >= p.colStart && col < p.colEnd);
  return part ? { part, col: col - part.colStart } : null;
}

/** Concatenate the parts' values column-wise into the fused (rows x totalCols) matrix. */
export function fuseValues(rows: number, parts: { cols: number; data: ArrayLike<number> }[]): Float32Array {
  const total = parts.reduce((a, p) => a + p.cols, 0);
  const out = new Float32Array(rows * total);
  let offset = 0;
  for (const p of parts) {
    for (let r = 0; r < rows; r++) for (let c = 0; c < p.cols; c++) out[r * total + offset + c] = p.data[r * p.cols + c];
    offset += p.cols;
  }
  return out;
}
