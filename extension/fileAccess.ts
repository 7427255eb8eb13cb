/**
 * How the extension host reaches model files, the same in both entries: through vscode.workspace.fs, which serves the
 * disk, remote and virtual file systems (github.dev's, vscode.dev's) alike.
 *
 *  - Keys: a file on disk is known by its path (as before: workspace state keeps paths), any other file by its URI.
 *  - What the model worker gets (worker/protocol.ts FileSpec): on the desktop a file on disk goes by path (the
 *    worker reads it with random access, only what it needs); otherwise (the browser, or another file system) the
 *    host reads the whole file into memory and sends the bytes. There is no random file access through
 *    vscode.workspace.fs, so files read whole are capped by kerasLens.maxInMemoryFileSizeMB, refused in one line.
 */
import * as vscode from 'vscode';
import { fileNameOf } from './remoteModel';
import type { FileSpec } from './worker/protocol';

const MB = 1024 * 1024;

export function modelKey(uri: vscode.Uri): string {
  return uri.scheme === 'file' ? uri.fsPath : uri.toString();
}

export function uriOfKey(key: string): vscode.Uri {
  return /^[a-z][\w+.-]*:\/\//i.test(key) ? vscode.Uri.parse(key) : vscode.Uri.file(key);
}

export function inMemoryLimitMB(): number {
  return vscode.workspace.getConfiguration('kerasLens').get<number>('maxInMemoryFileSizeMB', 512);
}

/** Size of the file in bytes, or null when it cannot be stat'ed (missing, unreadable). */
export async function sizeOf(uri: vscode.Uri): Promise<number | null> {
  try {
    return (await vscode.workspace.fs.stat(uri)).size;
  } catch {
    return null;
  }
}

export async function exists(uri: vscode.Uri): Promise<boolean> {
  return (await sizeOf(uri)) !== null;
}

/**
 * What the worker needs to open `uri`. `web`: the browser entry (no disk). Throws one line naming the file when it
 * cannot be read or is too large to read into memory.
 */
export async function fileSpecOf(uri: vscode.Uri, web: boolean): Promise<FileSpec> {
  if (!web && uri.scheme === 'file') return { path: uri.fsPath };
  const name = fileNameOf(modelKey(uri));
  const size = await sizeOf(uri);
  if (size === null) throw new Error(`${name}: file not found`);
  const limit = inMemoryLimitMB();
  if (size > limit * MB) {
    const where = web ? 'in the browser' : `from '${uri.scheme}:'`;
    throw new Error(`${name}: ${(size / MB).toFixed(0)} MB is too large to read into memory ${where} (no random file access there, so Keras Lens reads files whole; kerasLens.maxInMemoryFileSizeMB is ${limit} MB)`);
  }
  let bytes: Uint8Array;
  try {
    bytes = await vscode.workspace.fs.readFile(uri);
  } catch (e) {
    throw new Error(`${name}: cannot read the file (${(e instanceof Error ? e.message : String(e)).split('\n')[0]})`);
  }
  return { name, bytes };
}

/** The first `max` characters of a (small) text file, or null: for sniffing JSON. Files over 16 MB are not read. */
export async function headText(uri: vscode.Uri, max = 64 * 1024): Promise<string | null> {
  const size = await sizeOf(uri);
  if (size === null || size > 16 * MB) return null;
  try {
    return new TextDecoder().decode((await vscode.workspace.fs.readFile(uri)).subarray(0, max));
  } catch {
    return null;
  }
}

/** A nonce for a webview's Content-Security-Policy (Web Crypto: in Node 20 and in the browser). */
export function nonce(): string {
  const b = new Uint8Array(18);
  crypto.getRandomValues(b);
  return btoa(String.fromCharCode(...b));
}
