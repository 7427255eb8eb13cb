/**
 * Hovers over weight names (`lstm_1/kernel:0`, `lstm_1_W_f`, `recurrent_kernel`) and `get_weights()[k]` in Python,
 * notebooks, JSON, Markdown and plain text. With a model open in Keras Lens the words use its real layer names and
 * units (hoverText.ts), otherwise the generic Keras layout.
 */
import * as vscode from 'vscode';
import { hoverTextAt } from './hoverText';
import { uriOfKey } from './fileAccess';
import type { OpenModels } from './openModels';

export class WeightHoverProvider implements vscode.HoverProvider {
  constructor(private readonly models: OpenModels) {}

  provideHover(doc: vscode.TextDocument, pos: vscode.Position): vscode.Hover | null {
    const open = this.models.active;
    const found = hoverTextAt(doc.lineAt(pos.line).text, pos.character, open?.report ?? null);
    if (!found) return null;
    const md = new vscode.MarkdownString(found.markdown);
    md.appendMarkdown(
      open
        ? `\n\n*Keras Lens — from ${vscode.workspace.asRelativePath(uriOfKey(open.path))}*`
        : '\n\n*Keras Lens — generic Keras layout; open the model file in Keras Lens for its real units*',
    );
    md.isTrusted = false;
    md.supportHtml = false;
    return new vscode.Hover(md, new vscode.Range(pos.line, found.start, pos.line, found.end));
  }
}
