/**
 * Drives Keras Lens inside a real VS Code: code-server (VS Code 1.100 in the browser) with the built extension
 * installed, opened on a workspace folder, and Debian's Chromium driven by playwright-core.
 *
 *   const vsc = await startVSCode({ workspace });
 *   try { await vsc.openFile('model.h5'); const view = await vsc.webviewFrame('[data-testid=summary]'); ... }
 *   finally { await vsc.stop(); }
 *
 * Everything a run writes (user data, extensions, TMPDIR, XDG dirs, logs) lives in one fresh folder under
 * .e2e/runs/; code-server runs detached in its own process group, which stop() (and process exit) kill whole.
 * Install code-server first with scripts/e2e/setup.sh.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import type { Browser, BrowserContext, FrameLocator, Locator, Page } from 'playwright-core';

export const projectRoot = resolve(__dirname, '..', '..');
export const codeServerDir = join(projectRoot, '.e2e', 'code-server');
export const codeServerBin = join(codeServerDir, 'node_modules', '.bin', 'code-server');
export const chromiumPath = '/usr/bin/chromium';
export const screenshotDir = join(projectRoot, 'test-output', 'screenshots');

/** True when scripts/e2e/setup.sh has installed code-server here. */
export function codeServerInstalled(): boolean {
  return existsSync(codeServerBin);
}

/** A fresh folder for one run's state (user data, extensions, temp files, logs). */
export function newRunDir(label = 'run'): string {
  const runs = join(projectRoot, '.e2e', 'runs');
  mkdirSync(runs, { recursive: true });
  // Old runs (kept for looking into failures) go after a few hours.
  for (const name of readdirSync(runs)) {
    const p = join(runs, name);
    try {
      if (Date.now() - statSync(p).mtimeMs > 3 * 3600_000) rmSync(p, { recursive: true, force: true });
    } catch {
      /* in use or gone */
    }
  }
  return mkdtempSync(join(runs, `${label}-`));
}

/** A TCP port nobody listens on right now, on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => ok(port));
    });
  });
}

/** The environment that keeps a process's temp files and XDG state inside the run folder. */
export function isolatedEnv(runDir: string): NodeJS.ProcessEnv {
  const dirs = {
    TMPDIR: join(runDir, 'tmp'),
    XDG_CONFIG_HOME: join(runDir, 'xdg', 'config'),
    XDG_DATA_HOME: join(runDir, 'xdg', 'data'),
    XDG_CACHE_HOME: join(runDir, 'xdg', 'cache'),
    XDG_STATE_HOME: join(runDir, 'xdg', 'state'),
    XDG_RUNTIME_DIR: join(runDir, 'xdg', 'runtime'),
  };
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true, mode: 0o700 });
  const env: NodeJS.ProcessEnv = { ...process.env, ...dirs };
  // Our own test runner's variables must not leak into the extension host's Node.
  delete env.NODE_OPTIONS;
  delete env.NODE_TEST_CONTEXT;
  return env;
}

// ---------------------------------------------------------------------------------------------------------------
// The extension, installed the way VS Code lays out an installed .vsix
// ---------------------------------------------------------------------------------------------------------------

interface ExtensionManifest {
  name: string;
  publisher: string;
  version: string;
  main?: string;
  dependencies?: Record<string, string>;
  files?: string[];
}

export function readManifest(): ExtensionManifest {
  return JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as ExtensionManifest;
}

/**
 * Copies the built extension (package.json, dist/, media/, README, LICENSE and its runtime dependencies, as vsce
 * would pack them) into `<extensionsDir>/<publisher>.<name>-<version>`. Returns that folder.
 */
