/**
 * Fast whole-sequence runner for ConvLSTM1D / 2D / 3D at inference: one n-d implementation (any number of spatial
 * axes), float64 or float32, on the packed matmul of workspace.ts (WebAssembly SIMD, or TypeScript where SIMD is
 * missing). The layer kind (src/model/kinds/conv-lstm.ts) keeps the readable per-step formulas and the gate trace and
 * calls this (through src/model/kinds/fast-conv-lstm.ts) when no trace is asked for.
 *
 * Formulas (Keras 3 keras/src/layers/rnn/conv_lstm.py, the same in Keras 2 / tf.keras):
 *   z = conv(x(t), W; padding, strides, dilation) + b + conv(h(t-1), U; 'same', stride 1, dilation 1)
 *   i = ra(z_i)  f = ra(z_f)  c̃ = act(z_c)  o = ra(z_o);   c' = f ⊙ c + i ⊙ c̃;   h' = o ⊙ act(c')
 * Each convolution is a matrix product over patches (im2col): output position q of sample b reads, for every kernel
 * tap j = (j1..jn) (row-major, the kernel's own (k1..kn) order), the input position
 *   i_d = q_d·stride_d + j_d·dilation_d − padBefore_d   on every axis d (zeros where it falls outside);
 * so one step is a single product
 *   Z[b·P + q, :] = b + [patches of x(t) at q | patches of h(t-1) at q] · [W ; U]
 * with A's row = taps·C input values then taps·F state values, and [W; U] the kernel (taps·C, 4F) stacked over the
 * recurrent kernel (taps·F, 4F), packed once (columns reordered i|f|o|c, as the LSTM runner of recurrent.ts, so the
 * fused float32 LSTM update applies unchanged; the states are (B·P, F) rows, exactly its layout).
 * Which patch entries fall in the padding depends only on the geometry, not on t: they are zeroed once per run and
 * never written, and a gather table (convGather) lists the rest as runs of consecutive taps reading consecutive
 * input positions (one copy each).
 *
 * Masks, masked outputs, initial states and precision are those of the LSTM runner (recurrent.ts): mask[b·steps + t]
 * = 0 carries sample b's states over and outputs the previous output ('previous', zeros before the first step) or
 * zeros ('zero').
 */
import { ActivationCode, createMatmulWorkspace, packWeightPanels, paddedColumns, PANEL, type MatmulBackend, type MatmulWorkspace, type Precision } from './workspace';
import { activationCode, liveRuns, type PrepareOptions, type RecurrentArray, type RecurrentRunOptions, type RecurrentRunResult } from './recurrent';

/** One spatial axis of a convolution: its input length, kernel, stride, dilation and the output length / padding. */
export interface ConvAxisGeometry {
  size: number;
  kernel: number;
  stride: number;
  dilation: number;
  /** Output length and the padding before the first input value (as Keras's padding rule gives them). */
  out: number;
  padBefore: number;
}

/** Where each patch entry of an n-d convolution reads, per sample. */
export interface ConvGather {
  /** Output positions per sample (Π out). */
  positions: number;
  /** Kernel taps (Π kernel). */
  taps: number;
  /** Input positions per sample (Π size). */
  inputPositions: number;
  /** source[q·taps + j]: the flat (row-major) input position tap j reads at output position q, or −1 in the padding. */
  source: Int32Array;
  /**
   * The same as copies: output position q's runs are runs[3·r .. 3·r + 2] for r in [runStart[q], runStart[q + 1]),
   * each (first tap, first input position, length): taps j..j+len−1 read input positions p..p+len−1. Their values are
   * contiguous in the patch row and in the input (channels innermost), so a run is one copy of len·channels values
   * (a whole kernel row where dilation is 1) instead of len copies.
   */
  runStart: Int32Array;
  runs: Int32Array;
}

const product = (v: number[]) => v.reduce((a, b) => a * b, 1);

