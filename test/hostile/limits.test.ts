// Unit tests of the shared guards in src/formats/limits.ts (JSON depth/size/keys, non-finite numbers, sizes,
// foreign errors). The end-to-end cases (CLI, openModelFile on hostile files) are in the other files here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { KerasLensError } from '../../src/model/types';
import { HANG_SOURCE_H5, DL4J } from './hostileFiles';
import { safeJsonParse, jsonNestingDepth } from '../../src/formats/json-guard';
import { checkFinite, findNonFinite, nonFiniteProblem } from '../../src/model/finite';
import { checkTensorSize, checkInflateSize, checkStoredSize, DEFAULT_LIMITS } from '../../src/formats/limits';
import { damagedGlobalHeap } from '../../src/formats/hdf5-heap';
import { terminalSafe, shortText } from '../../src/model/text';
import { describeForeignError, toKerasLensError } from '../../src/formats/foreign-errors';

function oneLineError(fn: () => unknown, file: string | null, re: RegExp): KerasLensError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof KerasLensError, `expected a KerasLensError, got ${String(caught)}`);
  assert.equal(caught.file, file);
  assert.ok(!caught.message.includes('\n'), `message has a newline: ${JSON.stringify(caught.message)}`);
  assert.match(caught.message, re);
  return caught;
}

test('100k nested arrays are refused by the depth scan, quickly and without a stack overflow', () => {
  const text = '['.repeat(100_000) + ']'.repeat(100_000);
  const t0 = performance.now();
  oneLineError(() => safeJsonParse(text, 'in.json'), 'in.json', /nested deeper than 256/);
  const obj = '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000);
  oneLineError(() => safeJsonParse(obj, 'in.json'), 'in.json', /nested deeper/);
  assert.ok(performance.now() - t0 < 2000);
});

test('the depth scan ignores brackets inside strings, including escaped quotes', () => {
  assert.equal(jsonNestingDepth('{"a": "[[[[\\"[[[", "b": [[1]]}'), 3);
  assert.equal(jsonNestingDepth('[]'), 1);
  assert.equal(jsonNestingDepth('1'), 0);
  const deepButAllowed = '['.repeat(256) + ']'.repeat(256);
  assert.ok(Array.isArray(safeJsonParse(deepButAllowed, 'x.json')));
});

test('invalid JSON names the file and the problem in one line', () => {
  oneLineError(() => safeJsonParse('{"a": [1, 2,', 'input.json', { what: 'the input file' }), 'input.json', /^input\.json: the input file is not valid JSON/);
  oneLineError(() => safeJsonParse('', 'e.json'), 'e.json', /not valid JSON/);
  oneLineError(() => safeJsonParse('[1, NaN]', 'n.json'), 'n.json', /not valid JSON/);
});

test('Python NaN/Infinity tokens are read as null only when asked', () => {
  assert.deepEqual(safeJsonParse('[NaN, -Infinity, "NaN", Infinity]', 'w.json', { pythonNonFinite: true }), [null, null, 'NaN', null]);
});

test('size cap', () => {
  oneLineError(() => safeJsonParse('[' + '1,'.repeat(100) + '1]', 'big.json', { maxBytes: 50 }), 'big.json', /over the 50 bytes limit/);
});

