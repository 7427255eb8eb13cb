/**
 * Fast whole-sequence runners for LSTM, GRU and SimpleRNN at inference, in float64 (exact to float64 rounding) or float32.
 *
 * The layer kinds (src/model/kinds/lstm.ts, gru.ts, simple-rnn.ts) keep the readable per-step formulas and the
 * gate trace; they call these runners when no trace is asked for. The speed comes from:
 *   - weights packed once per layer (prepareLstm / prepareGru / prepareSimpleRnn; cache the result per layer),
 *     gate columns reordered so the recurrent activation runs over one contiguous block;
 *   - the input projection x·W + b computed for all timesteps in one big product before the loop;
 *   - per step only h·U (a register-tiled product: WebAssembly SIMD, or TypeScript where SIMD is missing);
 *   - no allocation inside the time loop;
 *   - precision 'float64' (default): float64 products and sums everywhere, exact to float64 rounding;
 *     'float32' (SIMD only): weights, inputs, states and gates held in float32 and the products in f32x4 — Keras's
 *     own precision at twice the SIMD lanes; the elementwise state updates below then round once per store.
 *
 * Formulas (Keras 2 / tf.keras / Keras 3; Keras 1 is the same at inference):
 *   LSTM  i = ra(x·Wi + h·Ui + bi)  f = ra(x·Wf + h·Uf + bf)  c̃ = act(x·Wc + h·Uc + bc)  o = ra(x·Wo + h·Uo + bo)
 *         c' = f ⊙ c + i ⊙ c̃        h' = o ⊙ act(c')
 *   GRU   z = ra(x·Wz + h·Uz + bz)   r = ra(x·Wr + h·Ur + br)
 *         reset_after=false: h̃ = act(x·Wh + bh + (r ⊙ h)·Uh)
 *         reset_after=true:  h̃ = act(x·Wh + bh_in + r ⊙ (h·Uh + bh_rec))
 *         h' = z ⊙ h + (1 − z) ⊙ h̃
 *   SimpleRNN  h' = act(x·W + b + h·U)
 * Masks (Keras backend.rnn): where mask[b, t] = 0 the state is carried over unchanged and the step's output is
 * `maskedOutput`: 'previous' = the previous step's output (zeros before the first step), 'zero' = zeros
 * (zero_output_for_mask). These are the two modes the layer kinds' readable step loop has too.
 */
import {
  ActivationCode,
  createMatmulWorkspace,
  packWeightPanels,
  paddedColumns,
  PANEL,
  type MatmulBackend,
  type MatmulWorkspace,
  type Precision,
} from './workspace';

/** A workspace heap of either precision. */
type Heap = Float64Array | Float32Array;

export type RecurrentArray = Float32Array | Float64Array;

// ---------------------------------------------------------------------------------------------
// Activations by name
// ---------------------------------------------------------------------------------------------

/** The activation code for a Keras activation name, or null when the fast path does not know it. */
export function activationCode(name: string | null | undefined, hardSigmoidKeras3: boolean): ActivationCode | null {
  switch (name ?? 'linear') {
    case 'linear':
      return ActivationCode.Linear;
    case 'tanh':
      return ActivationCode.Tanh;
    case 'sigmoid':
      return ActivationCode.Sigmoid;
    case 'hard_sigmoid':
      return hardSigmoidKeras3 ? ActivationCode.HardSigmoidKeras3 : ActivationCode.HardSigmoid;
    case 'relu':
      return ActivationCode.Relu;
    default:
      return null;
  }
}

// ---------------------------------------------------------------------------------------------
// Prepared (packed) layers
// ---------------------------------------------------------------------------------------------

export interface RecurrentWeights {
  /** (features, gates·units), Keras-2 fused column order (LSTM i,f,c,o; GRU z,r,h). */
  kernel: RecurrentArray;
  /** (units, gates·units). */
  recurrentKernel: RecurrentArray;
  /** (gates·units), or for GRU reset_after (2, 3·units): input bias row then recurrent bias row. null = no bias. */
  bias?: RecurrentArray | null;
}

