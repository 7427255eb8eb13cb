/**
 * `kerasLens.predict`: run a model on an input JSON (a file from the explorer, the editor's selection or whole
 * document) with the embedded engine, and show the outputs and per-step gate traces in a results panel.
 * The model is the active Keras Lens editor's file, else the one remembered for this input, else picked.
 */
import * as vscode from 'vscode';
import { exists, fileSpecOf, headText, modelKey, nonce, uriOfKey } from './fileAccess';
import { ArchitecturePairings, MODEL_VIEWER, MODEL_VIEWER_JSON, settings } from './modelEditor';
import { sniffKerasJson } from './modelJsonSniff';
import type { OpenModels } from './openModels';
import type { PredictJobResult } from './predictJob';
import { fileNameOf } from './remoteModel';
import { WorkerClient, type SpawnWorker } from './worker/client';
import { HostChannel, oneLine, type HostReply, type PredictResultsSummary, type WebviewRequest } from './protocol';
import { webviewHtml } from './webviewHtml';

const MODEL_FOR_INPUT = 'kerasLens.modelForInput';
const MODEL_EXTENSIONS = new Set(['.h5', '.hdf5', '.keras']);

const basename = (key: string) => fileNameOf(key);
function extname(key: string): string {
  const base = fileNameOf(key);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot) : '';
}

interface ModelChoice {
  path: string;
  configPath?: string;
}

interface PredictInput {
  text: string;
  /** For messages and the panel title: file name, plus "(selection)". */
  name: string;
  /** Path of the input file when it has one (key of the remembered pairing). */
  path: string | null;
}

