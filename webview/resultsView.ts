/**
 * The Predict results panel: one table per output (bars for probability outputs) and, per recurrent layer, a
 * per-timestep plot of gate activations and cell/hidden states for the units the user picks.
 */
import type { HostEvent, OutputSummary, PredictResultsSummary, TraceSummary, WebviewChannel } from '../extension/protocol';
import { formatValue } from './gateTable';
import { button, el } from './ui';

const MAX_CELLS = 4000;

/** Parse "0, 3, 5-7" into unit indices within [0, units). */
export function parseUnits(text: string, units: number): number[] {
  const out = new Set<number>();
  for (const part of text.split(/[\s,]+/)) {
    if (!part) continue;
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) continue;
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    for (let u = Math.min(a, b); u <= Math.max(a, b) && u < units; u++) out.add(u);
  }
  return [...out].sort((x, y) => x - y);
}

/** Row r of an output seen as (leading axes) x last axis, as its leading index: '1' or '(1, 2)'. */
export function leadingIndex(r: number, lead: number[]): string {
  if (lead.length <= 1) return String(r);
  const idx: number[] = [];
  for (let a = lead.length - 1; a >= 0; a--) {
    idx.unshift(r % lead[a]);
    r = Math.floor(r / lead[a]);
  }
  return `(${idx.join(', ')})`;
}

/** The series a trace can plot: its gates, then c (cell) and h (hidden). */
export function traceSeries(t: TraceSummary): { key: string; label: string; steps: number[][] }[] {
  const s = t.gates.map((g) => ({ key: g, label: `gate ${g}`, steps: t.gateValues[g] ?? [] }));
  if (t.cell) s.push({ key: 'cell', label: 'cell state c', steps: t.cell });
  s.push({ key: 'hidden', label: 'hidden state h', steps: t.hidden });
  return s;
}

const SERIES_COLORS = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#ff9da7'];

export class ResultsView {
  constructor(
    private readonly root: HTMLElement,
    private readonly channel: WebviewChannel,
  ) {
    root.replaceChildren(el('p', { class: 'status', 'data-testid': 'progress' }, 'Waiting for results…'));
  }

  onEvent(e: HostEvent): void {
    if (e.type === 'results') this.render(e.results);
    else if (e.type === 'fatal') this.root.replaceChildren(el('div', { class: 'error', 'data-testid': 'error', role: 'alert' }, e.message));
  }

  private render(r: PredictResultsSummary): void {
    const actions = el(
      'div',
      { class: 'actions' },
      button('Copy as JSON', () => void this.channel.request({ type: 'copyResults' }).catch(() => {}), { 'data-testid': 'copy-json' }),
      button('Save as JSON…', () => void this.channel.request({ type: 'saveResults' }).catch(() => {}), { 'data-testid': 'save-json' }, 'secondary'),
    );
    const head = el(
      'header',
      { id: 'results-summary' },
      el('h1', {}, `Predict: ${r.modelName}`),
      el('p', { class: 'meta' }, `input ${r.inputName} · ${r.outputs.length} output${r.outputs.length === 1 ? '' : 's'} · ${r.elapsedMs.toFixed(0)} ms`),
      actions,
    );
    const outputs = el('section', { 'data-testid': 'outputs', class: 'outputs' }, ...r.outputs.map((o, k) => this.outputTable(o, k)));
    const traces = el('section', { class: 'traces' });
    if (r.traces.length) traces.append(el('h2', {}, 'Recurrent layers, step by step'), ...r.traces.map((t) => this.traceSection(t)));
    this.root.replaceChildren(head, outputs, traces);
  }

  private outputTable(o: OutputSummary, k: number): HTMLElement {
    const cols = o.shape.length ? o.shape[o.shape.length - 1] : 1;
    const rows = Math.ceil(o.values.length / Math.max(1, cols));
    const table = el('table', { class: 'output-table', 'data-output-table': k });
    const lead = o.shape.slice(0, -1);
    const head = el('tr', {}, el('th', {}, lead.length > 1 ? `[${lead.map((_, a) => (a === 0 ? 'sample' : `axis ${a}`)).join(', ')}]` : 'sample'));
    for (let i = 0; i < Math.min(cols, MAX_CELLS); i++) head.append(el('th', {}, String(i)));
    table.append(el('thead', {}, head));
    const body = el('tbody');
    let shown = 0;
    for (let r = 0; r < rows && shown < MAX_CELLS; r++) {
      const tr = el('tr', {}, el('th', {}, leadingIndex(r, lead)));
      let best = -1;
      if (o.looksLikeProbabilities) {
        for (let c = 0; c < cols; c++) if (best < 0 || o.values[r * cols + c] > o.values[r * cols + best]) best = c;
      }
      for (let c = 0; c < cols && shown < MAX_CELLS; c++, shown++) {
        const idx = r * cols + c;
        const v = o.values[idx];
        const td = el('td', { 'data-output': k, 'data-index': idx, class: c === best ? 'best' : '' }, formatValue(v));
        if (o.looksLikeProbabilities) {
          const bar = el('span', { class: 'bar' });
          bar.style.width = `${Math.max(0, Math.min(1, v)) * 100}%`;
          td.prepend(bar);
          td.classList.add('prob');
        }
        tr.append(td);
      }
      body.append(tr);
    }
    table.append(body);
    const note = o.values.length > shown ? el('p', { class: 'note' }, `Showing ${shown} of ${o.values.length} values; Copy/Save as JSON has them all.`) : null;
    return el('div', { class: 'output' }, el('h2', {}, `${o.name} (${o.shape.join(', ')})`), el('div', { class: 'scroll-x' }, table), ...(note ? [note] : []));
  }