/** The gather table of a convolution: i_d = q_d·stride_d + j_d·dilation_d − padBefore_d per axis (file comment). */
export function convGather(axes: ConvAxisGeometry[]): ConvGather {
  const n = axes.length;
  const positions = product(axes.map((a) => a.out));
  const taps = product(axes.map((a) => a.kernel));
  const source = new Int32Array(positions * taps);
  const q = new Array<number>(n).fill(0);
  for (let pos = 0; pos < positions; pos++) {
    for (let d = n - 1, rest = pos; d >= 0; d--) {
      q[d] = rest % axes[d].out;
      rest = Math.floor(rest / axes[d].out);
    }
    for (let j = 0; j < taps; j++) {
      let flat = 0;
      let scale = 1;
      let inside = true;
      for (let d = n - 1, rest = j; d >= 0; d--) {
        const a = axes[d];
        const i = q[d] * a.stride + (rest % a.kernel) * a.dilation - a.padBefore;
        rest = Math.floor(rest / a.kernel);
        if (i < 0 || i >= a.size) inside = false;
        flat += i * scale;
        scale *= a.size;
      }
      source[pos * taps + j] = inside ? flat : -1;
    }
  }
  const runStart = new Int32Array(positions + 1);
  const runs: number[] = [];
  for (let pos = 0; pos < positions; pos++) {
    runStart[pos] = runs.length / 3;
    for (let j = 0, g = pos * taps; j < taps; j++, g++) {
      if (source[g] < 0) continue;
      const last = runs.length - 3;
      if (runs.length / 3 > runStart[pos] && runs[last] + runs[last + 2] === j && runs[last + 1] + runs[last + 2] === source[g]) runs[last + 2]++;
      else runs.push(j, source[g], 1);
    }
  }
  runStart[positions] = runs.length / 3;
  return { positions, taps, inputPositions: product(axes.map((a) => a.size)), source, runStart, runs: Int32Array.from(runs) };
}

export interface ConvLstmWeights {
  /** (k1..kn, channels, 4·filters), gate blocks i, f, c, o on the last axis. */
  kernel: RecurrentArray;
  /** (k1..kn, filters, 4·filters). */
  recurrentKernel: RecurrentArray;
  /** (4·filters), or null without a bias. */
  bias?: RecurrentArray | null;
}

export interface PreparedConvLstm {
  readonly cell: 'conv_lstm';
  readonly filters: number;
  readonly channels: number;
  readonly taps: number;
  /** Rows of the stacked [W; U] = one patch row of A: taps·channels + taps·filters. */
  readonly depth: number;
  readonly ws: MatmulWorkspace;
  readonly backend: MatmulBackend;
  readonly precision: Precision;
  /** Packed [W; U] at heap 0, its padded width, the bias row, and where the per-run buffers start. */
  readonly width: number;
  readonly bias: number;
  readonly weightsEnd: number;
}

function checkSize(what: string, array: ArrayLike<number>, expected: number): void {
  if (array.length !== expected) throw new Error(`${what} has ${array.length} values, expected ${expected}`);
}

/** Pack a ConvLSTM's weights once (cache the result per layer): [W; U] stacked, columns i|f|o|c. */
export function prepareConvLstm(weights: ConvLstmWeights, taps: number, filters: number, options: PrepareOptions = {}): PreparedConvLstm {
  const F = filters;
  const G = 4 * F;
  const channels = weights.kernel.length / (taps * G);
  if (!Number.isInteger(channels)) throw new Error(`ConvLSTM kernel has ${weights.kernel.length} values, not a multiple of ${taps}·4·${F}`);
  checkSize('ConvLSTM recurrent kernel', weights.recurrentKernel, taps * F * G);
  if (weights.bias) checkSize('ConvLSTM bias', weights.bias, G);
  const depth = taps * (channels + F);
  const stacked = new Float64Array(depth * G);
  stacked.set(weights.kernel, 0);
  stacked.set(weights.recurrentKernel, taps * channels * G);
  const columns: number[] = [];
  for (const block of [0, 1, 3, 2]) for (let k = 0; k < F; k++) columns.push(block * F + k); // i f o c
  const width = paddedColumns(G);
  const ws = createMatmulWorkspace(depth * width + width, options.backend, options.precision);
  packWeightPanels(ws.heap, 0, stacked, depth, G, columns);
  const bias = depth * width;
  for (let j = 0; j < width; j++) ws.heap[bias + j] = weights.bias && j < G ? weights.bias[columns[j]] : 0;
  return { cell: 'conv_lstm', filters: F, channels, taps, depth, ws, backend: ws.backend, precision: ws.precision, width, bias, weightsEnd: bias + width };
}

/** Per-run buffers are sized for at most this many heap elements at once (about 32 MB float64): larger batches run in chunks. */
const CHUNK_ELEMENTS = 4 * 2 ** 20;

