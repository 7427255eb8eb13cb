/**
 * Java: one dependency-free class `KerasModel` (Java 8 level, Android-friendly) with
 * `static float[][][] predict(float[][][] inputs)` (inputs[k][b] = sample b of input k, flat row-major), computing in
 * double; weights in `weights.bin` (float64 little-endian, in the order below) read as a class resource. `main` is
 * the JSON runner `./run` uses.
 */
import type { Plan } from './plan';
import type { ExportFile } from './index';
import { activationFunctions, layout, maskingValues, sampleBody, scalarHelpers, type Dialect } from './emit-scalar';
import { weightLine, gateLines, shapeText } from './describe';
import { shapeMinusOne, stepsInput } from './free-steps';
import { asciiJsonList, commentText, quoted } from './names';
import { JS_ERF } from './emit-js';

function javaNumber(v: number): string {
  const s = Number.isInteger(v) ? `${v}.0` : String(v);
  return v < 0 ? `(${s})` : s;
}

const JAVA_DIALECT: Dialect = {
  R: 'double',
  I: 'int',
  A: 'double',
  fn: (name, params) =>
    `static void ${name}(${params
      .map(([k, n]) => (k === 'in' || k === 'out' ? `double[] ${n}` : k === 'int' ? `int ${n}` : k === 'real' ? `double ${n}` : `DoubleUnaryOperator ${n}`))
      .join(', ')})`,
  m: (f) => `Math.${f}`,
  call: (f, a) => `${f}.applyAsDouble(${a})`,
  fnRef: (n) => `KerasModel::${n}`,
  none: 'null',
  min: 'Math.min',
  max: 'Math.max',
  num: javaNumber,
  negInf: 'Double.NEGATIVE_INFINITY',
  f32: (x) => `((double) (float) (${x}))`,
  at: (a, o) => `${a}, ${o}`,
  actFn: (name, body) => `static double ${name}(double x) { ${body} }`,
};

const JAVA_ERF = JS_ERF.replace('function kl_erf(x)', 'static double kl_erf(double x)')
  .replace(/const |let /g, 'double ')
  .replace('double term = x, sum = x;', 'double term = x, sum = x;')
  .replace('for (double n = 1;', 'for (int n = 1;')
  .replace('for (double k = 80;', 'for (int k = 80;')
  .replace('k / 2 / f', 'k / 2.0 / f')
  .replace(/Math\.sign/g, 'Math.signum');

