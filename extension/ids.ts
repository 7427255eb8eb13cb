/**
 * The names the manifest (package.json) and the code share: view types, and where hovers answer. Kept apart so the
 * tiny entry bundle (extension.ts) and the core (core.ts) use one copy.
 */
import type * as vscode from 'vscode';

export const MODEL_VIEWER = 'kerasLens.modelViewer';
export const MODEL_VIEWER_JSON = 'kerasLens.modelViewerJson';

/** Where hovers answer: Python (also in notebooks), JSON, Markdown, plain text. */
export const HOVER_SELECTOR: vscode.DocumentSelector = [
  { language: 'python' },
  { notebookType: 'jupyter-notebook', language: 'python' },
  { language: 'json' },
  { language: 'jsonc' },
  { language: 'markdown' },
  { language: 'plaintext' },
];
