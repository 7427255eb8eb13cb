/**
 * What the VS Code E2E suites (vscode.test.ts: the desktop entry; web.test.ts: the browser entry) check on screen,
 * shared by both: the files read independently of the extension (h5wasm straight from the file, the CLI), and the
 * viewer / results panel read as a user sees them (moved here from vscode.test.ts), and the scenarios both suites run.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import type { FrameLocator, Locator } from 'playwright-core';
import { expectText, projectRoot, type VSCode } from '../../scripts/e2e/harness';

// ---------------------------------------------------------------------------------------------------------------
// Reading the files independently of the extension
// ---------------------------------------------------------------------------------------------------------------

export interface Stored {
  shape: number[];
  data: Float64Array;
}

/** The few h5wasm shapes used here (h5wasm is ESM-only: its types cannot be imported into this CommonJS file). */
export interface H5Node {
  attrs: Record<string, { value: unknown }>;
  keys?: () => string[];
  shape?: number[] | null;
  value?: unknown;
}
export interface H5File extends H5Node {
  get(path: string): H5Node | null;
  close(): void;
}

/** Opens an HDF5 file read-only with h5wasm, runs `body`, closes it. */
export async function withH5<T>(path: string, body: (f: H5File) => T): Promise<T> {
  const h5wasm = await import('h5wasm/node');
  await h5wasm.ready;
  const f = new h5wasm.File(path, 'r') as unknown as H5File;
  try {
    return body(f);
  } finally {
    f.close();
  }
}

export function datasetOf(f: H5File, path: string): Stored {
  const d = f.get(path);
  assert.ok(d && d.value !== undefined && typeof d.keys !== 'function', `${path} is a dataset in the file`);
  return { shape: d.shape ?? [], data: Float64Array.from(d.value as ArrayLike<number>) };
}

export function attrOf(f: H5File, path: string, name: string): unknown {
  const node = path === '/' ? f : f.get(path);
  return node?.attrs[name]?.value;
}

export function strings(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  return Array.from(v as ArrayLike<string>).map(String);
}

/** Number of stored values under a group (all datasets, recursively). */
export function countValues(f: H5File, path: string): number {
  let n = 0;
  const walk = (p: string) => {
    const g = f.get(p);
    if (!g) return;
    if (typeof g.keys === 'function') for (const k of g.keys()) walk(`${p}/${k}`);
    else n += (g.shape ?? []).reduce((a, b) => a * b, 1);
  };
  walk(path);
  return n;
}

/** The value a table cell shows must be the stored value at 4 significant digits. */
export function assertShows(text: string, expected: number, where: string) {
  const shown = Number(text.replace('−', '-'));
  assert.ok(Number.isFinite(shown), `${where}: cell text ${JSON.stringify(text)} is a number`);
  const tol = 6e-4 * Math.abs(expected) + 1e-9;
  assert.ok(Math.abs(shown - expected) <= tol, `${where}: shows ${text}, the file holds ${expected}`);
}

// ---------------------------------------------------------------------------------------------------------------
// The model viewer, as a user drives it
// ---------------------------------------------------------------------------------------------------------------

/** The Keras Lens viewer of `fileName` (its header names the file). */
export async function viewerOf(vsc: VSCode, fileName: string): Promise<FrameLocator> {
  const view = await vsc.webviewFrame(`[data-testid=file-name]:text-is("${fileName}")`, 90_000);
  return view;
}

/**
 * Clicks the layer, then the weight (which loads its table); returns the weight's section.
 * `weight` is a CSS attribute test, e.g. `[data-weight="lstm/kernel:0"]`, or a plain weight name.
 */
export async function openWeight(view: FrameLocator, layer: string, weight: string, testid = 'weight'): Promise<Locator> {
  await view.locator(`[data-testid=layer][data-layer="${layer}"]`).click();
  await expectText(view.locator('[data-testid=layer-title]'), (t) => t.trim() === layer, 20_000, `layer title after clicking ${layer}`);
  const which = weight.startsWith('[') ? weight : `[data-weight="${weight}"]`;
  const section = view.locator(`[data-testid=${testid}]${which}`);
  await section.locator('[data-testid=weight-toggle]').click();
  await section.locator('td[data-row][data-col]').first().waitFor({ timeout: 30_000 });
  return section;
}

