/**
 * The h5wasm reader (the HDF5 C library built to WebAssembly) behind the Hdf5File interface of hdf5.ts. Files jsfive
 * cannot read exactly (hdf5-open.ts decides), and big files on disk (hdf5-disk.ts), are read here.
 *
 * Two h5wasm builds are used:
 *  - `h5wasm/node` (NODERAWFS) for files on disk: HDF5 reads straight from the file, page by page (hdf5-disk.ts,
 *    the Node-only half).
 *  - `h5wasm` (the ESM build, MEMFS only) for HDF5 images held in memory (the model.weights.h5 inside a .keras zip):
 *    the bytes go into its in-memory file system, never to disk. (In the node build every FS path maps to the real
 *    disk, so an in-memory mount there would silently write a file.) In the browser this in-memory build is the only
 *    one: the web worker gets the file's bytes and opens them here.
 * Both are imported lazily, with literal `import()`s that the bundler keeps apart: a file read by jsfive never
 * loads or instantiates either.
 *
 * Platform-neutral (no Node built-ins): the web worker bundle uses this file as it is.
 */
import type * as H5 from 'h5wasm' with { 'resolution-mode': 'import' };
import { KerasLensError } from '../model/types';
import { checkStoredSize } from './limits';
import { describeForeignError, toKerasLensError } from './foreign-errors';
import { halfToFloat, type H5Node, type Hdf5File } from './hdf5';

export type H5Lib = typeof import('h5wasm', { with: { 'resolution-mode': 'import' } });

let memoryLib: Promise<H5Lib> | null = null;

/** HDF5 errors become JS exceptions instead of a page of HDF5-DIAG text on stderr. */
function throwInsteadOfPrinting(lib: H5Lib): void {
  const mod = lib.Module as unknown as { activate_throwing_error_handler?: () => number };
  mod.activate_throwing_error_handler?.();
}

/**
 * How many times one of h5wasm's builds was loaded in this process (0, 1 or 2): tests check that a file jsfive
 * reads never loads h5wasm.
 */
export const h5wasmLoads = { count: 0 };

/** One of h5wasm's builds, ready and throwing (the import stays literal at each caller so bundlers split it). */
export async function readyH5Lib(imported: Promise<unknown>): Promise<H5Lib> {
  h5wasmLoads.count++;
  const lib = (await imported) as H5Lib;
  await lib.ready;
  throwInsteadOfPrinting(lib);
  return lib;
}

async function loadMemoryLib(): Promise<H5Lib> {
  memoryLib ??= readyH5Lib(import('h5wasm'));
  return memoryLib;
}

let memoryCounter = 0;

type Entity = H5.Group | H5.Dataset;
const entity = (n: H5Node) => n as unknown as Entity;
const node = (e: Entity) => e as unknown as H5Node;

/**
 * Open an HDF5 image held in memory with h5wasm's in-memory build (never touches the disk). The caller has checked
 * the signature and refused damaged global heaps (hdf5-open.ts).
 */
export async function openH5wasmMemory(bytes: Uint8Array, source: string, what: string): Promise<H5wasmFile> {
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
  return new H5wasmFile(lib, file, source, memoryPath, bytes.length);
}

/** An HDF5 file open in h5wasm. */
export class H5wasmFile implements Hdf5File {
  readonly backend = 'h5wasm' as const;
  private isClosed = false;
  /** Wraps an open h5wasm file; use openH5wasmMemory() here or openHdf5Disk() (hdf5-disk.ts). */
  constructor(
    readonly lib: H5Lib,
    readonly file: H5.File,
    readonly source: string,
    private readonly memoryPath: string | null,
    readonly byteSize: number,
  ) {}

  get root(): H5Node {
    return node(this.file);
  }

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

  get(path: string): H5Node | null {
    let e: unknown;
    try {
      e = this.file.get(path);
    } catch {
      return null;
    }
    if (e instanceof this.lib.Group || e instanceof this.lib.Dataset) return node(e);
    return null;
  }

