/**
 * The jsfive reader (pure JavaScript, usnistgov/jsfive) behind the Hdf5File interface of hdf5.ts, for ordinary Keras
 * files: no WebAssembly is loaded or instantiated for them (the HDF5 C library's start-up alone was ~30–45 ms of a
 * CLI run, for a 50 KB file).
 *
 * jsfive is used only where it reads exactly what the HDF5 C library reads, decided once, when the file is opened:
 *   - the format h5py writes by default: superblock 0, 8-byte addresses and lengths, base address 0, version-1
 *     object headers, symbol-table groups (no checksums in any of these, so the C library trusts the same bytes);
 *   - every object is walked at open (groups, datasets, attributes) and copied into plain JS maps; anything outside a
 *     short list of message types, shared messages, soft links, names that are not printable ASCII, a node reached
 *     twice (cycles), datatypes other than integers/IEEE floats/strings, null dataspaces, strings that are not
 *     ASCII... -> `openJsfive` returns null and the file goes to h5wasm, as before;
 *   - jsfive throws strings and TypeErrors on damaged data: any throw while walking also sends the file to h5wasm,
 *     which then gives today's message. Reads past the end-of-file address, which jsfive would silently cut short
 *     (`ArrayBuffer.slice`), throw here (StrictBuffer), and a work budget ends walks that would not end;
 *   - jsfive checks little of what it decodes, so the structures it reads are checked here first as the HDF5 library
 *     checks them when it loads them (superblock fields, object header message tiling, symbol table signatures,
 *     node levels, keys, name order and cache types, local heap free lists, datatype versions and sizes, dataspace
 *     maxima): a damaged file then goes to h5wasm and gets today's refusal. (A differential fuzz of 4700 mutated
 *     files, test/formats/hdf5-mutations.test.ts, finds 2 that open in both readers and on which h5wasm fails at a
 *     later access where jsfive answers from the bytes; none hangs or fails other than with a clean error.)
 * Dataset values are read here, not by jsfive: contiguous storage is a byte range (typed arrays, no per-element
 * decoding). Chunked or filtered storage, unallocated storage, or a range past the end of the file is read through
 * h5wasm, opened then on the same bytes (`fallback`).
 *
 * Platform-neutral (no Node built-ins).
 */
import * as jsfive from 'jsfive';
import { KerasLensError } from '../model/types';
import { checkStoredSize } from './limits';
import { halfToFloat, type H5Node, type Hdf5File } from './hdf5';

/** jsfive's internal DataObjects (one object header), as far as this file uses it. */
interface DataObjects {
  msgs: Map<string, number>[];
  iter_links(): Iterable<[string, number | string]>;
  unpack_attribute(offset: number): [string, unknown];
  _global_heaps: Record<number, { objects: Map<number, ArrayBuffer> }>;
}
type DataObjectsClass = new (fh: ArrayBuffer, offset: number) => DataObjects;

/** Something this reader does not take (the file or dataset goes to h5wasm); never shown to the user. */
class NotForJsfive extends Error {}

/** jsfive's UNDEFINED_ADDRESS (0xffff_ffff_ffff_ffff, read as a Number). */
const UNDEFINED_ADDRESS = 2 ** 64;

/**
 * Work allowed in one walk: ArrayBuffer slices (every structure jsfive decodes takes at least one: signatures,
 * names, heaps) and the bytes they copy. A B-tree whose nodes point many times at the same children, or a heap
 * walked again and again, runs into it instead of running for minutes. A Keras file with 10 000 weights takes
 * ~100 000 slices.
 */
const SLICE_BUDGET = 4_000_000;
const bytesBudget = (size: number) => 8 * size + 64 * 1024 * 1024;
let budget: { slices: number; bytes: number } | null = null;

/**
 * The file as jsfive sees it: an ArrayBuffer whose slice() refuses ranges outside it (ArrayBuffer.slice clamps, and
 * jsfive would decode a name, heap or string cut short at the end of a truncated file as if it were whole) and
 * counts the work budget. Slices of it are StrictBuffers too (ArrayBuffer.prototype.slice uses the species).
 */
class StrictBuffer extends ArrayBuffer {
  override slice(begin?: number, end?: number): ArrayBuffer {
    const len = this.byteLength;
    let from = begin ?? 0;
    let to = end ?? len;
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to)) throw new NotForJsfive('offset is not an integer');
    if (from < 0) from += len;
    if (to < 0) to += len;
    if (from < 0 || to > len || from > to) throw new NotForJsfive(`range ${from}..${to} outside ${len} bytes`);
    if (budget && (--budget.slices < 0 || (budget.bytes -= to - from) < 0)) throw new NotForJsfive('work budget exhausted');
    return super.slice(from, to);
  }
}

/** Run jsfive with its console warnings muted ("Attribute x type not implemented, set to null.") and a budget. */
function withJsfive<T>(size: number, f: () => T): T {
  const { warn, log } = console;
  const quiet = () => {};
  console.warn = quiet;
  console.log = quiet;
  budget = { slices: SLICE_BUDGET, bytes: bytesBudget(size) };
  try {
    return f();
  } finally {
    budget = null;
    console.warn = warn;
    console.log = log;
  }
}

