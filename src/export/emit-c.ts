/**
 * C99 + libm: `model.h` (sizes and the one entry point), `model.c` (weights as `static const float` arrays, the
 * helpers, the per-sample steps) and `main.c`, the JSON runner `./run` builds. `kl_predict` allocates nothing:
 * the caller passes a workspace of KL_WORKSPACE_FLOATS floats.
 */
import type { Plan, PlanWeight } from './plan';
import type { ExportFile } from './index';
import { activationFunctions, layout, maskingValues, sampleBody, scalarHelpers, type Dialect } from './emit-scalar';
import { weightLine, gateLines, shapeText } from './describe';
import { asciiJsonList, commentText, quoted } from './names';
import { shapeMinusOne, stepsInput } from './free-steps';

function cNumber(v: number): string {
  const s = Number.isInteger(v) ? `${v}.0` : String(v);
  return v < 0 ? `(${s})` : s;
}

const C_DIALECT: Dialect = {
  R: 'double',
  I: 'int',
  A: 'float',
  // restrict: the arrays a helper reads and writes are disjoint regions (of the workspace or weights), except in the
  // two helpers that may write into their own input (chained merges and mask ANDs)
  fn: (name, params) => {
    const r = name === 'kl_merge' || name === 'kl_mask_and' ? '' : 'restrict ';
    return `static void ${name}(${params
      .map(([k, n]) => (k === 'in' ? `const float *${r}${n}` : k === 'out' ? `float *${r}${n}` : k === 'int' ? `int ${n}` : k === 'real' ? `double ${n}` : `float (*${n})(float)`))
      .join(', ')})`;
  },
  // float versions of libm (expf, tanhf, ...): the predictor computes in float32, and they are twice as fast
  m: (f) => (f === 'abs' ? 'fabsf' : f === 'tanh' ? 'kl_tanhf' : `${f}f`),
  call: (f, a) => `${f}(${a})`,
  fnRef: (n) => n,
  none: '0',
  min: 'fmin',
  max: 'fmax',
  num: cNumber,
  negInf: '(-INFINITY)',
  f32: (x) => `((double) (float) (${x}))`,
  at: (a, o) => `${a} + ${o}, 0`,
  actFn: (name, body) => `static float ${name}(float x) { ${body} }`,
};

/** A float32 literal list, 8 per line. */
function floats(data: Float64Array): string {
  const parts: string[] = [];
  for (let i = 0; i < data.length; i++) {
    const v = Math.fround(data[i]);
    let s = v === 0 ? '0' : v.toPrecision(9);
    if (!/[.e]/.test(s)) s += '.0';
    parts.push(`${s}f`);
  }
  const lines: string[] = [];
  for (let i = 0; i < parts.length; i += 8) lines.push('  ' + parts.slice(i, i + 8).join(', '));
  return lines.join(',\n');
}

function weightDecl(w: PlanWeight): string {
  const lines = [`/* ${weightLine(w)} */`, ...gateLines(w).map((g) => `/*   ${g} */`)];
  lines.push(`static const float ${w.id}[${Math.max(1, w.data.length)}] = { /* ${shapeText(w.shape)} */\n${w.data.length ? floats(w.data) : '  0.0f'}\n};`);
  return lines.join('\n');
}

