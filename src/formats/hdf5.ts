/**
 * HDF5 access, read-only and lazy, behind one interface (`Hdf5File`) with two readers:
 *  - jsfive (hdf5-jsfive.ts), a pure-JavaScript reader: ordinary Keras files (HDF5 superblock 0 and version-1 object
 *    headers, as h5py writes them by default) open without loading or instantiating any WebAssembly;
 *  - h5wasm (hdf5-h5wasm.ts), the HDF5 C library built to WebAssembly: everything jsfive cannot read exactly, and
 *    big files on disk (read page by page, hdf5-disk.ts).
 * Which one reads a file is decided when it is opened (hdf5-open.ts); a dataset jsfive cannot read is read through
 * h5wasm then. Consumers (keras-h5.ts, keras3-weights.ts) see opaque nodes and the methods below only.
 *
 * Platform-neutral (no Node built-ins): the web worker bundle uses this file as it is.
 */
import { KerasLensError } from '../model/types';
import { damagedGlobalHeap } from './hdf5-heap';
import { describeForeignError } from './foreign-errors';

declare const h5NodeBrand: unique symbol;
/** A group or dataset of an open file: opaque, only the file that returned it can say anything about it. */
export type H5Node = { readonly [h5NodeBrand]: true };

/** Which reader opened a file. */
export type Hdf5Backend = 'jsfive' | 'h5wasm';

/** An open HDF5 file (on disk or in memory). */
export interface Hdf5File {
  readonly backend: Hdf5Backend;
  /** The user's path, for messages. */
  readonly source: string;
  /** Bytes of the HDF5 file or image, to refuse datasets that claim far more data than the file holds. */
  readonly byteSize: number;
  readonly root: H5Node;
  /** True after close(); reads then fail with a clear message instead of reaching a reader. */
  readonly closed: boolean;
  close(): void;
  /** The group or dataset at an absolute path, or null. */
  get(path: string): H5Node | null;
  /** The group or dataset at `name` below group `g` (as HDF5 resolves it: `a/b` goes down, `/a` starts at the root), or null. */
  child(g: H5Node, name: string): H5Node | null;
  isGroup(n: H5Node | null): boolean;
  isDataset(n: H5Node | null): boolean;
  /** The node's path as it was reached (`/model_weights/dense_1`). */
  path(n: H5Node): string;
  /** Children of a group, in HDF5 name order. */
  keys(g: H5Node): string[];
  /** Attribute names of a group/dataset, in HDF5 name order. */
  attrNames(n: H5Node): string[];
  /** A string-valued attribute (fixed or variable length, scalar or 1-element), or null. */
  stringAttr(n: H5Node, name: string): string | null;
  /** True when the node carries the attribute. */
  hasAttr(n: H5Node, name: string): boolean;
  /**
   * One attribute (it must exist) as a list of names: a string, strings, or an empty list; anything else throws a
   * one-line KerasLensError. Keras's chunked lists are read on top of it, by stringListAttr below.
   */
  namesAttr(n: H5Node, name: string): string[];
  /** A numeric attribute's (first) value; NaN when it is not a number; null when absent. */
  numberAttr(n: H5Node, name: string): number | null;
  /** '<f4', '>f8', '<f2', '<i4', '|u1', ... */
  dtype(ds: H5Node): string;
  shape(ds: H5Node): number[];
  /** Read one dataset and convert it to float32 (from f2/f4/f8 or integers). */
  readFloat32(ds: H5Node): Promise<Float32Array>;
}

/** Does this byte image start (or, after a user block, continue) with the HDF5 signature? */
export function hasHdf5Signature(bytes: Uint8Array): boolean {
  const sig = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
  for (let off = 0; off + 8 <= bytes.length; off = off === 0 ? 512 : off * 2) {
    if (sig.every((b, i) => bytes[off + i] === b)) return true;
  }
  return false;
}

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

/** A ByteReader over bytes in memory. */
export function memoryReader(bytes: Uint8Array): ByteReader {
  return { readAt: (position, length) => bytes.subarray(position, position + length), close() {} };
}

/**
 * HDF5 2.0 (as built in h5wasm) loops forever on a damaged global heap collection (where vlen strings such as
 * model_config live), and synchronous wasm cannot be interrupted: refuse such files before the library sees them.
 * Keras writes its attributes first, so for a very large file the head and the tail are scanned, not the weights.
 * Run before either reader sees the file, so a damaged heap gets the same message whichever would have read it.
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

/**
 * A list-of-strings attribute as Keras writes `layer_names` / `weight_names`, including the chunked form Keras
 * uses when the attribute exceeds 64 KB (`name0`, `name1`, ...). Null when absent. Either reader.
 */
export function stringListAttr(h5: Hdf5File, n: H5Node, name: string): string[] | null {
  if (h5.hasAttr(n, name)) return h5.namesAttr(n, name);
  if (!h5.hasAttr(n, `${name}0`)) return null;
  const out: string[] = [];
  for (let i = 0; h5.hasAttr(n, `${name}${i}`); i++) out.push(...h5.namesAttr(n, `${name}${i}`));
  return out;
}

/** True when the node carries the attribute in plain or chunked form. */
export function hasListAttr(h5: Hdf5File, n: H5Node, name: string): boolean {
  return h5.hasAttr(n, name) || h5.hasAttr(n, `${name}0`);
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

/** One line for anything a library threw (HDF5-DIAG stacks -> their innermost message). */
export function shortError(e: unknown): string {
  return describeForeignError(e);
}
