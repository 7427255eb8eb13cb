/**
 * numpy: one module `model.py` with `predict(x, dtype=np.float64)`, batch-vectorised; weights embedded as base64
 * little-endian arrays. Each plan step becomes a few numpy lines under its comment block.
 */
import type { Expr, ExportActivation } from './activations';
import type { Plan, PlanTensor, PlanWeight, Step } from './plan';
import { recurrenceLines, shapeText, stepLines, weightLine, gateLines } from './describe';
import { asciiJsonList, commentText, quoted } from './names';

export function pyNumber(v: number): string {
  if (Number.isInteger(v)) return `${v}.0`;
  return String(v);
}

/** An expression over `x` as vectorised numpy code. */
export function numpyExpr(e: Expr, x = 'x', np = 'np'): string {
  const r = (s: Expr) => numpyExpr(s, x, np);
  switch (e.k) {
    case 'x':
      return x;
    case 'num':
      return pyNumber(e.v);
    case 'call':
      return e.f === 'sigmoid' || e.f === 'softplus' || e.f === 'erf' ? `_${e.f}(${r(e.a)})` : `${np}.${e.f}(${r(e.a)})`;
    case 'bin':
      return `(${r(e.a)} ${e.op} ${r(e.b)})`;
    case 'min':
      return `${np}.minimum(${r(e.a)}, ${r(e.b)})`;
    case 'max':
      return `${np}.maximum(${r(e.a)}, ${r(e.b)})`;
    case 'where':
      return `${np}.where(${r(e.l)} ${e.op} ${r(e.r)}, ${r(e.a)}, ${r(e.b)})`;
  }
}

function weightDecl(w: PlanWeight, lines: string[]): void {
  lines.push(`# ${weightLine(w)}`);
  for (const g of gateLines(w)) lines.push(`#   ${g}`);
  const f4 = w.float32;
  const bytes = f4 ? Buffer.from(Float32Array.from(w.data).buffer) : Buffer.from(w.data.buffer, w.data.byteOffset, w.data.byteLength);
  lines.push(`_WEIGHTS[${quoted(w.id)}] = _array(${quoted(bytes.toString('base64'))}, ${quoted(f4 ? '<f4' : '<f8')}, ${shapeText(w.shape)})`);
}

function activationFunctions(plan: Plan): Map<ExportActivation, string> {
  const names = new Map<ExportActivation, string>();
  const seen = new Map<string, string>();
  const visit = (a: ExportActivation | null | undefined) => {
    if (!a || names.has(a)) return;
    const key = JSON.stringify(a);
    const existing = seen.get(key);
    if (existing) names.set(a, existing);
    else {
      const id = `act_${seen.size}_${a.name}`;
      seen.set(key, id);
      names.set(a, id);
    }
  };
  for (const s of plan.steps) {
    if (s.op === 'dense' || s.op === 'activation' || s.op === 'conv1d') visit(s.act);
    if (s.op === 'rnn') {
      visit(s.act);
      visit(s.recAct);
    }
  }
  return names;
}

