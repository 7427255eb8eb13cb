/**
 * keras-lens inspect|predict — a thin command line over the core.
 *
 * The error boundary: whatever goes wrong (our KerasLensError, a library's exception, a non-Error value thrown by
 * WebAssembly code, an uncaught exception or rejection), the user gets exit code 1 and exactly ONE line on stderr,
 * `keras-lens: <file>: <what is wrong>`, never a stack trace. Libraries that print diagnostics themselves
 * (emscripten's `Aborted(...)` through console.error, HDF5-DIAG stacks written straight to fd 2) are held back while
 * a command runs: on success they are passed through, on failure only our one line is printed.
 *
 * Hangs: the HDF5 C library (WebAssembly) loops forever on some damaged files (found by test/fuzz; the known kind,
 * damaged global heaps, is refused up front by src/formats), and nothing on the same thread can interrupt synchronous
 * WebAssembly; a path can also be a pipe nobody writes to. So `run()` (the bin entry) executes the command in a worker
 * thread and watches it: `inspect`, and the structure-reading first step of `predict` (open + inspect), must
 * finish within STRUCTURE_SECONDS; a whole `predict` within COMMAND_SECONDS (a big model can compute for long);
 * KERAS_LENS_TIMEOUT_SECONDS overrides both. On timeout the worker is terminated and the usual one line is printed.
 * Model and architecture paths that are pipes or devices are refused before anything is read.
 */
// `require`, not `import * as`: the bundle's namespace wrapper would be a copy, and we patch the real module.
import fs = require('node:fs');
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { runInspect } from './inspect';
import { runPredict } from './predict';
import { KerasLensError } from '../model/types';
import { describeForeignError } from '../formats/foreign-errors';
import { oneLineText, terminalSafe } from '../model/text';
import { openModelFile } from '../formats/open';
import { inspectModel } from '../explain/inspect';

const USAGE = `usage:
  keras-lens inspect MODEL [--config ARCH.json] [--json]
  keras-lens predict MODEL INPUT.json [--config ARCH.json] [--trace] [--json]`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(USAGE + '\n');
      return command === undefined ? 1 : 0;
    case 'inspect':
    case 'predict':
      break;
    default:
      process.stderr.write(`keras-lens: unknown command '${terminalSafe(oneLineText(String(command), 80))}' (use inspect or predict; keras-lens --help)\n`);
      return 1;
  }
  const held = holdStderr();
  try {
    const code = command === 'inspect' ? await runInspect(rest) : await runPredict(rest);
    held.release(true);
    return code;
  } catch (err) {
    held.release(false);
    process.stderr.write(`keras-lens: ${oneLine(err, modelArgument(rest))}\n`);
    return 1;
  }
}

/** The first positional argument (the model file): named in messages for errors that do not name a file. */
function modelArgument(args: string[]): string | null {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--config') i++;
    else if (!args[i].startsWith('-')) return args[i];
  }
  return null;
}

/**
 * One line for any failure. Our own errors already say file + problem; anything else is described (HDF5-DIAG stacks
 * reduced to their innermost frame, aborts, non-Error values) and prefixed with the file when we know it.
 */
export function oneLine(err: unknown, file: string | null = null): string {
  if (err instanceof KerasLensError) return terminalSafe(oneLineText(err.message, 1000)) || 'unknown error';
  const problem = describeForeignError(err);
  return terminalSafe(oneLineText(file ? `${file}: ${problem}` : problem, 1000)) || 'unknown error';
}

interface HeldStderr {
  /** Stop holding; pass what was held through (true) or drop it (false). */
  release(passThrough: boolean): void;
}

