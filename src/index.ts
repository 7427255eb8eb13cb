/**
 * The public API of the core, used by the CLI, the extension host and tests.
 * Each name is implemented in the file shown; signatures are part of the contract between parts.
 */
export * from './model/types';
// (path, opts?: { configPath?: string }) => Promise<ModelFile>          — detects the format by content
export { openModelFile } from './formats/open';
// (file: ModelFile) => Promise<Model>                                    — graph + kinds + bound weights
export { buildModel, inferShapes } from './model/graph';
export type { Model } from './model/graph';
// (file: ModelFile) => Promise<InspectReport>                            — the `inspect --json` object
export { inspectModel } from './explain/inspect';
export type { InspectReport } from './explain/inspect';
// (model, inputs, opts?: { trace?: boolean }) => Promise<PredictResult>  — the `predict --json` object
export { predict, parseInputJson, PredictSession } from './engine/predict';
export type { PredictResult } from './engine/predict';
// (options?) => splitter | null — large recurrent batches over helper threads (Node; the CLI and the model worker call it)
export { registerNodeBatchSplitter } from './engine/batch-split-node';
