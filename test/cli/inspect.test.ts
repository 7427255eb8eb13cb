/**
 * The real command line: `npm run build`, then `node bin/keras-lens.js inspect ...` in a child process.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatReport } from '../../src/cli/inspect';

const DL4J = '../shared/keras-reference/dl4j';

function cli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['bin/keras-lens.js', ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A failure is exit 1 and exactly one stderr line `keras-lens: ...`, no stack trace, nothing on stdout. */
function assertOneLineFailure(r: ReturnType<typeof cli>, mustMention: string): void {
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.stdout, '');
  const lines = r.stderr.split('\n').filter((l) => l.length > 0);
  assert.equal(lines.length, 1, `one stderr line, got: ${r.stderr}`);
  assert.ok(lines[0].startsWith('keras-lens: '), lines[0]);
  assert.ok(lines[0].includes(mustMention), `'${lines[0]}' should name ${mustMention}`);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
}

let tmp = '';
before(() => {
  const build = spawnSync(process.execPath, ['scripts/build.mjs'], { encoding: 'utf8' });
  assert.equal(build.status, 0, build.stderr);
  tmp = mkdtempSync(join(tmpdir(), 'keras-lens-cli-'));
});

test('inspect --json prints exactly one JSON object: the report', () => {
  const r = cli('inspect', `${DL4J}/examples/functional_lstm/lstm_functional_tf_keras_2.h5`, '--json');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.equal(r.stdout.trim().split('\n').length, 1);
  const report = JSON.parse(r.stdout);
  assert.equal(typeof report, 'object');
  assert.equal(report.kerasVersion, '2.0.8');
  assert.equal(report.backend, 'tensorflow');
  // inputLayer_1 (10, 4) → LSTM(8) → Dense(5): 4·32 + 8·32 + 32 + 8·5 + 5 parameters (MANIFEST architecture).
  assert.equal(report.totalParams, 4 * 32 + 8 * 32 + 32 + 8 * 5 + 5);
  assert.deepEqual(
    report.layers.map((l: { name: string; className: string }) => [l.name, l.className]),
    [
      ['inputLayer_1', 'InputLayer'],
      ['lstm', 'LSTM'],
      ['outputLayer_a', 'Dense'],
    ],
  );
  const kernel = report.layers[1].weights[0];
  assert.equal(kernel.name, 'lstm/kernel:0');
  assert.equal(kernel.role, 'kernel');
  assert.deepEqual(kernel.shape, [4, 32]);
  assert.deepEqual(
    kernel.blocks.map((b: { label: string; start: number; end: number }) => [b.label, b.start, b.end]),
    [
      ['i', 0, 8],
      ['f', 8, 16],
      ['c', 16, 24],
      ['o', 24, 32],
    ],
  );
  assert.deepEqual(report.layers[2].weights[0].rows.map((s: { source: string }) => s.source), ['lstm']);
});

test('inspect without --json prints a table per layer with blocks and parameter counts', () => {
  const r = cli('inspect', `${DL4J}/examples/simple_lstm/simple_lstm_tf_keras_1_model.h5`);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Keras 1\.2\.2/);
  assert.match(r.stdout, /^lstm_1 +LSTM .*params 10,400$/m);
  assert.match(r.stdout, /^dense_1 +Dense .*params 51$/m);
  assert.match(r.stdout, /lstm_1_W_f:0 +\(1, 50\) +50 /);
  assert.match(r.stdout, /blocks: f \[0,50\)/);
  assert.match(r.stdout, /10,451 parameters/);
});

test('inspect a weights-only file with --config ARCH.json uses the architecture', async () => {
  // The architecture is the model file's own model_config attribute (what model.to_json() gives).
  const h5wasm = await import('h5wasm/node');
  await h5wasm.ready;
  const f = new h5wasm.File(`${DL4J}/examples/simple_lstm/simple_lstm_tf_keras_2_model.h5`, 'r');
  const arch = String(f.attrs['model_config'].value);
  f.close();
  const archPath = join(tmp, 'arch.json');
  writeFileSync(archPath, arch);
  const weights = `${DL4J}/examples/simple_lstm/simple_lstm_tf_keras_2_weights.h5`;
  const withConfig = JSON.parse(cli('inspect', weights, '--config', archPath, '--json').stdout);
  assert.equal(withConfig.weightsOnly, false);
  const lstm = withConfig.layers.find((l: { name: string }) => l.name === 'lstm_1');
  assert.equal(lstm.classGuessed, undefined);
  assert.deepEqual(lstm.outputShape, [25, 50]);
  const without = JSON.parse(cli('inspect', weights, '--json').stdout);
  assert.equal(without.weightsOnly, true);
  assert.equal(without.layers.find((l: { name: string }) => l.name === 'lstm_1').classGuessed, true);
  assert.equal(without.totalParams, withConfig.totalParams);
  assert.equal(readFileSync(archPath, 'utf8'), arch);
});

test('a missing file: exit 1, one line naming it', () => {
  assertOneLineFailure(cli('inspect', join(tmp, 'missing.h5'), '--json'), 'missing.h5');
});

test('an HDF5 file that is not a model, a truncated model and random bytes: exit 1, one line naming the file', () => {
  assertOneLineFailure(
    cli('inspect', `${DL4J}/examples/simple_rnn/simple_rnn_tf_keras_2_inputs_and_outputs.h5`, '--json'),
    'simple_rnn_tf_keras_2_inputs_and_outputs.h5',
  );
  const truncated = join(tmp, 'truncated.h5');
  writeFileSync(truncated, readFileSync(`${DL4J}/examples/functional_lstm/lstm_functional_tf_keras_2.h5`).subarray(0, 3000));
  assertOneLineFailure(cli('inspect', truncated), 'truncated.h5');
  const junk = join(tmp, 'junk.keras');
  writeFileSync(junk, Buffer.from(Array.from({ length: 4096 }, (_, k) => (k * 7919 + 13) % 256)));
  assertOneLineFailure(cli('inspect', junk, '--json'), 'junk.keras');
});

test('usage mistakes: exit 1 with one line', () => {
  assertOneLineFailure(cli('inspect'), 'no model file');
  assertOneLineFailure(cli('inspect', 'a.h5', '--bogus'), '--bogus');
  assertOneLineFailure(cli('inspect', 'a.h5', '--config'), '--config');
});

test('the table shows control characters from names as \\xNN, never raw', () => {
  const text = formatReport({
    source: 'm.h5',
    format: 'keras2-h5',
    kerasVersion: '2.2.4',
    weightsOnly: false,
    totalParams: 0,
    layers: [{ name: 'evil\u001b[31mred\u0007', className: 'Dense', params: 0, weights: [] }],
  });
  assert.ok(!/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/.test(text));
  assert.match(text, /evil\\x1b\[31mred\\x07/);
});