/**
 * Object header message types a Keras file's groups and datasets hold (HDF5 spec IV.A.2): NIL, dataspace, datatype,
 * fill value (old and new), data layout, filter pipeline, attribute, comment, modification times, continuation,
 * symbol table, B-tree 'K' values, reference count. Any other (link info/links of new-style groups, external data
 * files, attribute info of dense attribute storage, shared message tables, ...) is read by h5wasm.
 */
const KNOWN_MESSAGES = new Set([0x00, 0x01, 0x03, 0x04, 0x05, 0x08, 0x0b, 0x0c, 0x0d, 0x0e, 0x10, 0x11, 0x12, 0x13, 0x16]);
const MSG_DATASPACE = 0x01;
const MSG_DATATYPE = 0x03;
const MSG_LAYOUT = 0x08;
const MSG_FILTERS = 0x0b;
const MSG_ATTRIBUTE = 0x0c;
const MSG_SYMBOL_TABLE = 0x11;

const MAX_DEPTH = 64;
const MAX_NODES = 1_000_000;

/** A printable-ASCII HDF5 name (what Keras writes): no '/', not '.' */
const PLAIN_NAME = /^[\x20-\x2e\x30-\x7e]+$/;
const ASCII = /^[\x00-\x7f]*$/;

/** An attribute as read at open. */
type Attr =
  | { kind: 'strings'; values: string[]; scalar: boolean }
  | { kind: 'numbers'; values: number[]; scalar: boolean; byteSized: boolean };

interface DatasetInfo {
  shape: number[];
  dtype: string;
  /** HDF5 datatype class: 0 integer, 1 float */
  cls: 0 | 1;
  size: number;
  signed: boolean;
  bigEndian: boolean;
  /** contiguous storage: its first byte, or null when h5wasm reads this dataset (chunked, filtered, unallocated) */
  address: number | null;
  /** the stored byte count (layout version 3), or null */
  storedBytes: number | null;
}

interface Node {
  path: string;
  attrs: Map<string, Attr>;
  /** groups: children by name, in HDF5 name order */
  children: Map<string, Node> | null;
  dataset: DatasetInfo | null;
}

/** A node as a caller reached it: the path is the one it was asked by (as h5wasm names a node by the path used). */
interface Handle {
  node: Node;
  path: string;
}

/** Little-endian reads of the file's bytes; past the end -> NotForJsfive. */
class Bytes {
  readonly view: DataView;
  constructor(readonly u8: Uint8Array) {
    this.view = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
  }
  private at(offset: number, n: number): number {
    if (!Number.isSafeInteger(offset) || offset < 0 || offset + n > this.u8.length) throw new NotForJsfive(`read at ${offset} outside the file`);
    return offset;
  }
  u8at(o: number): number {
    return this.view.getUint8(this.at(o, 1));
  }
  u16(o: number): number {
    return this.view.getUint16(this.at(o, 2), true);
  }
  u32(o: number): number {
    return this.view.getUint32(this.at(o, 4), true);
  }
  /** A 64-bit length or address: UNDEFINED_ADDRESS for all ones, NotForJsfive when it does not fit a safe integer. */
  u64(o: number): number {
    const v = this.view.getBigUint64(this.at(o, 8), true);
    if (v === 0xffff_ffff_ffff_ffffn) return UNDEFINED_ADDRESS;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new NotForJsfive('64-bit value too large');
    return Number(v);
  }
  ascii(o: number, n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += String.fromCharCode(this.u8at(o + i));
    return s;
  }
}

/** Does `bytes` contain `needle` anywhere? */
function containsBytes(bytes: Uint8Array, needle: Uint8Array): boolean {
  for (let i = bytes.indexOf(needle[0]); i >= 0 && i + needle.length <= bytes.length; i = bytes.indexOf(needle[0], i + 1)) {
    let j = 1;
    while (j < needle.length && bytes[i + j] === needle[j]) j++;
    if (j === needle.length) return true;
  }
  return false;
}
const PROTO = new TextEncoder().encode('__proto__');

/**
 * The superblock checks: HDF5 signature at byte 0 (no user block), superblock version 0, 8-byte offsets and lengths,
 * base address 0, end-of-file address within the bytes. A file naming anything `__proto__` (jsfive keeps names in
 * plain objects, where that name is lost) goes to h5wasm as well.
 */
function plainSuperblock(b: Bytes): number | null {
  const sig = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
  if (b.u8.length < 96 || sig.some((x, i) => b.u8[i] !== x)) return null;
  // versions (superblock, free space, root symbol table entry, shared header) 0; 8-byte offsets and lengths;
  // group B-tree K values above 0; no status flags (a file left open for writing goes to h5wasm), as the HDF5
  // library checks them
  if (b.u8[8] !== 0 || b.u8[9] !== 0 || b.u8[10] !== 0 || b.u8[12] !== 0 || b.u8[13] !== 8 || b.u8[14] !== 8) return null;
  if (b.u16(16) === 0 || b.u16(18) === 0 || b.u32(20) !== 0) return null;
  // the root group's symbol table entry (II.A, III.C): cache type 0 or 1 (HDF5 refuses others)
  if (b.u32(72) > 1) return null;
  // base address 0; the free-space slot (the superblock extension's in later versions) and the driver information
  // block undefined; the end-of-file address within the bytes
  const eof = b.u64(40);
  if (b.u64(24) !== 0 || b.u64(32) !== UNDEFINED_ADDRESS || b.u64(48) !== UNDEFINED_ADDRESS || eof > b.u8.length || eof < 96) return null;
  return containsBytes(b.u8, PROTO) ? null : eof;
}