const PRELUDE = `
import base64
import json
import math
import sys

import numpy as np

_WEIGHTS = {}


def _array(b64, dtype, shape):
    return np.frombuffer(base64.b64decode(b64), dtype=dtype).reshape(shape)


def _sigmoid(x):
    # 1 / (1 + exp(-x)), computed without overflow for large |x|
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _softplus(x):
    # log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|))
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


_erf_vec = np.vectorize(math.erf, otypes=[np.float64])


def _erf(x):
    return _erf_vec(x).astype(x.dtype)


def _softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _log_softmax(x):
    m = x - x.max(axis=-1, keepdims=True)
    return m - np.log(np.exp(m).sum(axis=-1, keepdims=True))


def _run_rnn(step, x, mask, states, go_backwards, return_sequences, zero_output_for_mask):
    """Keras's rnn(): steps in order (reversed with go_backwards); at a masked step the states are kept and the
    output is the previous output (or 0 with zero_output_for_mask). The sequence is in processing order."""
    batch, steps = x.shape[0], x.shape[1]
    output = np.zeros_like(states[0])
    outputs = []
    for s in range(steps):
        t = steps - 1 - s if go_backwards else s
        new_states = step(t, states)
        new_output = new_states[0]
        if mask is not None:
            real = mask[:, t][:, None]
            new_states = [np.where(real, n, o) for n, o in zip(new_states, states)]
            new_output = np.where(real, new_output, 0.0 if zero_output_for_mask else output)
        states = new_states
        output = new_output
        outputs.append(output)
    y = np.stack(outputs, axis=1) if return_sequences else output
    return y, states


def _lstm(x, mask, W, U, b, act, rec, go_backwards, return_sequences, zero_output_for_mask, initial):
    u = U.shape[0]
    xw = x @ W + (b if b is not None else 0)          # x(t) W + b for every step at once, columns i | f | c | o

    def step(t, states):
        h, c = states
        z = xw[:, t] + h @ U
        i = rec(z[:, 0 * u:1 * u])                    # i = rec(x W_i + h U_i + b_i)   input gate
        f = rec(z[:, 1 * u:2 * u])                    # f = rec(x W_f + h U_f + b_f)   forget gate
        cc = act(z[:, 2 * u:3 * u])                   # c~ = act(x W_c + h U_c + b_c)  cell candidate
        o = rec(z[:, 3 * u:4 * u])                    # o = rec(x W_o + h U_o + b_o)   output gate
        c = f * c + i * cc                            # c = f * c(t-1) + i * c~
        return [o * act(c), c]                        # h = o * act(c)

    zeros = np.zeros((x.shape[0], u), dtype=x.dtype)
    return _run_rnn(step, x, mask, initial or [zeros, zeros], go_backwards, return_sequences, zero_output_for_mask)


def _gru(x, mask, W, U, b, reset_after, act, rec, go_backwards, return_sequences, zero_output_for_mask, initial):
    u = U.shape[0]
    b_in = b[0] if (b is not None and reset_after) else (b if b is not None else 0)
    b_rec = b[1] if (b is not None and reset_after) else 0
    xw = x @ W + b_in                                 # columns z | r | h

    def step(t, states):
        (h,) = states
        xz, xr, xh = xw[:, t, 0:u], xw[:, t, u:2 * u], xw[:, t, 2 * u:3 * u]
        if reset_after:
            hu = h @ U + b_rec
            z = rec(xz + hu[:, 0:u])                  # z = rec(x W_z + b_z + h U_z + b'_z)   update gate
            r = rec(xr + hu[:, u:2 * u])              # r = rec(x W_r + b_r + h U_r + b'_r)   reset gate
            hh = act(xh + r * hu[:, 2 * u:3 * u])     # h~ = act(x W_h + b_h + r * (h U_h + b'_h))
        else:
            z = rec(xz + h @ U[:, 0:u])               # z = rec(x W_z + b_z + h U_z)
            r = rec(xr + h @ U[:, u:2 * u])           # r = rec(x W_r + b_r + h U_r)
            hh = act(xh + (r * h) @ U[:, 2 * u:3 * u])  # h~ = act(x W_h + b_h + (r * h) U_h)
        return [z * h + (1 - z) * hh]                 # h = z * h(t-1) + (1 - z) * h~

    zeros = np.zeros((x.shape[0], u), dtype=x.dtype)
    return _run_rnn(step, x, mask, initial or [zeros], go_backwards, return_sequences, zero_output_for_mask)


def _simple_rnn(x, mask, W, U, b, act, go_backwards, return_sequences, zero_output_for_mask, initial):
    u = U.shape[0]
    xw = x @ W + (b if b is not None else 0)

    def step(t, states):
        (h,) = states
        return [act(xw[:, t] + h @ U)]                # h = act(x W + b + h(t-1) U)

    zeros = np.zeros((x.shape[0], u), dtype=x.dtype)
    return _run_rnn(step, x, mask, initial or [zeros], go_backwards, return_sequences, zero_output_for_mask)


def _conv1d(x, W, b, stride, dilation, pad_before, out_steps):
    # y[t, f] = sum_{j, c} x[t * stride + j * dilation - pad_before, c] W[j, c, f]  (zeros outside the input)
    batch, steps, cin = x.shape
    k = W.shape[0]
    y = np.zeros((batch, out_steps, W.shape[2]), dtype=x.dtype)
    for j in range(k):
        for t in range(out_steps):
            s = t * stride + j * dilation - pad_before
            if 0 <= s < steps:
                y[:, t] += x[:, s] @ W[j]
    return y + (b if b is not None else 0)


def _pool1d(x, pool, stride, pad_before, out_steps, average):
    # windows of pool steps every stride steps; padded cells are ignored (average divides by the real cells)
    steps = x.shape[1]
    cols = []
    for t in range(out_steps):
        a = max(t * stride - pad_before, 0)
        e = min(t * stride - pad_before + pool, steps)
        w = x[:, a:e]
        cols.append(w.mean(axis=1) if average else w.max(axis=1))
    return np.stack(cols, axis=1)
`;