export function installExtension(extensionsDir: string, from = projectRoot): string {
  const m = JSON.parse(readFileSync(join(from, 'package.json'), 'utf8')) as ExtensionManifest;
  const main = join(from, m.main ?? 'dist/extension.js');
  if (!existsSync(main)) {
    throw new Error(`the extension is not built (${main} is missing): run npm run build`);
  }
  const target = join(extensionsDir, `${m.publisher}.${m.name}-${m.version}`);
  mkdirSync(target, { recursive: true });
  const entries = new Set(['package.json', 'dist', 'media', 'README.md', 'LICENSE', 'CHANGELOG.md', 'package.nls.json']);
  for (const f of m.files ?? []) entries.add(f.replace(/\/\*\*.*$/, '').replace(/\/$/, ''));
  for (const e of entries) {
    const src = join(from, e);
    // Source maps stay behind (they are most of dist/ and VS Code does not need them to run the extension).
    if (existsSync(src)) cpSync(src, join(target, e), { recursive: true, filter: (f) => !f.endsWith('.map') });
  }
  // Production dependencies (and theirs), as `vsce package` includes them.
  const seen = new Set<string>();
  const copyDep = (name: string, fromDir: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    const dir = join(fromDir, 'node_modules', name);
    if (!existsSync(dir)) return;
    cpSync(dir, join(target, 'node_modules', name), { recursive: true, dereference: true });
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as ExtensionManifest;
    for (const d of Object.keys(pkg.dependencies ?? {})) copyDep(d, from);
  };
  for (const d of Object.keys(m.dependencies ?? {})) copyDep(d, from);
  return target;
}

// ---------------------------------------------------------------------------------------------------------------
// code-server
// ---------------------------------------------------------------------------------------------------------------

export const defaultSettings: Record<string, unknown> = {
  'workbench.startupEditor': 'none',
  'security.workspace.trust.enabled': false,
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'git.enabled': false,
  'git.openRepositoryInParentFolders': 'never',
  'chat.commandCenter.enabled': false,
  'chat.disableAIFeatures': true,
  'workbench.editor.enablePreview': false,
  'window.restoreWindows': 'none',
  'files.hotExit': 'off',
  'editor.hover.delay': 200,
  'editor.stickyScroll.enabled': false,
  'editor.minimap.enabled': false,
};

export interface CodeServer {
  url: string;
  port: number;
  runDir: string;
  logFile: string;
  process: ChildProcess;
  /** Kills code-server's whole process group. Idempotent. */
  kill(): Promise<void>;
}

export interface CodeServerOptions {
  /** Folder to open. */
  workspace: string;
  /** Run folder (fresh when omitted). */
  runDir?: string;
  /** User settings on top of defaultSettings. */
  settings?: Record<string, unknown>;
  /** Install the built extension (default true). */
  withExtension?: boolean;
  /** Folder of the extension to install (default: this project). */
  extensionPath?: string;
  port?: number;
}

const liveGroups = new Set<number>();
let exitHookInstalled = false;
function killGroupsOnExit() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const pid of liveGroups) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  });
}

function killGroup(pid: number, signal: NodeJS.Signals) {
  try {
    process.kill(-pid, signal);
  } catch {
    /* already gone */
  }
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Starts code-server on 127.0.0.1 with the extension installed and waits until it answers. */
export async function startCodeServer(opts: CodeServerOptions): Promise<CodeServer> {
  if (!codeServerInstalled()) {
    throw new Error(`code-server is not installed in ${codeServerDir}: run bash scripts/e2e/setup.sh`);
  }
  const runDir = opts.runDir ?? newRunDir('code-server');
  const userDataDir = join(runDir, 'user-data');
  const extensionsDir = join(runDir, 'extensions');
  mkdirSync(join(userDataDir, 'User'), { recursive: true });
  mkdirSync(extensionsDir, { recursive: true });
  writeFileSync(
    join(userDataDir, 'User', 'settings.json'),
    JSON.stringify({ ...defaultSettings, ...opts.settings }, null, 2),
  );
  if (opts.withExtension !== false) installExtension(extensionsDir, opts.extensionPath);

  const port = opts.port ?? (await freePort());
  const logFile = join(runDir, 'code-server.log');
  const logFd = openSync(logFile, 'a');
  const env = isolatedEnv(runDir);
  const args = [
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--auth',
    'none',
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    '--user-data-dir',
    userDataDir,
    '--extensions-dir',
    extensionsDir,
    resolve(opts.workspace),
  ];
  const child = spawn(codeServerBin, args, { detached: true, env, stdio: ['ignore', logFd, logFd], cwd: runDir });
  closeSync(logFd);
  const pid = child.pid;
  if (pid === undefined) throw new Error('code-server did not start');
  liveGroups.add(pid);
  killGroupsOnExit();
  let exited: number | null | undefined;
  child.on('exit', (code) => {
    exited = code;
  });

  const kill = async () => {
    if (!liveGroups.has(pid)) return;
    killGroup(pid, 'SIGTERM');
    for (let i = 0; i < 50 && groupAlive(pid); i++) await sleep(100);
    if (groupAlive(pid)) killGroup(pid, 'SIGKILL');
    liveGroups.delete(pid);
  };

  const url = `http://127.0.0.1:${port}/`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited !== undefined) {
      await kill();
      throw new Error(`code-server exited (code ${exited}) before answering; log:\n${tail(logFile)}`);
    }
    try {
      const res = await fetch(`${url}healthz`);
      if (res.ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      await kill();
      throw new Error(`code-server did not answer on ${url} within 60 s; log:\n${tail(logFile)}`);
    }
    await sleep(250);
  }
  return { url, port, runDir, logFile, process: child, kill };
}