export function emitC(plan: Plan, header: string[]): ExportFile[] {
  const lay = layout(plan);
  const d = C_DIALECT;
  const body = sampleBody(plan, d, lay, (w) => w.id);
  const acts = activationFunctions(plan, d);
  const inParams = plan.inputs.map((_, k) => `const float *in${k}`);
  const outParams = plan.outputs.map((_, k) => `float *out${k}`);
  // a free steps axis (free-steps.ts): the caller passes steps; the sizes are functions of it
  const free = plan.freeSteps !== null;
  const signature = `void kl_predict(${free ? 'int steps, ' : ''}int batch, ${[...inParams, ...outParams].join(', ')}, float *workspace)`;
  const minusOne = (t: number[]) => shapeMinusOne(plan, t);
  const sizeFn = (name: string, sizes: number[]) => `int ${name}(int k, int steps) {\n  (void) steps;\n${sizes.map((n, k) => `  if (k == ${k}) return ${n};`).join('\n')}\n  return 0;\n}`;
  const h = `/* ${header.map((x) => commentText(x, 200)).join('\n * ')}
 *
 * ${signature.replace(/\*\//g, '')};
 *   runs batch samples${free ? ' of steps steps each (the free steps axis)' : ''}; each input and output is row-major floats, sample after sample;
 *   workspace: ${free ? 'kl_workspace_floats(steps)' : 'KL_WORKSPACE_FLOATS'} floats from the caller (predict allocates nothing).
 */
#ifndef KERAS_LENS_MODEL_H
#define KERAS_LENS_MODEL_H

${free ? `${plan.inputs.map((i, k) => `/* input ${k}: ${commentText(i.name, 60)}, per sample ${shapeText(i.tensor.shape)}: kl_input_size(${k}, steps) floats */`).join('\n')}
${plan.outputs.map((o, k) => `/* output ${k}: ${commentText(o.name, 60)}, per sample ${shapeText(o.tensor.shape)}: kl_output_size(${k}, steps) floats */`).join('\n')}
#define KL_INPUT_COUNT ${plan.inputs.length}
#define KL_OUTPUT_COUNT ${plan.outputs.length}
/* the free steps axis: sizes are functions of steps (KL_*_SHAPES say -1 there) */` : `${plan.inputs.map((i, k) => `/* input ${k}: ${commentText(i.name, 60)}, per sample ${shapeText(i.tensor.shape)} */\n#define KL_INPUT${k}_SIZE ${i.tensor.size}`).join('\n')}
${plan.outputs.map((o, k) => `/* output ${k}: ${commentText(o.name, 60)}, per sample ${shapeText(o.tensor.shape)} */\n#define KL_OUTPUT${k}_SIZE ${o.tensor.size}`).join('\n')}
#define KL_INPUT_COUNT ${plan.inputs.length}
#define KL_OUTPUT_COUNT ${plan.outputs.length}
#define KL_WORKSPACE_FLOATS ${lay.total}`}

#ifdef __cplusplus
extern "C" {
#endif
${signature};
${free ? `/* floats of the workspace, of input k and of output k (per sample) for steps steps */
int kl_workspace_floats(int steps);
int kl_input_size(int k, int steps);
int kl_output_size(int k, int steps);
` : ''}/* names as JSON lists, e.g. for printing */
extern const char KL_INPUT_NAMES_JSON[];
extern const char KL_OUTPUT_NAMES_JSON[];
extern const int KL_INPUT_SHAPES[${plan.inputs.length}][8];
extern const int KL_OUTPUT_SHAPES[${plan.outputs.length}][8];
#ifdef __cplusplus
}
#endif
#endif
`;
  const shapeRow = (s: number[]) => `{ ${[s.length, ...s, ...new Array(7 - s.length).fill(0)].join(', ')} }`;
  for (const t of [...plan.inputs.map((i) => i.tensor), ...plan.outputs.map((o) => o.tensor)]) {
    if (t.shape.length > 7) throw new Error('rank above 7');
  }
  const c = `/* ${header.map((x) => commentText(x, 200)).join('\n * ')} */
#include <math.h>
#include "model.h"

const char KL_INPUT_NAMES_JSON[] = ${quoted(asciiJsonList(plan.inputs.map((i) => i.name)))};
const char KL_OUTPUT_NAMES_JSON[] = ${quoted(asciiJsonList(plan.outputs.map((o) => o.name)))};
/* rank, then the dims (per sample) */
const int KL_INPUT_SHAPES[${plan.inputs.length}][8] = { ${plan.inputs.map((i) => shapeRow(free ? minusOne(i.tensor.shape) : i.tensor.shape)).join(', ')} };
const int KL_OUTPUT_SHAPES[${plan.outputs.length}][8] = { ${plan.outputs.map((o) => shapeRow(free ? minusOne(o.tensor.shape) : o.tensor.shape)).join(', ')} };
${free ? `
int kl_workspace_floats(int steps) { return ${lay.total}; }
${sizeFn('kl_input_size', plan.inputs.map((i) => i.tensor.size))}
${sizeFn('kl_output_size', plan.outputs.map((o) => o.tensor.size))}
` : ''}
static float kl_erf(float x) { return erff(x); }
/* tanh(x) = (e^2x - 1) / (e^2x + 1) with one expf (libm's tanhf goes through the slower expm1f); |error| < 2e-7 */
static float kl_tanhf(float x) {
  float e;
  if (x > 9.0f) return 1.0f;
  if (x < -9.0f) return -1.0f;
  if (x > -0.004f && x < 0.004f) return x - x * x * x / 3.0f;
  e = expf(2.0f * x);
  return (e - 1.0f) / (e + 1.0f);
}
${scalarHelpers(d, body + acts)}
/* ---- activations ---- */
${acts}

/* ---- weights (Keras layout, gate blocks along the last axis) ---- */
${plan.weights.map(weightDecl).join('\n')}
${maskingValues(plan).map((m) => `static const float ${m.id}[1] = { ${cNumber(m.value)} };`).join('\n')}

/* one sample: inputs at their offsets in ws, outputs left at theirs */
static void kl_sample(float *ws${free ? ', int steps' : ''}) {${body}
  (void) kl_erf; (void) kl_tanhf;${free ? ' (void) steps;' : ''}
}

${signature} {
  int b, k;
  for (b = 0; b < batch; b++) {
${plan.inputs.map((i, k) => `    for (k = 0; k < ${i.tensor.size}; k++) workspace[${lay.offset.get(i.tensor.id)} + k] = in${k}[b * ${i.tensor.size} + k];`).join('\n')}
    kl_sample(workspace${free ? ', steps' : ''});
${plan.outputs.map((o, k) => `    for (k = 0; k < ${o.tensor.size}; k++) out${k}[b * ${o.tensor.size} + k] = workspace[${lay.offset.get(o.tensor.id)} + k];`).join('\n')}
  }
}
`;
  return [
    { path: 'model.h', content: h },
    { path: 'model.c', content: c },
    { path: 'main.c', content: free ? freeStepsMain(plan, cMain(plan)) : cMain(plan) },
  ];
}

/** The runner: a small JSON reader (numbers under each input), kl_predict, nested JSON out; --self-test. */
function cMain(plan: Plan): string {
  const nIn = plan.inputs.length;
  const nOut = plan.outputs.length;
  return `/* ./run's runner: main INPUT.json | main --self-test golden.json. Reads JSON with a tiny parser. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include "model.h"

typedef struct { double *v; long n, cap; } Nums;
static const char *p;
static void push(Nums *a, double x) {
  if (a->n == a->cap) { a->cap = a->cap ? 2 * a->cap : 1024; a->v = (double *) realloc(a->v, sizeof(double) * a->cap); if (!a->v) exit(1); }
  a->v[a->n++] = x;
}
static void ws_(void) { while (*p == ' ' || *p == '\\n' || *p == '\\r' || *p == '\\t') p++; }
static void fail(const char *what) { fprintf(stderr, "run: bad JSON input (%s)\\n", what); exit(1); }
/* a string; decoded (escapes, \\uXXXX and surrogate pairs as UTF-8) into out, at most cap-1 bytes, if out is given */
static void put_(char *out, int cap, int *n, unsigned long c) {
  unsigned char b[4]; int k, len;
  if (c < 0x80) { b[0] = (unsigned char) c; len = 1; }
  else if (c < 0x800) { b[0] = (unsigned char) (0xc0 | (c >> 6)); b[1] = (unsigned char) (0x80 | (c & 63)); len = 2; }
  else if (c < 0x10000) { b[0] = (unsigned char) (0xe0 | (c >> 12)); b[1] = (unsigned char) (0x80 | ((c >> 6) & 63)); b[2] = (unsigned char) (0x80 | (c & 63)); len = 3; }
  else { b[0] = (unsigned char) (0xf0 | (c >> 18)); b[1] = (unsigned char) (0x80 | ((c >> 12) & 63)); b[2] = (unsigned char) (0x80 | ((c >> 6) & 63)); b[3] = (unsigned char) (0x80 | (c & 63)); len = 4; }
  for (k = 0; k < len; k++) if (out && *n < cap - 1) out[(*n)++] = (char) b[k];
}
static unsigned long hex4_(void) {
  unsigned long c = 0; int k;
  for (k = 0; k < 4; k++) { char h = *p; if (!h) fail("escape"); c = c * 16 + (unsigned long) (h >= 'a' ? h - 'a' + 10 : h >= 'A' ? h - 'A' + 10 : h - '0'); p++; }
  return c;
}
static void string_(char *out, int cap) {
  int n = 0;
  if (*p != '"') fail("string expected");
  p++;
  while (*p && *p != '"') {
    if (*p == '\\\\') {
      char e = p[1];
      p += 2;
      if (e == 'u') {
        unsigned long c = hex4_();
        if (c >= 0xd800 && c < 0xdc00 && p[0] == '\\\\' && p[1] == 'u') { unsigned long lo; p += 2; lo = hex4_(); c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00); }
        put_(out, cap, &n, c);
      } else put_(out, cap, &n, (unsigned long) (e == 'n' ? '\\n' : e == 't' ? '\\t' : e == 'r' ? '\\r' : e == 'b' ? '\\b' : e == 'f' ? '\\f' : e));
    } else { put_(out, cap, &n, (unsigned char) *p); p++; }
  }
  if (!*p) fail("unterminated string");
  p++;
  if (out) out[n] = 0;
}
/* a value: numbers go to a (if given), in order */
static void value(Nums *a) {
  ws_();
  if (*p == '[') {
    p++; ws_();
    if (*p == ']') { p++; return; }
    for (;;) { value(a); ws_(); if (*p == ',') { p++; continue; } if (*p == ']') { p++; return; } fail("list"); }
  } else if (*p == '{') {
    p++; ws_();
    if (*p == '}') { p++; return; }
    for (;;) { ws_(); string_(0, 0); ws_(); if (*p != ':') fail("object"); p++; value(a); ws_(); if (*p == ',') { p++; continue; } if (*p == '}') { p++; return; } fail("object"); }
  } else if (*p == '"') {
    string_(0, 0);
  } else {
    char *end;
    double x = strtod(p, &end);
    if (end == p) { if (!strncmp(p, "true", 4)) p += 4; else if (!strncmp(p, "false", 5)) p += 5; else if (!strncmp(p, "null", 4)) p += 4; else fail("value"); return; }
    p = end;
    if (a) push(a, x);
  }
}
/* the JSON text of the k-th name in a JSON list of names */
static void nth_name(const char *list, int k, char *out, int cap) {
  const char *save = p; int i = 0;
  p = list; ws_(); p++;
  for (;;) { ws_(); if (i == k) { string_(out, cap); break; } string_(0, 0); ws_(); p++; i++; }
  p = save;
}
/* inputs: a list (one input) or an object keyed by input name; golden.json keeps them under "inputs" */
static void read_inputs(const char *text, Nums *in, int golden) {
  char key[4096], name[4096];
  p = text; ws_();
  if (*p == '[') { if (KL_INPUT_COUNT != 1) fail("the model has several inputs: give an object keyed by name"); value(&in[0]); return; }
  if (*p != '{') fail("list or object expected");
  p++;
  for (;;) {
    ws_(); if (*p == '}') break;
    string_(key, sizeof key); ws_(); p++;
    if (golden && !strcmp(key, "inputs")) { const char *rest = p; read_inputs(p, in, 0); p = rest; value(0); }
    else {
      int k, hit = -1;
      for (k = 0; k < KL_INPUT_COUNT; k++) { nth_name(KL_INPUT_NAMES_JSON, k, name, sizeof name); if (!strcmp(name, key)) hit = k; }
      if (hit >= 0) value(&in[hit]); else value(0);
    }
    ws_(); if (*p == ',') { p++; continue; } if (*p == '}') break; fail("object");
  }
}
static void outputs_of(const char *text, Nums *out) {
  char key[64];
  p = text; ws_(); p++;
  for (;;) {
    ws_(); string_(key, sizeof key); ws_(); p++;
    if (!strcmp(key, "outputs")) {
      int k = 0; ws_(); p++;
      for (;;) { ws_(); if (*p == ']') { p++; break; } if (k < KL_OUTPUT_COUNT) value(&out[k]); else value(0); k++; ws_(); if (*p == ',') p++; }
      return;
    }
    value(0); ws_(); if (*p == ',') p++; else fail("outputs missing");
  }
}
static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb"); long n; char *s;
  if (!f) { fprintf(stderr, "run: cannot read %s\\n", path); exit(1); }
  fseek(f, 0, SEEK_END); n = ftell(f); fseek(f, 0, SEEK_SET);
  s = (char *) malloc(n + 1); if (!s || fread(s, 1, n, f) != (size_t) n) exit(1); s[n] = 0; fclose(f);
  return s;
}
static void print_nested(const float *v, const int *dims, int rank, long *at) {
  int i;
  if (rank == 0) { printf("%.9g", v[(*at)++]); return; }
  putchar('[');
  for (i = 0; i < dims[0]; i++) { if (i) printf(", "); print_nested(v, dims + 1, rank - 1, at); }
  putchar(']');
}
static const long in_size[${nIn}] = { ${plan.inputs.map((_, k) => `KL_INPUT${k}_SIZE`).join(', ')} };
static const long out_size[${nOut}] = { ${plan.outputs.map((_, k) => `KL_OUTPUT${k}_SIZE`).join(', ')} };

