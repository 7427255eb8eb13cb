/**
 * The legacy Keras HDF5 layout, shared by Keras 1.x, Keras 2.x, tf.keras and Keras 3's legacy `.h5`:
 *
 *   full model (model.save):   root attrs keras_version, backend, model_config (JSON)
 *                              /model_weights  attr layer_names (or layer_names0, layer_names1, ... when > 64 KB)
 *                              /model_weights/<layer>  attr weight_names (or weight_names0, ...)
 *                              /model_weights/<layer>/<weight name>  dataset (the name may contain '/')
 *   weights only (save_weights): the same with /model_weights replaced by the root.
 *
 * Weight names: Keras 1 `lstm_1_W_i:0` (TensorFlow) / `lstm_1_W_i` (Theano); Keras 2 `lstm_1/kernel:0`;
 * tf.keras `lstm/lstm_cell/kernel:0`, `bidirectional/forward_lstm/kernel:0`; Keras 3 legacy `sequential/lstm/lstm_cell/kernel`.
 */
import { KerasLensError } from '../model/types';
import { shortText } from '../model/text';
import type { FormatId, LayerWeights, ModelConfig, WeightRef } from '../model/types';
import { normalizeModelConfig } from '../model/config';
import { hasListAttr, stringListAttr, type H5Node, type Hdf5File } from './hdf5';
import { parseJsonText } from './json-guard';
import { matchWeightsByOrder } from './architecture-match';

export interface LegacyH5Result {
  format: FormatId;
  kerasVersion: string | null;
  backend: string | null;
  model: ModelConfig | null;
  layers: LayerWeights[];
}

/** True when the root looks like the legacy Keras layout. */
export function isLegacyKerasH5(h5: Hdf5File): boolean {
  const root = h5.root;
  const kids = h5.keys(root);
  if (kids.includes('model_weights')) return true;
  return hasListAttr(h5, root, 'layer_names');
}

export function readLegacyKerasH5(h5: Hdf5File, externalConfig: unknown | undefined): LegacyH5Result {
  const source = h5.source;
  const root = h5.root;
  const full = h5.keys(root).includes('model_weights');
  const weightsRoot = full ? h5.get('/model_weights') : root;
  if (!weightsRoot || !h5.isGroup(weightsRoot)) {
    throw new KerasLensError(source, "'model_weights' is not a group (damaged Keras file)");
  }
  const kerasVersion = h5.stringAttr(root, 'keras_version') ?? h5.stringAttr(weightsRoot, 'keras_version');
  let backend = h5.stringAttr(root, 'backend') ?? h5.stringAttr(weightsRoot, 'backend');
  const layerNames = stringListAttr(h5, weightsRoot, 'layer_names');
  if (!layerNames) {
    throw new KerasLensError(source, `${full ? "'model_weights'" : 'the file'} has no layer_names attribute (not a Keras weight file)`);
  }

  const layers: LayerWeights[] = [];
  const allNames: string[] = [];
  for (const layerName of layerNames) {
    const g = h5.child(weightsRoot, layerName);
    if (!g || !h5.isGroup(g)) {
      throw new KerasLensError(source, `layer_names lists '${shortText(layerName)}' but the file has no group for it`);
    }
    const weightNames = stringListAttr(h5, g, 'weight_names') ?? oldStyleWeightNames(h5, g);
    if (!weightNames) throw new KerasLensError(source, `layer '${shortText(layerName)}' has no weight_names attribute`);
    const refs: WeightRef[] = [];
    for (const weightName of weightNames) {
      refs.push(legacyWeightRef(h5, g, layerName, weightName));
      allNames.push(weightName);
    }
    if (refs.length) layers.push({ layer: layerName, weights: refs });
  }

  const family = kerasFamily(kerasVersion, allNames);
  if (family === '1' && backend === null && allNames.length > 0) {
    // Keras 1.2 wrote no backend attribute; TensorFlow variable names end in ':0', Theano ones do not.
    backend = allNames.every((n) => n.endsWith(':0')) ? 'tensorflow' : allNames.some((n) => n.endsWith(':0')) ? null : 'theano';
  }
  const format: FormatId =
    family === '3' ? 'keras3-legacy-h5' : family === '1' ? (full ? 'keras1-h5' : 'keras1-weights-h5') : full ? 'keras2-h5' : 'keras2-weights-h5';

  let model: ModelConfig | null = null;
  const configVersion = kerasVersion ?? (family === '1' ? '1' : null);
  if (externalConfig !== undefined) {
    // model.to_json() records the Keras that wrote the architecture; its spelling follows that version.
    const v = externalConfig && typeof externalConfig === 'object' ? (externalConfig as Record<string, unknown>).keras_version : undefined;
    model = normalizeModelConfig(externalConfig, typeof v === 'string' ? v : configVersion, source);
  } else {
    const text = h5.stringAttr(root, 'model_config');
    if (text !== null) model = normalizeModelConfig(parseJsonText(text, source, 'the model_config attribute'), configVersion, source);
  }
  // Weights-only files joined to an architecture from another session: pair by order, as Keras's load_weights does.
  const split = model ? splitNestedModelWeights(model, layers) : layers;
  const matched = model && !full ? matchWeightsByOrder(model, configVersion, split, source) : split;
  return { format, kerasVersion, backend, model, layers: matched };
}

