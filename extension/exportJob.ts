/**
 * One Export Predictor run, in a model worker (extension/worker/service.ts, op 'export'): opens the model, builds
 * the standalone predictor with src/export and hands the files back (the host writes them). No vscode import.
 */
import { openFileSpec } from './fileOpener';
import { buildModel } from '../src/model/graph';
import { exportPredictor, type ExportFile, type Language } from '../src/export/index';
import type { FileSpec } from './worker/protocol';

export interface ExportJob {
  modelPath: string;
  configPath?: string;
  language: Language;
  /** The model (and architecture) as the worker reads it: by path on the desktop, as bytes elsewhere. */
  model?: FileSpec;
  config?: FileSpec;
}

export interface ExportJobResult {
  files: ExportFile[];
  /** How many layers the predictor computes (for the message). */
  layers: number;
}

export async function runExportJob(job: ExportJob): Promise<ExportJobResult> {
  const file = await openFileSpec(job.model ?? { path: job.modelPath }, job.config ?? (job.configPath ? { path: job.configPath } : undefined));
  try {
    const model = await buildModel(file);
    const r = await exportPredictor(model, job.language);
    return { files: r.files, layers: r.plan.layers.length };
  } finally {
    file.close();
  }
}
