/**
 * The web extension's bundles (package.json "browser" -> dist/web/extension.js, and dist/web/worker.js): they hold no
 * Node built-in (VS Code's web worker extension host has none), and the browser entry loads and activates in a bare
 * JavaScript context (node:vm: no `process`, no `Buffer`, no `require` but the one VS Code gives, which serves
 * `vscode` only): it registers every contribution, a hover over a weight name loads its (bundled) core, and
 * Keras Lens: Show Runtime names the browser entry — the marker the web E2E (test/e2e/web.test.ts) reads to prove
 * the desktop entry was not used. Source of truth: issue 12 (no Node built-ins in the web bundle) and Node's own list
 * of built-in modules. Needs `npm run build`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import vm from 'node:vm';

const ROOT = join(__dirname, '../..');
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { main: string; browser: string; contributes: { commands: { command: string }[] } };
const ENTRY = join(ROOT, manifest.browser ?? 'dist/web/extension.js');
const WORKER = join(ROOT, 'dist/web/worker.js');
const skip = existsSync(ENTRY) && existsSync(WORKER) ? false : 'run npm run build first';

/** Every module a bundle asks for at run time: require("x"), import("x") (CommonJS / IIFE bundles have no import statements). */
function requested(code: string): string[] {
  const out = new Set<string>();
  for (const re of [/\brequire\(\s*["'`]([^"'`]+)["'`]\s*\)/g, /\bimport\(\s*["'`]([^"'`]+)["'`]\s*\)/g]) {
    for (const m of code.matchAll(re)) out.add(m[1]);
  }
  return [...out].sort();
}

test('the web bundles ask for no Node built-in (the entry needs `vscode` only, the worker nothing)', { skip }, () => {
  const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
  const entry = readFileSync(ENTRY, 'utf8');
  const worker = readFileSync(WORKER, 'utf8');
  assert.deepEqual(requested(entry), ['vscode']);
  assert.deepEqual(requested(worker), []);
  // (Guarded reads of `process`, e.g. Export's chmod on the desktop, are allowed: the bare-context test below shows
  // the entry runs without it.)
  for (const [name, code] of [['entry', entry], ['worker', worker]]) {
    for (const m of requested(code)) assert.ok(!builtins.has(m), `${name} asks for ${m}`);
  }
  assert.ok(worker.includes('H5Fopen'), 'the worker holds h5wasm (its in-memory build)');
  assert.ok(!entry.includes('H5Fopen'), 'the entry holds no h5wasm');
});

test('the browser entry activates in a bare context, hovers, and Show Runtime names the browser entry', { skip }, async () => {
  const registered = new Map<string, unknown>();
  const disposable = { dispose() {} };
  const vscode = {
    EventEmitter: class {
      event = () => disposable;
      fire() {}
      dispose() {}
    },
    Uri: { file: (p: string) => ({ scheme: 'file', fsPath: p, path: p }), parse: (s: string) => ({ scheme: s.split(':')[0], path: s }), joinPath: (u: unknown) => u },
    Range: class {},
    Hover: class {
      constructor(readonly contents: { value: string }) {}
    },
    MarkdownString: class {
      constructor(public value: string) {}
      appendMarkdown(t: string) {
        this.value += t;
      }
    },
    UIKind: { Desktop: 1, Web: 2 },
    env: { uiKind: 2 },
    window: {
      registerCustomEditorProvider: (id: string, p: unknown) => (registered.set(id, p), disposable),
      onDidChangeActiveTextEditor: () => disposable,
      activeTextEditor: undefined,
      showInformationMessage: async () => undefined,
    },
    commands: { registerCommand: (id: string, f: unknown) => (registered.set(id, f), disposable), executeCommand: async () => undefined },
    languages: { registerHoverProvider: (_s: unknown, p: unknown) => (registered.set('hover', p), disposable) },
    workspace: { onDidSaveTextDocument: () => disposable, getConfiguration: () => ({ get: (_k: string, d: unknown) => d }), asRelativePath: (p: unknown) => String(p) },
  };
  const module = { exports: {} as Record<string, unknown> };
  const asked: string[] = [];
  const sandbox = {
    module,
    exports: module.exports,
    require: (m: string) => {
      asked.push(m);
      if (m === 'vscode') return vscode;
      throw new Error(`the web extension host has no module '${m}'`);
    },
    console,
    setTimeout,
    clearTimeout,
    TextDecoder,
    TextEncoder,
    URL,
  };
  vm.runInNewContext(readFileSync(ENTRY, 'utf8'), sandbox, { filename: ENTRY });
  assert.equal(vm.runInNewContext('typeof process + typeof Buffer', sandbox), 'undefinedundefined', 'no Node globals in the context');
  const ext = module.exports as { activate: (c: unknown) => void; coreLoaded: () => boolean };
  ext.activate({ subscriptions: [], extensionUri: { scheme: 'vscode-remote', path: '/ext' }, workspaceState: { get: (_k: string, d: unknown) => d, update: async () => {} } });
  for (const c of manifest.contributes.commands) assert.ok(registered.has(c.command), `${c.command} registered`);
  for (const id of ['kerasLens.modelViewer', 'kerasLens.modelViewerJson', 'hover']) assert.ok(registered.has(id), `${id} registered`);
  assert.equal(ext.coreLoaded(), false, 'activation registers contributions only');

  const hover = registered.get('hover') as { provideHover: (d: unknown, p: unknown) => { contents: { value: string } } | null };
  const h = hover.provideHover({ lineAt: () => ({ text: "w = f['lstm_1/kernel:0']" }) }, { line: 0, character: 12 });
  assert.ok(h && /kernel/i.test(h.contents.value), 'a weight name gets its hover from the bundled core');
  assert.equal(ext.coreLoaded(), true);
  const line = (registered.get('kerasLens.showRuntime') as () => string)();
  assert.match(line, /^Keras Lens runs its browser entry \(dist\/web\/extension\.js\) in an extension host that is not a web worker \(uiKind Web\); model workers: Web Workers \(0 started\)\.$/);
  assert.deepEqual([...new Set(asked)], ['vscode'], 'nothing but vscode was required');
});
