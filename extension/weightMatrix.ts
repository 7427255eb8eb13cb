/**
 * A weight's values seen as a matrix for the viewer: the shape folded to rows x cols, gate blocks as column
 * ranges, statistics per gate, a downsampled heatmap of the whole matrix and windows of values for the table.
 * Pure functions (no vscode, no node): the model worker calls them on the Float32Array read from the file, so the
 * webview only ever receives a small picture and the visible window, as Float32Arrays (protocol.ts Float32Values).
 */
import type { BlockStats, GateBlockInfo, HeatmapGrid, MatrixShape, ValueWindow, WindowRange } from './protocol';

/** rows = product of all axes but the last, cols = last axis; a scalar is 1x1, a vector one row. */
export function matrixShapeOf(shape: number[]): MatrixShape {
  if (shape.length === 0) return { rows: 1, cols: 1 };
  const cols = shape[shape.length - 1];
  let rows = 1;
  for (let i = 0; i < shape.length - 1; i++) rows *= shape[i];
  return { rows, cols };
}

/** The gate blocks that split the columns (blocks on the last axis), sorted by start; others are ignored. */
export function columnBlocks(blocks: GateBlockInfo[], shape: number[]): GateBlockInfo[] {
  const last = shape.length - 1;
  return blocks
    .filter((b) => b.axis === -1 || b.axis === last)
    .filter((b) => b.end > b.start)
    .sort((a, b) => a.start - b.start);
}

/**
 * Statistics of columns [colStart, colEnd) over all rows. `binCount` equal bins over [min, max].
 * Two passes (sums and extremes, then deviations and bins); the loops are kept plain (no closures, no Math.abs
 * calls) because a (2048, 8192) kernel means 16.7 million values per pass (the viewer asks for a big weight's
 * statistics after its first heatmap is drawn, modelSession.ts).
 */
export function blockStats(
  data: ArrayLike<number>,
  m: MatrixShape,
  colStart: number,
  colEnd: number,
  label: string,
  binCount = 24,
): BlockStats {
  const c0 = Math.max(0, colStart);
  const c1 = Math.min(m.cols, colEnd);
  const width = Math.max(0, c1 - c0);
  const count = width * m.rows;
  const bins = new Array<number>(binCount).fill(0);
  if (count === 0) return { label, count: 0, mean: 0, std: 0, min: 0, max: 0, l2: 0, nearZero: 0, bins };
  let sum = 0;
  let sumSq = 0;
  let min = Infinity;
  let max = -Infinity;
  let near = 0;
  for (let r = 0; r < m.rows; r++) {
    const end = r * m.cols + c1;
    for (let k = r * m.cols + c0; k < end; k++) {
      const v = data[k];
      sum += v;
      sumSq += v * v;
      if (v < min) min = v;
      if (v > max) max = v;
      if (v < 1e-3 && v > -1e-3) near++;
    }
  }
  const mean = sum / count;
  // Second pass for the variance: sum of squared deviations is exact enough where sumSq/n - mean^2 cancels.
  let dev = 0;
  const span = max - min;
  const counts = new Float64Array(binCount);
  const last = binCount - 1;
  for (let r = 0; r < m.rows; r++) {
    const end = r * m.cols + c1;
    for (let k = r * m.cols + c0; k < end; k++) {
      const v = data[k];
      const d = v - mean;
      dev += d * d;
      const bin = span > 0 ? Math.floor(((v - min) / span) * binCount) : 0;
      counts[bin > last ? last : bin]++;
    }
  }
  for (let b = 0; b < binCount; b++) bins[b] = counts[b];
  return { label, count, mean, std: Math.sqrt(dev / count), min, max, l2: Math.sqrt(sumSq), nearZero: near / count, bins };
}

/** Stats for each column block, or one 'all' entry when there are none. */
export function statsPerBlock(data: ArrayLike<number>, m: MatrixShape, blocks: GateBlockInfo[]): BlockStats[] {
  if (blocks.length === 0) return [blockStats(data, m, 0, m.cols, 'all')];
  return blocks.map((b) => blockStats(data, m, b.start, b.end, b.label));
}

/**
 * Downsample columns [colStart, colEnd) to at most maxRows x maxCols cells; each cell keeps the value of largest
 * magnitude among the values it covers (so a single large weight stays visible; protocol.ts HeatmapGrid says which
 * values a cell covers). Small blocks are copied as is.
 *
 * One pass over the data, row by row: within a row each cell's columns are a contiguous run, so the inner loop only
 * tracks the largest |w| of the run (no per-value cell lookup or store); the run's winner then competes with what
 * the cell kept from earlier rows. Strict `>` both times keeps the first value in row-major order on a tie, and
 * skips NaN (a cell of NaN only stays 0).
 */
export function downsampleHeatmap(
  data: ArrayLike<number>,
  m: MatrixShape,
  maxRows: number,
  maxCols: number,
  colStart = 0,
  colEnd = m.cols,
): HeatmapGrid {
  const c0 = Math.max(0, Math.min(m.cols, colStart));
  const width = Math.max(0, Math.min(m.cols, colEnd) - c0);
  const rows = Math.max(1, Math.min(m.rows, maxRows));
  const cols = Math.max(1, Math.min(width, maxCols));
  const kept = new Float32Array(rows * cols);
  const best = new Float64Array(rows * cols).fill(-1); // |value| kept so far
  // Cell j covers block columns [bound[j], bound[j+1]): the c with floor(c * cols / width) = j.
  const bound = new Int32Array(cols + 1);
  for (let j = 0; j <= cols; j++) bound[j] = Math.ceil((j * width) / cols);
  for (let r = 0; r < m.rows; r++) {
    const rowCell = Math.floor((r * rows) / m.rows) * cols;
    const base = r * m.cols + c0;
    for (let j = 0; j < cols; j++) {
      let top = -1;
      let at = -1;
      const end = base + bound[j + 1];
      for (let k = base + bound[j]; k < end; k++) {
        const v = data[k];
        const a = v < 0 ? -v : v;
        if (a > top) {
          top = a;
          at = k;
        }
      }
      const cell = rowCell + j;
      if (top > best[cell]) {
        best[cell] = top;
        kept[cell] = data[at];
      }
    }
  }
  let absMax = 0;
  for (let i = 0; i < best.length; i++) if (best[i] > absMax) absMax = best[i];
  return { rows, cols, values: kept, absMax };
}

/** Clamp a requested window to the matrix. */
export function clampWindow(m: MatrixShape, w: WindowRange): WindowRange {
  const clamp = (x: number, hi: number) => Math.max(0, Math.min(hi, Math.floor(Number.isFinite(x) ? x : 0)));
  const rowStart = clamp(w.rowStart, m.rows);
  const colStart = clamp(w.colStart, m.cols);
  return {
    rowStart,
    rowEnd: Math.max(rowStart, clamp(w.rowEnd, m.rows)),
    colStart,
    colEnd: Math.max(colStart, clamp(w.colEnd, m.cols)),
  };
}

/** The values of a window (clamped to the matrix), row-major, in a Float32Array of their own (protocol.ts Float32Values). */
export function sliceWindow(data: ArrayLike<number>, m: MatrixShape, w: WindowRange): ValueWindow {
  const c = clampWindow(m, w);
  const width = c.colEnd - c.colStart;
  const values = new Float32Array((c.rowEnd - c.rowStart) * width);
  let k = 0;
  for (let r = c.rowStart; r < c.rowEnd; r++) {
    const base = r * m.cols;
    for (let col = c.colStart; col < c.colEnd; col++) values[k++] = data[base + col];
  }
  return { ...c, values };
}
