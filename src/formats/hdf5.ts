/**
 * HDF5 access through h5wasm, read-only and lazy: opening a file and listing groups, attributes and dataset
 * shapes reads only metadata; a dataset's numbers are read when `readFloat32` is called.
 *
 * Two h5wasm builds are used:
 *  - `h5wasm/node` (NODERAWFS) for files on disk: HDF5 reads straight from the file, page by page (hdf5-disk.ts,
 *    the Node-only half of this file).
 *  - `h5wasm` (the ESM build, MEMFS only) for HDF5 images held in memory (the model.weights.h5 inside a .keras zip):
 *    the bytes go into its in-memory file system, never to disk. (In the node build every FS path maps to the real
 *    disk, so an in-memory mount there would silently write a file.) In the browser this in-memory build is the only
 *    one: the web worker gets the file's bytes and opens them here.
 *
 * Platform-neutral (no Node built-ins): the web worker bundle uses this file as it is.
 */
import type * as H5 from 'h5wasm' with { 'resolution-mode': 'import' };
import { KerasLensError } from '../model/types';
import { checkStoredSize } from './limits';
import { damagedGlobalHeap } from './hdf5-heap';
import { describeForeignError, toKerasLensError } from './foreign-errors';

export type H5Lib = typeof import('h5wasm', { with: { 'resolution-mode': 'import' } });
export type H5Group = H5.Group;
export type H5Dataset = H5.Dataset;

let memoryLib: Promise<H5Lib> | null = null;

/** HDF5 errors become JS exceptions instead of a page of HDF5-DIAG text on stderr. */
function throwInsteadOfPrinting(lib: H5Lib): void {
  const mod = lib.Module as unknown as { activate_throwing_error_handler?: () => number };
  mod.activate_throwing_error_handler?.();
}

/** One of h5wasm's builds, ready and throwing (the import stays literal at each caller so bundlers split it). */
export async function readyH5Lib(imported: Promise<unknown>): Promise<H5Lib> {
  const lib = (await imported) as H5Lib;
  await lib.ready;
  throwInsteadOfPrinting(lib);
  return lib;
}

async function loadMemoryLib(): Promise<H5Lib> {
  memoryLib ??= readyH5Lib(import('h5wasm'));
  return memoryLib;
}

/** Does this byte image start (or, after a user block, continue) with the HDF5 signature? */
export function hasHdf5Signature(bytes: Uint8Array): boolean {
  const sig = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
  for (let off = 0; off + 8 <= bytes.length; off = off === 0 ? 512 : off * 2) {
    if (sig.every((b, i) => bytes[off + i] === b)) return true;
  }
  return false;
}

let memoryCounter = 0;

/**
 * Files up to this size are scanned whole for damaged global heaps; larger ones at their head and tail only (16 MiB
 * each). The HDF5 library loads a collection only when a value in it is read. The root's attributes (model_config,
 * keras_version, backend), which Keras writes before any weight, and the first names after them are in the head;
 * names that overflow it (Keras 3's legacy .h5 keeps layer_names and weight_names as variable-length strings) are
 * in collections between the weights, which no bounded scan reaches. So for a big file this check is best effort,
 * a precise message for the damage found by fuzzing small files; a hang anywhere is ended by the worker's (or the
 * CLI's) time limit. Scanning 128 MiB of a 1 GB file instead cost ~0.1–0.3 s of every open.
 */
const HEAP_SCAN_WHOLE = 256 * 1024 * 1024;
const HEAP_SCAN_EDGE = 16 * 1024 * 1024;

export interface ByteReader {
  readAt(position: number, length: number): Uint8Array;
  close(): void;
}

/**
 * HDF5 2.0 (as built in h5wasm) loops forever on a damaged global heap collection (where vlen strings such as
 * model_config live), and synchronous wasm cannot be interrupted: refuse such files before the library sees them.
 * Keras writes its attributes first, so for a very large file the head and the tail are scanned, not the weights.
 */
