/**
 * The words of Keras Lens: what a weight name means (hovers), what one cell of a weight is (webview tooltips),
 * what a gate block and a whole weight are. Everything reads the `inspect` report, so the numbers are the open
 * model's real units; without a model, the generic Keras layout is described (u = units).
 */
import { keras1SplitMeaning } from '../model/kinds/gated-roles';
import { declaredRole, declaredRoles, meaningHead, roleMeaningOf } from './declaredRoles';
import { familyOf, gatesOf } from './gates';
import type { InspectReport, InspectWeight } from './inspect';
import { unravel, type RowSpan } from '../model/rows';
import type { GateBlock } from '../model/types';
import { findWeightNames, parseWeightName, type ParsedWeightName } from './weightNames';

export { findWeightNameAt, findWeightNames, parseWeightName } from './weightNames';
export type { ParsedWeightName, WeightNameAt } from './weightNames';

export interface OpenModel {
  report: InspectReport;
}

// ---------------------------------------------------------------------------------------------
// Cells, blocks, weights
// ---------------------------------------------------------------------------------------------

/** The index a user would type for cell (row, col) of the matrix view: the weight's own axes. */
export function cellIndex(weight: InspectWeight, row: number, col: number): number[] {
  const shape = weight.shape;
  if (shape.length === 0) return [];
  if (shape.length === 1) return [col];
  return [...unravel(row, shape.slice(0, -1)), col];
}

/** One sentence about one cell of the matrix view of a weight (see InspectWeight.view). */
export function describeCell(weight: InspectWeight, row: number, col: number): string {
  const [rows, cols] = weight.view;
  const label = `${weight.role}[${cellIndex(weight, row, col).join(', ')}]`;
  if (row < 0 || row >= rows || col < 0 || col >= cols || !Number.isInteger(row) || !Number.isInteger(col)) {
    return `${label}: outside the weight (view ${rows} × ${cols})`;
  }
  const dir = weight.direction ? ` (${weight.direction} ${weight.layerClass ?? 'layer'})` : '';
  const into = describeColumn(weight, col);

  if (weight.role === 'embeddings') return `${label}${dir}: dimension ${col} of the vector for token id ${row}`;
  if (weight.shape.length <= 1) {
    const column = weight.columns?.find((s) => col >= s.start && col < s.end);
    if (column) return `${label}${dir}: ${meaningHead(weight.meaning)} of ${describeRow(column, col)}`;
    const feature = weight.role === 'bias' ? into : `${meaningHead(weight.meaning)}, feature ${col}`;
    return `${label}${dir}: ${weight.role === 'bias' ? 'bias of ' : ''}${feature}`;
  }
  const span = weight.rows.find((s) => row >= s.start && row < s.end);
  if (weight.role === 'bias') {
    return `${label}${dir}: ${span ? span.source : `row ${row}`} of ${into}`;
  }
  const from = span ? describeRow(span, row) : `row ${row}`;
  return `${label}${dir}: from ${from} into ${into}`;
}

/** What feeds one row: `lstm_1 unit 5`, `h(t-1) unit 5`, `simple_rnn_1 unit 3 at timestep 4`. */
export function describeRow(span: RowSpan, row: number): string {
  const index = (span.offset ?? 0) + (row - span.start);
  const word = span.index ?? 'feature';
  const half = span.meaning === 'forward' || span.meaning === 'backward' ? ` ${span.meaning}` : '';
  let text = `${span.source}${half} ${word} ${index}`;
  if (span.timestep !== undefined) text += ` at timestep ${span.timestep}`;
  else if (span.position && /^kernel position/.test(span.meaning ?? '')) text = `kernel position (${span.position.join(', ')}), ${text}`;
  else if (span.position) text += ` at position (${span.position.join(', ')})`;
  return text;
}

/** What one column feeds: `the forget gate of unit 2`, `dense_1 unit 5`. */
function describeColumn(weight: InspectWeight, col: number): string {
  const block = weight.blocks.find((b) => (b.axis === -1 || b.axis === weight.shape.length - 1) && col >= b.start && col < b.end);
  const unitWord = familyOf(weight.layerClass) === 'conv_lstm' || familyOf(weight.layerClass) === 'conv' ? 'filter' : 'unit';
  if (block) return `the ${gateWords(block)} of ${unitWord} ${col - block.start}`;
  if (weight.layerClass) return `${weight.layer} ${unitWord} ${col}`;
  return `column ${col}`;
}

/** A block's meaning without a trailing repeat of its label: 'update gate (z)' → 'update gate'. */
function gateWords(block: GateBlock): string {
  const suffix = ` (${block.label})`;
  return block.meaning.endsWith(suffix) ? block.meaning.slice(0, -suffix.length) : block.meaning;
}