  private traceSection(t: TraceSummary): HTMLElement {
    const series = traceSeries(t);
    const unitsInput = el('input', { type: 'text', value: t.units > 1 ? '0, 1' : '0', 'data-testid': 'trace-units', 'aria-label': 'units to plot', size: 14 });
    const sampleInput = el('input', { type: 'number', min: 0, max: Math.max(0, t.batch - 1), value: 0, 'data-testid': 'trace-sample', 'aria-label': 'sample' });
    const enabled = new Set(series.map((s) => s.key));
    const canvas = el('canvas', { 'data-testid': 'trace-plot', 'data-layer': t.layer, 'data-direction': t.direction ?? '', class: 'trace-plot', width: 900, height: 260 });
    const legend = el('div', { class: 'legend' });
    const draw = () => {
      const units = parseUnits(unitsInput.value, t.units);
      const sample = Math.max(0, Math.min(t.batch - 1, Number(sampleInput.value) || 0));
      drawTrace(canvas, t, series.filter((s) => enabled.has(s.key)), units, sample);
    };
    series.forEach((s, k) => {
      const id = `${t.layer}-${t.direction ?? ''}-${s.key}`;
      const box = el('input', { type: 'checkbox', checked: true, id, 'data-series': s.key });
      box.addEventListener('change', () => {
        if (box.checked) enabled.add(s.key);
        else enabled.delete(s.key);
        draw();
      });
      const swatch = el('span', { class: 'swatch' });
      swatch.style.background = SERIES_COLORS[k % SERIES_COLORS.length];
      legend.append(el('label', { for: id }, box, swatch, s.label));
    });
    unitsInput.addEventListener('input', draw);
    sampleInput.addEventListener('input', draw);
    const dashes = el('span', { class: 'note' }, 'solid line / dots: first unit listed; dashed / squares: the others');
    const controls = el(
      'div',
      { class: 'trace-controls' },
      el('label', {}, `units (0–${t.units - 1}): `, unitsInput),
      ...(t.batch > 1 ? [el('label', {}, ` sample: `, sampleInput)] : []),
      dashes,
    );
    const section = el(
      'div',
      { class: 'trace' },
      el('h3', {}, `${t.layer}${t.direction ? ` (${t.direction})` : ''} · ${t.steps} steps · ${t.units} units`),
      controls,
      legend,
      canvas,
    );
    requestAnimationFrame(draw);
    return section;
  }
}

/** Plot the chosen series for the chosen units over the steps. Solid line = first unit, then dashes. */
export function drawTrace(canvas: HTMLCanvasElement, t: TraceSummary, series: ReturnType<typeof traceSeries>, units: number[], sample: number): void {
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const W = canvas.width;
  const H = canvas.height;
  const pad = { l: 44, r: 10, t: 10, b: 24 };
  ctx.clearRect(0, 0, W, H);
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of series)
    for (const step of s.steps)
      for (const u of units) {
        const v = step[sample * t.units + u];
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
  if (!Number.isFinite(lo)) {
    lo = 0;
    hi = 1;
  }
  if (hi - lo < 1e-9) {
    lo -= 0.5;
    hi += 0.5;
  }
  const fg = getComputedStyle(document.body).getPropertyValue('--vscode-foreground').trim() || '#ccc';
  const x = (step: number) => pad.l + (t.steps <= 1 ? (W - pad.l - pad.r) / 2 : (step / (t.steps - 1)) * (W - pad.l - pad.r));
  const y = (v: number) => pad.t + (1 - (v - lo) / (hi - lo)) * (H - pad.t - pad.b);
  ctx.strokeStyle = fg;
  ctx.globalAlpha = 0.4;
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(pad.l, pad.t);
  ctx.lineTo(pad.l, H - pad.b);
  ctx.lineTo(W - pad.r, H - pad.b);
  ctx.stroke();
  ctx.globalAlpha = 1;
  ctx.fillStyle = fg;
  ctx.font = '11px sans-serif';
  ctx.fillText(formatValue(hi), 2, pad.t + 8);
  ctx.fillText(formatValue(lo), 2, H - pad.b);
  const every = Math.max(1, Math.ceil(t.steps / 12));
  for (let i = 0; i < t.steps; i += every) ctx.fillText(i === 0 ? 'step 0' : String(i), x(i) - (i === 0 ? 0 : 3), H - 6);
  if ((t.steps - 1) % every !== 0) ctx.fillText(String(t.steps - 1), x(t.steps - 1) - 6, H - 6);
  const all = traceSeries(t).map((s) => s.key);
  for (const s of series) {
    ctx.strokeStyle = SERIES_COLORS[all.indexOf(s.key) % SERIES_COLORS.length];
    units.forEach((u, k) => {
      ctx.setLineDash(k === 0 ? [] : [2 + 2 * k, 3]);
      ctx.lineWidth = 1.6;
      ctx.beginPath();
      s.steps.forEach((step, i) => {
        const v = step[sample * t.units + u];
        if (i === 0) ctx.moveTo(x(i), y(v));
        else ctx.lineTo(x(i), y(v));
      });
      ctx.stroke();
      // Markers make short sequences (even a single step) readable.
      if (t.steps <= 60) {
        ctx.fillStyle = ctx.strokeStyle;
        s.steps.forEach((step, i) => {
          const v = step[sample * t.units + u];
          ctx.beginPath();
          if (k === 0) ctx.arc(x(i), y(v), 2.5, 0, 2 * Math.PI);
          else ctx.rect(x(i) - 2, y(v) - 2, 4, 4);
          ctx.fill();
        });
      }
    });
  }
  ctx.setLineDash([]);
}
