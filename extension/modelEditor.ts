/**
 * The read-only custom editor for model files (`kerasLens.modelViewer` for .h5/.hdf5/.keras,
 * `kerasLens.modelViewerJson` for Keras / TF.js JSON). The document opens the file in its own model worker
 * (remoteModel.ts, extension/worker/: h5wasm never loads in the extension host); every panel showing it talks to the
 * webview over the protocol. Weights-only files can be joined to an architecture JSON,
 * remembered per file in workspaceState.
 */
import * as vscode from 'vscode';
import { fileSpecOf, modelKey, nonce, uriOfKey } from './fileAccess';
import type { OpenModels } from './openModels';
import { HostChannel, oneLine, type HostEvent, type HostReply, type WebviewRequest } from './protocol';
import { fileNameOf, RemoteModel } from './remoteModel';
import type { SpawnWorker } from './worker/client';
import type { OpenResult } from './worker/protocol';
import { webviewHtml } from './webviewHtml';

export { MODEL_VIEWER, MODEL_VIEWER_JSON } from './ids';
const PAIRING_KEY = 'kerasLens.architectureFor';

/** Weights-only file path -> architecture JSON path, per workspace. */
export class ArchitecturePairings {
  constructor(private readonly state: vscode.Memento) {}
  get(weightsPath: string): string | undefined {
    return this.state.get<Record<string, string>>(PAIRING_KEY, {})[weightsPath];
  }
  async set(weightsPath: string, configPath: string): Promise<void> {
    const all = { ...this.state.get<Record<string, string>>(PAIRING_KEY, {}), [weightsPath]: configPath };
    await this.state.update(PAIRING_KEY, all);
  }
}

export function settings() {
  const c = vscode.workspace.getConfiguration('kerasLens');
  return {
    maxFileSizeMB: c.get<number>('maxFileSizeMB', 2048),
    maxTensorElements: c.get<number>('maxTensorElements', 262144),
    maxBatch: c.get<number>('predict.maxBatch', 1024),
    timeoutSeconds: c.get<number>('predict.timeoutSeconds', 120),
    /** Time limit of each viewer call into the model worker (open, a weight read). */
    workerTimeoutSeconds: c.get<number>('worker.timeoutSeconds', 30),
    /** The model worker's memory cap (JS heap and WebAssembly memory, each). */
    workerMemoryLimitMB: c.get<number>('worker.memoryLimitMB', 2048),
  };
}

class ModelDocument implements vscode.CustomDocument {
  model: RemoteModel;
  session: Promise<OpenResult>;
  /** Each panel showing this document, with its channel (for pushed events). */
  readonly panels = new Map<vscode.WebviewPanel, HostChannel>();
  private readonly progress = new vscode.EventEmitter<string>();
  readonly onProgress = this.progress.event;

  constructor(
    readonly uri: vscode.Uri,
    configPath: string | undefined,
    private readonly spawn: SpawnWorker,
    private readonly web: boolean,
  ) {
    this.model = this.remote(configPath);
    this.session = this.load();
  }

  private remote(configPath: string | undefined): RemoteModel {
    const { maxTensorElements, workerTimeoutSeconds } = settings();
    const files = async () => ({
      file: await fileSpecOf(this.uri, this.web),
      config: configPath ? await fileSpecOf(uriOfKey(configPath), this.web) : undefined,
    });
    return new RemoteModel({ path: this.path, configPath, maxTensorElements, timeoutMs: workerTimeoutSeconds * 1000, spawn: this.spawn, files });
  }

  /** The file's path on disk, or its URI for other file systems (fileAccess.ts). */
  get path(): string {
    return modelKey(this.uri);
  }

  get fileName(): string {
    return fileNameOf(this.path);
  }

