/**
 * The extension host's core, loaded on first need by the entry (extension.ts): the model viewer, Predict, the hovers
 * that use an open model's report. Bundled as dist/core.js, separate from the tiny entry bundle; it holds no h5wasm
 * and no engine either: model work runs in model workers (dist/worker.js, started through extension/worker/node.ts).
 */
import * as vscode from 'vscode';
import { assembleCore, type Core } from './coreParts';
import { settings } from './modelEditor';
import { withSpare, type SpawnWorker } from './worker/client';
import { FAULTS_ENV } from './worker/faults';
import { nodeWorkerSpawner } from './worker/node';

export type { Core };

export function startCore(context: vscode.ExtensionContext): Core {
  const workerFile = vscode.Uri.joinPath(context.extensionUri, 'dist', 'worker.js').fsPath;
  const fresh: SpawnWorker = () => {
    const s = settings();
    // Test-only fault injection (worker/faults.ts): read from the environment, which only the tests set.
    return nodeWorkerSpawner(workerFile, { memoryLimitMB: s.workerMemoryLimitMB, faults: process.env[FAULTS_ENV] ?? '' })();
  };
  // One worker is kept started ahead once the core runs (a model opened): the next model opens without waiting.
  const spawn = withSpare(fresh);
  context.subscriptions.push({ dispose: () => spawn.dispose() });
  return assembleCore(
    context,
    spawn,
    false,
    (n) => `Keras Lens runs its desktop entry (dist/extension.js, Node ${process.versions.node}) in a Node extension host; model workers: Node worker threads (${n} started).`,
  );
}
