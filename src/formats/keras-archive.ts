/**
 * Keras 3 `.keras` files: a zip with `config.json` (architecture), `metadata.json` (keras_version, date_saved) and
 * `model.weights.h5` (Keras 3 weights layout, see keras3-weights.ts).
 *
 * Zip bombs: the central directory's declared sizes are checked against the cap BEFORE anything is inflated; the
 * inflation then streams in small pieces and stops as soon as the output passes the declared size or the cap, so a
 * lying header cannot make us allocate more than one piece beyond the cap. The weights HDF5 is opened from memory
 * (h5wasm's in-memory file system); nothing is written to disk.
 */
import { open as fsOpen, type FileHandle } from 'node:fs/promises';
import { Inflate } from 'fflate';
import { KerasLensError } from '../model/types';
import type { ModelFile } from '../model/types';
import { Hdf5File } from './hdf5';
import { checkInflateSize } from './limits';
import { modelFileFromHdf5 } from './hdf5-model';
import { parseJsonText, isPlainObject, own } from './json-guard';

/** 2 GiB. */
export const DEFAULT_MAX_INFLATE_BYTES = 2 * 1024 * 1024 * 1024;

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

const EOCD_SIG = 0x06054b50;
const EOCD64_LOCATOR_SIG = 0x07064b50;
const EOCD64_SIG = 0x06064b50;
const CDH_SIG = 0x02014b50;
const LFH_SIG = 0x04034b50;

async function readAt(fh: FileHandle, pos: number, len: number): Promise<Buffer> {
  const b = Buffer.alloc(len);
  let got = 0;
  while (got < len) {
    const { bytesRead } = await fh.read(b, got, len - got, pos + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got === len ? b : b.subarray(0, got);
}

/** The central directory of a zip file (zip64 aware). */
export async function readZipDirectory(fh: FileHandle, fileSize: number, source: string): Promise<ZipEntry[]> {
  const tailLen = Math.min(fileSize, 65536 + 22);
  const tail = await readAt(fh, fileSize - tailLen, tailLen);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === EOCD_SIG) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new KerasLensError(source, 'zip file without an end-of-central-directory record (truncated or damaged .keras)');
  let count = tail.readUInt16LE(eocd + 10);
  let cdSize = tail.readUInt32LE(eocd + 12);
  let cdOffset = tail.readUInt32LE(eocd + 16);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const loc = eocd - 20;
    if (loc < 0 || tail.readUInt32LE(loc) !== EOCD64_LOCATOR_SIG) throw new KerasLensError(source, 'damaged zip64 directory');
    const eocd64Pos = Number(tail.readBigUInt64LE(loc + 8));
    const e64 = await readAt(fh, eocd64Pos, 56);
    if (e64.length < 56 || e64.readUInt32LE(0) !== EOCD64_SIG) throw new KerasLensError(source, 'damaged zip64 directory');
    count = Number(e64.readBigUInt64LE(32));
    cdSize = Number(e64.readBigUInt64LE(40));
    cdOffset = Number(e64.readBigUInt64LE(48));
  }
  if (cdOffset + cdSize > fileSize || count > 1_000_000) throw new KerasLensError(source, 'damaged zip directory');
  const cd = await readAt(fh, cdOffset, cdSize);
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let n = 0; n < count; n++) {
    if (p + 46 > cd.length || cd.readUInt32LE(p) !== CDH_SIG) throw new KerasLensError(source, 'damaged zip directory entry');
    const method = cd.readUInt16LE(p + 10);
    let compressedSize = cd.readUInt32LE(p + 20);
    let size = cd.readUInt32LE(p + 24);
    const nameLen = cd.readUInt16LE(p + 28);
    const extraLen = cd.readUInt16LE(p + 30);
    const commentLen = cd.readUInt16LE(p + 32);
    let localHeaderOffset = cd.readUInt32LE(p + 42);
    // Lengths come from the file: the name, extra field and comment must lie inside the directory.
    if (p + 46 + nameLen + extraLen + commentLen > cd.length) throw new KerasLensError(source, 'damaged zip directory entry');
    const name = cd.subarray(p + 46, p + 46 + nameLen).toString('utf8');
    // zip64 extended information: the fields that were 0xffffffff, in order size, compressed size, offset.
    let e = p + 46 + nameLen;
    const eEnd = e + extraLen;
    while (e + 4 <= eEnd) {
      const id = cd.readUInt16LE(e);
      const len = cd.readUInt16LE(e + 2);
      if (e + 4 + len > eEnd) break; // a field running past the extra area: ignore the rest
      if (id === 0x0001) {
        let q = e + 4;
        if (size === 0xffffffff && q + 8 <= e + 4 + len) (size = Number(cd.readBigUInt64LE(q))), (q += 8);
        if (compressedSize === 0xffffffff && q + 8 <= e + 4 + len) (compressedSize = Number(cd.readBigUInt64LE(q))), (q += 8);
        if (localHeaderOffset === 0xffffffff && q + 8 <= e + 4 + len) localHeaderOffset = Number(cd.readBigUInt64LE(q));
      }
      e += 4 + len;
    }
    entries.push({ name, method, compressedSize, size, localHeaderOffset });
    p = eEnd + commentLen;
  }
  return entries;
}

/**
 * Inflate (or copy) one entry, refusing to produce more than `budget` bytes or more than the entry declares.
 */
