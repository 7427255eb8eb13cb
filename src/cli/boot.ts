/**
 * NODE-ONLY. Loading the CLI's command runner (dist/cli-worker.js, ~0.8 MB: readers, h5wasm's glue, the engine) with
 * a V8 code cache made at build time, so a `keras-lens` start does not compile it again.
 *
 * Why: at every start the worker thread parsed and compiled the whole bundle before running a line of it (~15–20 ms
 * of a ~250 ms `inspect`), the same work each time. V8 can serialise the code it compiled (`createCachedData`) and
 * take it back (`new vm.Script(source, { cachedData })`); it checks the V8 version, the flags and the source's length,
 * and rejects a cache that does not fit, falling back to compiling (so the cache is only ever a shortcut).
 *
 * The source length is all V8 checks about the source, so a cache made for an older bundle of the same length would
 * be taken for the new one. The cache file therefore starts with a header line naming the SHA-256 of the bundle it
 * was made from; the loader hashes the bundle it reads (~0.5 ms) and ignores a cache made for another one (a
 * rebuild in watch mode, an edited dist/). Layout of `<bundle>.cache`:
 *
 *     keras-lens-code-cache 1 <sha256 of the bundle, hex>\n<V8 cached data>
 *
 * The bundle is run as Node runs a CommonJS file (the module wrapper, its own `require`, `module`, `__filename`).
 * It must hold no dynamic `import()`: a script compiled by `vm.Script` has no loader for it (scripts/build.mjs
 * refuses such a bundle). The cache is written by scripts/build.mjs through writeCodeCache, after a warm-up run of
 * the bundle's own `main` (so the functions a real run compiles are in it too).
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import Module = require('node:module');
import { dirname } from 'node:path';
import vm = require('node:vm');

const MAGIC = 'keras-lens-code-cache 1 ';

/** What became of the cache when a bundle was loaded. */
export type CacheUse = 'accepted' | 'rejected' | 'other-bundle' | 'absent';

export interface LoadedBundle {
  exports: Record<string, unknown>;
  cache: CacheUse;
  script: vm.Script;
  /** The source that ran (what a cache written from `script` is for). */
  source: string;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The V8 data of `<file>.cache` if it was made for this very source, else why not. */
function cachedDataFor(file: string, source: string): { data?: Buffer; use: CacheUse } {
  let raw: Buffer;
  try {
    raw = readFileSync(`${file}.cache`);
  } catch {
    return { use: 'absent' };
  }
  const eol = raw.indexOf(0x0a);
  const header = eol > 0 ? raw.subarray(0, eol).toString('latin1') : '';
  if (!header.startsWith(MAGIC) || header.slice(MAGIC.length) !== sha256(source)) return { use: 'other-bundle' };
  return { data: raw.subarray(eol + 1), use: 'accepted' };
}

/** Run the CommonJS bundle `file` as `require` would, from its code cache where one fits. */
export function loadBundle(file: string, useCache = true): LoadedBundle {
  const source = readFileSync(file, 'utf8');
  const found = useCache ? cachedDataFor(file, source) : { use: 'absent' as CacheUse };
  const script = new vm.Script(Module.wrap(source), { filename: file, cachedData: found.data });
  const cache: CacheUse = found.data && script.cachedDataRejected ? 'rejected' : found.use;
  const mod = { exports: {} as Record<string, unknown>, filename: file, id: file, loaded: false };
  const wrapper = script.runInThisContext() as (e: unknown, r: NodeJS.Require, m: unknown, f: string, d: string) => void;
  wrapper.call(mod.exports, mod.exports, Module.createRequire(file), mod, file, dirname(file));
  mod.loaded = true;
  return { exports: mod.exports, cache, script, source };
}

/**
 * Make `<file>.cache`: load the bundle without a cache, let `warmUp` run some of it (its functions are compiled
 * lazily, on first call; those compiled by then go into the cache too), and write the header and V8's data.
 */
export async function writeCodeCache(file: string, warmUp?: (exports: Record<string, unknown>) => Promise<void>): Promise<number> {
  const loaded = loadBundle(file, false);
  if (warmUp) await warmUp(loaded.exports);
  const data = loaded.script.createCachedData();
  const header = Buffer.from(`${MAGIC}${sha256(loaded.source)}\n`, 'latin1');
  writeFileSync(`${file}.cache`, Buffer.concat([header, data]));
  return header.length + data.length;
}
