import { test } from 'node:test';
import assert from 'node:assert/strict';
import { contentSecurityPolicy, EARLY_MESSAGES_SCRIPT, escapeHtml, webviewHtml } from '../../extension/webviewHtml';

const shell = {
  cspSource: 'https://file+.vscode-resource.vscode-cdn.net',
  scriptUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview.js',
  toolkitUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview-toolkit.js',
  styleUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/media/viewer.css',
  nonce: 'abc123NONCE',
  view: 'model' as const,
  fileName: 'evil"><script>alert(1)</script>.h5',
};

test('the policy allows no default sources, scripts only with the nonce, no unsafe-inline / unsafe-eval', () => {
  const csp = contentSecurityPolicy(shell.cspSource, shell.nonce);
  const dirs = Object.fromEntries(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k, v]));
  assert.deepEqual(dirs['default-src'], ["'none'"]);
  assert.deepEqual(dirs['script-src'], ["'nonce-abc123NONCE'"]);
  assert.deepEqual(dirs['style-src'], [shell.cspSource, "'nonce-abc123NONCE'"]);
  assert.deepEqual(dirs['img-src'], [shell.cspSource, 'data:']);
  assert.ok(!csp.includes('unsafe'));
});

test('the page has two scripts, each carrying the nonce: the fixed early-messages one first in <head>, then the bundle; no inline handlers', () => {
  const html = webviewHtml(shell);
  const scripts = [...html.matchAll(/<script\b([^>]*)>([^<]*)<\/script>/g)];
  assert.equal(scripts.length, 2);
  for (const [, attrs] of scripts) assert.match(attrs, /nonce="abc123NONCE"/);
  // The inline one is the constant (no file name, no other data from the model in it), inside <head>.
  assert.equal(scripts[0][2], EARLY_MESSAGES_SCRIPT);
  assert.doesNotMatch(scripts[0][1], /src=/);
  assert.ok(html.indexOf(EARLY_MESSAGES_SCRIPT) < html.indexOf('</head>'));
  assert.match(scripts[1][1], /src="https:\/\/file\+\.vscode-resource\.vscode-cdn\.net\/ext\/dist\/webview\.js"/);
  assert.equal(scripts[1][2], '');
  assert.doesNotMatch(html, /\son[a-z]+=/i);
  assert.match(html, /<meta property="csp-nonce" content="abc123NONCE">/);
  assert.match(html, /data-view="model"/);
  assert.match(html, /data-toolkit="https:\/\/file\+\.vscode-resource\.vscode-cdn\.net\/ext\/dist\/webview-toolkit\.js"/);
});

test('a hostile file name is escaped everywhere it appears', () => {
  const html = webviewHtml(shell);
  assert.ok(!html.includes('<script>alert(1)</script>'));
  assert.ok(html.includes(escapeHtml(shell.fileName)));
  assert.equal(escapeHtml(`<a href="x" title='y'>&</a>`), '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
});
