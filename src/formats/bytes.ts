/**
 * openModelBytes: a Keras model file given as bytes in memory -> ModelFile, with the same detection and guards as
 * openModelFile (open.ts) reading from disk. This is how the browser opens files (the web extension reads them
 * through vscode.workspace.fs and hands the bytes to its model worker; there is no random file access there), and how
 * the desktop opens files from file systems that are not the disk (remote, virtual).
 *
 * Platform-neutral: no Node built-ins, no Buffer. HDF5 bytes are read by jsfive, or by h5wasm's in-memory build
 * (its ESM build, which runs in a web worker; `FS.writeFile` into its MEMFS, never a disk) when jsfive cannot read
 * them exactly (hdf5-open.ts), `.keras` zips are read from the bytes, JSON
 * is decoded as UTF-8. A TF.js model.json whose weights sit in `.bin` shards beside it is refused in one line (only
 * its own bytes were given).
 */
import { KerasLensError } from '../model/types';
import type { ModelFile } from '../model/types';
import { detectContent, hdf5SignatureOffset, memorySource, truncatedHdf5Problem } from './detect';
import { openHdf5Memory } from './hdf5-open';
import { modelFileFromHdf5 } from './hdf5-model';
import { DEFAULT_MAX_INFLATE_BYTES, openKerasArchive } from './keras-archive';
import { openJsonModel } from './json-formats';
import { parseJsonText } from './json-guard';

/** A file as bytes, with the name messages use. */
export interface FileBytes {
  name: string;
  bytes: Uint8Array;
}

export interface OpenBytesOptions {
  /** A `model.to_json()` architecture (any Keras generation, or a TF.js model.json) for a weights-only file. */
  config?: FileBytes;
  /** Cap on the bytes inflated from a `.keras` zip (default 2 GiB). */
  maxInflateBytes?: number;
}

/** The text of an architecture file -> its parsed JSON (one-line errors naming the file). */
export function parseArchitectureText(text: string, configPath: string): unknown {
  if (text.trim() === '') throw new KerasLensError(configPath, 'the architecture file is empty');
  return parseJsonText(text, configPath, 'the architecture file');
}

export async function openModelBytes(file: FileBytes, opts: OpenBytesOptions = {}): Promise<ModelFile> {
  const source = file.name;
  const bytes = file.bytes;
  if (bytes.length === 0) throw new KerasLensError(source, 'the file is empty');
  const externalConfig = opts.config ? parseArchitectureText(new TextDecoder().decode(opts.config.bytes), opts.config.name) : undefined;
  const src = memorySource(bytes);
  switch (await detectContent(src)) {
    case 'hdf5': {
      const problem = await truncatedHdf5Problem(src, await hdf5SignatureOffset(src));
      if (problem) throw new KerasLensError(source, problem);
      const h5 = await openHdf5Memory(bytes, source, 'the file');
      try {
        return modelFileFromHdf5(h5, source, externalConfig, null);
      } catch (e) {
        h5.close();
        throw e;
      }
    }
    case 'zip':
      return openKerasArchive(src, source, opts.maxInflateBytes ?? DEFAULT_MAX_INFLATE_BYTES, externalConfig);
    case 'json':
      return openJsonModel(new TextDecoder().decode(bytes), source, externalConfig, opts.config?.name ?? null, null);
    default:
      throw new KerasLensError(source, 'not a Keras model file (neither HDF5, a .keras zip nor JSON)');
  }
}
