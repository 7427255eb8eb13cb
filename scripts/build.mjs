// Bundles the CLI, the extension and the webview with esbuild (minified, source maps beside the bundles; the .vsix
// leaves the maps out, see .vscodeignore):
//   dist/cli.js         the CLI's watchdog (main thread): small, loads nothing heavy
//   dist/cli-worker.js  the CLI's command runner (readers, h5wasm, engine), started by cli.js in a worker thread
//   dist/extension.js   the extension entry: registers contributions only (must stay under 512 KB)
//   dist/core.js        the extension host's core, required by the entry on first need (no h5wasm, no engine)
//   dist/worker.js      the model worker (readers, h5wasm, engine), started by the core in worker threads
//   dist/webview.js     the webview UI (browser IIFE)
// h5wasm/node is ESM and calls createRequire(import.meta.url): we define import.meta.url from __filename.
import * as esbuild from 'esbuild';
import { existsSync } from 'node:fs';

const watch = process.argv.includes('--watch');

// Generated sources first (e.g. the WebAssembly SIMD kernels compiled from .wat with the wabt package).
if (existsSync('scripts/build-wasm.mjs')) {
  await import('./build-wasm.mjs');
}
const nodeBanner = {
  js: "const import_meta_url = require('url').pathToFileURL(__filename).href;",
};
const common = { bundle: true, sourcemap: true, minify: true, keepNames: true, legalComments: 'none', logLevel: 'warning', target: 'es2022' };
const node = { ...common, platform: 'node', format: 'cjs', define: { 'import.meta.url': 'import_meta_url' }, banner: nodeBanner };

/** `require('./<from>')` in the entry stays a run-time require of the sibling bundle `./<to>`. */
function sibling(from, to) {
  const filter = new RegExp(`^\\./${from}$`);
  return { name: `sibling-${to}`, setup: (b) => b.onResolve({ filter }, () => ({ path: `./${to}`, external: true })) };
}

const builds = [
  { ...node, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', plugins: [sibling('worker', 'cli-worker.js')] },
  { ...node, entryPoints: ['src/cli/worker.ts'], outfile: 'dist/cli-worker.js' },
];
if (existsSync('extension/extension.ts')) {
  builds.push(
    { ...node, entryPoints: ['extension/extension.ts'], outfile: 'dist/extension.js', external: ['vscode'], plugins: [sibling('core', 'core.js')] },
    { ...node, entryPoints: ['extension/core.ts'], outfile: 'dist/core.js', external: ['vscode'] },
    { ...node, entryPoints: ['extension/worker/entry.ts'], outfile: 'dist/worker.js' },
  );
}
if (existsSync('webview/main.ts')) {
  builds.push({ ...common, entryPoints: ['webview/main.ts'], outfile: 'dist/webview.js', platform: 'browser', format: 'iife' });
}

if (watch) {
  for (const b of builds) (await esbuild.context(b)).watch();
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
