/**
 * NODE-ONLY: entry of the desktop model worker bundle (dist/worker.js), the extension's only code that loads h5wasm
 * (its Node build), the readers and the engine. Started by the extension host through ./node.ts; the browser's
 * worker entry is extension/web/worker.ts.
 */
import { serveInThisThread } from './node';
import { ModelService } from './service';
import { registerNodeBatchSplitter } from '../../src/engine/batch-split-node';

if (serveInThisThread((init) => new ModelService(init))) {
  registerNodeBatchSplitter(); // large recurrent batches over helper threads (ended with this worker)
  // Load h5wasm (and compile its WebAssembly) now, while the host has not asked anything yet: a spare worker
  // (client.ts, withSpare) is then ready the moment a model opens. The readers' own import gets this same module.
  void import('h5wasm/node').then((lib) => lib.ready).catch(() => {});
}
