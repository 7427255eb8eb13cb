/**
 * The host side of a model worker: typed calls with a time limit each, one at a time (the worker's reads are
 * synchronous WebAssembly, so a queued call would only wait there and eat its own time limit), and a watchdog.
 * One exception: a call that `yields` (the worker computes it in slices and lets other messages in between, e.g.
 * a big weight's statistics) does not hold back `light` calls (a table window, a cell's words): those are posted at
 * once and answered in its gaps, so a scroll right after opening a big weight does not wait for its statistics.
 *
 * When a call does not answer in time, or the worker dies (ran out of its memory cap, crashed), the worker is ended,
 * every waiting call is rejected with ONE line naming the file and the operation, `onFailure` listeners hear it, and
 * the next call starts a fresh worker. Nothing here blocks the caller's thread, so the extension host keeps working
 * whatever the worker does.
 *
 * Platform-neutral: a worker is anything behind `WorkerPort` (a Node worker thread in ./node.ts, a web worker
 * later, an in-memory fake in the tests).
 */
import type { CallMessage, WorkerCall, WorkerMessage, WorkerResult } from './protocol';

/** One running worker, as the client sees it. */
export interface WorkerPort {
  post(message: CallMessage): void;
  onMessage(handler: (message: WorkerMessage) => void): void;
  /** The worker ended on its own (not through terminate()); `reason` is one line, e.g. 'ran out of memory'. */
  onExit(handler: (reason: string) => void): void;
  terminate(): void;
}

export type SpawnWorker = () => WorkerPort;

export interface CallOptions {
  /** The file the call is about (first word of every message). */
  file: string;
  /** What the call does, for messages: 'opening the file', "reading weight 'lstm_1/kernel:0'". */
  what: string;
  /** Time limit for this call (ms). */
  timeoutMs: number;
  /** The setting that gives the time limit, named in the message. */
  timeoutSetting?: string;
  /** Progress events of this call, fraction in [0, 1]. */
  onProgress?: (fraction: number, what: string) => void;
  /** The worker answers this call in slices, taking other messages in between (light calls may run meanwhile). */
  yields?: boolean;
  /** A short call (no file read of its own) that may run in the gaps of a yielding call. */
  light?: boolean;
}

/** A call that failed because its worker was ended (time limit) or died (memory cap, crash). */
export class WorkerFailure extends Error {
  override name = 'WorkerFailure';
  constructor(
    message: string,
    readonly kind: 'timeout' | 'died' | 'stopped',
  ) {
    super(message);
  }
}

interface Pending {
  id: number;
  call: WorkerCall;
  opts: CallOptions;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer?: ReturnType<typeof setTimeout>;
}

/** Added to the first call's limit on a new worker (loading the worker's bundle and WebAssembly, on a busy machine). */
export const STARTUP_ALLOWANCE_MS = 10_000;

export class WorkerClient {
  private port: WorkerPort | null = null;
  private nextId = 1;
  /** Calls posted to the worker and not answered yet: one, or a yielding one and light ones in its gaps. */
  private running: Pending[] = [];
  private readonly queue: Pending[] = [];
  private readonly failureListeners: ((f: WorkerFailure) => void)[] = [];
  private started = 0;
  private disposed = false;
  /** The current worker has not answered a call yet (its first call gets STARTUP_ALLOWANCE_MS). */
  private cold = false;

  constructor(private readonly spawn: SpawnWorker) {}

  /** How many workers this client has started (1 after the first call; +1 after each replacement). */
  get generation(): number {
    return this.started;
  }

  /** True while a worker is running (between its first call and a failure or dispose()). */
  get alive(): boolean {
    return this.port !== null;
  }

  /** Called after a worker was ended or died (the calls it held are already rejected). */
  onFailure(listener: (f: WorkerFailure) => void): void {
    this.failureListeners.push(listener);
  }

  call<C extends WorkerCall>(call: C, opts: CallOptions): Promise<WorkerResult<C>> {
    if (this.disposed) return Promise.reject(new WorkerFailure(`${opts.file}: ${opts.what} was cancelled`, 'stopped'));
    return new Promise<WorkerResult<C>>((resolve, reject) => {
      this.queue.push({ id: this.nextId++, call, opts, resolve: resolve as (v: unknown) => void, reject });
      this.pump();
    });
  }

  /**
   * Start the worker now, before the first call (a no-op when one runs): the viewer spawns it the moment VS Code
   * asks for the document, so the worker loads its bundle and h5wasm while the host still checks the file's size
   * and VS Code builds the webview. Its first call still gets the start-up allowance.
   */
  warm(): void {
    if (!this.disposed) this.ensurePort();
  }

  /** End the worker now (cancel, editor closed): waiting calls are rejected as cancelled; no failure event. */
  dispose(): void {
    this.disposed = true;
    this.stop((p) => new WorkerFailure(`${p.opts.file}: ${p.opts.what} was cancelled`, 'stopped'));
  }