export function emitNumpy(plan: Plan, header: string[]): string {
  const acts = activationFunctions(plan);
  const L: string[] = [];
  L.push(`"""${header.map((h) => commentText(h, 200)).join('\n')}\n"""`);
  L.push(PRELUDE);
  L.push('');
  L.push('# ---- activations ----');
  const done = new Set<string>();
  for (const [a, id] of acts) {
    if (done.has(id)) continue;
    done.add(id);
    L.push(`def ${id}(x):`);
    L.push(`    # ${a.name} = ${a.formula}`);
    L.push(a.softmax ? `    return _${a.softmax}(x)` : `    return ${numpyExpr(a.expr!)}`);
    L.push('');
    L.push('');
  }
  L.push('# ---- weights (Keras layout, gate blocks along the last axis) ----');
  for (const w of plan.weights) weightDecl(w, L);
  L.push('');
  L.push(`INPUT_NAMES = json.loads(${quoted(asciiJsonList(plan.inputs.map((i) => i.name)))})`);
  L.push(`OUTPUT_NAMES = json.loads(${quoted(asciiJsonList(plan.outputs.map((o) => o.name)))})`);
  L.push(`INPUT_SHAPES = [${plan.inputs.map((i) => shapeText(i.tensor.shape)).join(', ')}]  # per sample (batch axis left out)`);
  L.push(`OUTPUT_SHAPES = [${plan.outputs.map((o) => shapeText(o.tensor.shape)).join(', ')}]`);
  L.push('_CAST = {}');
  L.push('');
  L.push('');
  L.push('def predict(x, dtype=np.float64):');
  L.push(`    """Like Keras model.predict: x is ${plan.inputs.length === 1 ? 'an array (batch, *INPUT_SHAPES[0])' : 'a list of arrays in INPUT_NAMES order, or a dict keyed by input name'};`);
  L.push('    returns one array per output (a list when the model has several outputs). dtype: np.float64 or np.float32."""');
  L.push('    dtype = np.dtype(dtype)');
  L.push('    if dtype not in _CAST:');
  L.push('        _CAST[dtype] = {k: v.astype(dtype) for k, v in _WEIGHTS.items()}');
  L.push('    w = _CAST[dtype]');
  L.push('    if isinstance(x, dict):');
  L.push('        x = [x[n] for n in INPUT_NAMES]');
  L.push(plan.inputs.length === 1 ? '    else:\n        x = [x]' : '    else:\n        x = list(x)');
  plan.inputs.forEach((inp, k) => {
    L.push(`    ${inp.tensor.id} = np.asarray(x[${k}], dtype=dtype)`);
    L.push(`    if ${inp.tensor.id}.ndim == ${inp.tensor.shape.length}:  # one sample without the batch axis`);
    L.push(`        ${inp.tensor.id} = ${inp.tensor.id}[None]`);
    L.push(`    assert ${inp.tensor.id}.shape[1:] == ${shapeText(inp.tensor.shape)}, 'input ' + INPUT_NAMES[${k}] + ' must be (batch, ' + str(INPUT_SHAPES[${k}])[1:]`);
  });
  L.push('    batch = ' + plan.inputs[0].tensor.id + '.shape[0]');
  L.push('    with np.errstate(over="ignore"):');
  for (const s of plan.steps) {
    L.push('');
    for (const line of stepLines(s)) L.push(`        # ${line}`);
    for (const line of stepCode(s, acts)) L.push(`        ${line}`);
  }
  L.push(`    outputs = [${plan.outputs.map((o) => o.tensor.id).join(', ')}]`);
  L.push('    return outputs if len(outputs) > 1 else outputs[0]');
  L.push('');
  L.push('');
  L.push(MAIN);
  return L.join('\n') + '\n';
}

const MAIN = `def _read_input(path):
    with open(path) as f:
        data = json.load(f)
    if isinstance(data, dict) and "inputs" in data and isinstance(data["inputs"], dict) and not set(INPUT_NAMES) <= set(data):
        data = data["inputs"]  # golden.json
    if isinstance(data, dict):
        return {n: data[n] for n in INPUT_NAMES}
    return {INPUT_NAMES[0]: data}


def main(argv):
    """python3 model.py INPUT.json [--float32] prints {"outputs": [...], "outputNames": [...]};
    python3 model.py --self-test golden.json [--float32] checks our output against the golden one."""
    dtype = np.float32 if "--float32" in argv else np.float64
    args = [a for a in argv if a != "--float32"]
    if args and args[0] == "--self-test":
        with open(args[1]) as f:
            golden = json.load(f)
        got = predict(_read_input(args[1]), dtype)
        got = got if len(OUTPUT_NAMES) > 1 else [got]
        worst = 0.0
        for g, e in zip(got, golden["outputs"]):
            e = np.asarray(e, dtype=np.float64)
            if g.shape != e.shape:
                print("self-test: output shape", g.shape, "expected", e.shape)
                return 1
            tol = 1e-5 if dtype == np.float64 else 1e-4
            worst = max(worst, float((np.abs(g - e) / (tol * np.maximum(1.0, np.abs(e)))).max(initial=0.0)))
        print("self-test:", "ok" if worst <= 1 else "FAILED", "(worst error %.3g of the tolerance)" % worst)
        return 0 if worst <= 1 else 1
    got = predict(_read_input(args[0]), dtype)
    got = got if len(OUTPUT_NAMES) > 1 else [got]
    print(json.dumps({"outputs": [g.astype(np.float64).tolist() for g in got], "outputNames": OUTPUT_NAMES}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
`;

