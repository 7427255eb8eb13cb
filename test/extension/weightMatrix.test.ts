import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blockStats, clampWindow, columnBlocks, downsampleHeatmap, matrixShapeOf, sliceWindow, statsPerBlock } from '../../extension/weightMatrix';

test('shapes fold to rows x cols: scalar, vector, matrix, conv kernel', () => {
  assert.deepEqual(matrixShapeOf([]), { rows: 1, cols: 1 });
  assert.deepEqual(matrixShapeOf([200]), { rows: 1, cols: 200 });
  assert.deepEqual(matrixShapeOf([50, 200]), { rows: 50, cols: 200 });
  assert.deepEqual(matrixShapeOf([3, 3, 4, 16]), { rows: 36, cols: 16 });
});

test('column blocks keep last-axis blocks only, sorted', () => {
  const blocks = [
    { label: 'f', meaning: 'forget', axis: -1, start: 2, end: 4 },
    { label: 'i', meaning: 'input', axis: 1, start: 0, end: 2 },
    { label: 'x', meaning: 'rows', axis: 0, start: 0, end: 1 },
  ];
  assert.deepEqual(
    columnBlocks(blocks, [3, 4]).map((b) => b.label),
    ['i', 'f'],
  );
});

test('block stats: mean, std, min, max, L2, share of |w|<1e-3 and histogram over the block columns only', () => {
  // 2 x 4 matrix; block [2,4) holds 3, -1, 0.0005, 5
  const data = Float32Array.from([100, 100, 3, -1, 100, 100, 0.0005, 5]);
  const s = blockStats(data, { rows: 2, cols: 4 }, 2, 4, 'f', 4);
  const vals = [3, -1, 0.0005, 5].map((v) => Math.fround(v));
  const mean = vals.reduce((a, b) => a + b) / 4;
  assert.equal(s.count, 4);
  assert.ok(Math.abs(s.mean - mean) < 1e-12);
  assert.ok(Math.abs(s.std - Math.sqrt(vals.reduce((a, v) => a + (v - mean) ** 2, 0) / 4)) < 1e-12);
  assert.equal(s.min, -1);
  assert.equal(s.max, 5);
  assert.ok(Math.abs(s.l2 - Math.hypot(...vals)) < 1e-12);
  assert.equal(s.nearZero, 0.25);
  // bins over [-1, 5] in 4 bins of width 1.5: -1 -> 0, 0.0005 -> 0, 3 -> 2, 5 -> 3 (last bin closed)
  assert.deepEqual(s.bins, [2, 0, 1, 1]);
});

test('stats per block fall back to one "all" entry', () => {
  const s = statsPerBlock(Float32Array.from([1, 2, 3]), { rows: 1, cols: 3 }, []);
  assert.equal(s.length, 1);
  assert.equal(s[0].label, 'all');
  assert.equal(s[0].count, 3);
});

test('heatmap downsampling keeps the largest |value| of each cell, with its sign', () => {
  // 4 x 4, downsample to 2 x 2: each cell covers a 2x2 square
  const data = Float32Array.from([
    1, -2, 0, 0,
    0, 0, 0, 0.5,
    0, 0, 7, 0,
    -9, 0, 0, 0,
  ]);
  const g = downsampleHeatmap(data, { rows: 4, cols: 4 }, 2, 2);
  assert.deepEqual({ rows: g.rows, cols: g.cols }, { rows: 2, cols: 2 });
  assert.deepEqual(Array.from(g.values), [-2, 0.5, -9, 7]);
  assert.equal(g.absMax, 9);
});

test('heatmap of a column block sees only its columns; small blocks are copied as is', () => {
  const data = Float32Array.from([1, 2, 3, 4, 5, 6]); // 2 x 3
  const g = downsampleHeatmap(data, { rows: 2, cols: 3 }, 10, 10, 1, 3);
  assert.deepEqual(Array.from(g.values), [2, 3, 5, 6]);
  assert.equal(g.cols, 2);
});

