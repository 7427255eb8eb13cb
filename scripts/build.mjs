// Bundles the CLI, the extension and the webview with esbuild (minified, source maps beside the bundles; the .vsix
// leaves the maps out, see .vscodeignore):
//   dist/cli.js         the CLI's watchdog (main thread): small, loads nothing heavy
//   dist/cli-worker.js  the CLI's command runner (readers, h5wasm's two glues, engine), started by cli.js in a
//                       worker thread; one CommonJS file with no dynamic import(), so cli.js can load it from the V8
//                       code cache made below, dist/cli-worker.js.cache (src/cli/boot.ts)
//   dist/extension.js   the extension entry: registers contributions only (must stay under 512 KB)
//   dist/core.js        the extension host's core, required by the entry on first need (no h5wasm, no engine)
//   dist/worker.js      the model worker (readers, h5wasm, engine), started by the core in worker threads
//   dist/webview.js     the webview UI (browser IIFE)
//   dist/webview-toolkit.js  the UI toolkit's elements (browser IIFE, ~300 KB), added by webview.js when needed
//   dist/web/extension.js  the browser entry (package.json "browser", CommonJS as VS Code's web worker extension host
//                       loads it): extension.ts with web/core.ts in place of core.ts, no Node built-ins
//   dist/web/worker.js  the web model worker (browser IIFE: readers, h5wasm's in-memory build, engine), started from
//                       a blob: URL by web/core.ts; web/fileOpener.ts in place of fileOpener.ts
//   dist/h5wasm-node.mjs, dist/h5wasm.mjs   h5wasm's two builds (disk, memory), each ~5 MB: kept out of the worker
//                       bundles and imported when first needed, so a start never parses both (or either, for JSON)
// h5wasm/node is ESM and calls createRequire(import.meta.url): we define import.meta.url from __filename.
import * as esbuild from 'esbuild';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';

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

/** `import('h5wasm')` / `import('h5wasm/node')` in the readers become imports of the sibling h5wasm bundles. */
const h5wasmapart = {
  name: 'h5wasm-apart',
  setup: (b) =>
    b.onResolve({ filter: /^h5wasm(\/node)?$/ }, (a) => ({ path: a.path === 'h5wasm/node' ? './h5wasm-node.mjs' : './h5wasm.mjs', external: true })),
};
/**
 * h5wasm inlines its WebAssembly as a 4 MB JS string that is parsed, then decoded byte by byte at every start (a
 * large share of a CLI run). Here the string is decoded once, at build time, into dist/hdf5-<build>.wasm, and the
 * glue reads that file instead (same bytes: emscripten's own binaryDecode rule, `~c >> 8 & c`). If h5wasm's glue
 * ever looks different, it is left as it is (inline, slower, still correct).
 */
const wasmApartFor = (cjs) => ({
  name: 'h5wasm-wasm-apart',
  setup: (b) =>
    b.onLoad({ filter: /h5wasm[\\/]dist[\\/](node|esm)[\\/]hdf5_util\.js$/ }, (a) => {
      const build = /[\\/]node[\\/]/.test(a.path) ? 'node' : 'esm';
      let src = readFileSync(a.path, 'utf8');
      // Bundled into CommonJS, the glue's `await import("module")` (Node detection) becomes the module the banner
      // required: a CommonJS bundle run from a code cache has no loader for import().
      if (cjs) src = src.split('await import("module")').join('__klNodeModule');
      const head = "function findWasmBinary(){return binaryDecode('";
      const at = src.indexOf(head);
      if (at < 0) return undefined;
      let end = at + head.length;
      for (; end < src.length && src[end] !== "'"; end++) if (src[end] === '\\') end++;
      const literal = src.slice(at + head.length - 1, end + 1);
      const text = new Function(`return ${literal}`)();
      const bytes = Uint8Array.from(text, (ch) => {
        const c = ch.charCodeAt(0);
        return ~c >> 8 & c;
      });
      if (String.fromCharCode(...bytes.subarray(0, 4)) !== '\0asm') return undefined;
      mkdirSync('dist', { recursive: true });
      writeFileSync(`dist/hdf5-${build}.wasm`, bytes);
      const read = `__klReadFileSync(new URL('./hdf5-${build}.wasm', import.meta.url))`;
      return {
        contents: `import { readFileSync as __klReadFileSync } from 'node:fs';\n${src.slice(0, at)}function findWasmBinary(){return ${read}${src.slice(end + 2)}`,
        loader: 'js',
      };
    }),
});
const wasmApart = wasmApartFor(false);
const h5wasmBundle = (from, outfile) => ({
  ...common,
  stdin: { contents: `export * from '${from}';`, resolveDir: '.', loader: 'js' },
  outfile,
  platform: 'node',
  format: 'esm',
  plugins: [wasmApart],
});