/** `f — forget gate: columns [50, 100) of lstm_1/kernel:0 (units 0–49)`. */
export function describeBlock(weight: InspectWeight, block: GateBlock): string {
  const axisName = block.axis === -1 || block.axis === weight.shape.length - 1 ? 'columns' : `axis ${block.axis} entries`;
  const n = block.end - block.start;
  return `${block.label} — ${block.meaning}: ${axisName} [${block.start}, ${block.end}) of ${weight.name} (${n} ${n === 1 ? 'unit' : 'units'})`;
}

/** One line: name, role meaning, shape, blocks. */
export function describeWeight(weight: InspectWeight): string {
  const dir = weight.direction ? ` (${weight.direction})` : '';
  const blocks = weight.blocks.length ? ' — ' + weight.blocks.map((b) => `${b.label} [${b.start}, ${b.end})`).join(' ') : '';
  return `${weight.name}${dir}: ${weight.meaning}, shape ${shapeText(weight.shape)}${blocks}`;
}

function shapeText(shape: readonly (number | null)[]): string {
  return `(${shape.map((d) => (d === null ? 'None' : String(d))).join(', ')}${shape.length === 1 ? ',' : ''})`;
}

// ---------------------------------------------------------------------------------------------
// Hovers: weight names in free text, get_weights()[k]
// ---------------------------------------------------------------------------------------------

/**
 * Markdown explaining the first weight name found in `text` (role, gate blocks with column ranges, row sources),
 * using the open model's real shapes when given. Null when the text holds no weight name.
 */
export function explainWeightName(text: string, model?: OpenModel | null): string | null {
  const report = model?.report ?? null;
  const known = report ? new Set(report.layers.map((l) => l.name)) : undefined;
  const found = parseWeightName(text, known) ? text.trim() : findWeightNames(text, known)[0]?.text;
  if (!found) return null;
  const parsed = parseWeightName(found, known);
  if (!parsed) return null;
  if (!report) return explainGeneric(parsed);
  const weight = matchWeight(parsed, report);
  if (weight) {
    // A fused (Keras 2) name on a file that stores Keras 1 split arrays: list the arrays that make it up.
    if (!parsed.gate && weight.gate && bareName(weight.name) !== bareName(parsed.text)) return explainSplitArrays(parsed, weight, report);
    return explainModelWeight(weight, report);
  }
  // A Keras 1 split name (`lstm_1_W_f`) on a file with fused weights: point at its block.
  const layer = report.layers.find((l) => l.name === (parsed.layer ?? parsed.inner));
  const fused = parsed.gate
    ? layer?.weights.find((w) => w.role === parsed.role && !w.gate && (parsed.direction === undefined || w.direction === parsed.direction))
    : undefined;
  const block = fused?.blocks.find((b) => b.label === parsed.gate);
  if (fused && block) {
    return (
      `**${md(parsed.text)}** is the Keras 1 name of the **${md(block.label)}** block (${md(gateWords(block))}) of ${code(fused.name)}: ` +
      `columns [${block.start}, ${block.end}) in this model.\n\n` +
      explainModelWeight(fused, report)
    );
  }
  return explainGeneric(parsed);
}

