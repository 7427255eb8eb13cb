/**
 * Entry of the web model worker bundle (dist/web/worker.js, an IIFE for a browser Web Worker): the same service as
 * the desktop worker (../worker/service.ts) with h5wasm's in-memory build, the readers and the engine bundled in;
 * files arrive as bytes (web/fileOpener.ts stands in for ../fileOpener.ts). Started by web/core.ts.
 */
import { ModelService } from '../worker/service';
import { serveInWebWorker } from '../worker/web';

serveInWebWorker((init) => new ModelService(init));
