/**
 * The model viewer: header (format, Keras version, backend, parameters), searchable layer list, and per weight the
 * gate legend, one heatmap + stats + histogram per gate block, and the virtualized gate-split table.
 * Weights are fetched from the host only when the user opens them.
 */
import type { BlockStats, GateBlockInfo, HostEvent, LayerSummary, ModelSummary, WeightData, WeightSummary } from '../extension/protocol';
import { HostError, LAYER_LIST_MARK, sliceText, weightNaming, type WebviewChannel, type WeightNaming } from '../extension/protocol';
import { GateTable, formatValue } from './gateTable';
import { cellAtPoint, drawColorScale, drawHeatmap, drawHistogram } from './heatmap';
import { Tooltip } from './tooltip';
import { badge, button, el, progressRing, tag } from './ui';

/** Class name for a gate's colour (known labels get fixed colours; others cycle through a palette). */
export function gateClass(label: string): string {
  return /^[ifcozrh]$/.test(label) ? `gate-${label}` : 'gate-other';
}

/** Text for a layer's output shape: (None, 10, 32). */
export function shapeText(shape: LayerSummary['outputShape']): string {
  if (shape === undefined || shape === null) return '?';
  if (typeof shape === 'string') return shape;
  const one = (s: (number | null)[]) => `(${s.map((d) => (d === null ? 'None' : String(d))).join(', ')}${s.length === 1 ? ',' : ''})`;
  if (shape.length > 0 && Array.isArray(shape[0])) return (shape as (number | null)[][]).map(one).join(' ');
  return one(shape as (number | null)[]);
}

export function paramsText(n: number): string {
  return n.toLocaleString('en-US');
}

/** Layers whose name or class contains the query (case-insensitive). */
export function filterLayers(layers: LayerSummary[], query: string): LayerSummary[] {
  const q = query.trim().toLowerCase();
  if (!q) return layers;
  return layers.filter((l) => l.name.toLowerCase().includes(q) || l.className.toLowerCase().includes(q) || (l.innerClassName ?? '').toLowerCase().includes(q));
}

const MAX_ELEMENTS_INLINE = 262_144;

export class ModelView {
  private summary: ModelSummary | null = null;
  /** get_weights() index and Keras name of every weight, keyed `layer\u0000weight`. */
  private naming = new Map<string, WeightNaming>();
  private selected: string | null = null;
  private readonly header = el('header', { id: 'summary', 'data-testid': 'summary' });
  private readonly search = el('input', { type: 'search', 'data-testid': 'layer-search', placeholder: 'Search layers', 'aria-label': 'Search layers' });
  private readonly list = el('ul', { class: 'layer-list', 'data-testid': 'layer-list' });
  private readonly detail = el('section', { class: 'layer-detail', 'data-testid': 'layer-detail' });
  private readonly status = el('div', { class: 'status' });

  constructor(
    private readonly root: HTMLElement,
    private readonly channel: WebviewChannel,
    private readonly tooltip: Tooltip,
  ) {
    const aside = el('aside', { class: 'layers' }, this.search, this.list);
    root.replaceChildren(this.status, this.header, el('div', { class: 'main' }, aside, this.detail));
    this.search.addEventListener('input', () => this.renderList());
  }

  /**
   * Ask for the summary. The host also pushes it (the 'opened' event) the moment the worker has it: whichever comes
   * first is shown, the other is dropped (a later summaryChanged always replaces it).
   */
  async start(): Promise<void> {
    this.showProgress('Opening the model file…');
    try {
      const reply = await this.channel.request({ type: 'getSummary' });
      if (!this.summary) this.setSummary(reply.summary);
    } catch (e) {
      if (!this.summary) this.showError(e instanceof Error ? e.message : String(e));
    }
  }

