/**
 * Words every emitter puts beside its code: what a step is, the gate slices of a recurrent layer with their column
 * ranges, the recurrence as a formula. Plain text (each line safe for a comment in every language, see names.ts).
 */
import type { Plan, PlanWeight, Step } from './plan';
import type { ExportActivation } from './activations';
import { commentText } from './names';

export function shapeText(shape: number[]): string {
  return `(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`;
}

/** `'lstm_1'/kernel:0 = model.get_weights()[0], shape (3, 16)` */
export function weightLine(w: PlanWeight): string {
  const index = w.getWeightsIndex === null ? 'fused from the stored arrays' : `model.get_weights()[${w.getWeightsIndex}]`;
  return `${commentText(w.kerasName, 90)} = ${index}, shape ${shapeText(w.shape)}`;
}

/** One line per gate: `f: forget gate, columns [128, 256)`. */
export function gateLines(w: PlanWeight): string[] {
  return w.gates.map((g) => `${g.label}: ${commentText(g.meaning, 60)}, columns [${g.start}, ${g.end})`);
}

/** The recurrence of a cell as formulas, one line each (z = pre-activation, σ = recurrent activation). */
export function recurrenceLines(step: Extract<Step, { op: 'rnn' }>): string[] {
  const act = `${step.act.name}`;
  const rec = step.recAct ? step.recAct.name : '';
  if (step.cell === 'lstm') {
    return [
      `i = ${rec}(x W_i + h U_i + b_i)      input gate`,
      `f = ${rec}(x W_f + h U_f + b_f)      forget gate`,
      `c~ = ${act}(x W_c + h U_c + b_c)     cell candidate`,
      `o = ${rec}(x W_o + h U_o + b_o)      output gate`,
      `c = f * c(t-1) + i * c~;  h = o * ${act}(c)`,
    ];
  }
  if (step.cell === 'gru') {
    return [
      `z = ${rec}(x W_z + b_z + h U_z${step.resetAfter ? " + b'_z" : ''})      update gate`,
      `r = ${rec}(x W_r + b_r + h U_r${step.resetAfter ? " + b'_r" : ''})      reset gate`,
      step.resetAfter ? `h~ = ${act}(x W_h + b_h + r * (h U_h + b'_h))   (reset_after=True)` : `h~ = ${act}(x W_h + b_h + (r * h) U_h)   (reset_after=False)`,
      'h = z * h(t-1) + (1 - z) * h~',
    ];
  }
  return [`h = ${act}(x W + h(t-1) U + b)`];
}

