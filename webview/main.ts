/**
 * Webview entry (bundled to dist/webview.js as an IIFE). `<body data-view="model">` shows the model viewer,
 * `data-view="results"` the Predict results panel. All talk to the host goes through the protocol's channel.
 */
import { EARLY_MESSAGES, SCRIPT_MARK, WebviewChannel, type Envelope, type HostEvent, type HostReply } from '../extension/protocol';
import { ModelView } from './modelView';
import { ResultsView } from './resultsView';
import { Tooltip } from './tooltip';
import { el, registerToolkit } from './ui';

interface VsCodeApi {
  postMessage(message: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

function main(): void {
  // For the benchmark (test/bench/viewer-vscode.ts): when our script starts, on the wall clock (detail).
  performance.mark(SCRIPT_MARK, { detail: Date.now() });
  const root = document.getElementById('app') ?? document.body.appendChild(el('div', { id: 'app' }));
  const vscode = acquireVsCodeApi();
  let handle: (e: HostEvent) => void = () => {};
  const channel = new WebviewChannel(
    (m) => vscode.postMessage(m),
    (e) => handle(e),
  );
  const receive = (ev: MessageEvent<Envelope<HostReply | HostEvent>>) => {
    if (ev.data && typeof ev.data === 'object' && 'body' in ev.data) channel.receive(ev.data);
  };
  window.addEventListener('message', receive);
  // Messages that came before this script ran, kept by the page's inline script (extension/webviewHtml.ts).
  const w = window as unknown as Record<string, MessageEvent[] | null | undefined>;
  const early = w[EARLY_MESSAGES] ?? [];
  w[EARLY_MESSAGES] = null;
  if (document.body.dataset.view === 'results') {
    // The views still work with plain elements if the toolkit cannot register.
    registerToolkit().catch(() => {});
    const view = new ResultsView(root, channel);
    handle = (e) => view.onEvent(e);
    channel.notify({ type: 'ready' });
  } else {
    const view = new ModelView(root, channel, new Tooltip());
    handle = (e) => view.onEvent(e);
    channel.notify({ type: 'ready' });
    // The toolkit (its buttons, checkboxes: a script of its own, ui.ts) registers after the summary is shown:
    // the layer list is plain DOM and does not wait for it; elements made before are upgraded when it registers.
    void view.start().finally(() => registerToolkit().catch(() => {}));
  }
  for (const ev of early) receive(ev);
}

window.addEventListener('error', (ev) => {
  // Never a blank page: show what broke.
  const root = document.getElementById('app');
  if (root && !root.querySelector('[data-testid=error]'))
    root.prepend(el('div', { class: 'error', 'data-testid': 'error', role: 'alert' }, `${document.body.dataset.fileName ?? 'Keras Lens'}: ${ev.message}`));
});

main();
