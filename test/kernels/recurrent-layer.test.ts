/**
 * runRecurrentFast (the layer-call adapter the kinds call when no trace is asked) against the kinds' own readable
 * step loop on the same ForwardArgs (forced by asking for a trace): outputs, return_state, masks, go_backwards,
 * initial and stateful states, Bidirectional-style overrides; and that it declines what it cannot compute exactly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runRecurrentFast, type FastRecurrentCell } from '../../src/model/kinds/fast-recurrent';
import { lstmKind } from '../../src/model/kinds/lstm';
import { gruKind } from '../../src/model/kinds/gru';
import { simpleRnnKind } from '../../src/model/kinds/simple-rnn';
import { activationOf, recurrentActivationOf, recurrentFlags, type RecurrentKind, type RunOverrides } from '../../src/model/kinds/recurrent';
import { activationByName } from '../../src/model/activations';
import type { ForwardArgs, LayerConfig, Mask, Tensor } from '../../src/model/types';
import { seededRandom } from '../fixtures/models';
import { setFastRecurrentPrecision } from '../../src/model/kinds/fast-recurrent';

// Compared at 1e-12 with the readable step: the float64 fast path (float32 is covered by test/kinds/fast-vs-readable).
setFastRecurrentPrecision('float64');

const rand = seededRandom(2024);
const tensor = (shape: number[], scale: number): Tensor => ({
  shape,
  data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (rand() * 2 - 1) * scale),
});

type CellName = FastRecurrentCell['cell'];
const KINDS: Record<CellName, RecurrentKind> = { lstm: lstmKind, gru: gruKind, simple_rnn: simpleRnnKind };
const CLASS: Record<CellName, string> = { lstm: 'LSTM', gru: 'GRU', simple_rnn: 'SimpleRNN' };

interface Setup {
  cell: CellName;
  units: number;
  batch: number;
  steps: number;
  features: number;
  config?: Record<string, unknown>;
  mask?: boolean;
  initial?: boolean;
  kerasVersion?: string;
  resetAfter?: boolean;
}

function makeArgs(s: Setup): { args: ForwardArgs; layer: LayerConfig } {
  const g = s.cell === 'lstm' ? 4 : s.cell === 'gru' ? 3 : 1;
  const layer: LayerConfig = {
    name: `layer_${s.cell}`,
    className: CLASS[s.cell],
    config: { units: s.units, ...(s.cell === 'gru' ? { reset_after: !!s.resetAfter } : {}), ...s.config },
    inbound: [],
  };
  const weights = new Map<string, Tensor>([
    ['kernel', tensor([s.features, g * s.units], 0.7)],
    ['recurrent_kernel', tensor([s.units, g * s.units], 0.7)],
    ['bias', s.cell === 'gru' && s.resetAfter ? tensor([2, 3 * s.units], 0.4) : tensor([g * s.units], 0.4)],
  ]);
  let mask: Mask | null = null;
  if (s.mask) {
    mask = { batch: s.batch, steps: s.steps, data: Uint8Array.from({ length: s.batch * s.steps }, () => (rand() < 0.3 ? 0 : 1)) };
    mask.data.fill(0, 0, Math.min(2, s.steps)); // sample 0 starts masked: output before the first real step
  }
  const initialStates = s.initial
    ? Array.from({ length: s.cell === 'lstm' ? 2 : 1 }, () => tensor([s.batch, s.units], 0.9))
    : undefined;
  const args: ForwardArgs = {
    layer,
    inputs: [tensor([s.batch, s.steps, s.features], 1.3)],
    masks: [mask],
    weights,
    initialStates,
    ctx: { kerasVersion: s.kerasVersion ?? '2.15.0', states: new Map() },
  };
  return { args, layer };
}

function fastSpec(s: Setup, args: ForwardArgs): FastRecurrentCell {
  const v = args.ctx.kerasVersion;
  return {
    cell: s.cell,
    kernel: args.weights.get('kernel')!,
    recurrentKernel: args.weights.get('recurrent_kernel')!,
    bias: args.weights.get('bias'),
    resetAfter: s.resetAfter,
    activation: activationOf(args.layer, v),
    recurrentActivation: s.cell === 'simple_rnn' ? undefined : recurrentActivationOf(args.layer, v),
  };
}

function assertClose(actual: Tensor[], expected: Tensor[], label: string): void {
  assert.equal(actual.length, expected.length, `${label}: output count`);
  actual.forEach((t, i) => {
    assert.deepEqual(t.shape, expected[i].shape, `${label}: output ${i} shape`);
    let worst = 0;
    for (let k = 0; k < t.data.length; k++) worst = Math.max(worst, Math.abs(t.data[k] - expected[i].data[k]));
    assert.ok(worst <= 1e-12, `${label}: output ${i} differs by ${worst}`);
  });
}

/** The kind's readable step loop: the same call with a trace requested. */
function reference(s: Setup, args: ForwardArgs, overrides: RunOverrides = {}) {
  return KINDS[s.cell].runWith({ ...args, ctx: { ...args.ctx, trace: [] } }, overrides);
}