interface PreparedBase {
  readonly units: number;
  readonly features: number;
  readonly ws: MatmulWorkspace;
  /** Which matmul backend this layer runs on, and in which precision. */
  readonly backend: MatmulBackend;
  readonly precision: Precision;
  /** Heap elements used by the packed weights; per-run buffers start here. */
  readonly weightsEnd: number;
  /** Packed input kernel W, its padded width and the bias row added with it (x·W + b). */
  readonly w: number;
  readonly wWidth: number;
  readonly inputBias: number;
}

export interface PreparedLstm extends PreparedBase {
  readonly cell: 'lstm';
  /** Packed U, all four gates, columns i|f|o|c. */
  readonly u: number;
}

export interface PreparedGru extends PreparedBase {
  readonly cell: 'gru';
  readonly resetAfter: boolean;
  /** reset_after=false: packed U for z|r and, separately, for h. reset_after=true: packed U for z|r|h in `uZr`. */
  readonly uZr: number;
  readonly uH: number;
  /** reset_after=true: the recurrent bias row (padded). */
  readonly recurrentBias: number;
}

export interface PreparedSimpleRnn extends PreparedBase {
  readonly cell: 'simple_rnn';
  readonly u: number;
}

export interface PrepareOptions {
  /** 'auto' (default): WebAssembly SIMD where available, else TypeScript. Tests force either. */
  backend?: MatmulBackend | 'auto';
  /**
   * 'float64' (default): float64 products and sums, equal to a float64 reference to ~1e-15. 'float32' (SIMD only;
   * float64 where SIMD is missing): float32 like Keras, about 1e-7 relative per operation.
   */
  precision?: Precision;
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i < to; i++) out.push(i);
  return out;
}

function checkSize(what: string, array: ArrayLike<number>, expected: number): void {
  if (array.length !== expected) throw new Error(`${what} has ${array.length} values, expected ${expected}`);
}

/** Writes a padded bias row for the packed columns `columns` at heap[offset]; zeros without a bias. */
function packBiasRow(heap: Heap, offset: number, bias: ArrayLike<number> | null, biasOffset: number, columns: number[]): number {
  const width = paddedColumns(columns.length);
  for (let j = 0; j < width; j++) heap[offset + j] = bias && j < columns.length ? bias[biasOffset + columns[j]] : 0;
  return width;
}

/** Pack an LSTM's weights once (cache the result per layer). Columns are reordered i|f|o|c. */
export function prepareLstm(weights: RecurrentWeights, units: number, options: PrepareOptions = {}): PreparedLstm {
  const u = units;
  const features = weights.kernel.length / (4 * u);
  if (!Number.isInteger(features)) throw new Error(`LSTM kernel has ${weights.kernel.length} values, not a multiple of 4·${u}`);
  checkSize('LSTM recurrent kernel', weights.recurrentKernel, u * 4 * u);
  if (weights.bias) checkSize('LSTM bias', weights.bias, 4 * u);
  const columns = [...range(0, 2 * u), ...range(3 * u, 4 * u), ...range(2 * u, 3 * u)]; // i f o c
  const width = paddedColumns(4 * u);
  const wSize = features * width;
  const uSize = u * width;
  const ws = createMatmulWorkspace(wSize + uSize + width, options.backend, options.precision);
  const w = 0;
  packWeightPanels(ws.heap, w, weights.kernel, features, 4 * u, columns);
  const uOff = w + wSize;
  packWeightPanels(ws.heap, uOff, weights.recurrentKernel, u, 4 * u, columns);
  const inputBias = uOff + uSize;
  packBiasRow(ws.heap, inputBias, weights.bias ?? null, 0, columns);
  return { cell: 'lstm', units: u, features, ws, backend: ws.backend, precision: ws.precision, weightsEnd: inputBias + width, w, wWidth: width, inputBias, u: uOff };
}