/** Hold back everything written to stderr (through process.stderr or straight to fd 2) until release(). */
function holdStderr(): HeldStderr {
  const chunks: (string | Uint8Array)[] = [];
  const stderr = process.stderr;
  const originalWrite = stderr.write;
  const fsMutable = fs as unknown as { writeSync: typeof fs.writeSync };
  const originalWriteSync = fsMutable.writeSync;
  let patchedFs = false;
  stderr.write = function (chunk: unknown, ...rest: unknown[]): boolean {
    chunks.push(typeof chunk === 'string' || chunk instanceof Uint8Array ? chunk : String(chunk));
    const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    if (cb) process.nextTick(cb);
    return true;
  } as typeof stderr.write;
  try {
    // WebAssembly libraries running on NODERAWFS write their stderr with fs.writeSync(2, ...).
    fsMutable.writeSync = function (fd: number, buffer: unknown, ...rest: unknown[]): number {
      if (fd === 2) {
        if (typeof buffer === 'string') {
          chunks.push(buffer);
          return Buffer.byteLength(buffer);
        }
        const view = buffer as Uint8Array;
        const offset = typeof rest[0] === 'number' ? rest[0] : 0;
        const length = typeof rest[1] === 'number' ? rest[1] : view.byteLength - offset;
        chunks.push(new Uint8Array(view.buffer, view.byteOffset + offset, length).slice());
        return length;
      }
      return (originalWriteSync as (...a: unknown[]) => number)(fd, buffer, ...rest);
    } as typeof fs.writeSync;
    patchedFs = true;
  } catch {
    /* fs not patchable here (ESM namespace): fd-2 writes pass through */
  }
  return {
    release(passThrough: boolean) {
      stderr.write = originalWrite;
      if (patchedFs) fsMutable.writeSync = originalWriteSync;
      if (passThrough) for (const c of chunks) stderr.write(c);
    },
  };
}

/** Seconds allowed for opening the model file and reading its structure (metadata, config, weight list). */
const STRUCTURE_SECONDS = 30;
/** Seconds allowed for a whole command: inspect, predict. */
const COMMAND_SECONDS: Record<string, number> = { inspect: STRUCTURE_SECONDS, predict: 600 };

/** The --config argument, if any. */
function configArgument(args: string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--config') return args[i + 1];
    if (args[i].startsWith('--config=')) return args[i].slice('--config='.length);
  }
  return undefined;
}

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

/** Model, input and architecture paths given on the command line. */
function positionalPaths(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--config') {
      if (args[i + 1]) out.push(args[i + 1]);
      i++;
    } else if (args[i].startsWith('--config=')) out.push(args[i].slice('--config='.length));
    else if (!args[i].startsWith('-')) out.push(args[i]);
  }
  return out;
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

interface WorkerMessage {
  kind: 'structure-read' | 'done';
  code?: number;
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
  if (command === 'inspect' || command === 'predict') {
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
  if ((command !== 'inspect' && command !== 'predict') || process.env.KERAS_LENS_IN_PROCESS === '1' || typeof __filename !== 'string') {
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
    worker = new Worker(__filename, { workerData: { kerasLensArgv: argv } });
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
          : `predict did not finish within ${commandSeconds} s`,
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

/** The worker side of run(): read the file's structure first (reported to the watcher), then run the command. */
async function runInWorker(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  const file = modelArgument(rest);
  // inspect only reads the structure (its whole run is held to STRUCTURE_SECONDS); predict reads it first, so that
  // a damaged file is given up on quickly while a big model may compute for long.
  if (file && command === 'predict') {
    const held = holdStderr();
    try {
      const configPath = configArgument(rest);
      const opened = await openModelFile(file, configPath ? { configPath } : {});
      try {
        await inspectModel(opened);
      } finally {
        opened.close();
      }
    } catch {
      // the command below meets the same problem and reports it
    } finally {
      held.release(false);
    }
  }
  parentPort!.postMessage({ kind: 'structure-read' } satisfies WorkerMessage);
  const code = await main(argv);
  parentPort!.postMessage({ kind: 'done', code } satisfies WorkerMessage);
}

if (!isMainThread && parentPort && workerData && Array.isArray((workerData as { kerasLensArgv?: unknown }).kerasLensArgv)) {
  const argv = (workerData as { kerasLensArgv: string[] }).kerasLensArgv;
  const report = (err: unknown) => {
    process.stderr.write(`keras-lens: ${oneLine(err, modelArgument(argv.slice(1)))}\n`);
    parentPort!.postMessage({ kind: 'done', code: 1 } satisfies WorkerMessage);
  };
  process.on('uncaughtException', report);
  process.on('unhandledRejection', report);
  runInWorker(argv).catch(report);
}
