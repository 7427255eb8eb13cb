/**
 * The one-way dependency graph of Keras Lens, as data, and a checker that reads every import of the sources.
 *
 *   src/kernels   pure math (packed matmul, recurrent runners, WebAssembly SIMD)     imports nothing of ours
 *   src/model     config normalisation, graph, layer kinds, guards                   kernels
 *   src/formats   bytes on disk -> ModelFile                                          model, kernels
 *   src/engine    Model + inputs -> outputs (+ trace)                                 model, kernels
 *   src/explain   Model -> words, rows, the inspect report                            model, kernels
 *   src/export    Model -> standalone predictor source code                           engine, explain, model, kernels
 *   src/cli       the keras-lens command                                              everything in src/
 *   src/index.ts  the public API of the core                                          everything in src/ but cli
 *   extension/    VS Code adapters                                                    src/ but cli; not webview/
 *   webview/      the UI in the webview                                               only extension/protocol.ts
 *
 * `extension/protocol.ts` (the typed messages between extension and webview) imports nothing of ours, so the webview
 * bundle never pulls in the core.
 *
 * Node built-ins: the core in src/ also runs in the browser (the web extension's worker), so a file in src/ that
 * imports one (`node:fs`, `path`, ...) must say "Node-only" in its header comment (src/cli runs only in Node and is
 * exempt). The web bundles fail to build on a Node built-in anyway; this names the file before that.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';

export interface Layer {
  name: string;
  /** Does this project-relative file path belong to the layer? */
  holds(file: string): boolean;
  /** The layers (by name) it may import, besides itself. */
  mayImport: string[];
  /** Runs only in Node: its files may import Node built-ins without saying so. */
  nodeOnly?: boolean;
}

const under = (dir: string) => (f: string) => f.startsWith(dir + '/');

export const LAYERS: Layer[] = [
  { name: 'kernels', holds: under('src/kernels'), mayImport: [] },
  { name: 'model', holds: under('src/model'), mayImport: ['kernels'] },
  { name: 'formats', holds: under('src/formats'), mayImport: ['model', 'kernels'] },
  { name: 'engine', holds: under('src/engine'), mayImport: ['model', 'kernels'] },
  { name: 'explain', holds: under('src/explain'), mayImport: ['model', 'kernels'] },
  { name: 'export', holds: under('src/export'), mayImport: ['engine', 'explain', 'model', 'kernels'] },
  { name: 'cli', holds: under('src/cli'), mayImport: ['index', 'export', 'engine', 'explain', 'formats', 'model', 'kernels'], nodeOnly: true },
  { name: 'index', holds: (f) => f === 'src/index.ts', mayImport: ['export', 'engine', 'explain', 'formats', 'model', 'kernels'] },
  { name: 'protocol', holds: (f) => f === 'extension/protocol.ts', mayImport: [] },
  {
    name: 'extension',
    holds: (f) => under('extension')(f) && f !== 'extension/protocol.ts',
    mayImport: ['protocol', 'index', 'export', 'engine', 'explain', 'formats', 'model', 'kernels'],
  },
  { name: 'webview', holds: under('webview'), mayImport: ['protocol'] },
];

export function layerOf(file: string): Layer | null {
  return LAYERS.find((l) => l.holds(file)) ?? null;
}

/** Every module specifier a TypeScript source names: import/export ... from, side-effect imports, import(), require(). */
export function importSpecifiers(source: string): string[] {
  // Comments would otherwise yield false arrows (doc comments quote import lines).
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
  const out: string[] = [];
  const patterns = [
    /\b(?:import|export)\s[^'"`;]*?\sfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const re of patterns) for (const m of code.matchAll(re)) out.push(m[1]);
  return out;
}

/** A relative specifier resolved to a project-relative .ts file (or null for packages and node: built-ins). */
export function resolveImport(root: string, fromFile: string, spec: string): string | null {
  if (!spec.startsWith('.')) return null;
  const base = resolve(root, dirname(fromFile), spec);
  for (const candidate of [base, base + '.ts', join(base, 'index.ts')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return relative(root, candidate).split('\\').join('/');
  }
  // Unresolvable: keep the would-be path so the arrow still names it.
  return relative(root, base + '.ts').split('\\').join('/');
}

export interface Arrow {
  from: string;
  to: string;
  why: string;
}

const NODE_BUILTINS = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);

/** Does the file's header comment (its first block comment) say it is Node-only? */
export function saysNodeOnly(source: string): boolean {
  const header = /^\s*(?:#![^\n]*\n\s*)?\/\*([\s\S]*?)\*\//.exec(source);
  return !!header && /node[- ]only/i.test(header[1]);
}

/**
 * Files in src/ that import a Node built-in without saying "Node-only" in their header. Template literals are left
 * out of the reading (code generators write `import ... from 'node:fs'` into the programs they emit).
 */
export function unmarkedNodeImports(sources: Map<string, string>): Arrow[] {
  const bad: Arrow[] = [];
  for (const [file, source] of sources) {
    if (!file.startsWith('src/') || layerOf(file)?.nodeOnly || saysNodeOnly(source)) continue;
    const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/`(?:\\[\s\S]|[^`\\])*`/g, '``');
    for (const spec of importSpecifiers(code)) {
      if (NODE_BUILTINS.has(spec)) bad.push({ from: file, to: spec, why: 'imports a Node built-in but its header does not say it is Node-only' });
    }
  }
  return bad;
}

/** The arrows that go against LAYERS, given the files' sources (project-relative path -> source text). */
export function layeringViolations(root: string, sources: Map<string, string>): Arrow[] {
  const bad: Arrow[] = [];
  for (const [file, source] of sources) {
    const from = layerOf(file);
    for (const spec of importSpecifiers(source)) {
      const target = resolveImport(root, file, spec);
      if (target === null) {
        if (from?.name === 'webview' || from?.name === 'protocol' || from?.name === 'kernels') {
          // The webview bundle and the protocol stay free of packages but the UI toolkit; the math leaf of everything.
          const allowed = from.name === 'webview' && spec.startsWith('@vscode/webview-ui-toolkit');
          if (!allowed) bad.push({ from: file, to: spec, why: `${from.name} may not import packages or built-ins` });
        }
        continue;
      }
      const to = layerOf(target);
      if (!from || !to) {
        bad.push({ from: file, to: target, why: 'file outside every layer' });
        continue;
      }
      if (from.name !== to.name && !from.mayImport.includes(to.name)) {
        bad.push({ from: file, to: target, why: `${from.name} may not import ${to.name}` });
      }
    }
  }
  return bad;
}

/** Every .ts source of the layered folders (src/, extension/, webview/), read from disk. */
export function readSources(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string) => {
    const abs = join(root, dir);
    if (!existsSync(abs)) return;
    for (const name of readdirSync(abs).sort()) {
      const rel = `${dir}/${name}`;
      if (statSync(join(root, rel)).isDirectory()) walk(rel);
      else if (name.endsWith('.ts')) out.set(rel, readFileSync(join(root, rel), 'utf8'));
    }
  };
  for (const d of ['src', 'extension', 'webview']) walk(d);
  return out;
}