/** Pack a GRU's weights once (cache the result per layer). */
export function prepareGru(weights: RecurrentWeights, units: number, resetAfter: boolean, options: PrepareOptions = {}): PreparedGru {
  const u = units;
  const features = weights.kernel.length / (3 * u);
  if (!Number.isInteger(features)) throw new Error(`GRU kernel has ${weights.kernel.length} values, not a multiple of 3·${u}`);
  checkSize('GRU recurrent kernel', weights.recurrentKernel, u * 3 * u);
  const bias = weights.bias ?? null;
  if (bias) checkSize('GRU bias', bias, resetAfter ? 6 * u : 3 * u);
  const all = range(0, 3 * u);
  const width = paddedColumns(3 * u);
  const wSize = features * width;
  const uSizes = resetAfter ? [u * width, 0] : [u * paddedColumns(2 * u), u * paddedColumns(u)];
  const ws = createMatmulWorkspace(wSize + uSizes[0] + uSizes[1] + 2 * width, options.backend, options.precision);
  const w = 0;
  packWeightPanels(ws.heap, w, weights.kernel, features, 3 * u, all);
  const uZr = w + wSize;
  let uH = uZr;
  if (resetAfter) {
    packWeightPanels(ws.heap, uZr, weights.recurrentKernel, u, 3 * u, all);
  } else {
    packWeightPanels(ws.heap, uZr, weights.recurrentKernel, u, 3 * u, range(0, 2 * u));
    uH = uZr + uSizes[0];
    packWeightPanels(ws.heap, uH, weights.recurrentKernel, u, 3 * u, range(2 * u, 3 * u));
  }
  const inputBias = uZr + uSizes[0] + uSizes[1];
  packBiasRow(ws.heap, inputBias, bias, 0, all);
  const recurrentBias = inputBias + width;
  packBiasRow(ws.heap, recurrentBias, resetAfter ? bias : null, 3 * u, all);
  return {
    cell: 'gru',
    units: u,
    features,
    ws,
    backend: ws.backend,
    precision: ws.precision,
    weightsEnd: recurrentBias + width,
    w,
    wWidth: width,
    inputBias,
    resetAfter,
    uZr,
    uH,
    recurrentBias,
  };
}

/** Pack a SimpleRNN's weights once (cache the result per layer). */
export function prepareSimpleRnn(weights: RecurrentWeights, units: number, options: PrepareOptions = {}): PreparedSimpleRnn {
  const u = units;
  const features = weights.kernel.length / u;
  if (!Number.isInteger(features)) throw new Error(`SimpleRNN kernel has ${weights.kernel.length} values, not a multiple of ${u}`);
  checkSize('SimpleRNN recurrent kernel', weights.recurrentKernel, u * u);
  if (weights.bias) checkSize('SimpleRNN bias', weights.bias, u);
  const all = range(0, u);
  const width = paddedColumns(u);
  const ws = createMatmulWorkspace(features * width + u * width + width, options.backend, options.precision);
  packWeightPanels(ws.heap, 0, weights.kernel, features, u, all);
  const uOff = features * width;
  packWeightPanels(ws.heap, uOff, weights.recurrentKernel, u, u, all);
  const inputBias = uOff + u * width;
  packBiasRow(ws.heap, inputBias, weights.bias ?? null, 0, all);
  return { cell: 'simple_rnn', units: u, features, ws, backend: ws.backend, precision: ws.precision, weightsEnd: inputBias + width, w: 0, wWidth: width, inputBias, u: uOff };
}

// ---------------------------------------------------------------------------------------------
// Running a sequence
// ---------------------------------------------------------------------------------------------

export interface RecurrentRunOptions {
  goBackwards?: boolean;
  returnSequences?: boolean;
  /** (batch, units) */
  initialH?: RecurrentArray | null;
  /** (batch, units), LSTM only */
  initialC?: RecurrentArray | null;
  /** mask[b·steps + t] = 1 where input step t of sample b is real (input time order). */
  mask?: Uint8Array | null;
  /** What a masked step outputs; default 'previous'. See the file comment. */
  maskedOutput?: 'previous' | 'zero';
  /** Keras activation names. Unknown names make the runner return null (use the reference path). */
  activation?: string | null;
  recurrentActivation?: string | null;
  /** hard_sigmoid is x/6 + 0.5 (Keras 3) instead of 0.2·x + 0.5. */
  hardSigmoidKeras3?: boolean;
}

export interface RecurrentRunResult {
  /** (batch, steps, units) in processing order (reversed input time with goBackwards), when returnSequences. */
  sequence: Float64Array | null;
  /** (batch, units): the last step's output (what Keras returns without return_sequences). */
  last: Float64Array;
  /** (batch, units): final hidden state. */
  h: Float64Array;
  /** (batch, units): final cell state (LSTM only). */
  c: Float64Array | null;
}

