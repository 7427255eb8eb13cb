// Bundles the CLI and the extension host (CommonJS, Node) and the webview (browser IIFE) with esbuild.
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
const common = { bundle: true, sourcemap: true, logLevel: 'warning', target: 'es2022' };

const builds = [
  {
    ...common,
    entryPoints: ['src/cli/main.ts'],
    outfile: 'dist/cli.js',
    platform: 'node',
    format: 'cjs',
    define: { 'import.meta.url': 'import_meta_url' },
    banner: nodeBanner,
  },
];
if (existsSync('extension/extension.ts')) {
  builds.push({
    ...common,
    entryPoints: ['extension/extension.ts'],
    outfile: 'dist/extension.js',
    platform: 'node',
    format: 'cjs',
    external: ['vscode'],
    define: { 'import.meta.url': 'import_meta_url' },
    banner: nodeBanner,
  });
}
if (existsSync('webview/main.ts')) {
  builds.push({ ...common, entryPoints: ['webview/main.ts'], outfile: 'dist/webview.js', platform: 'browser', format: 'iife' });
}

if (watch) {
  for (const b of builds) (await esbuild.context(b)).watch();
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
