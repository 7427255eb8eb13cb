/**
 * Reading the command line, shared by the watchdog (main.ts, the main thread) and the command runner (worker.ts):
 * which argument is the model file, the architecture, and the one-line form of any failure. Light on purpose: the
 * main thread loads only this, never the readers or h5wasm.
 */
import { KerasLensError } from '../model/types';
import { describeForeignError } from '../formats/foreign-errors';
import { oneLineText, terminalSafe } from '../model/text';

/** The first positional argument (the model file): named in messages for errors that do not name a file. */
export function modelArgument(args: string[]): string | null {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--config' || args[i] === '--lang' || args[i] === '--out') i++;
    else if (!args[i].startsWith('-')) return args[i];
  }
  return null;
}

/** The --config argument, if any. */
export function configArgument(args: string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--config') return args[i + 1];
    if (args[i].startsWith('--config=')) return args[i].slice('--config='.length);
  }
  return undefined;
}

/** Model, input and architecture paths given on the command line. */
export function positionalPaths(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--config') {
      if (args[i + 1]) out.push(args[i + 1]);
      i++;
    } else if (args[i].startsWith('--config=')) out.push(args[i].slice('--config='.length));
    else if (args[i] === '--lang' || args[i] === '--out') i++; // export's language and output folder are not read
    else if (!args[i].startsWith('-')) out.push(args[i]);
  }
  return out;
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

/** worker -> watchdog */
export interface WorkerMessage {
  kind: 'structure-read' | 'done';
  code?: number;
}