interface RunLayout {
  /** float32 whole-sequence loops: every step's h (batch·steps·u), or 0 when not asked */
  seq: number;
  x: number;
  xw: number;
  hState: number;
  cState: number;
  z: number;
  z2: number;
  scratch: number;
  prevOut: number;
  end: number;
}

/**
 * Reserve the per-run buffers after the packed weights, copy x in and compute x·W + b for every step
 * (rows b·steps + t, width wWidth). Returns the buffer offsets.
 */
function startRun(p: PreparedBase, x: RecurrentArray, batch: number, steps: number, zWidth: number, z2Width: number, seqValues = 0): RunLayout {
  const u = p.units;
  const rows = batch * steps;
  const slack = p.wWidth + PANEL;
  const l: RunLayout = { seq: 0, x: 0, xw: 0, hState: 0, cState: 0, z: 0, z2: 0, scratch: 0, prevOut: 0, end: 0 };
  let at = p.weightsEnd;
  const take = (n: number) => {
    const o = at;
    at += n;
    return o;
  };
  l.x = take(rows * p.features + PANEL);
  l.xw = take(rows * p.wWidth + slack);
  l.hState = take(batch * u + PANEL);
  l.cState = take(batch * u + PANEL);
  l.z = take(batch * zWidth + PANEL);
  l.z2 = take(batch * z2Width + PANEL);
  l.scratch = take(batch * u + PANEL);
  l.prevOut = take(batch * u + PANEL);
  if (seqValues) l.seq = take(seqValues + PANEL);
  l.end = at;
  p.ws.reserve(l.end);
  const heap = p.ws.heap;
  heap.set(x, l.x);
  heap.fill(0, l.xw + rows * p.wWidth, l.xw + rows * p.wWidth + slack);
  p.ws.matmul(l.x, p.features, rows, p.features, p.w, p.wWidth / PANEL, l.xw, p.wWidth, p.inputBias, 0);
  return l;
}

function initialState(heap: Heap, offset: number, values: RecurrentArray | null | undefined, n: number, what: string): void {
  if (values) {
    checkSize(what, values, n);
    heap.set(values, offset);
  } else heap.fill(0, offset, offset + n);
}

/** Calls masked(b) for each masked sample at input step t and live(b, e) for each run [b, e) of unmasked ones. */
export function liveRuns(mask: Uint8Array | null, steps: number, t: number, batch: number, masked: (b: number) => void, live: (b: number, e: number) => void): void {
  let b = 0;
  while (b < batch) {
    if (mask && !mask[b * steps + t]) {
      masked(b++);
      continue;
    }
    let e = b + 1;
    while (e < batch && !(mask && !mask[e * steps + t])) e++;
    live(b, e);
    b = e;
  }
}

/** Output for a masked step of sample b into out[o..o+u). */
function maskedStepOutput(mode: 'previous' | 'zero', heap: Heap, l: RunLayout, b: number, u: number, out: Float64Array | null, o: number): void {
  const prev = l.prevOut + b * u;
  if (mode === 'zero') heap.fill(0, prev, prev + u);
  if (out) out.set(heap.subarray(prev, prev + u), o);
}

function finish(p: PreparedBase, l: RunLayout, batch: number, sequence: Float64Array | null, withCell: boolean): RecurrentRunResult {
  const heap = p.ws.heap;
  const n = batch * p.units;
  return {
    sequence,
    last: new Float64Array(heap.subarray(l.prevOut, l.prevOut + n)),
    h: new Float64Array(heap.subarray(l.hState, l.hState + n)),
    c: withCell ? new Float64Array(heap.subarray(l.cState, l.cState + n)) : null,
  };
}

function checkInput(p: PreparedBase, x: RecurrentArray, batch: number, steps: number, features: number, mask?: Uint8Array | null): void {
  if (features !== p.features) throw new Error(`input has ${features} features, the layer's kernel expects ${p.features}`);
  checkSize('recurrent input', x, batch * steps * features);
  if (mask) checkSize('mask', mask, batch * steps);
}

/**
 * Run an LSTM over x (batch, steps, features). Returns null when an activation is not supported here
 * (the caller then uses the reference step).
 */