/** Compares every cell the table shows right now with `stored` (rows = leading axes, cols = last axis). */
export async function checkShownCells(section: Locator, stored: Stored, label: string, checked: Set<string>): Promise<void> {
  const cols = stored.shape.length ? stored.shape[stored.shape.length - 1] : 1;
  const cells = await section.locator('td[data-row][data-col]').evaluateAll((tds) =>
    tds.map((td) => ({ r: Number(td.getAttribute('data-row')), c: Number(td.getAttribute('data-col')), text: (td.textContent ?? '').trim() })),
  );
  for (const { r, c, text } of cells) {
    if (text === '…' || text === '') continue; // a window still loading
    assertShows(text, stored.data[r * cols + c], `${label}[${r}, ${c}]`);
    checked.add(`${r},${c}`);
  }
}

/** Gate headers in display order: [label, text]. */
export async function gateHeaders(section: Locator): Promise<[string, string][]> {
  return section
    .locator('[data-testid=gate-header]')
    .evaluateAll((els) => els.map((e) => [e.getAttribute('data-gate') ?? '', (e.textContent ?? '').trim()] as [string, string]));
}

/** Checks the gate legend (labels in order, column ranges from the stored shape) and cells in every block. */
export async function checkGateSplitWeight(section: Locator, stored: Stored, gates: string[], label: string): Promise<Set<string>> {
  const cols = stored.shape[stored.shape.length - 1];
  const units = cols / gates.length;
  const headers = await gateHeaders(section);
  assert.deepEqual(
    headers.map((h) => h[0]),
    gates,
    `${label}: gate headers in order`,
  );
  headers.forEach(([g, text], k) => {
    assert.ok(text.includes(`cols ${k * units}–${(k + 1) * units - 1}`), `${label}: gate ${g} covers columns ${k * units}–${(k + 1) * units - 1}: ${text}`);
  });
  const checked = new Set<string>();
  await checkShownCells(section, stored, label, checked);
  // Reveal each block through its header and check the cells shown there too.
  for (let k = 0; k < gates.length; k++) {
    await section.locator(`[data-testid=gate-header][data-gate="${gates[k]}"]`).click();
    await section.locator(`td[data-row="0"][data-col="${k * units}"]`).waitFor({ timeout: 10_000 });
    await checkShownCells(section, stored, label, checked);
  }
  for (let k = 0; k < gates.length; k++) {
    const inBlock = [...checked].some((rc) => {
      const c = Number(rc.split(',')[1]);
      return c >= k * units && c < (k + 1) * units;
    });
    assert.ok(inBlock, `${label}: some cell of gate ${gates[k]} was compared`);
  }
  const heatmaps = await section.locator('canvas[data-testid=heatmap]').evaluateAll((els) => els.map((e) => e.getAttribute('data-gate')));
  assert.deepEqual(heatmaps, gates, `${label}: one heatmap per gate`);
  return checked;
}

/** Hovers a table cell and returns the tooltip's text once it names the cell's value. */
export async function hoverCell(vsc: VSCode, view: FrameLocator, section: Locator, row: number, col: number): Promise<string> {
  const cell = section.locator(`td[data-row="${row}"][data-col="${col}"]`).first();
  const tooltip = view.locator('[data-testid=tooltip]');
  await vsc.hover(cell, tooltip);
  return expectText(tooltip, (t) => /value:/.test(t), 15_000, `tooltip over cell [${row}, ${col}]`);
}

/** Numbers shown in the results panel for output k: index → text. */
export async function shownOutputs(results: FrameLocator, k = 0): Promise<Map<number, string>> {
  await results.locator(`td[data-output="${k}"]`).first().waitFor({ timeout: 60_000 });
  const cells = await results.locator(`td[data-output="${k}"]`).evaluateAll((tds) =>
    tds.map((td) => [Number(td.getAttribute('data-index')), (td.textContent ?? '').trim()] as [number, string]),
  );
  return new Map(cells);
}

