// Records what `keras-lens inspect` and `keras-lens predict` print for every model in a folder of examples and in
// ../shared/keras-reference, one file per command (stdout, stderr and exit code), so that two builds can be compared
// byte for byte with `diff -r`. Used to prove a refactor changed no output (issue 8).
//
// Usage: npm run build && node scripts/cli-snapshot.mjs OUT_DIR [EXAMPLES_DIR]
//   EXAMPLES_DIR defaults to a fresh `scripts/examples.ts` run into a temporary folder.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';

const [out, examplesArg] = process.argv.slice(2);
if (!out) {
  console.error('usage: node scripts/cli-snapshot.mjs OUT_DIR [EXAMPLES_DIR]');
  process.exit(2);
}
let examples = examplesArg;
if (!examples) {
  examples = mkdtempSync(join(tmpdir(), 'kl-examples-'));
  execFileSync(process.execPath, ['--import', 'tsx', 'scripts/examples.ts', examples], { stdio: 'ignore' });
}
const reference = '../shared/keras-reference';

function walk(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}
const isModel = (p) => /\.(h5|hdf5|keras)$/.test(p) || (/model\.json$/.test(p) && !p.includes('keras3'));

const jobs = [];
function add(label, args) {
  jobs.push({ label: label.replace(/[\/]/g, '__'), args });
}
for (const p of walk(examples).sort()) {
  if (!isModel(p)) continue;
  add(`examples/${basename(p)}.inspect`, ['inspect', p]);
  add(`examples/${basename(p)}.inspect-json`, ['inspect', p, '--json']);
  const input = p.replace(/\.(h5|hdf5|keras)$/, '.input.json');
  if (existsSync(input)) {
    add(`examples/${basename(p)}.predict`, ['predict', p, input]);
    add(`examples/${basename(p)}.predict-json`, ['predict', p, input, '--json']);
    add(`examples/${basename(p)}.predict-trace`, ['predict', p, input, '--trace', '--json']);
  }
}
for (const p of walk(reference).sort()) {
  if (!isModel(p)) continue;
  const rel = relative(reference, p);
  const config = p.endsWith('.weights.h5') && existsSync(join(dirname(p), 'model.json')) ? ['--config', join(dirname(p), 'model.json')] : [];
  add(`ref/${rel}.inspect`, ['inspect', p, ...config]);
  add(`ref/${rel}.inspect-json`, ['inspect', p, '--json', ...config]);
  const input = join(dirname(p), 'input.json');
  if (p.includes('keras3') && existsSync(input)) {
    add(`ref/${rel}.predict-json`, ['predict', p, input, '--json', ...config]);
    add(`ref/${rel}.predict-trace`, ['predict', p, input, '--trace', '--json', ...config]);
  }
}

mkdirSync(out, { recursive: true });
function run(job) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/keras-lens.js', ...job.args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const so = [];
    const se = [];
    child.stdout.on('data', (d) => so.push(d));
    child.stderr.on('data', (d) => se.push(d));
    child.on('close', (code) => {
      // Paths differ between runs only through the examples folder; print them relative to it.
      const text = (b) => Buffer.concat(b).toString('utf8').split(examples).join('<examples>');
      writeFileSync(join(out, job.label), `exit ${code}\n--- stdout\n${text(so)}\n--- stderr\n${text(se)}`);
      resolve();
    });
  });
}
const queue = [...jobs];
await Promise.all(
  [0, 1].map(async () => {
    while (queue.length) await run(queue.shift());
  }),
);
console.log(`${jobs.length} commands recorded in ${out}`);
