/**
 * The .vsix: built with vsce (--no-dependencies, everything bundled), it carries only what the extension needs (no
 * source maps), and its bundles, unpacked far from node_modules, activate with a fake `vscode`: the entry is small
 * (<= 512 KB) and registers every contribution without loading the core; a hover over ordinary code does not load
 * it either; a weight name does; h5wasm (WebAssembly) is never compiled in the host — a model opens in a worker
 * thread (dist/worker.js, h5wasm's wasm inlined) and its summary comes back. Source of truth: issue 11's lazy
 * activation and worker rules. Needs `npm run build` first (as `npm test` does).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
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
    Range: class {
      constructor(...a: number[]) {
        Object.assign(this, { a });
      }
    },
    Hover: class {
      constructor(
        readonly contents: { value: string },
        readonly range: unknown,
      ) {}
    },
    MarkdownString: class {
      constructor(public value: string) {}
      appendMarkdown(t: string) {
        this.value += t;
      }
    },
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
      asRelativePath: (p: string) => p,
      fs: { stat: async (u: { fsPath: string }) => ({ size: readFileSync(u.fsPath).length }) },
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
    'extension/THIRD_PARTY_NOTICES.md',
    'extension/dist/core.js',
    'extension/dist/extension.js',
    'extension/dist/h5wasm-node.mjs',
    'extension/dist/h5wasm.mjs',
    'extension/dist/hdf5-esm.wasm',
    'extension/dist/hdf5-node.wasm',
    'extension/dist/web/extension.js',
    'extension/dist/web/worker.js',
    'extension/dist/webview-toolkit.js',
    'extension/dist/webview.js',
    'extension/dist/worker.js',
    'extension/media/icon.png',
    'extension/media/viewer.css',
    'extension/package.json',
    'extension/readme.md',
  ]);
  const manifest = JSON.parse(new TextDecoder().decode(files['extension/package.json']));
  assert.equal(manifest.main, './dist/extension.js');
  // The same .vsix is a web extension too (issue 12): its browser entry is inside (webBundle.test.ts checks it).
  assert.equal(manifest.browser, './dist/web/extension.js');
  assert.ok(files[`extension/${manifest.browser.slice(2)}`], 'the browser entry is in the .vsix');
  assert.equal(manifest.capabilities.virtualWorkspaces, true);
  assert.deepEqual(manifest.contributes.customEditors.map((e: { viewType: string }) => e.viewType), ['kerasLens.modelViewer', 'kerasLens.modelViewerJson']);

  // The entry is small and minified; every bundle is.
  const entrySize = files['extension/dist/extension.js'].length;
  assert.ok(entrySize <= 512 * 1024, `entry bundle is ${entrySize} bytes`);
  for (const b of ['extension', 'core', 'worker', 'webview', 'webview-toolkit']) {
    const text = new TextDecoder().decode(files[`extension/dist/${b}.js`]);
    // Readable code has ~30 indented lines per KB; minified code has none outside embedded texts (CSS, templates).
    const indented = text.split('\n').filter((l) => /^\s{2,}\S/.test(l)).length;
    assert.ok(indented / (text.length / 1024) < 5, `dist/${b}.js is minified (${indented} indented lines in ${text.length} bytes)`);
    assert.doesNotMatch(text.slice(-300), /sourceMappingURL=data:/, `dist/${b}.js carries no inline source map`);
  }
  // h5wasm's code is in its own two bundles, imported by the worker only.
  for (const b of ['h5wasm-node.mjs', 'h5wasm.mjs']) assert.ok(new TextDecoder().decode(files[`extension/dist/${b}`]).includes('H5Fopen'), `${b} holds h5wasm`);
  for (const b of ['hdf5-node.wasm', 'hdf5-esm.wasm']) assert.ok(WebAssembly.validate(files[`extension/dist/${b}`]), `${b} is valid WebAssembly`);
  assert.ok(new TextDecoder().decode(files['extension/dist/worker.js']).includes('./h5wasm-node.mjs'), 'the worker imports it');
  for (const b of ['extension', 'core']) {
    const text = new TextDecoder().decode(files[`extension/dist/${b}.js`]);
    assert.ok(!text.includes('H5Fopen') && !text.includes('h5wasm'), `no h5wasm in dist/${b}.js`);
  }

  // Unpack the bundles where no node_modules can help them, then activate the entry with a fake vscode.
  const dir = mkdtempSync(join(tmpdir(), 'kl-unpacked-'));
  mkdirSync(join(dir, 'dist'));
  for (const n of names.filter((x) => x.startsWith('extension/dist/'))) {
    const to = join(dir, 'dist', n.slice('extension/dist/'.length));
    mkdirSync(join(to, '..'), { recursive: true });
    writeFileSync(to, files[n]);
  }
  const bundle = join(dir, 'dist', 'extension.js');
  const registered = new Map<string, unknown>();
  const vscode = fakeVscode(registered);
  const M = Module as unknown as { _load: (req: string, ...rest: unknown[]) => unknown };
  const load = M._load;
  const required: string[] = [];
  M._load = (req: string, ...rest: unknown[]) => {
    required.push(req);
    return req === 'vscode' ? vscode : load(req, ...rest);
  };
  // Every WebAssembly compilation in this (the extension host's) thread is counted: h5wasm must never be one.
  const W = WebAssembly as unknown as Record<string, unknown>;
  const saved = { instantiate: W.instantiate, compile: W.compile, Module: W.Module };
  let wasmCompiled = 0;
  W.instantiate = (...a: unknown[]) => (wasmCompiled++, (saved.instantiate as (...x: unknown[]) => unknown)(...a));
  W.compile = (...a: unknown[]) => (wasmCompiled++, (saved.compile as (...x: unknown[]) => unknown)(...a));
  W.Module = new Proxy(saved.Module as object, { construct: (t, a) => (wasmCompiled++, Reflect.construct(t as new (...x: unknown[]) => object, a)) });
  try {
    const ext = Module.createRequire(bundle)(bundle) as { activate: (c: unknown) => void; coreLoaded: () => boolean };
    const context = { subscriptions: [] as unknown[], extensionUri: { fsPath: dir, scheme: 'file' }, workspaceState: { get: (_k: string, d: unknown) => d, update: async () => {} } };
    ext.activate(context);
    for (const id of ['kerasLens.modelViewer', 'kerasLens.modelViewerJson', 'kerasLens.openWith', 'kerasLens.predict', 'kerasLens.pickArchitecture', 'hover']) {
      assert.ok(registered.has(id), `${id} registered`);
    }
    assert.equal(ext.coreLoaded(), false, 'activation registers contributions only');
    assert.ok(!required.some((r) => r.includes('core')), `the core was not required: ${required.join(', ')}`);

    const hover = registered.get('hover') as { provideHover: (d: unknown, p: unknown) => { contents: { value: string } } | null };
    const docOf = (line: string) => ({ lineAt: () => ({ text: line }) });
    assert.equal(hover.provideHover(docOf('for i in range(10): print(i)'), { line: 0, character: 8 }), null);
    assert.equal(ext.coreLoaded(), false, 'a hover over ordinary code does not load the core');
    const h = hover.provideHover(docOf("w = f['lstm_1/kernel:0']"), { line: 0, character: 12 });
    assert.ok(h && /kernel/i.test(h.contents.value), 'a weight name gets its hover');
    assert.equal(ext.coreLoaded(), true, 'a weight name loads the core');
    assert.equal(wasmCompiled, 0, 'no WebAssembly compiled in the host so far');

    const provider = registered.get('kerasLens.modelViewer') as { openCustomDocument: (u: unknown) => { session: Promise<{ summary: { totalParams: number; format: string } }>; dispose(): void } };
    const doc = provider.openCustomDocument({ scheme: 'file', fsPath: MODEL, path: MODEL, toString: () => MODEL });
    const { summary } = await doc.session;
    assert.equal(summary.format, 'keras2-h5');
    assert.equal(summary.totalParams, 10451);
    assert.equal(wasmCompiled, 0, 'the model opened in the worker: still no WebAssembly in the host');
    doc.dispose();
  } finally {
    M._load = load;
    Object.assign(W, saved);
  }
});