  onEvent(e: HostEvent): void {
    if (e.type === 'opened') {
      if (!this.summary) this.setSummary(e.summary);
    } else if (e.type === 'progress') this.showProgress(e.message);
    else if (e.type === 'summaryChanged') this.setSummary(e.summary);
    else if (e.type === 'fatal') this.showError(e.message.includes(e.fileName) ? e.message : `${e.fileName}: ${e.message}`);
    else if (e.type === 'weightProgress') this.reading.get(`${e.layer}\u0000${e.weight}`)?.(e.percent);
  }

  /** Weights being read, by layer + weight: show a percentage (after a second). */
  private readonly reading = new Map<string, (percent: number) => void>();

  private showProgress(message: string): void {
    if (this.summary) return;
    this.status.replaceChildren(el('div', { class: 'progress', 'data-testid': 'progress' }, progressRing(), el('span', {}, message)));
  }

  private showError(message: string): void {
    this.status.replaceChildren(el('div', { class: 'error', 'data-testid': 'error', role: 'alert' }, el('strong', {}, 'Keras Lens could not open this file. '), message));
  }

  private setSummary(s: ModelSummary): void {
    this.summary = s;
    this.naming = weightNaming(s);
    this.status.replaceChildren();
    this.renderHeader(s);
    this.renderList();
    if (performance.getEntriesByName(LAYER_LIST_MARK).length === 0) performance.mark(LAYER_LIST_MARK, { detail: Date.now() });
    const first = s.layers.find((l) => l.name === this.selected) ?? s.layers.find((l) => l.weights.length > 0) ?? s.layers[0];
    if (first) this.select(first.name);
    else this.detail.replaceChildren(el('p', { class: 'empty' }, 'This file lists no layers.'));
  }

  private renderHeader(s: ModelSummary): void {
    const field = (label: string, value: string, testid: string) =>
      el('div', { class: 'field' }, el('span', { class: 'label' }, label), el('span', { class: 'value', 'data-testid': testid }, value));
    const fields = el(
      'div',
      { class: 'fields' },
      field('Format', s.format, 'format'),
      field('Keras', s.kerasVersion ?? 'unknown', 'keras-version'),
      field('Backend', s.backend ?? 'unknown', 'backend'),
      field('Parameters', paramsText(s.totalParams), 'total-params'),
      field('Layers', String(s.layers.length), 'layer-count'),
    );
    if (s.architecture) fields.append(field('Architecture', s.architecture, 'architecture'));
    this.header.replaceChildren(el('h1', { 'data-testid': 'file-name' }, s.fileName), fields);
    if (s.needsArchitecture) {
      const notice = el(
        'div',
        { class: 'notice', 'data-testid': 'needs-architecture' },
        el('span', {}, 'This file holds weights only: layer classes, gate blocks and row sources need the model architecture (model.to_json()).'),
        button('Pick architecture JSON…', () => this.pickArchitecture(), { 'data-testid': 'pick-architecture' }),
      );
      this.header.append(notice);
    }
  }

  private async pickArchitecture(): Promise<void> {
    try {
      const r = await this.channel.request({ type: 'pickArchitecture' });
      if (r.message) this.status.replaceChildren(el('div', { class: 'notice' }, r.message));
    } catch (e) {
      this.showError(e instanceof Error ? e.message : String(e));
    }
  }

  private renderList(): void {
    const s = this.summary;
    if (!s) return;
    const items = filterLayers(s.layers, this.search.value).map((l) => {
      const li = el(
        'li',
        { 'data-testid': 'layer', 'data-layer': l.name, tabindex: 0, class: l.name === this.selected ? 'selected' : '', 'aria-selected': l.name === this.selected },
        el('div', { class: 'layer-name' }, el('span', { class: 'name' }, l.name), tag(l.innerClassName ? `${l.className}(${l.innerClassName})` : l.className)),
        el(
          'div',
          { class: 'layer-meta' },
          el('span', { class: 'shape', title: 'output shape' }, shapeText(l.outputShape)),
          el('span', { class: 'weights' }, `${l.weights.length} weight${l.weights.length === 1 ? '' : 's'}`),
          el('span', { class: 'params' }, `${paramsText(l.params)} params`),
        ),
      );
      li.addEventListener('click', () => this.select(l.name));
      li.addEventListener('keydown', (ev) => {
        if (ev.key === 'Enter' || ev.key === ' ') this.select(l.name);
      });
      return li;
    });
    this.list.replaceChildren(...items);
    if (items.length === 0) this.list.append(el('li', { class: 'empty' }, 'No layer matches.'));
  }

