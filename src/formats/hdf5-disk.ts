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
import { Hdf5File, readyH5Lib, refuseDamagedGlobalHeap, type ByteReader, type H5Lib } from './hdf5';

let diskLib: Promise<H5Lib> | null = null;

async function loadDiskLib(): Promise<H5Lib> {
  diskLib ??= readyH5Lib(import('h5wasm/node'));
  return diskLib;
}

/** Largest HDF5 file read into memory on Windows (see openHdf5Disk). */
const WINDOWS_IN_MEMORY_LIMIT = 2 * 1024 * 1024 * 1024;

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
  if (process.platform === 'win32') {
    // Emscripten's raw node file system resolves paths POSIX-style and mishandles drive letters ("C:\\...");
    // on Windows read the file into the in-memory build instead (bounded like a .keras archive).
    const size = (await stat(absolutePath)).size;
    if (size > WINDOWS_IN_MEMORY_LIMIT) {
      throw new KerasLensError(source, `the file is ${size} bytes; on Windows Keras Lens reads HDF5 files into memory and stops at ${WINDOWS_IN_MEMORY_LIMIT}`);
    }
    return Hdf5File.openMemory(new Uint8Array(await readFile(absolutePath)), source, 'the file');
  }
  const lib = await loadDiskLib();
  const byteSize = (await stat(absolutePath)).size;
  await refuseDamagedGlobalHeap(source, byteSize, diskReader(absolutePath));
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
