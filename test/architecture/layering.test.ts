/**
 * The folders depend one way (test/architecture/layering.ts says which may import which). Source of truth: the
 * layer table in README's "Project layout", mirrored in LAYERS; every import of src/, extension/ and webview/ is read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { importSpecifiers, layerOf, layeringViolations, readSources, unmarkedNodeImports } from './layering';

const root = join(__dirname, '..', '..');

test('every import in src/, extension/ and webview/ follows the one-way layer graph', () => {
  const sources = readSources(root);
  assert.ok(sources.size > 50, `expected the project's sources, read ${sources.size} files`);
  const bad = layeringViolations(root, sources);
  assert.deepEqual(
    bad.map((a) => `${a.from} → ${a.to} (${a.why})`),
    [],
    'arrows against the layer graph',
  );
});

test('nothing in src/ imports a Node built-in outside a file that says it is Node-only (src/cli is Node-only)', () => {
  const bad = unmarkedNodeImports(readSources(root));
  assert.deepEqual(bad.map((a) => `${a.from} → ${a.to}`), []);
});

test('the Node-only check catches an unmarked import and accepts a marked one, a CLI file and generated code', () => {
  const sources = new Map([
    ['src/formats/reader.ts', "/** Reads files. */\nimport { readFile } from 'node:fs/promises';\nimport { join } from 'path';"],
    ['src/formats/disk.ts', "/**\n * NODE-ONLY: files on disk.\n */\nimport { readFile } from 'node:fs/promises';"],
    ['src/cli/main.ts', "import fs = require('node:fs');\nconst x = require('node:path');"],
    ['src/export/emit.ts', "/** Emits a program. */\nexport const main = `import { readFileSync } from 'node:fs';`;"],
  ]);
  assert.deepEqual(unmarkedNodeImports(sources).map((a) => `${a.from} → ${a.to}`), ['src/formats/reader.ts → node:fs/promises', 'src/formats/reader.ts → path']);
});

test('every source file belongs to a layer', () => {
  const orphans = [...readSources(root).keys()].filter((f) => layerOf(f) === null);
  assert.deepEqual(orphans, []);
});

test('the checker catches a bad arrow (a deliberate kernels → model import, and extension → cli)', () => {
  const sources = new Map([
    ['src/kernels/reference.ts', "import { KerasLensError } from '../model/types';\nexport const x = 1;"],
    ['extension/predictJob.ts', "import { runPredict } from '../src/cli/predict';"],
    ['webview/main.ts', "import type { Request } from '../extension/protocol';\nimport { inspectModel } from '../src/explain/inspect';"],
    ['src/model/graph.ts', "// import { x } from '../engine/predict';  (a comment is not an import)\nimport { y } from '../kernels/reference';"],
  ]);
  const bad = layeringViolations(root, sources).map((a) => `${a.from} → ${a.to}`);
  assert.deepEqual(bad, [
    'src/kernels/reference.ts → src/model/types.ts',
    'extension/predictJob.ts → src/cli/predict.ts',
    'webview/main.ts → src/explain/inspect.ts',
  ]);
});

test('import forms read: from, side effect, dynamic import, require, export from; comments ignored', () => {
  const specs = importSpecifiers(
    [
      "import a from './a';",
      "import type { B } from './b';",
      "import {\n  c,\n  d,\n} from './cd';",
      "import './side';",
      "const e = await import('./dyn');",
      "const f = require('./req');",
      "export { g } from './g';",
      "export * from './star';",
      '/* import x from "./no" */',
      "// import y from './no2'",
    ].join('\n'),
  );
  assert.deepEqual(specs.sort(), ['./a', './b', './cd', './dyn', './g', './req', './side', './star'].sort());
});
