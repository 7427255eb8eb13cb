/**
 * The gate-split table of one weight: columns grouped by gate block (colour-coded headers), rows labelled with
 * where they come from (input feature, h(t-1)[k], bias...). Virtualized: only the rows and columns in view (plus a
 * margin) exist in the DOM, so a (2048, 8192) kernel scrolls as fast as a (4, 16) one. Values outside the window
 * the host sent are fetched as the user scrolls.
 */
import type { GateBlockInfo, RowSourceInfo, ValueWindow, WindowRange } from '../extension/protocol';
import { el } from './ui';

export const ROW_HEIGHT = 22;
export const COL_WIDTH = 84;
export const LABEL_WIDTH = 130;
const OVERSCAN = 4;
/** Weights up to this many cells are rendered whole (every cell addressable); bigger ones are virtualized. */
export const FULL_RENDER_CELLS = 20_000;

/** The [start, end) items to render for a scroll offset, clamped to [0, total). */
export function visibleRange(scroll: number, viewport: number, itemSize: number, total: number, overscan = OVERSCAN): { start: number; end: number } {
  const first = Math.floor(Math.max(0, scroll) / itemSize);
  const count = Math.ceil(Math.max(0, viewport) / itemSize) + 1;
  const start = Math.max(0, Math.min(total, first - overscan));
  const end = Math.max(start, Math.min(total, first + count + overscan));
  return { start, end };
}

/** A weight value with sensible precision: 4 significant digits, no trailing zeros, exponent only when tiny/huge. */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '-∞';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e-3 && a < 1e6) {
    const s = v.toPrecision(4);
    return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
  }
  return v.toExponential(3).replace(/\.?0+e/, 'e');
}

/** The label of matrix row r from the report's row sources ('h(t-1)[5]', 'dense_1[3]', 'input bias'). */
export function rowLabel(rows: RowSourceInfo[], r: number, totalRows: number): string {
  const src = rows.find((s) => r >= s.start && r < s.end);
  if (!src) return totalRows === 1 ? 'values' : `row ${r}`;
  const at = src.timestep !== undefined ? ` @t${src.timestep}` : '';
  if (src.end - src.start === 1 && src.offset === undefined) return src.source + at;
  return `${src.source}[${(src.offset ?? 0) + r - src.start}]${at}`;
}

/** The block holding column c, if any. */
export function blockOfColumn(blocks: GateBlockInfo[], c: number): GateBlockInfo | undefined {
  return blocks.find((b) => c >= b.start && c < b.end);
}

/** The label of column c: the unit within its gate ('f 2' = unit 2 of the forget gate), else the index. */
export function columnLabel(blocks: GateBlockInfo[], c: number): string {
  const b = blockOfColumn(blocks, c);
  return b ? `${b.label}${c - b.start}` : String(c);
}

/** Consecutive runs of the visible columns [start,end) that share a block (for the grouped header row). */
export function columnGroups(blocks: GateBlockInfo[], start: number, end: number): { block?: GateBlockInfo; start: number; end: number }[] {
  const out: { block?: GateBlockInfo; start: number; end: number }[] = [];
  for (let c = start; c < end; c++) {
    const b = blockOfColumn(blocks, c);
    const last = out[out.length - 1];
    if (last && last.block === b) last.end = c + 1;
    else out.push({ block: b, start: c, end: c + 1 });
  }
  return out;
}

/** True when the window holds every cell of the range. */
export function windowCovers(w: ValueWindow | null, r: WindowRange): boolean {
  return !!w && w.rowStart <= r.rowStart && w.rowEnd >= r.rowEnd && w.colStart <= r.colStart && w.colEnd >= r.colEnd;
}

export interface GateTableOptions {
  rows: number;
  cols: number;
  blocks: GateBlockInfo[];
  rowSources: RowSourceInfo[];
  window: ValueWindow;
  complete: boolean;
  /** Ask the host for another window (big weights). */
  fetchWindow: (r: WindowRange) => Promise<ValueWindow>;
  gateClass: (label: string) => string;
  onHoverCell: (row: number, col: number, target: HTMLElement) => void;
  onHoverHeader: (block: GateBlockInfo | undefined, target: HTMLElement) => void;
  onLeave: () => void;
}

export class GateTable {
  readonly element: HTMLDivElement;
  private readonly table: HTMLTableElement;
  private data: ValueWindow;
  private pending: WindowRange | null = null;
  private frame = 0;

  constructor(private readonly o: GateTableOptions) {
    this.data = o.window;
    this.table = el('table', { class: 'gate-table', 'data-testid': 'gate-table' });
    this.element = el('div', { class: 'table-scroll', tabindex: 0 }, this.table);
    const height = Math.min(420, (o.rows + 2) * ROW_HEIGHT + 8);
    this.element.style.height = `${height}px`;
    if (!(o.complete && o.rows * o.cols <= FULL_RENDER_CELLS)) this.element.addEventListener('scroll', () => this.schedule());
    this.table.addEventListener('mouseover', (ev) => this.hover(ev));
    this.table.addEventListener('mouseleave', () => o.onLeave());
    this.render();
  }