test('a (2048, 8192) kernel downsamples to a canvas-sized grid quickly', () => {
  const m = { rows: 2048, cols: 8192 };
  const data = new Float32Array(m.rows * m.cols);
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(i);
  data[1234 * 8192 + 4321] = 42;
  const t0 = performance.now();
  const grids = [0, 1, 2, 3].map((k) => downsampleHeatmap(data, m, 256, 128, k * 2048, (k + 1) * 2048));
  const ms = performance.now() - t0;
  assert.equal(grids[2].values.length, 256 * 128);
  assert.ok(grids[2].values.includes(42), 'the outlier survives downsampling');
  assert.ok(ms < 3000, `downsampling took ${ms} ms`);
});

test('windows are clamped to the matrix and sliced row-major', () => {
  const data = Float32Array.from({ length: 12 }, (_, i) => i); // 3 x 4
  const m = { rows: 3, cols: 4 };
  assert.deepEqual(clampWindow(m, { rowStart: -5, rowEnd: 99, colStart: 3, colEnd: 1 }), { rowStart: 0, rowEnd: 3, colStart: 3, colEnd: 3 });
  const w = sliceWindow(data, m, { rowStart: 1, rowEnd: 3, colStart: 1, colEnd: 3 });
  assert.ok(w.values instanceof Float32Array && w.values.byteOffset === 0 && w.values.buffer.byteLength === 16, 'a Float32Array with a buffer of its own');
  assert.deepEqual(Array.from(w.values), [5, 6, 9, 10]);
});

/**
 * The reduction as protocol.ts HeatmapGrid defines it, written the plain way (source of truth for the test below):
 * every value goes to cell (floor(r * rows / R), floor(c * cols / C)); a cell keeps the first value of largest |w| in
 * row-major order.
 */
function referenceReduction(data: ArrayLike<number>, R: number, C: number, rows: number, cols: number, c0: number, c1: number): { values: number[]; absMax: number } {
  const width = c1 - c0;
  const values = new Array<number>(rows * cols).fill(0);
  const best = new Array<number>(rows * cols).fill(-1);
  let absMax = 0;
  for (let r = 0; r < R; r++) {
    for (let c = 0; c < width; c++) {
      const v = data[r * C + c0 + c];
      const cell = Math.floor((r * rows) / R) * cols + Math.floor((c * cols) / width);
      if (Math.abs(v) > best[cell]) {
        best[cell] = Math.abs(v);
        values[cell] = v;
      }
      if (Math.abs(v) > absMax) absMax = Math.abs(v);
    }
  }
  return { values, absMax };
}

test('heatmap cells are the exact max-|w| reduction of the blocks they cover, for sizes that do not divide (ties, NaN)', () => {
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  for (const [R, C, maxRows, maxCols, c0, c1] of [
    [37, 53, 8, 5, 0, 53],
    [300, 611, 256, 128, 100, 611],
    [5, 9, 256, 128, 2, 7], // fits: copied as is
    [1, 1000, 256, 128, 0, 1000], // a vector
    [129, 7, 64, 7, 0, 7],
  ]) {
    const data = new Float32Array(R * C);
    // few distinct magnitudes with both signs, so ties are common; some NaN
    for (let i = 0; i < data.length; i++) data[i] = rnd() < 0.01 ? NaN : (Math.floor(rnd() * 9) - 4) / 4;
    const g = downsampleHeatmap(data, { rows: R, cols: C }, maxRows, maxCols, c0, c1);
    const rows = Math.min(R, maxRows);
    const cols = Math.min(c1 - c0, maxCols);
    const want = referenceReduction(data, R, C, rows, cols, c0, c1);
    assert.deepEqual({ rows: g.rows, cols: g.cols }, { rows, cols });
    assert.ok(g.values instanceof Float32Array);
    assert.deepEqual(Array.from(g.values), want.values, `${R}x${C} cols [${c0}, ${c1}) -> ${rows}x${cols}`);
    assert.equal(g.absMax, want.absMax);
  }
});
