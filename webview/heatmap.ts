/**
 * Heatmaps of gate blocks on <canvas>: one pixel per cell of the (already downsampled) grid, scaled by CSS, with a
 * symmetric diverging colour scale (negative blue, zero neutral, positive red) shared by all blocks of a weight.
 */
import type { HeatmapGrid } from '../extension/protocol';

/** RGB for v on a scale symmetric around 0 with |v| = absMax at full colour. */
export function divergingColor(v: number, absMax: number): [number, number, number] {
  if (!Number.isFinite(v)) return [255, 0, 255];
  const t = absMax > 0 ? Math.max(-1, Math.min(1, v / absMax)) : 0;
  // neutral grey-white at 0, towards #2166ac (negative) or #b2182b (positive)
  const neutral = [247, 247, 247];
  const end = t < 0 ? [33, 102, 172] : [178, 24, 43];
  const a = Math.sqrt(Math.abs(t)); // sqrt: small weights stay visible
  return [0, 1, 2].map((k) => Math.round(neutral[k] + (end[k] - neutral[k]) * a)) as [number, number, number];
}

/** Fill an RGBA buffer for the grid (row-major, alpha 255). */
export function heatmapPixels(grid: HeatmapGrid, absMax: number): Uint8ClampedArray {
  const px = new Uint8ClampedArray(grid.rows * grid.cols * 4);
  for (let i = 0; i < grid.rows * grid.cols; i++) {
    const [r, g, b] = divergingColor(grid.values[i], absMax);
    px[i * 4] = r;
    px[i * 4 + 1] = g;
    px[i * 4 + 2] = b;
    px[i * 4 + 3] = 255;
  }
  return px;
}

/**
 * Which matrix cell a point on the canvas stands for: the canvas shows `matrixRows` x `blockCols` cells
 * (of columns [colStart, colStart+blockCols)) in a box of `width` x `height` CSS pixels.
 */
export function cellAtPoint(
  x: number,
  y: number,
  width: number,
  height: number,
  matrixRows: number,
  colStart: number,
  blockCols: number,
): { row: number; col: number } {
  const row = Math.min(matrixRows - 1, Math.max(0, Math.floor((y / Math.max(1, height)) * matrixRows)));
  const c = Math.min(blockCols - 1, Math.max(0, Math.floor((x / Math.max(1, width)) * blockCols)));
  return { row, col: colStart + c };
}

/** Draw the grid into a canvas whose intrinsic size is the grid size (CSS scales it, pixelated). */
export function drawHeatmap(canvas: HTMLCanvasElement, grid: HeatmapGrid, absMax: number): void {
  canvas.width = grid.cols;
  canvas.height = grid.rows;
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const img = ctx.createImageData(grid.cols, grid.rows);
  img.data.set(heatmapPixels(grid, absMax));
  ctx.putImageData(img, 0, 0);
}

/** A small histogram of bin counts as bars. */
export function drawHistogram(canvas: HTMLCanvasElement, bins: number[], color: string): void {
  const w = canvas.width;
  const h = canvas.height;
  const ctx = canvas.getContext('2d');
  if (!ctx || bins.length === 0) return;
  ctx.clearRect(0, 0, w, h);
  const top = Math.max(1, ...bins);
  const bw = w / bins.length;
  ctx.fillStyle = color;
  bins.forEach((n, k) => {
    const bh = n === 0 ? 0 : Math.max(1, (n / top) * (h - 1));
    ctx.fillRect(k * bw + 0.5, h - bh, Math.max(1, bw - 1), bh);
  });
}

/** A horizontal colour scale from -absMax to +absMax (the legend of a weight's heatmaps). */
export function drawColorScale(canvas: HTMLCanvasElement, absMax: number): void {
  const w = canvas.width;
  const h = canvas.height;
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const img = ctx.createImageData(w, h);
  for (let x = 0; x < w; x++) {
    const [r, g, b] = divergingColor(((x / Math.max(1, w - 1)) * 2 - 1) * absMax, absMax);
    for (let y = 0; y < h; y++) img.data.set([r, g, b, 255], (y * w + x) * 4);
  }
  ctx.putImageData(img, 0, 0);
}
