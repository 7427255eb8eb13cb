/**
 * Writing an exported predictor into the folder the user picked, through any file system (vscode.workspace.fs in the
 * extension, a fake in tests): refuse a non-empty folder unless `force`, write everything into a temporary folder
 * beside it, then rename into place (nothing partial is left behind), and never replace a folder that holds the
 * model. No vscode import.
 */
import type { ExportFile } from '../src/export/index';

export interface FolderFs {
  /** Entries of a folder, or null when it does not exist; throws when the path is a file. */
  list(path: string): Promise<string[] | null>;
  mkdir(path: string): Promise<void>;
  write(path: string, content: Uint8Array): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  remove(path: string): Promise<void>;
  /** Make a file executable where the file system can (the `run` script); may do nothing. */
  makeExecutable?(path: string): Promise<void>;
}

export class ExportFolderError extends Error {}

const join = (a: string, b: string) => `${a.replace(/[\\/]+$/, '')}/${b}`;
const parentOf = (p: string) => p.replace(/[\\/]+$/, '').replace(/[\\/][^\\/]*$/, '') || '/';
const baseOf = (p: string) => p.replace(/[\\/]+$/, '').split(/[\\/]/).pop() ?? p;

export async function writeExportFolder(fs: FolderFs, dir: string, files: ExportFile[], opts: { force: boolean; protect: string[] }): Promise<void> {
  const existing = await fs.list(dir);
  if (existing && existing.length > 0 && !opts.force) throw new ExportFolderError(`${dir} is not empty (${existing.length} entries)`);
  const norm = (p: string) => p.replace(/\\/g, '/').replace(/\/+$/, '');
  for (const p of opts.protect) {
    if (existing && (norm(p) === norm(dir) || norm(p).startsWith(norm(dir) + '/'))) throw new ExportFolderError(`${dir} holds ${baseOf(p)}, which export reads; choose another folder`);
  }
  const temp = join(parentOf(dir), `.${baseOf(dir)}.keras-lens-${Date.now().toString(36)}`);
  await fs.mkdir(temp);
  try {
    for (const f of files) {
      const content = typeof f.content === 'string' ? new TextEncoder().encode(f.content) : f.content;
      await fs.write(join(temp, f.path), content);
      if (f.executable && fs.makeExecutable) await fs.makeExecutable(join(temp, f.path));
    }
    let old: string | null = null;
    if (existing) {
      old = `${temp}.old`;
      await fs.rename(dir, old);
    }
    try {
      await fs.rename(temp, dir);
    } catch (e) {
      if (old) await fs.rename(old, dir);
      throw e;
    }
    if (old) await fs.remove(old);
  } catch (e) {
    await fs.remove(temp).catch(() => {});
    throw e;
  }
}
