/**
 * keras-lens inspect|predict — a thin command line over the core.
 *
 * The error boundary: whatever goes wrong (our KerasLensError, a library's exception, a non-Error value thrown by
 * WebAssembly code, an uncaught exception or rejection), the user gets exit code 1 and exactly ONE line on stderr,
 * `keras-lens: <file>: <what is wrong>`, never a stack trace. Libraries that print diagnostics themselves
 * (emscripten's `Aborted(...)` through console.error, HDF5-DIAG stacks written straight to fd 2) are held back while
 * a command runs: on success they are passed through, on failure only our one line is printed.
 *
 * Start-up: this file (dist/cli.js) is only the watchdog and loads nothing heavy; the command runs in worker.ts, a
 * bundle of its own (dist/cli-worker.js) that holds the readers, h5wasm's glue and the engine, so nothing is parsed
 * twice. The worker thread starts on this same small file, which loads that bundle through boot.ts from the code
 * cache the build made (no compile of 0.8 MB at every start; a cache that does not fit is ignored).
 *
 * Hangs: the HDF5 C library (WebAssembly) loops forever on some damaged files (found by test/fuzz; the known kind,
 * damaged global heaps, is refused up front by src/formats), and nothing on the same thread can interrupt synchronous
 * WebAssembly; a path can also be a pipe nobody writes to. So `run()` (the bin entry) executes the command in a worker
 * thread and watches it: `inspect`, and the structure-reading first step of `predict` (open + inspect), must
 * finish within STRUCTURE_SECONDS; a whole `predict` within COMMAND_SECONDS (a big model can compute for long);
 * KERAS_LENS_TIMEOUT_SECONDS overrides both. On timeout the worker is terminated and the usual one line is printed.
 * Model and architecture paths that are pipes or devices are refused before anything is read.
 */
import fs = require('node:fs');
import { join } from 'node:path';
import { Worker, isMainThread, workerData } from 'node:worker_threads';
import { KerasLensError } from '../model/types';
import { configArgument, modelArgument, oneLine, positionalPaths, type WorkerMessage } from './args';
import { loadBundle, writeCodeCache } from './boot';

export { oneLine } from './args';

/** Running from the source under tsx (tests, benches) rather than from the bundles in dist/. */
const FROM_SOURCE = typeof __filename === 'string' && __filename.endsWith('.ts');
/** The command runner's bundle, beside this one. */
const RUNNER_BUNDLE = typeof __dirname === 'string' ? join(__dirname, 'cli-worker.js') : '';

type Runner = typeof import('./worker');

/** The command runner, in-process (KERAS_LENS_IN_PROCESS=1, tests): loaded only then. */
export async function main(argv: string[]): Promise<number> {
  const runner = FROM_SOURCE ? (require('./worker') as Runner) : (loadBundle(RUNNER_BUNDLE).exports as unknown as Runner);
  return runner.main(argv);
}

/**
 * The worker thread: under tsx the runner's source; from dist/, this small file again, which loads the runner's
 * bundle from its code cache (the bottom of this file).
 */
function workerStart(argv: string[]): { file: string; workerData: object } {
  return FROM_SOURCE
    ? { file: join(__dirname, 'worker.ts'), workerData: { kerasLensArgv: argv } }
    : { file: __filename, workerData: { kerasLensArgv: argv, kerasLensBundle: RUNNER_BUNDLE } };
}

/**
 * Build step (scripts/build.mjs): write dist/cli-worker.js.cache after a warm-up `inspect` of `warmUpModel` (its
 * report goes to stdout: the build runs this in a child whose output it drops).
 */
export async function buildCodeCache(warmUpModel?: string): Promise<number> {
  return writeCodeCache(RUNNER_BUNDLE, async (runner) => {
    if (warmUpModel) await (runner as unknown as Runner).main(['inspect', warmUpModel, '--json']);
  });
}

/** Seconds allowed for opening the model file and reading its structure (metadata, config, weight list). */
const STRUCTURE_SECONDS = 30;
/** Seconds allowed for a whole command: inspect, predict. */
const COMMAND_SECONDS: Record<string, number> = { inspect: STRUCTURE_SECONDS, predict: 600, export: 600 };

/** Why `path` is not something we can read as a model/architecture file (a pipe, a device, a socket), or null. */
function notAFile(path: string): string | null {
  let st: fs.Stats;
  try {
    st = fs.statSync(path);
  } catch {
    return null; // missing/unreadable: the readers say so with their own words
  }
  if (st.isFile() || st.isDirectory()) return null;
  const what = st.isFIFO() ? 'a named pipe' : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : st.isSocket() ? 'a socket' : 'not a regular file';
  return `is ${what}; model and architecture files are read from disk`;
}

