/**
 * The typed messages between the extension host and a model worker (the thread that owns h5wasm, the readers and
 * the engine), in the style of extension/protocol.ts: every call has an id and gets exactly one reply, a result or a
 * one-line error; the worker may push progress events for a call still running.
 *
 * Platform-neutral on purpose (no `vscode`, no Node built-ins): the same messages and the same client
 * (./client.ts) and service (./service.ts) serve a Node worker thread today (./node.ts, the only Node-only file)
 * and a web worker in the browser later.
 */
import type { InspectReport } from '../../src/explain/inspect';
import type { PredictJob, PredictJobResult } from '../predictJob';
import type { ExportJob, ExportJobResult } from '../exportJob';
import type { HostReply, ModelSummary, WebviewRequest } from '../protocol';
import type { FileBytes } from '../../src/formats/bytes';

/**
 * A file the worker opens: by path (the desktop, files on disk: random access, only what is needed is read) or as
 * bytes the host read through vscode.workspace.fs (the browser, and file systems that are not the disk).
 */
export type FileSpec = { path: string } | FileBytes;

/** What the host asks a worker to do. `model` names the open model a call is about (a worker may hold several). */
export type WorkerCall =
  | { op: 'open'; model: string; path: string; configPath?: string; maxTensorElements: number; file?: FileSpec; config?: FileSpec }
  | { op: 'answer'; model: string; request: WebviewRequest }
  | { op: 'close'; model: string }
  | { op: 'predict'; job: PredictJob }
  /** Export Predictor: the predictor's files, built from the model (the host writes them). */
  | { op: 'export'; job: ExportJob }
  /** How the worker is doing (tests). */
  | { op: 'status' };

export interface OpenResult {
  summary: ModelSummary;
  report: InspectReport;
}

export interface WorkerStatus {
  /** Models open in this worker. */
  models: number;
}

/** The result type of each call. */
export type WorkerResult<C extends WorkerCall> = C extends { op: 'open' }
  ? OpenResult
  : C extends { op: 'answer' }
    ? HostReply
    : C extends { op: 'predict' }
      ? PredictJobResult
      : C extends { op: 'export' }
        ? ExportJobResult
      : C extends { op: 'status' }
        ? WorkerStatus
        : null;

/** host -> worker */
export interface CallMessage {
  id: number;
  call: WorkerCall;
}

/** worker -> host: the one reply to call `id`, or a progress event (`progress` in [0, 1]) while it runs. */
export type WorkerMessage =
  | { id: number; ok: unknown }
  | { id: number; error: string }
  | { id: number; progress: number; what: string };

/** Settings given to a worker when it starts (plain JSON: workerData in Node, the first message on the web). */
export interface WorkerInit {
  /** Cap on the WebAssembly memory the worker may grow to (MB); the JS heap is capped by the platform (resourceLimits). */
  memoryLimitMB: number;
  /** Test-only fault injection (see ./faults.ts); empty in production. */
  faults: string;
}

/**
 * The buffers of a reply's weight values (protocol.ts Float32Values), to hand to postMessage as its transfer list:
 * moved to the host instead of copied. Only a heatmap's or a window's values, which the session makes fresh for each
 * reply (weightMatrix.ts downsampleHeatmap, sliceWindow) — never the weights it caches, which a transfer would
 * empty — and only typed arrays that own their whole buffer, each buffer once (a repeated one fails the post).
 */
export function replyTransfers(result: unknown): ArrayBuffer[] {
  const r = result as HostReply | null;
  const values: unknown[] = [];
  if (r?.type === 'weight') values.push(...r.data.heatmaps.map((h) => h.grid.values), r.data.window.values);
  else if (r?.type === 'window') values.push(r.window.values);
  const out = new Set<ArrayBuffer>();
  for (const v of values) {
    if (v instanceof Float32Array && v.buffer instanceof ArrayBuffer && v.byteOffset === 0 && v.byteLength === v.buffer.byteLength) out.add(v.buffer);
  }
  return [...out];
}

/** How a worker posts one message to the host; `transfer` lists buffers to move rather than copy. */
export type PostToHost = (message: WorkerMessage, transfer?: ArrayBuffer[]) => void;

/** Progress reporting the service gets for one call: `report(fraction)`. */
export type ProgressSink = (fraction: number, what: string) => void;
