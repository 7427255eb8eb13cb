/**
 * The HTML shell of every Keras Lens webview: a strict Content-Security-Policy with a per-load nonce, the bundled
 * script and the stylesheet, and one short inline script (with the nonce, no user data in it). Pure (no vscode
 * import) so the policy can be tested.
 */

import { EARLY_MESSAGES } from './protocol';

/**
 * The inline script, first in <head>: keeps every message that arrives before webview.js runs. VS Code hands a
 * webview the messages posted to it when its document has loaded, or after 200 ms even if it has not (pre/index.html,
 * hookupOnLoadHandlers); the host pushes the summary the moment the worker has it (modelEditor.ts), so on a busy
 * machine it can come while webview.js is still loading — and would be lost without a listener.
 */
export const EARLY_MESSAGES_SCRIPT = `window.${EARLY_MESSAGES}=[];addEventListener('message',function(e){var q=window.${EARLY_MESSAGES};if(q)q.push(e)});`;

export interface WebviewShell {
  /** `webview.cspSource` */
  cspSource: string;
  scriptUri: string;
  /** dist/webview-toolkit.js, which webview.js adds when it needs the toolkit (webview/ui.ts registerToolkit). */
  toolkitUri: string;
  styleUri: string;
  nonce: string;
  view: 'model' | 'results';
  /** Display name of the file, for the title and for error messages before the script runs. */
  fileName: string;
}

/** The Content-Security-Policy: scripts only with the nonce, styles only from the extension (or the nonce). */
export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `img-src ${cspSource} data:`,
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `font-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
}

/** Escape text for an HTML attribute or text node. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function webviewHtml(o: WebviewShell): string {
  const name = escapeHtml(o.fileName);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(contentSecurityPolicy(o.cspSource, o.nonce))}">
<meta property="csp-nonce" content="${o.nonce}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<script nonce="${o.nonce}">${EARLY_MESSAGES_SCRIPT}</script>
<link rel="stylesheet" href="${escapeHtml(o.styleUri)}" nonce="${o.nonce}">
<title>${name}</title>
</head>
<body data-view="${o.view}" data-file-name="${name}" data-toolkit="${escapeHtml(o.toolkitUri)}">
<div id="app"><noscript><div data-testid="error">${name}: this view needs scripts enabled.</div></noscript></div>
<script nonce="${o.nonce}" src="${escapeHtml(o.scriptUri)}"></script>
</body>
</html>`;
}
