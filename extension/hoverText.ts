/**
 * What a hover says at one position of a line: `get_weights()[k]` (with a model open) or a weight name, as
 * markdown from src/explain/words.ts, with the character range it covers. Pure (no vscode): hovers.ts adapts it.
 */
import { explainGetWeightsIndex, explainWeightName, findGetWeightsIndexAt, findWeightNameAt } from '../src/explain/words';
import type { InspectReport, InspectWeight } from '../src/explain/inspect';
import { sliceText, weightNaming } from './protocol';

/** Longest stretch of a line looked at (minified JSON can be megabytes on one line). */
export const MAX_LINE = 20_000;

export interface HoverText {
  start: number;
  end: number;
  markdown: string;
}

/** The stretch of a long line looked at around `column` (minified JSON can be megabytes on one line). */
function around(line: string, column: number): { text: string; offset: number } {
  const offset = line.length > MAX_LINE ? Math.max(0, column - MAX_LINE / 2) : 0;
  return { text: line.length > MAX_LINE ? line.slice(offset, offset + MAX_LINE) : line, offset };
}

export function hoverTextAt(line: string, column: number, report: InspectReport | null): HoverText | null {
  const { text, offset } = around(line, column);
  const col = column - offset;
  if (report) {
    const gw = findGetWeightsIndexAt(text, col);
    if (gw) {
      const md = explainGetWeightsIndex(gw.index, report, gw.layer);
      const list = gw.layer ? (report.layers.find((l) => l.name === gw.layer)?.weights ?? []) : report.layers.flatMap((l) => l.weights);
      const w = list[gw.index < 0 ? list.length + gw.index : gw.index];
      if (md) return { start: gw.start + offset, end: gw.end + offset, markdown: md + (w ? slicesMarkdown(report, w) : '') };
    }
  }
  const known = report ? new Set(report.layers.map((l) => l.name)) : undefined;
  const at = findWeightNameAt(text, col, known);
  if (!at) return null;
  const md = explainWeightName(at.text, report ? { report } : null);
  const w = report ? weightNamed(report, at.text) : null;
  return md ? { start: at.start + offset, end: at.end + offset, markdown: md + (report && w ? slicesMarkdown(report, w) : '') } : null;
}

/** The open model's weight a name in the text means: the stored name, with or without `:0` or an HDF5 path prefix. */
function weightNamed(report: InspectReport, text: string): InspectWeight | null {
  const bare = (n: string) => n.replace(/:\d+$/, '');
  const t = bare(text.replace(/^\/?model_weights\/[^/]+\//, ''));
  for (const l of report.layers) for (const w of l.weights) if (bare(w.name) === t) return w;
  return null;
}

/** The weight's gate slices with the open model's real columns, in both forms (what the viewer's Copy slice copies). */
export function slicesMarkdown(report: InspectReport, w: InspectWeight): string {
  const blocks = (w.blocks ?? []).filter((b) => b.axis === -1 || b.axis === w.shape.length - 1);
  const naming = weightNaming(report).get(`${w.layer}\u0000${w.name}`);
  if (!naming || blocks.length === 0) return '';
  const code = (t: string) => `\`${t.replace(/`/g, "'")}\``;
  const lines = blocks.map((b) => {
    const s = sliceText(w.layer, naming, w, b);
    return `- ${code(s.model)}  \n  ${code(s.layer)}`;
  });
  return `\n\n**Gate slices** (numpy):\n\n${lines.join('\n')}`;
}