export function emitJava(plan: Plan, header: string[]): ExportFile[] {
  const lay = layout(plan);
  const d = JAVA_DIALECT;
  const body = sampleBody(plan, d, lay, (w) => w.id, '    ');
  const acts = activationFunctions(plan, d);
  const weightFields = plan.weights
    .map((w) => [`  /** ${weightLine(w)} */`, ...gateLines(w).map((g) => `  /*   ${g} */`), `  static final double[] ${w.id} = next(${w.data.length}); // ${shapeText(w.shape)}`].join('\n'))
    .join('\n');
  // a free steps axis (free-steps.ts): the sizes are functions of steps, taken from the input at each call
  const free = plan.freeSteps !== null;
  const i0 = stepsInput(plan);
  const perStep = i0 >= 0 ? plan.inputs[i0].tensor.shape.slice(1).reduce((a, b) => a * b, 1) : 1;
  const shapes = (ts: number[][]) => `{ ${ts.map((t) => `{ ${t.join(', ')} }`).join(', ')} }`;
  const offsets = `{ ${plan.inputs.map((i) => lay.offset.get(i.tensor.id)).join(', ')} }`;
  const outOffsets = `{ ${plan.outputs.map((o) => lay.offset.get(o.tensor.id)).join(', ')} }`;
  const fixedSizes = `  /** Per-sample shapes (batch axis left out). */
  public static final int[][] INPUT_SHAPES = ${shapes(plan.inputs.map((i) => i.tensor.shape))};
  public static final int[][] OUTPUT_SHAPES = ${shapes(plan.outputs.map((o) => o.tensor.shape))};
  public static final int WORKSPACE_SIZE = ${lay.total};`;
  const minusOne = (t: number[]) => shapeMinusOne(plan, t);
  const freeSizes = `  /** Per-sample shapes (batch axis left out); -1: the free steps axis, taken from the input at each call. */
  public static final int[][] INPUT_SHAPES = ${shapes(plan.inputs.map((i) => minusOne(i.tensor.shape)))};
  public static final int[][] OUTPUT_SHAPES = ${shapes(plan.outputs.map((o) => minusOne(o.tensor.shape)))};
  /** The shapes for sequences of steps steps. */
  public static int[][] inputShapes(int steps) { return new int[][] ${shapes(plan.inputs.map((i) => i.tensor.shape))}; }
  public static int[][] outputShapes(int steps) { return new int[][] ${shapes(plan.outputs.map((o) => o.tensor.shape))}; }
  /** Values of one sample's workspace for steps steps. */
  public static int workspaceSize(int steps) { return ${lay.total}; }`;
  const indent = (s: string) => s.split('\n').map((l) => (l ? `  ${l}` : l)).join('\n');
  const src = `// ${header.map((h) => commentText(h, 200)).join('\n// ')}
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.DoubleUnaryOperator;

public final class KerasModel {
  private KerasModel() {}

  public static final String INPUT_NAMES_JSON = ${quoted(asciiJsonList(plan.inputs.map((i) => i.name)))};
  public static final String OUTPUT_NAMES_JSON = ${quoted(asciiJsonList(plan.outputs.map((o) => o.name)))};
${free ? freeSizes : fixedSizes}

  // ---- weights (Keras layout, gate blocks along the last axis), read from weights.bin in this order ----
  private static ByteBuffer weightBytes;
  private static double[] next(int n) {
    if (weightBytes == null) {
      try (InputStream in = KerasModel.class.getResourceAsStream("weights.bin")) {
        if (in == null) throw new IllegalStateException("weights.bin must sit beside KerasModel.class");
        DataInputStream data = new DataInputStream(in);
        byte[] all = new byte[${plan.weights.reduce((a, w) => a + w.data.length, 0) * 8}];
        data.readFully(all);
        weightBytes = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
      } catch (IOException e) {
        throw new IllegalStateException("cannot read weights.bin: " + e.getMessage());
      }
    }
    double[] out = new double[n];
    for (int i = 0; i < n; i++) out[i] = weightBytes.getDouble();
    return out;
  }
${weightFields}
${maskingValues(plan).map((m) => `  static final double[] ${m.id} = { ${javaNumber(m.value)} };`).join('\n')}

${indent(JAVA_ERF)}
${indent(scalarHelpers(d, body + acts))}
  // ---- activations ----
${indent(acts)}

  /** One sample${free ? ' of steps steps' : ''}: inputs at their offsets in ws, outputs left at theirs. */
  static void runSample(double[] ws${free ? ', int steps' : ''}) {${body}
  }
${free ? '' : `
  private static final int[] INPUT_OFFSETS = ${offsets};
  private static final int[] OUTPUT_OFFSETS = ${outOffsets};
`}
  private static int size(int[] shape) {
    int n = 1;
    for (int d : shape) n *= d;
    return n;
  }

  /** inputs[k][b]: sample b of input k, flat row-major; returns outputs[k][b] the same way. */
  public static float[][][] predict(float[][][] inputs) {
    if (inputs.length != INPUT_SHAPES.length) throw new IllegalArgumentException("expected " + INPUT_SHAPES.length + " inputs");
    int batch = inputs[0].length;
${free ? `    // the free steps axis: steps from the length of the first sample of input ${i0} (${perStep} values a step)
    int steps = batch > 0 ? inputs[${i0}][0].length / ${perStep} : 0;
    int[][] INPUT_SHAPES = inputShapes(steps);
    int[][] OUTPUT_SHAPES = outputShapes(steps);
    int WORKSPACE_SIZE = workspaceSize(steps);
    int[] INPUT_OFFSETS = ${offsets};
    int[] OUTPUT_OFFSETS = ${outOffsets};
` : ''}    double[] ws = new double[WORKSPACE_SIZE];
    float[][][] out = new float[OUTPUT_SHAPES.length][batch][];
    for (int b = 0; b < batch; b++) {
      for (int k = 0; k < inputs.length; k++) {
        float[] x = inputs[k][b];
        if (x.length != size(INPUT_SHAPES[k])) throw new IllegalArgumentException("input " + k + " sample " + b + " must have " + size(INPUT_SHAPES[k]) + " values");
        for (int i = 0; i < x.length; i++) ws[INPUT_OFFSETS[k] + i] = x[i];
      }
      runSample(ws${free ? ', steps' : ''});
      for (int k = 0; k < OUTPUT_SHAPES.length; k++) {
        float[] y = new float[size(OUTPUT_SHAPES[k])];
        for (int i = 0; i < y.length; i++) y[i] = (float) ws[OUTPUT_OFFSETS[k] + i];
        out[k][b] = y;
      }
    }
    return out;
  }

  // ---- ./run: a small JSON reader and printer ----
  private static String text;
  private static int at;

  private static void space() {
    while (at < text.length() && Character.isWhitespace(text.charAt(at))) at++;
  }

  private static Object parse() {
    space();
    char c = text.charAt(at);
    if (c == '[') {
      at++;
      List<Object> list = new ArrayList<>();
      space();
      if (text.charAt(at) == ']') { at++; return list; }
      while (true) {
        list.add(parse());
        space();
        char e = text.charAt(at++);
        if (e == ']') return list;
        if (e != ',') throw new IllegalArgumentException("bad JSON list");
      }
    }
    if (c == '{') {
      at++;
      Map<String, Object> map = new LinkedHashMap<>();
      space();
      if (text.charAt(at) == '}') { at++; return map; }
      while (true) {
        space();
        String key = (String) parse();
        space();
        at++;
        map.put(key, parse());
        space();
        char e = text.charAt(at++);
        if (e == '}') return map;
        if (e != ',') throw new IllegalArgumentException("bad JSON object");
      }
    }
    if (c == '"') {
      StringBuilder s = new StringBuilder();
      at++;
      while (text.charAt(at) != '"') {
        char ch = text.charAt(at++);
        if (ch == '\\\\') {
          char esc = text.charAt(at++);
          if (esc == 'u') { s.append((char) Integer.parseInt(text.substring(at, at + 4), 16)); at += 4; }
          else s.append(esc == 'n' ? '\\n' : esc == 't' ? '\\t' : esc == 'r' ? '\\r' : esc == 'b' ? '\\b' : esc == 'f' ? '\\f' : esc);
        } else s.append(ch);
      }
      at++;
      return s.toString();
    }
    int start = at;
    while (at < text.length() && "+-0123456789.eE".indexOf(text.charAt(at)) >= 0) at++;
    if (start == at) {
      for (String w : new String[] { "true", "false", "null" }) if (text.startsWith(w, at)) { at += w.length(); return null; }
      throw new IllegalArgumentException("bad JSON value");
    }
    return Double.parseDouble(text.substring(start, at));
  }

  private static void flat(Object v, List<Double> out) {
    if (v instanceof List) for (Object e : (List<?>) v) flat(e, out);
    else if (v instanceof Double) out.add((Double) v);
    else throw new IllegalArgumentException("inputs must be numbers");
  }

  @SuppressWarnings("unchecked")
  private static List<Object> inputValues(Object json, List<String> names) {
    List<Object> values = new ArrayList<>();
    if (json instanceof Map && ((Map<String, Object>) json).containsKey("inputs") && !((Map<String, Object>) json).keySet().containsAll(names)) {
      json = ((Map<String, Object>) json).get("inputs");
    }
    if (json instanceof List) { values.add(json); return values; }
    for (String n : names) {
      if (!((Map<String, Object>) json).containsKey(n)) throw new IllegalArgumentException("missing input " + n);
      values.add(((Map<String, Object>) json).get(n));
    }
    return values;
  }

  private static void print(StringBuilder s, float[][] samples, int[] shape, int axis, int b, int[] pos) {
    // nested output: the batch axis, then the per-sample shape
    if (axis == -1) {
      s.append('[');
      for (int i = 0; i < samples.length; i++) { if (i > 0) s.append(", "); int[] p = { 0 }; print(s, samples, shape, 0, i, p); }
      s.append(']');
      return;
    }
    if (axis == shape.length) { s.append(Double.toString(samples[b][pos[0]++])); return; }
    s.append('[');
    for (int i = 0; i < shape[axis]; i++) { if (i > 0) s.append(", "); print(s, samples, shape, axis + 1, b, pos); }
    s.append(']');
  }

  @SuppressWarnings("unchecked")
  public static void main(String[] args) throws IOException {
    boolean self = args.length > 1 && args[0].equals("--self-test");
    text = new String(Files.readAllBytes(Paths.get(self ? args[1] : args[0])), StandardCharsets.UTF_8);
    at = 0;
    Object json = parse();
    text = INPUT_NAMES_JSON;
    at = 0;
    List<String> names = (List<String>) (List<?>) parse();
    List<Object> values = inputValues(json, names);
${free ? `    // the free steps axis: the length of input ${i0}'s steps axis (the ${plan.inputs[i0].tensor.shape.length}th axis from the innermost)
    Object v = values.get(${i0});
    int depth = 0;
    for (Object e = v; e instanceof List && !((List<Object>) e).isEmpty(); e = ((List<Object>) e).get(0)) depth++;
    for (int k = depth; k > ${plan.inputs[i0].tensor.shape.length}; k--) v = ((List<Object>) v).get(0);
    int steps = ((List<Object>) v).size();
    int[][] INPUT_SHAPES = inputShapes(steps);
    int[][] OUTPUT_SHAPES = outputShapes(steps);
` : ''}    float[][][] inputs = new float[names.size()][][];
    for (int k = 0; k < names.size(); k++) {
      List<Double> f = new ArrayList<>();
      flat(values.get(k), f);
      int n = size(INPUT_SHAPES[k]);
      int batch = f.size() / n;
      if (batch < 1 || batch * n != f.size()) throw new IllegalArgumentException("input " + names.get(k) + " must be (batch, per-sample " + n + " values)");
      inputs[k] = new float[batch][n];
      for (int b = 0; b < batch; b++) for (int i = 0; i < n; i++) inputs[k][b][i] = (float) (double) f.get(b * n + i);
    }
    float[][][] out = predict(inputs);
    if (self) {
      List<Object> golden = (List<Object>) ((Map<String, Object>) json).get("outputs");
      double worst = 0;
      for (int k = 0; k < out.length; k++) {
        List<Double> e = new ArrayList<>();
        flat(golden.get(k), e);
        int n = size(OUTPUT_SHAPES[k]);
        if (e.size() != out[k].length * n) worst = Double.POSITIVE_INFINITY;
        else for (int i = 0; i < e.size(); i++) {
          double g = e.get(i);
          worst = Math.max(worst, Math.abs(out[k][i / n][i % n] - g) / (1e-4 * Math.max(1, Math.abs(g))));
        }
      }
      System.out.println("self-test: " + (worst <= 1 ? "ok" : "FAILED") + " (worst error " + worst + " of the float32 tolerance)");
      System.exit(worst <= 1 ? 0 : 1);
    }
    StringBuilder s = new StringBuilder("{\\"outputs\\": [");
    for (int k = 0; k < out.length; k++) {
      if (k > 0) s.append(", ");
      print(s, out[k], OUTPUT_SHAPES[k], -1, 0, null);
    }
    s.append("], \\"outputNames\\": ").append(OUTPUT_NAMES_JSON).append('}');
    System.out.println(s);
  }
}
`;
  const bin = new Float64Array(plan.weights.reduce((a, w) => a + w.data.length, 0));
  let o = 0;
  for (const w of plan.weights) {
    bin.set(w.data, o);
    o += w.data.length;
  }
  return [
    { path: 'KerasModel.java', content: src },
    { path: 'weights.bin', content: new Uint8Array(bin.buffer) },
  ];
}
