/**
 * The one protocol between the extension host and the Keras Lens webviews (model viewer and results panel).
 * Imported by both sides: keep it free of `vscode` and node imports.
 *
 * Every message travels in an envelope with an id. A webview *request* gets exactly one *reply* whose
 * `inReplyTo` is the request's id; a reply is either the answer or `{ type: 'error', message }` with one line.
 * The host may also push *events* (no reply expected): progress while a big file opens, a new summary after the
 * user joined an architecture, predict results.
 */

// ---------------------------------------------------------------------------------------------
// Shapes carried by the messages: plain JSON, except weight values, which are Float32Array (see Float32Values)
// ---------------------------------------------------------------------------------------------

/**
 * Weight values on the wire: a Float32Array with its own ArrayBuffer (never a view into a bigger one). Every reader
 * converts weights to float32 (src/model/types.ts WeightRef.read), so float32 loses nothing; and a typed array
 * crosses each hop as bytes instead of a JSON number array (a 256 x 512 heatmap is 512 KB, not 2.4 MB of text):
 * model worker -> extension host by structured clone with its buffer in the transfer list (worker/protocol.ts
 * replyTransfers), extension host -> webview through VS Code's webview.postMessage, which passes ArrayBuffers and
 * typed arrays as binary since VS Code 1.57.
 */
export type Float32Values = Float32Array;

export interface GateBlockInfo {
  label: string;
  meaning: string;
  axis: number;
  start: number;
  end: number;
}

export interface RowSourceInfo {
  source: string;
  start: number;
  end: number;
  meaning?: string;
  /** Index inside the source of the span's first row. */
  offset?: number;
  /** The word for one row: 'unit', 'feature', 'token id'... */
  index?: string;
  timestep?: number;
  position?: number[];
}

/** One weight as listed in the InspectReport (no values). */
export interface WeightSummary {
  name: string;
  role: string;
  meaning: string;
  shape: number[];
  params: number;
  direction?: 'forward' | 'backward';
  blocks: GateBlockInfo[];
  rows: RowSourceInfo[];
  /** Keras 1 split arrays: the one gate this array holds. */
  gate?: string;
  /** A fused view of Keras 1 split gate arrays: the stored arrays it joins, in column order. */
  parts?: string[];
}

export interface LayerSummary {
  name: string;
  className: string;
  innerClassName?: string;
  /** Wrappers: the wrapped layer's name, and Bidirectional's explicit backward layer's. */
  innerName?: string;
  backwardName?: string;
  /** Operation nodes (keras.ops calls, TFOpLambda): what the node computes, e.g. `lstm[:, -1, :]`. */
  operation?: string;
  outputShape?: (number | null)[] | (number | null)[][] | string;
  params: number;
  /** The stored arrays, in file (get_weights) order. */
  weights: WeightSummary[];
  /** Keras 1 split gate arrays joined into one view per role (and direction), in gate order. */
  fused?: WeightSummary[];
}

/** What the header and the layer list show. */
export interface ModelSummary {
  fileName: string;
  format: string;
  kerasVersion: string | null;
  backend?: string | null;
  totalParams: number;
  layers: LayerSummary[];
  /** Things the reader should know (e.g. shapes that could not be inferred). */
  notes?: string[];
  /** A weights-only file opened without its architecture: the UI offers to pick the architecture JSON. */
  needsArchitecture?: boolean;
  /** The architecture JSON joined to this weights file, if any (display name). */
  architecture?: string;
}

/** Per-gate (or whole-tensor) statistics, over all values of the block. */
export interface BlockStats {
  label: string;
  count: number;
  mean: number;
  std: number;
  min: number;
  max: number;
  l2: number;
  /** Share of values with |w| < 1e-3, in [0, 1]. */
  nearZero: number;
  /** Histogram over [min, max] in `bins.length` equal bins. */
  bins: number[];
}

/**
 * A weight seen as a matrix: rows = first axis (or all leading axes flattened), cols = last axis.
 * A 1-D weight is one row.
 */
export interface MatrixShape {
  rows: number;
  cols: number;
}

/**
 * A downsampled picture of columns [colStart, colEnd) of the matrix: an exact block reduction, not a sample. Grid
 * cell (i, j) covers matrix rows r with floor(r * rows / matrixRows) = i and block columns c with
 * floor(c * cols / blockCols) = j, and holds the value of largest |w| among them (the first in row-major order on a
 * tie), so a single large weight stays visible. A block that fits is copied as is (one cell per value).
 */
