/**
 * One opened model file as the viewer sees it: the InspectReport turned into the header/layer-list summary, and
 * the answers to the webview's requests (weights read lazily, one at a time, only when the user opens them).
 * No `vscode` import: the custom editor wraps it, and tests / the static harness drive it directly.
 */
import { openFileSpec } from './fileOpener';
import { fileNameOf } from './remoteModel';
import type { FileSpec } from './worker/protocol';
import { inspectModel, type InspectReport, type InspectWeight } from '../src/explain/inspect';
import { describeCell } from '../src/explain/words';
import type { ModelFile, WeightRef } from '../src/model/types';
import type { BlockStats, HostReply, ModelSummary, WeightData, WeightSummary, WebviewRequest, WindowRange } from './protocol';
import { fuseSplitArrays, fuseValues, partAt, type FusedWeight } from './splitArrays';
import { clampWindow, columnBlocks, downsampleHeatmap, matrixShapeOf, sliceWindow, statsPerBlock } from './weightMatrix';

export interface SessionOptions {
  /** Weights with more elements are sent as heatmaps + windows instead of all values. */
  maxTensorElements: number;
  /** The architecture JSON joined to a weights-only file. */
  configPath?: string;
}

/** The first window sent with a big weight: enough rows/cols to fill a screen. */
const FIRST_WINDOW = { rows: 64, cols: 64 };
/** Largest window the host answers at once (a screenful with overscan, several times over). */
const MAX_WINDOW_ELEMENTS = 200_000;
const HEATMAP_MAX_ROWS = 256;
const HEATMAP_MAX_COLS = 512;
/** Share of a weight's first showing that is the read (the rest: heatmaps, and statistics when sent), for progress. */
const READ_SHARE = 0.6;
/** Weights read and kept in memory at once (most recently used). */
const CACHE_SIZE = 4;

export class ModelSession {
  private cache: { key: string; data: Float32Array }[] = [];
  /** Per layer: Keras 1 split gate arrays fused into one view per role, by fused name. */
  private readonly shown = new Map<string, { weights: InspectWeight[]; fused: Map<string, FusedWeight> }>();

  private constructor(
    readonly path: string,
    readonly file: ModelFile,
    readonly report: InspectReport,
    private readonly opts: SessionOptions,
  ) {
    for (const l of report.layers) this.shown.set(l.name, fuseSplitArrays(l));
  }

  /**
   * Open `path` (its name in messages and the key of the document); `file` / `config` say how to read it when that
   * is not by path (bytes the host read, see worker/protocol.ts FileSpec).
   */
  static async open(path: string, opts: SessionOptions, file?: FileSpec, config?: FileSpec): Promise<ModelSession> {
    const model = await openFileSpec(file ?? { path }, config ?? (opts.configPath ? { path: opts.configPath } : undefined));
    return ModelSession.fromFile(path, model, opts);
  }

  /**
   * The session of a file already open. What the layer list shows (names, classes, output shapes, weight shapes,
   * gate blocks, row sources) comes from the architecture and the arrays' shapes: no weight value is read until the
   * viewer asks for one (getWeight), and statistics only after that (getStats, or along with a small weight).
   */
  static async fromFile(path: string, file: ModelFile, opts: SessionOptions): Promise<ModelSession> {
    try {
      const report = await inspectModel(file);
      return new ModelSession(path, file, report, opts);
    } catch (e) {
      file.close();
      throw e;
    }
  }

  get fileName(): string {
    return fileNameOf(this.path);
  }

  summary(): ModelSummary {
    const r = this.report;
    return {
      fileName: this.fileName,
      format: r.format,
      kerasVersion: r.kerasVersion ?? null,
      backend: r.backend ?? null,
      totalParams: r.totalParams,
      layers: r.layers.map((l) => ({
        name: l.name,
        className: l.className,
        innerClassName: l.innerClassName,
        innerName: l.innerName,
        backwardName: l.backwardName,
        operation: l.operation,
        outputShape: l.outputShape as ModelSummary['layers'][number]['outputShape'],
        params: l.params,
        weights: l.weights.map((w) => weightSummary(w)),
        fused: [...(this.shown.get(l.name)?.fused.values() ?? [])].map((f) => weightSummary(f.weight, f)),
      })),
      notes: r.notes,
      needsArchitecture: r.weightsOnly,
      architecture: this.opts.configPath ? fileNameOf(this.opts.configPath) : undefined,
    };
  }