export function runLstm(
  p: PreparedLstm,
  x: RecurrentArray,
  batch: number,
  steps: number,
  features: number,
  opts: RecurrentRunOptions = {},
): RecurrentRunResult | null {
  const act = activationCode(opts.activation ?? 'tanh', !!opts.hardSigmoidKeras3);
  const ra = activationCode(opts.recurrentActivation ?? 'sigmoid', !!opts.hardSigmoidKeras3);
  if (act === null || ra === null) return null;
  checkInput(p, x, batch, steps, features, opts.mask);
  const u = p.units;
  const width = p.wWidth;
  const mask = opts.mask ?? null;
  const ws = p.ws;
  // float32 without a mask: the whole time loop in one WebAssembly call (the same steps as the loop below)
  const whole = !mask && ws.lstmSequence ? ws.lstmSequence : null;
  const l = startRun(p, x, batch, steps, width, 0, whole && opts.returnSequences ? batch * steps * u : 0);
  const heap = p.ws.heap;
  initialState(heap, l.hState, opts.initialH, batch * u, 'LSTM initial h');
  initialState(heap, l.cState, opts.initialC, batch * u, 'LSTM initial c');
  heap.fill(0, l.prevOut, l.prevOut + batch * u);
  const np = width / PANEL;
  if (whole) {
    whole({
      h: l.hState, c: l.cState, prev: l.prevOut, z: l.z, zStride: width, xw: l.xw, xStep: width, xSample: steps * width, u: p.u, panels: np,
      units: u, batch, steps, goBackwards: !!opts.goBackwards, seq: l.seq, ra, act,
    });
    return finish(p, l, batch, l.seq ? Float64Array.from(heap.subarray(l.seq, l.seq + batch * steps * u)) : null, true);
  }
  const sequence = opts.returnSequences ? new Float64Array(batch * steps * u) : null;
  const maskedOutput = opts.maskedOutput ?? 'previous';
  const fused = ws.lstmCell;
  for (let s = 0; s < steps; s++) {
    const t = opts.goBackwards ? steps - 1 - s : s;
    // z = (x·W + b)[t] + h·U, columns i|f|o|c
    ws.matmul(l.hState, u, batch, u, p.u, np, l.z, width, l.xw + t * width, steps * width);
    if (fused) {
      // float32 SIMD: activations and state update in one pass per run of live rows
      liveRuns(mask, steps, t, batch, (b) => maskedStepOutput(maskedOutput, heap, l, b, u, sequence, (b * steps + s) * u), (b, e) => {
        fused(l.z + b * width, width, l.cState + b * u, l.hState + b * u, l.prevOut + b * u, e - b, u, ra, act);
        if (sequence) for (let r = b; r < e; r++) sequence.set(heap.subarray(l.hState + r * u, l.hState + (r + 1) * u), (r * steps + s) * u);
      });
      continue;
    }
    // the gate activations over all rows at once, then the state update
    ws.activate(ra, l.z, 3 * u, batch, width);
    ws.activate(act, l.z + 3 * u, u, batch, width);
    for (let b = 0; b < batch; b++) {
      if (mask && !mask[b * steps + t]) {
        maskedStepOutput(maskedOutput, heap, l, b, u, sequence, (b * steps + s) * u);
        continue;
      }
      const z = l.z + b * width;
      const c = l.cState + b * u;
      const tmp = l.scratch + b * u;
      for (let k = 0; k < u; k++) {
        const cNew = heap[z + u + k] * heap[c + k] + heap[z + k] * heap[z + 3 * u + k]; // c' = f ⊙ c + i ⊙ c̃
        heap[c + k] = cNew;
        heap[tmp + k] = cNew;
      }
    }
    ws.activate(act, l.scratch, u, batch, u);
    for (let b = 0; b < batch; b++) {
      if (mask && !mask[b * steps + t]) continue;
      const z = l.z + b * width;
      const tmp = l.scratch + b * u;
      const h = l.hState + b * u;
      const prev = l.prevOut + b * u;
      const o = (b * steps + s) * u;
      for (let k = 0; k < u; k++) {
        const hNew = heap[z + 2 * u + k] * heap[tmp + k]; // h' = o ⊙ act(c')
        heap[h + k] = hNew;
        heap[prev + k] = hNew;
        if (sequence) sequence[o + k] = heap[h + k]; // as stored (rounded to float32 on a float32 heap)
      }
    }
  }
  return finish(p, l, batch, sequence, true);
}