/** Dataspace message (IV.A.2.b) at `o`: the dimensions, and whether it is scalar. Null dataspaces -> NotForJsfive. */
function dataspace(b: Bytes, o: number): { shape: number[]; scalar: boolean } {
  const version = b.u8at(o);
  const ndims = b.u8at(o + 1);
  if (ndims > 32) throw new NotForJsfive('dataspace rank');
  let dims: number;
  let scalar: boolean;
  if (version === 1) {
    dims = o + 8;
    scalar = ndims === 0;
  } else if (version === 2) {
    const type = b.u8at(o + 3);
    if (type !== 0 && type !== 1) throw new NotForJsfive('null dataspace');
    if ((type === 0) !== (ndims === 0)) throw new NotForJsfive('dataspace type');
    dims = o + 4;
    scalar = type === 0;
  } else {
    throw new NotForJsfive('dataspace version');
  }
  const shape: number[] = [];
  for (let i = 0; i < ndims; i++) {
    const d = b.u64(dims + 8 * i);
    if (d === UNDEFINED_ADDRESS) throw new NotForJsfive('dimension');
    shape.push(d);
  }
  // flags bit 0: maximum sizes follow; HDF5 refuses a dimension over its maximum (all ones = unlimited)
  if (b.u8at(o + 2) & 1) {
    for (let i = 0; i < ndims; i++) {
      const max = b.u64(dims + 8 * (ndims + i));
      if (max !== UNDEFINED_ADDRESS && shape[i] > max) throw new NotForJsfive('dimension over its maximum');
    }
  }
  return { shape, scalar };
}

/** IEEE 754 layouts (HDF5 float properties: sign bit, exponent location/size, mantissa location/size, bias). */
const IEEE: Record<number, [number, number, number, number, number, number]> = {
  2: [15, 10, 5, 0, 10, 15],
  4: [31, 23, 8, 0, 23, 127],
  8: [63, 52, 11, 0, 52, 1023],
};

/** Datatype message (IV.A.2.d) at `o`, checked to be one this reader reads exactly. */
function datatype(b: Bytes, o: number): { cls: number; size: number; signed: boolean; bigEndian: boolean; vlenString: boolean } {
  const cls = b.u8at(o) & 0x0f;
  const version = b.u8at(o) >> 4;
  if (version < 1 || version > 3) throw new NotForJsfive('datatype version');
  const bf0 = b.u8at(o + 1);
  const size = b.u32(o + 4);
  const bigEndian = (bf0 & 1) === 1;
  if (cls === 0) {
    // fixed point: whole bytes, every bit used
    if (![1, 2, 4, 8].includes(size) || b.u16(o + 8) !== 0 || b.u16(o + 10) !== size * 8) throw new NotForJsfive('integer layout');
    return { cls, size, signed: (bf0 & 0x08) !== 0, bigEndian, vlenString: false };
  }
  if (cls === 1) {
    const ieee = IEEE[size];
    const layout = [b.u8at(o + 2), b.u8at(o + 12), b.u8at(o + 13), b.u8at(o + 14), b.u8at(o + 15), b.u32(o + 16)];
    // bit 6 with bit 0 is VAX order; bits 4-5 = 2: the mantissa's leading 1 is implied (IEEE)
    if (!ieee || (bf0 & 0x40) !== 0 || ((bf0 >> 4) & 3) !== 2 || b.u16(o + 8) !== 0 || b.u16(o + 10) !== size * 8) throw new NotForJsfive('float layout');
    if (ieee.some((v, i) => layout[i] !== v)) throw new NotForJsfive('float layout');
    return { cls, size, signed: true, bigEndian, vlenString: false };
  }
  if (cls === 3) {
    if (size < 1) throw new NotForJsfive('string size');
    return { cls, size, signed: false, bigEndian: false, vlenString: false };
  }
  if (cls === 9 && (bf0 & 0x0f) === 1) {
    // stored as 16 bytes (length u32, global heap collection address u64, object index u32), which jsfive assumes;
    // the base type (which HDF5 decodes and jsfive skips): 1-byte characters
    const base = b.u8at(o + 8);
    if (size !== 16) throw new NotForJsfive('vlen string size');
    if ((base & 0x0f) !== 0 || base >> 4 < 1 || base >> 4 > 3 || b.u32(o + 12) !== 1 || b.u16(o + 16) !== 0 || b.u16(o + 18) !== 8) {
      throw new NotForJsfive('vlen string base type');
    }
    return { cls, size: 16, signed: false, bigEndian: false, vlenString: true };
  }
  throw new NotForJsfive(`datatype class ${cls}`);
}