test('__proto__, constructor and prototype keys are refused (or stripped), and nothing is polluted', () => {
  const hostile = [
    '{"__proto__": {"polluted": "yes"}}',
    '{"a": {"constructor": {"prototype": {"polluted": "yes"}}}}',
    '{"layers": [{"\\u005f\\u005fproto\\u005f\\u005f": {"polluted": "yes"}}]}',
  ];
  for (const text of hostile) {
    oneLineError(() => safeJsonParse(text, 'cfg.json'), 'cfg.json', /key '(__proto__|constructor|prototype)'/);
    const stripped = safeJsonParse(text, 'cfg.json', { forbiddenKeys: 'strip' }) as Record<string, unknown>;
    // Merging the stripped result the naive way must not reach Object.prototype.
    const merged: Record<string, unknown> = {};
    const deepMerge = (dst: Record<string, any>, src: Record<string, any>) => {
      for (const k of Object.keys(src)) {
        if (src[k] && typeof src[k] === 'object') deepMerge((dst[k] ??= {}), src[k]);
        else dst[k] = src[k];
      }
    };
    deepMerge(merged, stripped);
    assert.equal(JSON.stringify(stripped).includes('polluted'), false);
  }
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal((Object.prototype as Record<string, unknown>).polluted, undefined);
  // ordinary data whose *values* mention the words is fine
  assert.deepEqual(safeJsonParse('{"name": "__proto__"}', 'ok.json'), { name: '__proto__' });
});

test('non-finite values are found and reported with their position', () => {
  assert.equal(findNonFinite(new Float32Array([1, 2, 3])), null);
  const data = new Float32Array([0, 1, 2, 3, NaN, 5, Infinity]);
  assert.deepEqual({ ...findNonFinite(data)!, value: String(findNonFinite(data)!.value) }, { index: 4, value: 'NaN', count: 2 });
  assert.equal(nonFiniteProblem(data, [7], 'weight w'), 'weight w holds 2 non-finite values (first: NaN at [4])');
  oneLineError(() => checkFinite(new Float64Array([1, -Infinity, 0, 0, 0, 0]), [2, 3], 'm.h5', 'weight dense/kernel:0'), 'm.h5', /weight dense\/kernel:0 holds 1 non-finite value \(first: -Infinity at \[0, 1\]\)/);
});

test('tensor sizes: invalid and huge declared shapes are refused before allocating', () => {
  assert.equal(checkTensorSize('m.h5', 'dataset /w', [3, 4]), 12);
  oneLineError(() => checkTensorSize('m.h5', 'dataset /w', [2 ** 20, 2 ** 20]), 'm.h5', /more than the limit/);
  oneLineError(() => checkTensorSize('m.h5', 'dataset /w', [-1, 3]), 'm.h5', /invalid shape/);
  oneLineError(() => checkTensorSize('m.h5', 'dataset /w', [1.5]), 'm.h5', /invalid shape/);
});

test('stored arrays: claimed bytes must be in the file (HDF5 bomb)', () => {
  assert.equal(checkStoredSize('m.h5', 'dataset /w', [50, 200], 4, 50_000), 10_000);
  assert.equal(checkStoredSize('m.h5', 'dataset /w', [1000, 1000, 10], 4, 40_100_000), 10_000_000); // 40 MB in a 40 MB file
  oneLineError(() => checkStoredSize('m.h5', 'dataset /w', [200_000_000], 4, 3127), 'm.h5', /claims 763 MB of data .* only 3\.1 KB/);
  oneLineError(() => checkStoredSize('m.h5', 'dataset /w', [4, 200_000_000], 4, 1e9), 'm.h5', /more than the limit/);
});

test('zip entries: absolute cap and ratio cap', () => {
  checkInflateSize('m.keras', 'model.weights.h5', 90 * 1024 * 1024, 100 * 1024 * 1024);
  checkInflateSize('m.keras', 'config.json', 1000, 1_000_000); // small entries may compress well
  oneLineError(() => checkInflateSize('m.keras', 'model.weights.h5', 300_000, 300 * 1024 * 1024), 'm.keras', /zip bomb/);
  oneLineError(() => checkInflateSize('m.keras', 'model.weights.h5', 3e9, 3e9), 'm.keras', /over the 2\.0 GB limit/);
  assert.equal(DEFAULT_LIMITS.maxInflateBytes, 2 * 1024 ** 3);
});