export class PredictCommand {
  private panel: ResultsPanel | null = null;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly models: OpenModels,
    private readonly spawn: SpawnWorker,
    /** The browser entry: files are read whole through vscode.workspace.fs (fileAccess.ts). */
    private readonly web = false,
  ) {}

  async run(uri?: vscode.Uri): Promise<void> {
    try {
      const input = await this.input(uri);
      if (!input) return;
      const model = await this.model(input);
      if (!model) return;
      const results = await this.predict(model, input);
      if (!results) return;
      if (input.path) await this.remember(input.path, model);
      this.showResults(results);
    } catch (e) {
      void vscode.window.showErrorMessage(`Keras Lens: ${oneLine(e)}`);
    }
  }

  /** The input JSON: explorer file, the editor's selection, the editor's document, or a picked file. */
  private async input(uri?: vscode.Uri): Promise<PredictInput | null> {
    const editor = vscode.window.activeTextEditor;
    if (editor && (!uri || editor.document.uri.toString() === uri.toString()) && isJsonDocument(editor.document)) {
      const doc = editor.document;
      const sel = editor.selection;
      const path = doc.isUntitled ? null : modelKey(doc.uri);
      const name = doc.isUntitled ? doc.uri.path : basename(modelKey(doc.uri));
      if (!sel.isEmpty) return { text: doc.getText(sel), name: `${name} (selection)`, path };
      return { text: doc.getText(), name, path };
    }
    let target = uri;
    if (!target) {
      const picked = await vscode.window.showOpenDialog({ title: 'Input JSON for Keras Lens: Predict', filters: { JSON: ['json'] }, canSelectMany: false });
      if (!picked?.length) return null;
      target = picked[0];
    }
    const doc = await vscode.workspace.openTextDocument(target); // unsaved edits count
    return { text: doc.getText(), name: basename(modelKey(target)), path: modelKey(target) };
  }

  private async model(input: PredictInput): Promise<ModelChoice | null> {
    const pairings = new ArchitecturePairings(this.context.workspaceState);
    const withArchitecture = (path: string): ModelChoice => ({ path, configPath: pairings.get(path) });
    // 1. A Keras Lens editor is the active tab.
    const tab = vscode.window.tabGroups.activeTabGroup.activeTab;
    if (tab?.input instanceof vscode.TabInputCustom && (tab.input.viewType === MODEL_VIEWER || tab.input.viewType === MODEL_VIEWER_JSON)) {
      return withArchitecture(modelKey(tab.input.uri));
    }
    // 2. The model used with this input before.
    const remembered = input.path ? this.context.workspaceState.get<Record<string, ModelChoice>>(MODEL_FOR_INPUT, {})[input.path] : undefined;
    if (remembered && (await exists(uriOfKey(remembered.path)))) return remembered;
    // 3. Pick: open Keras Lens models first, then the workspace's model files.
    const items: (vscode.QuickPickItem & { path?: string })[] = [];
    const seen = new Set<string>();
    const add = (path: string, detail: string) => {
      if (seen.has(path) || path === input.path) return;
      seen.add(path);
      items.push({ label: basename(path), description: vscode.workspace.asRelativePath(uriOfKey(path)), detail, path });
    };
    const active = this.models.active;
    if (active) add(active.path, 'open in Keras Lens');
    const files = await vscode.workspace.findFiles('**/*.{h5,hdf5,keras}', '**/node_modules/**', 500);
    for (const f of files) add(modelKey(f), 'model file');
    const jsons = await vscode.workspace.findFiles('**/*.json', '{**/node_modules/**,**/.vscode/**,**/package*.json,**/tsconfig*.json}', 300);
    for (const f of jsons) {
      const kind = await sniffFile(f);
      if (kind && kind !== 'weights-dump') add(modelKey(f), 'Keras / TF.js model JSON');
    }
    if (items.length === 0) {
      const picked = await vscode.window.showOpenDialog({
        title: `Model for ${input.name}`,
        filters: { 'Keras models': ['h5', 'hdf5', 'keras', 'json'] },
        canSelectMany: false,
      });
      return picked?.length ? withArchitecture(modelKey(picked[0])) : null;
    }
    const choice = await vscode.window.showQuickPick(items, { title: `Keras Lens: model to run on ${input.name}`, matchOnDescription: true });
    return choice?.path ? withArchitecture(choice.path) : null;
  }

  private async remember(inputPath: string, model: ModelChoice): Promise<void> {
    const all = { ...this.context.workspaceState.get<Record<string, ModelChoice>>(MODEL_FOR_INPUT, {}), [inputPath]: model };
    await this.context.workspaceState.update(MODEL_FOR_INPUT, all);
  }

  /** Run in a model worker of its own (cancel and the time limit end it for real); null when cancelled. */
  private predict(choice: ModelChoice, input: PredictInput): Thenable<PredictJobResult | null> {
    const { maxBatch, timeoutSeconds } = settings();
    const modelName = basename(choice.path);
    return vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Keras Lens: predicting with ${modelName} on ${input.name}`, cancellable: true },
      async (_progress, token) => {
        const worker = new WorkerClient(this.spawn);
        const sub = token.onCancellationRequested(() => worker.dispose());
        try {
          const model = await fileSpecOf(uriOfKey(choice.path), this.web);
          const config = choice.configPath ? await fileSpecOf(uriOfKey(choice.configPath), this.web) : undefined;
          return await worker.call(
            { op: 'predict', job: { modelPath: choice.path, configPath: choice.configPath, inputText: input.text, inputName: input.name, maxBatch, model, config } },
            { file: modelName, what: `predicting on ${input.name}`, timeoutMs: timeoutSeconds * 1000, timeoutSetting: 'kerasLens.predict.timeoutSeconds' },
          );
        } catch (e) {
          if (token.isCancellationRequested) return null;
          throw e;
        } finally {
          sub.dispose();
          worker.dispose();
        }
      },
    );
  }

  private showResults(results: PredictJobResult): void {
    if (!this.panel || this.panel.disposed) this.panel = new ResultsPanel(this.context);
    this.panel.show(results);
  }
}

function isJsonDocument(doc: vscode.TextDocument): boolean {
  return doc.languageId === 'json' || doc.languageId === 'jsonc' || extname(doc.fileName).toLowerCase() === '.json';
}

/** Sniff the first 64 KiB of a JSON file (files over 16 MB are not read: vscode.workspace.fs reads files whole). */
export async function sniffFile(uri: vscode.Uri): Promise<ReturnType<typeof sniffKerasJson>> {
  const head = await headText(uri);
  return head === null ? null : sniffKerasJson(head);
}

/** The results webview: outputs table, trace plots, Copy / Save as JSON. */
class ResultsPanel {
  private readonly panel: vscode.WebviewPanel;
  private readonly channel: HostChannel;
  private ready = false;
  private current: PredictJobResult | null = null;
  disposed = false;

  constructor(context: vscode.ExtensionContext) {
    const ext = context.extensionUri;
    this.panel = vscode.window.createWebviewPanel('kerasLens.results', 'Keras Lens: Predict', vscode.ViewColumn.Beside, {
      enableScripts: true,
      retainContextWhenHidden: true,
      localResourceRoots: [vscode.Uri.joinPath(ext, 'dist'), vscode.Uri.joinPath(ext, 'media')],
    });
    const webview = this.panel.webview;
    webview.html = webviewHtml({
      cspSource: webview.cspSource,
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(ext, 'dist', 'webview.js')).toString(),
      toolkitUri: webview.asWebviewUri(vscode.Uri.joinPath(ext, 'dist', 'webview-toolkit.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(ext, 'media', 'viewer.css')).toString(),
      nonce: nonce(),
      view: 'results',
      fileName: 'Predict results',
    });
    this.channel = new HostChannel(
      (m) => void webview.postMessage(m),
      (req) => this.answer(req),
      () => {
        this.ready = true;
        if (this.current) this.channel.event({ type: 'results', results: this.current.summary });
      },
    );
    const sub = webview.onDidReceiveMessage((m) => void this.channel.receive(m));
    this.panel.onDidDispose(() => {
      this.disposed = true;
      sub.dispose();
    });
  }

  show(results: PredictJobResult): void {
    const summary = results.summary;
    this.current = results;
    this.panel.title = `Predict: ${summary.modelName} on ${summary.inputName}`;
    this.panel.reveal(vscode.ViewColumn.Beside, true);
    if (this.ready) this.channel.event({ type: 'results', results: summary });
  }

  private json(): string {
    if (!this.current) throw new Error('no results yet');
    return this.current.json;
  }

  private async answer(req: WebviewRequest): Promise<HostReply> {
    if (req.type === 'copyResults') {
      await vscode.env.clipboard.writeText(this.json());
      void vscode.window.setStatusBarMessage('Keras Lens: predictions copied as JSON', 3000);
      return { type: 'done', message: 'Copied.' };
    }
    if (req.type === 'saveResults') {
      const text = this.json();
      const base = this.current!.summary.inputName.replace(/ \(selection\)$/, '').replace(/\.json$/i, '');
      const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
      const target = await vscode.window.showSaveDialog({
        title: 'Save predictions as JSON',
        filters: { JSON: ['json'] },
        defaultUri: folder ? vscode.Uri.joinPath(folder, `${base}.predictions.json`) : undefined,
      });
      if (!target) return { type: 'done', message: 'Not saved.' };
      const key = modelKey(target);
      const ext = extname(key).toLowerCase();
      if (MODEL_EXTENSIONS.has(ext) || (await sniffFile(target))) {
        const message = `${basename(key)}: refusing to overwrite a model file; pick another name`;
        void vscode.window.showErrorMessage(`Keras Lens: ${message}`);
        return { type: 'error', message };
      }
      await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(text));
      void vscode.window.setStatusBarMessage(`Keras Lens: saved ${basename(key)}`, 3000);
      return { type: 'done', message: 'Saved.' };
    }
    return { type: 'error', message: `the results panel cannot answer '${req.type}'` };
  }
}
