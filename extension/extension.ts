/**
 * Keras Lens extension entry (dist/extension.js, kept tiny): registers the contributions — the model viewer, the
 * commands, the hovers, the JSON-sniffing context key — and nothing else. The core (core.ts, dist/core.js) is
 * required on first need: a model opens, a hover finds a weight name, a command runs. Model work itself runs in model
 * workers (extension/worker/), so h5wasm never loads in the extension host.
 */
import * as vscode from 'vscode';
import type { Core } from './core';
import { mayNameWeight } from './hoverPrefilter';
import { HOVER_SELECTOR, MODEL_VIEWER, MODEL_VIEWER_JSON } from './ids';
import { sniffKerasJson } from './modelJsonSniff';

/** Context key: the active editor is a JSON document that looks like a Keras / TF.js model or weight dump. */
export const JSON_IS_MODEL_KEY = 'kerasLens.activeJsonIsModel';

let core: Core | null = null;

/** The core, loaded and started once (the build keeps `./core` a separate bundle, dist/core.js). */
function loadCore(context: vscode.ExtensionContext): Core {
  if (!core) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const m = require('./core') as typeof import('./core');
    core = m.startCore(context);
  }
  return core;
}

/** True once the core was loaded (tests). */
export function coreLoaded(): boolean {
  return core !== null;
}

export function activate(context: vscode.ExtensionContext): void {
  const lazyEditor: vscode.CustomReadonlyEditorProvider = {
    openCustomDocument: (uri) => loadCore(context).editors.openCustomDocument(uri),
    resolveCustomEditor: (doc, panel) => loadCore(context).editors.resolveCustomEditor(doc as never, panel),
  };
  const options = { webviewOptions: { retainContextWhenHidden: true }, supportsMultipleEditorsPerDocument: true };
  context.subscriptions.push(
    vscode.window.registerCustomEditorProvider(MODEL_VIEWER, lazyEditor, options),
    vscode.window.registerCustomEditorProvider(MODEL_VIEWER_JSON, lazyEditor, options),
    vscode.commands.registerCommand('kerasLens.openWith', (uri?: vscode.Uri) => openWithKerasLens(uri)),
    vscode.commands.registerCommand('kerasLens.predict', (uri?: vscode.Uri) => loadCore(context).predict.run(uri instanceof vscode.Uri ? uri : undefined)),
    vscode.commands.registerCommand('kerasLens.pickArchitecture', () => loadCore(context).editors.pickArchitectureForActive()),
    vscode.commands.registerCommand('kerasLens.exportPredictor', (uri?: vscode.Uri) => loadCore(context).exportPredictor.run(uri instanceof vscode.Uri ? uri : undefined)),
    // Which entry runs where (desktop main or browser entry, and the model workers it started); also the result.
    vscode.commands.registerCommand('kerasLens.showRuntime', () => {
      const line = loadCore(context).runtime();
      void vscode.window.showInformationMessage(line);
      return line;
    }),
    vscode.languages.registerHoverProvider(HOVER_SELECTOR, {
      provideHover(doc, pos) {
        // Cheap first: without a model open (no core yet) only a line that names a weight needs the core.
        if (!core && !mayNameWeight(doc.lineAt(pos.line).text, pos.character)) return null;
        return loadCore(context).hovers.provideHover(doc, pos);
      },
    }),
    vscode.window.onDidChangeActiveTextEditor((e) => updateJsonContext(e)),
    vscode.workspace.onDidSaveTextDocument((d) => {
      if (vscode.window.activeTextEditor?.document === d) updateJsonContext(vscode.window.activeTextEditor);
    }),
  );
  updateJsonContext(vscode.window.activeTextEditor);
}

export function deactivate(): void {}

function extensionOf(path: string): string {
  const base = path.split(/[\\/]/).pop() ?? '';
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot).toLowerCase() : '';
}

function updateJsonContext(editor: vscode.TextEditor | undefined): void {
  const doc = editor?.document;
  const isJson = !!doc && (doc.languageId === 'json' || doc.languageId === 'jsonc' || extensionOf(doc.fileName) === '.json');
  // Only the head of the document: sniffing must stay cheap on big weight dumps.
  const head = isJson ? doc!.getText(new vscode.Range(0, 0, Math.min(doc!.lineCount, 2000), 0)).slice(0, 64 * 1024) : '';
  void vscode.commands.executeCommand('setContext', JSON_IS_MODEL_KEY, isJson && sniffKerasJson(head) !== null);
}

async function openWithKerasLens(uri?: vscode.Uri): Promise<void> {
  const target = uri instanceof vscode.Uri ? uri : vscode.window.activeTextEditor?.document.uri;
  if (!target) {
    void vscode.window.showInformationMessage('Keras Lens: open or select a model file (.h5, .hdf5, .keras, or Keras/TF.js .json) first.');
    return;
  }
  const viewType = extensionOf(target.path) === '.json' ? MODEL_VIEWER_JSON : MODEL_VIEWER;
  await vscode.commands.executeCommand('vscode.openWith', target, viewType);
}
