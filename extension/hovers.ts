/**
 * Hovers over weight names (`lstm_1/kernel:0`, `lstm_1_W_f`, `recurrent_kernel`) and `get_weights()[k]` in Python,
 * notebooks, JSON, Markdown and plain text. The words come from src/explain/words.ts; with a model open in
 * Keras Lens they use its real layer names and units, otherwise the generic Keras layout.
 */
import * as vscode from 'vscode';
import { explainGetWeightsIndex, explainWeightName, findGetWeightsIndexAt, findWeightNameAt } from '../src/explain/words';
import type { OpenModels } from './openModels';

export const HOVER_SELECTOR: vscode.DocumentSelector = [
  { language: 'python' },
  { notebookType: 'jupyter-notebook', language: 'python' },
  { language: 'json' },
  { language: 'jsonc' },
  { language: 'markdown' },
  { language: 'plaintext' },
];

/** Longest line looked at (minified JSON can be megabytes on one line). */
const MAX_LINE = 20_000;

export class WeightHoverProvider implements vscode.HoverProvider {
  constructor(private readonly models: OpenModels) {}

  provideHover(doc: vscode.TextDocument, pos: vscode.Position): vscode.Hover | null {
    const line = doc.lineAt(pos.line).text;
    // Look only at a window around the cursor on very long lines.
    const offset = line.length > MAX_LINE ? Math.max(0, pos.character - MAX_LINE / 2) : 0;
    const text = line.length > MAX_LINE ? line.slice(offset, offset + MAX_LINE) : line;
    const col = pos.character - offset;
    const open = this.models.active;
    const range = (start: number, end: number) => new vscode.Range(pos.line, start + offset, pos.line, end + offset);

    if (open) {
      const gw = findGetWeightsIndexAt(text, col);
      if (gw) {
        const md = explainGetWeightsIndex(gw.index, open.report, gw.layer);
        if (md) return new vscode.Hover(markdown(md, open.path), range(gw.start, gw.end));
      }
    }
    const known = open ? new Set(open.report.layers.map((l) => l.name)) : undefined;
    const at = findWeightNameAt(text, col, known);
    if (!at) return null;
    const md = explainWeightName(at.text, open ? { report: open.report } : null);
    if (!md) return null;
    return new vscode.Hover(markdown(md, open?.path), range(at.start, at.end));
  }
}

function markdown(md: string, modelPath?: string): vscode.MarkdownString {
  const m = new vscode.MarkdownString(md);
  if (modelPath) m.appendMarkdown(`\n\n*Keras Lens — from ${vscode.workspace.asRelativePath(modelPath)}*`);
  else m.appendMarkdown('\n\n*Keras Lens — generic Keras layout; open the model file in Keras Lens for its real units*');
  m.isTrusted = false;
  m.supportHtml = false;
  return m;
}
