/**
 * NODE-ONLY: HDF5 files on disk, through h5wasm's Node build (NODERAWFS: HDF5 reads straight from the file, page by
 * page, so a 2 GB file is never held in memory). The platform-neutral rest (the in-memory build, reading datasets)
 * is hdf5.ts; the browser opens bytes there instead.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type * as H5 from 'h5wasm' with { 'resolution-mode': 'import' };
import { KerasLensError } from '../model/types';
import { toKerasLensError } from './foreign-errors';
import { Hdf5File, refuseDamagedGlobalHeap, throwInsteadOfPrinting, type ByteReader, type H5Lib } from './hdf5';

let diskLib: Promise<H5Lib> | null = null;

/**
 * Offer h5wasm's disk build a WebAssembly module compiled elsewhere (the CLI's watchdog compiles dist/hdf5-node.wasm
 * on its own thread while this worker thread starts, and posts the module over), so the compile is off this thread's
 * start-up path. The glue (patched by scripts/build.mjs) awaits it when it instantiates; null (the other side could
 * not compile) or a rejection means the glue reads and compiles the file itself. Call before the first open.
 */
export function useCompiledHdf5(module: Promise<WebAssembly.Module | null>): void {
  const g = globalThis as { __kerasLensWasm?: { node?: Promise<WebAssembly.Module | null> } };
  (g.__kerasLensWasm ??= {}).node = module;
}

/** Start loading (and instantiating) h5wasm's disk build now, e.g. while the command line is still being read. */
export function preloadHdf5Disk(): void {
  if (process.platform !== 'win32') loadDiskLib().catch(() => {});
}

async function loadDiskLib(): Promise<H5Lib> {
  diskLib ??= (async () => {
    const lib = (await import('h5wasm/node')) as unknown as H5Lib;
    await lib.ready;
    throwInsteadOfPrinting(lib);
    return lib;
  })();
  return diskLib;
}

/** Largest HDF5 file read into memory on Windows (see openHdf5Disk). */
const WINDOWS_IN_MEMORY_LIMIT = 2 * 1024 * 1024 * 1024;

function diskReader(absolutePath: string): ByteReader {
  const fd = openSync(absolutePath, 'r');
  return {
    readAt(position, length) {
      const buf = Buffer.alloc(Math.max(0, length));
      const n = readSync(fd, buf, 0, buf.length, position);
      return buf.subarray(0, n);
    },
    close: () => closeSync(fd),
  };
}

/** Open a file on disk read-only. */
export async function openHdf5Disk(absolutePath: string, source: string): Promise<Hdf5File> {
  if (process.platform === 'win32') {
    // Emscripten's raw node file system resolves paths POSIX-style and mishandles drive letters ("C:\\...");
    // on Windows read the file into the in-memory build instead (bounded like a .keras archive).
    const size = (await stat(absolutePath)).size;
    if (size > WINDOWS_IN_MEMORY_LIMIT) {
      throw new KerasLensError(source, `the file is ${size} bytes; on Windows Keras Lens reads HDF5 files into memory and stops at ${WINDOWS_IN_MEMORY_LIMIT}`);
    }
    return Hdf5File.openMemory(new Uint8Array(await readFile(absolutePath)), source, 'the file');
  }
  // h5wasm loads (its WebAssembly compiles on V8's background threads) while the heap pre-check reads the file;
  // the library sees the file only after the check has passed.
  const loading = loadDiskLib();
  loading.catch(() => {}); // awaited below; a failed check must not leave it unhandled
  const byteSize = (await stat(absolutePath)).size;
  await refuseDamagedGlobalHeap(source, byteSize, diskReader(absolutePath));
  const lib = await loading;
  let file: H5.File;
  try {
    file = new lib.File(absolutePath, 'r');
  } catch (e) {
    throw toKerasLensError(e, source, 'the HDF5 library could not open the file');
  }
  if (!file || (file as unknown as { file_id?: bigint }).file_id === undefined || Number((file as unknown as { file_id: bigint }).file_id) < 0) {
    throw new KerasLensError(source, 'HDF5 library could not open the file (damaged or truncated HDF5)');
  }
  return new Hdf5File(lib, file, source, null, byteSize);
}
