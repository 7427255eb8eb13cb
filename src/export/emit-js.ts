/**
 * JavaScript: one ES module `model.mjs` (Node and browsers, no dependencies) with `predict(x)` computing in float64,
 * its types in `model.d.ts`, and `main.mjs`, the JSON runner `./run` uses. Weights: base64 little-endian arrays.
 */
import { base64Of } from './base64';
import type { Plan, PlanWeight } from './plan';
import type { ExportFile } from './index';
import { activationFunctions, layout, maskingValues, sampleBody, scalarHelpers, type Dialect } from './emit-scalar';
import { weightLine, gateLines, shapeText } from './describe';
import { moduleShapeText, stepsInput } from './free-steps';
import { asciiJsonList, commentText, quoted } from './names';

export function jsNumber(v: number): string {
  const s = Number.isInteger(v) ? `${v}.0` : String(v);
  return v < 0 ? `(${s})` : s;
}

export const JS_DIALECT: Dialect = {
  R: 'let',
  I: 'let',
  A: 'let',
  fn: (name, params) => `function ${name}(${params.map((p) => p[1]).join(', ')})`,
  m: (f) => `Math.${f === 'erf' ? 'erf' : f}`,
  call: (f, a) => `${f}(${a})`,
  fnRef: (n) => n,
  none: 'null',
  min: 'Math.min',
  max: 'Math.max',
  num: jsNumber,
  negInf: '-Infinity',
  f32: (x) => `Math.fround(${x})`,
  at: (a, o) => `${a}, ${o}`,
  actFn: (name, body) => `function ${name}(x) { ${body} }`,
};

/** erf as src/model/activations.ts computes it (Taylor series near 0, continued fraction for erfc in the tails). */
export const JS_ERF = `function kl_erf(x) {
  const ax = Math.abs(x);
  if (ax > 6) return Math.sign(x);
  if (ax < 2.5) {
    let term = x, sum = x;
    const x2 = x * x;
    for (let n = 1; n < 200; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  let f = ax;
  for (let k = 80; k >= 1; k--) f = ax + k / 2 / f;
  return Math.sign(x) * (1 - Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f);
}`;

function weightDecl(w: PlanWeight): string {
  const lines = [`// ${weightLine(w)}`, ...gateLines(w).map((g) => `//   ${g}`)];
  const bytes = w.float32 ? Float32Array.from(w.data) : w.data;
  lines.push(`const ${w.id} = weights(${quoted(base64Of(bytes))}, ${w.float32 ? 4 : 8}); // ${shapeText(w.shape)}`);
  return lines.join('\n');
}

