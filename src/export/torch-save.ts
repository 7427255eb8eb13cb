/**
 * A `torch.save(state_dict)` file written without torch: the zip layout torch ≥ 1.6 reads (archive/data.pkl,
 * archive/data/<k> raw little-endian float32 storages, archive/version, archive/byteorder) with a protocol-2 pickle
 * of an OrderedDict of `torch._utils._rebuild_tensor_v2(storage, 0, size, stride, False, OrderedDict())` — only
 * names `torch.load(weights_only=True)` allows. test/export loads it with the real torch.
 */
import type { Zippable } from 'fflate';

const ZIP_ENTRY_TIME = new Date(1980, 0, 1, 0, 0, 0);

export interface StateTensor {
  key: string;
  shape: number[];
  data: Float32Array;
}

class Pickle {
  private parts: number[] = [];
  byte(...b: number[]): this {
    this.parts.push(...b);
    return this;
  }
  global(module: string, name: string): this {
    this.byte(0x63); // GLOBAL
    for (const c of `${module}\n${name}\n`) this.byte(c.charCodeAt(0));
    return this;
  }
  str(s: string): this {
    const u = new TextEncoder().encode(s);
    this.byte(0x58, u.length & 0xff, (u.length >> 8) & 0xff, (u.length >> 16) & 0xff, (u.length >>> 24) & 0xff); // BINUNICODE
    for (const b of u) this.byte(b);
    return this;
  }
  int(n: number): this {
    if (n >= 0 && n < 256) return this.byte(0x4b, n); // BININT1
    return this.byte(0x4a, n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff); // BININT
  }
  tuple(items: (() => void)[]): this {
    this.byte(0x28); // MARK
    for (const f of items) f();
    return this.byte(0x74); // TUPLE
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

export function torchStateDict(tensors: StateTensor[]): Uint8Array {
  const p = new Pickle();
  p.byte(0x80, 2); // PROTO 2
  p.global('collections', 'OrderedDict').byte(0x29, 0x52); // EMPTY_TUPLE REDUCE
  p.byte(0x28); // MARK (SETITEMS)
  tensors.forEach((t, k) => {
    p.str(t.key);
    p.global('torch._utils', '_rebuild_tensor_v2');
    const strides = t.shape.map((_, i) => t.shape.slice(i + 1).reduce((a, b) => a * b, 1));
    p.tuple([
      () => {
        p.tuple([() => p.str('storage'), () => p.global('torch', 'FloatStorage'), () => p.str(String(k)), () => p.str('cpu'), () => p.int(t.data.length)]);
        p.byte(0x51); // BINPERSID
      },
      () => p.int(0),
      () => p.tuple(t.shape.map((d) => () => p.int(d))),
      () => p.tuple(strides.map((d) => () => p.int(d))),
      () => p.byte(0x89), // NEWFALSE
      () => p.global('collections', 'OrderedDict').byte(0x29, 0x52),
    ]);
    p.byte(0x52); // REDUCE
  });
  p.byte(0x75); // SETITEMS
  p.byte(0x2e); // STOP
  const files: Zippable = {
    'archive/data.pkl': [p.bytes(), { level: 0 }],
    'archive/byteorder': [new TextEncoder().encode('little'), { level: 0 }],
  };
  tensors.forEach((t, k) => {
    files[`archive/data/${k}`] = [new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), { level: 0 }];
  });
  files['archive/version'] = [new TextEncoder().encode('3\n'), { level: 0 }];
  // A fixed entry time (the earliest a zip can say): the same model gives the same bytes on every run and host.
  // required here, not imported: fflate builds its tables when loaded, and only a PyTorch export writes a zip
  const { zipSync } = require('fflate') as typeof import('fflate');
  return zipSync(files, { mtime: ZIP_ENTRY_TIME });
}