/**
 * Run a ConvLSTM over x (batch, steps, input positions, channels), channels_last, row-major spatial axes. `input` is
 * the input convolution's gather table, `recurrent` the recurrent one's ('same', stride 1 over the output positions).
 * States, outputs and the sequence are (batch, [steps,] positions, filters). Returns null when an activation is not
 * supported here (the caller then uses the readable step). Samples are independent, so a large batch runs in chunks
 * of samples (chunkElements, default CHUNK_ELEMENTS), each over the whole sequence, to bound the patch buffer.
 */
export function runConvLstm(
  p: PreparedConvLstm,
  x: RecurrentArray,
  batch: number,
  steps: number,
  input: ConvGather,
  recurrent: ConvGather,
  opts: RecurrentRunOptions = {},
  chunkElements = CHUNK_ELEMENTS,
): RecurrentRunResult | null {
  const act = activationCode(opts.activation ?? 'tanh', !!opts.hardSigmoidKeras3);
  const ra = activationCode(opts.recurrentActivation ?? 'sigmoid', !!opts.hardSigmoidKeras3);
  if (act === null || ra === null) return null;
  const P = input.positions;
  if (input.taps !== p.taps || recurrent.taps !== p.taps) throw new Error(`the gather tables have ${input.taps} and ${recurrent.taps} taps, the kernel ${p.taps}`);
  if (recurrent.positions !== P || recurrent.inputPositions !== P) throw new Error('the recurrent gather table must map the output positions onto themselves');
  const xStep = input.inputPositions * p.channels; // one (sample, step) of x
  const S = P * p.filters; // one sample's state
  checkSize('ConvLSTM input', x, batch * steps * xStep);
  if (opts.mask) checkSize('mask', opts.mask, batch * steps);
  if (opts.initialH) checkSize('ConvLSTM initial h', opts.initialH, batch * S);
  if (opts.initialC) checkSize('ConvLSTM initial c', opts.initialC, batch * S);
  const out: RecurrentRunResult = {
    sequence: opts.returnSequences ? new Float64Array(batch * steps * S) : null,
    last: new Float64Array(batch * S),
    h: new Float64Array(batch * S),
    c: new Float64Array(batch * S),
  };
  const chunk = Math.max(1, Math.floor(chunkElements / Math.max(1, P * (p.depth + p.width + 4 * p.filters) + steps * xStep)));
  for (let b0 = 0; b0 < batch; b0 += chunk) {
    const b1 = Math.min(batch, b0 + chunk);
    const part = <T extends RecurrentArray | Uint8Array>(v: T | null | undefined, size: number): T | null => (v ? (v.subarray(b0 * size, b1 * size) as T) : null);
    const samples = { x: x.subarray(b0 * steps * xStep, b1 * steps * xStep), batch: b1 - b0, b0, mask: part(opts.mask, steps), initialH: part(opts.initialH, S), initialC: part(opts.initialC, S) };
    runSamples({ p, steps, input, recurrent, act, ra, opts, out }, samples);
  }
  return out;
}

/** One call's fixed parts: the packed layer, the geometry, the activations, the options and the full-batch results. */
interface ConvLstmCall {
  p: PreparedConvLstm;
  steps: number;
  input: ConvGather;
  recurrent: ConvGather;
  act: ActivationCode;
  ra: ActivationCode;
  opts: RecurrentRunOptions;
  out: RecurrentRunResult;
}

