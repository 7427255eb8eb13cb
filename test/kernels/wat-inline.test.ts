/**
 * scripts/wat-inline.mjs (the build step that copies the `;; @inline` helpers of src/kernels/recurrent-simd.wat into
 * their callers) changes no result: the kernels built from the .wat with the inlining and without it (every marker
 * removed: real calls, the semantics of the WebAssembly spec) are run on the same seeded memory with the same
 * arguments — every activation code, odd unit counts (the one-lane tails), several rows — and their whole memories
 * must be equal bit for bit. Source of truth: the as-written module. Also: the inlined binary really has fewer calls
 * (the marked functions are gone), and the inliner refuses what it cannot do (recursion).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = join(__dirname, '../..');
const wat = readFileSync(join(root, 'src/kernels/recurrent-simd.wat'), 'utf8');

type Inline = (source: string) => [string, number];
async function tools(): Promise<{ inlineMarked: Inline; compile: (text: string) => Uint8Array<ArrayBuffer> }> {
  const { inlineMarked } = (await import(pathToFileURL(join(root, 'scripts/wat-inline.mjs')).href)) as { inlineMarked: Inline };
  const wabt = await (await import('wabt')).default();
  const compile = (text: string) => {
    const m = wabt.parseWat('kernel.wat', text, { simd: true, multi_value: true });
    m.resolveNames();
    m.validate();
    const bytes = new Uint8Array(m.toBinary({ log: false }).buffer);
    m.destroy();
    return bytes;
  };
  return { inlineMarked, compile };
}

type Exports = Record<string, (...args: number[]) => void> & { memory: WebAssembly.Memory };
function instance(bytes: Uint8Array<ArrayBuffer>): Exports {
  const e = new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports as unknown as Exports;
  e.memory.grow(40);
  return e;
}

test('inlined kernels compute bit for bit what the as-written kernels compute', async () => {
  const { inlineMarked, compile } = await tools();
  const [inlined, count] = inlineMarked(wat);
  assert.ok(count > 20, `only ${count} calls inlined`);
  const plain = wat.replace(/;;\s*@inline\b/g, ';;');
  assert.equal(inlineMarked(plain)[1], 0);
  const a = instance(compile(plain));
  const b = instance(compile(inlined));
  const fill = (seed: number) => {
    for (const e of [a, b]) {
      const f = new Float32Array(e.memory.buffer);
      let s = seed;
      for (let i = 0; i < f.length; i++) {
        s = (Math.imul(s, 1103515245) + 12345) >>> 0;
        // mostly O(1) values, every 7th large (saturating the activations), a few exact zeros
        f[i] = i % 97 === 0 ? 0 : ((s / 2 ** 32) * 2 - 1) * (i % 7 === 0 ? 30 : 3);
      }
    }
  };
  const calls: [string, ...number[]][] = [];
  for (const code of [0, 1, 2, 3, 4, 5]) {
    for (const act of [0, 1, 2, 3, 4, 5]) {
      for (const u of [128, 7, 130, 1]) {
        calls.push(['activate_f32', code, 4000, u, 3, u * 4 + 32]);
        calls.push(['activate', code, 80000, u, 3, u * 8 + 64]);
        calls.push(['lstm_cell_f32', 4000, u * 16 + 16, 200000, 300000, 400000, 3, u, code, act]);
        calls.push(['gru_update_f32', 4000, u * 12 + 16, 100000, u * 4 + 16, 300000, 400000, 3, u, act]);
        calls.push(['gru_reset_f32', 4000, u * 12 + 16, 300000, 400000, 3, u, code]);
        calls.push(['gru_after_f32', 4000, u * 12 + 16, 100000, u * 12 + 32, 3, u, code]);
      }
    }
  }
  calls.push(['matmul_f32', 4000, 256, 5, 64, 100000, 9, 300000, 160, 400000, 0]);
  calls.push(['matmul', 4000, 512, 5, 64, 100000, 9, 300000, 320, 400000, 0]);
  calls.forEach(([name, ...args], k) => {
    fill(k + 1);
    a[name](...args);
    b[name](...args);
    const x = new Uint32Array(a.memory.buffer);
    const y = new Uint32Array(b.memory.buffer);
    let first = -1;
    for (let i = 0; i < x.length && first < 0; i++) if (x[i] !== y[i]) first = i;
    assert.equal(first, -1, `${name}(${args.join(', ')}): memories differ at float ${first}`);
  });
});

test('the inliner refuses a recursive @inline function', async () => {
  const { inlineMarked } = await tools();
  const src = '(module\n  ;; @inline\n  (func $f (param $x i32) (result i32) (call $f (local.get $x)))\n  (func (export "g") (result i32) (call $f (i32.const 1))))';
  assert.throws(() => inlineMarked(src), /recursive/);
});
