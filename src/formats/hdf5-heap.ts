/**
 * damagedGlobalHeap(size, readAt): HDF5 global heap collections (vlen strings: model_config, keras_version) walked
 * as HDF5 walks them; an object that would not advance the walk makes the HDF5 C library loop forever (found by
 * test/fuzz), so the file is refused before h5wasm sees it. Pure byte arithmetic.
 */
const GCOL = [0x47, 0x43, 0x4f, 0x4c]; // "GCOL"

/**
 * Walks every HDF5 global heap collection ("GCOL", version 1) the way the HDF5 library does when it loads one:
 * objects of 16-byte header (index u16, refcount u16, reserved u32, size u64) + data padded to 8; index 0 is the
 * free space, whose size is taken as is. When an object would not move the walk forward or would run past the
 * collection, HDF5 2.0 (as built in h5wasm) loops forever: the file is damaged. Returns a description of the first
 * such collection ("global heap at byte 2048 is damaged (object 0 at byte 3504 has size 0)"), or null.
 *
 * `readAt(position, length)` reads the file (it may return fewer bytes at the end). The whole file is scanned in
 * 4 MiB windows for the signature; only candidate collections are decoded.
 */
export function damagedGlobalHeap(fileSize: number, readAt: (position: number, length: number) => Uint8Array): string | null {
  const WINDOW = 4 * 1024 * 1024; // 4 MiB
  for (let start = 0; start < fileSize; start += WINDOW) {
    const chunk = readAt(start, Math.min(WINDOW + 3, fileSize - start));
    for (let i = chunk.indexOf(GCOL[0]); i >= 0 && i + 4 <= chunk.length; i = chunk.indexOf(GCOL[0], i + 1)) {
      if (chunk[i + 1] !== GCOL[1] || chunk[i + 2] !== GCOL[2] || chunk[i + 3] !== GCOL[3]) continue;
      const at = start + i;
      if (i >= WINDOW) continue; // seen again in the next window
      const problem = globalHeapCollectionProblem(at, fileSize, readAt);
      if (problem) return problem;
    }
  }
  return null;
}

function globalHeapCollectionProblem(at: number, fileSize: number, readAt: (position: number, length: number) => Uint8Array): string | null {
  const head = readAt(at, 16);
  if (head.length < 16 || head[4] !== 1) return null; // not a version-1 collection header
  const hv = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const size = Number(hv.getBigUint64(8, true));
  if (size < 16 || at + size > fileSize) return null; // HDF5 refuses these itself (or it is not a collection)
  const body = readAt(at, size);
  if (body.length < size) return null;
  const v = new DataView(body.buffer, body.byteOffset, body.byteLength);
  let p = 16;
  for (let n = 0; p + 16 <= size; n++) {
    const index = v.getUint16(p, true);
    const objectSize = v.getBigUint64(p + 8, true);
    const need = index === 0 ? objectSize : 16n + ((objectSize + 7n) / 8n) * 8n;
    if (need === 0n || BigInt(p) + need > BigInt(size)) {
      return `HDF5 global heap at byte ${at} is damaged (object ${index} at byte ${at + p} has size ${objectSize})`;
    }
    p += Number(need);
    if (n > size) break;
  }
  return null;
}
