/**
 * What a hover says at one position of a line: `get_weights()[k]` (with a model open) or a weight name, as
 * markdown from src/explain/words.ts, with the character range it covers. Pure (no vscode): hovers.ts adapts it.
 */
import { explainGetWeightsIndex, explainWeightName, findGetWeightsIndexAt, findWeightNameAt } from '../src/explain/words';
import type { InspectReport } from '../src/explain/inspect';

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
      if (md) return { start: gw.start + offset, end: gw.end + offset, markdown: md };
    }
  }
  const known = report ? new Set(report.layers.map((l) => l.name)) : undefined;
  const at = findWeightNameAt(text, col, known);
  if (!at) return null;
  const md = explainWeightName(at.text, report ? { report } : null);
  return md ? { start: at.start + offset, end: at.end + offset, markdown: md } : null;
}
