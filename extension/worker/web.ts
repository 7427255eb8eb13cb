/**
 * The model worker as a browser Web Worker (the web extension's counterpart of ./node.ts). Same client, watchdog
 * and messages (./client.ts, ./protocol.ts): a call past its time limit ends the worker with terminate() and the
 * next call starts a new one.
 *
 *  - `webWorkerSpawner(url, init)` (host side, in the web worker extension host): `url()` gives the URL to start the
 *    worker from. It is a blob: URL of the bundled worker source (dist/web/worker.js, read through
 *    vscode.workspace.fs): VS Code refuses `new Worker()` on a web extension's own vscode-remote URI when a server
 *    such as code-server serves the extension ("Creating workers from remote extensions is currently not
 *    supported", microsoft/vscode#168942), and a blob: URL works everywhere. The first message carries the
 *    WorkerInit; calls posted before the worker exists wait in a queue.
 *  - `serveInWebWorker(make)` (worker side): answers the host's calls on the worker's global scope.
 *
 * Memory: a browser has no per-worker heap cap (Node's resourceLimits); the WebAssembly memory is capped inside
 * the worker (memoryCap.ts), the JavaScript heap only by the browser's own limit for the tab.
 */
import type { SpawnWorker, WorkerPort } from './client';
import type { CallMessage, PostToHost, WorkerCall, WorkerInit, WorkerMessage } from './protocol';

export function webWorkerSpawner(url: () => Promise<string>, init: WorkerInit): SpawnWorker {
  return (): WorkerPort => {
    let worker: Worker | null = null;
    let ended = false;
    const queue: CallMessage[] = [];
    const messageHandlers: ((m: WorkerMessage) => void)[] = [];
    const exitHandlers: ((reason: string) => void)[] = [];
    const end = (reason: string) => {
      if (ended) return;
      ended = true;
      worker?.terminate();
      exitHandlers.forEach((h) => h(reason));
    };
    url().then(
      (u) => {
        if (ended) return;
        try {
          worker = new Worker(u, { name: 'Keras Lens model worker' });
        } catch (e) {
          end(`it could not start (${oneLineOf(e)})`);
          return;
        }
        worker.onmessage = (ev: MessageEvent) => messageHandlers.forEach((h) => h(ev.data as WorkerMessage));
        worker.onerror = (ev: ErrorEvent) => {
          ev.preventDefault?.();
          end(ev.message ? `it failed (${ev.message.split('\n')[0]})` : 'it failed');
        };
        worker.onmessageerror = () => end('a message could not be read');
        worker.postMessage({ init });
        for (const m of queue.splice(0)) worker.postMessage(m);
      },
      (e) => end(`its code could not be loaded (${oneLineOf(e)})`),
    );
    return {
      post: (m: CallMessage) => (worker ? worker.postMessage(m) : queue.push(m)),
      onMessage: (h) => void messageHandlers.push(h),
      onExit: (h) => void exitHandlers.push(h),
      terminate: () => {
        ended = true;
        worker?.terminate();
      },
    };
  };
}

function oneLineOf(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split(/\r?\n/)[0].slice(0, 300);
}

/** In a Web Worker started by webWorkerSpawner: the first message is the WorkerInit, then calls. */
export function serveInWebWorker(make: (init: WorkerInit) => { reply(id: number, call: WorkerCall, post: PostToHost): Promise<void> }): void {
  const scope = globalThis as unknown as { onmessage: ((ev: MessageEvent) => void) | null; postMessage(m: unknown, transfer?: Transferable[]): void };
  let service: ReturnType<typeof make> | null = null;
  // Weight values are moved to the host, not copied (the service lists their buffers, protocol.ts replyTransfers).
  const post: PostToHost = (m, transfer) => scope.postMessage(m, transfer ?? []);
  scope.onmessage = (ev: MessageEvent) => {
    const m = ev.data as { init?: WorkerInit } & Partial<CallMessage>;
    if (!service) {
      service = make(m.init ?? { memoryLimitMB: 2048, faults: '' });
      return;
    }
    void service.reply(m.id!, m.call!, post);
  };
}
