/**
 * The extension host's core, put together the same way by both entries: the desktop's core.ts (model workers are
 * Node worker threads, files on disk go by path) and the browser's web/core.ts (model workers are Web Workers, files
 * are read whole through vscode.workspace.fs). No Node built-ins here.
 */
import * as vscode from 'vscode';
import { WeightHoverProvider } from './hovers';
import { ModelEditorProvider } from './modelEditor';
import { OpenModels } from './openModels';
import { PredictCommand } from './predictCommand';
import { ExportCommand } from './exportCommand';
import type { SpawnWorker } from './worker/client';

export interface Core {
  models: OpenModels;
  editors: ModelEditorProvider;
  predict: PredictCommand;
  /** Keras Lens: Export Predictor… */
  exportPredictor: ExportCommand;
  hovers: WeightHoverProvider;
  /** Starts a model worker with the current settings. */
  spawn: SpawnWorker;
  /** One line: which entry runs, in which extension host, and how many model workers it started (Show Runtime). */
  runtime(): string;
}

export function assembleCore(context: vscode.ExtensionContext, spawn: SpawnWorker, web: boolean, describe: (workersStarted: number) => string): Core {
  let started = 0;
  const counted: SpawnWorker = () => {
    started++;
    return spawn();
  };
  const models = new OpenModels();
  return {
    models,
    editors: new ModelEditorProvider(context, models, counted, web),
    predict: new PredictCommand(context, models, counted, web),
    exportPredictor: new ExportCommand(models, counted, web),
    hovers: new WeightHoverProvider(models),
    spawn: counted,
    runtime: () => describe(started),
  };
}