export interface HeatmapGrid {
  rows: number;
  cols: number;
  /** Row-major, rows*cols values. */
  values: Float32Values;
  /** Largest |value| in the whole weight (for a symmetric colour scale). */
  absMax: number;
}

/** A rectangular window of values, rows [rowStart,rowEnd) x cols [colStart,colEnd), row-major. */
export interface BlockHeatmap {
  label: string;
  colStart: number;
  colEnd: number;
  grid: HeatmapGrid;
}

export interface ValueWindow {
  rowStart: number;
  rowEnd: number;
  colStart: number;
  colEnd: number;
  /** The stored values (exact), row-major. */
  values: Float32Values;
}

export interface WeightData {
  layer: string;
  weight: string;
  shape: number[];
  matrix: MatrixShape;
  /**
   * Stats per gate block along the columns (one entry 'all' when the weight has no blocks), over every value. Null
   * for a weight too big to send whole (`complete` false): two passes over 16.7 million values must not hold up the
   * first heatmap, so the webview asks `getStats` once the heatmaps are drawn.
   */
  stats: BlockStats[] | null;
  /** One downsampled picture per column block (one 'all' entry when the weight has no blocks). */
  heatmaps: BlockHeatmap[];
  /** The full values when the weight is small enough, else the first window; ask getWindow for others. */
  window: ValueWindow;
  /** True when `window` covers the whole matrix. */
  complete: boolean;
}

export interface OutputSummary {
  name: string;
  shape: number[];
  values: number[];
  /** The last axis sums to 1 with values in [0,1] (softmax-like): draw bars. */
  looksLikeProbabilities: boolean;
}

export interface TraceSummary {
  layer: string;
  direction?: 'forward' | 'backward';
  gates: string[];
  steps: number;
  batch: number;
  units: number;
  /** gates[g] -> [t][b*units + u] */
  gateValues: Record<string, number[][]>;
  cell?: number[][];
  hidden: number[][];
}

export interface PredictResultsSummary {
  modelName: string;
  inputName: string;
  elapsedMs: number;
  outputs: OutputSummary[];
  traces: TraceSummary[];
}

// ---------------------------------------------------------------------------------------------
// Requests (webview -> host) and their replies
// ---------------------------------------------------------------------------------------------

export type WebviewRequest =
  | { type: 'getSummary' }
  | { type: 'getWeight'; layer: string; weight: string; maxElements?: number; window?: WindowRange }
  | { type: 'getWindow'; layer: string; weight: string; window: WindowRange }
  /** The exact statistics of a weight whose getWeight reply had none (a big one). */
  | { type: 'getStats'; layer: string; weight: string }
  | { type: 'describeCell'; layer: string; weight: string; row: number; col: number }
  | { type: 'pickArchitecture' }
  | { type: 'copyResults' }
  | { type: 'saveResults' };

export interface WindowRange {
  rowStart: number;
  rowEnd: number;
  colStart: number;
  colEnd: number;
}

export type HostReply =
  | { type: 'summary'; summary: ModelSummary }
  | { type: 'weight'; data: WeightData }
  | { type: 'window'; window: ValueWindow }
  | { type: 'stats'; stats: BlockStats[] }
  | { type: 'cellText'; text: string }
  | { type: 'done'; message?: string }
  | { type: 'error'; message: string };

/**
 * The window property where the page's inline script (webviewHtml.ts) keeps the host's messages that arrive before
 * webview.js listens; webview/main.ts replays them and sets it to null.
 */
export const EARLY_MESSAGES = '__kerasLensEarly';

/**
 * Performance marks the model viewer sets (detail: Date.now(), the wall clock, since a webview's timeOrigin is
 * VS Code's frame, not its document), for test/bench/viewer-vscode.ts: our script started; the first layer list is
 * in the DOM.
 */
export const SCRIPT_MARK = 'keras-lens:script';
export const LAYER_LIST_MARK = 'keras-lens:layer-list';

/** Events the host pushes without being asked. */
export type HostEvent =
  | { type: 'progress'; message: string }
  /**
   * The model viewer's first summary, pushed the moment the worker has opened the file, without waiting for the
   * webview's getSummary (which stays: its reply is the fallback, and a viewer shows whichever comes first).
   */
  | { type: 'opened'; summary: ModelSummary }
  | { type: 'summaryChanged'; summary: ModelSummary }
  | { type: 'fatal'; fileName: string; message: string }
  /** A getWeight or getStats still running: `percent` of its steps (reading, heatmaps / statistics) done. */
  | { type: 'weightProgress'; layer: string; weight: string; percent: number }
  | { type: 'results'; results: PredictResultsSummary };