  /** Scroll so that cell (row, col) is in view (heatmap clicks). */
  reveal(row: number, col: number): void {
    this.element.scrollTop = Math.max(0, row * ROW_HEIGHT - this.element.clientHeight / 2);
    this.element.scrollLeft = Math.max(0, col * COL_WIDTH - (this.element.clientWidth - LABEL_WIDTH) / 2);
    this.render();
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  private viewRange(): WindowRange {
    if (this.o.complete && this.o.rows * this.o.cols <= FULL_RENDER_CELLS) return { rowStart: 0, rowEnd: this.o.rows, colStart: 0, colEnd: this.o.cols };
    const vh = this.element.clientHeight || 420;
    const vw = (this.element.clientWidth || 900) - LABEL_WIDTH;
    const rows = visibleRange(this.element.scrollTop, vh - 2 * ROW_HEIGHT, ROW_HEIGHT, this.o.rows);
    const cols = visibleRange(this.element.scrollLeft, vw, COL_WIDTH, this.o.cols);
    return { rowStart: rows.start, rowEnd: rows.end, colStart: cols.start, colEnd: cols.end };
  }

  private render(): void {
    const v = this.viewRange();
    if (!this.o.complete && !windowCovers(this.data, v)) this.fetch(v);
    const t = this.table;
    t.replaceChildren();
    t.style.width = `${LABEL_WIDTH + this.o.cols * COL_WIDTH}px`;
    const colgroup = el('colgroup');
    const spacer = (w: number) => {
      const c = el('col');
      c.style.width = `${w}px`;
      return c;
    };
    colgroup.append(spacer(LABEL_WIDTH), spacer(v.colStart * COL_WIDTH));
    for (let c = v.colStart; c < v.colEnd; c++) colgroup.append(spacer(COL_WIDTH));
    colgroup.append(spacer((this.o.cols - v.colEnd) * COL_WIDTH));
    t.append(colgroup);

    const thead = el('thead');
    const groupRow = el('tr', { class: 'group-row' }, el('th', { class: 'corner' }, ''), el('th', { class: 'spacer' }));
    for (const g of columnGroups(this.o.blocks, v.colStart, v.colEnd)) {
      const th = el('th', { colspan: g.end - g.start, class: `gate-group ${g.block ? this.o.gateClass(g.block.label) : ''}`, 'data-gate': g.block?.label, 'data-testid': 'gate-column-header' });
      // The label sticks to the left edge while its gate's columns scroll by.
      if (g.block) th.append(el('span', { class: 'sticky-label' }, `${g.block.label} · ${g.block.meaning}`));
      th.addEventListener('mouseenter', () => this.o.onHoverHeader(g.block, th));
      groupRow.append(th);
    }
    groupRow.append(el('th', { class: 'spacer' }));
    const unitRow = el('tr', { class: 'unit-row' }, el('th', { class: 'corner' }, 'row \\ col'), el('th', { class: 'spacer' }));
    for (let c = v.colStart; c < v.colEnd; c++) {
      const b = blockOfColumn(this.o.blocks, c);
      unitRow.append(el('th', { class: b ? this.o.gateClass(b.label) : '', 'data-col': c }, columnLabel(this.o.blocks, c)));
    }
    unitRow.append(el('th', { class: 'spacer' }));
    thead.append(groupRow, unitRow);
    t.append(thead);

    const tbody = el('tbody');
    const spacerRow = (n: number) => {
      const tr = el('tr', { class: 'spacer-row' });
      tr.style.height = `${n * ROW_HEIGHT}px`;
      return tr;
    };
    if (v.rowStart > 0) tbody.append(spacerRow(v.rowStart));
    const d = this.data;
    for (let r = v.rowStart; r < v.rowEnd; r++) {
      const tr = el('tr', {}, el('th', { class: 'row-label', 'data-row': r }, rowLabel(this.o.rowSources, r, this.o.rows)), el('td', { class: 'spacer' }));
      for (let c = v.colStart; c < v.colEnd; c++) {
        const inside = r >= d.rowStart && r < d.rowEnd && c >= d.colStart && c < d.colEnd;
        const value = inside ? d.values[(r - d.rowStart) * (d.colEnd - d.colStart) + (c - d.colStart)] : undefined;
        const b = blockOfColumn(this.o.blocks, c);
        const td = el('td', { 'data-row': r, 'data-col': c, class: `${b ? this.o.gateClass(b.label) : ''}${value !== undefined && value < 0 ? ' neg' : ''}` }, value === undefined ? '…' : formatValue(value));
        tr.append(td);
      }
      tr.append(el('td', { class: 'spacer' }));
      tbody.append(tr);
    }
    if (v.rowEnd < this.o.rows) tbody.append(spacerRow(this.o.rows - v.rowEnd));
    t.append(tbody);
  }

  private fetch(v: WindowRange): void {
    // Fetch the view plus one screen around it so small scrolls need no round trip.
    const h = v.rowEnd - v.rowStart;
    const w = v.colEnd - v.colStart;
    const want = {
      rowStart: Math.max(0, v.rowStart - h),
      rowEnd: Math.min(this.o.rows, v.rowEnd + h),
      colStart: Math.max(0, v.colStart - w),
      colEnd: Math.min(this.o.cols, v.colEnd + w),
    };
    if (this.pending && windowCovers({ ...this.pending, values: new Float32Array(0) }, v)) return;
    this.pending = want;
    this.o
      .fetchWindow(want)
      .then((win) => {
        if (this.pending === want) this.pending = null;
        this.data = win;
        this.render();
      })
      .catch(() => {
        if (this.pending === want) this.pending = null;
      });
  }

  private hover(ev: MouseEvent): void {
    const target = ev.target as HTMLElement;
    const cell = target.closest('td[data-row][data-col]') as HTMLElement | null;
    if (cell) this.o.onHoverCell(Number(cell.dataset.row), Number(cell.dataset.col), cell);
  }
}