/** The call on samples [b0, b0 + batch) (their x, mask and initial states), written at sample b0 of `out`. */
function runSamples(
  { p, steps, input, recurrent, act, ra, opts, out }: ConvLstmCall,
  { x, batch, b0, mask, initialH, initialC }: { x: RecurrentArray; batch: number; b0: number; mask: Uint8Array | null; initialH: RecurrentArray | null; initialC: RecurrentArray | null },
): void {
  const F = p.filters;
  const C = p.channels;
  const P = input.positions;
  const xStep = input.inputPositions * C;
  const rows = batch * P;
  const S = P * F;
  const K = p.depth;
  const width = p.width;
  const ws = p.ws;
  // per-run buffers after the packed weights: A (patches), Z, h, c, the previous output, scratch
  const a = p.weightsEnd;
  const z = a + rows * K + PANEL;
  const h = z + rows * width + PANEL;
  const c = h + rows * F + PANEL;
  const prev = c + rows * F + PANEL;
  const scratch = prev + rows * F + PANEL;
  const xh = scratch + rows * F + PANEL; // x, copied in once, so that every patch copy is within the heap
  ws.reserve(xh + x.length);
  const heap = ws.heap;
  heap.set(x, xh);
  heap.fill(0, a, a + rows * K); // the padding taps of every patch, zero for the whole run
  /** heap[to..to+n) = heap[from..from+n): a loop for a few values, copyWithin (a memmove, ~20 ns a call) for more. */
  const copy = (to: number, from: number, n: number) => {
    if (n >= 16) heap.copyWithin(to, from, from + n);
    else for (let k = 0; k < n; k++) heap[to + k] = heap[from + k];
  };
  for (const [at, values] of [[h, initialH], [c, initialC]] as const) {
    if (values) heap.set(values, at);
    else heap.fill(0, at, at + rows * F);
  }
  heap.fill(0, prev, prev + rows * F);
  const sequence = out.sequence;
  const maskedOutput = opts.maskedOutput ?? 'previous';
  const hPart = p.taps * C; // where a patch row's state values start

  /** The state update of rows [r0, r1): the fused float32 pass, or activations then c' and h' (file comment). */
  const update = (r0: number, r1: number) => {
    const n = r1 - r0;
    if (ws.lstmCell) {
      ws.lstmCell(z + r0 * width, width, c + r0 * F, h + r0 * F, prev + r0 * F, n, F, ra, act);
      return;
    }
    ws.activate(ra, z + r0 * width, 3 * F, n, width); // i, f, o
    ws.activate(act, z + r0 * width + 3 * F, F, n, width); // c̃
    for (let r = r0; r < r1; r++) {
      const zr = z + r * width;
      for (let k = 0, s = r * F; k < F; k++, s++) {
        const cNew = heap[zr + F + k] * heap[c + s] + heap[zr + k] * heap[zr + 3 * F + k]; // c' = f ⊙ c + i ⊙ c̃
        heap[c + s] = cNew;
        heap[scratch + s] = cNew;
      }
    }
    ws.activate(act, scratch + r0 * F, n * F, 1, 0); // act(c')
    for (let r = r0; r < r1; r++) {
      const zr = z + r * width + 2 * F;
      for (let k = 0, s = r * F; k < F; k++, s++) {
        const hNew = heap[zr + k] * heap[scratch + s]; // h' = o ⊙ act(c')
        heap[h + s] = hNew;
        heap[prev + s] = hNew;
      }
    }
  };

  for (let step = 0; step < steps; step++) {
    const t = opts.goBackwards ? steps - 1 - step : step;
    // A = [patches of x(t) | patches of h(t-1)], one copy per run; entries in the padding stay zero
    for (let b = 0; b < batch; b++) {
      const xb = xh + (b * steps + t) * xStep;
      const hb = h + b * S;
      for (let q = 0; q < P; q++) {
        const row = a + (b * P + q) * K;
        for (let r = 3 * input.runStart[q], end = 3 * input.runStart[q + 1]; r < end; r += 3) copy(row + input.runs[r] * C, xb + input.runs[r + 1] * C, input.runs[r + 2] * C);
        for (let r = 3 * recurrent.runStart[q], end = 3 * recurrent.runStart[q + 1]; r < end; r += 3) copy(row + hPart + recurrent.runs[r] * F, hb + recurrent.runs[r + 1] * F, recurrent.runs[r + 2] * F);
      }
    }
    // Z = b + A·[W; U]
    ws.matmul(a, K, rows, K, 0, width / PANEL, z, width, p.bias, 0);
    liveRuns(
      mask,
      steps,
      t,
      batch,
      (b) => {
        const o = prev + b * S;
        if (maskedOutput === 'zero') heap.fill(0, o, o + S);
        if (sequence) sequence.set(heap.subarray(o, o + S), ((b0 + b) * steps + step) * S);
      },
      (b, e) => {
        update(b * P, e * P);
        if (sequence) for (let r = b; r < e; r++) sequence.set(heap.subarray(h + r * S, h + (r + 1) * S), ((b0 + r) * steps + step) * S);
      },
    );
  }
  const n = rows * F;
  out.last.set(heap.subarray(prev, prev + n), b0 * S);
  out.h.set(heap.subarray(h, h + n), b0 * S);
  out.c!.set(heap.subarray(c, c + n), b0 * S);
}