/** The CLI's prediction (`keras-lens predict MODEL INPUT --json`), flattened per output. */
export function cliPredict(model: string, input: string): number[][] {
  const out = execFileSync(process.execPath, [join(projectRoot, 'bin', 'keras-lens.js'), 'predict', model, input, '--json'], {
    encoding: 'utf8',
  });
  const r = JSON.parse(out) as { outputs: unknown[] };
  return r.outputs.map((o) => (Array.isArray(o) ? (o.flat(Infinity) as number[]) : [o as number]));
}


// ---------------------------------------------------------------------------------------------------------------
// Scenarios both suites run (the desktop suite adds its own checks on what these return)
// ---------------------------------------------------------------------------------------------------------------

/** Keras's own inputs and predictions for the examples' Keras 1 model (../shared/keras-reference). */
export const storedKeras1 = join(projectRoot, '..', 'shared', 'keras-reference', 'dl4j/examples/simple_lstm/simple_lstm_tf_keras_1_inputs_and_outputs.h5');

/** Writes `<dir>/simple_lstm_keras1.stored-inputs.json`: the 8 inputs Keras stored (its predictions are expected). */
export async function writeStoredInputs(dir: string): Promise<void> {
  const inputs = await withH5(storedKeras1, (f) => datasetOf(f, 'inputs/lstm_input_1'));
  const samples = Array.from({ length: 8 }, (_, i) => [[inputs.data[i]]]);
  writeFileSync(join(dir, 'simple_lstm_keras1.stored-inputs.json'), JSON.stringify(samples, null, 1) + '\n');
}

/**
 * Opens the examples' lstm_functional_keras2.h5 (at `file`) and checks the header, the layer list and the
 * kernel's i|f|c|o blocks and shown cells against the file read with h5wasm.
 */
export async function checkKeras2Lstm(vsc: VSCode, file: string) {
  const expected = await withH5(file, (f) => ({
    version: String(attrOf(f, '/', 'keras_version')),
    layers: strings(attrOf(f, 'model_weights', 'layer_names')),
    weights: strings(attrOf(f, 'model_weights/lstm', 'weight_names')),
    params: countValues(f, 'model_weights'),
    kernel: datasetOf(f, 'model_weights/lstm/lstm/kernel:0'),
  }));
  await vsc.openFile('lstm_functional_keras2.h5');
  const view = await viewerOf(vsc, 'lstm_functional_keras2.h5');
  await expectText(view.locator('[data-testid=format]'), (t) => t === 'keras2-h5', 60_000, 'format');
  assert.equal(await view.locator('[data-testid=keras-version]').innerText(), expected.version);
  assert.equal(await view.locator('[data-testid=total-params]').innerText(), expected.params.toLocaleString('en-US'));
  const layers = await view.locator('[data-testid=layer]').evaluateAll((els) => els.map((e) => e.getAttribute('data-layer')));
  assert.deepEqual(layers, expected.layers, 'layer list = layer_names of the file');
  const section = await openWeight(view, 'lstm', 'lstm/kernel:0');
  const weights = await view.locator('[data-testid=weight]').evaluateAll((els) => els.map((e) => e.getAttribute('data-weight')));
  assert.deepEqual(weights, expected.weights, 'weights of lstm = its weight_names');
  const checked = await checkGateSplitWeight(section, expected.kernel, ['i', 'f', 'c', 'o'], 'lstm/kernel:0');
  assert.ok(checked.size >= 16, `compared ${checked.size} cells`);
  return { view, section, kernel: expected.kernel };
}

/**
 * Opens the examples' lstm_keras3.keras (at `file`): the header from its metadata.json, and vars/1 (the recurrent
 * kernel) equal to model.weights.h5 inside the zip (unpacked into `scratch` and read with h5wasm).
 */
