/**
 * PyTorch: `model_torch.py`, an `nn.Module` (`KerasModel`) whose weights live in `state_dict.pt` (written here in
 * torch's own format, see torch-save.ts). Recurrent layers use torch's nn.LSTM / nn.GRU / nn.RNN where Keras's
 * semantics are torch's: LSTM with tanh/sigmoid (gates i,f,c,o = torch i,f,g,o; weights transposed; bias_hh = 0),
 * GRU reset_after=True with tanh/sigmoid (Keras z,r,h → torch r,z,n; bias row 0 → bias_ih, row 1 → bias_hh),
 * SimpleRNN with tanh or relu; no mask (go_backwards = flip the input; the sequence stays in processing order).
 * Everything else runs explicit cell code (GRU reset_after=False, hard_sigmoid and other activations, masks).
 */
import type { Expr, ExportActivation } from './activations';
import type { Plan, PlanTensor, PlanWeight, Step } from './plan';
import type { ExportFile } from './index';
import { moduleShapeText, stepsInput } from './free-steps';
import { activationNames, shapeText, stepLines, weightLine, gateLines } from './describe';
import { asciiJsonList, commentText, quoted } from './names';
import { attentionCall, convLstmArgs, pyNumber } from './emit-numpy';
import { torchStateDict, type StateTensor } from './torch-save';
import { TORCH_ARRAYS, pythonHelpers } from './python-helpers';

function torchExpr(e: Expr, x = 'x'): string {
  const r = (s: Expr) => torchExpr(s, x);
  const tensorish = (s: Expr) => (s.k === 'num' ? `torch.full_like(${x}, ${pyNumber(s.v)})` : r(s));
  switch (e.k) {
    case 'x':
      return x;
    case 'num':
      return pyNumber(e.v);
    case 'call':
      if (e.f === 'softplus') return `F.softplus(${r(e.a)}, beta=1.0, threshold=1e9)`;
      return `torch.${e.f}(${r(e.a)})`;
    case 'bin':
      return `(${r(e.a)} ${e.op} ${r(e.b)})`;
    case 'min':
      if (e.a.k === 'num') return `torch.clamp(${r(e.b)}, max=${pyNumber(e.a.v)})`;
      if (e.b.k === 'num') return `torch.clamp(${r(e.a)}, max=${pyNumber(e.b.v)})`;
      return `torch.minimum(${r(e.a)}, ${r(e.b)})`;
    case 'max':
      if (e.a.k === 'num') return `torch.clamp(${r(e.b)}, min=${pyNumber(e.a.v)})`;
      if (e.b.k === 'num') return `torch.clamp(${r(e.a)}, min=${pyNumber(e.b.v)})`;
      return `torch.maximum(${r(e.a)}, ${r(e.b)})`;
    case 'where':
      return `torch.where(${r(e.l)} ${e.op} ${r(e.r)}, ${tensorish(e.a)}, ${tensorish(e.b)})`;
  }
}

type RnnStep = Extract<Step, { op: 'rnn' }>;

/** Can torch's own module run this recurrent step with Keras's semantics? */
export function torchNative(s: RnnStep): 'LSTM' | 'GRU' | 'RNN' | null {
  if (s.mask) return null;
  const tanh = s.act.name === 'tanh';
  const sig = s.recAct?.name === 'sigmoid';
  if (s.cell === 'lstm' && tanh && sig) return 'LSTM';
  if (s.cell === 'gru' && s.resetAfter && tanh && sig) return 'GRU';
  if (s.cell === 'simple' && (tanh || (s.act.name === 'relu' && s.act.formula === 'max(x, 0)'))) return 'RNN';
  return null;
}

const PRELUDE = `
import json
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F


def _softmax(x):
    return torch.softmax(x, dim=-1)


def _log_softmax(x):
    return torch.log_softmax(x, dim=-1)


`;

