// Mutation fuzzing of real .h5 (dl4j + fixtures; bytes, and attributes rewritten with other types/sizes), .keras,
// Keras config JSON and TF.js model.json + shards: 200 seeded cases per format, run
// in a child process (test/fuzz/fuzzWorker.ts) that calls openModelFile/inspectModel/buildModel/predict in process.
// This file watches it: a case that takes more than CASE_TIMEOUT_MS is a hang (the child is killed and restarted after
// that seed); an error that is not a clean one-line KerasLensError naming the file fails the test with its seed.
// Then a CLI subset: the CLI on some of the mutated files must exit 0 or 1 and, on 1, print exactly one line.
import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FuzzFormat, Outcome } from './fuzzCases';
import { ensureCliBuilt } from '../fixtures/cli';

const PROJECT = join(__dirname, '../..');
const CASES_PER_FORMAT = Number(process.env.KERAS_LENS_FUZZ_CASES ?? 200);
const CASE_TIMEOUT_MS = 3_000;
const FIRST_SEED = Number(process.env.KERAS_LENS_FUZZ_SEED ?? 1);

let dir: string;
const outcomes: Outcome[] = [];
/** Cases that never finished in process: h5wasm (the HDF5 C library) loops forever on some damaged files. */
const hangs: { format: FuzzFormat; seed: number; file: string }[] = [];

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'keras-lens-fuzz-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

interface WorkerRun {
  outcomes: Outcome[];
  /** seed that did not finish in time */
  hung: number | null;
  harnessError: string | null;
  /** the child died (e.g. an emscripten abort / OOM) while on this seed */
  crashed: { seed: number; code: number | null; signal: string | null; stderr: string } | null;
  stderrBytes: number;
}

/** Runs seeds [first, first+count) of a format in one child; stops at the first hang or crash. */
function runWorker(format: FuzzFormat, first: number, count: number): Promise<WorkerRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/fuzz/fuzzWorker.ts', format, String(first), String(count), dir], {
      cwd: PROJECT,
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
      env: { ...process.env, KERAS_LENS_FUZZ_FD: '3' },
    });
    const run: WorkerRun = { outcomes: [], hung: null, harnessError: null, crashed: null, stderrBytes: 0 };
    let current: number | null = null;
    let timer: NodeJS.Timeout | null = null;
    let stderrTail = '';
    let buf = '';
    const arm = () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        run.hung = current;
        child.kill('SIGKILL');
      }, CASE_TIMEOUT_MS + (current === null ? 60_000 : 0)); // the corpus is prepared before the first case
    };
    arm();
    child.stderr!.on('data', (c: Buffer) => {
      run.stderrBytes += c.length;
      stderrTail = (stderrTail + c.toString()).slice(-3000);
    });
    (child.stdio[3] as NodeJS.ReadableStream).on('data', (c: Buffer) => {
      buf += c.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const msg = JSON.parse(line) as Record<string, unknown>;
        if (typeof msg.start === 'number') {
          current = msg.start;
          arm();
        } else if (msg.harnessError) run.harnessError = String(msg.harnessError);
        else if (msg.format) {
          run.outcomes.push(msg as unknown as Outcome);
          current = null;
          arm();
        }
      }
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      if (run.hung === null && current !== null) run.crashed = { seed: current, code, signal, stderr: stderrTail };
      resolve(run);
    });
  });
}

/** The CLI on a file that hangs h5wasm: one clean line within seconds (worker watchdog, timeout forced to 3 s). */
function cliRefusesHang(file: string): string | null {
  ensureBuilt();
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [join(PROJECT, 'bin/keras-lens.js'), 'inspect', file], {
    encoding: 'utf8',
    timeout: 20_000,
    env: { ...process.env, KERAS_LENS_TIMEOUT_SECONDS: '3' },
  });
  const ms = performance.now() - t0;
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  if (r.status !== 1) return `exit ${r.status} (signal ${r.signal}) after ${ms.toFixed(0)} ms`;
  if (lines.length !== 1 || !lines[0].startsWith(`keras-lens: ${file}: `)) return `stderr: ${r.stderr.slice(0, 500)}`;
  if (ms > 10_000) return `took ${ms.toFixed(0)} ms`;
  return null;
}

let built = false;
function ensureBuilt(): void {
  if (built) return;
  ensureCliBuilt();
  built = true;
}

function describe(o: Outcome): string {
  return `seed ${o.seed} (${o.mutation}) at ${o.stage}: ${o.error!.kind}: ${o.error!.message.split('\n').slice(0, 3).join(' | ')}\n  reproduce: node --import tsx test/fuzz/fuzzWorker.ts ${o.format} ${o.seed} 1`;
}

