/**
 * Runs many exported predictors with their real toolchains at once (one process or compiler call per language, not
 * per model): python3 + numpy, node, gcc, javac/java, python3 + torch. Each job is an export folder and an input
 * JSON file; the result is the parsed `{"outputs": [...]}` the predictor printed (or the error it gave).
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Language, Plan } from '../../src/export/plan';
import { C_BUILD_FLAGS } from '../../src/export/index';

export interface Job {
  dir: string;
  input: string;
  plan: Plan;
}

export interface JobResult {
  outputs: number[][] | null;
  error?: string;
}

function run(cmd: string, args: string[], opts: { cwd?: string; input?: string } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('error', (e) => resolve({ code: 127, stdout, stderr: String(e) }));
    p.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    p.stdin.end(opts.input ?? '');
  });
}

/** Which toolchains exist here (a test skips a language only when this says it cannot run). */
export function toolchain(lang: Language): string | null {
  const ok = (cmd: string, args: string[]) => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
  switch (lang) {
    case 'numpy':
      return ok('python3', ['-c', 'import numpy']) ? null : 'python3 with numpy is not installed';
    case 'pytorch':
      return ok('python3', ['-c', 'import torch']) ? null : 'python3 with torch is not installed';
    case 'js':
      return null;
    case 'c':
      return ok('cc', ['--version']) ? null : 'no C compiler (cc)';
    case 'java':
      return ok('javac', ['-version']) && ok('java', ['-version']) ? null : 'no JDK (javac)';
  }
}

const flat = (v: unknown): number[] => (Array.isArray(v) ? v.flatMap(flat) : [v as number]);

function parseOutputs(text: string): number[][] {
  const o = JSON.parse(text) as { outputs: unknown[] };
  return o.outputs.map(flat);
}

const PY_BATCH = (file: string) => `
import contextlib, importlib.util, io, json, sys, traceback
jobs = json.load(sys.stdin)
results = []
for k, (d, inp) in enumerate(jobs):
    try:
        spec = importlib.util.spec_from_file_location("exported_%d" % k, d + "/${file}")
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = mod.main([inp])
        results.append({"ok": code == 0, "text": out.getvalue()})
    except Exception:
        results.append({"ok": False, "text": traceback.format_exc()[-800:]})
print(json.dumps(results))
`;

async function runPython(file: string, jobs: Job[]): Promise<JobResult[]> {
  const r = await run('python3', ['-c', PY_BATCH(file)], { input: JSON.stringify(jobs.map((j) => [j.dir, j.input])) });
  if (r.code !== 0) return jobs.map(() => ({ outputs: null, error: r.stderr.slice(-800) }));
  const results = JSON.parse(r.stdout) as { ok: boolean; text: string }[];
  return results.map((x) => (x.ok ? { outputs: parseOutputs(x.text) } : { outputs: null, error: x.text }));
}

const JS_BATCH = `
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
const jobs = JSON.parse(readFileSync(0, 'utf8'));
const results = [];
for (const [dir, input] of jobs) {
  try {
    const m = await import(pathToFileURL(dir + '/model.mjs').href);
    let data = JSON.parse(readFileSync(input, 'utf8'));
    const x = Array.isArray(data) ? [data] : m.INPUT_NAMES.map((n) => data[n]);
    let y = m.predict(x);
    if (m.OUTPUT_NAMES.length === 1) y = [y];
    results.push({ ok: true, text: JSON.stringify({ outputs: y }) });
  } catch (e) {
    results.push({ ok: false, text: String(e && e.stack || e).slice(0, 800) });
  }
}
console.log(JSON.stringify(results));
`;

async function runJs(jobs: Job[]): Promise<JobResult[]> {
  const r = await run(process.execPath, ['--input-type=module', '-e', JS_BATCH], { input: JSON.stringify(jobs.map((j) => [j.dir, j.input])) });
  if (r.code !== 0) return jobs.map(() => ({ outputs: null, error: r.stderr.slice(-800) }));
  return (JSON.parse(r.stdout) as { ok: boolean; text: string }[]).map((x) => (x.ok ? { outputs: parseOutputs(x.text) } : { outputs: null, error: x.text }));
}

/**
 * C: each model.c compiled in its own translation unit (its exported names renamed with -D-like #defines in a
 * wrapper), all linked into one driver whose main() runs every job: the real kl_predict of each model on the job's
 * numbers (read by the test from the input JSON), numbers out. main.c, the JSON runner, is checked by the ./run tests.
 */