const builds = [
  { ...node, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', plugins: [sibling('worker', 'cli-worker.js')] },
  {
    ...node,
    banner: { js: `${nodeBanner.js} const __klNodeModule = require('module');` },
    entryPoints: ['src/cli/worker.ts'],
    outfile: 'dist/cli-worker.js',
    plugins: [wasmApartFor(true)],
  },
  h5wasmBundle('h5wasm/node', 'dist/h5wasm-node.mjs'),
  h5wasmBundle('h5wasm', 'dist/h5wasm.mjs'),
];
if (existsSync('extension/extension.ts')) {
  builds.push(
    { ...node, entryPoints: ['extension/extension.ts'], outfile: 'dist/extension.js', external: ['vscode'], plugins: [sibling('core', 'core.js')] },
    { ...node, entryPoints: ['extension/core.ts'], outfile: 'dist/core.js', external: ['vscode'] },
    { ...node, entryPoints: ['extension/worker/entry.ts'], outfile: 'dist/worker.js', plugins: [h5wasmapart] },
  );
}
if (existsSync('extension/web/core.ts')) {
  /** In the browser bundles `./core` and `./fileOpener` of extension/ are their web versions in extension/web/. */
  const webSwap = {
    name: 'web-swap',
    setup: (b) =>
      b.onResolve({ filter: /^\.\/(core|fileOpener)$/ }, (a) =>
        /[\\/]extension$/.test(a.resolveDir) ? { path: `${a.resolveDir}/web/${a.path.slice(2)}.ts` } : undefined,
      ),
  };
  // platform 'browser': a Node built-in anywhere in these bundles fails the build ("Could not resolve").
  const web = { ...common, platform: 'browser', plugins: [webSwap] };
  builds.push(
    { ...web, entryPoints: ['extension/extension.ts'], outfile: 'dist/web/extension.js', format: 'cjs', external: ['vscode'] },
    // h5wasm's ESM build asks import.meta.url only to locate files it never fetches (its wasm is inlined).
    { ...web, entryPoints: ['extension/web/worker.ts'], outfile: 'dist/web/worker.js', format: 'iife', define: { 'import.meta.url': 'undefined' } },
  );
}
if (existsSync('webview/main.ts')) {
  builds.push(
    { ...common, entryPoints: ['webview/main.ts'], outfile: 'dist/webview.js', platform: 'browser', format: 'iife' },
    { ...common, entryPoints: ['webview/toolkit.mts'], outfile: 'dist/webview-toolkit.js', platform: 'browser', format: 'iife' },
  );
}

if (watch) {
  for (const b of builds) (await esbuild.context(b)).watch();
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
  await cliCodeCache();
}

/**
 * dist/cli-worker.js.cache: V8's compiled code of the CLI runner after a warm-up `inspect` of a small committed model,
 * made by this Node in a child process (its report is dropped). src/cli/boot.ts checks it fits before using it; a
 * Node of another version rejects it and compiles as before.
 */
async function cliCodeCache() {
  const runner = readFileSync('dist/cli-worker.js', 'utf8');
  if (/[^\w$.]import\(/.test(runner)) throw new Error('dist/cli-worker.js holds a dynamic import(): boot.ts cannot load it from a code cache');
  const warmUp = 'test/fixtures/keras3-real/stacked_two_lstm_backwards/model.h5';
  const { spawnSync } = await import('node:child_process');
  const code = `require('./dist/cli.js').buildCodeCache(${JSON.stringify(existsSync(warmUp) ? warmUp : '')}).then(() => process.exit(0), (e) => { console.error(e); process.exit(1); })`;
  const r = spawnSync(process.execPath, ['-e', code], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error('could not write dist/cli-worker.js.cache');
}