test('foreign errors become one line: HDF5-DIAG stacks, aborts, non-Error values, stack overflows', () => {
  const diag = new Error(
    'HDF5-DIAG: Error detected in HDF5 (2.0.0):\n  #000: /src/H5F.c line 821 in H5Fopen(): unable to synchronously open file\n    major: File accessibility\n    minor: Unable to open file\n  #006: /src/H5Fsuper.c line 388 in H5F__super_read(): file signature not found\n    major: File accessibility\n    minor: Not an HDF5 file\n',
  );
  assert.equal(describeForeignError(diag), 'HDF5 error: file signature not found: Not an HDF5 file');
  assert.match(describeForeignError(new WebAssembly.RuntimeError('Aborted(OOM)')), /HDF5 reader crashed/);
  assert.match(describeForeignError(123456), /internal error code 123456/);
  assert.match(describeForeignError(undefined), /undefined/);
  let overflow: unknown;
  const recurse = (n: number): number => recurse(n + 1) + 1;
  try {
    recurse(0);
  } catch (e) {
    overflow = e;
  }
  assert.match(describeForeignError(overflow), /nested too deeply/);
  const wrapped = toKerasLensError(diag, 'model.h5', 'opening');
  assert.equal(wrapped.message, 'model.h5: opening: HDF5 error: file signature not found: Not an HDF5 file');
  const own = new KerasLensError('a.h5', 'x');
  assert.equal(toKerasLensError(own, 'b.h5'), own);
});

const reader = (bytes: Uint8Array) => (pos: number, len: number) => bytes.subarray(pos, Math.min(bytes.length, pos + len));

test('damaged HDF5 global heaps (the ones HDF5 loops forever on) are found; every real Keras file passes', () => {
  const real = readFileSync(HANG_SOURCE_H5);
  assert.equal(damagedGlobalHeap(real.length, reader(real)), null);
  // object 5 ("2.2.0", 5 bytes) grown to 261: the walk lands on a free-space object of size 0 (fuzz seed h5 62)
  const hang = Buffer.from(real);
  hang[3233] = 1;
  assert.match(damagedGlobalHeap(hang.length, reader(hang)) ?? '', /global heap at byte 2048 is damaged \(object 0 at byte 3504 has size 0\)/);
  // an object size that overflows (fuzz seed h5 1079)
  const huge = Buffer.from(real);
  huge.fill(0xff, 3224, 3240);
  assert.match(damagedGlobalHeap(huge.length, reader(huge)) ?? '', /damaged/);
  // signature split across the 4 MiB scan windows is still found
  const big = new Uint8Array(4 * 1024 * 1024 + 8192);
  big.set(hang.subarray(2048, 2048 + 4096), 4 * 1024 * 1024 - 2);
  assert.match(damagedGlobalHeap(big.length, reader(big)) ?? '', /damaged/);
  // no false alarm on any file in the reference data
  const walk = (d: string): string[] => readdirSync(d).flatMap((n) => (statSync(join(d, n)).isDirectory() ? walk(join(d, n)) : n.endsWith('.h5') ? [join(d, n)] : []));
  const files = walk(DL4J);
  assert.ok(files.length > 20);
  for (const f of files) {
    const b = readFileSync(f);
    assert.equal(damagedGlobalHeap(b.length, reader(b)), null, f);
  }
});

test('terminalSafe escapes control characters and bidi overrides, keeps ordinary text', () => {
  assert.equal(terminalSafe('lstm\u001b]0;pwned\u0007_1'), 'lstm\\x1b]0;pwned\\x07_1');
  assert.equal(terminalSafe('a\u202eb\u0085c'), 'a\\u{202e}b\\x85c');
  assert.equal(terminalSafe('<img src=x onerror=alert(1)> ü 中'), '<img src=x onerror=alert(1)> ü 中');
});

test('shortText cuts long names from files for messages', () => {
  assert.equal(shortText('lstm_1'), 'lstm_1');
  const long = shortText('x'.repeat(1 << 20));
  assert.ok(long.length < 120 && long.endsWith('… (1048576 characters)'), long);
  assert.equal(shortText('a\nb'), 'a b');
});
