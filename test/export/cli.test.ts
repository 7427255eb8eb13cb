/**
 * `keras-lens export` through the real CLI (bin/keras-lens.js → dist, rebuilt when older than the sources): the
 * folder rules (absent or empty: written; not empty: refused unless --force; unwritable: one line; nothing partial
 * left behind; a folder holding the model refused even with --force), an unsupported layer refused in one line that
 * names the layer and the language with nothing written, and the model file byte-identical afterwards.
 * Source of truth: the rules in issue 10 and the files on disk.
 */
import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtureModels } from '../fixtures/models';
import { writeKeras2H5 } from '../fixtures/writers';

const PROJECT = join(__dirname, '../..');
const UNSUPPORTED = join(PROJECT, '../shared/keras-reference/keras3/lstm_mha_layernorm/model.keras');
let dir = '';
let model = '';
let modelBytes: Buffer;

function newestMtime(d: string): number {
  let newest = 0;
  for (const e of readdirSync(d, { withFileTypes: true })) {
    const p = join(d, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [join(PROJECT, 'bin/keras-lens.js'), 'export', ...args], { encoding: 'utf8', timeout: 60000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function oneLine(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => l.length > 0);
  assert.equal(lines.length, 1, `exactly one stderr line, got: ${stderr}`);
  assert.match(lines[0], /^keras-lens: /);
  assert.doesNotMatch(lines[0], /\bat .*\.(js|ts):\d+/);
  return lines[0];
}

before(async () => {
  const cliJs = join(PROJECT, 'dist/cli-worker.js');
  if (!existsSync(cliJs) || statSync(cliJs).mtimeMs < newestMtime(join(PROJECT, 'src'))) {
    const r = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: PROJECT, encoding: 'utf8' });
    assert.equal(r.status, 0, `build failed: ${r.stderr}`);
  }
  dir = mkdtempSync(join(tmpdir(), 'keras-lens-export-cli-'));
  model = join(dir, 'lstm.h5');
  const m = fixtureModels().find((f) => f.id === 'lstm')!;
  await writeKeras2H5(model, { modelConfig: m.keras2Config, layers: m.layers });
  modelBytes = readFileSync(model);
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('export CLI: writes a new folder; a non-empty folder is refused without --force and replaced with it', () => {
  const out = join(dir, 'out');
  const r = cli(model, '--lang', 'js', '--out', out);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /exported 2 layers/);
  assert.deepEqual(readdirSync(out).sort(), ['README.md', 'golden.json', 'main.mjs', 'model.d.ts', 'model.mjs', 'run']);
  assert.ok((statSync(join(out, 'run')).mode & 0o111) !== 0, 'run is executable');
  const again = cli(model, '--lang', 'c', '--out', out);
  assert.equal(again.code, 1);
  assert.match(oneLine(again.stderr), /is not empty .*--force/);
  assert.ok(existsSync(join(out, 'model.mjs')), 'the old export is untouched');
  const forced = cli(model, '--lang', 'c', '--out', out, '--force');
  assert.equal(forced.code, 0, forced.stderr);
  assert.ok(existsSync(join(out, 'model.c')) && !existsSync(join(out, 'model.mjs')), 'replaced, old files gone');
  assert.deepEqual(readdirSync(dir).filter((n) => n.includes('keras-lens-')), [], 'no temporary folders left');
  assert.deepEqual(readFileSync(model), modelBytes, 'the model file is unchanged');
});

test('export CLI: an empty folder is used; an unwritable place gives one line and leaves nothing', () => {
  const empty = join(dir, 'empty');
  mkdirSync(empty);
  assert.equal(cli(model, '--lang', 'numpy', '--out', empty).code, 0);
  assert.ok(existsSync(join(empty, 'model.py')));
  const file = join(dir, 'a-file');
  writeFileSync(file, 'x');
  const r = cli(model, '--lang', 'numpy', '--out', join(file, 'sub'));
  assert.equal(r.code, 1);
  assert.match(oneLine(r.stderr), /cannot write here \(ENOTDIR\)/);
  const before = readdirSync(dir).sort();
  assert.deepEqual(readdirSync(dir).sort(), before);
});

test('export CLI: --force never replaces a folder holding the model; bad --lang is one line', () => {
  const holder = join(dir, 'holder');
  mkdirSync(holder);
  const inside = join(holder, 'm.h5');
  copyFileSync(model, inside);
  const r = cli(inside, '--lang', 'numpy', '--out', holder, '--force');
  assert.equal(r.code, 1);
  assert.match(oneLine(r.stderr), /holds m\.h5, which export reads/);
  assert.ok(existsSync(inside));
  const bad = cli(model, '--lang', 'cobol', '--out', join(dir, 'x'));
  assert.equal(bad.code, 1);
  assert.match(oneLine(bad.stderr), /--lang must be one of numpy, js, c, java, pytorch/);
  assert.ok(!existsSync(join(dir, 'x')));
});

test('export CLI: an unsupported layer is refused in one line naming it and the language; nothing is written', (t) => {
  if (!existsSync(UNSUPPORTED)) {
    t.skip('../shared/keras-reference/keras3 is not here');
    return;
  }
  const out = join(dir, 'mha');
  const r = cli(UNSUPPORTED, '--lang', 'java', '--out', out);
  assert.equal(r.code, 1);
  assert.match(oneLine(r.stderr), /cannot export layer '[^']+' \(MultiHeadAttention\) to java: /);
  assert.ok(!existsSync(out), 'nothing written');
  assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith('.mha')), []);
});
