/**
 * One Predict run, away from the extension host's event loop: a worker thread runs the bundled extension file
 * itself (with a stub for the `vscode` module), opens the model, parses the input, predicts with the gate trace and
 * sends back the panel's summary and the JSON for Copy/Save. Cancelling or timing out terminates the thread.
 * Under tsx (tests) the job runs in-process: `runPredictJob` is the same code either way. No vscode import.
 */
import { basename } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { predictJson } from '../src/engine/result-json';
import { parseInputJson, predict } from '../src/engine/predict';
import { openModelFile } from '../src/formats/open';
import { buildModel } from '../src/model/graph';
import { batchSize, resultsSummary } from './predictResults';
import { oneLine, type PredictResultsSummary } from './protocol';

export interface PredictJob {
  modelPath: string;
  configPath?: string;
  inputText: string;
  inputName: string;
  maxBatch: number;
}

export interface PredictJobResult {
  summary: PredictResultsSummary;
  /** `keras-lens predict --json` shape, plus model and input names. */
  json: string;
}

export async function runPredictJob(job: PredictJob): Promise<PredictJobResult> {
  const file = await openModelFile(job.modelPath, job.configPath ? { configPath: job.configPath } : undefined);
  try {
    const model = await buildModel(file);
    const inputs = parseInputJson(job.inputText, model, job.inputName);
    const batch = batchSize(inputs);
    if (batch > job.maxBatch) throw new Error(`${job.inputName}: batch of ${batch} samples is more than kerasLens.predict.maxBatch (${job.maxBatch})`);
    const started = Date.now();
    const result = await predict(model, inputs, { trace: true });
    const modelName = basename(job.modelPath);
    return {
      summary: resultsSummary(result, modelName, job.inputName, Date.now() - started),
      json: JSON.stringify({ model: modelName, input: job.inputName, ...predictJson(result) }, null, 1),
    };
  } finally {
    file.close();
  }
}

const JOB_KEY = 'kerasLensPredictJob';

/** Call at the top of the bundle: in a Predict worker thread, run the job and report; returns true there. */
export function runAsPredictWorker(): boolean {
  if (isMainThread || !workerData || !(JOB_KEY in workerData)) return false;
  runPredictJob(workerData[JOB_KEY] as PredictJob).then(
    (r) => parentPort?.postMessage({ ok: r }),
    (e) => parentPort?.postMessage({ error: oneLine(e) }),
  );
  return true;
}

export interface RunningPredict {
  result: Promise<PredictJobResult>;
  /** Stop the computation now (cancel, timeout). */
  stop(): void;
}

/**
 * Run the job in a worker thread executing `bundlePath` (the built dist/extension.js), or in-process when the code
 * is not bundled (tests under tsx).
 */
export function startPredict(job: PredictJob, bundlePath: string): RunningPredict {
  if (!bundlePath.endsWith('.js')) return { result: runPredictJob(job), stop: () => {} };
  const stub = `const M = require('module'); const load = M._load;
M._load = function (request, ...rest) { return request === 'vscode' ? {} : load.call(this, request, ...rest); };
require(${JSON.stringify(bundlePath)});`;
  const worker = new Worker(stub, { eval: true, workerData: { [JOB_KEY]: job } });
  let settle: ((e: Error) => void) | null = null;
  const result = new Promise<PredictJobResult>((resolve, reject) => {
    settle = reject;
    worker.once('message', (m: { ok?: PredictJobResult; error?: string }) => {
      if (m.ok) resolve(m.ok);
      else reject(new Error(m.error ?? 'prediction failed'));
      void worker.terminate();
    });
    worker.once('error', (e) => reject(new Error(oneLine(e))));
    worker.once('exit', (code) => reject(new Error(`the prediction stopped (worker exit ${code})`)));
  });
  return {
    result,
    stop: () => {
      settle?.(new Error('cancelled'));
      void worker.terminate();
    },
  };
}
