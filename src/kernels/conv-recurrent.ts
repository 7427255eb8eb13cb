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
 * never written, and a gather table (convGather) lists the rest.
 *
 * Masks, masked outputs, initial states and precision are those of the LSTM runner (recurrent.ts): mask[b·steps + t]
 * = 0 carries sample b's states over and outputs the previous output ('previous', zeros before the first step) or
 * zeros ('zero').
 */
import { createMatmulWorkspace, packWeightPanels, paddedColumns, PANEL, type MatmulBackend, type MatmulWorkspace, type Precision } from './workspace';
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
  return { positions, taps, inputPositions: product(axes.map((a) => a.size)), source };
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

/**
 * Run a ConvLSTM over x (batch, steps, input positions, channels), channels_last, row-major spatial axes. `input` is
 * the input convolution's gather table, `recurrent` the recurrent one's ('same', stride 1 over the output positions).
 * States, outputs and the sequence are (batch, [steps,] positions, filters). Returns null when an activation is not
 * supported here (the caller then uses the readable step).
 */
export function runConvLstm(
  p: PreparedConvLstm,
  x: RecurrentArray,
  batch: number,
  steps: number,
  input: ConvGather,
  recurrent: ConvGather,
  opts: RecurrentRunOptions = {},
): RecurrentRunResult | null {
  const act = activationCode(opts.activation ?? 'tanh', !!opts.hardSigmoidKeras3);
  const ra = activationCode(opts.recurrentActivation ?? 'sigmoid', !!opts.hardSigmoidKeras3);
  if (act === null || ra === null) return null;
  const F = p.filters;
  const C = p.channels;
  const P = input.positions;
  const taps = p.taps;
  if (input.taps !== taps || recurrent.taps !== taps) throw new Error(`the gather tables have ${input.taps} and ${recurrent.taps} taps, the kernel ${taps}`);
  if (recurrent.positions !== P || recurrent.inputPositions !== P) throw new Error('the recurrent gather table must map the output positions onto themselves');
  const xStep = input.inputPositions * C; // one (sample, step) of x
  checkSize('ConvLSTM input', x, batch * steps * xStep);
  if (opts.mask) checkSize('mask', opts.mask, batch * steps);
  const rows = batch * P;
  const S = P * F; // one sample's state
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
  ws.reserve(scratch + rows * F + PANEL);
  const heap = ws.heap;
  heap.fill(0, a, a + rows * K); // the padding taps of every patch, zero for the whole run
  for (const [at, values, what] of [[h, opts.initialH, 'initial h'], [c, opts.initialC, 'initial c']] as const) {
    if (values) {
      checkSize(`ConvLSTM ${what}`, values, rows * F);
      heap.set(values, at);
    } else heap.fill(0, at, at + rows * F);
  }
  heap.fill(0, prev, prev + rows * F);
  const sequence = opts.returnSequences ? new Float64Array(batch * steps * S) : null;
  const mask = opts.mask ?? null;
  const maskedOutput = opts.maskedOutput ?? 'previous';
  const xSource = input.source;
  const hSource = recurrent.source;
  const hPart = taps * C; // where a patch row's state values start

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
    // A = [patches of x(t) | patches of h(t-1)]; entries in the padding stay zero
    for (let b = 0; b < batch; b++) {
      const xb = (b * steps + t) * xStep;
      const hb = h + b * S;
      for (let q = 0; q < P; q++) {
        const row = a + (b * P + q) * K;
        for (let j = 0, g = q * taps; j < taps; j++, g++) {
          const xs = xSource[g];
          if (xs >= 0) for (let k = 0, from = xb + xs * C, to = row + j * C; k < C; k++) heap[to + k] = x[from + k];
          const hs = hSource[g];
          if (hs >= 0) heap.copyWithin(row + hPart + j * F, hb + hs * F, hb + (hs + 1) * F);
        }
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
        if (sequence) sequence.set(heap.subarray(o, o + S), (b * steps + step) * S);
      },
      (b, e) => {
        update(b * P, e * P);
        if (sequence) for (let r = b; r < e; r++) sequence.set(heap.subarray(h + r * S, h + (r + 1) * S), (r * steps + step) * S);
      },
    );
  }
  const n = rows * F;
  return {
    sequence,
    last: new Float64Array(heap.subarray(prev, prev + n)),
    h: new Float64Array(heap.subarray(h, h + n)),
    c: new Float64Array(heap.subarray(c, c + n)),
  };
}
