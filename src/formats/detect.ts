/**
 * What a model file's bytes say it is, and whether an HDF5 file is cut short, read through a `ByteSource` (random
 * access to bytes): the same checks for a file on disk (open.ts, Node) and for bytes held in memory (bytes.ts, the
 * browser). Platform-neutral: no Node built-ins, no Buffer.
 *
 *   HDF5 signature (at 0, 512, 1024, 2048, ... : HDF5 allows a user block) -> 'hdf5'
 *   zip local-header signature PK\x03\x04 (or an empty zip's PK\x05\x06)   -> 'zip'
 *   JSON ('{' or '[' after optional BOM/whitespace)                        -> 'json'
 */

/** Random access to a file's bytes: `read(position, length)` gives up to `length` bytes (fewer at the end). */
export interface ByteSource {
  size: number;
  read(position: number, length: number): Promise<Uint8Array>;
}

/** A ByteSource over bytes already in memory (a copy is never made). */
export function memorySource(bytes: Uint8Array): ByteSource {
  return { size: bytes.length, read: async (position, length) => bytes.subarray(position, Math.min(bytes.length, position + length)) };
}

export type ContentKind = 'hdf5' | 'zip' | 'json' | 'unknown';

const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

const isHdf5Signature = (b: Uint8Array) => b.length >= 8 && HDF5_SIGNATURE.every((x, j) => b[j] === x);

/** Where the HDF5 superblock signature sits (0, 512, 1024, ...), or -1. */
export async function hdf5SignatureOffset(src: ByteSource): Promise<number> {
  for (let off = 0; off + 8 <= src.size; off = off === 0 ? 512 : off * 2) {
    if (isHdf5Signature(await src.read(off, 8))) return off;
  }
  return -1;
}

/** What the file's bytes say it is. */
export async function detectContent(src: ByteSource): Promise<ContentKind> {
  const head = await src.read(0, 16);
  const n = head.length;
  if (isHdf5Signature(head)) return 'hdf5';
  if (n >= 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) return 'zip';
  // Empty zips start with the end-of-central-directory record.
  if (n >= 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x05 && head[3] === 0x06) return 'zip';
  let i = 0;
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) i = 3;
  while (i < n && (head[i] === 0x20 || head[i] === 0x0a || head[i] === 0x0d || head[i] === 0x09)) i++;
  if (i < n && (head[i] === 0x7b || head[i] === 0x5b)) return 'json';
  // HDF5 with a user block: the superblock sits at 512, 1024, 2048, ...
  return (await hdf5SignatureOffset(src)) > 0 ? 'hdf5' : 'unknown';
}

/**
 * A truncated HDF5 file, told from its superblock's end-of-file address before the HDF5 library sees it (the
 * library would print a page of diagnostics to stderr). Returns the problem, or null when the size is plausible.
 */
export async function truncatedHdf5Problem(src: ByteSource, sigOffset: number): Promise<string | null> {
  const size = src.size;
  const sb = await src.read(sigOffset, 64);
  if (sb.length < 24) return 'truncated HDF5 file (no complete superblock)';
  const dv = new DataView(sb.buffer, sb.byteOffset, sb.byteLength);
  const version = sb[8];
  let offsetSize: number;
  let baseAt: number;
  if (version === 0 || version === 1) {
    offsetSize = sb[13];
    baseAt = version === 0 ? 24 : 28;
  } else if (version === 2 || version === 3) {
    offsetSize = sb[9];
    baseAt = 12;
  } else return null;
  if (offsetSize !== 8 && offsetSize !== 4) return null;
  const eofAt = baseAt + 2 * offsetSize;
  if (sb.length < eofAt + offsetSize) return 'truncated HDF5 file (no complete superblock)';
  const read = (at: number) => (offsetSize === 8 ? Number(dv.getBigUint64(at, true)) : dv.getUint32(at, true));
  const undefinedAddr = offsetSize === 8 ? Number(0xffffffffffffffffn) : 0xffffffff;
  const base = read(baseAt);
  const eof = read(eofAt);
  if (eof === undefinedAddr) return null;
  const needed = (base === undefinedAddr ? sigOffset : base) + eof;
  if (size < needed) return `truncated HDF5 file (${size} bytes, the file says ${needed}); was the download or copy cut short?`;
  return null;
}