export async function refuseDamagedGlobalHeap(source: string, size: number, reader: ByteReader): Promise<void> {
  try {
    const ranges: [number, number][] = size <= HEAP_SCAN_WHOLE ? [[0, size]] : [[0, HEAP_SCAN_EDGE], [size - HEAP_SCAN_EDGE, size]];
    for (const [from, to] of ranges) {
      const problem = damagedGlobalHeap(to - from, (position, length) => reader.readAt(from + position, Math.min(length, size - from - position)));
      if (problem) throw new KerasLensError(source, problem.replace(/at byte (\d+)/g, (_, n) => `at byte ${from + Number(n)}`));
    }
  } finally {
    reader.close();
  }
}

/** An open HDF5 file (on disk or in memory). */
export class Hdf5File {
  private isClosed = false;
  /** Wraps an open h5wasm file; use openMemory() here or openHdf5Disk() (hdf5-disk.ts). */
  constructor(
    readonly lib: H5Lib,
    readonly file: H5.File,
    /** The user's path, for messages. */
    readonly source: string,
    private readonly memoryPath: string | null,
    /** Bytes of the HDF5 file or image, to refuse datasets that claim far more data than the file holds. */
    readonly byteSize: number,
  ) {}

  /** Open an HDF5 image held in memory (never touches the disk). */
  static async openMemory(bytes: Uint8Array, source: string, what = 'model.weights.h5 inside the .keras file'): Promise<Hdf5File> {
    if (!hasHdf5Signature(bytes)) throw new KerasLensError(source, `${what} is not HDF5 (damaged file)`);
    await refuseDamagedGlobalHeap(source, bytes.length, { readAt: (position, length) => bytes.subarray(position, position + length), close() {} });
    const lib = await loadMemoryLib();
    const fs = lib.FS as unknown as { writeFile(p: string, d: Uint8Array): void; unlink(p: string): void };
    const memoryPath = `/keras-lens-${++memoryCounter}.h5`;
    fs.writeFile(memoryPath, bytes);
    let file: H5.File;
    try {
      file = new lib.File(memoryPath, 'r');
    } catch (e) {
      fs.unlink(memoryPath);
      throw toKerasLensError(e, source, `the HDF5 library could not open ${what}`);
    }
    return new Hdf5File(lib, file, source, memoryPath, bytes.length);
  }

  get root(): H5.Group {
    return this.file;
  }

  /** True after close(); reads then fail with a clear message instead of reaching the HDF5 library. */
  get closed(): boolean {
    return this.isClosed;
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    try {
      this.file.close();
    } finally {
      if (this.memoryPath) {
        try {
          (this.lib.FS as unknown as { unlink(p: string): void }).unlink(this.memoryPath);
        } catch {
          /* already gone */
        }
      }
    }
  }

  /** The entity at an absolute path, or null. */
  get(path: string): H5.Group | H5.Dataset | null {
    let e: unknown;
    try {
      e = this.file.get(path);
    } catch {
      return null;
    }
    if (e instanceof this.lib.Group || e instanceof this.lib.Dataset) return e;
    return null;
  }

  isGroup(e: unknown): e is H5.Group {
    return e instanceof this.lib.Group;
  }

  isDataset(e: unknown): e is H5.Dataset {
    return e instanceof this.lib.Dataset;
  }

  /** Children of a group, as h5wasm lists them (HDF5 name order). */
  keys(g: H5.Group): string[] {
    return g.keys();
  }

  /** Attribute names of a group/dataset. */
  attrNames(g: H5.Group | H5.Dataset): string[] {
    return Object.keys(g.attrs);
  }

  /** A string-valued attribute (fixed or variable length, scalar or 1-element), or null. */
  stringAttr(g: H5.Group | H5.Dataset, name: string): string | null {
    const attrs = g.attrs;
    if (!Object.prototype.hasOwnProperty.call(attrs, name)) return null;
    const v = attrs[name].value;
    if (typeof v === 'string') return v;
    if (Array.isArray(v) && v.length === 1 && typeof v[0] === 'string') return v[0];
    if (v instanceof Uint8Array || v instanceof Int8Array) return new TextDecoder().decode(v);
    return null;
  }