const setups: Setup[] = [
  { cell: 'lstm', units: 5, batch: 3, steps: 6, features: 4 },
  { cell: 'lstm', units: 7, batch: 2, steps: 5, features: 3, config: { return_sequences: true, return_state: true }, mask: true },
  { cell: 'lstm', units: 4, batch: 5, steps: 4, features: 2, config: { go_backwards: true, return_sequences: true }, initial: true },
  { cell: 'lstm', units: 4, batch: 3, steps: 5, features: 2, config: { return_sequences: true }, mask: true, initial: true },
  { cell: 'lstm', units: 3, batch: 2, steps: 3, features: 5, config: { recurrent_activation: 'hard_sigmoid', zero_output_for_mask: true, return_sequences: true }, mask: true },
  { cell: 'lstm', units: 3, batch: 2, steps: 3, features: 2, config: { recurrent_activation: 'hard_sigmoid' }, kerasVersion: '3.3.3' },
  { cell: 'gru', units: 6, batch: 4, steps: 5, features: 3, resetAfter: true, config: { return_sequences: true }, mask: true },
  { cell: 'gru', units: 5, batch: 3, steps: 4, features: 4, resetAfter: false, config: { return_state: true, go_backwards: true }, initial: true },
  { cell: 'gru', units: 2, batch: 1, steps: 7, features: 1, resetAfter: false, config: { activation: 'relu', recurrent_activation: 'sigmoid' }, kerasVersion: '1.2.2' },
  { cell: 'simple_rnn', units: 9, batch: 2, steps: 5, features: 3, config: { return_sequences: true }, mask: true },
  { cell: 'simple_rnn', units: 4, batch: 3, steps: 2, features: 6, config: { activation: 'linear', return_state: true }, initial: true },
];

test('the fast layer call gives the kinds\' own results (outputs, states, masks) within 1e-12', () => {
  for (const s of setups) {
    const { args, layer } = makeArgs(s);
    const label = `${s.cell} ${JSON.stringify(s.config ?? {})}${s.mask ? ' masked' : ''}${s.initial ? ' initial state' : ''}`;
    const fast = runRecurrentFast(args, recurrentFlags(layer), {}, fastSpec(s, args));
    assert.ok(fast, `${label}: fast path declined`);
    const ref = reference(s, args);
    assertClose(fast.outputs, ref.outputs, label);
    assert.deepEqual(fast.masks, ref.masks, `${label}: output masks`);
  }
});

test('Bidirectional-style overrides (go_backwards, zero_output_for_mask) are honoured', () => {
  const s: Setup = { cell: 'lstm', units: 4, batch: 3, steps: 5, features: 2, config: { return_sequences: true }, mask: true };
  const { args, layer } = makeArgs(s);
  const overrides: RunOverrides = { goBackwards: true, zeroOutputForMask: true, stateKey: 'bwd', direction: 'backward' };
  const fast = runRecurrentFast(args, recurrentFlags(layer), overrides, fastSpec(s, args))!;
  assertClose(fast.outputs, reference(s, args, overrides).outputs, 'backward direction');
});

test('stateful layers carry their states between calls exactly as the step loop does', () => {
  const s: Setup = { cell: 'gru', units: 3, batch: 2, steps: 4, features: 2, resetAfter: true, config: { stateful: true, return_state: true } };
  const { args, layer } = makeArgs(s);
  const fastCtx = { ...args.ctx, states: new Map() };
  const refCtx = { ...args.ctx, states: new Map() };
  for (let call = 0; call < 3; call++) {
    const fast = runRecurrentFast({ ...args, ctx: fastCtx }, recurrentFlags(layer), {}, fastSpec(s, args))!;
    const ref = gruKind.runWith({ ...args, ctx: { ...refCtx, trace: [] } }, {});
    assertClose(fast.outputs, ref.outputs, `call ${call}`);
    assertClose(fastCtx.states.get(layer.name)!, refCtx.states.get(layer.name)!, `saved state after call ${call}`);
  }
});