/** NUL-terminated (HDF5 reads strings as C strings), ASCII only (where jsfive's and h5wasm's decoders agree). */
function cString(s: string): string {
  const z = s.indexOf('\0');
  const t = z < 0 ? s : s.slice(0, z);
  if (!ASCII.test(t)) throw new NotForJsfive('non-ASCII string');
  return t;
}

/**
 * A version-1 object header (IV.A.1.a) checked as the HDF5 library checks it when it loads one, and its messages'
 * data offsets: messages (8-byte header: type u16, size u16, flags u8, 3 reserved) tile each block exactly, sizes
 * are multiples of 8, no message runs past its block, continuation blocks lie inside the file, and the count is the
 * one the header states. Flags other than 'constant' and 'do not share' (shared, unknown-type handling, ...) go
 * to h5wasm.
 */
function v1Messages(b: Bytes, address: number): number[] {
  if (b.u8at(address) !== 1) throw new NotForJsfive('object header version');
  const count = b.u16(address + 2);
  const blocks: [number, number][] = [[address + 16, b.u32(address + 8)]];
  const offsets: number[] = [];
  for (let i = 0; i < blocks.length; i++) {
    if (i > 64) throw new NotForJsfive('too many continuation blocks');
    const [start, size] = blocks[i];
    const end = start + size;
    if (end > b.u8.length) throw new NotForJsfive('object header block outside the file');
    for (let pos = start; pos < end; ) {
      if (pos + 8 > end) throw new NotForJsfive('message header past its block');
      const type = b.u16(pos);
      const msize = b.u16(pos + 2);
      if (msize % 8 !== 0) throw new NotForJsfive(`message size ${msize} not a multiple of 8`);
      if (pos + 8 + msize > end) throw new NotForJsfive('message past its block');
      if ((b.u8at(pos + 4) & ~0x05) !== 0) throw new NotForJsfive(`message ${type} flags ${b.u8at(pos + 4)}`);
      if (type === 0x10) {
        if (msize < 16) throw new NotForJsfive('continuation message');
        blocks.push([b.u64(pos + 8), b.u64(pos + 16)]);
      }
      offsets.push(pos + 8);
      pos += 8 + msize;
    }
  }
  if (offsets.length !== count) throw new NotForJsfive('message count');
  return offsets;
}

/** The version bytes of the small messages HDF5 decodes when it describes an object (H5Oget_info, H5Gget_objinfo). */
function checkSmallMessage(b: Bytes, type: number, o: number, size: number): void {
  const v = size > 0 ? b.u8at(o) : -1;
  const ok =
    type === 0x12 ? v === 1 && size >= 8 // modification time
      : type === 0x13 || type === 0x16 ? v === 0 // B-tree 'K' values, reference count
        : type === 0x05 ? v >= 1 && v <= 3 // fill value
          : type === 0x11 ? size >= 16 // symbol table
            : type === 0x03 ? (v >> 4) >= 1 && (v >> 4) <= 3 // datatype
              : type === 0x0b ? v === 1 || v === 2 // filter pipeline
                : true;
  if (!ok) throw new NotForJsfive(`message ${type} version`);
}

class Walker {
  private seen = new Set<number>();
  private nodes = 0;
  constructor(
    private readonly b: Bytes,
    private readonly fh: ArrayBuffer,
    private readonly DO: DataObjectsClass | null,
  ) {}

  /** The object header at `address`, parsed and checked. */
  object(address: number, path: string, depth: number): Node {
    if (depth > MAX_DEPTH || ++this.nodes > MAX_NODES) throw new NotForJsfive('too deep or too many objects');
    // an object reached twice (a hard link cycle, or one object under two names) is left to h5wasm
    if (this.seen.has(address)) throw new NotForJsfive('object reached twice');
    this.seen.add(address);
    const layout = v1Messages(this.b, address);
    if (!this.DO) throw new Error('a Walker made for checkRoot cannot walk');
    const d = new this.DO(this.fh, address);
    if (d.msgs.length !== layout.length || d.msgs.some((m, i) => m.get('offset_to_message') !== layout[i])) throw new NotForJsfive('object header');
    const types = new Set<number>();
    for (const m of d.msgs) {
      const type = m.get('type')!;
      if (!KNOWN_MESSAGES.has(type)) throw new NotForJsfive(`message ${type}`);
      checkSmallMessage(this.b, type, m.get('offset_to_message')!, m.get('size')!);
      types.add(type);
    }
    const attrs = this.attributes(d);
    const isDataset = types.has(MSG_DATASPACE) || types.has(MSG_LAYOUT) || types.has(MSG_DATATYPE);
    if (isDataset) {
      if (types.has(MSG_SYMBOL_TABLE) || !types.has(MSG_DATASPACE) || !types.has(MSG_LAYOUT) || !types.has(MSG_DATATYPE)) {
        throw new NotForJsfive('neither group nor dataset');
      }
      return { path, attrs, children: null, dataset: this.dataset(d, types.has(MSG_FILTERS)) };
    }
    if (!types.has(MSG_SYMBOL_TABLE)) throw new NotForJsfive('group without symbol table');
    let entries = 0;
    for (const m of d.msgs) {
      if (m.get('type') !== MSG_SYMBOL_TABLE) continue;
      const o = m.get('offset_to_message')!;
      entries += this.symbolTable(this.b.u64(o), this.b.u64(o + 8));
    }
    const links: [string, number | string][] = [...d.iter_links()];
    if (links.length !== entries) throw new NotForJsfive('symbol table entries');
    const names = links.map(([name]) => name);
    if (new Set(names).size !== names.length) throw new NotForJsfive('duplicate names');
    const children = new Map<string, Node>();
    // HDF5 lists a symbol-table group's links in name order (strcmp; the names are ASCII here)
    for (const [name, target] of links.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (!PLAIN_NAME.test(name) || name === '.') throw new NotForJsfive('link name');
      if (typeof target !== 'number') throw new NotForJsfive('soft link');
      children.set(name, this.object(target, path === '/' ? `/${name}` : `${path}/${name}`, depth + 1));
    }
    return { path, attrs, children, dataset: null };
  }