  private async load(): Promise<OpenResult> {
    // The worker starts first, before anything the open waits for (the size check below; VS Code building the
    // webview meanwhile): its thread and h5wasm load while those run (~0.1-0.3 s on a busy machine).
    this.model.warm();
    const { maxFileSizeMB } = settings();
    let size = 0;
    try {
      size = (await vscode.workspace.fs.stat(this.uri)).size;
    } catch {
      // the worker reports missing/unreadable files with the file name
    }
    if (size > maxFileSizeMB * 1024 * 1024) {
      this.model.close(); // the worker started above has nothing to open
      throw new Error(`${this.fileName}: ${(size / 1024 / 1024).toFixed(0)} MB is larger than kerasLens.maxFileSizeMB (${maxFileSizeMB} MB)`);
    }
    const sizeText = size >= 1024 * 1024 ? ` (${(size / 1024 / 1024).toFixed(1)} MB)` : '';
    this.progress.fire(`Opening ${this.fileName}${sizeText}…`);
    const open = this.model.open();
    if (size > 50 * 1024 * 1024) {
      void vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Keras Lens: opening ${this.fileName}${sizeText}` }, () => open.catch(() => undefined));
    }
    const session = await open;
    this.progress.fire(`Reading the architecture of ${this.fileName}…`);
    return session;
  }

  /** Open again (in a fresh worker), joined to `configPath` (or without an architecture). */
  reopen(configPath: string | undefined): Promise<OpenResult> {
    this.model.close();
    this.model = this.remote(configPath);
    this.session = this.load();
    return this.session;
  }

  get architecture(): string | undefined {
    return this.model.configPath;
  }

  /** The file changed on disk (re-trained and saved over, say): read it again; the old handle may now be stale. */
  reload(): Promise<OpenResult> {
    this.progress.fire(`${this.fileName} changed on disk: reloading…`);
    return this.reopen(this.model.configPath);
  }

  answer(req: WebviewRequest, onProgress?: (fraction: number) => void): Promise<HostReply> {
    return this.model.answer(req, onProgress);
  }

  /** Disposables tied to this document's life (the file watcher). */
  readonly subscriptions: vscode.Disposable[] = [];

  dispose(): void {
    this.subscriptions.forEach((d) => d.dispose());
    this.progress.dispose();
    this.model.close();
  }
}

export class ModelEditorProvider implements vscode.CustomReadonlyEditorProvider<ModelDocument> {
  private readonly pairings: ArchitecturePairings;
  private activeDoc: ModelDocument | null = null;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly models: OpenModels,
    private readonly spawn: SpawnWorker,
    /** The browser entry: files are read whole through vscode.workspace.fs (fileAccess.ts). */
    private readonly web = false,
  ) {
    this.pairings = new ArchitecturePairings(context.workspaceState);
  }

  openCustomDocument(uri: vscode.Uri): ModelDocument {
    const doc = new ModelDocument(uri, this.pairings.get(modelKey(uri)), this.spawn, this.web);
    this.track(doc);
    if (uri.scheme === 'file') this.watch(doc);
    return doc;
  }

  /** Reload a document whose file changes on disk (debounced: a save is often several writes). */
  private watch(doc: ModelDocument): void {
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.joinPath(doc.uri, '..'), doc.fileName));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const changed = () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => void this.reloadChanged(doc), 400);
    };
    doc.subscriptions.push(watcher, watcher.onDidChange(changed), watcher.onDidCreate(changed), { dispose: () => timer && clearTimeout(timer) });
  }

  private async reloadChanged(doc: ModelDocument): Promise<void> {
    try {
      const session = await doc.reload();
      this.track(doc);
      for (const ch of doc.panels.values()) ch.event({ type: 'summaryChanged', summary: session.summary });
    } catch (e) {
      const msg = oneLine(e);
      for (const ch of doc.panels.values()) {
        ch.event({ type: 'fatal', fileName: doc.fileName, message: `the file changed on disk and can no longer be read: ${msg.includes(doc.fileName) ? msg : `${doc.fileName}: ${msg}`}` });
      }
    }
  }

  private track(doc: ModelDocument): void {
    doc.session.then(
      (s) => this.models.update({ path: doc.path, configPath: doc.architecture, report: s.report }),
      () => {},
    );
  }

  async resolveCustomEditor(doc: ModelDocument, panel: vscode.WebviewPanel): Promise<void> {
    const webview = panel.webview;
    const ext = this.context.extensionUri;
    webview.options = {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(ext, 'dist'), vscode.Uri.joinPath(ext, 'media')],
    };
    webview.html = webviewHtml({
      cspSource: webview.cspSource,
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(ext, 'dist', 'webview.js')).toString(),
      toolkitUri: webview.asWebviewUri(vscode.Uri.joinPath(ext, 'dist', 'webview-toolkit.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(ext, 'media', 'viewer.css')).toString(),
      nonce: nonce(),
      view: 'model',
      fileName: doc.fileName,
    });
    // The summary is pushed as soon as the worker has it, unless the webview asked first (then the reply carries
    // it): the layer list does not wait for the webview's script to load and send getSummary through VS Code and
    // back. VS Code queues messages to a webview until its document has loaded (or 200 ms passed), so a push can
    // come before the script listens; the webview's getSummary is the fallback for that.
    let asked = false;
    const channel: HostChannel = new HostChannel(
      (m) => void webview.postMessage(m),
      (req) => {
        if (req.type === 'getSummary') asked = true;
        return this.answer(doc, req, weightProgress(req, (e) => channel.event(e)));
      },
    );
    const opening = doc.session;
    opening.then(
      (s) => {
        if (!asked && doc.session === opening && doc.panels.has(panel)) channel.event({ type: 'opened', summary: s.summary });
      },
      (e) => {
        if (!asked && doc.session === opening && doc.panels.has(panel)) channel.event({ type: 'fatal', fileName: doc.fileName, message: openFailure(doc, e) });
      },
    );
    const subs = [
      webview.onDidReceiveMessage((m) => void channel.receive(m)),
      doc.onProgress((message) => channel.event({ type: 'progress', message })),
      panel.onDidChangeViewState(() => {
        if (panel.active) this.activate(doc);
      }),
    ];
    doc.panels.set(panel, channel);
    panel.onDidDispose(() => {
      subs.forEach((s) => s.dispose());
      doc.panels.delete(panel);
      if (doc.panels.size === 0) {
        this.models.close(doc.path);
        if (this.activeDoc === doc) this.activeDoc = null;
      }
    });
    if (panel.active) this.activate(doc);
  }

  private activate(doc: ModelDocument): void {
    this.activeDoc = doc;
    doc.session.then(
      (s) => this.models.activate({ path: doc.path, configPath: doc.architecture, report: s.report }),
      () => {},
    );
  }

  private async answer(doc: ModelDocument, req: WebviewRequest, onProgress?: (fraction: number) => void): Promise<HostReply> {
    if (req.type === 'pickArchitecture') return this.pickArchitecture(doc);
    try {
      await doc.session;
    } catch (e) {
      return { type: 'error', message: openFailure(doc, e) };
    }
    return doc.answer(req, onProgress);
  }

  private async pickArchitecture(doc: ModelDocument): Promise<HostReply> {
    const picked = await vscode.window.showOpenDialog({
      title: `Architecture JSON for ${doc.fileName}`,
      openLabel: 'Join architecture',
      canSelectMany: false,
      filters: { 'Keras architecture (model.to_json())': ['json'] },
      defaultUri: vscode.Uri.joinPath(doc.uri, '..'),
    });
    if (!picked || picked.length === 0) return { type: 'done', message: 'No architecture picked.' };
    const configPath = modelKey(picked[0]);
    let session: OpenResult;
    try {
      session = await doc.reopen(configPath);
    } catch (e) {
      // Keep the file usable without the architecture.
      const msg = oneLine(e);
      void doc.reopen(undefined).catch(() => {});
      return { type: 'error', message: `${fileNameOf(configPath)} does not fit ${doc.fileName}: ${msg}` };
    }
    await this.pairings.set(doc.path, configPath);
    this.track(doc);
    for (const ch of doc.panels.values()) ch.event({ type: 'summaryChanged', summary: session.summary });
    return { type: 'done', message: `Joined ${fileNameOf(configPath)}.` };
  }

  /** Command `kerasLens.pickArchitecture`: join an architecture to the weights file in the active Keras Lens editor. */
  async pickArchitectureForActive(): Promise<void> {
    const doc = this.activeDoc;
    if (!doc) {
      void vscode.window.showInformationMessage('Keras Lens: open a weights file in Keras Lens first.');
      return;
    }
    const r = await this.pickArchitecture(doc);
    if (r.type === 'error') void vscode.window.showErrorMessage(r.message);
  }
}

/** Why the document could not be opened, one line naming the file. */
function openFailure(doc: ModelDocument, e: unknown): string {
  const msg = oneLine(e);
  return msg.includes(doc.fileName) ? msg : `${doc.fileName}: ${msg}`;
}

/** For a getWeight or getStats request: its progress as weightProgress events (one per whole percent), else nothing. */
function weightProgress(req: WebviewRequest, send: (e: HostEvent) => void): ((fraction: number) => void) | undefined {
  if (req.type !== 'getWeight' && req.type !== 'getStats') return undefined;
  let last = -1;
  return (fraction) => {
    const percent = Math.max(0, Math.min(100, Math.floor(fraction * 100)));
    if (percent === last) return;
    last = percent;
    send({ type: 'weightProgress', layer: req.layer, weight: req.weight, percent });
  };
}