  private pump(): void {
    while (this.queue.length > 0) {
      // The next in line when the worker is free; while only yielding calls run, the first light call waiting.
      let k = 0;
      if (this.running.length > 0) {
        if (!this.running.some((r) => r.opts.yields) || !this.running.every((r) => r.opts.yields || r.opts.light)) return;
        k = this.queue.findIndex((q) => q.opts.light);
        if (k < 0) return;
      }
      const [p] = this.queue.splice(k, 1);
      this.running.push(p);
      const port = this.ensurePort();
      // A fresh worker first loads its bundle and h5wasm: that start-up is not the call's time.
      p.timer = setTimeout(() => this.timedOut(p), p.opts.timeoutMs + (this.cold ? STARTUP_ALLOWANCE_MS : 0));
      port.post({ id: p.id, call: p.call });
    }
  }

  private ensurePort(): WorkerPort {
    if (this.port) return this.port;
    const port = this.spawn();
    this.started++;
    this.port = port;
    this.cold = true;
    port.onMessage((m) => {
      if (this.port !== port) return;
      this.received(m);
    });
    port.onExit((reason) => {
      if (this.port !== port) return;
      const cause = this.running[0];
      this.fail(
        (p) =>
          new WorkerFailure(
            p === cause || !cause ? `${p.opts.file}: ${p.opts.what} stopped the worker: ${reason}` : `${p.opts.file}: ${p.opts.what} was interrupted (the worker stopped: ${reason})`,
            'died',
          ),
      );
    });
    return port;
  }

  private received(m: WorkerMessage): void {
    const p = this.running.find((r) => r.id === m.id);
    if (!p) return;
    if ('progress' in m) {
      p.opts.onProgress?.(m.progress, m.what);
      return;
    }
    clearTimeout(p.timer);
    this.running = this.running.filter((r) => r !== p);
    this.cold = false;
    if ('error' in m) p.reject(new Error(m.error));
    else p.resolve(m.ok);
    this.pump();
  }

  private timedOut(p: Pending): void {
    if (!this.running.includes(p)) return;
    const seconds = Math.round(p.opts.timeoutMs / 100) / 10;
    const setting = p.opts.timeoutSetting ? ` (${p.opts.timeoutSetting})` : '';
    this.fail(
      (q) =>
        q === p
          ? new WorkerFailure(`${q.opts.file}: ${q.opts.what} did not finish within ${seconds} s${setting}; its worker was stopped`, 'timeout')
          : new WorkerFailure(`${q.opts.file}: ${q.opts.what} was interrupted (the worker was stopped after ${p.opts.what} took too long)`, 'timeout'),
      p,
    );
  }

  /** End the worker, reject what it held (and what waits), tell the listeners; the next call starts a new one. */
  private fail(error: (p: Pending) => WorkerFailure, cause?: Pending): void {
    const first = cause ?? this.running[0] ?? this.queue[0];
    const failure = first ? error(first) : null;
    this.stop(error);
    if (failure) for (const l of this.failureListeners) l(failure);
  }

  private stop(error: (p: Pending) => WorkerFailure): void {
    const port = this.port;
    this.port = null;
    // Calls queued behind the failed one are rejected too: they may need state (an open model) the worker lost.
    const held = [...this.running, ...this.queue.splice(0)];
    this.running = [];
    for (const p of held) {
      clearTimeout(p.timer);
      p.reject(error(p));
    }
    try {
      port?.terminate();
    } catch {
      /* already gone */
    }
  }
}

/**
 * A small pool: keeps one worker started ahead (it loads its bundle and h5wasm while idle), so that opening the next
 * model does not wait for a worker to start. Each spawn hands out the spare, if it is still alive, and starts the
 * next one right after; a spare that dies while idle is dropped.
 */
export function withSpare(spawn: SpawnWorker): SpawnWorker & { dispose(): void } {
  interface Spare {
    port: WorkerPort;
    dead: boolean;
  }
  let spare: Spare | null = null;
  let disposed = false;
  let refill: ReturnType<typeof setTimeout> | undefined;
  const start = (): Spare => {
    const s: Spare = { port: spawn(), dead: false };
    s.port.onExit(() => {
      s.dead = true;
      if (spare === s) spare = null;
    });
    return s;
  };
  const take: SpawnWorker & { dispose(): void } = Object.assign(
    (): WorkerPort => {
      const s = spare;
      spare = null;
      if (!disposed) {
        clearTimeout(refill);
        // After the caller's own start-up, so the two do not compete for the CPU.
        refill = setTimeout(() => {
          if (!spare && !disposed) spare = start();
        }, 2000);
      }
      return s && !s.dead ? s.port : spawn();
    },
    {
      dispose: () => {
        disposed = true;
        clearTimeout(refill);
        spare?.port.terminate();
        spare = null;
      },
    },
  );
  return take;
}
