/**
 * The browser's stand-in for ../fileOpener.ts (swapped in by scripts/build.mjs for the web worker bundle): a FileSpec
 * -> ModelFile from bytes only. There is no disk in the browser: the extension host reads each file whole through
 * vscode.workspace.fs (fileAccess.ts) and sends its bytes.
 */
import { openModelBytes } from '../../src/formats/bytes';
import { KerasLensError, type ModelFile } from '../../src/model/types';
import type { FileSpec } from '../worker/protocol';

export async function openFileSpec(file: FileSpec, config?: FileSpec): Promise<ModelFile> {
  for (const f of [file, config]) {
    if (f && 'path' in f) throw new KerasLensError(f.path, 'files are read as bytes in the browser, not by path');
  }
  return openModelBytes(file as Exclude<FileSpec, { path: string }>, config ? { config: config as Exclude<FileSpec, { path: string }> } : undefined);
}
