/**
 * Entry of the model worker bundle (dist/worker.js): the only bundle of the extension that holds h5wasm, the
 * readers and the engine. Started by the extension host through ./node.ts.
 */
import { serveInThisThread } from './node';
import { ModelService } from './service';

serveInThisThread((init) => new ModelService(init));
