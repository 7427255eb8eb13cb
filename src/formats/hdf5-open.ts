/**
 * Which reader opens an HDF5 image in memory (a .keras archive's model.weights.h5, a file given as bytes in the
 * browser, a small file on disk read whole): jsfive when it reads the file exactly (hdf5-jsfive.ts), else h5wasm, as
 * before. Both see the file only after the checks every HDF5 file gets (the signature; no damaged global heap), so a
 * damaged file gets the same message whichever reader would have read it.
 *
 * Platform-neutral (no Node built-ins).
 */
import { KerasLensError } from '../model/types';
import { hasHdf5Signature, memoryReader, refuseDamagedGlobalHeap, type Hdf5File } from './hdf5';
import { openH5wasmMemory } from './hdf5-h5wasm';
import { openJsfive } from './hdf5-jsfive';

/**
 * Open an HDF5 image held in memory (never touches the disk). `h5wasm` opens the same file with h5wasm, for what
 * jsfive cannot read (by default h5wasm's in-memory build on these bytes).
 */
export async function openHdf5Memory(
  bytes: Uint8Array,
  source: string,
  what = 'model.weights.h5 inside the .keras file',
  h5wasm: () => Promise<Hdf5File> = () => openH5wasmMemory(bytes, source, what),
): Promise<Hdf5File> {
  if (!hasHdf5Signature(bytes)) throw new KerasLensError(source, `${what} is not HDF5 (damaged file)`);
  await refuseDamagedGlobalHeap(source, bytes.length, memoryReader(bytes));
  return openJsfive(bytes, source, h5wasm) ?? h5wasm();
}