  private select(name: string): void {
    const layer = this.summary?.layers.find((l) => l.name === name);
    if (!layer) return;
    this.selected = name;
    for (const li of this.list.querySelectorAll<HTMLElement>('[data-testid=layer]')) {
      const on = li.dataset.layer === name;
      li.classList.toggle('selected', on);
      li.setAttribute('aria-selected', String(on));
    }
    this.renderLayer(layer);
  }

  private renderLayer(layer: LayerSummary): void {
    const title = el(
      'div',
      { class: 'layer-title' },
      el('h2', { 'data-testid': 'layer-title' }, layer.name),
      tag(layer.innerClassName ? `${layer.className}(${layer.innerClassName})` : layer.className),
      el('span', { class: 'shape' }, `output ${shapeText(layer.outputShape)}`),
      badge(`${paramsText(layer.params)} params`),
    );
    if (layer.weights.length === 0) {
      const what = layer.operation
        ? el('p', { class: 'operation', 'data-testid': 'layer-operation' }, 'Computes ', el('code', {}, layer.operation), '. No weights.')
        : el('p', { class: 'empty' }, 'This layer has no weights.');
      this.detail.replaceChildren(title, what);
      return;
    }
    // Keras 1 split gate arrays: the fused views (one per role) first, then the stored arrays as written.
    const fused = layer.fused ?? [];
    const sections = (ws: WeightSummary[]) => [
      ...fused.filter((f) => ws.some((w) => (w.direction ?? '') === (f.direction ?? ''))).map((w) => this.weightSection(layer, w, 'fused-weight')),
      ...(fused.length ? [el('h4', { class: 'stored-heading' }, 'Stored arrays (one per gate, file order)')] : []),
      ...ws.map((w) => this.weightSection(layer, w)),
    ];
    const directed = layer.weights.some((w) => w.direction);
    if (directed) {
      const fwd = layer.weights.filter((w) => w.direction !== 'backward');
      const bwd = layer.weights.filter((w) => w.direction === 'backward');
      this.detail.replaceChildren(
        title,
        el(
          'div',
          { class: 'directions' },
          el('div', { class: 'direction', 'data-direction': 'forward' }, el('h3', {}, 'Forward'), ...sections(fwd)),
          el('div', { class: 'direction', 'data-direction': 'backward' }, el('h3', {}, 'Backward'), ...sections(bwd)),
        ),
      );
    } else {
      this.detail.replaceChildren(title, ...sections(layer.weights));
    }
  }

  private weightSection(layer: LayerSummary, w: WeightSummary, testid: 'weight' | 'fused-weight' = 'weight'): HTMLElement {
    const body = el('div', { class: 'weight-body', hidden: true });
    const toggle = el(
      'button',
      { class: 'weight-toggle', 'aria-expanded': 'false', 'data-testid': 'weight-toggle' },
      el('span', { class: 'chevron' }, '▸'),
      ...this.nameParts(layer, w),
      el('span', { class: 'weight-shape' }, `(${w.shape.join(', ')}${w.shape.length === 1 ? ',' : ''})`),
      el('span', { class: 'weight-role' }, w.meaning || w.role),
      ...(w.parts ? [el('span', { class: 'weight-parts', 'data-testid': 'weight-parts' }, `joins ${w.parts.join(' + ')}`)] : []),
    );
    const section = el('section', { class: `weight ${testid}`, 'data-testid': testid, 'data-weight': w.name, 'data-role': w.role }, toggle, body);
    toggle.addEventListener('mouseenter', () => this.tooltip.show(`${w.name}: ${w.meaning || w.role}, shape (${w.shape.join(', ')}), ${paramsText(w.params)} values`, toggle));
    toggle.addEventListener('mouseleave', () => this.tooltip.hide());
    let loaded = false;
    toggle.addEventListener('click', () => {
      const open = body.hidden;
      body.hidden = !open;
      toggle.setAttribute('aria-expanded', String(open));
      section.classList.toggle('open', open);
      (toggle.firstChild as HTMLElement).textContent = open ? '▾' : '▸';
      if (open && !loaded) {
        loaded = true;
        void this.loadWeight(layer, w, body);
      }
    });
    return section;
  }