  /** `progress` hears the share done of a long read (the viewer shows a percentage after a second). */
  async answer(req: WebviewRequest, progress?: (fraction: number, what: string) => void): Promise<HostReply> {
    switch (req.type) {
      case 'getSummary':
        return { type: 'summary', summary: this.summary() };
      case 'getWeight':
        return { type: 'weight', data: await this.weightData(req.layer, req.weight, req.maxElements, req.window, progress) };
      case 'getWindow': {
        const { summary, data } = await this.read(req.layer, req.weight);
        const m = matrixShapeOf(summary.shape);
        return { type: 'window', window: sliceWindow(data, m, limitWindow(clampWindow(m, req.window))) };
      }
      case 'getStats':
        return { type: 'stats', stats: await this.stats(req.layer, req.weight, progress) };
      case 'describeCell': {
        const fused = this.shown.get(req.layer)?.fused.get(req.weight);
        const at = fused ? partAt(fused, req.col) : null;
        if (at) return { type: 'cellText', text: `${at.part.weight.name}: ${describeCell(at.part.weight, req.row, at.col)}` };
        const w = this.findWeight(req.layer, req.weight);
        return { type: 'cellText', text: describeCell(w, req.row, req.col) };
      }
      default:
        return { type: 'error', message: `this view cannot answer '${(req as { type: string }).type}'` };
    }
  }

  /**
   * A weight as the viewer first shows it: a heatmap per gate block, the first window of the table and, for a weight
   * small enough to send whole, its statistics. A big weight's statistics are left to getStats: for a (2048, 8192)
   * kernel (16.7 million values) they are two more passes, as long as the read and the heatmaps together, and the
   * first heatmap should not wait for numbers drawn below it. `progress` hears the share of the steps done: the read
   * (each stored array of a fused view is one step), then a heatmap per gate block (and the statistics when sent),
   * so on a slow disk or machine the viewer can show a percentage.
   */
  async weightData(
    layer: string,
    weight: string,
    maxElements?: number,
    window?: WindowRange,
    progress?: (fraction: number, what: string) => void,
  ): Promise<WeightData> {
    const { summary, data } = await this.read(layer, weight, (f) => progress?.(f * READ_SHARE, 'reading'));
    const m = matrixShapeOf(summary.shape);
    const blocks = columnBlocks(summary.blocks ?? [], summary.shape);
    const limit = Math.min(maxElements ?? this.opts.maxTensorElements, this.opts.maxTensorElements);
    const complete = m.rows * m.cols <= limit;
    const ranges = blocks.length > 0 ? blocks : [{ label: 'all', start: 0, end: m.cols }];
    const steps = ranges.length * (complete ? 2 : 1);
    let done = 0;
    const step = <T>(v: T): T => {
      done++;
      progress?.(READ_SHARE + ((1 - READ_SHARE) * done) / steps, 'summarising');
      return v;
    };
    const first = complete
      ? { rowStart: 0, rowEnd: m.rows, colStart: 0, colEnd: m.cols }
      : limitWindow(clampWindow(m, window ?? { rowStart: 0, rowEnd: FIRST_WINDOW.rows, colStart: 0, colEnd: FIRST_WINDOW.cols }));
    return {
      layer,
      weight,
      shape: summary.shape,
      matrix: m,
      heatmaps: ranges.map((b) =>
        step({
          label: b.label,
          colStart: b.start,
          colEnd: b.end,
          grid: downsampleHeatmap(data, m, HEATMAP_MAX_ROWS, Math.max(8, Math.floor(HEATMAP_MAX_COLS / ranges.length)), b.start, b.end),
        }),
      ),
      stats: complete ? (blocks.length > 0 ? blocks : [null]).map((b) => step(statsPerBlock(data, m, b ? [b] : [])[0])) : null,
      window: sliceWindow(data, m, first),
      complete,
    };
  }

