/**
 * keras-lens inspect|predict — a thin command line over the core.
 * Errors: exit 1 with exactly one line `keras-lens: <file>: <what is wrong>` on stderr, never a stack trace.
 */
import { runInspect } from './inspect';
import { runPredict } from './predict';
import { KerasLensError } from '../model/types';

const USAGE = `usage:
  keras-lens inspect MODEL [--config ARCH.json] [--json]
  keras-lens predict MODEL INPUT.json [--config ARCH.json] [--trace] [--json]`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'inspect':
        return await runInspect(rest);
      case 'predict':
        return await runPredict(rest);
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        process.stdout.write(USAGE + '\n');
        return command === undefined ? 1 : 0;
      default:
        process.stderr.write(`keras-lens: unknown command '${command}'\n${USAGE}\n`);
        return 1;
    }
  } catch (err) {
    process.stderr.write(`keras-lens: ${oneLine(err)}\n`);
    return 1;
  }
}

/** One line for any failure: our own errors say file + problem; anything else is flattened, never a stack. */
export function oneLine(err: unknown): string {
  const msg = err instanceof KerasLensError ? err.message : err instanceof Error ? err.message : String(err);
  return msg.replace(/\s*\n\s*/g, ' ').trim() || 'unknown error';
}

/** Entry used by bin/keras-lens.js (and tests): runs and exits with the code. */
export function run(argv: string[]): void {
  main(argv).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`keras-lens: ${oneLine(err)}\n`);
      process.exitCode = 1;
    },
  );
}