/** Webview-side events (no reply). */
export type WebviewEvent = { type: 'ready' };

export type ReplyTo<R extends WebviewRequest> = R extends { type: 'getSummary' }
  ? { type: 'summary'; summary: ModelSummary }
  : R extends { type: 'getWeight' }
    ? { type: 'weight'; data: WeightData }
    : R extends { type: 'getWindow' }
      ? { type: 'window'; window: ValueWindow }
      : R extends { type: 'getStats' }
        ? { type: 'stats'; stats: BlockStats[] }
        : R extends { type: 'describeCell' }
          ? { type: 'cellText'; text: string }
          : { type: 'done'; message?: string };

// ---------------------------------------------------------------------------------------------
// Envelope and the request/reply channel used on both sides
// ---------------------------------------------------------------------------------------------

export interface Envelope<T> {
  id: number;
  /** Set on replies: the id of the request answered. */
  inReplyTo?: number;
  body: T;
}

/** Thrown on the webview side when the host answered `{ type: 'error' }`. */
export class HostError extends Error {
  override name = 'HostError';
}

/** Webview side: send requests, await typed replies, receive events. */
export class WebviewChannel {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: HostReply) => void; reject: (e: Error) => void }>();

  constructor(
    private readonly post: (m: Envelope<WebviewRequest | WebviewEvent>) => void,
    private readonly onEvent: (e: HostEvent) => void,
  ) {}

  request<R extends WebviewRequest>(body: R): Promise<ReplyTo<R>> {
    const id = this.nextId++;
    return new Promise<ReplyTo<R>>((resolve, reject) => {
      this.pending.set(id, {
        resolve: (reply) => {
          if (reply.type === 'error') reject(new HostError(reply.message));
          else resolve(reply as ReplyTo<R>);
        },
        reject,
      });
      this.post({ id, body });
    });
  }

  notify(body: WebviewEvent): void {
    this.post({ id: this.nextId++, body });
  }

  /** Call for every message the host sends. */
  receive(m: Envelope<HostReply | HostEvent>): void {
    if (m.inReplyTo !== undefined) {
      const p = this.pending.get(m.inReplyTo);
      if (!p) return;
      this.pending.delete(m.inReplyTo);
      p.resolve(m.body as HostReply);
    } else {
      this.onEvent(m.body as HostEvent);
    }
  }

  /** Requests still waiting for a reply. */
  get waiting(): number {
    return this.pending.size;
  }
}

/** Host side: answer each request exactly once (errors become one-line error replies), push events. */
export class HostChannel {
  private nextId = 1;

  constructor(
    private readonly post: (m: Envelope<HostReply | HostEvent>) => void,
    private readonly answer: (r: WebviewRequest) => Promise<HostReply>,
    private readonly onEvent: (e: WebviewEvent) => void = () => {},
  ) {}

  event(body: HostEvent): void {
    this.post({ id: this.nextId++, body });
  }

  /** Handles one incoming message; resolves after the reply was posted. */
  async receive(m: Envelope<WebviewRequest | WebviewEvent>): Promise<void> {
    if (!m || typeof m !== 'object' || !m.body || typeof (m.body as { type?: unknown }).type !== 'string') return;
    if (m.body.type === 'ready') {
      this.onEvent(m.body as WebviewEvent);
      return;
    }
    let reply: HostReply;
    try {
      reply = await this.answer(m.body as WebviewRequest);
    } catch (e) {
      reply = { type: 'error', message: oneLine(e) };
    }
    this.post({ id: this.nextId++, inReplyTo: m.id, body: reply });
  }
}

/** One line for the user: the message of an Error (never its stack), first line only. */
export function oneLine(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  const first = text.split(/\r?\n/).find((l) => l.trim() !== '') ?? 'unknown error';
  return first.length > 400 ? first.slice(0, 397) + '...' : first;
}

// ---------------------------------------------------------------------------------------------
// Keras names and gate slices (pure; the viewer and the hovers both use them)
// ---------------------------------------------------------------------------------------------

/** The least of a model's layers and weights the naming below needs (ModelSummary and the inspect report fit). */
export interface NamingModel {
  format: string;
  layers: { name: string; className: string; innerClassName?: string; innerName?: string; backwardName?: string; weights: { name: string; role: string; shape: number[]; direction?: 'forward' | 'backward' }[] }[];
}

