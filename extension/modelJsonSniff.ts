/**
 * Cheap look at a JSON document's start to tell whether it is a Keras / TF.js model or a weight dump, for the
 * "Open with Keras Lens" editor-title action and the Predict model picker. Reads at most the first 64 KiB; never
 * parses the whole document. Pure.
 */

export type KerasJsonKind = 'keras-architecture' | 'tfjs-model' | 'weights-dump';

const HEAD = 64 * 1024;

export function sniffKerasJson(text: string): KerasJsonKind | null {
  const head = text.slice(0, HEAD);
  if (!/^\s*[[{]/.test(head)) return null;
  if (/"(modelTopology|weightsManifest)"\s*:/.test(head)) return 'tfjs-model';
  if (/"class_name"\s*:\s*"(Sequential|Model|Functional)"/.test(head) && /"config"\s*:/.test(head)) return 'keras-architecture';
  // to_json() of a custom Model subclass: the object opens with one of Keras's own top-level keys.
  if (/^\s*\{\s*"(class_name|config|keras_version|backend)"\s*:/.test(head) && /"class_name"\s*:/.test(head) && /"config"\s*:/.test(head)) return 'keras-architecture';
  // {"lstm_1/kernel:0": {"data": [...], "shape": [...]}} or {"lstm_1": {"kernel": ...}} style dumps
  if (/"[\w./-]*(kernel|recurrent_kernel|bias|embeddings|gamma|beta|moving_mean|moving_variance)(:\d+)?"\s*:/.test(head) && /"(shape|data)"\s*:/.test(head)) return 'weights-dump';
  if (/"[\w./-]+_[WUb](_[icfozrh])?(:\d+)?"\s*:\s*[[{]/.test(head)) return 'weights-dump';
  return null;
}
