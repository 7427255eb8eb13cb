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
import type { H5Node, Hdf5File } from './hdf5';

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
function collectVars(h5: Hdf5File, g: H5Node, layer: string, prefix: string, entry: string | null, out: WeightRef[], depth = 0): void {
  if (depth > 32) return;
  const kids = h5.keys(g).sort((a, b) => childRank(a) - childRank(b) || naturalCompare(a, b));
  for (const k of kids) {
    const child = h5.child(g, k);
    if (!child) continue;
    const rel = prefix ? `${prefix}/${k}` : k;
    if (k === 'vars' && h5.isGroup(child)) {
      for (const v of h5.keys(child).sort(naturalCompare)) {
        const ds = h5.child(child, v);
        if (!ds || !h5.isDataset(ds)) continue;
        const name = `${rel}/${v}`;
        out.push({
          layer,
          name,
          path: entry ? `${entry}:/${name}` : `/${name}`,
          shape: h5.shape(ds),
          dtype: h5.stringAttr(ds, 'dtype') === 'bfloat16' ? 'bfloat16' : h5.dtype(ds),
          read: async () => {
            if (h5.stringAttr(ds, 'dtype') === 'bfloat16') {
              throw new Error(`${h5.source}: ${name} is stored as bfloat16, which Keras Lens cannot read yet`);
            }
            return h5.readFloat32(ds);
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
    const raw = unwrapModelConfig(rawConfig);
    if (raw) {
      mapContainer(h5, raw, layersGroup, rootName, null, model, entry, layers, claimed);
    } else {
      const container = keras3Container(model);
      const names = keras3GroupNames(container);
      container.forEach((layer, i) => {
        const g = h5.child(layersGroup, names[i]);
        if (!g || !h5.isGroup(g)) return; // a layer without state may have no group at all
        claimed.add(names[i]);
        const refs: WeightRef[] = [];
        collectVars(h5, g, layer.name, `${rootName}/${names[i]}`, entry, refs);
        if (refs.length) layers.push({ layer: layer.name, weights: refs });
      });
    }
  }
  // Groups no config layer claims (or no config at all): listed under their group path.
  for (const gname of groupNames) {
    if (claimed.has(gname)) continue;
    const g = h5.child(layersGroup, gname);
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

type RawObj = Record<string, unknown>;
const MODEL_CLASSES = new Set(['Sequential', 'Functional', 'Model']);

function unwrapModelConfig(raw: unknown): RawObj | null {
  let m = raw;
  for (let i = 0; i < 3 && m && typeof m === 'object' && !Array.isArray(m); i++) {
    const o = m as RawObj;
    if (o.modelTopology && typeof o.modelTopology === 'object') m = o.modelTopology;
    else if (o.model_config && typeof o.model_config === 'object') m = o.model_config;
    else break;
  }
  return m && typeof m === 'object' && !Array.isArray(m) && typeof (m as RawObj).class_name === 'string' ? (m as RawObj) : null;
}

function rawLayersOf(model: RawObj): RawObj[] {
  const c = model.config;
  const list = Array.isArray(c) ? c : c && typeof c === 'object' ? (c as RawObj).layers : null;
  if (!Array.isArray(list)) return [];
  const layers = list.filter((l): l is RawObj => !!l && typeof l === 'object' && typeof (l as RawObj).class_name === 'string');
  // Keras 3: Sequential.layers leaves out its InputLayer; Functional.layers keeps it.
  return model.class_name === 'Sequential' ? layers.filter((l) => l.class_name !== 'InputLayer') : layers;
}

function rawName(l: RawObj): string | null {
  const c = l.config as RawObj | undefined;
  if (c && typeof c === 'object' && typeof c.name === 'string') return c.name;
  return typeof l.name === 'string' ? l.name : null;
}

/**
 * Walk one model's Keras 3 `layers` container next to its raw config (so nested models map to their own
 * `<group>/layers/...` containers), binding each group to the normalised layer it became.
 */
function mapContainer(
  h5: Hdf5File,
  rawModel: RawObj,
  group: H5Node,
  groupPath: string,
  nestedPath: string | null,
  model: ModelConfig,
  entry: string | null,
  out: LayerWeights[],
  claimed: Set<string>,
): void {
  const rawLayers = rawLayersOf(rawModel);
  const names = keras3GroupNames(rawLayers.map((l) => ({ className: String(l.class_name) }) as LayerConfig));
  rawLayers.forEach((raw, i) => {
    const g = h5.child(group, names[i]);
    if (nestedPath === null) claimed.add(names[i]);
    if (!g || !h5.isGroup(g)) return;
    const name = rawName(raw);
    const path = `${groupPath}/${names[i]}`;
    if (MODEL_CLASSES.has(String(raw.class_name)) && name) {
      const sub = h5.child(g, 'layers');
      const inlined = model.layers.some((l) => l.nestedIn === (nestedPath ? `${nestedPath}/${name}` : name));
      if (inlined && sub && h5.isGroup(sub)) {
        mapContainer(h5, raw, sub, `${path}/layers`, nestedPath ? `${nestedPath}/${name}` : name, model, entry, out, claimed);
        return;
      }
    }
    const layer = model.layers.find((l) => (l.nestedIn ?? null) === nestedPath && (l.storedName ?? l.name) === name);
    const layerName = layer?.name ?? path;
    const refs: WeightRef[] = [];
    collectVars(h5, g, layerName, path, entry, refs);
    if (refs.length) out.push({ layer: layerName, weights: refs });
  });
}