  /** The weight's header names: `model.get_weights()[k]`, the Keras name, and the storage path when it differs. */
  private nameParts(layer: LayerSummary, w: WeightSummary): HTMLElement[] {
    const n = this.naming.get(`${layer.name}\u0000${w.name}`);
    if (!n) return [el('span', { class: 'weight-name' }, w.name)];
    const parts = [
      el('span', { class: 'weight-index', 'data-testid': 'weight-index' }, `model.get_weights()[${n.getWeightsIndex}]`),
      el('span', { class: 'weight-name', 'data-testid': 'weight-keras-name' }, n.kerasName),
    ];
    if (n.storedName !== n.kerasName) parts.push(el('span', { class: 'weight-stored', 'data-testid': 'weight-stored-name' }, n.storedName));
    return parts;
  }

  /**
   * Shows `what` in `label` with the host's percentage once the request has run for a second (weightProgress events
   * for this weight); the returned function stops listening.
   */
  private percentAfterASecond(key: string, label: HTMLElement, what: string): () => void {
    const started = Date.now();
    let percent = 0;
    const show = () => {
      if (Date.now() - started >= 1000) label.textContent = `${what} ${percent}%`;
    };
    const timer = setTimeout(show, 1000);
    const listener = (p: number) => {
      percent = p;
      show();
    };
    this.reading.set(key, listener);
    return () => {
      clearTimeout(timer);
      if (this.reading.get(key) === listener) this.reading.delete(key);
    };
  }

