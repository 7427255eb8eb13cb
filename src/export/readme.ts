/** README.md of an exported predictor: how to call it in its language, the layers, shapes and semantics. */
import type { Language, Plan } from './plan';
import { shapeText } from './describe';
import { commentText } from './names';

const HOW: Record<Language, string> = {
  numpy: `\`\`\`python
import numpy as np
import model                      # model.py, needs only numpy
y = model.predict(x)              # x: (batch, ...) array, or a list/dict for several inputs; float64
y32 = model.predict(x, np.float32)
\`\`\``,
  js: `\`\`\`js
import { predict } from './model.mjs';   // Node and browsers, no dependencies; types in model.d.ts
const y = predict(x);                     // x: nested arrays (batch, ...) or {inputName: ...}; float64
\`\`\``,
  c: `\`\`\`c
#include "model.h"                 /* C99 + libm: cc -std=c99 -O2 model.c yours.c -lm */
static float ws[KL_WORKSPACE_FLOATS];          /* workspace: predict allocates nothing */
float y[KL_OUTPUT0_SIZE * batch];
kl_predict(batch, x0, /* ...one pointer per input... */ y, /* ...one per output... */ ws);
\`\`\`
Inputs and outputs are row-major float arrays, samples one after another (sizes per sample in model.h).`,
  java: `\`\`\`java
// KerasModel.java: one dependency-free class (Java 8 level); weights.bin must sit beside KerasModel.class
float[][][] y = KerasModel.predict(x);     // one input: x = float[batch][...flattened per-sample values]
float[][][] ys = KerasModel.predict(new float[][][] { x0, x1 });  // several inputs
\`\`\`
\`predict(float[][][] inputs)\` takes \`inputs[k][b]\` = sample b of input k as a flat row-major array and returns
\`outputs[k][b]\` the same way.`,
  pytorch: `\`\`\`python
import torch
from model_torch import KerasModel
m = KerasModel()                          # loads state_dict.pt beside it
y = m(torch.tensor(x, dtype=torch.float32))
\`\`\`
Uses torch.nn.LSTM / GRU / RNN where Keras's semantics allow (weights transposed, GRU gates z, r, h → torch r, z, n,
biases split into bias_ih / bias_hh) and explicit cell code otherwise (GRU reset_after=False, hard_sigmoid or other
activations, masks, go_backwards).`,
};

/** C with a free steps axis: the caller passes steps and sizes the workspace for it. */
const HOW_C_FREE_STEPS = `\`\`\`c
#include "model.h"                 /* C99 + libm: cc -std=c99 -O2 model.c yours.c -lm */
float *ws = malloc(sizeof(float) * kl_workspace_floats(steps));   /* workspace for steps: predict allocates nothing */
float *y = malloc(sizeof(float) * kl_output_size(0, steps) * batch);
kl_predict(steps, batch, x0, /* ...one pointer per input... */ y, /* ...one per output... */ ws);
\`\`\`
Inputs and outputs are row-major float arrays, samples one after another, each sample \`steps\` steps long (sizes per sample: kl_input_size(k, steps), kl_output_size(k, steps)).`;

export function readme(plan: Plan, language: Language, goldenSteps?: number): string {
  const L: string[] = [];
  L.push(`# Predictor for ${commentText(plan.modelName, 60)} (${language})`);
  L.push('');
  L.push(`Exported by Keras Lens from \`${commentText(plan.source.split(/[\\/]/).pop() ?? plan.source, 80)}\` (Keras ${commentText(plan.kerasVersion ?? 'version not recorded', 30)}). It computes what Keras's \`model.predict\` computes, with no dependencies beyond the language.`);
  L.push('');
  L.push('## Call it');
  L.push('');
  L.push(plan.freeSteps !== null && language === 'c' ? HOW_C_FREE_STEPS : HOW[language]);
  L.push('');
  L.push('From a shell: `./run INPUT.json` prints `{"outputs": [...], "outputNames": [...]}` (like `keras-lens predict --json`);');
  L.push('`./run --self-test` runs `golden.json`\'s input and compares with the output Keras Lens computed (exit 0 or 1).');
  L.push('INPUT.json is a nested list (batch axis first, or one sample without it) or an object keyed by input name.');
  L.push('');
  L.push('## Inputs and outputs (batch axis first)');
  L.push('');
  for (const i of plan.inputs) L.push(`- input \`${commentText(i.name, 60)}\`: (batch, ${shapeText(i.tensor.shape).slice(1)}${i.indices ? ` — integer indices into an embedding of ${i.indices.count} rows` : ''}`);
  for (const o of plan.outputs) L.push(`- output \`${commentText(o.name, 60)}\`: (batch, ${shapeText(o.tensor.shape).slice(1)}`);
  if (plan.freeSteps !== null) {
    L.push('');
    L.push(`The steps axis is free (the model's input shape has None there): \`steps\` is taken from the input at each call, so one predictor runs sequences of any length (all free-steps inputs of one call take the same number of steps). golden.json uses ${goldenSteps ?? plan.freeSteps} steps.`);
  }
  L.push('');
  L.push('## Layers');
  L.push('');
  for (const l of plan.layers) L.push(`- \`${commentText(l.name, 60)}\` ${l.className}${l.summary ? ` — ${commentText(l.summary, 120)}` : ''}`);
  L.push('');
  L.push('## Semantics');
  L.push('');
  L.push('- LSTM gates are stored i, f, c, o and GRU gates z, r, h along the last axis of kernel, recurrent kernel and bias (Keras order); the source names every slice with its column range.');
  for (const s of plan.semantics) L.push(`- ${s}`);
  L.push('- Dropout and noise layers are the identity at inference.');
  L.push('');
  L.push('## Weights');
  L.push('');
  for (const w of plan.weights) {
    L.push(`- \`${commentText(w.kerasName, 90)}\` ${shapeText(w.shape)}${w.getWeightsIndex !== null ? ` = \`model.get_weights()[${w.getWeightsIndex}]\`` : ' (fused from the stored arrays)'}`);
  }
  L.push('');
  return L.join('\n');
}