function tail(file: string, lines = 40): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// ---------------------------------------------------------------------------------------------------------------
// The browser side: a workbench page and the helpers the tests use
// ---------------------------------------------------------------------------------------------------------------

export interface VSCodeOptions extends CodeServerOptions {
  /** Browser viewport (default 1600x1000). */
  viewport?: { width: number; height: number };
}

export interface VSCode {
  server: CodeServer;
  browser: Browser;
  context: BrowserContext;
  page: Page;
  workspace: string;
  /** Console lines the workbench page printed (errors included), for diagnostics. */
  consoleLines: string[];
  /** Opens a workspace file by name through Quick Open (Ctrl+P). */
  openFile(name: string): Promise<void>;
  /** Runs a command by its palette title, retrying while commands are still registering. */
  runCommand(title: string): Promise<void>;
  /**
   * The webview document that contains `selector` (default: the first ready webview). The webview lives two
   * iframes deep: iframe.webview.ready > #active-frame.
   */
  webviewFrame(selector?: string, timeoutMs?: number): Promise<FrameLocator>;
  /** Right-clicks `name` in the explorer and picks the menu item whose label is `item` (e.g. 'Predict'). */
  explorerContextMenu(name: string, item: string): Promise<void>;
  /** Right-clicks inside the active text editor and picks the menu item `item`. */
  editorContextMenu(item: string): Promise<void>;
  /** Selects the first occurrence of `text` (one line) in the active text editor, through the Find widget. */
  selectText(text: string): Promise<void>;
  /** Waits for a quick pick (e.g. the model picker) and picks the row whose label is `label`. */
  pickQuickItem(label: string, timeoutMs?: number): Promise<void>;
  /** Closes every editor (View: Close All Editors). */
  closeAllEditors(): Promise<void>;
  /** Selects whole lines [from, to] (1-based) of the active text editor. */
  selectLines(from: number, to: number): Promise<void>;
  /** Hovers the first occurrence of `text` in the active text editor; returns the hover's text. */
  hoverEditorText(text: string, timeoutMs?: number): Promise<string>;
  /** Hovers `target` and returns the hover/tooltip locator once it is visible. */
  hover(target: Locator, tooltip: Locator, timeoutMs?: number): Promise<Locator>;
  /** Saves test-output/screenshots/<name>.png and returns its path. */
  screenshot(name: string): Promise<string>;
  /** What is on screen: the workbench's text, notifications and every webview's text (for failure messages). */
  describeScreen(): Promise<string>;
  /** Closes the browser and kills code-server's process group. Idempotent. */
  stop(): Promise<void>;
}

export const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

/** Launches Debian's Chromium (never a downloaded browser) with its state inside the run folder. */
export async function launchChromium(runDir: string): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  if (!existsSync(chromiumPath)) throw new Error(`${chromiumPath} is missing: run bash scripts/e2e/setup.sh`);
  const env = isolatedEnv(runDir);
  return chromium.launch({
    executablePath: chromiumPath,
    args: chromiumArgs,
    env: env as Record<string, string>,
    timeout: 60_000,
  });
}

/** Starts code-server with the extension on `workspace`, opens it in Chromium and waits for the workbench. */
export async function startVSCode(opts: VSCodeOptions): Promise<VSCode> {
  const server = await startCodeServer(opts);
  let browser: Browser | undefined;
  try {
    browser = await launchChromium(server.runDir);
    const context = await browser.newContext({ viewport: opts.viewport ?? { width: 1600, height: 1000 } });
    const page = await context.newPage();
    const consoleLines: string[] = [];
    page.on('console', (m) => {
      if (consoleLines.length < 2000) consoleLines.push(`[${m.type()}] ${m.text()}`);
    });
    page.on('pageerror', (e) => consoleLines.push(`[pageerror] ${e.message}`));
    const workspace = resolve(opts.workspace);
    await page.goto(`${server.url}?folder=${encodeURIComponent(workspace)}`, { timeout: 60_000 });
    await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 60_000 });
    // The explorer shows the folder once the workbench has restored its views.
    await page.locator('.explorer-folders-view, .explorer-viewlet').first().waitFor({ timeout: 60_000 }).catch(() => {});
    const vsc = makeVSCode(server, browser, context, page, workspace, consoleLines);
    return vsc;
  } catch (err) {
    await browser?.close().catch(() => {});
    await server.kill();
    throw err;
  }
}

