/**
 * Our thin layer over @vscode/webview-ui-toolkit (deprecated upstream): every toolkit element the views use is
 * created here, so replacing the toolkit later touches this file only. Also the one DOM-building helper `el`,
 * which sets text through textContent only (strings from model files never reach innerHTML).
 */
let registered: Promise<void> | null = null;

/**
 * Register the toolkit's custom elements once: add its bundle (dist/webview-toolkit.js, webview/toolkit.mts; its
 * address is the page's data-toolkit, webviewHtml.ts) as a script with the page's nonce, the only scripts the
 * Content-Security-Policy runs. Elements created before it finishes are upgraded when their definitions arrive.
 */
export function registerToolkit(): Promise<void> {
  registered ??= new Promise<void>((resolve, reject) => {
    const src = document.body.dataset.toolkit;
    if (!src) {
      reject(new Error('this page names no toolkit script'));
      return;
    }
    const script = document.createElement('script');
    script.nonce = document.querySelector('meta[property="csp-nonce"]')?.getAttribute('content') ?? '';
    script.src = src;
    script.addEventListener('load', () => resolve());
    script.addEventListener('error', () => reject(new Error('the toolkit script did not load')));
    document.head.append(script);
  });
  return registered;
}

type Attrs = Record<string, string | number | boolean | undefined>;

/** Create an element with attributes (data-*, class, title...) and children; strings become text nodes. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: (Node | string | null | undefined)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  setAttrs(e, attrs);
  for (const c of children) if (c !== null && c !== undefined) e.append(typeof c === 'string' ? document.createTextNode(c) : c);
  return e;
}

function setAttrs(e: Element, attrs: Attrs): void {
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    e.setAttribute(k, v === true ? '' : String(v));
  }
}

/** A toolkit button; `appearance` 'primary' | 'secondary' | 'icon'. */
export function button(label: string, onClick: () => void, attrs: Attrs = {}, appearance = 'primary'): HTMLElement {
  const b = document.createElement('vscode-button');
  setAttrs(b, { appearance, ...attrs });
  b.textContent = label;
  b.addEventListener('click', onClick);
  return b;
}

/**
 * A small count/label badge. (Our own span: the toolkit's vscode-badge binds an inline style attribute, which the
 * strict style-src policy blocks.)
 */
export function badge(text: string, attrs: Attrs = {}): HTMLElement {
  const b = document.createElement('span');
  b.className = 'badge';
  setAttrs(b, attrs);
  b.textContent = text;
  return b;
}

/** A tag (e.g. the layer class). Our own span for the same reason as `badge` (vscode-tag is built on the badge). */
export function tag(text: string, attrs: Attrs = {}): HTMLElement {
  const t = document.createElement('span');
  t.className = 'tag';
  setAttrs(t, attrs);
  t.textContent = text;
  return t;
}

export function checkbox(label: string, checked: boolean, onChange: (checked: boolean) => void, attrs: Attrs = {}): HTMLElement {
  const c = document.createElement('vscode-checkbox') as HTMLElement & { checked: boolean };
  setAttrs(c, attrs);
  c.textContent = label;
  c.checked = checked;
  if (checked) c.setAttribute('checked', '');
  c.addEventListener('change', () => onChange(c.checked));
  return c;
}

export function divider(): HTMLElement {
  return document.createElement('vscode-divider');
}

/**
 * A busy spinner. (Our own CSS one: the toolkit's vscode-progress-ring template carries an inline style attribute
 * that the strict style-src policy reports.)
 */
export function progressRing(attrs: Attrs = {}): HTMLElement {
  const p = document.createElement('span');
  p.className = 'spinner';
  p.setAttribute('role', 'progressbar');
  setAttrs(p, attrs);
  return p;
}