function bareName(s: string): string {
  return s.replace(/:\d+$/, '').replace(/^model_weights\//, '');
}

/** `lstm_1/kernel` asked of a Keras 1 file: the split arrays holding its gates, and where they sit when fused. */
function explainSplitArrays(parsed: ParsedWeightName, first: InspectWeight, report: InspectReport): string {
  const layer = report.layers.find((l) => l.name === first.layer)!;
  const parts = layer.weights.filter((w) => w.role === first.role && w.gate && w.direction === first.direction);
  const order = gatesOf(first.layerClass)?.map((g) => g.label) ?? parts.map((w) => w.gate!);
  const u = first.shape[first.shape.length - 1];
  const lines = [
    `**${md(parsed.text)}** — ${md(first.layerClass ?? 'layer')} ${code(first.layer)} ${first.role}: this Keras 1 file stores it as ${parts.length} separate arrays, one per gate (fused Keras 2 columns in brackets):`,
    '',
  ];
  for (const w of [...parts].sort((a, b) => order.indexOf(a.gate!) - order.indexOf(b.gate!))) {
    const k = order.indexOf(w.gate!);
    const block = w.blocks[0];
    lines.push(`- ${code(w.name)} — **${md(w.gate!)}** ${block ? gateWords(block) : ''}, shape ${shapeText(w.shape)} [${k * u}, ${(k + 1) * u})`);
  }
  return lines.join('\n');
}

/** The open model's weight a parsed name refers to. */
export function matchWeight(parsed: ParsedWeightName, report: InspectReport): InspectWeight | null {
  const bare = bareName;
  const all = report.layers.flatMap((l) => l.weights);
  const target = bare(parsed.text);
  const exact = all.find((w) => bare(w.name) === target || bare(w.path) === target || bare(w.path).endsWith('/' + target));
  if (exact) return exact;
  const layerName = parsed.layer ?? parsed.inner;
  const layer = report.layers.find((l) => l.name === layerName) ?? (parsed.inner ? report.layers.find((l) => l.weights.some((w) => w.name.includes(`_${parsed.inner}/`))) : undefined);
  if (!layer) return null;
  return (
    layer.weights.find(
      (w) =>
        w.role === parsed.role &&
        (parsed.direction === undefined || w.direction === parsed.direction) &&
        (parsed.gate === undefined || w.gate === parsed.gate),
    ) ?? (parsed.varIndex !== undefined ? (layer.weights[parsed.varIndex] ?? null) : null)
  );
}

function explainModelWeight(w: InspectWeight, report: InspectReport): string {
  const layer = report.layers.find((l) => l.name === w.layer);
  const cls = layer ? (layer.innerClassName ? `${layer.className}(${layer.innerClassName})` : layer.className) : (w.layerClass ?? 'layer');
  const lines: string[] = [];
  lines.push(`**${md(w.name)}**${w.direction ? ` (${w.direction})` : ''} — ${md(cls)} ${code(w.layer)}, ${md(w.role)}, shape ${shapeText(w.shape)}`);
  lines.push('');
  lines.push(md(capital(w.meaning)) + '.');
  if (w.blocks.length) {
    lines.push('');
    lines.push(w.shape.length >= 2 ? '| columns | gate |' : '| entries | gate |');
    lines.push('|---|---|');
    for (const b of w.blocks) lines.push(`| [${b.start}, ${b.end}) | **${md(b.label)}** — ${md(b.meaning)} |`);
  }
  if (w.rows.length) {
    lines.push('');
    lines.push(w.shape.length > 2 ? `Rows (of the ${w.view[0]} × ${w.view[1]} matrix view):` : 'Rows:');
    const shown = w.rows.slice(0, 12);
    for (const s of shown) lines.push(`- [${s.start}, ${s.end}): ${md(rowSpanText(s))}`);
    if (w.rows.length > shown.length) lines.push(`- … ${w.rows.length - shown.length} more ranges`);
  }
  const index = globalIndex(w, report);
  if (index !== null) lines.push('', `${code(`model.get_weights()[${index}]`)}, ${code(`get_layer('${w.layer}').get_weights()[${w.index}]`)}`);
  return lines.join('\n');
}

function rowSpanText(s: RowSpan): string {
  const first = s.offset ?? 0;
  const n = s.end - s.start;
  const word = s.index ?? 'feature';
  const range = n === 1 ? `${word} ${first}` : `${word}s ${first}–${first + n - 1}`;
  const half = s.meaning === 'forward' || s.meaning === 'backward' ? ` ${s.meaning}` : '';
  let text = `${s.source}${half}`;
  if (s.source === 'input bias' || s.source === 'recurrent bias') return `${s.source}${s.meaning ? ` (${s.meaning})` : ''}`;
  text += ` ${range}`;
  if (s.timestep !== undefined) text += ` at timestep ${s.timestep}`;
  if (s.position && s.timestep === undefined) text += ` at ${/^kernel position/.test(s.meaning ?? '') ? 'kernel ' : ''}position (${s.position.join(', ')})`;
  if (s.meaning && !half && !/^kernel position/.test(s.meaning)) text += ` (${s.meaning})`;
  return text;
}

function globalIndex(w: InspectWeight, report: InspectReport): number | null {
  let k = 0;
  for (const l of report.layers) {
    for (const x of l.weights) {
      if (x === w) return k;
      k++;
    }
  }
  return null;
}

/** Generic explanation from the name alone: Keras's layout with u = units. */
function explainGeneric(p: ParsedWeightName): string {
  const family = familyOf(p.className);
  const gates = gatesOf(p.className);
  const where = p.layer ?? p.inner ?? 'layer';
  const lines: string[] = [];
  const role = p.role ?? (p.varIndex !== undefined ? `variable ${p.varIndex}` : 'weight');
  lines.push(`**${md(p.text)}**${p.direction ? ` (${p.direction})` : ''} — ${p.className ?? 'layer'} ${code(where)}, ${role}`);
  lines.push('');
  if (!p.role) {
    lines.push(`A Keras 3 positional variable; its role depends on the layer's class${p.className ? '' : ', which the name does not say'}. Open the model file to see it.`);
    return lines.join('\n');
  }
  const g = p.gate ? gates?.find((x) => x.label === p.gate) : undefined;
  lines.push(capital(g ? keras1SplitMeaning(p.role, g) : roleMeaningOf(p.className, family, p.role)) + '.');
  if (gates && p.gate) {
    const k = gates.findIndex((x) => x.label === p.gate);
    if (g) {
      lines.push('');
      lines.push(
        `Keras 1 split array: holds only the **${g.label}** block (${g.meaning}), shape (…, u). In the fused Keras 2 ${p.role} it is columns [${multipleOfU(k)}, ${multipleOfU(k + 1)}).`,
      );
    }
    return lines.join('\n');
  }
  // The kind's blocks for u = 1: block [k, k+1) is columns [k·u, (k+1)·u).
  const blocks = gates && (p.role === 'kernel' || p.role === 'recurrent_kernel' || p.role === 'bias') ? (declaredRole(declaredRoles(p.className), p.role)?.blocks ?? []) : [];
  if (blocks.length) {
    const u = family === 'conv_lstm' ? 'u = filters' : 'u = units';
    lines.push('');
    lines.push(`Gate blocks along the last axis (${u}, ${blocks.length}u ${p.role === 'bias' ? 'entries' : 'columns'}):`);
    lines.push('');
    lines.push(p.role === 'bias' ? '| entries | gate |' : '| columns | gate |');
    lines.push('|---|---|');
    for (const b of blocks) lines.push(`| [${multipleOfU(b.start)}, ${multipleOfU(b.end)}) | **${b.label}** — ${b.meaning} |`);
    if (family === 'gru' && p.role === 'bias' && blocks.length === gates!.length) {
      lines.push('', 'With `reset_after=True` (tf.keras 2 default) the bias has shape (2, 3u): row 0 input bias, row 1 recurrent bias.');
    }
  }
  if (p.role === 'recurrent_kernel') lines.push('', 'Rows: h(t-1), the previous hidden state (one row per unit).');
  else if (p.role === 'kernel' && gates) lines.push('', family === 'conv_lstm' ? 'Rows: kernel positions × input channels.' : 'Rows: the input features x(t).');
  return lines.join('\n');
}

/** Text from a file inside markdown: characters that would make links, HTML, tables or emphasis are escaped. */
export function md(text: string): string {
  return text.replace(/[\\`*\[\]<>|]/g, (c) => `\\${c}`);
}

/** A code span that survives backticks inside the text. */
export function code(text: string): string {
  const runs = text.match(/`+/g) ?? [];
  const fence = '`'.repeat(Math.max(0, ...runs.map((r) => r.length)) + 1);
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${text}${pad}${fence}`;
}

/** 0, u, 2u, ... */
function multipleOfU(k: number): string {
  return k === 0 ? '0' : k === 1 ? 'u' : `${k}u`;
}

function capital(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/**
 * Markdown for `get_weights()[k]`: of the whole model, or of one layer when `layerName` is given
 * (`model.get_layer('lstm_1').get_weights()[1]`). Negative k counts from the end, like Python.
 */
export function explainGetWeightsIndex(k: number, report: InspectReport, layerName?: string | null): string | null {
  const list = layerName ? (report.layers.find((l) => l.name === layerName)?.weights ?? null) : report.layers.flatMap((l) => l.weights);
  if (!list) return null;
  const index = k < 0 ? list.length + k : k;
  const w = list[index];
  if (!w) return `${code(`get_weights()[${k}]`)}: out of range — ${layerName ? `layer '${md(layerName)}'` : 'the model'} has ${list.length} weight arrays`;
  return `${code(`${layerName ? `get_layer('${layerName}').` : ''}get_weights()[${k}]`)} is ${md(w.name)}\n\n` + explainModelWeight(w, report);
}

export interface GetWeightsIndexAt {
  start: number;
  end: number;
  index: number;
  /** Set for `get_layer('name').get_weights()[k]`. */
  layer: string | null;
}

/** `get_weights()[k]` (optionally after `get_layer('name').`) under `column`, or null. */
export function findGetWeightsIndexAt(lineText: string, column: number): GetWeightsIndexAt | null {
  const re = /(?:get_layer\(\s*(?:name\s*=\s*)?['"]([^'"]+)['"]\s*\)\s*\.\s*)?get_weights\(\s*\)\s*\[\s*(-?\d+)\s*\]/g;
  for (let m = re.exec(lineText); m; m = re.exec(lineText)) {
    if (column >= m.index && column < m.index + m[0].length) {
      return { start: m.index, end: m.index + m[0].length, index: Number(m[2]), layer: m[1] ?? null };
    }
  }
  return null;
}