  /**
   * A list-of-strings attribute as Keras writes `layer_names` / `weight_names`, including the chunked form Keras
   * uses when the attribute exceeds 64 KB (`name0`, `name1`, ...). Null when absent.
   */
  stringListAttr(g: H5.Group | H5.Dataset, name: string): string[] | null {
    const attrs = g.attrs;
    const has = (n: string) => Object.prototype.hasOwnProperty.call(attrs, n);
    const decode = (n: string): string[] => {
      const v = attrs[n].value;
      if (typeof v === 'string') return [v];
      if (Array.isArray(v)) return v.map((x) => (typeof x === 'string' ? x : String(x)));
      // Empty lists come back as a zero-length numeric array.
      if (ArrayBuffer.isView(v) && (v as unknown as { length: number }).length === 0) return [];
      throw new KerasLensError(this.source, `attribute '${n}' of ${g.path} is not a list of names`);
    };
    if (has(name)) return decode(name);
    if (!has(`${name}0`)) return null;
    const out: string[] = [];
    for (let i = 0; has(`${name}${i}`); i++) out.push(...decode(`${name}${i}`));
    return out;
  }

  /** True when the group carries the attribute in plain or chunked form. */
  hasListAttr(g: H5.Group, name: string): boolean {
    const attrs = g.attrs;
    return Object.prototype.hasOwnProperty.call(attrs, name) || Object.prototype.hasOwnProperty.call(attrs, `${name}0`);
  }
}

/** '<f4', '>f8', '<f2', '<i4', ... from h5wasm metadata. */
export function dtypeName(ds: H5.Dataset): string {
  const m = ds.metadata;
  const order = m.size === 1 ? '|' : m.littleEndian ? '<' : '>';
  const kind = m.type === 1 ? 'f' : m.type === 0 ? (m.signed ? 'i' : 'u') : m.type === 3 ? 'S' : `?${m.type}`;
  return `${order}${kind}${m.size}`;
}

export function datasetShape(ds: H5.Dataset): number[] {
  return (ds.metadata.shape ?? []).map(Number);
}

/** IEEE half -> float. */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/** Read one dataset and convert it to float32 (from f2/f4/f8 or integers). */
export function readFloat32(h5: Hdf5File, ds: H5.Dataset): Float32Array {
  const where = `${h5.source}: dataset ${ds.path}`;
  if (h5.closed) throw new Error(`${where} cannot be read: the model file was closed`);
  const m = ds.metadata;
  // HDF5 lets a dataset claim any shape while storing nothing; refuse before allocating for it.
  checkStoredSize(h5.source, `weight ${ds.path}`, (m.shape ?? []).map(Number), m.size, h5.byteSize);
  if (m.type === 1 && m.size === 2) {
    // h5wasm has no float16 accessor: read the raw little-endian halves through the module and widen them.
    const mod = h5.lib.Module as unknown as {
      _malloc(n: number): number;
      _free(p: number): void;
      HEAPU8: Uint8Array;
      get_dataset_data(fid: bigint, path: string, a: null, b: null, c: null, ptr: bigint): number;
    };
    const n = m.total_size;
    const ptr = mod._malloc(Math.max(2, n * 2));
    if (!ptr) throw new Error(`${where} does not fit in memory`);
    try {
      try {
        mod.get_dataset_data(ds.file_id, ds.path, null, null, null, BigInt(ptr));
      } catch (e) {
        throw new Error(`${where} could not be read (${describeForeignError(e)})`);
      }
      const raw = mod.HEAPU8.slice(ptr, ptr + n * 2);
      const halves = new Uint16Array(raw.buffer, 0, n);
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = halfToFloat(halves[i]);
      return out;
    } finally {
      mod._free(ptr);
    }
  }
  if (m.type !== 1 && m.type !== 0) {
    throw new Error(`${where} holds ${dtypeName(ds)} values, not numbers`);
  }
  let v: unknown;
  try {
    v = ds.value;
  } catch (e) {
    throw new Error(`${where} could not be read (${describeForeignError(e)})`);
  }
  if (v instanceof Float32Array) return v;
  if (typeof v === 'number') return Float32Array.of(v);
  if (typeof v === 'bigint') return Float32Array.of(Number(v));
  if (v instanceof BigInt64Array || v instanceof BigUint64Array) return Float32Array.from(v, (x) => Number(x));
  if (ArrayBuffer.isView(v)) return Float32Array.from(v as unknown as ArrayLike<number>);
  throw new Error(`${where} could not be read as numbers`);
}

/** One line for anything a library threw (HDF5-DIAG stacks -> their innermost message). */
export function shortError(e: unknown): string {
  return describeForeignError(e);
}
