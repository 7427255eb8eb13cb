/**
 * The registry of layer kinds. Adding a layer kind = one file under kinds/ + one line here.
 * Weighted and recurrent kinds live in kinds/*.ts; weightless ones (merges, pooling, reshapes) in kinds/weightless/.
 */
import type { LayerKind } from '../types';
import { weightlessKinds } from './weightless/index';

const weightedKinds: LayerKind[] = [
  // registered by the kinds' files, e.g. lstmKind, gruKind, ...
];

const byClassName = new Map<string, LayerKind>();
for (const kind of [...weightedKinds, ...weightlessKinds]) {
  for (const name of kind.classNames) byClassName.set(name, kind);
}

/** The kind for a Keras class name, or undefined for unknown/custom layers. */
export function kindFor(className: string): LayerKind | undefined {
  return byClassName.get(className);
}

export function knownClassNames(): string[] {
  return [...byClassName.keys()].sort();
}