/** If `path` is a named pipe, open it for writing without blocking and close it: a blocked reader gets end of file. */
function unblockPipe(path: string): void {
  try {
    if (!fs.statSync(path).isFIFO()) return;
    fs.closeSync(fs.openSync(path, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK));
  } catch {
    /* nobody is reading it, or it is gone */
  }
}

/** Entry used by bin/keras-lens.js: runs the command in a watched worker thread and exits with its code. */
export function run(argv: string[]): void {
  const fail = (err: unknown) => {
    try {
      process.stderr.write(`keras-lens: ${oneLine(err, modelArgument(argv.slice(1)))}\n`);
    } finally {
      process.exit(1);
    }
  };
  // Anything escaping the command's own promise (a library's stray callback, a rejected promise nobody awaited).
  process.on('uncaughtException', fail);
  process.on('unhandledRejection', fail);
  const [command, ...rest] = argv;
  if (command === 'inspect' || command === 'predict' || command === 'export') {
    // The model and the architecture are read at random offsets: they must be files, not pipes or devices.
    for (const p of [modelArgument(rest), configArgument(rest)]) {
      const problem = p ? notAFile(p) : null;
      if (problem) {
        process.stderr.write(`keras-lens: ${oneLine(new KerasLensError(p ?? null, problem))}\n`);
        process.exitCode = 1;
        return;
      }
    }
  }
  if ((command !== 'inspect' && command !== 'predict' && command !== 'export') || process.env.KERAS_LENS_IN_PROCESS === '1' || typeof __filename !== 'string') {
    main(argv).then((code) => {
      process.exitCode = code;
    }, fail);
    return;
  }
  const override = Number(process.env.KERAS_LENS_TIMEOUT_SECONDS);
  const structureSeconds = override > 0 ? override : STRUCTURE_SECONDS;
  const commandSeconds = override > 0 ? override : COMMAND_SECONDS[command];
  const file = modelArgument(rest);
  let worker: Worker;
  try {
    const start = workerStart(argv);
    worker = new Worker(start.file, { workerData: start.workerData });
  } catch {
    // no worker threads here: run unwatched
    main(argv).then((code) => {
      process.exitCode = code;
    }, fail);
    return;
  }
  let finished = false;
  const config = configArgument(rest);
  const reading = `reading the file${config ? ` (with --config ${config})` : ''}`;
  const giveUp = (problem: string) => {
    if (finished) return;
    finished = true;
    void worker.terminate();
    process.stderr.write(`keras-lens: ${oneLine(new KerasLensError(file, `${problem} (KERAS_LENS_TIMEOUT_SECONDS allows more)`))}\n`);
    // A read blocked on a named pipe nobody writes to keeps its thread (and so the process) alive: give it an end of
    // file by opening the pipe for writing and closing it at once (nothing is written), then leave.
    for (const p of positionalPaths(rest)) unblockPipe(p);
    process.exit(1);
  };
  let structureTimer: NodeJS.Timeout | null = setTimeout(
    () => giveUp(`${reading} did not finish within ${structureSeconds} s; damaged file, or not a regular file?`),
    structureSeconds * 1000,
  );
  const commandTimer = setTimeout(
    () =>
      giveUp(
        command === 'inspect'
          ? `${reading} did not finish within ${commandSeconds} s; damaged file, or not a regular file?`
          : `${command} did not finish within ${commandSeconds} s`,
      ),
    commandSeconds * 1000,
  );
  const clear = () => {
    if (structureTimer) clearTimeout(structureTimer);
    structureTimer = null;
    clearTimeout(commandTimer);
  };
  worker.on('message', (m: WorkerMessage) => {
    if (m.kind === 'structure-read' && structureTimer) {
      clearTimeout(structureTimer);
      structureTimer = null;
    } else if (m.kind === 'done') {
      finished = true;
      clear();
      process.exitCode = m.code ?? 1;
    }
  });
  worker.on('error', (err) => {
    if (finished) return;
    finished = true;
    clear();
    process.stderr.write(`keras-lens: ${oneLine(err, file)}\n`);
    process.exitCode = 1;
  });
  worker.on('exit', () => {
    clear();
    if (!finished) {
      finished = true;
      process.stderr.write(`keras-lens: ${oneLine(new KerasLensError(file, 'stopped unexpectedly'), file)}\n`);
      process.exitCode = 1;
    }
  });
}

// The worker thread started by run() on this file: load the command runner's bundle (it runs the command itself).
if (!isMainThread && workerData && typeof (workerData as { kerasLensBundle?: unknown }).kerasLensBundle === 'string') {
  loadBundle((workerData as { kerasLensBundle: string }).kerasLensBundle);
}