test('declines (returns null) what it cannot compute exactly: traces, unknown or parametrised activations', () => {
  const s: Setup = { cell: 'lstm', units: 3, batch: 1, steps: 2, features: 2 };
  const { args, layer } = makeArgs(s);
  const flags = recurrentFlags(layer);
  const spec = fastSpec(s, args);
  assert.equal(runRecurrentFast({ ...args, ctx: { ...args.ctx, trace: [] } }, flags, {}, spec), null);
  assert.equal(runRecurrentFast(args, flags, {}, { ...spec, activation: activationByName('softsign', null) }), null);
  assert.equal(runRecurrentFast(args, flags, {}, { ...spec, activation: activationByName('relu', null, { max_value: 1 }) }), null);
  assert.equal(runRecurrentFast(args, flags, {}, { ...spec, recurrentActivation: activationByName('relu', null, { negative_slope: 0.1 }) }), null);
  assert.ok(runRecurrentFast(args, flags, {}, { ...spec, activation: activationByName('relu', null) }));
});

test('packed weights are reused across calls of one layer (cache keyed by its weight arrays)', () => {
  const s: Setup = { cell: 'lstm', units: 6, batch: 2, steps: 3, features: 4 };
  const { args, layer } = makeArgs(s);
  const spec = fastSpec(s, args);
  const first = runRecurrentFast(args, recurrentFlags(layer), {}, spec)!;
  // Change the kernel in place: a cached packing keeps computing with the packed copy.
  const kernel = args.weights.get('kernel')!.data;
  const saved = kernel.slice();
  kernel.fill(0);
  const again = runRecurrentFast(args, recurrentFlags(layer), {}, spec)!;
  kernel.set(saved);
  assertClose(again.outputs, first.outputs, 'second call');
  // A different weight array is a different layer: packed anew.
  const other = { ...spec, kernel: { shape: spec.kernel.shape, data: new Float32Array(spec.kernel.data.length) } };
  const zeroKernel = runRecurrentFast(args, recurrentFlags(layer), {}, other)!;
  assert.notDeepEqual(Array.from(zeroKernel.outputs[0].data), Array.from(first.outputs[0].data));
});

test('a bias recomputed on every call (CuDNN sums its halves per call) still hits the packed-weight cache', () => {
  const s: Setup = { cell: 'lstm', units: 3, batch: 1, steps: 2, features: 2 };
  const { args, layer } = makeArgs(s);
  const spec = fastSpec(s, args);
  const first = runRecurrentFast(args, recurrentFlags(layer), {}, spec)!;
  const kernel = args.weights.get('kernel')!.data;
  const saved = kernel.slice();
  kernel.fill(0); // a re-packing would now see zeros
  const copy = { ...spec, bias: { shape: spec.bias!.shape, data: Float64Array.from(spec.bias!.data) } };
  const again = runRecurrentFast(args, recurrentFlags(layer), {}, copy)!;
  kernel.set(saved);
  assertClose(again.outputs, first.outputs, 'equal bias values, new array');
  // a bias with other values is packed anew
  const shifted = { ...spec, bias: { shape: spec.bias!.shape, data: Float64Array.from(spec.bias!.data, (v) => v + 1) } };
  const other = runRecurrentFast(args, recurrentFlags(layer), {}, shifted)!;
  assert.notDeepEqual(Array.from(other.outputs[0].data), Array.from(first.outputs[0].data));
});

test('a run that grew the workspace past 64 MB drops its packing, so the memory is not kept with the model', () => {
  const s: Setup = { cell: 'lstm', units: 4, batch: 1, steps: 3, features: 1 };
  const { args, layer } = makeArgs(s);
  const spec = fastSpec(s, args);
  const flags = recurrentFlags(layer);
  const small = runRecurrentFast(args, flags, {}, spec)!;
  const kernel = args.weights.get('kernel')!.data;
  const saved = kernel.slice();
  // cached: an in-place change of the kernel is not seen
  kernel.fill(0);
  assertClose(runRecurrentFast(args, flags, {}, spec)!.outputs, small.outputs, 'cached packing');
  kernel.set(saved);
  // a long input: (x·W + b) alone needs 560000 steps × 16 columns × 8 bytes ≈ 72 MB
  const steps = 560000;
  const long: ForwardArgs = { ...args, inputs: [{ shape: [1, steps, 1], data: new Float32Array(steps).fill(0.5) }] };
  assert.ok(runRecurrentFast(long, flags, {}, spec));
  // the packing was dropped: the next call packs anew and now sees the changed kernel
  kernel.fill(0);
  const repacked = runRecurrentFast(args, flags, {}, spec)!;
  kernel.set(saved);
  assert.notDeepEqual(Array.from(repacked.outputs[0].data), Array.from(small.outputs[0].data));
});
