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
import { describeScreen, tail } from './diagnostics';
import { editorContextMenu, explorerContextMenu, openFile, pickQuickItem, runCommand } from './menus';
import { hoverEditorText, selectLines, selectText } from './editor';
import { hoverForTooltip, webviewFrame } from './webviews';
import { sleep } from './wait';

export { expectText, sleep } from './wait';

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

/** The VSCode handle: the page plus the user actions of menus.ts, editor.ts, webviews.ts and diagnostics.ts. */
function makeVSCode(
  server: CodeServer,
  browser: Browser,
  context: BrowserContext,
  page: Page,
  workspace: string,
  consoleLines: string[],
): VSCode {
  let stopped = false;
  const vsc: VSCode = {
    server,
    browser,
    context,
    page,
    workspace,
    consoleLines,
    openFile: (name) => openFile(page, name),
    runCommand: (title) => runCommand(page, title),
    webviewFrame: (selector, timeoutMs) => webviewFrame(page, selector, timeoutMs),
    explorerContextMenu: (name, item) => explorerContextMenu(page, name, item),
    editorContextMenu: (item) => editorContextMenu(page, item),
    selectText: (text) => selectText(page, text),
    pickQuickItem: (label, timeoutMs) => pickQuickItem(page, label, timeoutMs),
    async closeAllEditors() {
      await runCommand(page, 'View: Close All Editors');
      await page.locator('.tabs-container .tab').first().waitFor({ state: 'detached', timeout: 15_000 }).catch(() => {});
    },
    selectLines: (from, to) => selectLines(page, from, to),
    hoverEditorText: (text, timeoutMs) => hoverEditorText(page, text, timeoutMs),
    hover: (target, tooltip, timeoutMs) => hoverForTooltip(page, target, tooltip, timeoutMs),
    async screenshot(name: string) {
      mkdirSync(screenshotDir, { recursive: true });
      const path = join(screenshotDir, `${name.replace(/[^\w.-]+/g, '_')}.png`);
      await page.screenshot({ path });
      return path;
    },
    describeScreen: () => describeScreen(page, server, consoleLines),
    async stop() {
      if (stopped) return;
      stopped = true;
      await browser.close().catch(() => {});
      await server.kill();
    },
  };
  return vsc;
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
