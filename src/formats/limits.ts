/**
 * Size limits for bytes that come from strangers: model files and JSON downloaded from the internet.
 * Pure (no node-only imports). Every refusal is a `KerasLensError(file, problem)`: one line naming the file and the problem.
 *
 *   checkTensorSize(file, what, shape)      a declared shape before allocating for it (corrupt headers can claim
 *                                            2^60 elements).
 *   checkInflateSize(file, entry, c, n)     a zip entry's declared sizes before inflating (absolute cap + ratio cap,
 *                                            so a few hundred KB claiming hundreds of MB is refused at once).
 *   checkStoredSize(file, what, shape,       an HDF5 dataset's claimed bytes against the bytes of the file holding it,
 *                   itemBytes, fileBytes)    before reading it (an "HDF5 bomb": chunked datasets resized but never
 *                                            written claim GBs in a few KB; reading them allocates the claim).
 *
 * The other guards live beside their lowest user: JSON in json-guard.ts, HDF5 global heaps in hdf5-heap.ts,
 * library errors in foreign-errors.ts, non-finite numbers in model/finite.ts, quoting text in model/text.ts.
 */
import { KerasLensError } from '../model/types';

export interface Limits {
  /** Largest JSON text we parse (UTF-16 code units ~ bytes for ASCII JSON). */
  maxJsonBytes: number;
  /** Deepest nesting of `[`/`{` we accept. Keras configs nest ~20 levels; a 5-D weight as lists ~7 under its layer. */
  maxJsonDepth: number;
  /** Total bytes we inflate from one `.keras` zip. */
  maxInflateBytes: number;
  /** Largest inflated/compressed ratio accepted for entries bigger than `inflateRatioFloorBytes`. */
  maxInflateRatio: number;
  /** Entries that inflate to less than this are never refused for their ratio (small configs compress well). */
  inflateRatioFloorBytes: number;
  /** Largest number of elements in one tensor (weight or input) we allocate. */
  maxTensorElements: number;
  /** Largest claimed-data / file-size ratio for a stored array bigger than `storedRatioFloorBytes`. */
  maxStoredRatio: number;
  storedRatioFloorBytes: number;
}

const MiB = 1024 * 1024;

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxJsonBytes: 512 * MiB,
  maxJsonDepth: 256,
  maxInflateBytes: 2048 * MiB,
  // Float weights (even trained ones) deflate to ~90% of their size; all-zero tensors of an untrained model reach
  // ~1000:1 but are never hundreds of MB in a model one would inspect. Deflate's maximum is ~1032:1.
  maxInflateRatio: 100,
  inflateRatioFloorBytes: 64 * MiB,
  maxTensorElements: 2 ** 28,
  // Keras writes every weight in full (h5py contiguous datasets, no compression): a dataset's data is in the file.
  maxStoredRatio: 20,
  storedRatioFloorBytes: 16 * MiB,
});

// -------------------------------------------------------------------------------------------------
// Sizes
// -------------------------------------------------------------------------------------------------

/** "1.5 MB", "300 MB", "12 KB" — for messages. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  if (n < MiB) return `${(n / 1024).toFixed(n < 10 * 1024 ? 1 : 0)} KB`;
  if (n < 1024 * MiB) return `${(n / MiB).toFixed(n < 10 * MiB ? 1 : 0)} MB`;
  return `${(n / (1024 * MiB)).toFixed(1)} GB`;
}

/** A declared shape is sane: non-negative safe integers, product within the element cap. Returns the product. */
export function checkTensorSize(
  file: string | null,
  what: string,
  shape: readonly number[],
  maxElements: number = DEFAULT_LIMITS.maxTensorElements,
): number {
  let n = 1;
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      throw new KerasLensError(file, `${what} has an invalid shape (${shape.map(String).join(', ')})`);
    }
    n *= d;
  }
  if (n > maxElements) {
    throw new KerasLensError(
      file,
      `${what} has shape (${shape.join(', ')}) = ${n} elements, more than the limit of ${maxElements} (damaged file?)`,
    );
  }
  return n;
}

/**
 * A zip entry's declared sizes, checked before inflating it: absolute cap, and a ratio cap for big entries (a zip
 * bomb is a few hundred KB of deflate claiming hundreds of MB). `budget` is what is left of the archive's total cap.
 */
export function checkInflateSize(
  file: string | null,
  entryName: string,
  compressedSize: number,
  declaredSize: number,
  budget: number = DEFAULT_LIMITS.maxInflateBytes,
  limits: Pick<Limits, 'maxInflateRatio' | 'inflateRatioFloorBytes'> = DEFAULT_LIMITS,
): void {
  if (declaredSize > budget) {
    throw new KerasLensError(
      file,
      `zip entry '${entryName}' would inflate to ${formatBytes(declaredSize)}, over the ${formatBytes(budget)} limit (zip bomb?); refused`,
    );
  }
  if (declaredSize > limits.inflateRatioFloorBytes && declaredSize > compressedSize * limits.maxInflateRatio) {
    const ratio = compressedSize > 0 ? Math.round(declaredSize / compressedSize) : Infinity;
    throw new KerasLensError(
      file,
      `zip entry '${entryName}' would inflate ${formatBytes(compressedSize)} to ${formatBytes(declaredSize)} ` +
        `(${ratio}:1, over the ${limits.maxInflateRatio}:1 limit for model data; zip bomb?); refused`,
    );
  }
}

/**
 * A stored array's claimed data must be (roughly) in the file that holds it. HDF5 lets a dataset claim any shape
 * while storing nothing (unwritten chunks read as the fill value), so a few KB can make a reader allocate GBs.
 * `fileBytes` is the size of the HDF5 file (or of the in-memory image from a .keras). Returns the element count.
 */
export function checkStoredSize(
  file: string | null,
  what: string,
  shape: readonly number[],
  itemBytes: number,
  fileBytes: number,
  limits: Pick<Limits, 'maxTensorElements' | 'maxStoredRatio' | 'storedRatioFloorBytes'> = DEFAULT_LIMITS,
): number {
  const n = checkTensorSize(file, what, shape, limits.maxTensorElements);
  const claimed = n * Math.max(1, itemBytes);
  if (claimed > limits.storedRatioFloorBytes && claimed > fileBytes * limits.maxStoredRatio) {
    throw new KerasLensError(
      file,
      `${what} claims ${formatBytes(claimed)} of data (shape (${shape.join(', ')})) but the file is only ${formatBytes(fileBytes)}; ` +
        `damaged or crafted file, refused before reading it`,
    );
  }
  return n;
}
