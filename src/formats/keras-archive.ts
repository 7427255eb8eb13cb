/**
 * Keras 3 `.keras` files: a zip with `config.json` (architecture), `metadata.json` (keras_version, date_saved) and
 * `model.weights.h5` (Keras 3 weights layout, see keras3-weights.ts).
 *
 * Zip bombs: the central directory's declared sizes are checked against the cap BEFORE anything is inflated; the
 * inflation then streams in small pieces and stops as soon as the output passes the declared size or the cap, so a
 * lying header cannot make us allocate more than one piece beyond the cap. The weights HDF5 is opened from memory
 * (hdf5-open.ts: jsfive, or h5wasm's in-memory file system); nothing is written to disk.
 *
 * Platform-neutral: the zip is read through a ByteSource (a file handle in Node, see open.ts; bytes in memory in the
 * browser, see bytes.ts), with DataView instead of Buffer.
 */
import type * as Fflate from 'fflate';
import type { ByteSource } from './detect';
import { KerasLensError } from '../model/types';
import type { ModelFile } from '../model/types';
import { openHdf5Memory } from './hdf5-open';
import { checkInflateSize } from './limits';
import { modelFileFromHdf5 } from './hdf5-model';
import { parseJsonText, isPlainObject, own } from './json-guard';

/**
 * fflate, required on first use rather than imported: it builds its Huffman tables when loaded (~5 ms of every CLI
 * start), and most opens read no zip.
 */
function fflate(): typeof Fflate {
  return require('fflate') as typeof Fflate;
}

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