for (const format of ['h5', 'keras', 'json', 'tfjs', 'h5attr'] as FuzzFormat[]) {
  test(`fuzz ${format}: ${CASES_PER_FORMAT} mutated files, no hang, only clean one-line KerasLensErrors`, async () => {
    const t0 = performance.now();
    const problems: string[] = [];
    let next = FIRST_SEED;
    const end = FIRST_SEED + CASES_PER_FORMAT;
    let stderrBytes = 0;
    while (next < end) {
      const run = await runWorker(format, next, end - next);
      assert.equal(run.harnessError, null, `fuzz harness failed: ${run.harnessError}`);
      stderrBytes += run.stderrBytes;
      outcomes.push(...run.outcomes);
      for (const o of run.outcomes) if (o.error && !o.error.clean) problems.push(describe(o));
      const last = run.outcomes.length ? run.outcomes[run.outcomes.length - 1].seed : next - 1;
      if (run.hung !== null) {
        // Nothing can interrupt synchronous WebAssembly in process; the CLI runs commands in a watched worker.
        // The hang itself is asserted by the todo test below; here the CLI must refuse the file cleanly.
        const file = join(dir, 'cases', format === 'tfjs' ? `tfjs-${run.hung}/model.json` : `${format}-${run.hung}.${format === 'keras' ? 'keras' : 'h5'}`); // h5attr-N.h5 too
        hangs.push({ format, seed: run.hung, file });
        const cliProblem = cliRefusesHang(file);
        if (cliProblem) problems.push(`seed ${run.hung} hangs in process and the CLI does not recover: ${cliProblem}\n  reproduce: node --import tsx test/fuzz/fuzzWorker.ts ${format} ${run.hung} 1`);
        next = run.hung + 1;
      } else if (run.crashed) {
        problems.push(
          `seed ${run.crashed.seed}: the process died (code ${run.crashed.code}, signal ${run.crashed.signal}): ${run.crashed.stderr.slice(-400)}\n  reproduce: node --import tsx test/fuzz/fuzzWorker.ts ${format} ${run.crashed.seed} 1`,
        );
        next = run.crashed.seed + 1;
      } else {
        next = Math.max(next, last + 1);
        if (run.outcomes.length === 0) break;
      }
    }
    const mine = outcomes.filter((o) => o.format === format);
    const done = mine.filter((o) => o.stage === 'done').length;
    const ms = performance.now() - t0;
    // eslint-disable-next-line no-console
    console.log(`fuzz ${format}: ${mine.length} cases (+${hangs.filter((h) => h.format === format).length} hung) in ${(ms / 1000).toFixed(1)} s; ${done} ran through, ${mine.length - done} refused; ${problems.length} problems; ${stderrBytes} bytes of library stderr`);
    const hung = hangs.filter((h) => h.format === format).length;
    assert.ok(mine.length + hung >= CASES_PER_FORMAT - problems.length, `only ${mine.length} cases ran (${hung} hung)`);
    assert.equal(problems.length, 0, `${problems.length} unclean outcomes:\n${problems.slice(0, 15).join('\n')}`);
  });
}

test('fuzz CLI subset: mutated files through bin/keras-lens.js exit 0 or with one clean line', async () => {
  ensureBuilt();
  // refused ones first (they exercise the error path), a few per format
  const picked: Outcome[] = [];
  for (const f of ['h5', 'keras', 'json', 'tfjs', 'h5attr'] as FuzzFormat[]) {
    const mine = outcomes.filter((o) => o.format === f && existsSync(o.file));
    picked.push(...mine.filter((o) => o.error).slice(0, 2), ...mine.filter((o) => !o.error).slice(0, 1));
  }
  assert.ok(picked.length > 0, 'no fuzz cases to replay (did the fuzz tests run?)');
  const problems: string[] = [];
  for (const o of picked) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [join(PROJECT, 'bin/keras-lens.js'), 'inspect', o.file], { encoding: 'utf8', timeout: 20_000 });
    const ms = performance.now() - t0;
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    const id = `seed ${o.seed} (${o.format}, ${o.mutation}) inspect ${o.file}`;
    if (r.status !== 0 && r.status !== 1) problems.push(`${id}: exit ${r.status} signal ${r.signal}`);
    else if (r.status === 1 && (lines.length !== 1 || !lines[0].startsWith('keras-lens: ') || !lines[0].includes(o.file))) {
      problems.push(`${id}: stderr is not one line naming the file:\n${r.stderr.slice(0, 800)}`);
    } else if (/\bat .+:\d+:\d+/.test(r.stderr)) problems.push(`${id}: stack frame in stderr`);
    if (ms > 10_000) problems.push(`${id}: took ${ms.toFixed(0)} ms`);
  }
  assert.equal(problems.length, 0, problems.join('\n'));
});

// The HDF5 C library loops forever on damaged global heaps (found here: seeds h5 62, 158, 1036, 1079, 1134); the
// formats layer now refuses those files before h5wasm sees them (limits.ts damagedGlobalHeap).
test(
  'fuzz: no mutated file hangs the reader in process (extension host)',
  () => {
    assert.equal(hangs.length, 0, `hanging cases: ${hangs.map((h) => `${h.format} seed ${h.seed}`).join(', ')}`);
  },
);
