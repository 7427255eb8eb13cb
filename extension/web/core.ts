/**
 * The browser entry's core (bundled into dist/web/extension.js in place of ../core.ts, see scripts/build.mjs): the
 * same viewer, Predict and hovers (../coreParts.ts), with model work in Web Workers (../worker/web.ts) and files read
 * whole through vscode.workspace.fs (../fileAccess.ts).
 *
 * The worker's code is dist/web/worker.js, read through vscode.workspace.fs from the extension's own folder and
 * started from a blob: URL. (`new Worker()` on the extension's vscode-remote URI is refused by VS Code when a server
 * serves the extension, microsoft/vscode#168942; a blob: URL is same-origin with the extension host.)
 */
import * as vscode from 'vscode';
import { assembleCore, type Core } from '../coreParts';
import { settings } from '../modelEditor';
import { webWorkerSpawner } from '../worker/web';

export type { Core };

export function startCore(context: vscode.ExtensionContext): Core {
  let url: Promise<string> | null = null;
  const workerUrl = () =>
    (url ??= (async () => {
      const code = await vscode.workspace.fs.readFile(vscode.Uri.joinPath(context.extensionUri, 'dist', 'web', 'worker.js'));
      return URL.createObjectURL(new Blob([code as Uint8Array<ArrayBuffer>], { type: 'text/javascript' }));
    })()).catch((e) => {
      url = null; // try again on the next worker
      throw e;
    });
  const spawn = () => webWorkerSpawner(workerUrl, { memoryLimitMB: settings().workerMemoryLimitMB, faults: '' })();
  const host = typeof (globalThis as { importScripts?: unknown }).importScripts === 'function' ? 'a web worker extension host' : 'an extension host that is not a web worker';
  return assembleCore(context, spawn, true, (n) => `Keras Lens runs its browser entry (dist/web/extension.js) in ${host} (uiKind ${vscode.env.uiKind === vscode.UIKind.Web ? 'Web' : 'Desktop'}); model workers: Web Workers (${n} started).`);
}