  private async loadWeight(layer: LayerSummary, w: WeightSummary, body: HTMLElement): Promise<void> {
    const label = el('span', {}, `Reading ${w.name}…`);
    body.replaceChildren(el('div', { class: 'progress', 'data-testid': 'weight-progress' }, progressRing(), label));
    // Reads that take longer than a second show how far they are (the host sends the share of steps done).
    const key = `${layer.name}\u0000${w.name}`;
    const file = this.summary?.fileName ?? '';
    // The host's lines already name the file (worker time limits, memory caps); others get it in front.
    const errorLine = (e: unknown) => {
      const msg = e instanceof HostError || e instanceof Error ? e.message : String(e);
      return file && !msg.startsWith(`${file}: `) ? `${file}: ${msg}` : msg;
    };
    let data: WeightData;
    const stop = this.percentAfterASecond(key, label, `Reading ${w.name}…`);
    try {
      data = (await this.channel.request({ type: 'getWeight', layer: layer.name, weight: w.name, maxElements: MAX_ELEMENTS_INLINE })).data;
    } catch (e) {
      body.replaceChildren(el('div', { class: 'error', 'data-testid': 'error', role: 'alert' }, errorLine(e)));
      return;
    } finally {
      stop();
    }
    const blocks = w.blocks.filter((b) => b.axis === -1 || b.axis === w.shape.length - 1).sort((a, b) => a.start - b.start);
    const describe = async (row: number, col: number): Promise<string> => {
      try {
        return (await this.channel.request({ type: 'describeCell', layer: layer.name, weight: w.name, row, col })).text;
      } catch {
        return `${w.name}[${row}, ${col}]`;
      }
    };

    const table = new GateTable({
      rows: data.matrix.rows,
      cols: data.matrix.cols,
      blocks,
      rowSources: w.rows,
      window: data.window,
      complete: data.complete,
      fetchWindow: async (range) => (await this.channel.request({ type: 'getWindow', layer: layer.name, weight: w.name, window: range })).window,
      gateClass,
      onHoverCell: (row, col, target) => {
        const value = target.textContent ?? '';
        this.tooltip.showAsync(describe(row, col).then((t) => `${t}\nvalue: ${value}`), target);
      },
      onHoverHeader: (block, target) => {
        if (block) this.tooltip.show(`${block.label}: ${block.meaning}, columns ${block.start}–${block.end - 1}`, target);
      },
      onLeave: () => this.tooltip.hide(),
    });

    const legend = el('div', { class: 'gate-legend' });
    for (const b of blocks) {
      const chip = el('button', { class: `gate-chip ${gateClass(b.label)}`, 'data-testid': 'gate-header', 'data-gate': b.label }, `${b.label} · ${b.meaning}`, el('span', { class: 'cols' }, ` cols ${b.start}–${b.end - 1}`));
      chip.addEventListener('mouseenter', () => this.tooltip.show(`${w.name} columns ${b.start}–${b.end - 1}: ${b.meaning} (${b.end - b.start} units)`, chip));
      chip.addEventListener('mouseleave', () => this.tooltip.hide());
      chip.addEventListener('click', () => table.reveal(0, b.start));
      const naming = this.naming.get(`${layer.name}\u0000${w.name}`);
      if (naming) {
        // Copy slice: the numpy slice of this gate in both forms, e.g. model.get_weights()[0][:, 128:256]
        const slice = sliceText(layer.name, naming, w, b);
        const copy = el('button', { class: 'copy-slice', 'data-testid': 'copy-slice', 'data-gate': b.label }, 'Copy slice');
        copy.addEventListener('mouseenter', () => this.tooltip.show(`${slice.model}\n${slice.layer}`, copy));
        copy.addEventListener('mouseleave', () => this.tooltip.hide());
        copy.addEventListener('click', () => {
          void copyText(`${slice.model}\n${slice.layer}`).then((ok) => {
            copy.textContent = ok ? 'Copied' : 'Copy failed';
            setTimeout(() => (copy.textContent = 'Copy slice'), 1500);
          });
        });
        legend.append(el('span', { class: 'gate-chip-group' }, chip, copy));
      } else legend.append(chip);
    }

    const absMax = Math.max(0, ...data.heatmaps.map((h) => h.grid.absMax));
    const maps = el('div', { class: 'heatmaps' });
    const figures = data.heatmaps.map((hm) => {
      const block = blocks.find((b) => b.label === hm.label && b.start === hm.colStart);
      const f = this.heatmapFigure(w, hm, block, absMax, data, table, describe);
      maps.append(f.element);
      return f;
    });
    const showStats = (stats: BlockStats[]) => figures.forEach((f) => f.showStats(stats.find((s) => s.label === f.label) ?? stats[0]));
    const scaleCanvas = el('canvas', { class: 'color-scale', width: 120, height: 10, 'data-testid': 'color-scale' });
    drawColorScale(scaleCanvas, absMax);
    const scale = el('div', { class: 'scale' }, el('span', {}, formatValue(-absMax)), scaleCanvas, el('span', {}, `+${formatValue(absMax)}`));
    legend.append(scale);
    const note = data.complete
      ? null
      : el('p', { class: 'note' }, `${paramsText(data.matrix.rows * data.matrix.cols)} values: the heatmaps are downsampled (each pixel keeps its largest |w|); the table loads the rows and columns in view.`);
    body.replaceChildren(legend, maps, ...(note ? [note] : []), table.element);
    if (data.stats) {
      showStats(data.stats);
      return;
    }
    // A big weight: the heatmaps are up; its exact statistics come next (two passes over every value in the worker).
    const statsLabel = el('span', {}, 'Statistics…');
    const pending = el('div', { class: 'progress', 'data-testid': 'stats-progress' }, progressRing(), statsLabel);
    maps.after(pending);
    const stopStats = this.percentAfterASecond(key, statsLabel, 'Statistics…');
    try {
      showStats((await this.channel.request({ type: 'getStats', layer: layer.name, weight: w.name })).stats);
      pending.remove();
    } catch (e) {
      pending.replaceWith(el('div', { class: 'error', 'data-testid': 'error', role: 'alert' }, errorLine(e)));
    } finally {
      stopStats();
    }
  }