/** Little-endian reads of a byte range (what Buffer's readUInt*LE gave, without Buffer). */
class LE {
  private readonly dv: DataView;
  constructor(readonly bytes: Uint8Array) {
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  get length(): number {
    return this.bytes.length;
  }
  u16(i: number): number {
    return this.dv.getUint16(i, true);
  }
  u32(i: number): number {
    return this.dv.getUint32(i, true);
  }
  u64(i: number): number {
    return Number(this.dv.getBigUint64(i, true));
  }
}

async function readAt(src: ByteSource, pos: number, len: number): Promise<LE> {
  return new LE(await src.read(pos, len));
}

/** The central directory of a zip file (zip64 aware). */
export async function readZipDirectory(fh: ByteSource, source: string): Promise<ZipEntry[]> {
  const fileSize = fh.size;
  const tailLen = Math.min(fileSize, 65536 + 22);
  const tail = await readAt(fh, fileSize - tailLen, tailLen);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.u32(i) === EOCD_SIG) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new KerasLensError(source, 'zip file without an end-of-central-directory record (truncated or damaged .keras)');
  let count = tail.u16(eocd + 10);
  let cdSize = tail.u32(eocd + 12);
  let cdOffset = tail.u32(eocd + 16);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const loc = eocd - 20;
    if (loc < 0 || tail.u32(loc) !== EOCD64_LOCATOR_SIG) throw new KerasLensError(source, 'damaged zip64 directory');
    const eocd64Pos = tail.u64(loc + 8);
    const e64 = await readAt(fh, eocd64Pos, 56);
    if (e64.length < 56 || e64.u32(0) !== EOCD64_SIG) throw new KerasLensError(source, 'damaged zip64 directory');
    count = e64.u64(32);
    cdSize = e64.u64(40);
    cdOffset = e64.u64(48);
  }
  if (cdOffset + cdSize > fileSize || count > 1_000_000) throw new KerasLensError(source, 'damaged zip directory');
  const cd = await readAt(fh, cdOffset, cdSize);
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let n = 0; n < count; n++) {
    if (p + 46 > cd.length || cd.u32(p) !== CDH_SIG) throw new KerasLensError(source, 'damaged zip directory entry');
    const method = cd.u16(p + 10);
    let compressedSize = cd.u32(p + 20);
    let size = cd.u32(p + 24);
    const nameLen = cd.u16(p + 28);
    const extraLen = cd.u16(p + 30);
    const commentLen = cd.u16(p + 32);
    let localHeaderOffset = cd.u32(p + 42);
    // Lengths come from the file: the name, extra field and comment must lie inside the directory.
    if (p + 46 + nameLen + extraLen + commentLen > cd.length) throw new KerasLensError(source, 'damaged zip directory entry');
    const name = new TextDecoder().decode(cd.bytes.subarray(p + 46, p + 46 + nameLen));
    // zip64 extended information: the fields that were 0xffffffff, in order size, compressed size, offset.
    let e = p + 46 + nameLen;
    const eEnd = e + extraLen;
    while (e + 4 <= eEnd) {
      const id = cd.u16(e);
      const len = cd.u16(e + 2);
      if (e + 4 + len > eEnd) break; // a field running past the extra area: ignore the rest
      if (id === 0x0001) {
        let q = e + 4;
        if (size === 0xffffffff && q + 8 <= e + 4 + len) (size = cd.u64(q)), (q += 8);
        if (compressedSize === 0xffffffff && q + 8 <= e + 4 + len) (compressedSize = cd.u64(q)), (q += 8);
        if (localHeaderOffset === 0xffffffff && q + 8 <= e + 4 + len) localHeaderOffset = cd.u64(q);
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
export async function readZipEntry(fh: ByteSource, entry: ZipEntry, budget: number, source: string): Promise<Uint8Array> {
  const fileSize = fh.size;
  if (entry.size > budget) {
    throw new KerasLensError(source, `zip entry '${entry.name}' would inflate to ${entry.size} bytes, over the ${budget}-byte limit (zip bomb?)`);
  }
  // Ratio cap too: hundreds of MB claimed by a few hundred KB of deflate is a bomb, refused before inflating.
  if (entry.method !== 0) checkInflateSize(source, entry.name, entry.compressedSize, entry.size, budget);
  const lfh = await readAt(fh, entry.localHeaderOffset, 30);
  if (lfh.length < 30 || lfh.u32(0) !== LFH_SIG) throw new KerasLensError(source, `damaged zip entry '${entry.name}'`);
  const dataStart = entry.localHeaderOffset + 30 + lfh.u16(26) + lfh.u16(28);
  if (dataStart + entry.compressedSize > fileSize) throw new KerasLensError(source, `zip entry '${entry.name}' runs past the end of the file`);
  if (entry.method === 0) {
    if (entry.compressedSize !== entry.size) throw new KerasLensError(source, `zip entry '${entry.name}' has inconsistent sizes`);
    return (await readAt(fh, dataStart, entry.size)).bytes;
  }
  if (entry.method !== 8) throw new KerasLensError(source, `zip entry '${entry.name}' uses compression method ${entry.method} (only stored and deflate are supported)`);

  const out = new Uint8Array(entry.size);
  let written = 0;
  let failure: KerasLensError | null = null;
  const inflater = new (fflate().Inflate)((chunk) => {
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
    const buf = (await readAt(fh, dataStart + pos, n)).bytes;
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

/** Open a `.keras` zip read through `fh` (the caller closes what it stands on). */
export async function openKerasArchive(fh: ByteSource, source: string, maxInflateBytes: number, externalConfig: unknown): Promise<ModelFile> {
  let weightsBytes: Uint8Array;
  let config: unknown;
  let kerasVersion: string | null = null;
  let weightsEntry: ZipEntry | undefined;
  {
    const entries = await readZipDirectory(fh, source);
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
      const b = await readZipEntry(fh, e, budget, source);
      budget -= b.length;
      return new TextDecoder().decode(b);
    };
    if (metadataEntry) {
      const meta = parseJsonText(await text(metadataEntry), source, 'metadata.json');
      if (isPlainObject(meta) && typeof own(meta, 'keras_version') === 'string') kerasVersion = own(meta, 'keras_version') as string;
    }
    if (configEntry) config = parseJsonText(await text(configEntry), source, 'config.json');
    weightsBytes = await readZipEntry(fh, weightsEntry, budget, source);
  }
  const h5 = await openHdf5Memory(weightsBytes, source);
  try {
    return modelFileFromHdf5(h5, source, externalConfig, { kerasVersion, config, entry: 'model.weights.h5' });
  } catch (e) {
    h5.close();
    throw e;
  }
}
