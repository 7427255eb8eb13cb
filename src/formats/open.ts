/**
 * openModelFile: any Keras weight file -> ModelFile. The format is decided by the bytes, not the extension:
 *   HDF5 signature (at 0, 512, 1024, 2048, ... : HDF5 allows a user block) -> legacy Keras layout or Keras 3 weights
 *   zip local-header signature PK\x03\x04                                   -> Keras 3 `.keras`
 *   JSON ('{' or '[' after optional BOM/whitespace)                        -> architecture / TF.js / weight dump
 */
import { open as fsOpen, readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { KerasLensError } from '../model/types';
import type { ModelFile } from '../model/types';
import { Hdf5File, shortError } from './hdf5';
import { modelFileFromHdf5 } from './hdf5-model';
import { openKerasArchive, DEFAULT_MAX_INFLATE_BYTES } from './keras-archive';
import { openJsonModel } from './json-formats';
import { parseJsonText } from './json-guard';

export interface OpenOptions {
  /** A `model.to_json()` architecture (any Keras generation, or a TF.js model.json) for a weights-only file. */
  configPath?: string;
  /** Cap on the bytes inflated from a `.keras` zip (default 2 GiB). */
  maxInflateBytes?: number;
}

const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

export type ContentKind = 'hdf5' | 'zip' | 'json' | 'unknown';

/**
 * A truncated HDF5 file, told from its superblock's end-of-file address before the HDF5 library sees it (the
 * library would print a page of diagnostics to stderr). Returns the problem, or null when the size is plausible.
 */
async function truncatedHdf5Problem(path: string, sigOffset: number, size: number): Promise<string | null> {
  const fh = await fsOpen(path, 'r');
  try {
    const sb = Buffer.alloc(64);
    const { bytesRead } = await fh.read(sb, 0, 64, sigOffset);
    if (bytesRead < 24) return 'truncated HDF5 file (no complete superblock)';
    const version = sb[8];
    let offsetSize: number;
    let baseAt: number;
    if (version === 0 || version === 1) {
      offsetSize = sb[13];
      baseAt = version === 0 ? 24 : 28;
    } else if (version === 2 || version === 3) {
      offsetSize = sb[9];
      baseAt = 12;
    } else return null;
    if (offsetSize !== 8 && offsetSize !== 4) return null;
    const eofAt = baseAt + 2 * offsetSize;
    if (bytesRead < eofAt + offsetSize) return 'truncated HDF5 file (no complete superblock)';
    const read = (at: number) => (offsetSize === 8 ? Number(sb.readBigUInt64LE(at)) : sb.readUInt32LE(at));
    const undefinedAddr = offsetSize === 8 ? Number(0xffffffffffffffffn) : 0xffffffff;
    const base = read(baseAt);
    const eof = read(eofAt);
    if (eof === undefinedAddr) return null;
    const needed = (base === undefinedAddr ? sigOffset : base) + eof;
    if (size < needed) return `truncated HDF5 file (${size} bytes, the file says ${needed}); was the download or copy cut short?`;
    return null;
  } finally {
    await fh.close();
  }
}

/** Where the HDF5 superblock signature sits (0, 512, 1024, ...), or -1. */
async function hdf5SignatureOffset(path: string, size: number): Promise<number> {
  const fh = await fsOpen(path, 'r');
  try {
    const sig = Buffer.alloc(8);
    for (let off = 0; off + 8 <= size; off = off === 0 ? 512 : off * 2) {
      const r = await fh.read(sig, 0, 8, off);
      if (r.bytesRead === 8 && HDF5_SIGNATURE.every((b, j) => sig[j] === b)) return off;
    }
    return -1;
  } finally {
    await fh.close();
  }
}

/** What the file's bytes say it is. */
export async function detectContent(path: string, size: number): Promise<ContentKind> {
  const fh = await fsOpen(path, 'r');
  try {
    const head = Buffer.alloc(16);
    const { bytesRead } = await fh.read(head, 0, 16, 0);
    if (bytesRead >= 8 && HDF5_SIGNATURE.every((b, i) => head[i] === b)) return 'hdf5';
    if (bytesRead >= 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) return 'zip';
    // Empty zips start with the end-of-central-directory record.
    if (bytesRead >= 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x05 && head[3] === 0x06) return 'zip';
    let i = 0;
    if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) i = 3;
    while (i < bytesRead && (head[i] === 0x20 || head[i] === 0x0a || head[i] === 0x0d || head[i] === 0x09)) i++;
    if (i < bytesRead && (head[i] === 0x7b || head[i] === 0x5b)) return 'json';
    // HDF5 with a user block: the superblock sits at 512, 1024, 2048, ...
    const sig = Buffer.alloc(8);
    for (let off = 512; off + 8 <= size; off *= 2) {
      const r = await fh.read(sig, 0, 8, off);
      if (r.bytesRead === 8 && HDF5_SIGNATURE.every((b, j) => sig[j] === b)) return 'hdf5';
    }
    return 'unknown';
  } finally {
    await fh.close();
  }
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
    kind = await detectContent(abs, size);
  } catch (e) {
    throw new KerasLensError(source, `cannot read the file (${shortError(e)})`);
  }
  switch (kind) {
    case 'hdf5': {
      const problem = await truncatedHdf5Problem(abs, await hdf5SignatureOffset(abs, size), size);
      if (problem) throw new KerasLensError(source, problem);
      return openHdf5(abs, source, externalConfig);
    }
    case 'zip':
      return openKerasArchive(abs, source, size, opts.maxInflateBytes ?? DEFAULT_MAX_INFLATE_BYTES, externalConfig);
    case 'json':
      return openJsonModel(abs, source, externalConfig, opts.configPath ?? null);
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
  if (text.trim() === '') throw new KerasLensError(configPath, 'the architecture file is empty');
  return parseJsonText(text, configPath, 'the architecture file');
}

async function openHdf5(abs: string, source: string, externalConfig: unknown): Promise<ModelFile> {
  const h5 = await Hdf5File.openDisk(abs, source);
  try {
    return modelFileFromHdf5(h5, source, externalConfig, null);
  } catch (e) {
    h5.close();
    throw e;
  }
}

