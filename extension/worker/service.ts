/**
 * The worker side: answers the host's calls (./protocol.ts) with the core — opening model files (ModelSession),
 * reading and downsampling weights for the viewer, Predict. Everything that loads h5wasm or the engine runs here,
 * never in the extension host. Platform-neutral: ./node.ts feeds it from a Node worker thread; a web worker can feed
 * it the same messages.
 */
import { ModelSession } from '../modelSession';
import { runPredictJob } from '../predictJob';
import { runExportJob } from '../exportJob';
import { oneLine } from '../protocol';
import { injectFault, parseFaults, type Fault } from './faults';
import { capWasmMemory } from './memoryCap';
import { replyTransfers, type PostToHost, type ProgressSink, type WorkerCall, type WorkerInit, type WorkerStatus } from './protocol';

export class ModelService {
  private readonly models = new Map<string, ModelSession>();
  private readonly faults: Fault[];

  constructor(init: WorkerInit) {
    this.faults = parseFaults(init.faults);
    capWasmMemory(init.memoryLimitMB);
  }

  async handle(call: WorkerCall, progress: ProgressSink): Promise<unknown> {
    switch (call.op) {
      case 'open': {
        injectFault(this.faults, 'open', call.path);
        this.models.get(call.model)?.close();
        this.models.delete(call.model);
        const session = await ModelSession.open(call.path, { maxTensorElements: call.maxTensorElements, configPath: call.configPath }, call.file, call.config);
        this.models.set(call.model, session);
        return { summary: session.summary(), report: session.report };
      }
      case 'answer': {
        const session = this.models.get(call.model);
        if (!session) throw new Error(`${call.model}: the file is not open in this worker`);
        if (call.request.type === 'getWeight') injectFault(this.faults, 'weight', session.path);
        return session.answer(call.request, progress);
      }
      case 'close': {
        this.models.get(call.model)?.close();
        this.models.delete(call.model);
        return null;
      }
      case 'predict':
        injectFault(this.faults, 'predict', call.job.modelPath);
        return runPredictJob(call.job);
      case 'export':
        return runExportJob(call.job);
      case 'status':
        return { models: this.models.size } satisfies WorkerStatus;
      default:
        throw new Error(`the model worker cannot do '${(call as { op: string }).op}'`);
    }
  }

  /**
   * One call to one reply message (errors as one line). The values of a weight reply are moved, not copied: their
   * buffers go in the transfer list (protocol.ts replyTransfers).
   */
  async reply(id: number, call: WorkerCall, post: PostToHost): Promise<void> {
    let ok: unknown;
    try {
      ok = await this.handle(call, (fraction, what) => post({ id, progress: fraction, what }));
    } catch (e) {
      post({ id, error: oneLine(e) });
      return;
    }
    try {
      post({ id, ok }, replyTransfers(ok));
    } catch (e) {
      // A result that cannot be cloned still gets its one reply.
      post({ id, error: oneLine(e) });
    }
  }
}
