/**
 * One model file open in the viewer, as the extension host holds it: the work (open, reads, heatmaps, cell words)
 * happens in its own model worker (extension/worker/); the host keeps only the summary and the InspectReport (plain
 * JSON) the worker sent back. If the worker is ended (time limit) or dies (memory cap), the failing request gets one
 * line naming the file and the operation; the next request opens the file again in a fresh worker.
 * No `vscode` and no Node import: the web extension can use it as is.
 */
import type { InspectReport } from '../src/explain/inspect';
import { WorkerClient, type SpawnWorker, type WorkerFailure } from './worker/client';
import type { FileSpec, OpenResult } from './worker/protocol';
import { oneLine, type HostReply, type WebviewRequest } from './protocol';

export interface RemoteModelOptions {
  path: string;
  configPath?: string;
  maxTensorElements: number;
  /** Time limit of each call (ms). */
  timeoutMs: number;
  spawn: SpawnWorker;
  /**
   * How the worker reads the file and its architecture when not by path (bytes the host read through
   * vscode.workspace.fs, fileAccess.ts); asked again for each (re)open.
   */
  files?: () => Promise<{ file: FileSpec; config?: FileSpec }>;
}

/** The setting that gives the time limit of the viewer's calls (named in messages). */
export const TIMEOUT_SETTING = 'kerasLens.worker.timeoutSeconds';

export function fileNameOf(path: string): string {
  const base = path.split(/[\\/]/).pop() || path;
  // Files that are not on disk are keyed by their URI (fileAccess.ts), whose path is percent-encoded.
  if (!/^[a-z][\w+.-]*:\/\//i.test(path)) return base;
  try {
    return decodeURIComponent(base);
  } catch {
    return base;
  }
}

export class RemoteModel {
  readonly client: WorkerClient;
  private opened: Promise<OpenResult> | null = null;
  /** The latest open result (for summary-only questions while a reopen runs). */
  private last: OpenResult | null = null;

  constructor(private readonly opts: RemoteModelOptions) {
    this.client = new WorkerClient(opts.spawn);
    this.client.onFailure(() => {
      // The worker and the file it held are gone: the next request opens it again in a new worker.
      this.opened = null;
    });
  }

  get path(): string {
    return this.opts.path;
  }

  get fileName(): string {
    return fileNameOf(this.opts.path);
  }

  get configPath(): string | undefined {
    return this.opts.configPath;
  }

  /** Start the model worker ahead of open() (see WorkerClient.warm). */
  warm(): void {
    this.client.warm();
  }

  /** Open the file in the worker (once per worker); resolves with the summary and the report. */
  open(): Promise<OpenResult> {
    if (!this.opened) {
      const arch = this.opts.configPath ? ` with the architecture ${fileNameOf(this.opts.configPath)}` : '';
      const opening = (async () => {
        const files = this.opts.files ? await this.opts.files() : undefined;
        return this.client.call(
          { op: 'open', model: this.opts.path, path: this.opts.path, configPath: this.opts.configPath, maxTensorElements: this.opts.maxTensorElements, file: files?.file, config: files?.config },
          { file: this.fileName, what: `opening the file${arch}`, timeoutMs: this.opts.timeoutMs, timeoutSetting: TIMEOUT_SETTING },
        );
      })();
      this.opened = opening;
      opening.then(
        (r) => (this.last = r),
        () => {
          if (this.opened === opening) this.opened = null;
        },
      );
    }
    return this.opened;
  }

  get report(): InspectReport | null {
    return this.last?.report ?? null;
  }

  /** Answer a viewer request; failures (the worker's, the file's) come back as one error line naming the file. */
  async answer(req: WebviewRequest, onProgress?: (fraction: number, what: string) => void): Promise<HostReply> {
    try {
      const opened = await this.open();
      if (req.type === 'getSummary') return { type: 'summary', summary: opened.summary };
      return await this.client.call(
        { op: 'answer', model: this.opts.path, request: req },
        {
          file: this.fileName,
          what: describeRequest(req),
          timeoutMs: this.opts.timeoutMs,
          timeoutSetting: TIMEOUT_SETTING,
          onProgress,
          // Statistics are computed a gate block at a time, letting other calls in (ModelSession.stats); a table
          // window or a cell's words read only the cached weight, so they run in those gaps.
          yields: req.type === 'getStats',
          light: req.type === 'getWindow' || req.type === 'describeCell',
        },
      );
    } catch (e) {
      const msg = oneLine(e);
      return { type: 'error', message: msg.includes(this.fileName) ? msg : `${this.fileName}: ${msg}` };
    }
  }

  onFailure(listener: (f: WorkerFailure) => void): void {
    this.client.onFailure(listener);
  }

  close(): void {
    this.client.dispose();
  }
}

/** What a request does, in words for messages: "reading weight 'lstm_1/kernel:0'". */
export function describeRequest(req: WebviewRequest): string {
  switch (req.type) {
    case 'getWeight':
      return `reading weight '${req.weight}' of layer '${req.layer}'`;
    case 'getWindow':
      return `reading values of weight '${req.weight}'`;
    case 'getStats':
      return `computing the statistics of weight '${req.weight}'`;
    case 'describeCell':
      return `describing a cell of weight '${req.weight}'`;
    default:
      return req.type;
  }
}
