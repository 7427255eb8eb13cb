/**
 * NODE-ONLY: the model worker as a Node worker thread. Everything else in extension/worker/ is platform-neutral
 * (a web worker host can replace this file alone).
 *
 *  - `nodeWorkerSpawner(file, init)` (host side): starts `file` (the bundled dist/worker.js) as a worker thread with
 *    resourceLimits capping its JS heap at init.memoryLimitMB; its WebAssembly memory is capped inside (memoryCap.ts).
 *    A worker that runs out of that heap is ended by Node with ERR_WORKER_OUT_OF_MEMORY: the client hears it as
 *    'ran out of memory'.
 *  - `serveInThisThread(make)` (worker side): answers the host's calls on parentPort.
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { SpawnWorker, WorkerPort } from './client';
import type { CallMessage, PostToHost, WorkerCall, WorkerInit, WorkerMessage } from './protocol';

const INIT_KEY = 'kerasLensWorker';

export function nodeWorkerSpawner(workerFile: string, init: WorkerInit): SpawnWorker {
  return (): WorkerPort => {
    const worker = new Worker(workerFile, {
      workerData: { [INIT_KEY]: init },
      resourceLimits: { maxOldGenerationSizeMb: Math.max(64, init.memoryLimitMB), maxYoungGenerationSizeMb: 64 },
      // The worker's own console/stderr go to the host's log, never to the user.
      stdout: false,
      stderr: false,
    });
    let ended = false;
    const exitHandlers: ((reason: string) => void)[] = [];
    const ended_ = (reason: string) => {
      if (ended) return;
      ended = true;
      exitHandlers.forEach((h) => h(reason));
    };
    worker.on('error', (e: Error & { code?: string }) =>
      ended_(e.code === 'ERR_WORKER_OUT_OF_MEMORY' ? `ran out of memory (the cap is ${init.memoryLimitMB} MB, kerasLens.worker.memoryLimitMB)` : oneLineOf(e)),
    );
    worker.on('exit', (code) => ended_(`it exited (code ${code})`));
    // A worker waiting for calls must not keep a process (the CLI, a test) alive.
    worker.unref();
    return {
      post: (m: CallMessage) => worker.postMessage(m),
      onMessage: (h: (m: WorkerMessage) => void) => void worker.on('message', h),
      onExit: (h: (reason: string) => void) => void exitHandlers.push(h),
      terminate: () => {
        ended = true;
        void worker.terminate();
      },
    };
  };
}

function oneLineOf(e: Error): string {
  return (e.message || String(e)).split(/\r?\n/)[0].slice(0, 300);
}

/** In a worker thread started by nodeWorkerSpawner: serve calls with the service `make` builds. */
export function serveInThisThread(make: (init: WorkerInit) => { reply(id: number, call: WorkerCall, post: PostToHost): Promise<void> }): boolean {
  if (isMainThread || !parentPort || !workerData || !(INIT_KEY in workerData)) return false;
  const port = parentPort;
  const service = make((workerData as Record<string, WorkerInit>)[INIT_KEY]);
  // Weight values are moved to the host, not copied (the service lists their buffers, protocol.ts replyTransfers).
  const post: PostToHost = (m, transfer) => port.postMessage(m, transfer);
  port.on('message', (m: CallMessage) => void service.reply(m.id, m.call, post));
  return true;
}
