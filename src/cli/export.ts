/**
 * keras-lens export MODEL --lang numpy|js|c|java|pytorch --out DIR [--config ARCH.json] [--force]
 *
 * Writes a standalone predictor (src/export) into DIR. Safety: DIR must be empty or absent unless --force; the files
 * are written into a temporary folder beside DIR and renamed into place, so nothing partial is left behind; the
 * model file is only read, and --force refuses a DIR that holds the model or its architecture file.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openModelFile } from '../formats/open';
import { buildModel } from '../model/graph';
import { KerasLensError } from '../model/types';
import { exportPredictor, LANGUAGES, type ExportFile, type Language } from '../export/index';

const USAGE = `usage: keras-lens export MODEL --lang ${LANGUAGES.join('|')} --out DIR [--config ARCH.json] [--force]`;

interface ExportArgs {
  modelPath: string;
  language: Language;
  out: string;
  configPath?: string;
  force: boolean;
}

function parseArgs(args: string[]): ExportArgs {
  const positional: string[] = [];
  let language: string | undefined;
  let out: string | undefined;
  let configPath: string | undefined;
  let force = false;
  const value = (i: number, what: string) => {
    const v = args[i + 1];
    if (!v) throw new KerasLensError(null, `${what} needs a value; ${USAGE}`);
    return v;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--force') force = true;
    else if (a === '--lang') language = value(i++, '--lang');
    else if (a.startsWith('--lang=')) language = a.slice(7);
    else if (a === '--out') out = value(i++, '--out');
    else if (a.startsWith('--out=')) out = a.slice(6);
    else if (a === '--config') configPath = value(i++, '--config');
    else if (a.startsWith('--config=')) configPath = a.slice(9);
    else if (a.startsWith('-')) throw new KerasLensError(null, `unknown option '${a.slice(0, 40)}'; ${USAGE}`);
    else positional.push(a);
  }
  if (positional.length !== 1) throw new KerasLensError(null, `export needs one model file; ${USAGE}`);
  if (!language || !LANGUAGES.includes(language as Language)) {
    throw new KerasLensError(null, `--lang must be one of ${LANGUAGES.join(', ')}; ${USAGE}`);
  }
  if (!out) throw new KerasLensError(null, `--out DIR is required; ${USAGE}`);
  return { modelPath: positional[0], language: language as Language, out, configPath, force };
}

function errnoText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code ? e.code : e.message ?? String(err);
}

/** Is `inner` the same as or inside `outer` (after resolving symlinks where they exist)? */
function within(inner: string, outer: string): boolean {
  const real = (p: string) => {
    try {
      return fs.realpathSync(p);
    } catch {
      return path.resolve(p);
    }
  };
  const rel = path.relative(real(outer), real(inner));
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * Writes the files into DIR through a temporary folder beside it (same file system), then renames. DIR absent or
 * empty: replaced; not empty: refused unless `force` (then the old DIR is removed after the new one is in place).
 */
export function writeExport(dir: string, files: ExportFile[], opts: { force: boolean; protect: string[] }): void {
  const target = path.resolve(dir);
  let existing: string[] | null = null;
  try {
    const st = fs.statSync(target);
    if (!st.isDirectory()) throw new KerasLensError(dir, 'exists and is not a folder');
    existing = fs.readdirSync(target);
  } catch (err) {
    if (err instanceof KerasLensError) throw err;
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new KerasLensError(dir, `cannot write here (${errnoText(err)})`);
  }
  if (existing && existing.length > 0 && !opts.force) {
    throw new KerasLensError(dir, `is not empty (${existing.length} entries); use --force to replace it`);
  }
  for (const p of opts.protect) {
    if (existing && within(p, target)) throw new KerasLensError(dir, `holds ${path.basename(p)}, which export reads; choose another folder`);
  }
  const parent = path.dirname(target);
  let temp: string;
  try {
    temp = fs.mkdtempSync(path.join(parent, `.${path.basename(target)}.keras-lens-`));
  } catch (err) {
    throw new KerasLensError(dir, `cannot write here (${errnoText(err)})`);
  }
  try {
    for (const f of files) {
      const p = path.join(temp, f.path);
      fs.mkdirSync(path.dirname(p), { recursive: true });
      fs.writeFileSync(p, f.content, { mode: f.executable ? 0o755 : 0o644 });
    }
    let old: string | null = null;
    if (existing) {
      old = `${temp}.old`;
      fs.renameSync(target, old);
    }
    try {
      fs.renameSync(temp, target);
    } catch (err) {
      if (old) fs.renameSync(old, target);
      throw err;
    }
    if (old) fs.rmSync(old, { recursive: true, force: true });
  } catch (err) {
    fs.rmSync(temp, { recursive: true, force: true });
    if (err instanceof KerasLensError) throw err;
    throw new KerasLensError(dir, `cannot write the export (${errnoText(err)})`);
  }
}

export async function runExport(args: string[]): Promise<number> {
  const a = parseArgs(args);
  const file = await openModelFile(a.modelPath, { configPath: a.configPath });
  try {
    const model = await buildModel(file);
    const result = await exportPredictor(model, a.language);
    writeExport(a.out, result.files, { force: a.force, protect: [a.modelPath, ...(a.configPath ? [a.configPath] : [])] });
    const n = result.plan.layers.length;
    process.stdout.write(`exported ${n} layer${n === 1 ? "" : "s"} to ${a.out} (${a.language}): ${result.files.map((f) => f.path).join(', ')}\n`);
    return 0;
  } finally {
    file.close();
  }
}
