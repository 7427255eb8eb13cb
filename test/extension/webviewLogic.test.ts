import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blockOfColumn, columnGroups, columnLabel, formatValue, rowLabel, visibleRange, windowCovers } from '../../webview/gateTable';
import { cellAtPoint, divergingColor, heatmapPixels } from '../../webview/heatmap';
import { filterLayers, shapeText } from '../../webview/modelView';
import { leadingIndex, parseUnits } from '../../webview/resultsView';

const lstmBlocks = ['i', 'f', 'c', 'o'].map((label, k) => ({ label, meaning: label, axis: -1, start: k * 50, end: (k + 1) * 50 }));

test('virtual windowing renders only what is in view plus overscan, clamped to the matrix', () => {
  assert.deepEqual(visibleRange(0, 440, 22, 2048, 4), { start: 0, end: 25 });
  assert.deepEqual(visibleRange(22 * 1000, 440, 22, 2048, 4), { start: 996, end: 1025 });
  assert.deepEqual(visibleRange(22 * 2040, 440, 22, 2048, 4), { start: 2036, end: 2048 });
  assert.deepEqual(visibleRange(0, 440, 22, 3, 4), { start: 0, end: 3 });
  // a (2048, 8192) kernel: a 1000 px wide view renders ~20 of 8192 columns
  const cols = visibleRange(84 * 5000, 1000, 84, 8192, 4);
  assert.ok(cols.end - cols.start < 30);
});

test('row labels come from the row sources, with offsets', () => {
  const rows = [
    { source: 'x(t)', start: 0, end: 3, index: 'feature' },
    { source: 'h(t-1)', start: 3, end: 53, index: 'unit' },
    { source: 'aux', start: 53, end: 55, offset: 10 },
  ];
  assert.equal(rowLabel(rows, 1, 55), 'x(t)[1]');
  assert.equal(rowLabel(rows, 8, 55), 'h(t-1)[5]');
  assert.equal(rowLabel(rows, 54, 55), 'aux[11]');
  assert.equal(rowLabel([{ source: 'input bias', start: 0, end: 1 }], 0, 2), 'input bias');
  assert.equal(rowLabel([], 7, 9), 'row 7');
});

test('columns are labelled by gate and unit, and grouped into gate runs', () => {
  assert.equal(columnLabel(lstmBlocks, 130), 'c30');
  assert.equal(blockOfColumn(lstmBlocks, 50)?.label, 'f');
  assert.deepEqual(
    columnGroups(lstmBlocks, 45, 105).map((g) => [g.block?.label, g.start, g.end]),
    [
      ['i', 45, 50],
      ['f', 50, 100],
      ['c', 100, 105],
    ],
  );
  assert.equal(columnLabel([], 7), '7');
});

test('values print with 4 significant digits, exponent only when tiny or huge', () => {
  assert.equal(formatValue(0.123456), '0.1235');
  assert.equal(formatValue(-0.0051579), '-0.005158');
  assert.equal(formatValue(2), '2');
  assert.equal(formatValue(0), '0');
  assert.equal(formatValue(0.00001234), '1.234e-5');
  assert.equal(formatValue(1e-7), '1e-7');
  assert.equal(formatValue(NaN), 'NaN');
  assert.equal(Number(formatValue(-0.062793)), -0.06279);
});

test('window coverage decides whether the table must fetch', () => {
  const w = { rowStart: 0, rowEnd: 64, colStart: 0, colEnd: 64, values: new Float32Array(0) };
  assert.equal(windowCovers(w, { rowStart: 10, rowEnd: 30, colStart: 0, colEnd: 20 }), true);
  assert.equal(windowCovers(w, { rowStart: 60, rowEnd: 70, colStart: 0, colEnd: 20 }), false);
  assert.equal(windowCovers(null, { rowStart: 0, rowEnd: 1, colStart: 0, colEnd: 1 }), false);
});

test('heatmap colours: 0 neutral, sign picks the hue, NaN stands out', () => {
  const zero = divergingColor(0, 1);
  const neg = divergingColor(-1, 1);
  const pos = divergingColor(1, 1);
  assert.deepEqual(zero, [247, 247, 247]);
  assert.ok(neg[2] > neg[0], 'negative is blue');
  assert.ok(pos[0] > pos[2], 'positive is red');
  assert.deepEqual(divergingColor(NaN, 1), [255, 0, 255]);
  const px = heatmapPixels({ rows: 1, cols: 2, values: Float32Array.of(-1, 1), absMax: 1 }, 1);
  assert.deepEqual([...px.slice(0, 4)], [...neg, 255]);
});

test('a heatmap pixel maps back to the matrix cell it shows', () => {
  // block f of a (50, 200) kernel drawn in 200 x 100 CSS px
  assert.deepEqual(cellAtPoint(0, 0, 200, 100, 50, 50, 50), { row: 0, col: 50 });
  assert.deepEqual(cellAtPoint(199.9, 99.9, 200, 100, 50, 50, 50), { row: 49, col: 99 });
  assert.deepEqual(cellAtPoint(100, 50, 200, 100, 50, 50, 50), { row: 25, col: 75 });
});

test('layer search matches name or class, case-insensitively', () => {
  const layers = [
    { name: 'lstm_1', className: 'LSTM', params: 1, weights: [] },
    { name: 'encoder', className: 'Bidirectional', innerClassName: 'GRU', params: 1, weights: [] },
    { name: 'dense_1', className: 'Dense', params: 1, weights: [] },
  ];
  assert.deepEqual(filterLayers(layers, 'LSTM').map((l) => l.name), ['lstm_1']);
  assert.deepEqual(filterLayers(layers, 'gru').map((l) => l.name), ['encoder']);
  assert.equal(filterLayers(layers, '  ').length, 3);
  assert.equal(shapeText([null, 10, 32]), '(None, 10, 32)');
  assert.equal(shapeText([null]), '(None,)');
});

test('trace unit picker parses lists and ranges within the layer', () => {
  assert.deepEqual(parseUnits('0, 3, 5-7', 10), [0, 3, 5, 6, 7]);
  assert.deepEqual(parseUnits('8-12 x 2', 10), [2, 8, 9]);
  assert.deepEqual(parseUnits('', 10), []);
});

test('output rows are labelled by their leading index', () => {
  assert.equal(leadingIndex(4, [6]), '4');
  assert.equal(leadingIndex(4, [2, 3]), '(1, 1)');
  assert.equal(leadingIndex(5, [2, 3]), '(1, 2)');
});