export async function checkKeras3Lstm(vsc: VSCode, file: string, scratch: string) {
  const zip = unzipSync(new Uint8Array(readFileSync(file)));
  const metadata = JSON.parse(new TextDecoder().decode(zip['metadata.json'])) as { keras_version: string };
  const inner = join(scratch, 'model.weights.h5');
  writeFileSync(inner, zip['model.weights.h5']);
  const recurrent = await withH5(inner, (f) => datasetOf(f, 'layers/lstm/cell/vars/1'));
  await vsc.openFile('lstm_keras3.keras');
  const view = await viewerOf(vsc, 'lstm_keras3.keras');
  await expectText(view.locator('[data-testid=format]'), (t) => t === 'keras3-keras', 60_000, 'format');
  assert.equal(await view.locator('[data-testid=keras-version]').innerText(), metadata.keras_version);
  const section = await openWeight(view, 'lstm_1', 'layers/lstm/cell/vars/1');
  const checked = await checkGateSplitWeight(section, recurrent, ['i', 'f', 'c', 'o'], 'layers/lstm/cell/vars/1');
  assert.ok(checked.size >= 16, `compared ${checked.size} cells`);
  return { view, section };
}

/** With simple_lstm_keras1.h5 open, Predict on the stored inputs (explorer menu) shows what Keras stored, and a trace. */
export async function checkPredictStored(vsc: VSCode): Promise<FrameLocator> {
  const stored = await withH5(storedKeras1, (f) => datasetOf(f, 'predictions/dense_1'));
  await vsc.openFile('simple_lstm_keras1.h5'); // the active Keras Lens editor is the model Predict runs
  await viewerOf(vsc, 'simple_lstm_keras1.h5');
  await vsc.explorerContextMenu('simple_lstm_keras1.stored-inputs.json', 'Predict');
  const results = await vsc.webviewFrame('[data-testid=outputs]', 90_000);
  const shown = await shownOutputs(results);
  assert.equal(shown.size, 8, 'one output per stored sample');
  for (let i = 0; i < 8; i++) assertShows(shown.get(i) ?? '', stored.data[i], `prediction ${i} (Keras stored ${stored.data[i]})`);
  await results.locator('canvas[data-testid=trace-plot][data-layer=lstm_1]').waitFor({ timeout: 10_000 });
  return results;
}

/** With lstm_functional_keras2.h5 (at `file`) open, a hover in weights.py explains its recurrent kernel with the real shape. */
export async function checkPyHover(vsc: VSCode, file: string): Promise<string> {
  const shape = await withH5(file, (f) => datasetOf(f, 'model_weights/lstm/lstm/recurrent_kernel:0').shape);
  await vsc.openFile('lstm_functional_keras2.h5');
  await viewerOf(vsc, 'lstm_functional_keras2.h5');
  await vsc.openFile('weights.py');
  const text = await vsc.hoverEditorText('lstm/recurrent_kernel:0');
  assert.match(text, /recurrent kernel/i, text);
  assert.match(text, /lstm_functional_keras2\.h5/, `the hover says which open model it used: ${text}`);
  assert.ok(text.includes(`(${shape.join(', ')})`), `hover gives the shape ${shape} from the file: ${text}`);
  return text;
}

/**
 * Answers code-server's file dialog (a quick input holding a path) with `path`. The dialog fills in its start
 * folder and lists it asynchronously, and may overwrite what was typed before that: wait for the listing, then
 * type, check the value stuck, and retry until the dialog accepts the path.
 */
export async function answerFileDialog(vsc: VSCode, path: string): Promise<void> {
  const box = vsc.page.locator('.quick-input-widget .quick-input-box input').first();
  await box.waitFor({ state: 'visible', timeout: 30_000 });
  await vsc.page.locator('.quick-input-widget .monaco-list-row').first().waitFor({ timeout: 30_000 });
  for (let attempt = 0; attempt < 5 && (await box.isVisible()); attempt++) {
    await box.fill(path);
    await vsc.page.waitForTimeout(500);
    if ((await box.inputValue()) !== path) continue;
    await box.press('Enter');
    await vsc.page.waitForTimeout(1000);
  }
}
