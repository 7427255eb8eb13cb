// Draws media/icon.png (four gate-coloured column blocks under a lens), so the icon can be regenerated: node media/make-icon.mjs
import { deflateSync } from 'node:zlib';
import { writeFileSync } from 'node:fs';
const N = 128;
const gates = [[0x4e,0x79,0xa7],[0xe1,0x57,0x59],[0x59,0xa1,0x4f],[0xf2,0x8e,0x2b]];
const raw = Buffer.alloc((N * 4 + 1) * N);
for (let y = 0; y < N; y++) {
  raw[y * (N * 4 + 1)] = 0;
  for (let x = 0; x < N; x++) {
    let c = [0x1f,0x1f,0x1f], a = 255;
    const inBox = x >= 12 && x < 116 && y >= 12 && y < 116;
    if (inBox) {
      const g = gates[Math.min(3, Math.floor((x - 12) / 26))];
      const cell = ((Math.floor((x - 12) / 6.5) * 7 + Math.floor((y - 12) / 6.5) * 13) % 5) / 5;
      c = g.map((v) => Math.round(v * (0.55 + 0.45 * cell)));
    }
    const dx = x - 78, dy = y - 78, r = Math.hypot(dx, dy);
    if (r > 26 && r < 34) c = [240, 240, 240];
    if (Math.abs(dx - dy) < 6 && dx > 22 && dx < 44) c = [240, 240, 240];
    const rr = Math.min(x, y, N - 1 - x, N - 1 - y);
    if (rr < 0) a = 0;
    const o = y * (N * 4 + 1) + 1 + x * 4;
    raw[o] = c[0]; raw[o + 1] = c[1]; raw[o + 2] = c[2]; raw[o + 3] = a;
  }
}
const crcTable = Array.from({ length: 256 }, (_, n) => { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; return c >>> 0; });
const crc = (b) => { let c = 0xffffffff; for (const x of b) c = crcTable[(c ^ x) & 0xff] ^ (c >>> 8); return (c ^ 0xffffffff) >>> 0; };
const chunk = (type, data) => { const len = Buffer.alloc(4); len.writeUInt32BE(data.length); const td = Buffer.concat([Buffer.from(type), data]); const c = Buffer.alloc(4); c.writeUInt32BE(crc(td)); return Buffer.concat([len, td, c]); };
const ihdr = Buffer.alloc(13); ihdr.writeUInt32BE(N, 0); ihdr.writeUInt32BE(N, 4); ihdr[8] = 8; ihdr[9] = 6;
writeFileSync('media/icon.png', Buffer.concat([Buffer.from([137,80,78,71,13,10,26,10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]));