export async function readZipEntry(fh: FileHandle, fileSize: number, entry: ZipEntry, budget: number, source: string): Promise<Uint8Array> {
  if (entry.size > budget) {
    throw new KerasLensError(source, `zip entry '${entry.name}' would inflate to ${entry.size} bytes, over the ${budget}-byte limit (zip bomb?)`);
  }
  // Ratio cap too: hundreds of MB claimed by a few hundred KB of deflate is a bomb, refused before inflating.
  if (entry.method !== 0) checkInflateSize(source, entry.name, entry.compressedSize, entry.size, budget);
  const lfh = await readAt(fh, entry.localHeaderOffset, 30);
  if (lfh.length < 30 || lfh.readUInt32LE(0) !== LFH_SIG) throw new KerasLensError(source, `damaged zip entry '${entry.name}'`);
  const dataStart = entry.localHeaderOffset + 30 + lfh.readUInt16LE(26) + lfh.readUInt16LE(28);
  if (dataStart + entry.compressedSize > fileSize) throw new KerasLensError(source, `zip entry '${entry.name}' runs past the end of the file`);
  if (entry.method === 0) {
    if (entry.compressedSize !== entry.size) throw new KerasLensError(source, `zip entry '${entry.name}' has inconsistent sizes`);
    return new Uint8Array(await readAt(fh, dataStart, entry.size));
  }
  if (entry.method !== 8) throw new KerasLensError(source, `zip entry '${entry.name}' uses compression method ${entry.method} (only stored and deflate are supported)`);

  const out = new Uint8Array(entry.size);
  let written = 0;
  let failure: KerasLensError | null = null;
  const inflater = new Inflate((chunk) => {
    if (failure) return;
    if (written + chunk.length > entry.size) {
      failure = new KerasLensError(
        source,
        `zip entry '${entry.name}' inflates to more than its declared ${entry.size} bytes (damaged file or zip bomb); stopped`,
      );
      return;
    }
    out.set(chunk, written);
    written += chunk.length;
  });
  const READ = 1 << 20;
  const PIECE = 16 << 10; // ≤ ~17 MB of output per piece even for maximally compressed data
  let pos = 0;
  while (pos < entry.compressedSize && !failure) {
    const n = Math.min(READ, entry.compressedSize - pos);
    const buf = await readAt(fh, dataStart + pos, n);
    for (let i = 0; i < buf.length && !failure; i += PIECE) {
      const last = pos + i + PIECE >= entry.compressedSize;
      try {
        inflater.push(buf.subarray(i, Math.min(i + PIECE, buf.length)), last);
      } catch (e) {
        throw new KerasLensError(source, `zip entry '${entry.name}' is not valid deflate data (${e instanceof Error ? e.message : e})`);
      }
    }
    pos += n;
  }
  if (failure) throw failure;
  if (written !== entry.size) throw new KerasLensError(source, `zip entry '${entry.name}' inflated to ${written} bytes, not the declared ${entry.size}`);
  return out;
}

export async function openKerasArchive(
  abs: string,
  source: string,
  fileSize: number,
  maxInflateBytes: number,
  externalConfig: unknown,
): Promise<ModelFile> {
  const fh = await fsOpen(abs, 'r');
  let weightsBytes: Uint8Array;
  let config: unknown;
  let kerasVersion: string | null = null;
  let weightsEntry: ZipEntry | undefined;
  try {
    const entries = await readZipDirectory(fh, fileSize, source);
    const byName = new Map(entries.map((e) => [e.name, e]));
    const configEntry = byName.get('config.json');
    const metadataEntry = byName.get('metadata.json');
    weightsEntry = byName.get('model.weights.h5');
    if (!configEntry && !weightsEntry) {
      throw new KerasLensError(source, 'zip file without config.json or model.weights.h5 (not a Keras 3 .keras file)');
    }
    if (!weightsEntry) {
      const npz = byName.has('model.weights.npz');
      throw new KerasLensError(source, npz ? '.keras file stores its weights as .npz, which Keras Lens does not read' : '.keras file has no model.weights.h5');
    }
    const needed = [configEntry, metadataEntry, weightsEntry].filter((e): e is ZipEntry => !!e);
    const declared = needed.reduce((s, e) => s + e.size, 0);
    if (declared > maxInflateBytes) {
      throw new KerasLensError(source, `.keras contents would inflate to ${declared} bytes, over the ${maxInflateBytes}-byte limit (zip bomb?); refused`);
    }
    let budget = maxInflateBytes;
    const text = async (e: ZipEntry) => {
      const b = await readZipEntry(fh, fileSize, e, budget, source);
      budget -= b.length;
      return new TextDecoder().decode(b);
    };
    if (metadataEntry) {
      const meta = parseJsonText(await text(metadataEntry), source, 'metadata.json');
      if (isPlainObject(meta) && typeof own(meta, 'keras_version') === 'string') kerasVersion = own(meta, 'keras_version') as string;
    }
    if (configEntry) config = parseJsonText(await text(configEntry), source, 'config.json');
    weightsBytes = await readZipEntry(fh, fileSize, weightsEntry, budget, source);
  } finally {
    await fh.close();
  }
  const h5 = await Hdf5File.openMemory(weightsBytes, source);
  try {
    return modelFileFromHdf5(h5, source, externalConfig, { kerasVersion, config, entry: 'model.weights.h5' });
  } catch (e) {
    h5.close();
    throw e;
  }
}
