/**
 * The command runner of `keras-lens` (bundled alone as dist/cli-worker.js): runs inspect/predict with the readers,
 * h5wasm and the engine, in the worker thread that main.ts (the watchdog, dist/cli.js) starts and watches. The error
 * boundary and the held-back library diagnostics live here; see main.ts for the whole story.
 */
// `require`, not `import * as`: the bundle's namespace wrapper would be a copy, and we patch the real module.
import fs = require('node:fs');
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { runInspect } from './inspect';
import { runPredict } from './predict';
import { runExport } from './export';
import { oneLineText, terminalSafe } from '../model/text';
import { openModelFile } from '../formats/open';
import { inspectModel } from '../explain/inspect';
import { configArgument, modelArgument, oneLine, type WorkerMessage } from './args';
import { registerNodeBatchSplitter } from '../engine/batch-split-node';

const USAGE = `usage:
  keras-lens inspect MODEL [--config ARCH.json] [--json]
  keras-lens predict MODEL INPUT.json [--config ARCH.json] [--trace] [--json]
  keras-lens export MODEL --lang numpy|js|c|java|pytorch --out DIR [--config ARCH.json] [--force]`;

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
    case 'export':
      break;
    default:
      process.stderr.write(`keras-lens: unknown command '${terminalSafe(oneLineText(String(command), 80))}' (use inspect, predict or export; keras-lens --help)\n`);
      return 1;
  }
  const held = holdStderr();
  try {
    const code = command === 'inspect' ? await runInspect(rest) : command === 'export' ? await runExport(rest) : await runPredict(rest);
    held.release(true);
    return code;
  } catch (err) {
    held.release(false);
    process.stderr.write(`keras-lens: ${oneLine(err, modelArgument(rest))}\n`);
    return 1;
  }
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

/** The worker side of run(): read the file's structure first (reported to the watcher), then run the command. */
async function runInWorker(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  const file = modelArgument(rest);
  // inspect only reads the structure (its whole run is held to STRUCTURE_SECONDS); predict and export read it first, so that
  // a damaged file is given up on quickly while a big model may compute for long.
  if (file && (command === 'predict' || command === 'export')) {
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
  registerNodeBatchSplitter(); // large recurrent batches over helper threads (ended with this thread)
  runInWorker(argv).catch(report);
}