export interface WeightNaming {
  /** `model.get_weights()[k]`: weights of every layer in model order, each layer's in get_weights order. */
  getWeightsIndex: number;
  /** `model.get_layer(name).get_weights()[k]`. */
  layerIndex: number;
  /** The name Keras gives the variable: the Keras 3 variable path (`bidirectional/forward_lstm/lstm_cell/kernel`), else the stored name. */
  kerasName: string;
  /** Where it is stored in the file (`layers/bidirectional/forward_layer/cell/vars/0`, `lstm_1/kernel:0`). */
  storedName: string;
}

const CELL_SCOPE: Record<string, string> = { LSTM: 'lstm_cell', GRU: 'gru_cell', SimpleRNN: 'simple_rnn_cell' };
const snake = (s: string) => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();

/** Keras 3 variable path of a weight stored under `layers/.../vars/N`, or null when the name is not a Keras 3 one. */
export function keras3VariablePath(layer: NamingModel['layers'][number], w: NamingModel['layers'][number]['weights'][number]): string | null {
  if (!/(^|\/)vars\/\d+$/.test(w.name)) return null;
  const role = w.role;
  if (!role || /^\d+$/.test(role)) return null;
  if (layer.className === 'Bidirectional' && w.direction) {
    // Keras names the halves forward_<wrapped> and backward_<wrapped> (Keras 3 stores the forward one under that name)
    const innerClass = layer.innerClassName ?? '';
    const inner = (layer.innerName ?? snake(innerClass)).replace(/^forward_/, '');
    const half = w.direction === 'backward' ? layer.backwardName ?? `backward_${inner}` : `forward_${inner}`;
    const scope = CELL_SCOPE[innerClass];
    return `${layer.name}/${half}/${scope ? `${scope}/` : ''}${role}`;
  }
  const scope = CELL_SCOPE[layer.className];
  return `${layer.name}/${scope ? `${scope}/` : ''}${role}`;
}

/** Index and Keras name of every weight, keyed `layer\u0000weight`. */
export function weightNaming(model: NamingModel): Map<string, WeightNaming> {
  const out = new Map<string, WeightNaming>();
  let k = 0;
  for (const layer of model.layers) {
    layer.weights.forEach((w, i) => {
      out.set(`${layer.name}\u0000${w.name}`, { getWeightsIndex: k++, layerIndex: i, kerasName: keras3VariablePath(layer, w) ?? w.name, storedName: w.name });
    });
  }
  return out;
}

/** A Python string literal for a layer name (single quotes, escapes), for `model.get_layer(...)`. */
export function pythonString(s: string): string {
  let out = "'";
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '\\' || ch === "'") out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || c === 0x7f || (c >= 0x80 && c < 0xa0) || (c >= 0x2028 && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069)) out += c <= 0xff ? `\\x${c.toString(16).padStart(2, '0')}` : `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return out + "'";
}

export interface SliceText {
  /** `model.get_weights()[0][:, 128:256]  # lstm_1 kernel, f (forget gate)` */
  model: string;
  /** `model.get_layer('lstm_1').get_weights()[0][:, 128:256]` */
  layer: string;
}

/**
 * The numpy slice of one gate block: columns [start, end) of the last axis (`[:, a:b]` for a matrix, `[a:b]` for a
 * vector, `[..., a:b]` above rank 2).
 */
export function sliceText(
  layerName: string,
  naming: Pick<WeightNaming, 'getWeightsIndex' | 'layerIndex'>,
  weight: { role: string; shape: number[]; direction?: 'forward' | 'backward' },
  block: { label: string; meaning: string; start: number; end: number },
): SliceText {
  const rank = weight.shape.length;
  const cols = `${block.start}:${block.end}`;
  const index = rank <= 1 ? `[${cols}]` : rank === 2 ? `[:, ${cols}]` : `[..., ${cols}]`;
  // the meaning without a trailing "(z)" that only repeats the label
  const meaning = block.meaning.replace(new RegExp(`\\s*\\(${block.label.replace(/[^A-Za-z0-9]/g, '')}\\)$`), '');
  const role = `${weight.direction ? `${weight.direction} ` : ''}${weight.role.replace(/_/g, ' ')}`;
  const comment = `${layerName} ${role}, ${block.label} (${meaning})`.replace(/[\u0000-\u001f\u007f-\u009f\u2028-\u202e\u2066-\u2069]/g, ' ');
  return {
    model: `model.get_weights()[${naming.getWeightsIndex}]${index}  # ${comment}`,
    layer: `model.get_layer(${pythonString(layerName)}).get_weights()[${naming.layerIndex}]${index}`,
  };
}