const W = (w: PlanWeight) => `w[${quoted(w.id)}]`;
const B = (t: PlanTensor) => `(batch,) + ${shapeText(t.shape)}`;

function stepCode(s: Step, acts: Map<ExportActivation, string>): string[] {
  switch (s.op) {
    case 'dense':
      return [`${s.y.id} = ${acts.get(s.act)}(${s.x.id} @ ${W(s.kernel)}${s.bias ? ` + ${W(s.bias)}` : ''})`];
    case 'activation':
      return [`${s.y.id} = ${acts.get(s.act)}(${s.x.id})`];
    case 'reshape':
      return [`${s.y.id} = ${s.x.id}.reshape(${B(s.y)})`];
    case 'embedding':
      return [`${s.y.id} = ${W(s.table)}[${s.x.id}.astype(np.int64)]`];
    case 'masking':
      return [
        `${s.mask} = np.any(${s.x.id} != ${pyNumber(s.value)}, axis=-1)`,
        `${s.y.id} = ${s.x.id} * ${s.mask}[..., None]`,
      ];
    case 'mask_nonzero':
      return [`${s.mask} = ${s.x.id} != 0`];
    case 'mask_and':
      return [`${s.mask} = ${s.masks.join(' & ')}`];
    case 'rnn': {
      const common = `${s.x.id}, ${s.mask ?? 'None'}, ${W(s.kernel)}, ${W(s.recurrent)}, ${s.bias ? W(s.bias) : 'None'}`;
      const flags = `${s.goBackwards ? 'True' : 'False'}, ${s.returnSequences ? 'True' : 'False'}, ${s.zeroOutputForMask ? 'True' : 'False'}, ${s.initial ? `[${s.initial.map((t) => t.id).join(', ')}]` : 'None'}`;
      const acts2 = `${acts.get(s.act)}${s.recAct ? `, ${acts.get(s.recAct)}` : ''}`;
      const fn = s.cell === 'lstm' ? '_lstm' : s.cell === 'gru' ? '_gru' : '_simple_rnn';
      const extra = s.cell === 'gru' ? `${s.resetAfter ? 'True' : 'False'}, ` : '';
      return [`${s.y.id}, [${s.states.map((t) => t.id).join(', ')}] = ${fn}(${common}, ${extra}${acts2}, ${flags})`];
    }
    case 'reverse':
      return [`${s.y.id} = ${s.x.id}[:, ::-1]`];
    case 'merge': {
      const xs = s.xs.map((t) => t.id);
      switch (s.mode) {
        case 'add':
          return [`${s.y.id} = ${xs.join(' + ')}`];
        case 'subtract':
          return [`${s.y.id} = ${xs[0]} - ${xs[1]}`];
        case 'multiply':
          return [`${s.y.id} = ${xs.join(' * ')}`];
        case 'average':
          return [`${s.y.id} = (${xs.join(' + ')}) / ${xs.length}`];
        case 'maximum':
          return [`${s.y.id} = np.maximum.reduce([${xs.join(', ')}])`];
        case 'minimum':
          return [`${s.y.id} = np.minimum.reduce([${xs.join(', ')}])`];
      }
      return [];
    }
    case 'concat':
      return [`${s.y.id} = np.concatenate([${s.xs.map((t) => t.id).join(', ')}], axis=${s.axis + 1})`];
    case 'conv1d':
      return [`${s.y.id} = ${acts.get(s.act)}(_conv1d(${s.x.id}, ${W(s.kernel)}, ${s.bias ? W(s.bias) : 'None'}, ${s.stride}, ${s.dilation}, ${s.padBefore}, ${s.outSteps}))`];
    case 'pool1d':
      return [`${s.y.id} = _pool1d(${s.x.id}, ${s.pool}, ${s.stride}, ${s.padBefore}, ${s.outSteps}, ${s.average ? 'True' : 'False'})`];
    case 'global_pool':
      if (!s.average) return [`${s.y.id} = ${s.x.id}.max(axis=1).reshape(${B(s.y)})`];
      if (s.mask) return [`${s.y.id} = ((${s.x.id} * ${s.mask}[..., None]).sum(axis=1) / ${s.mask}.sum(axis=1, keepdims=True)).reshape(${B(s.y)})`];
      return [`${s.y.id} = ${s.x.id}.mean(axis=1).reshape(${B(s.y)})`];
    case 'repeat':
      return [`${s.y.id} = np.repeat(${s.x.id}[:, None], ${s.n}, axis=1)`];
  }
}

export { recurrenceLines };