export function emitJs(plan: Plan, header: string[]): ExportFile[] {
  const lay = layout(plan);
  const d = JS_DIALECT;
  const body = sampleBody(plan, d, lay, (w) => w.id);
  const acts = activationFunctions(plan, d);
  const inputNames = asciiJsonList(plan.inputs.map((i) => i.name));
  const outputNames = asciiJsonList(plan.outputs.map((o) => o.name));
  const free = plan.freeSteps !== null;
  const fixedSizes = `/** Per-sample shapes (batch axis left out). */
export const INPUT_SHAPES = ${JSON.stringify(plan.inputs.map((i) => i.tensor.shape))};
export const OUTPUT_SHAPES = ${JSON.stringify(plan.outputs.map((o) => o.tensor.shape))};
/** Values of one sample's workspace: every intermediate tensor at a fixed offset. */
export const WORKSPACE_SIZE = ${lay.total};

/** One sample: inputs are at their offsets in ws; the outputs are left at theirs. */
function runSample(ws) {${body}
}

const INPUT_OFFSETS = ${JSON.stringify(plan.inputs.map((i) => lay.offset.get(i.tensor.id)))};
const OUTPUT_OFFSETS = ${JSON.stringify(plan.outputs.map((o) => lay.offset.get(o.tensor.id)))};`;
  // a free steps axis (free-steps.ts): the sizes are functions of steps, taken from the input at each call
  const nullShape = (s: number[]) => JSON.parse(moduleShapeText(plan, s, 'null').replace(/^\(/, '[').replace(/,?\)$/, ']')) as unknown;
  const freeSizes = `/** Per-sample shapes (batch axis left out); null: the free steps axis, taken from the input at each call. */
export const INPUT_SHAPES = ${JSON.stringify(plan.inputs.map((i) => nullShape(i.tensor.shape)))};
export const OUTPUT_SHAPES = ${JSON.stringify(plan.outputs.map((o) => nullShape(o.tensor.shape)))};

/** The sizes for sequences of steps steps: shapes, the workspace (one sample) and the inputs' and outputs' offsets in it. */
export function sizes(steps) {
  return {
    INPUT_SHAPES: ${JSON.stringify(plan.inputs.map((i) => i.tensor.shape))},
    OUTPUT_SHAPES: ${JSON.stringify(plan.outputs.map((o) => o.tensor.shape))},
    WORKSPACE_SIZE: ${lay.total},
    INPUT_OFFSETS: ${JSON.stringify(plan.inputs.map((i) => lay.offset.get(i.tensor.id)))},
    OUTPUT_OFFSETS: ${JSON.stringify(plan.outputs.map((o) => lay.offset.get(o.tensor.id)))},
  };
}

/** One sample of steps steps: inputs are at their offsets in ws; the outputs are left at theirs. */
function runSample(ws, steps) {${body}
}

/** The steps of input x (nested arrays: batch first, or one sample): the length of its steps axis, the rank-th axis from the innermost. */
function stepsOf(x, rank) {
  let depth = 0;
  for (let v = x; Array.isArray(v) || ArrayBuffer.isView(v); v = v[0]) depth++;
  let v = x;
  for (let k = depth; k > rank; k--) v = v[0];
  return v.length;
}`;
  const src = `// ${header.map((h) => commentText(h, 200)).join('\n// ')}
// predict(x): x is nested arrays (batch first; one sample may leave the batch axis out), or an object keyed by
// input name for several inputs. Returns nested arrays, one per output (a list when there are several). float64.

/** Little-endian float32 (4) or float64 (8) values from base64, as a Float64Array. */
function weights(b64, width) {
  const bin = typeof atob === 'function' ? atob(b64) : Buffer.from(b64, 'base64').toString('latin1');
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  const view = new DataView(bytes.buffer);
  const out = new Float64Array(bytes.length / width);
  for (let i = 0; i < out.length; i++) out[i] = width === 4 ? view.getFloat32(i * 4, true) : view.getFloat64(i * 8, true);
  return out;
}

${JS_ERF}
${scalarHelpers(d, body + acts)}
// ---- activations ----
${acts}

// ---- weights (Keras layout, gate blocks along the last axis) ----
${plan.weights.map(weightDecl).join('\n')}
${maskingValues(plan).map((m) => `const ${m.id} = new Float64Array([${jsNumber(m.value)}]);`).join('\n')}

export const INPUT_NAMES = JSON.parse(${quoted(inputNames)});
export const OUTPUT_NAMES = JSON.parse(${quoted(outputNames)});
${free ? freeSizes : fixedSizes}
const size = (shape) => shape.reduce((a, b) => a * b, 1);

function flatten(v, out) {
  if (Array.isArray(v) || ArrayBuffer.isView(v)) for (const e of v) flatten(e, out);
  else if (typeof v === 'number') out.push(v);
  else throw new TypeError('inputs must be (nested arrays of) numbers');
  return out;
}

function nest(data, shape) {
  const build = (axis, offset) => {
    if (axis === shape.length) return data[offset];
    const stride = size(shape.slice(axis + 1));
    return Array.from({ length: shape[axis] }, (_, i) => build(axis + 1, offset + i * stride));
  };
  return build(0, 0);
}

export function predict(x) {
  let list;
  if (Array.isArray(x) || ArrayBuffer.isView(x)) list = INPUT_NAMES.length === 1 ? [x] : x;
  else list = INPUT_NAMES.map((n) => { if (!(n in x)) throw new TypeError('missing input ' + n); return x[n]; });
${free ? `  const steps = stepsOf(list[${stepsInput(plan)}], ${plan.inputs[stepsInput(plan)].tensor.shape.length});
  const { INPUT_SHAPES, OUTPUT_SHAPES, WORKSPACE_SIZE, INPUT_OFFSETS, OUTPUT_OFFSETS } = sizes(steps);
` : ''}  const flat = list.map((v) => flatten(v, []));
  const batch = flat[0].length / size(INPUT_SHAPES[0]);
  flat.forEach((f, k) => {
    if (!Number.isInteger(batch) || f.length !== batch * size(INPUT_SHAPES[k])) throw new RangeError('input ' + INPUT_NAMES[k] + ' must be (batch, ' + INPUT_SHAPES[k].join(', ') + ')');
  });
  const ws = new Float64Array(WORKSPACE_SIZE);
  const outs = OUTPUT_SHAPES.map((s) => new Float64Array(batch * size(s)));
  for (let b = 0; b < batch; b++) {
    flat.forEach((f, k) => { const n = size(INPUT_SHAPES[k]); for (let i = 0; i < n; i++) ws[INPUT_OFFSETS[k] + i] = f[b * n + i]; });
    runSample(ws${free ? ', steps' : ''});
    outs.forEach((o, k) => { const n = size(OUTPUT_SHAPES[k]); o.set(ws.subarray(OUTPUT_OFFSETS[k], OUTPUT_OFFSETS[k] + n), b * n); });
  }
  const nested = outs.map((o, k) => nest(o, [batch, ...OUTPUT_SHAPES[k]]));
  return nested.length === 1 ? nested[0] : nested;
}
`;
  const dts = `// Types of model.mjs (generated by Keras Lens).
export type Nested = number | Nested[];
export declare const INPUT_NAMES: string[];
export declare const OUTPUT_NAMES: string[];
export declare const INPUT_SHAPES: ${free ? '(number | null)[][]' : 'number[][]'};
export declare const OUTPUT_SHAPES: ${free ? '(number | null)[][]' : 'number[][]'};
${free ? `/** The sizes for sequences of steps steps (INPUT_SHAPES and OUTPUT_SHAPES say null for the free steps axis). */
export declare function sizes(steps: number): { INPUT_SHAPES: number[][]; OUTPUT_SHAPES: number[][]; WORKSPACE_SIZE: number; INPUT_OFFSETS: number[]; OUTPUT_OFFSETS: number[] };
` : 'export declare const WORKSPACE_SIZE: number;\n'}/** x: (batch, ...) nested arrays${plan.inputs.length > 1 ? ', a list in INPUT_NAMES order, or an object keyed by input name' : ''}. */
export declare function predict(x: Nested[] | Record<string, Nested[]>): ${plan.outputs.length === 1 ? 'Nested[]' : 'Nested[][]'};
`;
  const main = `// node main.mjs INPUT.json | node main.mjs --self-test golden.json   (what ./run calls)
import { readFileSync } from 'node:fs';
import { predict, INPUT_NAMES, OUTPUT_NAMES } from './model.mjs';

function readInput(path) {
  let data = JSON.parse(readFileSync(path, 'utf8'));
  if (data && !Array.isArray(data) && data.inputs && !INPUT_NAMES.every((n) => n in data)) data = data.inputs;
  if (Array.isArray(data)) return [data];
  return INPUT_NAMES.map((n) => data[n]);
}
const flat = (v) => (Array.isArray(v) ? v.flatMap(flat) : [v]);
const args = process.argv.slice(2);
if (args[0] === '--self-test') {
  const golden = JSON.parse(readFileSync(args[1], 'utf8'));
  let got = predict(readInput(args[1]));
  if (OUTPUT_NAMES.length === 1) got = [got];
  let worst = 0;
  golden.outputs.forEach((e, k) => {
    const a = flat(got[k]);
    const b = flat(e);
    if (a.length !== b.length) worst = Infinity;
    b.forEach((v, i) => { worst = Math.max(worst, Math.abs(a[i] - v) / (1e-5 * Math.max(1, Math.abs(v)))); });
  });
  console.log('self-test: ' + (worst <= 1 ? 'ok' : 'FAILED') + ' (worst error ' + worst.toPrecision(3) + ' of the tolerance)');
  process.exit(worst <= 1 ? 0 : 1);
}
let out = predict(readInput(args[0]));
if (OUTPUT_NAMES.length === 1) out = [out];
console.log(JSON.stringify({ outputs: out, outputNames: OUTPUT_NAMES }));
`;
  return [
    { path: 'model.mjs', content: src },
    { path: 'model.d.ts', content: dts },
    { path: 'main.mjs', content: main },
  ];
}
