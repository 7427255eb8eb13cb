/**
 * keras-lens inspect MODEL [--config ARCH.json] [--json]
 *   --json : exactly one JSON object on stdout (the InspectReport)
 *   else   : a readable table per layer (name, class, weights, shapes, gate blocks, parameter counts)
 */
import { openModelFile } from '../formats/open';
import { inspectModel, type InspectLayer, type InspectReport, type InspectWeight } from '../explain/inspect';
import { KerasLensError } from '../model/types';

export interface InspectArgs {
  model: string;
  configPath?: string;
  json: boolean;
}

export function parseInspectArgs(args: string[]): InspectArgs {
  let model: string | undefined;
  let configPath: string | undefined;
  let json = false;
  for (let k = 0; k < args.length; k++) {
    const a = args[k];
    if (a === '--json') json = true;
    else if (a === '--config') {
      configPath = args[++k];
      if (configPath === undefined) throw new KerasLensError(null, 'inspect: --config needs a file (an architecture JSON)');
    } else if (a.startsWith('--config=')) configPath = a.slice('--config='.length);
    else if (a.startsWith('-')) throw new KerasLensError(null, `inspect: unknown option '${a}' (usage: keras-lens inspect MODEL [--config ARCH.json] [--json])`);
    else if (model === undefined) model = a;
    else throw new KerasLensError(null, `inspect: unexpected argument '${a}' (one model file at a time)`);
  }
  if (model === undefined) throw new KerasLensError(null, 'inspect: no model file given (usage: keras-lens inspect MODEL [--config ARCH.json] [--json])');
  return { model, configPath, json };
}

export async function runInspect(args: string[]): Promise<number> {
  const opts = parseInspectArgs(args);
  const file = await openModelFile(opts.model, opts.configPath ? { configPath: opts.configPath } : {});
  let report: InspectReport;
  try {
    report = await inspectModel(file);
  } catch (err) {
    if (err instanceof KerasLensError) throw err;
    throw new KerasLensError(opts.model, `could not inspect: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    file.close();
  }
  process.stdout.write(opts.json ? JSON.stringify(report) + '\n' : formatReport(report));
  return 0;
}

/** The readable table. */
export function formatReport(report: InspectReport): string {
  const out: string[] = [];
  const version = report.kerasVersion ? `Keras ${report.kerasVersion}` : 'Keras version not recorded';
  out.push(`${report.source}`);
  out.push(`  format ${report.format}, ${version}${report.backend ? `, backend ${report.backend}` : ''}, ${report.totalParams.toLocaleString('en-US')} parameters`);
  for (const note of report.notes ?? []) out.push(`  note: ${note}`);
  out.push('');
  for (const layer of report.layers) out.push(...formatLayer(layer));
  return printable(out.join('\n')) + '\n';
}

/** Names come from the file: control characters (terminal escapes) are shown as \xNN, never sent raw. */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function formatLayer(layer: InspectLayer): string[] {
  const cls = layer.innerClassName ? `${layer.className}(${layer.innerClassName})` : layer.className;
  const guessed = layer.classGuessed ? ' (guessed from names)' : '';
  const shape = layer.outputShape ? `  → ${shapeText(layer.outputShape)}` : '';
  const from = (layer.inputs?.length ? `  ← ${layer.inputs.join(', ')}` : '') + (layer.maskFrom?.length ? ` (mask ← ${layer.maskFrom.join(', ')})` : '');
  const lines = [`${layer.name}  ${cls}${guessed}${shape}${from}  params ${layer.params.toLocaleString('en-US')}`];
  if (layer.operation) lines.push(`  computes ${layer.operation}`);
  const nameWidth = Math.max(0, ...layer.weights.map((w) => w.name.length + (w.direction ? w.direction.length + 3 : 0)));
  for (const w of layer.weights) lines.push(...formatWeight(w, nameWidth));
  lines.push('');
  return lines;
}

function formatWeight(w: InspectWeight, nameWidth: number): string[] {
  const name = (w.name + (w.direction ? ` (${w.direction})` : '')).padEnd(nameWidth);
  const lines = [`  ${name}  ${shapeText(w.shape).padEnd(16)} ${String(w.params).padStart(9)}  ${w.meaning}`];
  if (w.blocks.length) {
    lines.push(`  ${' '.repeat(nameWidth)}  blocks: ${w.blocks.map((b) => `${b.label} [${b.start},${b.end})`).join('  ')}`);
  }
  if (w.rows.length) {
    const shown = w.rows.slice(0, 6).map((r) => {
      const half = r.meaning === 'forward' || r.meaning === 'backward' ? `(${r.meaning})` : '';
      const at = r.timestep !== undefined ? `@t${r.timestep}` : r.position ? `@(${r.position.join(',')})` : '';
      return `${r.source}${half}${at} [${r.start},${r.end})`;
    });
    const more = w.rows.length > 6 ? `  … ${w.rows.length - 6} more` : '';
    lines.push(`  ${' '.repeat(nameWidth)}  rows: ${shown.join('  ')}${more}`);
  }
  return lines;
}

function shapeText(shape: readonly (number | null)[]): string {
  return `(${shape.map((d) => (d === null ? 'None' : String(d))).join(', ')}${shape.length === 1 ? ',' : ''})`;
}