  child(g: H5Node, name: string): H5Node | null {
    const e: unknown = (entity(g) as H5.Group).get(name);
    if (e instanceof this.lib.Group || e instanceof this.lib.Dataset) return node(e);
    return null;
  }

  isGroup(n: H5Node | null): boolean {
    return n instanceof this.lib.Group;
  }

  isDataset(n: H5Node | null): boolean {
    return n instanceof this.lib.Dataset;
  }

  path(n: H5Node): string {
    return entity(n).path;
  }

  keys(g: H5Node): string[] {
    return (entity(g) as H5.Group).keys();
  }

  attrNames(n: H5Node): string[] {
    return Object.keys(entity(n).attrs);
  }

  stringAttr(n: H5Node, name: string): string | null {
    const attrs = entity(n).attrs;
    if (!Object.prototype.hasOwnProperty.call(attrs, name)) return null;
    const v = attrs[name].value;
    if (typeof v === 'string') return v;
    if (Array.isArray(v) && v.length === 1 && typeof v[0] === 'string') return v[0];
    if (v instanceof Uint8Array || v instanceof Int8Array) return new TextDecoder().decode(v);
    return null;
  }

  hasAttr(n: H5Node, name: string): boolean {
    return Object.prototype.hasOwnProperty.call(entity(n).attrs, name);
  }

  namesAttr(n: H5Node, name: string): string[] {
    const g = entity(n);
    const v = g.attrs[name].value;
    if (typeof v === 'string') return [v];
    if (Array.isArray(v)) return v.map((x) => (typeof x === 'string' ? x : String(x)));
    // Empty lists come back as a zero-length numeric array.
    if (ArrayBuffer.isView(v) && (v as unknown as { length: number }).length === 0) return [];
    throw new KerasLensError(this.source, `attribute '${name}' of ${g.path} is not a list of names`);
  }

  numberAttr(n: H5Node, name: string): number | null {
    const attrs = entity(n).attrs;
    if (!Object.prototype.hasOwnProperty.call(attrs, name)) return null;
    const v = attrs[name].value;
    return typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? v : ArrayBuffer.isView(v) ? Number((v as unknown as ArrayLike<number | bigint>)[0]) : NaN;
  }

  /** '<f4', '>f8', '<f2', '<i4', ... from h5wasm metadata. */
  dtype(ds: H5Node): string {
    const m = (entity(ds) as H5.Dataset).metadata;
    const order = m.size === 1 ? '|' : m.littleEndian ? '<' : '>';
    const kind = m.type === 1 ? 'f' : m.type === 0 ? (m.signed ? 'i' : 'u') : m.type === 3 ? 'S' : `?${m.type}`;
    return `${order}${kind}${m.size}`;
  }

  shape(ds: H5Node): number[] {
    return ((entity(ds) as H5.Dataset).metadata.shape ?? []).map(Number);
  }

  async readFloat32(dsNode: H5Node): Promise<Float32Array> {
    return this.readFloat32Now(entity(dsNode) as H5.Dataset);
  }

  private readFloat32Now(ds: H5.Dataset): Float32Array {
    const where = `${this.source}: dataset ${ds.path}`;
    if (this.closed) throw new Error(`${where} cannot be read: the model file was closed`);
    const m = ds.metadata;
    // HDF5 lets a dataset claim any shape while storing nothing; refuse before allocating for it.
    checkStoredSize(this.source, `weight ${ds.path}`, (m.shape ?? []).map(Number), m.size, this.byteSize);
    if (m.type === 1 && m.size === 2) {
      // h5wasm has no float16 accessor: read the raw little-endian halves through the module and widen them.
      const mod = this.lib.Module as unknown as {
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
      throw new Error(`${where} holds ${this.dtype(node(ds))} values, not numbers`);
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
}