int main(int argc, char **argv) {
  int self = argc > 2 && !strcmp(argv[1], "--self-test");
  const char *path = self ? argv[2] : argv[1];
  char *text;
  Nums in[${nIn}], golden[${nOut}];
  float *fin[${nIn}], *fout[${nOut}];
  static float ws[KL_WORKSPACE_FLOATS];
  long batch = -1, i;
  int k;
  if (argc < 2) { fprintf(stderr, "usage: main INPUT.json | main --self-test golden.json\\n"); return 2; }
  memset(in, 0, sizeof in); memset(golden, 0, sizeof golden);
  text = slurp(path);
  read_inputs(text, in, 1);
  for (k = 0; k < KL_INPUT_COUNT; k++) {
    long b = in_size[k] ? in[k].n / in_size[k] : 0;
    if (b < 1 || b * in_size[k] != in[k].n || (batch >= 0 && b != batch)) { fprintf(stderr, "run: input %d has %ld values, not a multiple of %ld per sample (or batches differ)\\n", k, in[k].n, in_size[k]); return 1; }
    batch = b;
    fin[k] = (float *) malloc(sizeof(float) * in[k].n);
    for (i = 0; i < in[k].n; i++) fin[k][i] = (float) in[k].v[i];
  }
  for (k = 0; k < KL_OUTPUT_COUNT; k++) fout[k] = (float *) malloc(sizeof(float) * (batch * out_size[k] + 1));
  kl_predict((int) batch, ${[...plan.inputs.map((_, k) => `fin[${k}]`), ...plan.outputs.map((_, k) => `fout[${k}]`)].join(', ')}, ws);
  if (self) {
    double worst = 0;
    outputs_of(text, golden);
    for (k = 0; k < KL_OUTPUT_COUNT; k++) {
      if (golden[k].n != batch * out_size[k]) { printf("self-test: FAILED (output %d has %ld values, golden %ld)\\n", k, batch * out_size[k], golden[k].n); return 1; }
      for (i = 0; i < golden[k].n; i++) {
        double e = golden[k].v[i], r = fabs(fout[k][i] - e) / (1e-4 * (fabs(e) > 1 ? fabs(e) : 1));
        if (!(r <= worst)) worst = r;
      }
    }
    printf("self-test: %s (worst error %.3g of the float32 tolerance)\\n", worst <= 1 ? "ok" : "FAILED", worst);
    return worst <= 1 ? 0 : 1;
  }
  printf("{\\"outputs\\": [");
  for (k = 0; k < KL_OUTPUT_COUNT; k++) {
    int dims[9]; long at = 0; int r;
    dims[0] = (int) batch;
    for (r = 0; r < KL_OUTPUT_SHAPES[k][0]; r++) dims[r + 1] = KL_OUTPUT_SHAPES[k][r + 1];
    if (k) printf(", ");
    print_nested(fout[k], dims, KL_OUTPUT_SHAPES[k][0] + 1, &at);
  }
  printf("], \\"outputNames\\": %s}\\n", KL_OUTPUT_NAMES_JSON);
  return 0;
}
`;
}

/**
 * The runner of a free-steps predictor: the JSON reader also notes the length of the first list at each depth of an
 * input (its shape), steps is the length at the depth of the steps axis of the first free-steps input, and the
 * sizes and the workspace follow from it.
 */
function freeStepsMain(plan: Plan, main: string): string {
  const i0 = stepsInput(plan);
  const rank = plan.inputs[i0].tensor.shape.length;
  const rep = (from: string, to: string) => {
    if (!main.includes(from)) throw new Error(`free-steps runner: '${from.slice(0, 40)}' not found`);
    main = main.replace(from, to);
  };
  rep(`static void value(Nums *a) {
  ws_();
  if (*p == '[') {
    p++; ws_();
    if (*p == ']') { p++; return; }
    for (;;) { value(a); ws_(); if (*p == ',') { p++; continue; } if (*p == ']') { p++; return; } fail("list"); }
  }`, `/* lens_[d]: the length of the first list at depth d of the input being read (its shape); -1 where none */
static long lens[KL_INPUT_COUNT][16];
static long *lens_;
static int lvl_;
static void value(Nums *a) {
  ws_();
  if (*p == '[') {
    int my = lvl_++;
    long n = 0;
    p++; ws_();
    if (*p != ']') for (;;) { value(a); n++; ws_(); if (*p == ',') { p++; continue; } if (*p == ']') break; fail("list"); }
    p++; lvl_--;
    if (lens_ && my < 16 && lens_[my] < 0) lens_[my] = n;
    return;
  }`);
  rep('value(&in[0]); return; }', 'lens_ = lens[0]; value(&in[0]); lens_ = 0; return; }');
  rep('if (hit >= 0) value(&in[hit]); else value(0);', 'if (hit >= 0) { lens_ = lens[hit]; value(&in[hit]); lens_ = 0; } else value(0);');
  rep(/static const long in_size\[.*\n.*\n/.exec(main)![0], `static long in_size[${plan.inputs.length}], out_size[${plan.outputs.length}];
/* the per-sample shape of output k for steps steps */
static void output_dims(int k, int steps, int *dims) {
${plan.outputs.map((o, k) => `  if (k == ${k}) { ${o.tensor.shape.map((d, r) => `dims[${r}] = ${d};`).join(' ')} }`).join('\n')}
}
`);
  rep('  static float ws[KL_WORKSPACE_FLOATS];\n', '  float *ws;\n  int steps, depth;\n');
  rep('  text = slurp(path);\n  read_inputs(text, in, 1);\n', `  text = slurp(path);
  for (k = 0; k < KL_INPUT_COUNT; k++) for (i = 0; i < 16; i++) lens[k][i] = -1;
  read_inputs(text, in, 1);
  /* the free steps axis: input ${i0}'s length at the depth of its steps axis (${rank} axes per sample) */
  for (depth = 0; depth < 16 && lens[${i0}][depth] >= 0; depth++) {}
  if (depth < ${rank}) fail("the input has too few axes");
  steps = (int) lens[${i0}][depth - ${rank}];
  for (k = 0; k < KL_INPUT_COUNT; k++) in_size[k] = kl_input_size(k, steps);
  for (k = 0; k < KL_OUTPUT_COUNT; k++) out_size[k] = kl_output_size(k, steps);
  ws = (float *) malloc(sizeof(float) * (size_t) kl_workspace_floats(steps));
  if (!ws) return 1;
`);
  rep('kl_predict((int) batch, ', 'kl_predict(steps, (int) batch, ');
  rep('for (r = 0; r < KL_OUTPUT_SHAPES[k][0]; r++) dims[r + 1] = KL_OUTPUT_SHAPES[k][r + 1];', 'output_dims(k, steps, dims + 1);');
  rep('int dims[9]; long at = 0; int r;', 'int dims[9]; long at = 0;');
  return main;
}
