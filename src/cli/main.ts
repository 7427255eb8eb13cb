/**
 * keras-lens inspect|predict — a thin command line over the core.
 *
 * The error boundary: whatever goes wrong (our KerasLensError, a library's exception, a non-Error value thrown by
 * WebAssembly code, an uncaught exception or rejection), the user gets exit code 1 and exactly ONE line on stderr,
 * `keras-lens: <file>: <what is wrong>`, never a stack trace. Libraries that print diagnostics themselves
 * (emscripten's `Aborted(...)` through console.error, HDF5-DIAG stacks written straight to fd 2) are held back while
 * a command runs: on success they are passed through, on failure only our one line is printed.
 */
// `require`, not `import * as`: the bundle's namespace wrapper would be a copy, and we patch the real module.
import fs = require('node:fs');
import { runInspect } from './inspect';
import { runPredict } from './predict';
import { KerasLensError } from '../model/types';
import { describeForeignError, oneLineText } from '../formats/limits';

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
      process.stderr.write(`keras-lens: unknown command '${oneLineText(String(command), 80)}' (use inspect or predict; keras-lens --help)\n`);
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
  if (err instanceof KerasLensError) return oneLineText(err.message, 1000) || 'unknown error';
  const problem = describeForeignError(err);
  return oneLineText(file ? `${file}: ${problem}` : problem, 1000) || 'unknown error';
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

/** Entry used by bin/keras-lens.js (and tests): runs and exits with the code. */
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
  main(argv).then((code) => {
    process.exitCode = code;
  }, fail);
}