  /**
   * Exact statistics per gate block (or 'all') over every value of the weight; `progress` hears each block done.
   * Before each block it gives way to the thread's other work (a macrotask turn): in the model worker a table window
   * or a cell's words asked meanwhile is answered there (worker/client.ts lets such light calls in) instead of
   * waiting for all blocks — a (2048, 8192) kernel's four blocks take ~0.3 s in VS Code.
   */
  async stats(layer: string, weight: string, progress?: (fraction: number, what: string) => void): Promise<BlockStats[]> {
    const { summary, data } = await this.read(layer, weight, (f) => progress?.(f * READ_SHARE, 'reading'));
    const m = matrixShapeOf(summary.shape);
    const blocks = columnBlocks(summary.blocks ?? [], summary.shape);
    const each = blocks.length > 0 ? blocks : [null];
    const out: BlockStats[] = [];
    for (const [k, b] of each.entries()) {
      await giveWay();
      out.push(statsPerBlock(data, m, b ? [b] : [])[0]);
      progress?.(READ_SHARE + ((1 - READ_SHARE) * (k + 1)) / each.length, 'statistics');
    }
    return out;
  }

  private findWeight(layer: string, weight: string): InspectWeight {
    const l = this.report.layers.find((x) => x.name === layer);
    const w = this.shown.get(layer)?.fused.get(weight)?.weight ?? l?.weights.find((x) => x.name === weight);
    if (!w) throw new Error(`${this.fileName}: no weight '${weight}' in layer '${layer}'`);
    return w;
  }

  private findSummary(layer: string, weight: string): WeightSummary {
    return weightSummary(this.findWeight(layer, weight));
  }

  private findRef(layer: string, weight: string): WeightRef {
    const lw = this.file.layers.find((x) => x.layer === layer);
    const ref = lw?.weights.find((w) => w.name === weight) ?? this.file.layers.flatMap((x) => x.weights).find((w) => w.name === weight);
    if (!ref) throw new Error(`${this.fileName}: the file has no array '${weight}' for layer '${layer}'`);
    return ref;
  }

  /** Read one weight (cached: the table asks for windows of the same weight while scrolling). */
  private async read(layer: string, weight: string, progress?: (fraction: number) => void): Promise<{ summary: WeightSummary; data: Float32Array }> {
    const summary = this.findSummary(layer, weight);
    const key = `${layer}\u0000${weight}`;
    const hit = this.cache.find((c) => c.key === key);
    if (hit) {
      this.cache = [hit, ...this.cache.filter((c) => c !== hit)];
      return { summary, data: hit.data };
    }
    const fused = this.shown.get(layer)?.fused.get(weight);
    let partsRead = 0;
    const data = fused
      ? fuseValues(
          fused.weight.view[0],
          await Promise.all(
            fused.parts.map(async (p) => {
              const part = { cols: p.colEnd - p.colStart, data: await this.findRef(layer, p.weight.name).read() };
              progress?.(++partsRead / fused.parts.length);
              return part;
            }),
          ),
        )
      : await this.findRef(layer, weight).read();
    progress?.(1);
    this.cache = [{ key, data }, ...this.cache].slice(0, CACHE_SIZE);
    return { summary, data };
  }

  close(): void {
    this.cache = [];
    this.file.close();
  }
}

/** The report's weight as the webview sees it (plain JSON, no file paths). */
export function weightSummary(w: InspectWeight, fused?: FusedWeight): WeightSummary {
  const out: WeightSummary = {
    name: w.name,
    role: w.role,
    meaning: w.meaning,
    shape: w.shape,
    params: w.params,
    blocks: w.blocks ?? [],
    rows: (w.rows ?? []).map((r) => ({ ...r })),
  };
  if (w.direction) out.direction = w.direction;
  if (w.gate) out.gate = w.gate;
  if (fused) out.parts = fused.parts.map((p) => p.weight.name);
  return out;
}

/** One macrotask turn (messages waiting on the thread's port are handled first); setTimeout works in Node and browsers. */
function giveWay(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Shrink a window so it never carries more than MAX_WINDOW_ELEMENTS values. */
function limitWindow(w: WindowRange): WindowRange {
  const width = Math.max(1, w.colEnd - w.colStart);
  const maxRows = Math.max(1, Math.floor(MAX_WINDOW_ELEMENTS / width));
  return { ...w, rowEnd: Math.min(w.rowEnd, w.rowStart + maxRows) };
}
