/**
 * Webview entry (bundled to dist/webview.js as an IIFE). `<body data-view="model">` shows the model viewer,
 * `data-view="results"` the Predict results panel. All talk to the host goes through the protocol's channel.
 */
import { WebviewChannel, type Envelope, type HostEvent, type HostReply } from '../extension/protocol';
import { ModelView } from './modelView';
import { ResultsView } from './resultsView';
import { Tooltip } from './tooltip';
import { el, registerToolkit } from './ui';

interface VsCodeApi {
  postMessage(message: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

function main(): void {
  const root = document.getElementById('app') ?? document.body.appendChild(el('div', { id: 'app' }));
  // The views still work with plain elements if the toolkit cannot register.
  registerToolkit().catch(() => {});
  const vscode = acquireVsCodeApi();
  let handle: (e: HostEvent) => void = () => {};
  const channel = new WebviewChannel(
    (m) => vscode.postMessage(m),
    (e) => handle(e),
  );
  window.addEventListener('message', (ev: MessageEvent<Envelope<HostReply | HostEvent>>) => {
    if (ev.data && typeof ev.data === 'object' && 'body' in ev.data) channel.receive(ev.data);
  });
  if (document.body.dataset.view === 'results') {
    const view = new ResultsView(root, channel);
    handle = (e) => view.onEvent(e);
    channel.notify({ type: 'ready' });
  } else {
    const view = new ModelView(root, channel, new Tooltip());
    handle = (e) => view.onEvent(e);
    channel.notify({ type: 'ready' });
    void view.start();
  }
}

window.addEventListener('error', (ev) => {
  // Never a blank page: show what broke.
  const root = document.getElementById('app');
  if (root && !root.querySelector('[data-testid=error]'))
    root.prepend(el('div', { class: 'error', 'data-testid': 'error', role: 'alert' }, `${document.body.dataset.fileName ?? 'Keras Lens'}: ${ev.message}`));
});

main();
