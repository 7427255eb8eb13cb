/**
 * Keras Lens extension entry: registers the model viewer, the commands, the hovers and the JSON sniffing context
 * key. No Keras knowledge here: it lives in src/ and is reached through the modules below.
 */
import { extname } from 'node:path';
import * as vscode from 'vscode';
import { WeightHoverProvider, HOVER_SELECTOR } from './hovers';
import { MODEL_VIEWER, MODEL_VIEWER_JSON, ModelEditorProvider } from './modelEditor';
import { sniffKerasJson } from './modelJsonSniff';
import { OpenModels } from './openModels';
import { PredictCommand } from './predictCommand';
import { runAsPredictWorker } from './predictJob';

// In a Predict worker thread this same bundle only runs the job (see predictJob.ts).
runAsPredictWorker();

/** Context key: the active editor is a JSON document that looks like a Keras / TF.js model or weight dump. */
export const JSON_IS_MODEL_KEY = 'kerasLens.activeJsonIsModel';

export function activate(context: vscode.ExtensionContext): void {
  const models = new OpenModels();
  const editors = ModelEditorProvider.register(context, models);
  const predict = new PredictCommand(context, models);
  const provider = new WeightHoverProvider(models);

  context.subscriptions.push(
    vscode.commands.registerCommand('kerasLens.openWith', (uri?: vscode.Uri) => openWithKerasLens(uri)),
    vscode.commands.registerCommand('kerasLens.predict', (uri?: vscode.Uri) => predict.run(uri instanceof vscode.Uri ? uri : undefined)),
    vscode.commands.registerCommand('kerasLens.pickArchitecture', () => editors.pickArchitectureForActive()),
    vscode.languages.registerHoverProvider(HOVER_SELECTOR, provider),
    vscode.window.onDidChangeActiveTextEditor((e) => updateJsonContext(e)),
    vscode.workspace.onDidSaveTextDocument((d) => {
      if (vscode.window.activeTextEditor?.document === d) updateJsonContext(vscode.window.activeTextEditor);
    }),
  );
  updateJsonContext(vscode.window.activeTextEditor);
}

export function deactivate(): void {}

function updateJsonContext(editor: vscode.TextEditor | undefined): void {
  const doc = editor?.document;
  const isJson = !!doc && (doc.languageId === 'json' || doc.languageId === 'jsonc' || extname(doc.fileName).toLowerCase() === '.json');
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
  const viewType = extname(target.fsPath).toLowerCase() === '.json' ? MODEL_VIEWER_JSON : MODEL_VIEWER;
  await vscode.commands.executeCommand('vscode.openWith', target, viewType);
}
