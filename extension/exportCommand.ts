/**
 * Keras Lens: Export Predictor… (viewer title bar and palette): pick the language and a folder, build the predictor
 * in a model worker (op 'export', src/export), write it through vscode.workspace.fs via a temporary folder
 * (exportWrite.ts), then open its README. The model file is only read.
 */
import * as vscode from 'vscode';
import type { Language } from '../src/export/plan';
import { fileSpecOf, modelKey, uriOfKey } from './fileAccess';
import type { OpenModels } from './openModels';
import { WorkerClient, type SpawnWorker } from './worker/client';
import { ExportFolderError, writeExportFolder, type FolderFs } from './exportWrite';

export const LANGUAGE_ITEMS: { label: string; language: Language; description: string }[] = [
  { label: 'numpy', language: 'numpy', description: 'one Python module, predict(x), float64 or float32' },
  { label: 'JavaScript', language: 'js', description: 'one ES module + .d.ts, Node and browsers' },
  { label: 'C', language: 'c', description: 'C99 + libm, .h + .c, no allocation (iOS, Android NDK, embedded)' },
  { label: 'Java', language: 'java', description: 'one dependency-free class, Java 8 level (Android)' },
  { label: 'PyTorch', language: 'pytorch', description: 'nn.Module with nn.LSTM/GRU/RNN where the semantics allow, state_dict.pt' },
];

/**
 * vscode.workspace.fs as the FolderFs exportWrite.ts writes through. Paths are the URI paths of `base`'s file
 * system (the disk on the desktop, the workspace's file system in the browser: vscode.dev, github.dev).
 */
function workspaceFolderFs(base: vscode.Uri): FolderFs {
  const fs = vscode.workspace.fs;
  const at = (path: string) => base.with({ path });
  return {
    async list(path) {
      try {
        const st = await fs.stat(at(path));
        if (!(st.type & vscode.FileType.Directory)) throw new ExportFolderError(`${path} exists and is not a folder`);
        return (await fs.readDirectory(at(path))).map(([n]) => n);
      } catch (e) {
        if (e instanceof ExportFolderError) throw e;
        return null;
      }
    },
    mkdir: async (path) => fs.createDirectory(at(path)),
    write: async (path, content) => fs.writeFile(at(path), content),
    rename: async (from, to) => fs.rename(at(from), at(to), { overwrite: false }),
    remove: async (path) => fs.delete(at(path), { recursive: true, useTrash: false }),
    async makeExecutable(path) {
      // vscode.workspace.fs cannot set modes: on the desktop (a Node extension host) use Node's fs for this one bit
      try {
        const req: ((m: string) => unknown) | null = typeof process === 'object' && process.versions?.node && typeof require === 'function' ? require : null;
        if (req && base.scheme === 'file') (req('fs') as typeof import('fs')).chmodSync(at(path).fsPath, 0o755);
      } catch {
        /* no Node here: `sh run` still works */
      }
    },
  };
}

export class ExportCommand {
  constructor(
    private readonly models: OpenModels,
    private readonly spawn: SpawnWorker,
    private readonly web: boolean,
  ) {}

  /** The model to export: the argument, the active Keras Lens viewer's file, or one the user picks. */
  private async modelUri(arg?: vscode.Uri): Promise<{ uri: vscode.Uri; configPath?: string } | null> {
    if (arg instanceof vscode.Uri) return { uri: arg };
    const tab = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
    if (tab instanceof vscode.TabInputCustom) {
      const entry = this.models.active;
      return { uri: tab.uri, configPath: entry && entry.path === modelKey(tab.uri) ? entry.configPath : undefined };
    }
    const active = this.models.active;
    if (active) return { uri: uriOfKey(active.path), configPath: active.configPath };
    const picked = await vscode.window.showOpenDialog({ title: 'Keras Lens: model to export', canSelectMany: false, filters: { 'Keras models': ['h5', 'hdf5', 'keras', 'json'] } });
    return picked?.[0] ? { uri: picked[0] } : null;
  }

  async run(arg?: vscode.Uri): Promise<string | null> {
    const model = await this.modelUri(arg);
    if (!model) return null;
    const lang = await vscode.window.showQuickPick(LANGUAGE_ITEMS, { title: 'Keras Lens: export the predictor as', matchOnDescription: true });
    if (!lang) return null;
    const base = model.uri.path.split('/').pop()!.replace(/\.[^.]*$/, '');
    const parent = vscode.Uri.joinPath(model.uri, '..');
    const folder = await vscode.window.showSaveDialog({
      title: `Keras Lens: folder for the ${lang.label} predictor (created or replaced)`,
      defaultUri: vscode.Uri.joinPath(parent, `${base}-${lang.language}`),
      saveLabel: 'Export here',
    });
    if (!folder) return null;
    const fs = workspaceFolderFs(folder);
    const shownFolder = folder.scheme === 'file' ? folder.fsPath : folder.toString(true);
    const existing = await fs.list(folder.path).catch((e: Error) => {
      void vscode.window.showErrorMessage(`Keras Lens: ${e.message}`);
      return undefined;
    });
    if (existing === undefined) return null;
    let force = false;
    if (existing && existing.length > 0) {
      const replace = await vscode.window.showWarningMessage(`${shownFolder} is not empty. Replace its contents with the predictor?`, { modal: true }, 'Replace');
      if (replace !== 'Replace') return null;
      force = true;
    }
    const name = model.uri.path.split('/').pop()!;
    try {
      await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Keras Lens: exporting ${name} as ${lang.label}`, cancellable: true },
        async (progress, token) => {
          const worker = new WorkerClient(this.spawn);
          const sub = token.onCancellationRequested(() => worker.dispose());
          try {
            progress.report({ message: 'reading the model and writing the code…' });
            const spec = await fileSpecOf(model.uri, this.web);
            const config = model.configPath ? await fileSpecOf(uriOfKey(model.configPath), this.web) : undefined;
            const result = await worker.call(
              { op: 'export', job: { modelPath: modelKey(model.uri), configPath: model.configPath, language: lang.language, model: spec, config } },
              { file: name, what: `exporting as ${lang.label}`, timeoutMs: 120_000, timeoutSetting: 'kerasLens.predict.timeoutSeconds' },
            );
            if (token.isCancellationRequested) return;
            progress.report({ message: `writing ${result.files.length} files…` });
            await writeExportFolder(fs, folder.path, result.files, { force, protect: [model.uri.path, ...(model.configPath ? [uriOfKey(model.configPath).path] : [])] });
          } finally {
            sub.dispose();
            worker.dispose();
          }
        },
      );
    } catch (e) {
      void vscode.window.showErrorMessage(`Keras Lens: ${e instanceof Error ? e.message : String(e)}`);
      return null;
    }
    const readme = vscode.Uri.joinPath(folder, 'README.md');
    await vscode.commands.executeCommand('markdown.showPreview', readme).then(undefined, async () => {
      await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(readme));
    });
    return folder.fsPath;
  }
}
