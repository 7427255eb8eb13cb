/**
 * What happens around the time loop of one recurrent layer call, shared by the readable step loop
 * (runRecurrent in time-loop.ts) and the fast path (fast-recurrent.ts), so both check alike with one set of messages:
 *   - the input mask must be (batch, steps) like the input;
 *   - the initial states come from the call (initial_state) or, for a stateful layer, from its previous call
 *     (Keras keeps them on the layer; we keep them in ctx.states under the layer's, or the direction's, key), and
 *     each must hold batch × size values; missing ones are zeros;
 *   - a stateful layer saves its final states (copies) for the next call;
 *   - outputs [main, ...final states with return_state]; the main output keeps the input mask with return_sequences.
 */
import type { ForwardArgs, ForwardResult, Mask, Tensor } from '../types';
import { KerasLensError } from '../types';

/** The flags that decide a call's states and outputs. */
export interface CallSettings {
  returnSequences: boolean;
  returnState: boolean;
  stateful: boolean;
  /** Key in ctx.states (the layer name, or `<wrapper>/<direction>` inside Bidirectional). */
  stateKey: string;
}

/** The input mask of the call, checked against the input's (batch, steps). */
export function checkedCallMask(args: ForwardArgs, mask: Mask | null, batch: number, steps: number): Mask | null {
  if (mask && (mask.batch !== batch || mask.steps !== steps)) {
    throw new KerasLensError(null, `layer '${args.layer.name}': mask is ${mask.batch}×${mask.steps}, input is ${batch}×${steps}`);
  }
  return mask;
}

/** The `count` starting states, each batch × size values, or null where it starts at zeros. */
export function callStartStates(args: ForwardArgs, s: CallSettings, count: number, batch: number, size: number): (Tensor['data'] | null)[] {
  const saved = s.stateful ? args.ctx.states.get(s.stateKey) : undefined;
  const given = args.initialStates && args.initialStates.length > 0 ? args.initialStates : saved;
  const out: (Tensor['data'] | null)[] = [];
  for (let k = 0; k < count; k++) {
    const src = given?.[k];
    if (src && src.data.length !== batch * size) {
      throw new KerasLensError(null, `layer '${args.layer.name}': initial state ${k} has ${src.data.length} values, expected ${batch}×${size}`);
    }
    out.push(src ? src.data : null);
  }
  return out;
}

/** Saves a stateful layer's final states and assembles the call's outputs and output masks. */
export function finishCall(args: ForwardArgs, s: CallSettings, mask: Mask | null, main: Tensor, states: Tensor[]): ForwardResult {
  if (s.stateful) args.ctx.states.set(s.stateKey, states.map((t) => ({ shape: t.shape, data: new Float64Array(t.data) })));
  const outputs = [main, ...(s.returnState ? states : [])];
  return { outputs, masks: outputs.map((_, k) => (k === 0 && s.returnSequences ? mask : null)) };
}
