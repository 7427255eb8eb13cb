/**
 * One Predict run: opens the model, parses the input, predicts with the gate trace and gives back the panel's
 * summary and the JSON for Copy/Save. It runs in a model worker (extension/worker/service.ts, op 'predict'), away
 * from the extension host; cancelling or the time limit ends that worker. No vscode import.
 */
import { fileNameOf } from './remoteModel';
import { predictJson } from '../src/engine/result-json';
import { parseInputJson, predict } from '../src/engine/predict';
import { openFileSpec } from './fileOpener';
import { buildModel } from '../src/model/graph';
import { batchSize, resultsSummary } from './predictResults';
import type { PredictResultsSummary } from './protocol';
import type { FileSpec } from './worker/protocol';

export interface PredictJob {
  modelPath: string;
  configPath?: string;
  inputText: string;
  inputName: string;
  maxBatch: number;
  /** How to read the model / its architecture when not by path (bytes the host read; the browser). */
  model?: FileSpec;
  config?: FileSpec;
}

export interface PredictJobResult {
  summary: PredictResultsSummary;
  /** `keras-lens predict --json` shape, plus model and input names. */
  json: string;
}

export async function runPredictJob(job: PredictJob): Promise<PredictJobResult> {
  const file = await openFileSpec(job.model ?? { path: job.modelPath }, job.config ?? (job.configPath ? { path: job.configPath } : undefined));
  try {
    const model = await buildModel(file);
    const inputs = parseInputJson(job.inputText, model, job.inputName);
    const batch = batchSize(inputs);
    if (batch > job.maxBatch) throw new Error(`${job.inputName}: batch of ${batch} samples is more than kerasLens.predict.maxBatch (${job.maxBatch})`);
    const started = Date.now();
    const result = await predict(model, inputs, { trace: true });
    const modelName = fileNameOf(job.modelPath);
    return {
      summary: resultsSummary(result, modelName, job.inputName, Date.now() - started),
      json: JSON.stringify({ model: modelName, input: job.inputName, ...predictJson(result) }, null, 1),
    };
  } finally {
    file.close();
  }
}

