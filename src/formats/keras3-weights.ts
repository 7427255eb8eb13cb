/**
 * Keras 3 weights (`.weights.h5`, and `model.weights.h5` inside a `.keras` zip).
 *
 * Layout, from keras/src/saving/saving_lib.py (_save_state / _save_container_state / H5Entry):
 *   - groups are NOT named after layers: a model's `layers` container is walked in order and every saveable gets
 *     `layers/<to_snake_case(class name)>`, with `_1`, `_2`, ... for the 2nd, 3rd, ... of the same class (the counter
 *     runs over all layers of the container, with or without weights);
 *   - Sequential's container excludes its InputLayer, Functional's includes it (`layers/input_layer`);
 *   - each saveable stores its own variables in `<path>/vars/0`, `vars/1`, ... (get_weights order);
 *   - sub-saveables hang below by attribute name: RNN cells under `cell/`, Bidirectional halves under
 *     `forward_layer/` and `backward_layer/`, TimeDistributed's layer under `layer/`, nested models under `layers/`.
 */
import { KerasLensError } from '../model/types';
import type { LayerConfig, LayerWeights, ModelConfig, WeightRef } from '../model/types';
import { kerasSnakeCase, normalizeModelConfig } from '../model/config';
import { Hdf5File, datasetShape, dtypeName, readFloat32, type H5Group } from './hdf5';

export function isKeras3WeightsH5(h5: Hdf5File): boolean {
  const kids = h5.keys(h5.root);
  return kids.includes('layers') || kids.includes('_layer_checkpoint_dependencies');
}

/** Natural order: dense, dense_1, dense_2, ..., dense_10; vars 0, 1, ..., 10. */
export function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/** The order sub-saveables are listed in get_weights(): own vars, then the cell / forward / backward / wrapped layer. */
const CHILD_ORDER = ['vars', 'cell', 'forward_layer', 'backward_layer', 'layer', 'layers'];

function childRank(name: string): number {
  const i = CHILD_ORDER.indexOf(name);
  return i < 0 ? CHILD_ORDER.length : i;
}

/** Every variable under a saveable's group, in get_weights() order. */
function collectVars(h5: Hdf5File, g: H5Group, layer: string, prefix: string, entry: string | null, out: WeightRef[], depth = 0): void {
  if (depth > 32) return;
  const kids = h5.keys(g).sort((a, b) => childRank(a) - childRank(b) || naturalCompare(a, b));
  for (const k of kids) {
    const child = g.get(k);
    if (!child) continue;
    const rel = prefix ? `${prefix}/${k}` : k;
    if (k === 'vars' && h5.isGroup(child)) {
      for (const v of h5.keys(child).sort(naturalCompare)) {
        const ds = child.get(v);
        if (!ds || !h5.isDataset(ds)) continue;
        const name = `${rel}/${v}`;
        out.push({
          layer,
          name,
          path: entry ? `${entry}:/${name}` : `/${name}`,
          shape: datasetShape(ds),
          dtype: h5.stringAttr(ds, 'dtype') === 'bfloat16' ? 'bfloat16' : dtypeName(ds),
          read: async () => {
            if (h5.stringAttr(ds, 'dtype') === 'bfloat16') {
              throw new Error(`${h5.source}: ${name} is stored as bfloat16, which Keras Lens cannot read yet`);
            }
            return readFloat32(h5, ds);
          },
        });
      }
    } else if (h5.isGroup(child)) {
      collectVars(h5, child, layer, rel, entry, out, depth + 1);
    }
  }
}

export interface Keras3WeightsResult {
  kerasVersion: string;
  model: ModelConfig | null;
  layers: LayerWeights[];
}

/** Keras 3 group names for a model's layers container, in order: `lstm`, `dense`, `dense_1`, ... */
export function keras3GroupNames(layers: LayerConfig[]): string[] {
  const used = new Map<string, number>();
  return layers.map((l) => {
    const base = kerasSnakeCase(l.className);
    const n = used.get(base);
    if (n === undefined) {
      used.set(base, 0);
      return base;
    }
    used.set(base, n + 1);
    return `${base}_${n + 1}`;
  });
}

/** The layers of a model's Keras 3 `layers` container (Sequential leaves out its InputLayer). */
export function keras3Container(model: ModelConfig): LayerConfig[] {
  return model.className === 'Sequential' ? model.layers.filter((l) => l.className !== 'InputLayer') : model.layers;
}

export function readKeras3Weights(h5: Hdf5File, rawConfig: unknown, kerasVersion: string | null, entry: string | null): Keras3WeightsResult {
  const source = h5.source;
  const rootName = h5.keys(h5.root).includes('layers') ? 'layers' : '_layer_checkpoint_dependencies';
  const layersGroup = h5.get(`/${rootName}`);
  if (!layersGroup || !h5.isGroup(layersGroup)) throw new KerasLensError(source, `'${rootName}' is not a group`);
  let version = kerasVersion;
  if (version === null && rawConfig && typeof rawConfig === 'object' && !Array.isArray(rawConfig)) {
    const v = (rawConfig as Record<string, unknown>).keras_version;
    if (typeof v === 'string') version = v;
  }
  // A .weights.h5 is written only by Keras 3; '3' says so when the exact release is not recorded.
  version ??= '3';
  const model = rawConfig !== undefined && rawConfig !== null ? normalizeModelConfig(rawConfig, version, source) : null;

  const groupNames = h5.keys(layersGroup).sort(naturalCompare);
  const layers: LayerWeights[] = [];
  const claimed = new Set<string>();
  if (model) {
    const container = keras3Container(model);
    const names = keras3GroupNames(container);
    container.forEach((layer, i) => {
      const g = layersGroup.get(names[i]);
      if (!g || !h5.isGroup(g)) return; // a layer without state may have no group at all
      claimed.add(names[i]);
      const refs: WeightRef[] = [];
      collectVars(h5, g, layer.name, `${rootName}/${names[i]}`, entry, refs);
      if (refs.length) layers.push({ layer: layer.name, weights: refs });
    });
  }
  // Groups no config layer claims (or no config at all): listed under their group path.
  for (const gname of groupNames) {
    if (claimed.has(gname)) continue;
    const g = layersGroup.get(gname);
    if (!g || !h5.isGroup(g)) continue;
    const refs: WeightRef[] = [];
    const path = `${rootName}/${gname}`;
    collectVars(h5, g, path, path, entry, refs);
    if (refs.length) {
      if (model) {
        throw new KerasLensError(
          source,
          `weights group '${path}' matches no layer of the architecture (Keras 3 names groups by layer class and order)`,
        );
      }
      layers.push({ layer: path, weights: refs });
    }
  }
  return { kerasVersion: version, model, layers };
}