  /** A gate block's figure: caption, heatmap, then its statistics and histogram once `showStats` gives them. */
  private heatmapFigure(
    w: WeightSummary,
    hm: WeightData['heatmaps'][number],
    block: GateBlockInfo | undefined,
    absMax: number,
    data: WeightData,
    table: GateTable,
    describe: (row: number, col: number) => Promise<string>,
  ): { element: HTMLElement; label: string; showStats: (stats: BlockStats) => void } {
    const canvas = el('canvas', { 'data-testid': 'heatmap', 'data-gate': hm.label, class: 'heatmap' });
    drawHeatmap(canvas, hm.grid, absMax);
    const rows = data.matrix.rows;
    canvas.style.height = `${Math.max(24, Math.min(200, rows * 6))}px`;
    const cols = hm.colEnd - hm.colStart;
    const at = (ev: MouseEvent) => {
      const r = canvas.getBoundingClientRect();
      return cellAtPoint(ev.clientX - r.left, ev.clientY - r.top, r.width, r.height, rows, hm.colStart, cols);
    };
    canvas.addEventListener('mousemove', (ev) => {
      const { row, col } = at(ev);
      this.tooltip.showAsync(describe(row, col), canvas, { x: ev.clientX, y: ev.clientY });
    });
    canvas.addEventListener('mouseleave', () => this.tooltip.hide());
    canvas.addEventListener('click', (ev) => {
      const { row, col } = at(ev);
      table.reveal(row, col);
    });
    const hist = el('canvas', { class: 'histogram', width: 160, height: 36, 'data-testid': 'histogram', 'data-gate': hm.label });
    const stat = (k: string, v: string) => el('div', {}, el('span', { class: 'label' }, k), el('span', { class: 'value' }, v));
    const statsBox = el('div', { class: 'stats', 'data-testid': 'gate-stats', 'data-gate': hm.label, 'data-pending': 'true' });
    const showStats = (stats: BlockStats) => {
      statsBox.replaceChildren(
        stat('mean', formatValue(stats.mean)),
        stat('std', formatValue(stats.std)),
        stat('min', formatValue(stats.min)),
        stat('max', formatValue(stats.max)),
        stat('L2', formatValue(stats.l2)),
        stat('|w|<1e-3', `${(stats.nearZero * 100).toFixed(1)}%`),
      );
      statsBox.removeAttribute('data-pending');
      drawHistogram(hist, stats.bins, getComputedStyle(document.body).getPropertyValue('--vscode-charts-blue').trim() || '#3794ff');
    };
    const caption = el('figcaption', { class: block ? gateClass(block.label) : '' }, block ? `${block.label} · ${block.meaning}` : w.name);
    const fig = el('figure', { class: 'heatmap-figure' }, caption, canvas, statsBox, hist);
    fig.style.flexGrow = String(Math.max(1, cols));
    return { element: fig, label: hm.label, showStats };
  }
}

/** Puts text on the clipboard from the webview (the Clipboard API, or a selected textarea where it is missing). */
export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = el('textarea', {}) as HTMLTextAreaElement;
    area.value = text;
    document.body.append(area);
    area.select();
    const ok = document.execCommand('copy');
    area.remove();
    return ok;
  }
}
