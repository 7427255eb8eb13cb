/**
 * NODE-ONLY: HDF5 files on disk. Files up to JSFIVE_DISK_LIMIT are read whole and opened like an image in memory
 * (hdf5-open.ts: jsfive when it reads the file exactly, else h5wasm); bigger ones through h5wasm's Node build
 * (NODERAWFS: HDF5 reads straight from the file, page by page, so a 2 GB file is never held in memory). The
 * platform-neutral rest is hdf5.ts, hdf5-open.ts, hdf5-jsfive.ts and hdf5-h5wasm.ts; the browser opens bytes there.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type * as H5 from 'h5wasm' with { 'resolution-mode': 'import' };
import { KerasLensError } from '../model/types';
import { toKerasLensError } from './foreign-errors';
import { refuseDamagedGlobalHeap, type ByteReader, type Hdf5File } from './hdf5';
import { H5wasmFile, readyH5Lib, type H5Lib } from './hdf5-h5wasm';
import { openHdf5Memory } from './hdf5-open';

let diskLib: Promise<H5Lib> | null = null;

async function loadDiskLib(): Promise<H5Lib> {
  diskLib ??= readyH5Lib(import('h5wasm/node'));
  return diskLib;
}

/** Largest HDF5 file read into memory on Windows (see openHdf5Disk). */
const WINDOWS_IN_MEMORY_LIMIT = 2 * 1024 * 1024 * 1024;

/**
 * Largest file read whole into memory so that jsfive may read it: reading 64 MiB takes ~10–30 ms, far less than
 * h5wasm's start (~40 ms); bigger files keep h5wasm's page-by-page reads (they are rarely read whole).
 */
export const JSFIVE_DISK_LIMIT = 64 * 1024 * 1024;

function diskReader(absolutePath: string): ByteReader {
  const fd = openSync(absolutePath, 'r');
  return {
    readAt(position, length) {
      // not zero-filled: only the bytes read are handed out (the heap scan asks for 4 MiB windows at every open)
      const buf = Buffer.allocUnsafe(Math.max(0, length));
      const n = readSync(fd, buf, 0, buf.length, position);
      return buf.subarray(0, n);
    },
    close: () => closeSync(fd),
  };
}

/** Open a file on disk read-only. */
export async function openHdf5Disk(absolutePath: string, source: string): Promise<Hdf5File> {
  const size = (await stat(absolutePath)).size;
  if (process.platform === 'win32') {
    // Emscripten's raw node file system resolves paths POSIX-style and mishandles drive letters ("C:\\...");
    // on Windows read the file into the in-memory build instead (bounded like a .keras archive).
    if (size > WINDOWS_IN_MEMORY_LIMIT) {
      throw new KerasLensError(source, `the file is ${size} bytes; on Windows Keras Lens reads HDF5 files into memory and stops at ${WINDOWS_IN_MEMORY_LIMIT}`);
    }
    return openHdf5Memory(new Uint8Array(await readFile(absolutePath)), source, 'the file');
  }
  if (size <= JSFIVE_DISK_LIMIT) {
    const bytes = new Uint8Array(await readFile(absolutePath));
    // h5wasm, when needed, reads the file on disk as it always did (not a second copy in its memory)
    return openHdf5Memory(bytes, source, 'the file', () => openH5wasmDisk(absolutePath, source, bytes.length));
  }
  await refuseDamagedGlobalHeap(source, size, diskReader(absolutePath));
  return openH5wasmDisk(absolutePath, source, size);
}

/** h5wasm's Node build on a file on disk (its global heaps already checked). */
async function openH5wasmDisk(absolutePath: string, source: string, byteSize: number): Promise<H5wasmFile> {
  const lib = await loadDiskLib();
  let file: H5.File;
  try {
    file = new lib.File(absolutePath, 'r');
  } catch (e) {
    throw toKerasLensError(e, source, 'the HDF5 library could not open the file');
  }
  if (!file || (file as unknown as { file_id?: bigint }).file_id === undefined || Number((file as unknown as { file_id: bigint }).file_id) < 0) {
    throw new KerasLensError(source, 'HDF5 library could not open the file (damaged or truncated HDF5)');
  }
  return new H5wasmFile(lib, file, source, null, byteSize);
}