  /**
   * The root group's symbol table checked before jsfive reads it (jsfive lists the root's links as it opens the
   * file, before the walk): a B-tree whose nodes point many times at the same children is refused here, not walked.
   */
  checkRoot(address: number): void {
    for (const o of v1Messages(this.b, address)) {
      if (this.b.u16(o - 8) === MSG_SYMBOL_TABLE) this.symbolTable(this.b.u64(o), this.b.u64(o + 8));
    }
  }

  /**
   * A group's symbol table (III.A.1 v1 B-tree of type 0 -> III.C symbol table nodes "SNOD", names in the III.D local
   * heap "HEAP") checked as HDF5 checks it when it lists the group: signatures, node types and levels, the heap's
   * free list, keys that bound the names HDF5 looks up by them, names in order, and entry cache types 0/1 (2, a soft
   * link, goes to h5wasm). jsfive reads the same structures without these checks. Returns the number of entries.
   */
  private symbolTable(btree: number, heap: number): number {
    const b = this.b;
    if (b.ascii(heap, 4) !== 'HEAP' || b.u8at(heap + 4) !== 0) throw new NotForJsfive('local heap');
    const dataSize = b.u64(heap + 8);
    const dataAt = b.u64(heap + 24);
    if (dataAt + dataSize > b.u8.length) throw new NotForJsfive('local heap outside the file');
    // H5HL free list: offsets inside the data segment, each block 16 bytes or more and inside it (H5HL_FREE_NULL = 1)
    let free = b.u64(heap + 16);
    for (let n = 0; free !== 1; n++) {
      if (n > 100_000 || free >= dataSize || free + 16 > dataSize) throw new NotForJsfive('local heap free list');
      const next = b.u64(dataAt + free);
      const size = b.u64(dataAt + free + 8);
      if (next === 0 || free + size > dataSize) throw new NotForJsfive('local heap free list');
      free = next;
    }
    // a name in the heap, as strcmp compares it (bytes; latin1 keeps their order)
    const name = (offset: number): string => {
      if (offset >= dataSize) throw new NotForJsfive('link name offset');
      const start = dataAt + offset;
      const end = b.u8.indexOf(0, start);
      if (end < 0 || end >= dataAt + dataSize) throw new NotForJsfive('link name');
      let out = '';
      for (let i = start; i < end; i++) out += String.fromCharCode(b.u8[i]);
      return out;
    };
    let entries = 0;
    // HDF5 finds a name by its keys (child i holds the names after key i, up to key i + 1): keys that do not bound
    // their children would make HDF5 miss names that jsfive lists
    const walk = (node: number, level: number | null, depth: number): void => {
      if (depth > 32 || this.seen.has(-1 - node)) throw new NotForJsfive('group B-tree');
      this.seen.add(-1 - node);
      if (b.ascii(node, 4) !== 'TREE' || b.u8at(node + 4) !== 0) throw new NotForJsfive('group B-tree node');
      const nodeLevel = b.u8at(node + 5);
      if (level !== null && nodeLevel !== level) throw new NotForJsfive('group B-tree level');
      const used = b.u16(node + 6);
      const keys = Array.from({ length: used + 1 }, (_, i) => name(b.u64(node + 24 + 16 * i)));
      if (keys.some((k, i) => i > 0 && k <= keys[i - 1])) throw new NotForJsfive('group B-tree keys');
      for (let i = 0; i < used; i++) {
        const child = b.u64(node + 24 + 16 * i + 8);
        if (nodeLevel > 0) {
          walk(child, nodeLevel - 1, depth + 1);
          continue;
        }
        if (b.ascii(child, 4) !== 'SNOD' || b.u8at(child + 4) !== 1) throw new NotForJsfive('symbol table node');
        const symbols = b.u16(child + 6);
        let previous: string | null = null;
        for (let k = 0; k < symbols; k++) {
          const e = child + 8 + 40 * k;
          const n = name(b.u64(e));
          // sorted, after the left key (the first key of a tree is the empty name), at most the right key
          if ((previous !== null && n <= previous) || n <= keys[i] || n > keys[i + 1]) {
            throw new NotForJsfive('symbol table order');
          }
          previous = n;
          const cache = b.u32(e + 16);
          if (cache !== 0 && cache !== 1) throw new NotForJsfive(`symbol table entry cache type ${cache}`);
        }
        entries += symbols;
      }
    };
    walk(btree, null, 0);
    return entries;
  }