export function emitPytorch(plan: Plan, header: string[]): ExportFile[] {
  const state: StateTensor[] = [];
  const f32 = (d: Float64Array) => Float32Array.from(d);
  const natives = new Map<RnnStep, { module: string; kind: 'LSTM' | 'GRU' | 'RNN' }>();
  const explicitWeights = new Set<PlanWeight>();
  const moduleLines: string[] = [];
  const moduleByKernel = new Map<string, string>();
  let rnnCount = 0;
  for (const s of plan.steps) {
    if (s.op !== 'rnn') {
      for (const w of stepWeights(s)) explicitWeights.add(w);
      continue;
    }
    const kind = torchNative(s);
    if (!kind) {
      for (const w of [s.kernel, s.recurrent, s.bias]) if (w) explicitWeights.add(w);
      continue;
    }
    const known = moduleByKernel.get(s.kernel.id);
    if (known) {
      natives.set(s, { module: known, kind });
      continue;
    }
    const module = `rnn_${rnnCount++}_${s.kernel.id.slice(2, 30)}`;
    moduleByKernel.set(s.kernel.id, module);
    natives.set(s, { module, kind });
    const u = s.units;
    const bias = !!s.bias;
    moduleLines.push(`        # ${commentText(s.layer, 60)}${s.direction ? ` (${s.direction})` : ''}: torch nn.${kind}; from ${weightLine(s.kernel)}`);
    moduleLines.push(`        self.${module} = nn.${kind}(${s.inDim}, ${u}, batch_first=True, bias=${bias ? 'True' : 'False'}${kind === 'RNN' ? `, nonlinearity=${quoted(s.act.name)}` : ''})`);
    const W = s.kernel.data;
    const U = s.recurrent.data;
    const F = s.inDim;
    const G = W.length / F;
    // torch gate order: LSTM i,f,g,o (= Keras i,f,c,o); GRU r,z,n (Keras z,r,h → blocks [1, 0, 2])
    const order = kind === 'GRU' ? [1, 0, 2] : kind === 'LSTM' ? [0, 1, 2, 3] : [0];
    const transposed = (M: Float64Array, rows: number) => {
      const out = new Float32Array(G * rows);
      order.forEach((src, dst) => {
        for (let j = 0; j < u; j++) for (let r = 0; r < rows; r++) out[(dst * u + j) * rows + r] = M[r * G + src * u + j];
      });
      return out;
    };
    const reorder = (v: Float64Array, from: number) => {
      const out = new Float32Array(G);
      order.forEach((src, dst) => {
        for (let j = 0; j < u; j++) out[dst * u + j] = v[from + src * u + j];
      });
      return out;
    };
    state.push({ key: `${module}.weight_ih_l0`, shape: [G, F], data: transposed(W, F) });
    state.push({ key: `${module}.weight_hh_l0`, shape: [G, u], data: transposed(U, u) });
    if (bias) {
      const b = s.bias!.data;
      const two = kind === 'GRU';
      state.push({ key: `${module}.bias_ih_l0`, shape: [G], data: reorder(b, 0) });
      state.push({ key: `${module}.bias_hh_l0`, shape: [G], data: two ? reorder(b, G) : new Float32Array(G) });
    }
  }
  for (const w of plan.weights) if (explicitWeights.has(w)) state.push({ key: w.id, shape: w.shape, data: f32(w.data) });

  const acts = activationNames(plan);
  const actDefs: string[] = [];
  for (const [a, id] of acts) {
    const def = `def ${id}(x):\n    # ${a.name} = ${a.formula}\n    return ${a.softmax ? `_${a.softmax}(x)` : torchExpr(a.expr!)}\n\n`;
    if (!actDefs.includes(def)) actDefs.push(def);
  }
  const act = (a: ExportActivation) => acts.get(a)!;
  const W = (w: PlanWeight) => `self.${w.id}`;
  const B = (t: PlanTensor) => `(batch,) + ${shapeText(t.shape)}`;
  const body: string[] = [];
  for (const s of plan.steps) {
    body.push('');
    for (const line of stepLines(s)) body.push(`        # ${line}`);
    for (const line of torchStep(s)) body.push(`        ${line}`);
  }
  function torchStep(s: Step): string[] {
    switch (s.op) {
      case 'dense':
        return [`${s.y.id} = ${act(s.act)}(${s.x.id} @ ${W(s.kernel)}${s.bias ? ` + ${W(s.bias)}` : ''})`];
      case 'activation':
        return [`${s.y.id} = ${act(s.act)}(${s.x.id})`];
      case 'reshape':
        return [`${s.y.id} = ${s.x.id}.reshape(${B(s.y)})`];
      case 'embedding':
        return [`${s.y.id} = ${W(s.table)}[${s.x.id}.long()]`];
      case 'masking':
        return [`${s.mask} = torch.any(${s.x.id} != ${pyNumber(s.value)}, dim=-1)`, `${s.y.id} = ${s.x.id} * ${s.mask}[..., None]`];
      case 'mask_nonzero':
        return [`${s.mask} = ${s.x.id} != 0`];
      case 'mask_and':
        return [`${s.mask} = ${s.masks.join(' & ')}`];
      case 'mask_reverse':
        return [`${s.mask} = torch.flip(${s.source}, [1])`];
      case 'rnn': {
        const native = natives.get(s);
        const states = s.states.map((t) => t.id);
        if (native) {
          const x = s.goBackwards ? `torch.flip(${s.x.id}, [1])` : s.x.id;
          const init = s.initial
            ? native.kind === 'LSTM'
              ? `, (${s.initial[0].id}[None].contiguous(), ${s.initial[1].id}[None].contiguous())`
              : `, ${s.initial[0].id}[None].contiguous()`
            : '';
          const lines = [`seq, st = self.${native.module}(${x}${init})  # torch nn.${native.kind}${s.goBackwards ? ' over the reversed input (go_backwards)' : ''}`];
          lines.push(`${s.y.id} = ${s.returnSequences ? 'seq' : 'seq[:, -1]'}`);
          if (native.kind === 'LSTM') lines.push(`${states[0]}, ${states[1]} = st[0][0], st[1][0]`);
          else lines.push(`${states[0]} = st[0]`);
          return lines;
        }
        const common = `${s.x.id}, ${s.mask ?? 'None'}, ${W(s.kernel)}, ${W(s.recurrent)}, ${s.bias ? W(s.bias) : 'None'}`;
        const flags = `${s.goBackwards ? 'True' : 'False'}, ${s.returnSequences ? 'True' : 'False'}, ${s.zeroOutputForMask ? 'True' : 'False'}, ${s.initial ? `[${s.initial.map((t) => t.id).join(', ')}]` : 'None'}`;
        const a2 = `${act(s.act)}${s.recAct ? `, ${act(s.recAct)}` : ''}`;
        const fn = s.cell === 'lstm' ? '_lstm' : s.cell === 'gru' ? '_gru' : '_simple_rnn';
        const extra = s.cell === 'gru' ? `${s.resetAfter ? 'True' : 'False'}, ` : '';
        return [`${s.y.id}, [${states.join(', ')}] = ${fn}(${common}, ${extra}${a2}, ${flags})  # explicit cell code`];
      }
      case 'conv_lstm':
        return [`${s.y.id}, [${s.states.map((t) => t.id).join(', ')}] = _conv_lstm(${convLstmArgs(s, W, acts)})  # explicit cell code`];
      case 'reverse':
        return [`${s.y.id} = torch.flip(${s.x.id}, [1])`];
      case 'merge': {
        const xs = s.xs.map((t) => t.id);
        if (s.mode === 'add') return [`${s.y.id} = ${xs.join(' + ')}`];
        if (s.mode === 'subtract') return [`${s.y.id} = ${xs[0]} - ${xs[1]}`];
        if (s.mode === 'multiply') return [`${s.y.id} = ${xs.join(' * ')}`];
        if (s.mode === 'average') return [`${s.y.id} = (${xs.join(' + ')}) / ${xs.length}`];
        return [`${s.y.id} = torch.stack([${xs.join(', ')}]).${s.mode === 'maximum' ? 'amax' : 'amin'}(dim=0)`];
      }
      case 'concat':
        return [`${s.y.id} = torch.cat([${s.xs.map((t) => t.id).join(', ')}], dim=${s.axis + 1})`];
      case 'conv1d':
        return [`${s.y.id} = ${act(s.act)}(_conv1d(${s.x.id}, ${W(s.kernel)}, ${s.bias ? W(s.bias) : 'None'}, ${s.stride}, ${s.dilation}, ${s.padBefore}, ${s.outSteps}))`];
      case 'pool1d':
        return [`${s.y.id} = _pool1d(${s.x.id}, ${s.pool}, ${s.stride}, ${s.padBefore}, ${s.outSteps}, ${s.average ? 'True' : 'False'})`];
      case 'global_pool':
        if (!s.average) return [`${s.y.id} = ${s.x.id}.amax(dim=1).reshape(${B(s.y)})`];
        if (s.mask) return [`${s.y.id} = ((${s.x.id} * ${s.mask}[..., None]).sum(dim=1) / ${s.mask}.sum(dim=1, keepdim=True)).reshape(${B(s.y)})`];
        return [`${s.y.id} = ${s.x.id}.mean(dim=1).reshape(${B(s.y)})`];
      case 'repeat':
        return [`${s.y.id} = ${s.x.id}[:, None].repeat(1, ${s.n}, 1)`];
      case 'prelu':
        return [`${s.y.id} = torch.where(${s.x.id} >= 0, ${s.x.id}, ${W(s.alpha)} * ${s.x.id})`];
      case 'not_equal':
        return [`${s.y.id} = ${s.x.id} != ${pyNumber(s.value)}`];
      case 'any_last':
        // any over the trailing axes: each output value is one row of width values
        if (s.x.shape.length !== s.y.shape.length + 1) return [`${s.y.id} = torch.any(${s.x.id}.reshape(${B(s.y)} + (${s.width},)), dim=-1)`];
        return [`${s.y.id} = torch.any(${s.x.id}, dim=-1)`];
      case 'pad_steps':
        return s.before >= 0
          ? [`${s.y.id} = F.pad(${s.x.id}, (0, 0, ${s.before}, ${s.after}))  # (channels: 0, 0), (steps: before, after)`]
          : [`${s.y.id} = ${s.x.id}[:, ${-s.before}:${s.steps + s.after}]`];
      case 'upsample_steps':
        return [`${s.y.id} = torch.repeat_interleave(${s.x.id}, ${s.size}, dim=1)`];
      case 'transpose':
        return [`${s.y.id} = ${s.x.id}.permute(0, ${s.perm.map((a) => a + 1).join(', ')})  # axis 0: the batch`];
      case 'layernorm':
        return [
          ...(s.mode === 'rms'
            ? [`variance = (${s.x.id} ** 2).mean(dim=-1, keepdim=True)  # the mean square (RMSNormalization)`]
            : [`mean = ${s.x.id}.mean(dim=-1, keepdim=True)`, `variance = ((${s.x.id} - mean) ** 2).mean(dim=-1, keepdim=True)`]),
          `inv = torch.rsqrt(variance + ${pyNumber(s.epsilon)})${s.gamma ? ` * ${W(s.gamma)}` : ''}`,
          s.mode === 'layer' ? `${s.y.id} = ${s.x.id} * inv + (${s.beta ? `${W(s.beta)} - ` : '-'}mean * inv)` : `${s.y.id} = ${s.x.id} * inv`,
        ];
      case 'attention':
        return [attentionCall(s, W)];
      case 'batchnorm':
        return [
          `inv = torch.rsqrt(${W(s.variance)} + ${pyNumber(s.epsilon)})${s.gamma ? ` * ${W(s.gamma)}` : ''}`,
          `${s.y.id} = ${s.x.id} * inv + (${s.beta ? `${W(s.beta)} - ` : '-'}${W(s.mean)} * inv)`,
        ];
    }
  }
  const buffers = plan.weights
    .filter((w) => explicitWeights.has(w))
    .map((w) => [`        # ${weightLine(w)}`, ...gateLines(w).map((g) => `        #   ${g}`), `        self.register_buffer(${quoted(w.id)}, torch.zeros(${shapeText(w.shape)}))`].join('\n'));
  const src = `"""${header.map((h) => commentText(h, 200)).join('\n')}
"""
${PRELUDE}
${pythonHelpers(TORCH_ARRAYS)}

${actDefs.join('')}
INPUT_NAMES = json.loads(${quoted(asciiJsonList(plan.inputs.map((i) => i.name)))})
OUTPUT_NAMES = json.loads(${quoted(asciiJsonList(plan.outputs.map((o) => o.name)))})
INPUT_SHAPES = [${plan.inputs.map((i) => moduleShapeText(plan, i.tensor.shape)).join(', ')}]  # per sample${plan.freeSteps === null ? '' : '; None: the free steps axis'}


class KerasModel(nn.Module):
    """forward(*inputs): one (batch, ...) tensor per input in INPUT_NAMES order; returns one tensor per output
    (a tuple when there are several). Weights: state_dict.pt beside this file (or the path given)."""

    def __init__(self, state_dict_path=None):
        super().__init__()
${[...moduleLines, ...buffers].join('\n') || '        pass'}
        path = state_dict_path or os.path.join(os.path.dirname(os.path.abspath(__file__)), "state_dict.pt")
        self.load_state_dict(torch.load(path, weights_only=True))

    def forward(self, ${plan.inputs.map((i) => i.tensor.id).join(', ')}):
        batch = ${plan.inputs[0].tensor.id}.shape[0]
${stepsInput(plan) >= 0 ? `        steps = ${plan.inputs[stepsInput(plan)].tensor.id}.shape[1]  # the free steps axis: every size below that depends on it is written in steps
` : ''}${body.join('\n')}
        outputs = (${plan.outputs.map((o) => o.tensor.id).join(', ')},)
        return outputs if len(outputs) > 1 else outputs[0]


def _read_input(path):
    with open(path) as f:
        data = json.load(f)
    if isinstance(data, dict) and "inputs" in data and isinstance(data["inputs"], dict) and not set(INPUT_NAMES) <= set(data):
        data = data["inputs"]
    values = [data[n] for n in INPUT_NAMES] if isinstance(data, dict) else [data]
    out = []
    for v, shape in zip(values, INPUT_SHAPES):
        t = torch.tensor(v, dtype=torch.float32)
        out.append(${plan.freeSteps === null ? 't.reshape((-1,) + shape))' : 't[None] if t.dim() == len(shape) else t)  # t[None]: one sample without the batch axis'}
    return out


def main(argv):
    model = KerasModel().eval()
    self_test = argv and argv[0] == "--self-test"
    path = argv[1] if self_test else argv[0]
    with torch.no_grad():
        got = model(*_read_input(path))
    got = list(got) if isinstance(got, tuple) else [got]
    if self_test:
        with open(path) as f:
            golden = json.load(f)
        worst = 0.0
        for g, e in zip(got, golden["outputs"]):
            e = torch.tensor(e, dtype=torch.float64)
            if tuple(g.shape) != tuple(e.shape):
                print("self-test: FAILED (shape", tuple(g.shape), "expected", tuple(e.shape), ")")
                return 1
            worst = max(worst, float(((g.double() - e).abs() / (1e-4 * e.abs().clamp(min=1.0))).max()))
        print("self-test:", "ok" if worst <= 1 else "FAILED", "(worst error %.3g of the float32 tolerance)" % worst)
        return 0 if worst <= 1 else 1
    print(json.dumps({"outputs": [g.double().tolist() for g in got], "outputNames": OUTPUT_NAMES}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
`;
  return [
    { path: 'model_torch.py', content: src },
    { path: 'state_dict.pt', content: torchStateDict(state) },
  ];
}

function stepWeights(s: Step): PlanWeight[] {
  switch (s.op) {
    case 'dense':
    case 'conv1d':
      return [s.kernel, ...(s.bias ? [s.bias] : [])];
    case 'conv_lstm':
      return [s.kernel, s.recurrent, ...(s.bias ? [s.bias] : [])];
    case 'embedding':
      return [s.table];
    case 'prelu':
      return [s.alpha];
    case 'batchnorm':
      return [s.gamma, s.beta, s.mean, s.variance].filter((w): w is PlanWeight => !!w);
    case 'layernorm':
      return [s.gamma, s.beta].filter((w): w is PlanWeight => !!w);
    case 'attention':
      return [s.scale, s.concatWeight].filter((w): w is PlanWeight => !!w);
    default:
      return [];
  }
}
