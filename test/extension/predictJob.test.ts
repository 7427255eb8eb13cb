/**
 * Predict jobs: in-process and in a model worker thread running the built dist/worker.js (as the command does), same
 * numbers both ways; a stopped worker really stops; input errors come back as one line naming the input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runPredictJob, type PredictJob, type PredictJobResult } from '../../extension/predictJob';
import { WorkerClient } from '../../extension/worker/client';
import { nodeWorkerSpawner } from '../../extension/worker/node';
import { writeBigLstmModel } from './harness/bigModel';

const ROOT = join(__dirname, '../..');
const BUNDLE = join(ROOT, 'dist/worker.js');
const BIDI_SEQ = join(ROOT, '../shared/keras-reference/dl4j/tfkeras/rnn_5.h5'); // Bidirectional(LSTM(6), return_sequences) on (3, 4)
const skipWorker = existsSync(BUNDLE) ? false : 'run npm run build first';

/** Predict in a worker of its own, as the Predict command does; stop() ends the worker. */
function startPredict(j: PredictJob, file: string): { result: Promise<PredictJobResult>; stop: () => void } {
  const client = new WorkerClient(nodeWorkerSpawner(file, { memoryLimitMB: 2048, faults: '' }));
  const result = client.call({ op: 'predict', job: j }, { file: 'model', what: 'predicting', timeoutMs: 60_000 });
  result.then(() => client.dispose(), () => client.dispose());
  return { result, stop: () => client.dispose() };
}

const job: PredictJob = {
  modelPath: BIDI_SEQ,
  inputText: JSON.stringify([
    [[0.1, -0.2, 0.3, 0.5], [0.4, 0.1, -0.6, 0.2], [0.9, -0.3, 0.2, 0.0]],
    [[0.5, 0.5, -0.5, 0.1], [0.0, 0.3, 0.2, -0.9], [0.2, 0.2, 0.2, 0.2]],
  ]),
  inputName: 'two_samples.json',
  maxBatch: 16,
};

test('in-process job: outputs, forward and backward traces, JSON for Copy/Save', async () => {
  const r = await runPredictJob(job);
  assert.equal(r.summary.outputs.length, 1);
  assert.deepEqual(r.summary.outputs[0].shape, [2, 3, 12]);
  assert.deepEqual(r.summary.traces.map((t) => [t.direction, t.steps, t.batch, t.units, t.gates.join('')]), [
    ['forward', 3, 2, 6, 'ifco'],
    ['backward', 3, 2, 6, 'ifco'],
  ]);
  const json = JSON.parse(r.json);
  assert.equal(json.input, 'two_samples.json');
  assert.deepEqual(json.outputs[0][1][2], r.summary.outputs[0].values.slice(12 * 5, 12 * 6));
  assert.equal(json.trace.length, 2);
});

test('the worker thread runs the bundled extension and gives the same numbers', { skip: skipWorker }, async () => {
  const here = await runPredictJob(job);
  const there = await startPredict(job, BUNDLE).result;
  assert.deepEqual(there.summary.outputs, here.summary.outputs);
  assert.deepEqual(there.summary.traces, here.summary.traces);
});

test('input errors come back as one line naming the input; maxBatch is enforced', { skip: skipWorker }, async () => {
  await assert.rejects(startPredict({ ...job, inputText: '[[1, 2' }, BUNDLE).result, (e: Error) => {
    assert.match(e.message, /two_samples\.json/);
    assert.doesNotMatch(e.message, /\n/);
    return true;
  });
  await assert.rejects(runPredictJob({ ...job, maxBatch: 1 }), /batch of 2 samples is more than kerasLens\.predict\.maxBatch \(1\)/);
});

test('stopping a long prediction terminates the worker at once', { skip: skipWorker, timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kl-stop-'));
  const path = join(dir, 'big_lstm.h5');
  await writeBigLstmModel(path);
  const steps = Array.from({ length: 5 }, () => Array.from({ length: 2048 }, (_, k) => Math.sin(k)));
  const run = startPredict({ modelPath: path, inputText: JSON.stringify([steps, steps, steps, steps]), inputName: 'big.json', maxBatch: 16 }, BUNDLE);
  await new Promise((r) => setTimeout(r, 1500));
  const t0 = Date.now();
  run.stop();
  await assert.rejects(run.result, /cancelled/);
  assert.ok(Date.now() - t0 < 1000, 'stopped within a second');
});
