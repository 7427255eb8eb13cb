/**
 * keras-lens predict MODEL INPUT.json [--config ARCH.json] [--trace] [--json]
 *
 * Runs the model on the input with the embedded engine. `--json` prints one object
 * `{"outputs": [...], "outputNames": [...], "trace"?: [...]}` (outputs keep the batch axis); without it, a table.
 */
import { readFileSync } from 'node:fs';
import { openModelFile } from '../formats/open';
import { buildModel } from '../model/graph';
import { parseInputJson, predict, type PredictResult } from '../engine/predict';
import { predictJson } from '../engine/result-json';
import { KerasLensError } from '../model/types';

interface PredictArgs {
  modelPath: string;
  inputPath: string;
  configPath?: string;
  trace: boolean;
  json: boolean;
}

const USAGE = 'usage: keras-lens predict MODEL INPUT.json [--config ARCH.json] [--trace] [--json]';

function parseArgs(args: string[]): PredictArgs {
  const positional: string[] = [];
  let configPath: string | undefined;
  let trace = false;
  let json = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--trace') trace = true;
    else if (a === '--json') json = true;
    else if (a === '--config') {
      configPath = args[++i];
      if (!configPath) throw new KerasLensError(null, `--config needs a file path; ${USAGE}`);
    } else if (a.startsWith('--config=')) configPath = a.slice('--config='.length);
    else if (a.startsWith('-')) throw new KerasLensError(null, `unknown option '${a}'; ${USAGE}`);
    else positional.push(a);
  }
  if (positional.length !== 2) throw new KerasLensError(null, `predict needs a model file and an input JSON file; ${USAGE}`);
  return { modelPath: positional[0], inputPath: positional[1], configPath, trace, json };
}

function formatNumber(v: number): string {
  if (Number.isInteger(v) && Math.abs(v) < 1e9) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-4 || a >= 1e6) ? v.toExponential(6) : v.toPrecision(7).replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');
}

/** Readable text: each output with its shape, one line per sample (and per step for sequences). */
export function predictTable(result: PredictResult): string {
  const lines: string[] = [];
  result.outputs.forEach((t, i) => {
    lines.push(`${result.outputNames[i]}  shape (${t.shape.join(', ')})`);
    const [batch, ...rest] = t.shape;
    const last = rest.length ? rest[rest.length - 1] : 1;
    const rowsPerSample = rest.slice(0, -1).reduce((a, b) => a * b, 1);
    for (let b = 0; b < batch; b++) {
      for (let r = 0; r < rowsPerSample; r++) {
        const start = (b * rowsPerSample + r) * last;
        const row = Array.from(t.data.subarray(start, start + last), formatNumber).join('  ');
        const label = rowsPerSample > 1 ? `  [${b}][${r}]` : `  [${b}]`;
        lines.push(`${label}  ${row}`);
      }
    }
  });
  if (result.trace) {
    lines.push('');
    lines.push('trace (gate activations per step; --json for every value)');
    for (const r of result.trace) {
      const name = r.direction ? `${r.layer} (${r.direction})` : r.layer;
      lines.push(`${name}: ${r.hidden.length} steps, gates ${r.gates.join(', ')}${r.cell ? ', cell' : ''}, hidden`);
      r.hidden.forEach((h, t) => {
        const gates = r.gates
          .map((g) => {
            const v = r.gateValues[g]?.[t];
            return v ? `${g}=[${Array.from(v.data.subarray(0, Math.min(4, v.data.length)), formatNumber).join(' ')}${v.data.length > 4 ? ' …' : ''}]` : '';
          })
          .join(' ');
        lines.push(`  step ${t}: ${gates} h=[${Array.from(h.data.subarray(0, Math.min(4, h.data.length)), formatNumber).join(' ')}${h.data.length > 4 ? ' …' : ''}]`);
      });
    }
  }
  return lines.join('\n') + '\n';
}

export async function runPredict(args: string[]): Promise<number> {
  const a = parseArgs(args);
  let inputText: string;
  try {
    inputText = readFileSync(a.inputPath, 'utf8');
  } catch (err) {
    throw new KerasLensError(a.inputPath, `cannot read the input file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const file = await openModelFile(a.modelPath, { configPath: a.configPath });
  try {
    const model = await buildModel(file);
    const inputs = parseInputJson(inputText, model, a.inputPath);
    const result = await predict(model, inputs, { trace: a.trace });
    process.stdout.write(a.json ? JSON.stringify(predictJson(result)) + '\n' : predictTable(result));
    return 0;
  } finally {
    file.close();
  }
}
