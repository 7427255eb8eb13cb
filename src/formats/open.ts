/**
 * NODE-ONLY: openModelFile: a Keras weight file on disk -> ModelFile. The format is decided by the bytes, not the
 * extension (detect.ts):
 *   HDF5 signature (at 0, 512, 1024, 2048, ... : HDF5 allows a user block) -> legacy Keras layout or Keras 3 weights
 *   zip local-header signature PK\x03\x04                                   -> Keras 3 `.keras`
 *   JSON ('{' or '[' after optional BOM/whitespace)                        -> architecture / TF.js / weight dump
 * Files are read through file handles (random access: only what is needed is read). bytes.ts is the same for bytes
 * in memory (the browser).
 */
import { open as fsOpen, readFile, realpath, stat, type FileHandle } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { KerasLensError } from '../model/types';
import type { ModelFile } from '../model/types';
import { detectContent, hdf5SignatureOffset, truncatedHdf5Problem, type ByteSource, type ContentKind } from './detect';
import { shortError } from './hdf5';
import { openHdf5Disk } from './hdf5-disk';
import { modelFileFromHdf5 } from './hdf5-model';
import { openKerasArchive, DEFAULT_MAX_INFLATE_BYTES } from './keras-archive';
import { openJsonModel, type ShardLocator } from './json-formats';
import { parseArchitectureText } from './bytes';

export type { ContentKind };

export interface OpenOptions {
  /** A `model.to_json()` architecture (any Keras generation, or a TF.js model.json) for a weights-only file. */
  configPath?: string;
  /** Cap on the bytes inflated from a `.keras` zip (default 2 GiB). */
  maxInflateBytes?: number;
}

/** A ByteSource over an open file handle. */
function handleSource(fh: FileHandle, size: number): ByteSource {
  return {
    size,
    async read(position, length) {
      const b = new Uint8Array(Math.max(0, Math.min(length, size - position)));
      let got = 0;
      while (got < b.length) {
        const { bytesRead } = await fh.read(b, got, b.length - got, position + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return got === b.length ? b : b.subarray(0, got);
    },
  };
}

/** Run `body` on the file at `path` opened read-only (closed afterwards). */
async function withFile<T>(path: string, size: number, body: (src: ByteSource) => Promise<T>): Promise<T> {
  const fh = await fsOpen(path, 'r');
  try {
    return await body(handleSource(fh, size));
  } finally {
    await fh.close();
  }
}

/**
 * TF.js weight shards on disk, beside the model.json: a path that leaves its folder ('../', absolute, or a symlink
 * leading out) is refused.
 */
function shardsBeside(abs: string, source: string): ShardLocator {
  const dir = dirname(abs);
  return async (decoded, p) => {
    const full = resolve(dir, decoded);
    const rel = relative(dir, full);
    if (isAbsolute(p) || rel.startsWith('..') || rel.split(sep).includes('..')) {
      throw new KerasLensError(source, `weight shard '${p}' is outside the model.json folder; refused`);
    }
    let size: number;
    try {
      size = (await stat(full)).size;
    } catch {
      throw new KerasLensError(source, `weight shard '${p}' not found beside model.json`);
    }
    const realRel = relative(await realpath(dir), await realpath(full));
    if (isAbsolute(realRel) || realRel.startsWith('..') || realRel.split(sep).includes('..')) {
      throw new KerasLensError(source, `weight shard '${p}' is a link to a file outside the model.json folder; refused`);
    }
    // Each read opens the shard again: a ModelFile holds no file handles between reads.
    return { size, read: (position, length) => withFile(full, size, (s) => s.read(position, length)) };
  };
}

export async function openModelFile(path: string, opts: OpenOptions = {}): Promise<ModelFile> {
  const source = path;
  const abs = resolve(path);
  let size: number;
  try {
    const st = await stat(abs);
    if (st.isDirectory()) throw new KerasLensError(source, 'is a directory, not a model file');
    size = st.size;
  } catch (e) {
    if (e instanceof KerasLensError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new KerasLensError(source, 'file not found');
    if (code === 'EACCES' || code === 'EPERM') throw new KerasLensError(source, 'permission denied');
    throw new KerasLensError(source, `cannot read the file (${shortError(e)})`);
  }
  if (size === 0) throw new KerasLensError(source, 'the file is empty');

  let externalConfig: unknown = undefined;
  if (opts.configPath) externalConfig = await readArchitectureFile(opts.configPath);

  let kind: ContentKind;
  try {
    kind = await withFile(abs, size, (src) => detectContent(src));
  } catch (e) {
    throw new KerasLensError(source, `cannot read the file (${shortError(e)})`);
  }
  switch (kind) {
    case 'hdf5': {
      const problem = await withFile(abs, size, async (src) => truncatedHdf5Problem(src, await hdf5SignatureOffset(src)));
      if (problem) throw new KerasLensError(source, problem);
      return openHdf5(abs, source, externalConfig);
    }
    case 'zip':
      return withFile(abs, size, (src) => openKerasArchive(src, source, opts.maxInflateBytes ?? DEFAULT_MAX_INFLATE_BYTES, externalConfig));
    case 'json': {
      let text: string;
      try {
        text = await readFile(abs, 'utf8');
      } catch (e) {
        throw new KerasLensError(source, `cannot read the file (${shortError(e)})`);
      }
      return openJsonModel(text, source, externalConfig, opts.configPath ?? null, shardsBeside(abs, source));
    }
    default:
      throw new KerasLensError(source, 'not a Keras model file (neither HDF5, a .keras zip nor JSON)');
  }
}

/** Read and parse an architecture file given with --config / configPath. */
export async function readArchitectureFile(configPath: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(resolve(configPath), 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new KerasLensError(configPath, code === 'ENOENT' ? 'architecture file not found' : `cannot read the architecture file (${shortError(e)})`);
  }
  return parseArchitectureText(text, configPath);
}

async function openHdf5(abs: string, source: string, externalConfig: unknown): Promise<ModelFile> {
  const h5 = await openHdf5Disk(abs, source);
  try {
    return modelFileFromHdf5(h5, source, externalConfig, null);
  } catch (e) {
    h5.close();
    throw e;
  }
}