  private attributes(d: DataObjects): Map<string, Attr> {
    const b = this.b;
    const out = new Map<string, Attr>();
    for (const m of d.msgs) {
      if (m.get('type') !== MSG_ATTRIBUTE) continue;
      const o = m.get('offset_to_message')!;
      const end = o + m.get('size')!;
      const version = b.u8at(o);
      const nameSize = b.u16(o + 2);
      const dtSize = b.u16(o + 4);
      const dsSize = b.u16(o + 6);
      let nameAt: number, dtAt: number, dsAt: number, dataAt: number;
      if (version === 1) {
        const pad = (n: number) => Math.ceil(n / 8) * 8;
        nameAt = o + 8;
        dtAt = nameAt + pad(nameSize);
        dsAt = dtAt + pad(dtSize);
        dataAt = dsAt + pad(dsSize);
      } else if (version === 3) {
        // flags bits 0-1: datatype / dataspace shared (stored elsewhere), which jsfive does not follow
        if ((b.u8at(o + 1) & 0x03) !== 0) throw new NotForJsfive('shared attribute type');
        nameAt = o + 9;
        dtAt = nameAt + nameSize;
        dsAt = dtAt + dtSize;
        dataAt = dsAt + dsSize;
      } else {
        throw new NotForJsfive(`attribute message version ${version}`);
      }
      const name = cString(b.ascii(nameAt, nameSize));
      if (name === '' || name.length !== nameSize - 1) throw new NotForJsfive('attribute name');
      const type = datatype(b, dtAt);
      const space = dataspace(b, dsAt);
      const count = space.shape.reduce((a, x) => a * x, 1);
      if (dataAt + count * type.size > end) throw new NotForJsfive('attribute value outside its message');
      const [jsName, value] = d.unpack_attribute(o);
      if (jsName !== name || value === null || value === undefined || out.has(name)) throw new NotForJsfive('attribute');
      const list = (space.scalar ? [value] : value) as unknown[];
      if (!Array.isArray(list) || list.length !== count) throw new NotForJsfive('attribute value');
      if (type.cls === 3 || type.cls === 9) {
        if (type.cls === 9) this.checkVlen(d, dataAt, count);
        if (!list.every((s) => typeof s === 'string')) throw new NotForJsfive('attribute strings');
        out.set(name, { kind: 'strings', values: (list as string[]).map(cString), scalar: space.scalar });
      } else {
        if (!list.every((x) => typeof x === 'number')) throw new NotForJsfive('attribute numbers');
        out.set(name, { kind: 'numbers', values: list as number[], scalar: space.scalar, byteSized: type.size === 1 });
      }
    }
    return new Map([...out].sort(([a], [c]) => (a < c ? -1 : a > c ? 1 : 0)));
  }

  /**
   * Each variable-length string names a global heap collection and an object in it; jsfive decodes a missing object
   * as '' and ignores the stored length. Both must be what HDF5 reads: a "GCOL" collection holding the object, of the
   * length the string says.
   */
  private checkVlen(d: DataObjects, at: number, count: number): void {
    for (let i = 0; i < count; i++) {
      const length = this.b.u32(at + 16 * i);
      const collection = this.b.u64(at + 16 * i + 4);
      const index = this.b.u32(at + 16 * i + 12);
      const heap = d._global_heaps[collection];
      const object = heap?.objects.get(index);
      if (this.b.ascii(collection, 4) !== 'GCOL' || !object || object.byteLength !== length) throw new NotForJsfive('vlen string');
    }
  }

  private dataset(d: DataObjects, filtered: boolean): DatasetInfo {
    const b = this.b;
    const msg = (type: number) => {
      const found = d.msgs.filter((m) => m.get('type') === type);
      if (found.length !== 1) throw new NotForJsfive(`message ${type} count`);
      return found[0].get('offset_to_message')!;
    };
    const { shape } = dataspace(b, msg(MSG_DATASPACE));
    const t = datatype(b, msg(MSG_DATATYPE));
    if (t.cls !== 0 && t.cls !== 1) throw new NotForJsfive('not numbers');
    const order = t.size === 1 ? '|' : t.bigEndian ? '>' : '<';
    const dtype = `${order}${t.cls === 1 ? 'f' : t.signed ? 'i' : 'u'}${t.size}`;
    // Data layout message (IV.A.2.i): contiguous storage is read here; anything else through h5wasm.
    const lo = msg(MSG_LAYOUT);
    const version = b.u8at(lo);
    let address: number | null = null;
    let storedBytes: number | null = null;
    if (version === 1 || version === 2) {
      if (b.u8at(lo + 2) === 1) address = b.u64(lo + 8);
    } else if (version === 3) {
      if (b.u8at(lo + 1) === 1) {
        address = b.u64(lo + 2);
        storedBytes = b.u64(lo + 10);
      }
    } else {
      throw new NotForJsfive('layout version');
    }
    if (filtered || address === UNDEFINED_ADDRESS) address = null;
    return { shape, dtype, cls: t.cls, size: t.size, signed: t.signed, bigEndian: t.bigEndian, address, storedBytes };
  }
}