function makeVSCode(
  server: CodeServer,
  browser: Browser,
  context: BrowserContext,
  page: Page,
  workspace: string,
  consoleLines: string[],
): VSCode {
  let stopped = false;
  const quickInput = page.locator('.quick-input-widget');
  const quickInputBox = quickInput.locator('input.input, .quick-input-box input').first();
  const quickRows = quickInput.locator('.quick-input-list .monaco-list-row');

  async function closeQuickInput() {
    if (await quickInput.isVisible().catch(() => false)) {
      await page.keyboard.press('Escape');
      await quickInput.waitFor({ state: 'hidden', timeout: 5_000 }).catch(() => {});
    }
  }

  /** Opens the quick input with `key`, types `text`, and waits for a row whose label matches `match`. */
  async function pickFromQuickInput(key: string, text: string, match: (label: string) => boolean, what: string) {
    const deadline = Date.now() + 90_000;
    let attempt = 0;
    let lastRows: string[] = [];
    while (Date.now() < deadline) {
      attempt++;
      await closeQuickInput();
      // Focus the workbench (not a webview, which would swallow the keys).
      await page.locator('.monaco-workbench .part.statusbar, .monaco-workbench').first().click({ position: { x: 5, y: 5 } }).catch(() => {});
      await page.keyboard.press(key);
      const opened = await quickInput.waitFor({ state: 'visible', timeout: 5_000 }).then(
        () => true,
        () => false,
      );
      if (!opened) continue;
      await quickInputBox.fill(text);
      const rowDeadline = Date.now() + Math.min(6_000 + attempt * 1_000, 15_000);
      while (Date.now() < rowDeadline) {
        const labels = await quickRows.evaluateAll((rows) =>
          rows.map((r) => (r.getAttribute('aria-label') ?? r.textContent ?? '').trim()),
        );
        lastRows = labels;
        const idx = labels.findIndex(match);
        if (idx >= 0) {
          const label = labels[idx];
          const row = quickRows.filter({ has: page.locator(`[aria-label="${cssString(label)}"]`) }).or(
            quickInput.locator(`.quick-input-list .monaco-list-row[aria-label="${cssString(label)}"]`),
          );
          const clicked = await row
            .first()
            .click({ timeout: 3_000 })
            .then(
              () => true,
              () => false,
            );
          if (clicked) {
            await quickInput.waitFor({ state: 'hidden', timeout: 10_000 }).catch(() => {});
            return;
          }
        }
        await sleep(300);
      }
    }
    await closeQuickInput();
    throw new Error(`${what}: not offered after 90 s; last rows offered: ${JSON.stringify(lastRows.slice(0, 10))}`);
  }

  /** Right-clicks `target` and picks `item` from VS Code's context menu (retrying while menus still fill). */
  async function pickFromContextMenu(target: Locator, item: string) {
    const menu = page.locator('.context-view .monaco-menu, .monaco-menu-container .monaco-menu').first();
    const deadline = Date.now() + 60_000;
    let offered: string[] = [];
    while (Date.now() < deadline) {
      await target.click({ button: 'right', force: true });
      const opened = await menu.waitFor({ state: 'visible', timeout: 5_000 }).then(
        () => true,
        () => false,
      );
      if (opened) {
        const items = menu.locator('.action-item .action-label');
        offered = (await items.allInnerTexts()).map((t) => t.trim()).filter(Boolean);
        const idx = offered.findIndex((t) => t === item);
        if (idx >= 0) {
          // VS Code's menus ignore a mouse-up that comes right after they open (the right-click's own):
          // give it a moment, click, and fall back to the keyboard if the menu is still up.
          await sleep(400);
          const entry = menu.locator('.action-item .action-label').filter({ hasText: new RegExp(`^${escapeRegExp(item)}$`) }).first();
          await entry.hover();
          await entry.click();
          const closed = await menu.waitFor({ state: 'hidden', timeout: 3_000 }).then(
            () => true,
            () => false,
          );
          if (!closed) {
            await entry.hover();
            await page.keyboard.press('Enter');
            await menu.waitFor({ state: 'hidden', timeout: 5_000 });
          }
          return;
        }
        await page.keyboard.press('Escape');
      }
      await sleep(1_000);
    }
    throw new Error(`context menu item "${item}" not offered; menu had ${JSON.stringify(offered)}`);
  }

  const vsc: VSCode = {
    server,
    browser,
    context,
    page,
    workspace,
    consoleLines,

    async openFile(name: string) {
      const base = name.split('/').pop() ?? name;
      await pickFromQuickInput(
        'Control+P',
        name,
        (label) => label.startsWith(base) || label.includes(`${base},`) || label.split(/[\s,]/)[0] === base,
        `Quick Open ${name}`,
      );
      // The editor tab for the file.
      await page
        .locator(`.tabs-container .tab[aria-label*="${cssString(base)}"], .tabs-container .tab[title*="${cssString(base)}"]`)
        .first()
        .waitFor({ timeout: 30_000 });
    },

    async runCommand(title: string) {
      await pickFromQuickInput(
        'F1',
        `>${title}`,
        (label) => label === title || label.startsWith(`${title},`) || label.startsWith(title) || label.includes(`: ${title}`),
        `command "${title}"`,
      );
    },

    async webviewFrame(selector?: string, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      const outer = page.locator('iframe.webview.ready');
      for (;;) {
        const n = await outer.count();
        for (let i = n - 1; i >= 0; i--) {
          const frame = page.frameLocator('iframe.webview.ready').nth(i).frameLocator('#active-frame');
          if (!selector) {
            if ((await frame.locator('body').count()) > 0) return frame;
            continue;
          }
          if ((await frame.locator(selector).count().catch(() => 0)) > 0) {
            // Pin the frame by its webview id: positions shift as other webviews come and go.
            const id = await outer.nth(i).getAttribute('name').catch(() => null);
            return id ? page.frameLocator(`iframe.webview.ready[name="${cssString(id)}"]`).frameLocator('#active-frame') : frame;
          }
        }
        if (Date.now() > deadline) {
          throw new Error(`no webview shows ${selector ?? 'anything'} after ${timeoutMs / 1000} s (${n} webviews ready)`);
        }
        await sleep(300);
      }
    },

    async explorerContextMenu(name: string, item: string) {
      await page.locator('.part.sidebar').first().waitFor({ timeout: 30_000 }).catch(() => {});
      const explorerRow = page.locator('.explorer-folders-view .monaco-list-row').filter({
        has: page.locator('.label-name', { hasText: new RegExp(`^${escapeRegExp(name)}$`) }),
      });
      if (!(await explorerRow.first().isVisible().catch(() => false))) {
        // Show the explorer (Ctrl+Shift+E) if another view is in front.
        await page.keyboard.press('Control+Shift+E');
      }
      await explorerRow.first().waitFor({ state: 'visible', timeout: 30_000 });
      await pickFromContextMenu(explorerRow.first(), item);
    },

    async editorContextMenu(item: string) {
      const editor = page.locator('.editor-group-container.active .monaco-editor .view-lines').first();
      await editor.waitFor({ state: 'visible', timeout: 30_000 });
      // Right-click on the selection (the first selected line) so the selection survives.
      const selected = page.locator('.editor-group-container.active .monaco-editor .selected-text').first();
      const target = (await selected.isVisible().catch(() => false)) ? selected : editor;
      await pickFromContextMenu(target, item);
    },

    async selectText(text: string) {
      const editor = page.locator('.editor-group-container.active .monaco-editor .view-lines').first();
      await editor.waitFor({ state: 'visible', timeout: 30_000 });
      await editor.click();
      await page.keyboard.press('Control+Home');
      await page.keyboard.press('Control+F');
      const findInput = page.locator('.editor-group-container.active .find-widget textarea, .editor-group-container.active .find-widget input').first();
      await findInput.waitFor({ state: 'visible', timeout: 10_000 });
      await findInput.fill(text);
      const matches = page.locator('.editor-group-container.active .find-widget .matchesCount');
      await expectText(matches, (t) => /^1 of \d+/.test(t.trim()), 10_000, `find "${text}" in the editor`);
      await page.keyboard.press('Escape'); // closes Find; the match stays selected
      await page.locator('.editor-group-container.active .monaco-editor .selected-text').first().waitFor({ timeout: 5_000 });
    },

    async pickQuickItem(label: string, timeoutMs = 30_000) {
      await quickInput.waitFor({ state: 'visible', timeout: timeoutMs });
      await quickInputBox.fill(label);
      const row = quickInput.locator('.quick-input-list .monaco-list-row').filter({ hasText: label }).first();
      await row.waitFor({ state: 'visible', timeout: 15_000 });
      await row.click();
      await quickInput.waitFor({ state: 'hidden', timeout: 10_000 }).catch(() => {});
    },

    async closeAllEditors() {
      await vsc.runCommand('View: Close All Editors');
      await page.locator('.tabs-container .tab').first().waitFor({ state: 'detached', timeout: 15_000 }).catch(() => {});
    },

    async selectLines(from: number, to: number) {
      const editor = page.locator('.editor-group-container.active .monaco-editor .view-lines').first();
      await editor.waitFor({ state: 'visible', timeout: 30_000 });
      await editor.click();
      await page.keyboard.press('Control+G');
      await page.keyboard.type(String(from));
      await page.keyboard.press('Enter');
      await page.keyboard.press('Home');
      await page.keyboard.press('Home'); // twice: the first goes to the first non-blank character
      for (let l = from; l <= to; l++) await page.keyboard.press('Shift+ArrowDown');
    },

    async hoverEditorText(text: string, timeoutMs = 30_000) {
      const editor = page.locator('.editor-group-container.active .monaco-editor').first();
      await editor.waitFor({ state: 'visible', timeout: 30_000 });
      const hoverBox = page.locator('.monaco-hover:not(.hidden) .monaco-hover-content');
      const deadline = Date.now() + timeoutMs;
      let lastSeen = '';
      for (;;) {
        const box = await editor.locator('.view-lines').evaluate((linesEl, wanted) => {
          // Find the text node holding `wanted` and return the screen box of its middle character.
          const walker = document.createTreeWalker(linesEl, NodeFilter.SHOW_TEXT);
          for (let n = walker.nextNode(); n; n = walker.nextNode()) {
            const t = (n.textContent ?? '').replace(/\u00a0/g, ' ');
            const at = t.indexOf(wanted);
            if (at < 0) continue;
            const range = document.createRange();
            const mid = at + Math.floor(wanted.length / 2);
            range.setStart(n, mid);
            range.setEnd(n, mid + 1);
            const r = range.getBoundingClientRect();
            return { x: r.x + r.width / 2, y: r.y + r.height / 2 };
          }
          return null;
        }, text);
        if (box) {
          await page.mouse.move(box.x - 30, box.y);
          await page.mouse.move(box.x, box.y, { steps: 4 });
          const shown = await hoverBox
            .first()
            .waitFor({ state: 'visible', timeout: 4_000 })
            .then(
              () => true,
              () => false,
            );
          if (shown) {
            // Hovers may resolve in parts (a "Loading..." first): wait for the text to settle.
            let prev = '';
            for (let i = 0; i < 10; i++) {
              const now = (await hoverBox.allInnerTexts()).join('\n').trim();
              if (now && now === prev && !/^Loading/.test(now)) return now;
              prev = now;
              await sleep(300);
            }
            lastSeen = prev;
            if (prev && !/^Loading/.test(prev)) return prev;
          }
        }
        if (Date.now() > deadline) {
          throw new Error(
            box ? `no hover appeared over "${text}" (last: ${JSON.stringify(lastSeen)})` : `"${text}" is not visible in the editor`,
          );
        }
        await page.mouse.move(5, 5);
        await sleep(500);
      }
    },

    async hover(target: Locator, tooltip: Locator, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        await target.scrollIntoViewIfNeeded().catch(() => {});
        const box = await target.boundingBox();
        await target.hover({ timeout: 10_000 });
        if (box) await page.mouse.move(box.x + box.width / 2 + 1, box.y + box.height / 2, { steps: 3 }).catch(() => {});
        const visible = await tooltip
          .first()
          .waitFor({ state: 'visible', timeout: 3_000 })
          .then(
            () => true,
            () => false,
          );
        if (visible) return tooltip.first();
        if (Date.now() > deadline) throw new Error('no tooltip appeared on hover');
        await page.mouse.move(0, 0);
        await sleep(300);
      }
    },

    async screenshot(name: string) {
      mkdirSync(screenshotDir, { recursive: true });
      const path = join(screenshotDir, `${name.replace(/[^\w.-]+/g, '_')}.png`);
      await page.screenshot({ path });
      return path;
    },

    async describeScreen() {
      const parts: string[] = [];
      try {
        const tabs = await page.locator('.tabs-container .tab').evaluateAll((els) =>
          els.map((e) => (e.getAttribute('aria-label') ?? e.textContent ?? '').trim()),
        );
        parts.push(`editor tabs: ${JSON.stringify(tabs)}`);
        const notes = await page
          .locator('.notifications-toasts .notification-list-item, .notification-toast')
          .evaluateAll((els) => els.map((e) => (e.textContent ?? '').trim()));
        parts.push(`notifications: ${JSON.stringify(notes)}`);
        const editorText = await page
          .locator('.editor-group-container.active .editor-container')
          .first()
          .innerText({ timeout: 2_000 })
          .catch(() => '');
        parts.push(`active editor text: ${clip(editorText, 1500)}`);
        const n = await page.locator('iframe.webview.ready').count();
        for (let i = 0; i < n; i++) {
          const body = page.frameLocator('iframe.webview.ready').nth(i).frameLocator('#active-frame').locator('body');
          const text = await body.innerText({ timeout: 2_000 }).catch((e: Error) => `(unreadable: ${e.message.split('\n')[0]})`);
          parts.push(`webview ${i}: ${clip(text, 2000)}`);
        }
        const panel = await page.locator('.part.panel').first().innerText({ timeout: 1_000 }).catch(() => '');
        if (panel) parts.push(`panel: ${clip(panel, 1500)}`);
      } catch (err) {
        parts.push(`(could not read the screen: ${(err as Error).message})`);
      }
      const errors = consoleLines.filter((l) => /^\[(error|pageerror)\]/.test(l)).slice(-15);
      if (errors.length) parts.push(`page console errors:\n  ${errors.join('\n  ')}`);
      parts.push(`code-server log tail:\n${tail(server.logFile, 15)}`);
      const exthost = findExtHostLog(server.runDir);
      if (exthost) parts.push(`extension host log tail:\n${tail(exthost, 25)}`);
      return parts.join('\n');
    },

    async stop() {
      if (stopped) return;
      stopped = true;
      await browser.close().catch(() => {});
      await server.kill();
    },
  };
  return vsc;
}

