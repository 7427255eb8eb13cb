// `npm start` (after `npm run build`): a real VS Code (code-server 4.100.3) with Keras Lens installed, opened on
// the examples/ folder, served on 127.0.0.1. Prints the URL and runs until Ctrl+C.
//
//   node scripts/start.mjs [--port N] [--smoke]
//
// --smoke (or CI=true): start, check that the server answers with the workbench page, stop, exit 0.
// First run installs code-server and Chromium's Debian packages via scripts/e2e/setup.sh (about 2 minutes).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/cjs/api';
import { createRequire } from 'node:module';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);

const argv = process.argv.slice(2);
const ci = !!process.env.CI && process.env.CI !== 'false';
const smoke = argv.includes('--smoke') || ci;
const portArg = argv.indexOf('--port');
const requestedPort = portArg >= 0 ? Number(argv[portArg + 1]) : process.env.PORT ? Number(process.env.PORT) : undefined;

function say(line) {
  process.stdout.write(`[keras-lens start] ${line}\n`);
}
function fail(line) {
  process.stderr.write(`[keras-lens start] ${line}\n`);
  process.exit(1);
}

// The harness is TypeScript (shared with the E2E tests): load it through tsx's CommonJS hook.
register();
const harness = createRequire(import.meta.url)('./e2e/harness.ts');

if (!existsSync(join(root, 'dist', 'extension.js'))) {
  fail('dist/extension.js is missing: run `npm run build` first (npm start does)');
}

if (!harness.codeServerInstalled()) {
  say('code-server is not installed yet: running scripts/e2e/setup.sh');
  const r = spawnSync('bash', ['scripts/e2e/setup.sh'], { stdio: 'inherit' });
  if (r.status !== 0) fail('setup failed (see above)');
}

const examples = join(root, 'examples');
say('writing example models into examples/');
const gen = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/examples.ts', examples], { stdio: 'inherit' });
if (gen.status !== 0) fail('could not write the examples (see above)');

let port = requestedPort;
if (port === undefined && !smoke) {
  // A stable, memorable port when it is free; any free one otherwise.
  port = (await portIsFree(8080)) ? 8080 : undefined;
}
const server = await harness.startCodeServer({ workspace: examples, runDir: harness.newRunDir('start'), port });
const url = `${server.url}?folder=${encodeURIComponent(examples)}`;

let stopping = false;
async function stop(code) {
  if (stopping) return;
  stopping = true;
  await server.kill();
  process.exit(code);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
process.on('SIGHUP', () => void stop(0));
server.process.on('exit', (code) => {
  if (!stopping) {
    process.stderr.write(`[keras-lens start] code-server stopped (exit ${code}); log: ${server.logFile}\n`);
    void stop(1);
  }
});

if (smoke) {
  try {
    const res = await fetch(url);
    const html = await res.text();
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    if (!/vscode|workbench/i.test(html)) throw new Error('the page is not the VS Code workbench');
    say(`smoke check passed: ${url} answers with the VS Code workbench (HTTP ${res.status}, ${html.length} bytes)`);
    await stop(0);
  } catch (e) {
    process.stderr.write(`[keras-lens start] smoke check failed: ${e.message}; log: ${server.logFile}\n`);
    await stop(1);
  }
} else {
  say('');
  say(`Keras Lens is running in VS Code at:  ${url}`);
  say('');
  say('Open it in a browser on this machine. The examples/ folder holds models (.h5, .keras) to open,');
  say('input .json files to right-click > Predict, and weights.py to hover over weight names.');
  say('Press Ctrl+C to stop.');
}

function portIsFree(p) {
  return import('node:net').then(
    ({ createServer }) =>
      new Promise((ok) => {
        const s = createServer();
        s.once('error', () => ok(false));
        s.listen(p, '127.0.0.1', () => s.close(() => ok(true)));
      }),
  );
}