async function runC(jobs: Job[], work: string): Promise<JobResult[]> {
  mkdirSync(work, { recursive: true });
  const wrappers: string[] = [];
  const names = ['kl_predict', 'KL_INPUT_NAMES_JSON', 'KL_OUTPUT_NAMES_JSON', 'KL_INPUT_SHAPES', 'KL_OUTPUT_SHAPES', 'kl_workspace_floats', 'kl_input_size', 'kl_output_size'];
  jobs.forEach((j, k) => {
    const w = join(work, `wrap_${k}.c`);
    writeFileSync(w, `${names.map((n) => `#define ${n} ${n}_${k}`).join('\n')}\n#include "${j.dir}/model.c"\n`);
    wrappers.push(w);
  });
  const decls = jobs
    .map((j, k) => `void kl_predict_${k}(${j.plan.freeSteps !== null ? 'int steps, ' : ''}int batch, ${[...j.plan.inputs.map((_, i) => `const float *in${i}`), ...j.plan.outputs.map((_, i) => `float *out${i}`)].join(', ')}, float *ws);`)
    .join('\n');
  const maxWs = Math.max(...jobs.map((j) => j.plan.tensors.reduce((a, t) => a + t.size, 0) + j.plan.masks.reduce((a, m) => a + m.steps, 0) + 100000));
  const cases = jobs
    .map((j, k) => {
      const ins = j.plan.inputs.map((_, i) => `in[${i}]`);
      const outs = j.plan.outputs.map((_, i) => `out[${i}]`);
      // a free steps axis: the plan (and so the sizes below) is for plan.freeSteps steps, the steps of the case's input
      return `    case ${k}: kl_predict_${k}(${j.plan.freeSteps !== null ? `${j.plan.freeSteps}, ` : ''}batch, ${[...ins, ...outs].join(', ')}, ws); break;`;
    })
    .join('\n');
  const driver = `#include <stdio.h>
#include <stdlib.h>
${decls}
static float ws[${maxWs}];
int main(void) {
  int k, batch, nin, nout, i, j;
  while (scanf("%d %d %d %d", &k, &batch, &nin, &nout) == 4) {
    float *in[16], *out[16]; long sizes[16], osizes[16];
    for (i = 0; i < nin; i++) { scanf("%ld", &sizes[i]); in[i] = malloc(sizeof(float) * sizes[i]); for (j = 0; j < sizes[i]; j++) scanf("%f", &in[i][j]); }
    for (i = 0; i < nout; i++) { scanf("%ld", &osizes[i]); out[i] = malloc(sizeof(float) * osizes[i]); }
    switch (k) {
${cases}
    }
    printf("%d\\n", k);
    for (i = 0; i < nout; i++) { for (j = 0; j < osizes[i]; j++) printf("%.9g ", out[i][j]); printf("\\n"); }
  }
  return 0;
}
`;
  writeFileSync(join(work, 'driver.c'), driver);
  // two compiler processes (two cores), then one link
  const half = Math.ceil(wrappers.length / 2);
  const objs = wrappers.map((w) => w.replace(/\.c$/, '.o'));
  const compile = (files: string[]) => run('cc', [...C_BUILD_FLAGS, '-c', ...files], { cwd: work });
  const results = await Promise.all([compile(wrappers.slice(0, half)), compile([...wrappers.slice(half), join(work, 'driver.c')])]);
  const bad = results.find((r) => r.code !== 0);
  if (bad) return jobs.map(() => ({ outputs: null, error: bad.stderr.slice(0, 1500) }));
  const link = await run('cc', ['-o', 'driver', ...objs.map((o) => o.split('/').pop()!), 'driver.o', '-lm'], { cwd: work });
  if (link.code !== 0) return jobs.map(() => ({ outputs: null, error: link.stderr.slice(0, 1500) }));
  let input = '';
  jobs.forEach((j, k) => {
    const data = JSON.parse(readFileSync(j.input, 'utf8')) as unknown;
    const lists = Array.isArray(data) ? [data] : j.plan.inputs.map((i) => (data as Record<string, unknown>)[i.name]);
    const nums = lists.map(flat);
    const batch = nums[0].length / j.plan.inputs[0].tensor.size;
    if (!Number.isInteger(batch) || nums.some((n, i) => n.length !== batch * j.plan.inputs[i].tensor.size)) throw new Error(`${j.input}: the input does not have the plan's per-sample sizes (steps ${j.plan.freeSteps ?? 'fixed'})`);
    input += `${k} ${batch} ${nums.length} ${j.plan.outputs.length}\n`;
    for (const n of nums) input += `${n.length} ${n.join(' ')}\n`;
    for (const o of j.plan.outputs) input += `${o.tensor.size * batch}\n`;
  });
  const r = await run(join(work, 'driver'), [], { input });
  if (r.code !== 0) return jobs.map(() => ({ outputs: null, error: r.stderr.slice(0, 800) }));
  const lines = r.stdout.split('\n');
  const out: JobResult[] = jobs.map(() => ({ outputs: null, error: 'no output' }));
  for (let i = 0; i < lines.length; i++) {
    if (!/^\d+$/.test(lines[i])) continue;
    const k = Number(lines[i]);
    const outputs = jobs[k].plan.outputs.map((_, o) => lines[i + 1 + o].trim().split(/\s+/).map(Number));
    out[k] = { outputs };
    i += jobs[k].plan.outputs.length;
  }
  return out;
}

/** Java: every KerasModel.java put in its own package, one javac call, one JVM running each class's main. */
async function runJava(jobs: Job[], work: string): Promise<JobResult[]> {
  const src = join(work, 'src');
  const build = join(work, 'build');
  mkdirSync(src, { recursive: true });
  mkdirSync(build, { recursive: true });
  const files: string[] = [];
  jobs.forEach((j, k) => {
    mkdirSync(join(src, `p${k}`), { recursive: true });
    mkdirSync(join(build, `p${k}`), { recursive: true });
    const f = join(src, `p${k}`, 'KerasModel.java');
    writeFileSync(f, `package p${k};\n${readFileSync(join(j.dir, 'KerasModel.java'), 'utf8')}`);
    copyFileSync(join(j.dir, 'weights.bin'), join(build, `p${k}`, 'weights.bin'));
    files.push(f);
  });
  const harness = `import java.io.*;
public class Harness {
  public static void main(String[] args) throws Exception {
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
    PrintStream real = System.out;
    String line;
    while ((line = in.readLine()) != null) {
      String[] p = line.split("\\t");
      ByteArrayOutputStream buf = new ByteArrayOutputStream();
      System.setOut(new PrintStream(buf, true, "UTF-8"));
      String text;
      try {
        Class.forName(p[0] + ".KerasModel").getMethod("main", String[].class).invoke(null, (Object) new String[] { p[1] });
        text = buf.toString("UTF-8").trim();
      } catch (Throwable e) {
        Throwable c = e.getCause() != null ? e.getCause() : e;
        text = "ERROR " + c;
      }
      System.setOut(real);
      real.println(text.replace("\\n", " "));
    }
  }
}
`;
  writeFileSync(join(src, 'Harness.java'), harness);
  files.push(join(src, 'Harness.java'));
  const c = await run('javac', ['--release', '8', '-nowarn', '-d', build, ...files]);
  if (c.code !== 0) return jobs.map(() => ({ outputs: null, error: c.stderr.slice(0, 1500) }));
  const r = await run('java', ['-cp', build, 'Harness'], { input: jobs.map((j, k) => `p${k}\t${j.input}`).join('\n') + '\n' });
  const lines = r.stdout.split('\n');
  return jobs.map((_, k) => {
    const l = lines[k] ?? '';
    if (!l.startsWith('{')) return { outputs: null, error: l || r.stderr.slice(0, 800) };
    return { outputs: parseOutputs(l) };
  });
}

export async function runJobs(lang: Language, jobs: Job[], work: string): Promise<JobResult[]> {
  if (jobs.length === 0) return [];
  switch (lang) {
    case 'numpy':
      return runPython('model.py', jobs);
    case 'pytorch':
      return runPython('model_torch.py', jobs);
    case 'js':
      return runJs(jobs);
    case 'c':
      return runC(jobs, join(work, 'c-batch'));
    case 'java':
      return runJava(jobs, join(work, 'java-batch'));
  }
}

/** The exported folder's own `./run` (its real build and JSON runner). */
export function runScript(dir: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(join(dir, 'run'), args, { cwd: dir });
}