/** What h5wasm's error for an empty HDF5 path says (foreign-errors.ts describeForeignError of HDF5's message). */
const EMPTY_NAME = 'HDF5 error: name parameter cannot be an empty string: Bad value';

/** A file read through jsfive; datasets it cannot read are read through `fallback` (h5wasm on the same bytes). */
export class JsfiveFile implements Hdf5File {
  readonly backend = 'jsfive' as const;
  private isClosed = false;
  private other: Promise<Hdf5File> | null = null;
  readonly root: H5Node;

  constructor(
    /** the file up to its end-of-file address */
    private readonly bytes: Uint8Array,
    /** the whole file's size (the bound for datasets' claimed sizes, as for h5wasm) */
    readonly byteSize: number,
    private readonly tree: Node,
    readonly source: string,
    private readonly fallback: () => Promise<Hdf5File>,
  ) {
    this.root = this.handle({ node: tree, path: '/' });
  }

  get closed(): boolean {
    return this.isClosed;
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    const other = this.other;
    this.other = null;
    void other?.then(
      (f) => f.close(),
      () => {},
    );
  }

  private handle(h: Handle): H5Node {
    return h as unknown as H5Node;
  }

  private of(n: H5Node): Handle {
    return n as unknown as Handle;
  }

  /**
   * `name` resolved as h5wasm's Group.get resolves it: absolute from the root, else below `from`; empty components
   * are dropped, a '.' component finds nothing. The handle keeps the path as h5wasm spells it (its
   * normalizePath: repeated and trailing '/' dropped).
   */
  private resolve(from: Handle, name: string): H5Node | null {
    const full = name.startsWith('/') ? name : `${from.path}/${name}`;
    // h5wasm asks HDF5 about the root's '' as '', which HDF5 refuses (and the caller reports as damaged structure)
    if (full !== '/' && full.replace(/\/(\/)+/g, '/').replace(/(\/)+$/, '') === '') throw new Error(EMPTY_NAME);
    let node: Node | undefined = name.startsWith('/') ? this.tree : from.node;
    for (const part of name.split('/')) {
      if (part === '') continue;
      // H5LTpath_valid (h5wasm's get_type) checks each component as a link, and no link is named '.'
      if (part === '.') return null;
      node = node?.children?.get(part);
      if (!node) return null;
    }
    if (!node) return null;
    const path = full === '/' ? '/' : full.replace(/\/(\/)+/g, '/').replace(/(\/)+$/, '') || '/';
    return this.handle({ node, path });
  }

  get(path: string): H5Node | null {
    return this.resolve(this.of(this.root), path.startsWith('/') ? path : `/${path}`);
  }

  child(g: H5Node, name: string): H5Node | null {
    return this.resolve(this.of(g), name);
  }

  isGroup(n: H5Node | null): boolean {
    return !!n && this.of(n).node.children !== null;
  }

  isDataset(n: H5Node | null): boolean {
    return !!n && this.of(n).node.dataset !== null;
  }

  path(n: H5Node): string {
    return this.of(n).path;
  }

  keys(g: H5Node): string[] {
    return [...(this.of(g).node.children?.keys() ?? [])];
  }

  attrNames(n: H5Node): string[] {
    return [...this.of(n).node.attrs.keys()];
  }

  // The attribute methods say what H5wasmFile's say for the values h5wasm returns (strings: string or string[];
  // numbers: typed arrays, a scalar as a number).
  stringAttr(n: H5Node, name: string): string | null {
    const a = this.of(n).node.attrs.get(name);
    if (!a) return null;
    if (a.kind === 'strings') return a.values.length === 1 ? a.values[0] : null;
    // h5wasm hands 1-byte integer arrays over as Uint8Array/Int8Array, which are decoded as text
    if (a.byteSized && !a.scalar) return new TextDecoder().decode(Uint8Array.from(a.values, (x) => x & 0xff));
    return null;
  }

  hasAttr(n: H5Node, name: string): boolean {
    return this.of(n).node.attrs.has(name);
  }

  namesAttr(n: H5Node, name: string): string[] {
    const h = this.of(n);
    const a = h.node.attrs.get(name)!;
    if (a.kind === 'strings') return [...a.values];
    // as h5wasm: an empty list comes back as a zero-length numeric array
    if (!a.scalar && a.values.length === 0) return [];
    throw new KerasLensError(this.source, `attribute '${name}' of ${h.path} is not a list of names`);
  }

  numberAttr(n: H5Node, name: string): number | null {
    const a = this.of(n).node.attrs.get(name);
    if (!a) return null;
    if (a.kind !== 'numbers' || a.values.length === 0) return NaN;
    return a.values[0];
  }