/** The comment block above a step: layer, class and what it computes. */
export function stepLines(step: Step): string[] {
  const name = `'${commentText(step.layer, 60)}'`;
  switch (step.op) {
    case 'dense':
      return [`${name} Dense: y = ${step.act.name}(x W + b), W ${shapeText(step.kernel.shape)}${step.act.expr || step.act.softmax ? `; ${step.act.name} = ${step.act.formula}` : ''}`];
    case 'activation':
      return [`${name} activation ${step.act.name} = ${step.act.formula}`];
    case 'reshape':
      return [`${name} ${step.className}: same values, shape ${shapeText(step.y.shape)}`];
    case 'embedding':
      return [`${name} Embedding: row k of the table ${shapeText(step.table.shape)} for index k`];
    case 'masking':
      return [`${name} Masking: a step is real where any feature != ${step.value}; masked steps become 0`];
    case 'mask_nonzero':
      return [`${name} mask_zero: a step is real where its index != 0`];
    case 'mask_and':
      return [`${name} mask: real where every input is real`];
    case 'mask_reverse':
      return [`${name} mask in processing order (go_backwards): m[s] = mask[steps - 1 - s], for the cells after the first`];
    case 'rnn': {
      const dir = step.direction ? ` (${step.direction} direction)` : '';
      const lines = [
        `${name} ${step.className}${dir}: ${step.units} units${step.goBackwards ? ', go_backwards (reads the last step first)' : ''}${step.returnSequences ? ', returns the sequence in processing order' : ', returns the last output'}`,
        `kernel W ${shapeText(step.kernel.shape)}: ${weightLine(step.kernel)}`,
        `recurrent kernel U ${shapeText(step.recurrent.shape)}: ${weightLine(step.recurrent)}`,
      ];
      if (step.bias) lines.push(`bias b ${shapeText(step.bias.shape)}: ${weightLine(step.bias)}`);
      if (step.bias && step.resetAfter) lines.push("  bias row 0 = input bias b, row 1 = recurrent bias b'");
      for (const g of gateLines(step.kernel)) lines.push(`  ${g}`);
      for (const f of recurrenceLines(step)) lines.push(`  ${f}`);
      if (step.recAct) lines.push(`  ${step.recAct.name} = ${step.recAct.formula}`);
      if (step.mask) lines.push(`  masked steps keep the state; their output is ${step.zeroOutputForMask ? '0' : 'the previous output'}`);
      return lines;
    }
    case 'conv_lstm': {
      const dir = step.direction ? ` (${step.direction} direction)` : '';
      const n = step.outSpatial.length;
      const lines = [
        `${name} ${step.className}${dir}: ${step.filters} filters over ${shapeText(step.inSpatial)} -> ${shapeText(step.outSpatial)}${step.goBackwards ? ', go_backwards (reads the last step first)' : ''}${step.returnSequences ? ', returns the sequence in processing order' : ', returns the last output'}`,
        `kernel W ${shapeText(step.kernel.shape)}: ${weightLine(step.kernel)}`,
        `recurrent kernel U ${shapeText(step.recurrent.shape)}: ${weightLine(step.recurrent)}`,
      ];
      if (step.bias) lines.push(`bias b ${shapeText(step.bias.shape)}: ${weightLine(step.bias)}`);
      for (const g of gateLines(step.kernel)) lines.push(`  ${g}`);
      lines.push(
        `  z[q] = b + sum_{tap a, c} x(t)[q * ${shapeText(step.strides)} + a * ${shapeText(step.dilation)} - ${shapeText(step.padBefore)}, c] W[a, c]   (zeros outside x, ${n} spatial axes)`,
        `       + sum_{tap a, f} h(t-1)[q + a - ${shapeText(step.recPadBefore)}, f] U[a, f]   (recurrent: 'same', stride 1)`,
        `  i = ${step.recAct.name}(z_i)  f = ${step.recAct.name}(z_f)  c~ = ${step.act.name}(z_c)  o = ${step.recAct.name}(z_o)`,
        `  c = f * c(t-1) + i * c~;  h = o * ${step.act.name}(c)`,
        `  ${step.recAct.name} = ${step.recAct.formula}`,
      );
      if (step.mask) lines.push(`  masked steps keep the state; their output is ${step.zeroOutputForMask ? '0' : 'the previous output'}`);
      return lines;
    }
    case 'reverse':
      return [`${name} backward sequence reversed to line up with input time`];
    case 'merge':
      return [`${name} ${step.mode} of ${step.xs.length} inputs`];
    case 'concat':
      return [`${name} Concatenate along axis ${step.axis + 1} (batch axis = 0)`];
    case 'conv1d':
      return [`${name} Conv1D: ${step.filters} filters, kernel ${step.k}, stride ${step.stride}, dilation ${step.dilation}, ${step.padBefore} zero step(s) padded before; ${step.act.name}`];
    case 'pool1d':
      return [`${name} ${step.average ? 'AveragePooling1D' : 'MaxPooling1D'}: pool ${step.pool}, stride ${step.stride}${step.padBefore ? `, ${step.padBefore} padded before (ignored)` : ''}`];
    case 'global_pool':
      return [`${name} ${step.average ? 'GlobalAveragePooling1D' : 'GlobalMaxPooling1D'}${step.mask ? ' (over the real steps)' : ''}`];
    case 'repeat':
      return [`${name} RepeatVector: ${step.n} copies`];
    case 'prelu':
      return [`${name} PReLU: y = x if x >= 0 else alpha * x; alpha from ${weightLine(step.alpha)}`];
    case 'not_equal':
      return [`${name} operation: (x != ${step.value}), 1 where true`];
    case 'any_last':
      return [`${name} operation: any over the ${step.x.shape.length === step.y.shape.length + 1 ? 'last axis' : `last ${step.x.shape.length - step.y.shape.length} axes`} (a mask: a step is real where any feature is)`];
    case 'pad_steps':
      return step.before >= 0
        ? [`${name} ZeroPadding1D: ${step.before} zero step(s) before, ${step.after} after (${step.steps} -> ${step.outSteps} steps)`]
        : [`${name} Cropping1D: ${-step.before} step(s) cut at the start, ${-step.after} at the end (${step.steps} -> ${step.outSteps} steps)`];
    case 'upsample_steps':
      return [`${name} UpSampling1D: every step repeated ${step.size} times (y[t] = x[t // ${step.size}])`];
    case 'transpose':
      return [`${name} Permute: axes (after the batch) reordered to (${step.perm.map((a) => a + 1).join(', ')}): ${shapeText(step.x.shape)} -> ${shapeText(step.y.shape)}`];
    case 'layernorm': {
      const lines = [
        `${name} LayerNormalization over the last axis (${step.width} features), epsilon ${step.epsilon}, per row:`,
        `  mean = mean(x); variance = mean((x - mean)^2); inv = 1 / sqrt(variance + epsilon)${step.gamma ? ' * gamma' : ''};  y = x * inv + (${step.beta ? 'beta' : '0'} - mean * inv)`,
      ];
      for (const [label, w] of [['gamma', step.gamma], ['beta', step.beta]] as const) {
        lines.push(w ? `  ${label}: ${weightLine(w)}` : `  ${label}: none (${label === 'gamma' ? 'scale=False: 1' : 'center=False: 0'})`);
      }
      return lines;
    }
    case 'attention': {
      const sc = step.scale ? (step.score === 'additive' ? 'scale[c] * ' : 'scale * ') : '';
      const score =
        step.score === 'dot'
          ? `s[i, j] = ${step.scale ? 'scale * ' : ''}sum_c q[i, c] k[j, c]`
          : step.score === 'concat'
            ? `s[i, j] = concat_score_weight * sum_c tanh(${step.scale ? 'scale * ' : ''}(q[i, c] + k[j, c]))`
            : `s[i, j] = sum_c ${sc}tanh(q[i, c] + k[j, c])`;
      const keep = [step.vMask ? 'value_mask[j]' : '', step.causal ? 'j <= i (use_causal_mask)' : ''].filter(Boolean).join(' and ');
      const lines = [
        `${name} ${step.className} (score ${step.score}): query ${shapeText([step.tq, step.dim])}, value ${shapeText([step.tv, step.valueDim])}, key ${shapeText([step.tv, step.dim])}`,
        `  ${score}`,
      ];
      if (keep) lines.push(`  where not (${keep}): s = float32(float32(s) - 1e9), as Keras computes it`);
      lines.push(`  w[i, :] = softmax_j(s[i, :]);  y[i, :] = sum_j w[i, j] v[j, :]${step.qMask ? ' * query_mask[i]' : ''}`);
      if (step.scale) lines.push(`  scale: ${weightLine(step.scale)}`);
      if (step.concatWeight) lines.push(`  concat_score_weight: ${weightLine(step.concatWeight)}`);
      return lines;
    }
    case 'batchnorm': {
      const lines = [
        `${name} BatchNormalization over the last axis (${step.channels} channels), epsilon ${step.epsilon}, with the moving statistics:`,
        `  inv = 1 / sqrt(variance + epsilon)${step.gamma ? ' * gamma' : ''};  y = x * inv + (${step.beta ? 'beta' : '0'} - mean * inv)   (TensorFlow's order)`,
      ];
      for (const [label, w] of [['gamma', step.gamma], ['beta', step.beta], ['mean', step.mean], ['variance', step.variance]] as const) {
        lines.push(w ? `  ${label}: ${weightLine(w)}` : `  ${label}: none (${label === 'gamma' ? 'scale=False: 1' : 'center=False: 0'})`);
      }
      return lines;
    }
  }
}

/** Names for the activations the plan uses: one generated function each. */
export function activationNames(plan: Plan): Map<ExportActivation, string> {
  const names = new Map<ExportActivation, string>();
  const seen = new Map<string, string>();
  const visit = (a: ExportActivation | null) => {
    if (!a || names.has(a)) return;
    const key = JSON.stringify(a);
    const id = seen.get(key) ?? `act_${seen.size}_${a.name}`;
    seen.set(key, id);
    names.set(a, id);
  };
  for (const s of plan.steps) {
    if (s.op === 'dense' || s.op === 'activation' || s.op === 'conv1d') visit(s.act);
    if (s.op === 'rnn' || s.op === 'conv_lstm') {
      visit(s.act);
      visit(s.recAct);
    }
  }
  return names;
}