/** Run a GRU over x (batch, steps, features). Returns null when an activation is not supported here. */
export function runGru(
  p: PreparedGru,
  x: RecurrentArray,
  batch: number,
  steps: number,
  features: number,
  opts: RecurrentRunOptions = {},
): RecurrentRunResult | null {
  const act = activationCode(opts.activation ?? 'tanh', !!opts.hardSigmoidKeras3);
  const ra = activationCode(opts.recurrentActivation ?? 'sigmoid', !!opts.hardSigmoidKeras3);
  if (act === null || ra === null) return null;
  checkInput(p, x, batch, steps, features, opts.mask);
  const u = p.units;
  const width = p.wWidth;
  const zrWidth = p.resetAfter ? width : paddedColumns(2 * u);
  const hWidth = paddedColumns(u);
  const mask = opts.mask ?? null;
  const ws = p.ws;
  // float32 without a mask: the whole time loop in one WebAssembly call (the same steps as the loop below)
  const whole = !mask && ws.gruSequence ? ws.gruSequence : null;
  const l = startRun(p, x, batch, steps, zrWidth, hWidth, whole && opts.returnSequences ? batch * steps * u : 0);
  const heap = p.ws.heap;
  initialState(heap, l.hState, opts.initialH, batch * u, 'GRU initial h');
  heap.fill(0, l.prevOut, l.prevOut + batch * u);
  if (whole) {
    whole({
      h: l.hState, prev: l.prevOut, z: l.z, zStride: zrWidth, z2: l.z2, z2Stride: hWidth, rh: l.scratch, xw: l.xw, xStep: width, xSample: steps * width,
      uZr: p.uZr, zrPanels: zrWidth / PANEL, uH: p.uH, hPanels: hWidth / PANEL, recurrentBias: p.recurrentBias, units: u, batch, steps,
      goBackwards: !!opts.goBackwards, resetAfter: p.resetAfter, seq: l.seq, ra, act,
    });
    return finish(p, l, batch, l.seq ? Float64Array.from(heap.subarray(l.seq, l.seq + batch * steps * u)) : null, false);
  }
  const sequence = opts.returnSequences ? new Float64Array(batch * steps * u) : null;
  const maskedOutput = opts.maskedOutput ?? 'previous';
  const live = (b: number, t: number) => !mask || mask[b * steps + t] !== 0;
  const fused = ws.gruUpdate;
  for (let s = 0; s < steps; s++) {
    const t = opts.goBackwards ? steps - 1 - s : s;
    const xw = l.xw + t * width;
    if (p.resetAfter) {
      // z = h·U + recurrent bias (all three gates); the input part is added per gate below
      ws.matmul(l.hState, u, batch, u, p.uZr, width / PANEL, l.z, width, p.recurrentBias, 0);
      if (ws.gruAfter) ws.gruAfter(l.z, width, xw, steps * width, batch, u, ra); // the same three lines in one pass
      else {
        for (let b = 0; b < batch; b++) {
          const z = l.z + b * width;
          const xb = xw + b * steps * width;
          for (let k = 0; k < 2 * u; k++) heap[z + k] += heap[xb + k];
        }
        ws.activate(ra, l.z, 2 * u, batch, width);
        for (let b = 0; b < batch; b++) {
          const z = l.z + b * width;
          const xb = xw + b * steps * width;
          for (let k = 0; k < u; k++) heap[z + 2 * u + k] = heap[xb + 2 * u + k] + heap[z + u + k] * heap[z + 2 * u + k]; // x·Wh + bh + r ⊙ (h·Uh + rbh)
        }
      }
      if (!fused) ws.activate(act, l.z + 2 * u, u, batch, width);
    } else {
      ws.matmul(l.hState, u, batch, u, p.uZr, zrWidth / PANEL, l.z, zrWidth, xw, steps * width);
      if (ws.gruReset) ws.gruReset(l.z, zrWidth, l.hState, l.scratch, batch, u, ra); // the same two lines in one pass
      else {
        ws.activate(ra, l.z, 2 * u, batch, zrWidth);
        for (let b = 0; b < batch; b++) {
          const z = l.z + b * zrWidth;
          const rh = l.scratch + b * u;
          const h = l.hState + b * u;
          for (let k = 0; k < u; k++) heap[rh + k] = heap[z + u + k] * heap[h + k]; // r ⊙ h
        }
      }
      // h̃ = act((x·Wh + bh)[t] + (r ⊙ h)·Uh)
      ws.matmul(l.scratch, u, batch, u, p.uH, hWidth / PANEL, l.z2, hWidth, xw + 2 * u, steps * width);
      if (!fused) ws.activate(act, l.z2, u, batch, hWidth);
    }
    if (fused) {
      // float32 SIMD: candidate activation and state update in one pass per run of live rows
      const zs = p.resetAfter ? width : zrWidth;
      const cand = p.resetAfter ? l.z + 2 * u : l.z2;
      const cs = p.resetAfter ? width : hWidth;
      liveRuns(mask, steps, t, batch, (b) => maskedStepOutput(maskedOutput, heap, l, b, u, sequence, (b * steps + s) * u), (b, e) => {
        fused(l.z + b * zs, zs, cand + b * cs, cs, l.hState + b * u, l.prevOut + b * u, e - b, u, act);
        if (sequence) for (let r = b; r < e; r++) sequence.set(heap.subarray(l.hState + r * u, l.hState + (r + 1) * u), (r * steps + s) * u);
      });
      continue;
    }
    for (let b = 0; b < batch; b++) {
      const o = (b * steps + s) * u;
      if (!live(b, t)) {
        maskedStepOutput(maskedOutput, heap, l, b, u, sequence, o);
        continue;
      }
      const z = p.resetAfter ? l.z + b * width : l.z + b * zrWidth;
      const cand = p.resetAfter ? z + 2 * u : l.z2 + b * hWidth;
      const h = l.hState + b * u;
      const prev = l.prevOut + b * u;
      for (let k = 0; k < u; k++) {
        const zk = heap[z + k];
        const hNew = zk * heap[h + k] + (1 - zk) * heap[cand + k]; // z ⊙ h + (1 − z) ⊙ h̃
        heap[h + k] = hNew;
        heap[prev + k] = hNew;
        if (sequence) sequence[o + k] = heap[h + k]; // as stored (rounded to float32 on a float32 heap)
      }
    }
  }
  return finish(p, l, batch, sequence, false);
}

