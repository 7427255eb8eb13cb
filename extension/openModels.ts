/**
 * The model files open in Keras Lens editors, and which one the user looked at last: hovers use its report (real
 * units and layer names), Predict uses its file. No Keras knowledge: it only remembers reports.
 */
import type { InspectReport } from '../src/explain/inspect';

export interface OpenModelEntry {
  /** File system path of the model file. */
  path: string;
  /** Architecture joined to a weights-only file, if any. */
  configPath?: string;
  report: InspectReport;
}

export class OpenModels {
  private readonly open = new Map<string, OpenModelEntry>();
  private last: string | null = null;

  /** A Keras Lens editor showing `entry.path` became active (or finished loading while active). */
  activate(entry: OpenModelEntry): void {
    this.open.set(entry.path, entry);
    this.last = entry.path;
  }

  update(entry: OpenModelEntry): void {
    this.open.set(entry.path, entry);
  }

  /** The document was closed in every editor. */
  close(path: string): void {
    this.open.delete(path);
    if (this.last === path) this.last = [...this.open.keys()].pop() ?? null;
  }

  /** The model the user looked at last, if still open. */
  get active(): OpenModelEntry | null {
    return this.last ? (this.open.get(this.last) ?? null) : null;
  }
}
