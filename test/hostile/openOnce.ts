/**
 * Opens one file in process (openModelFile + inspectModel) and prints {"ok":true} or {"error": message, "clean": bool}.
 * Used by open.test.ts for files that could hang the reader: the test runs this in a child with a timeout, since
 * nothing can interrupt synchronous WebAssembly on its own thread.
 */
import { openModelFile, inspectModel, KerasLensError } from '../../src/index';

(async () => {
  const path = process.argv[2];
  try {
    const file = await openModelFile(path);
    try {
      await inspectModel(file);
    } finally {
      file.close();
    }
    process.stdout.write(JSON.stringify({ ok: true }) + '\n');
  } catch (e) {
    process.stdout.write(JSON.stringify({ error: e instanceof Error ? e.message : String(e), clean: e instanceof KerasLensError }) + '\n');
  }
})();