  dtype(ds: H5Node): string {
    return this.info(ds).dtype;
  }

  shape(ds: H5Node): number[] {
    return [...this.info(ds).shape];
  }

  private info(ds: H5Node): DatasetInfo {
    const info = this.of(ds).node.dataset;
    if (!info) throw new Error(`${this.source}: ${this.of(ds).path} is not a dataset`);
    return info;
  }

  async readFloat32(dsNode: H5Node): Promise<Float32Array> {
    const h = this.of(dsNode);
    const where = `${this.source}: dataset ${h.path}`;
    if (this.closed) throw new Error(`${where} cannot be read: the model file was closed`);
    const info = this.info(dsNode);
    // HDF5 lets a dataset claim any shape while storing nothing; refuse before allocating for it.
    const n = checkStoredSize(this.source, `weight ${h.path}`, info.shape, info.size, this.byteSize);
    const nbytes = n * info.size;
    const a = info.address;
    if (a === null || a + nbytes > this.bytes.length || (info.storedBytes !== null && info.storedBytes < nbytes)) {
      return this.readThroughH5wasm(h.path);
    }
    return toFloat32(this.bytes.slice(a, a + nbytes), info);
  }

  /** A dataset this reader does not read: h5wasm opens the same bytes (once) and reads it. */
  private async readThroughH5wasm(path: string): Promise<Float32Array> {
    this.other ??= this.fallback();
    const other = await this.other;
    if (this.closed) throw new Error(`${this.source}: dataset ${path} cannot be read: the model file was closed`);
    const ds = other.get(path);
    if (!ds || !other.isDataset(ds)) throw new Error(`${this.source}: dataset ${path} could not be read`);
    return other.readFloat32(ds);
  }
}

/** Stored bytes (a copy, aligned at 0) of a contiguous dataset -> float32, as H5wasmFile converts h5wasm's arrays. */
function toFloat32(raw: Uint8Array<ArrayBuffer>, info: DatasetInfo): Float32Array {
  const { size, cls, signed } = info;
  if (info.bigEndian && size > 1) {
    for (let i = 0; i < raw.length; i += size) raw.subarray(i, i + size).reverse();
  }
  const buf = raw.buffer;
  if (cls === 1) {
    if (size === 4) return new Float32Array(buf);
    if (size === 8) return Float32Array.from(new Float64Array(buf));
    const halves = new Uint16Array(buf);
    const out = new Float32Array(halves.length);
    for (let i = 0; i < halves.length; i++) out[i] = halfToFloat(halves[i]);
    return out;
  }
  if (size === 8) return Float32Array.from(signed ? new BigInt64Array(buf) : new BigUint64Array(buf), (x) => Number(x));
  const ints = size === 4 ? (signed ? new Int32Array(buf) : new Uint32Array(buf)) : size === 2 ? (signed ? new Int16Array(buf) : new Uint16Array(buf)) : signed ? new Int8Array(buf) : new Uint8Array(buf);
  return Float32Array.from(ints);
}

/**
 * Open an HDF5 image with jsfive, or null when jsfive cannot read it exactly (then the caller opens it with h5wasm,
 * which reads every file it read before). `fallback` opens the same bytes with h5wasm, for datasets read later.
 * The caller has already refused damaged global heaps (hdf5.ts refuseDamagedGlobalHeap).
 */
export function openJsfive(
  bytes: Uint8Array,
  source: string,
  fallback: () => Promise<Hdf5File>,
  /** told why jsfive does not read the file (tests report it) */
  refused?: (why: string) => void,
): JsfiveFile | null {
  try {
    const eof = plainSuperblock(new Bytes(bytes));
    if (eof === null) {
      refused?.('not a plain superblock 0 (8-byte addresses, base 0, no extension), or a __proto__ name');
      return null;
    }
    // HDF5 reads nothing at or past the superblock's end-of-file address ("attempting I/O in temporary file
    // space"): neither does jsfive here, nor the dataset reads
    const image = bytes.subarray(0, eof);
    const b = new Bytes(image);
    const fh = new StrictBuffer(eof);
    new Uint8Array(fh).set(image);
    // the root object header address, from the root's symbol table entry after the superblock (II.A, III.C)
    new Walker(b, fh, null).checkRoot(b.u64(64));
    const tree = withJsfive(bytes.length, () => {
      const file = new jsfive.File(fh, source) as unknown as { _dataobjects: DataObjects & { offset: number } };
      const DO = file._dataobjects.constructor as DataObjectsClass;
      return new Walker(b, fh, DO).object(file._dataobjects.offset, '/', 0);
    });
    if (tree.children === null) throw new NotForJsfive('the root is not a group');
    return new JsfiveFile(image, bytes.length, tree, source, fallback);
  } catch (e) {
    // jsfive throws strings, TypeErrors and RangeErrors on what it does not read; h5wasm reads (or refuses) it.
    refused?.(e instanceof NotForJsfive ? e.message : `jsfive: ${e instanceof Error ? e.message : String(e)}`);
    return null;
  }
}