/** Waits until `locator`'s text satisfies `ok`. */
export async function expectText(locator: Locator, ok: (text: string) => boolean, timeoutMs: number, what: string): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    last = await locator.first().innerText({ timeout: 2_000 }).catch(() => last);
    if (ok(last)) return last;
    if (Date.now() > deadline) throw new Error(`${what}: text is ${JSON.stringify(last)}`);
    await sleep(200);
  }
}

function clip(s: string, n: number): string {
  const t = s.replace(/\n{2,}/g, '\n').trim();
  return t.length > n ? `${t.slice(0, n)}…` : t;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function cssString(s: string): string {
  return s.replace(/["\\]/g, '\\$&');
}

/** The newest exthost.log under the run's user-data logs (VS Code writes one per window). */
function findExtHostLog(runDir: string): string | null {
  let best: { path: string; mtime: number } | null = null;
  const walk = (dir: string, depth: number) => {
    if (depth > 6) return;
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const n of names) {
      const p = join(dir, n);
      let st;
      try {
        st = statSync(p);
      } catch {
        continue;
      }
      if (st.isDirectory()) walk(p, depth + 1);
      else if (n === 'exthost.log' && (!best || st.mtimeMs > best.mtime)) best = { path: p, mtime: st.mtimeMs };
    }
  };
  walk(join(runDir, 'user-data', 'logs'), 0);
  return best ? (best as { path: string }).path : null;
}

/**
 * Runs `body` and, if it throws, rethrows with what was on screen appended and a screenshot saved as
 * `<name>-failure.png`. Use it around each test step so a red test says what the user would have seen.
 */
export async function withScreenOnFailure<T>(vsc: VSCode, name: string, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (err) {
    const shot = await vsc.screenshot(`${name}-failure`).catch(() => '(no screenshot)');
    const screen = await vsc.describeScreen();
    // A new Error: reporters print the stack, which holds the message as it was when the error was made.
    const e = err as Error;
    throw new Error(`${e.message}\n--- on screen (screenshot ${shot}) ---\n${screen}`, { cause: err });
  }
}