/** Run a SimpleRNN over x (batch, steps, features). Returns null when the activation is not supported here. */
export function runSimpleRnn(
  p: PreparedSimpleRnn,
  x: RecurrentArray,
  batch: number,
  steps: number,
  features: number,
  opts: RecurrentRunOptions = {},
): RecurrentRunResult | null {
  const act = activationCode(opts.activation ?? 'tanh', !!opts.hardSigmoidKeras3);
  if (act === null) return null;
  checkInput(p, x, batch, steps, features, opts.mask);
  const u = p.units;
  const width = p.wWidth;
  const l = startRun(p, x, batch, steps, width, 0);
  const heap = p.ws.heap;
  initialState(heap, l.hState, opts.initialH, batch * u, 'SimpleRNN initial h');
  heap.fill(0, l.prevOut, l.prevOut + batch * u);
  const sequence = opts.returnSequences ? new Float64Array(batch * steps * u) : null;
  const mask = opts.mask ?? null;
  const maskedOutput = opts.maskedOutput ?? 'previous';
  for (let s = 0; s < steps; s++) {
    const t = opts.goBackwards ? steps - 1 - s : s;
    p.ws.matmul(l.hState, u, batch, u, p.u, width / PANEL, l.z, width, l.xw + t * width, steps * width);
    p.ws.activate(act, l.z, u, batch, width);
    for (let b = 0; b < batch; b++) {
      const o = (b * steps + s) * u;
      if (mask && !mask[b * steps + t]) {
        maskedStepOutput(maskedOutput, heap, l, b, u, sequence, o);
        continue;
      }
      const z = l.z + b * width;
      const h = l.hState + b * u;
      const prev = l.prevOut + b * u;
      for (let k = 0; k < u; k++) {
        const hNew = heap[z + k];
        heap[h + k] = hNew;
        heap[prev + k] = hNew;
        if (sequence) sequence[o + k] = heap[h + k]; // as stored (rounded to float32 on a float32 heap)
      }
    }
  }
  return finish(p, l, batch, sequence, false);
}
