/**
 * numpy: one module `model.py` with `predict(x, dtype=np.float64)`, batch-vectorised; weights embedded as base64
 * little-endian arrays. Each plan step becomes a few numpy lines under its comment block.
 */
import { base64Of } from './base64';
import type { Expr, ExportActivation } from './activations';
import type { Plan, PlanTensor, PlanWeight, Step } from './plan';
import { activationNames, recurrenceLines, shapeText, stepLines, weightLine, gateLines } from './describe';
import { asciiJsonList, commentText, quoted } from './names';
import { NUMPY_ARRAYS, pythonHelpers } from './python-helpers';
import { moduleShapeText, stepsInput } from './free-steps';

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
  const bytes = f4 ? Float32Array.from(w.data) : w.data;
  lines.push(`_WEIGHTS[${quoted(w.id)}] = _array(${quoted(base64Of(bytes))}, ${quoted(f4 ? '<f4' : '<f8')}, ${shapeText(w.shape)})`);
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


`;

const HELPERS = pythonHelpers(NUMPY_ARRAYS);

export function emitNumpy(plan: Plan, header: string[]): string {
  const acts = activationNames(plan);
  const L: string[] = [];
  L.push(`"""${header.map((h) => commentText(h, 200)).join('\n')}\n"""`);
  L.push(PRELUDE);
  L.push(HELPERS);
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
  // with a free steps axis the plan's sizes there are sentinels (free-steps.ts): the module-level shapes say None
  const moduleShape = (shape: number[]) => moduleShapeText(plan, shape);
  L.push(`INPUT_SHAPES = [${plan.inputs.map((i) => moduleShape(i.tensor.shape)).join(', ')}]  # per sample (batch axis left out)${plan.freeSteps === null ? '' : '; None: the free steps axis'}`);
  L.push(`OUTPUT_SHAPES = [${plan.outputs.map((o) => moduleShape(o.tensor.shape)).join(', ')}]`);
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
    if (k === stepsInput(plan)) {
      L.push(`    steps = ${inp.tensor.id}.shape[1]  # the free steps axis: every size below that depends on it is written in steps`);
    }
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
    case 'mask_reverse':
      return [`${s.mask} = ${s.source}[:, ::-1]`];
    case 'rnn': {
      const common = `${s.x.id}, ${s.mask ?? 'None'}, ${W(s.kernel)}, ${W(s.recurrent)}, ${s.bias ? W(s.bias) : 'None'}`;
      const flags = `${s.goBackwards ? 'True' : 'False'}, ${s.returnSequences ? 'True' : 'False'}, ${s.zeroOutputForMask ? 'True' : 'False'}, ${s.initial ? `[${s.initial.map((t) => t.id).join(', ')}]` : 'None'}`;
      const acts2 = `${acts.get(s.act)}${s.recAct ? `, ${acts.get(s.recAct)}` : ''}`;
      const fn = s.cell === 'lstm' ? '_lstm' : s.cell === 'gru' ? '_gru' : '_simple_rnn';
      const extra = s.cell === 'gru' ? `${s.resetAfter ? 'True' : 'False'}, ` : '';
      return [`${s.y.id}, [${s.states.map((t) => t.id).join(', ')}] = ${fn}(${common}, ${extra}${acts2}, ${flags})`];
    }
    case 'conv_lstm':
      return [`${s.y.id}, [${s.states.map((t) => t.id).join(', ')}] = _conv_lstm(${convLstmArgs(s, W, acts)})`];
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
    case 'prelu':
      return [`${s.y.id} = np.where(${s.x.id} >= 0, ${s.x.id}, ${W(s.alpha)} * ${s.x.id})`];
    case 'not_equal':
      return [`${s.y.id} = ${s.x.id} != ${pyNumber(s.value)}`];
    case 'any_last':
      // any over the trailing axes: each output value is one row of width values
      if (s.x.shape.length !== s.y.shape.length + 1) return [`${s.y.id} = np.any(${s.x.id}.reshape(${B(s.y)} + (${s.width},)), axis=-1)`];
      return [`${s.y.id} = np.any(${s.x.id}, axis=-1)`];
    case 'pad_steps':
      return s.before >= 0
        ? [`${s.y.id} = np.pad(${s.x.id}, ((0, 0), (${s.before}, ${s.after}), (0, 0)))`]
        : [`${s.y.id} = ${s.x.id}[:, ${-s.before}:${s.steps + s.after}]`];
    case 'upsample_steps':
      return [`${s.y.id} = np.repeat(${s.x.id}, ${s.size}, axis=1)`];
    case 'transpose':
      return [`${s.y.id} = ${s.x.id}.transpose(0, ${s.perm.map((a) => a + 1).join(', ')})  # axis 0: the batch`];
    case 'layernorm':
      return [
        ...(s.mode === 'rms'
          ? [`variance = (${s.x.id} ** 2).mean(axis=-1, keepdims=True)  # the mean square (RMSNormalization)`]
          : [`mean = ${s.x.id}.mean(axis=-1, keepdims=True)`, `variance = ((${s.x.id} - mean) ** 2).mean(axis=-1, keepdims=True)`]),
        `inv = 1.0 / np.sqrt(variance + ${pyNumber(s.epsilon)})${s.gamma ? ` * ${W(s.gamma)}` : ''}`,
        s.mode === 'layer' ? `${s.y.id} = ${s.x.id} * inv + (${s.beta ? `${W(s.beta)} - ` : '-'}mean * inv)` : `${s.y.id} = ${s.x.id} * inv`,
      ];
    case 'attention':
      return [attentionCall(s, W)];
    case 'batchnorm':
      return [
        `inv = 1.0 / np.sqrt(${W(s.variance)} + ${pyNumber(s.epsilon)})${s.gamma ? ` * ${W(s.gamma)}` : ''}`,
        `${s.y.id} = ${s.x.id} * inv + (${s.beta ? `${W(s.beta)} - ` : '-'}${W(s.mean)} * inv)`,
      ];
  }
}

/** The arguments of the Python helper _conv_lstm (python-helpers.ts), shared by numpy and PyTorch. */
export function convLstmArgs(s: Extract<Step, { op: 'conv_lstm' }>, W: (w: PlanWeight) => string, acts: Map<ExportActivation, string>): string {
  const t = (v: number[]) => `[${v.join(', ')}]`;
  const py = (b: boolean) => (b ? 'True' : 'False');
  return [
    s.x.id, s.mask ?? 'None', W(s.kernel), W(s.recurrent), s.bias ? W(s.bias) : 'None',
    t(s.outSpatial), t(s.strides), t(s.dilation), t(s.padBefore), t(s.recPadBefore), acts.get(s.act), acts.get(s.recAct),
    py(s.goBackwards), py(s.returnSequences), py(s.zeroOutputForMask), s.initial ? `[${s.initial.map((x) => x.id).join(', ')}]` : 'None',
  ].join(', ');
}

/** The call of the Python helper _attention (python-helpers.ts), shared by numpy and PyTorch. */
export function attentionCall(s: Extract<Step, { op: 'attention' }>, W: (w: PlanWeight) => string): string {
  const py = (b: boolean) => (b ? 'True' : 'False');
  const args = [s.q.id, s.k.id, s.v.id, s.qMask ?? 'None', s.vMask ?? 'None', py(s.causal), quoted(s.score), s.scale ? W(s.scale) : 'None', s.concatWeight ? W(s.concatWeight) : 'None'];
  return `${s.y.id}, ${s.w.id} = _attention(${args.join(', ')})`;
}

export { recurrenceLines };
