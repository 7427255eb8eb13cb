/**
 * `keras-lens predict` end to end: the bundled CLI (dist/cli.js via bin/keras-lens.js, rebuilt when older than the
 * sources) on dl4j reference models, compared with the predictions and activations Keras stored.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureCliBuilt, PROJECT, runCli } from '../fixtures/cli';

const EXAMPLES = join(PROJECT, '../shared/keras-reference/dl4j/examples');
const RTOL = 1e-5;
const ATOL = 1e-6;

let work: string;

before(() => {
  ensureCliBuilt();
  work = mkdtempSync(join(tmpdir(), 'keras-lens-cli-'));
  process.on('exit', () => rmSync(work, { recursive: true, force: true }));
});

function cli(...args: string[]) {
  const r = runCli(...args);
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function readDataset(path: string, name: string): Promise<{ shape: number[]; data: number[] }> {
  const h5wasm = await import('h5wasm/node');
  await h5wasm.ready;
  const f = new h5wasm.File(path, 'r');
  try {
    const ds = f.get(name) as { shape: number[]; value: ArrayLike<number> };
    return { shape: ds.shape, data: Array.from(ds.value) };
  } finally {
    f.close();
  }
}

function nested(shape: number[], data: number[]): unknown {
  if (shape.length === 1) return data.slice(0, shape[0]);
  const stride = data.length / shape[0];
  return Array.from({ length: shape[0] }, (_, i) => nested(shape.slice(1), data.slice(i * stride, (i + 1) * stride)));
}

function assertClose(ours: number[], keras: number[], what: string) {
  assert.equal(ours.length, keras.length, `${what}: ${ours.length} values vs ${keras.length}`);
  keras.forEach((k, i) => assert.ok(Math.abs(ours[i] - k) <= ATOL + RTOL * Math.abs(k), `${what}[${i}]: ${ours[i]} vs Keras ${k}`));
}

test('predict --json reproduces the Keras predictions of the dl4j SimpleRNN model (25 samples)', async () => {
  const data = join(EXAMPLES, 'simple_rnn/simple_rnn_tf_keras_2_inputs_and_outputs.h5');
  const x = await readDataset(data, 'inputs/simple_rnn_1_input');
  const expected = await readDataset(data, 'predictions/dense_1');
  const input = join(work, 'rnn-input.json');
  writeFileSync(input, JSON.stringify(nested(x.shape, x.data)));
  const r = cli('predict', join(EXAMPLES, 'simple_rnn/simple_rnn_tf_keras_2_model.h5'), input, '--json');
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { outputs: number[][][]; outputNames: string[]; trace?: unknown };
  assert.deepEqual(out.outputNames, ['dense_1']);
  assert.equal(out.trace, undefined);
  assert.equal(out.outputs[0].length, 25, 'batch axis kept');
  assertClose(out.outputs[0].flat(), expected.data, 'predictions/dense_1');
});

test('predict --trace --json: the Keras 1.2.2 LSTM trace has gates i,f,c,o per step and its hidden state is activations/lstm_1', async () => {
  const data = join(EXAMPLES, 'simple_lstm/simple_lstm_tf_keras_1_inputs_and_outputs.h5');
  const x = await readDataset(data, 'inputs/lstm_input_1');
  const act = await readDataset(data, 'activations/lstm_1');
  const n = 5; // first 5 samples
  const input = join(work, 'lstm-input.json');
  writeFileSync(input, JSON.stringify(nested([n, 1, 1], x.data.slice(0, n))));
  const r = cli('predict', join(EXAMPLES, 'simple_lstm/simple_lstm_tf_keras_1_model.h5'), input, '--trace', '--json');
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as {
    trace: { layer: string; gates: string[]; steps: number; gateValues: Record<string, number[][][]>; cell: number[][][]; hidden: number[][][] }[];
  };
  assert.equal(out.trace.length, 1);
  const tr = out.trace[0];
  assert.equal(tr.layer, 'lstm_1');
  assert.deepEqual(tr.gates, ['i', 'f', 'c', 'o']);
  assert.equal(tr.steps, 1);
  for (const g of tr.gates) assert.deepEqual([tr.gateValues[g].length, tr.gateValues[g][0].length, tr.gateValues[g][0][0].length], [1, n, 50]);
  assert.equal(tr.cell.length, 1);
  assertClose(tr.hidden[0].flat(), act.data.slice(0, n * 50), 'activations/lstm_1');
});

test('predict without --json prints a table naming each output and its shape', async () => {
  const input = join(work, 'one-sample.json');
  writeFileSync(input, '[[0.5]]'); // one sample without the batch axis: (1, 1) for input (None, 1, 1)
  const r = cli('predict', join(EXAMPLES, 'simple_lstm/simple_lstm_th_keras_1_model.h5'), input);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^dense_1 {2}shape \(1, 1\)\n {2}\[0\] {2}-?\d/);
});

test('predict errors: exit 1 with one line "keras-lens: <file>: <problem>" and no stack trace', () => {
  const bad = join(work, 'bad.json');
  writeFileSync(bad, '[[1, 2, 3]]');
  const model = join(EXAMPLES, 'simple_rnn/simple_rnn_tf_keras_2_model.h5');
  const cases: [string[], RegExp][] = [
    [['predict', model, bad], /^keras-lens: .*bad\.json: the input has shape \(1, 3\) but input '.*' expects \((None|25), 1, 1\)/],
    [['predict', model, join(work, 'missing.json')], /^keras-lens: .*missing\.json: cannot read the input file \(ENOENT\)/],
    [['predict', join(work, 'nope.h5'), bad], /^keras-lens: .*nope\.h5/],
    [['predict', model], /^keras-lens: predict needs a model file and an input JSON file/],
    [['predict', model, bad, '--frobnicate'], /^keras-lens: unknown option '--frobnicate'/],
  ];
  for (const [args, pattern] of cases) {
    const r = cli(...args);
    assert.equal(r.code, 1, `${args.join(' ')}: exit code`);
    assert.equal(r.stdout, '');
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, `${args.join(' ')}: one line, got ${JSON.stringify(r.stderr)}`);
    assert.match(lines[0], pattern);
  }
});

test('predict --config joins a weights-only file to its architecture JSON', async () => {
  const data = join(EXAMPLES, 'simple_flatten_rnn/simple_flatten_rnn_tf_keras_2_inputs_and_outputs.h5');
  const x = await readDataset(data, 'inputs/simple_rnn_1_input');
  const expected = await readDataset(data, 'predictions/dense_1');
  const h5wasm = await import('h5wasm/node');
  await h5wasm.ready;
  const f = new h5wasm.File(join(EXAMPLES, 'simple_flatten_rnn/simple_flatten_rnn_tf_keras_2_model.h5'), 'r');
  const arch = String((f.attrs as Record<string, { value: unknown }>).model_config.value);
  f.close();
  const archPath = join(work, 'flatten-rnn-arch.json');
  writeFileSync(archPath, arch);
  const input = join(work, 'flatten-rnn-input.json');
  writeFileSync(input, JSON.stringify(nested(x.shape, x.data)));
  const weights = join(EXAMPLES, 'simple_flatten_rnn/simple_flatten_rnn_tf_keras_2_weights.h5');
  const r = cli('predict', weights, input, '--config', archPath, '--json');
  assert.equal(r.code, 0, r.stderr);
  assertClose((JSON.parse(r.stdout) as { outputs: number[][][] }).outputs[0].flat(), expected.data, 'predictions/dense_1');
  // without the architecture: one clear line
  const bare = cli('predict', weights, input);
  assert.equal(bare.code, 1);
  assert.match(bare.stderr.trim(), /^keras-lens: .*simple_flatten_rnn_tf_keras_2_weights\.h5: .*(architecture|--config)/);
});
