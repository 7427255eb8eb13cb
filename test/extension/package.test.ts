/**
 * The .vsix: built with vsce (--no-dependencies, everything bundled), it carries only what the extension needs,
 * and its dist/extension.js, unpacked far from node_modules, activates and opens a real .h5 (h5wasm's wasm is inlined).
 * Needs `npm run build` first (as `npm test` does).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import Module from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzipSync } from 'fflate';

const ROOT = join(__dirname, '../..');
const MODEL = join(ROOT, '../shared/keras-reference/dl4j/examples/simple_lstm/simple_lstm_tf_keras_2_model.h5');
const skip = existsSync(join(ROOT, 'dist/extension.js')) && existsSync(join(ROOT, 'dist/webview.js')) ? false : 'run npm run build first';

/** Just enough of the vscode API for activate() and the custom editor's document. */
function fakeVscode(registered: Map<string, unknown>) {
  const disposable = { dispose() {} };
  class EventEmitter<T> {
    private handlers: ((e: T) => void)[] = [];
    event = (h: (e: T) => void) => {
      this.handlers.push(h);
      return disposable;
    };
    fire(e: T) {
      this.handlers.forEach((h) => h(e));
    }
    dispose() {}
  }
  const config = { get: (_k: string, d: unknown) => d };
  return {
    EventEmitter,
    Disposable: { from: () => disposable },
    RelativePattern: class {
      constructor(
        readonly base: unknown,
        readonly pattern: string,
      ) {}
    },
    Uri: { joinPath: (u: { fsPath: string }, ...p: string[]) => ({ fsPath: join(u.fsPath, ...p), scheme: 'file' }) },
    ProgressLocation: { Notification: 15 },
    window: {
      registerCustomEditorProvider: (id: string, p: unknown) => (registered.set(id, p), disposable),
      onDidChangeActiveTextEditor: () => disposable,
      activeTextEditor: undefined,
      withProgress: (_o: unknown, f: () => Promise<unknown>) => f(),
    },
    commands: { registerCommand: (id: string, f: unknown) => (registered.set(id, f), disposable), executeCommand: async () => undefined },
    languages: { registerHoverProvider: (_s: unknown, p: unknown) => (registered.set('hover', p), disposable) },
    workspace: {
      onDidSaveTextDocument: () => disposable,
      getConfiguration: () => config,
      createFileSystemWatcher: () => ({ onDidChange: () => disposable, onDidCreate: () => disposable, onDidDelete: () => disposable, dispose() {} }),
    },
  };
}

test('npm run package makes a .vsix with the bundles, stylesheet, icon and licence only', { skip, timeout: 180_000 }, async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'kl-vsix-')), 'keras-lens.vsix');
  execFileSync(process.execPath, [join(ROOT, 'node_modules/@vscode/vsce/vsce'), 'package', '--no-dependencies', '-o', out], { cwd: ROOT, stdio: 'pipe', input: '' });
  const files = unzipSync(readFileSync(out));
  const names = Object.keys(files).filter((n) => n.startsWith('extension/')).sort();
  assert.deepEqual(names, [
    'extension/LICENSE.txt',
    'extension/dist/extension.js',
    'extension/dist/webview.js',
    'extension/media/icon.png',
    'extension/media/viewer.css',
    'extension/package.json',
    'extension/readme.md',
  ]);
  const manifest = JSON.parse(new TextDecoder().decode(files['extension/package.json']));
  assert.equal(manifest.main, './dist/extension.js');
  assert.deepEqual(manifest.contributes.customEditors.map((e: { viewType: string }) => e.viewType), ['kerasLens.modelViewer', 'kerasLens.modelViewerJson']);

  // Unpack the extension bundle where no node_modules can help it, then activate it with a fake vscode.
  const dir = mkdtempSync(join(tmpdir(), 'kl-unpacked-'));
  const bundle = join(dir, 'extension.js');
  writeFileSync(bundle, files['extension/dist/extension.js']);
  const registered = new Map<string, unknown>();
  const vscode = fakeVscode(registered);
  const M = Module as unknown as { _load: (req: string, ...rest: unknown[]) => unknown };
  const load = M._load;
  M._load = (req: string, ...rest: unknown[]) => (req === 'vscode' ? vscode : load(req, ...rest));
  try {
    const ext = Module.createRequire(bundle)(bundle) as { activate: (c: unknown) => void };
    const context = { subscriptions: [] as unknown[], extensionUri: { fsPath: dir, scheme: 'file' }, workspaceState: { get: (_k: string, d: unknown) => d, update: async () => {} } };
    ext.activate(context);
    for (const id of ['kerasLens.modelViewer', 'kerasLens.modelViewerJson', 'kerasLens.openWith', 'kerasLens.predict', 'kerasLens.pickArchitecture', 'hover']) {
      assert.ok(registered.has(id), `${id} registered`);
    }
    const provider = registered.get('kerasLens.modelViewer') as { openCustomDocument: (u: unknown) => { session: Promise<{ summary(): { totalParams: number; format: string } }> } };
    const doc = provider.openCustomDocument({ scheme: 'file', fsPath: MODEL, toString: () => MODEL });
    const summary = (await doc.session).summary();
    assert.equal(summary.format, 'keras2-h5');
    assert.equal(summary.totalParams, 10451);
  } finally {
    M._load = load;
  }
});