/** '1', '2' or '3' from the version attribute, or from the weight names when the file has no version. */
function kerasFamily(kerasVersion: string | null, weightNames: string[]): '1' | '2' | '3' {
  if (kerasVersion) {
    if (/^1\./.test(kerasVersion)) return '1';
    if (/^3\./.test(kerasVersion)) return '3';
    return '2';
  }
  // Keras 1 names are `<layer>_<W|U|b>...` without '/'; Keras 2 names are `<layer>/<weight>:0`.
  if (weightNames.length && weightNames.every((n) => !n.includes('/'))) return '1';
  return '2';
}

function legacyWeightRef(h5: Hdf5File, g: H5Node, layer: string, weightName: string): WeightRef {
  const ds = h5.child(g, weightName);
  if (!ds || !h5.isDataset(ds)) {
    throw new KerasLensError(h5.source, `layer '${shortText(layer)}' lists weight '${shortText(weightName)}' but the file has no such dataset`);
  }
  const path = `${h5.path(g)}/${weightName}`;
  return {
    layer,
    name: weightName,
    path,
    shape: h5.shape(ds),
    dtype: h5.dtype(ds),
    read: () => h5.readFloat32(ds),
  };
}

/**
 * A nested model (Sequential/Functional used as a layer) is one group in the file holding all its layers' weights;
 * the normaliser inlined its layers (LayerConfig.nestedIn). Hand each weight to the inner layer its name starts
 * with: `lstm_1/kernel:0` (Keras 2), `lstm_1_W_i` (Keras 1), `sequential/lstm/lstm_cell/kernel` (Keras 3 legacy).
 */
export function splitNestedModelWeights(model: ModelConfig, layers: LayerWeights[]): LayerWeights[] {
  if (!model.layers.some((l) => l.nestedIn)) return layers;
  const out: LayerWeights[] = [];
  for (const lw of layers) {
    const inner = model.layers.filter((l) => l.nestedIn && (l.nestedIn === lw.layer || l.nestedIn.startsWith(`${lw.layer}/`)));
    if (!inner.length || model.layers.some((l) => l.name === lw.layer)) {
      out.push(lw);
      continue;
    }
    const groups = new Map<string, WeightRef[]>();
    for (const w of lw.weights) {
      const segments = w.name.split('/');
      const owner =
        inner.find((l) => segments.includes(l.storedName ?? l.name)) ??
        inner.find((l) => segments[0].startsWith(`${l.storedName ?? l.name}_`));
      const name = owner?.name ?? lw.layer;
      const list = groups.get(name) ?? [];
      list.push({ ...w, layer: name });
      groups.set(name, list);
    }
    for (const [layer, weights] of groups) out.push({ layer, weights });
  }
  return out;
}

/** Keras 0.x/1.0 wrote no weight_names: `nb_params` and datasets param_0, param_1, ... (in order). */
function oldStyleWeightNames(h5: Hdf5File, g: H5Node): string[] | null {
  const n = h5.numberAttr(g, 'nb_params');
  if (n === null) return null;
  if (!Number.isInteger(n) || n < 0 || n > 10_000) return null;
  const names = Array.from({ length: n }, (_, i) => `param_${i}`);
  const kids = new Set(h5.keys(g));
  return names.every((x) => kids.has(x)) ? names : null;
}
