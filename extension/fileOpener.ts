/**
 * NODE-ONLY (the desktop model worker): a FileSpec (worker/protocol.ts) -> ModelFile. Files given by path are opened
 * on disk (random access: a 2 GB file is never held in memory); files given as bytes (read by the host through
 * vscode.workspace.fs from a file system that is not the disk) are opened from memory.
 * The web worker bundle replaces this file with web/fileOpener.ts (scripts/build.mjs), which reads bytes only.
 */
import { readFile } from 'node:fs/promises';
import { openModelBytes, type FileBytes } from '../src/formats/bytes';
import { openModelFile } from '../src/formats/open';
import type { ModelFile } from '../src/model/types';
import type { FileSpec } from './worker/protocol';

export async function openFileSpec(file: FileSpec, config?: FileSpec): Promise<ModelFile> {
  if ('path' in file && (!config || 'path' in config)) return openModelFile(file.path, config ? { configPath: config.path } : undefined);
  const asBytes = async (f: FileSpec): Promise<FileBytes> => ('path' in f ? { name: f.path, bytes: new Uint8Array(await readFile(f.path)) } : f);
  return openModelBytes(await asBytes(file), config ? { config: await asBytes(config) } : undefined);
}
