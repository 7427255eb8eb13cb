/**
 * JSON model files:
 *  - 'keras-json':   `model.to_json()` of any Keras generation (architecture only, no weights);
 *  - 'tfjs-json':    a TF.js layers `model.json` (`modelTopology` + `weightsManifest` pointing at `.bin` shards
 *                    beside it; float32/int32 and uint8/uint16/float16 `quantization`);
 *  - 'weights-json': a dump of weights joined to an architecture (from configPath, or embedded as
 *                    `{"config": <to_json>, "weights": [...]}`):
 *                      `[w.tolist() for w in model.get_weights()]` (nested lists, split into layers with each layer
 *                      kind's weight count), `[{data, shape}, ...]` (same split), `{name: {data, shape}}` or
 *                      `{name: nested list}` (grouped by the layer name before the first '/').
 *
 * Platform-neutral: the caller gives the text, and a `ShardLocator` for the `.bin` shards a TF.js model.json names
 * (open.ts on disk, with its checks that a shard stays inside the model.json folder); without one (the browser,
 * bytes.ts) a model.json with shards is refused in one line.
 */
import { KerasLensError } from '../model/types';
import type { KindContext, LayerConfig, LayerWeights, ModelConfig, ModelFile, WeightRef } from '../model/types';
import { normalizeModelConfig } from '../model/config';
import { kindFor } from '../model/kinds/index';
import { outputShapesByLayer, inputShapesOf } from './architecture-match';
import { halfToFloat } from './hdf5';
import { isPlainObject, own, parseJsonText } from './json-guard';
import type { ByteSource } from './detect';

/**
 * Finds the weight shard a TF.js manifest names (`path` is already URL-decoded; `raw` is as written), refusing
 * paths that leave the model.json folder; throws a KerasLensError naming the shard.
 */
export type ShardLocator = (path: string, raw: string) => Promise<ByteSource>;

/** Open a JSON model file from its text. */
export async function openJsonModel(text: string, source: string, externalConfig: unknown, configPath: string | null, shards: ShardLocator | null): Promise<ModelFile> {
  const v = parseJsonText(text, source, 'the file');
  if (isPlainObject(v) && isPlainObject(own(v, 'modelTopology'))) return openTfjs(shards, source, v, externalConfig);
  if (isPlainObject(v) && typeof own(v, 'class_name') === 'string' && own(v, 'config') !== undefined && own(v, 'weights') === undefined) {
    const kerasVersion = typeof own(v, 'keras_version') === 'string' ? (own(v, 'keras_version') as string) : null;
    return {
      source,
      format: 'keras-json',
      kerasVersion,
      backend: typeof own(v, 'backend') === 'string' ? (own(v, 'backend') as string) : null,
      model: normalizeModelConfig(v, kerasVersion, source),
      layers: [],
      close() {},
    };
  }
  // A weight dump, with an embedded or external architecture.
  let arch: unknown = externalConfig;
  let weights: unknown = v;
  let base = '';
  const embeddedArch = (o: Record<string, unknown>): unknown => {
    const c = own(o, 'config') ?? own(o, 'model_config');
    // Dumps sometimes keep model.to_json() as the string it returns.
    return typeof c === 'string' ? parseJsonText(c, source, 'the embedded architecture') : c;
  };
  if (isPlainObject(v) && own(v, 'weights') !== undefined && isPlainObject(embeddedArch(v))) {
    const embedded = embeddedArch(v);
    arch ??= embedded;
    weights = own(v, 'weights');
    base = '/weights';
  }
  return openWeightsJson(source, weights, arch, base, configPath);
}

// ---------------------------------------------------------------------------------------------
// Tensors from JSON
// ---------------------------------------------------------------------------------------------

interface JsonTensor {
  shape: number[];
  data: Float32Array;
}

function isTensorObject(v: unknown): v is Record<string, unknown> {
  return isPlainObject(v) && own(v, 'data') !== undefined && Array.isArray(own(v, 'shape'));
}

/** Shape of a rectangular nested list, and its numbers in row-major order. */
function fromNested(v: unknown, source: string, where: string): JsonTensor {
  if (typeof v === 'number' || v === null) return { shape: [], data: Float32Array.of(v === null ? NaN : v) };
  const shape: number[] = [];
  let cur: unknown = v;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    if (cur.length === 0) break;
    cur = cur[0];
  }
  const total = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(total);
  let k = 0;
  const walk = (x: unknown, d: number) => {
    if (d === shape.length) {
      if (typeof x !== 'number' && x !== null) throw new KerasLensError(source, `${where} holds a non-number`);
      data[k++] = x === null ? NaN : x;
      return;
    }
    if (!Array.isArray(x) || x.length !== shape[d]) throw new KerasLensError(source, `${where} is not a rectangular array`);
    for (const y of x) walk(y, d + 1);
  };
  walk(v, 0);
  return { shape, data };
}

function fromTensorObject(o: Record<string, unknown>, source: string, where: string): JsonTensor {
  const shape = own(o, 'shape') as unknown[];
  if (!shape.every((d) => Number.isInteger(d) && (d as number) >= 0)) throw new KerasLensError(source, `${where} has a bad shape`);
  const flat = fromNested(own(o, 'data'), source, where);
  const want = (shape as number[]).reduce((a, b) => a * b, 1);
  if (flat.data.length !== want) {
    throw new KerasLensError(source, `${where} has ${flat.data.length} numbers but shape [${shape.join(', ')}] needs ${want}`);
  }
  return { shape: shape as number[], data: flat.data };
}

function toTensor(v: unknown, source: string, where: string): JsonTensor {
  return isTensorObject(v) ? fromTensorObject(v, source, where) : fromNested(v, source, where);
}

function jsonRef(layer: string, name: string, path: string, t: JsonTensor): WeightRef {
  return { layer, name, path, shape: t.shape, dtype: 'float32', read: async () => t.data.slice() };
}

// ---------------------------------------------------------------------------------------------
// weights-json
// ---------------------------------------------------------------------------------------------

function openWeightsJson(source: string, weights: unknown, arch: unknown, base: string, configPath: string | null): ModelFile {
  let kerasVersion: string | null = null;
  let backend: string | null = null;
  if (isPlainObject(arch)) {
    if (typeof own(arch, 'keras_version') === 'string') kerasVersion = own(arch, 'keras_version') as string;
    if (typeof own(arch, 'backend') === 'string') backend = own(arch, 'backend') as string;
  }
  const model = arch !== undefined ? normalizeModelConfig(arch, kerasVersion, configPath ?? source) : null;
  let layers: LayerWeights[];
  if (Array.isArray(weights)) {
    const tensors = weights.map((w, i) => toTensor(w, source, `weight #${i}`));
    if (model) layers = splitFlatList(model, kerasVersion, tensors, source, base);
    else if (tensors.length === 0) layers = [];
    else {
      throw new KerasLensError(
        source,
        'a flat list of weights needs the architecture to tell which layer each belongs to (give the model.to_json() file as the config)',
      );
    }
  } else if (isPlainObject(weights)) {
    layers = groupNamedTensors(weights, model, source, base);
  } else {
    throw new KerasLensError(source, 'JSON that is neither a Keras architecture, a TF.js model.json nor a weight dump');
  }
  return { source, format: 'weights-json', kerasVersion, backend, model, layers, close() {} };
}

/** Split `model.get_weights()` into layers using each layer kind's weight roles. */
export function splitFlatList(model: ModelConfig, kerasVersion: string | null, tensors: JsonTensor[], source: string, base: string): LayerWeights[] {
  const shapes = outputShapesByLayer(model, kerasVersion);
  const out: LayerWeights[] = [];
  let next = 0;
  for (const layer of model.layers) {
    if (layer.className === 'InputLayer') continue;
    const kind = kindFor(layer.className);
    if (!kind) {
      throw new KerasLensError(
        source,
        `layer '${layer.name}' is a ${layer.className}, which Keras Lens does not know, so the flat weight list cannot be split into layers`,
      );
    }
    const ctx: KindContext = { kerasVersion, inputShapes: inputShapesOf(layer, shapes) };
    const roles = kind.weightRoles(layer, ctx);
    if (roles.length === 0) continue;
    if (next + roles.length > tensors.length) {
      throw new KerasLensError(source, `the weight list has ${tensors.length} arrays but the architecture needs more (ran out at layer '${layer.name}')`);
    }
    const refs = roles.map((role, i) => {
      const t = tensors[next + i];
      const innerName = layer.inner?.name ?? layer.name;
      const name = role.direction ? `${layer.name}/${role.direction}_${innerName}/${role.role}` : `${layer.name}/${role.role}`;
      return jsonRef(layer.name, name, `${base}/${next + i}`, t);
    });
    next += roles.length;
    out.push({ layer: layer.name, weights: refs });
  }
  if (next !== tensors.length) {
    throw new KerasLensError(source, `the weight list has ${tensors.length} arrays but the architecture needs ${next}`);
  }
  return out;
}

function groupNamedTensors(obj: Record<string, unknown>, model: ModelConfig | null, source: string, base: string): LayerWeights[] {
  const layerNames = new Set(model?.layers.map((l) => l.name) ?? []);
  const groups = new Map<string, WeightRef[]>();
  const add = (layer: string, ref: WeightRef) => {
    const g = groups.get(layer);
    if (g) g.push(ref);
    else groups.set(layer, [ref]);
  };
  for (const key of Object.keys(obj)) {
    const v = obj[key];
    const where = `weight '${key}'`;
    if (Array.isArray(v) && v.length > 0 && v.every(isTensorObject)) {
      // {layer: [{data, shape}, ...]}: one layer's get_weights()
      v.forEach((t, i) => add(key, jsonRef(key, `${key}/${i}`, `${base}/${escapePointer(key)}/${i}`, fromTensorObject(t as Record<string, unknown>, source, `${where} #${i}`))));
      continue;
    }
    if (!Array.isArray(v) && !isTensorObject(v)) {
      throw new KerasLensError(
        source,
        `JSON that is neither a Keras architecture, a TF.js model.json nor a weight dump ('${key.slice(0, 60)}' is not an array or {data, shape})`,
      );
    }
    const t = toTensor(v, source, where);
    const segments = key.split('/');
    const layer = segments.find((s) => layerNames.has(s)) ?? (segments.length > 1 ? segments[0] : key);
    add(layer, jsonRef(layer, key, `${base}/${escapePointer(key)}`, t));
  }
  return [...groups].map(([layer, weights]) => ({ layer, weights }));
}

function escapePointer(k: string): string {
  return k.replace(/~/g, '~0').replace(/\//g, '~1');
}

// ---------------------------------------------------------------------------------------------
// TF.js layers model.json
// ---------------------------------------------------------------------------------------------

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

async function openTfjs(locate: ShardLocator | null, source: string, v: Record<string, unknown>, externalConfig: unknown): Promise<ModelFile> {
  const topology = own(v, 'modelTopology') as Record<string, unknown>;
  const inner = isPlainObject(own(topology, 'model_config')) ? (own(topology, 'model_config') as Record<string, unknown>) : topology;
  const kerasVersion =
    typeof own(topology, 'keras_version') === 'string'
      ? (own(topology, 'keras_version') as string)
      : typeof own(inner, 'keras_version') === 'string'
        ? (own(inner, 'keras_version') as string)
        : null;
  const backend = typeof own(topology, 'backend') === 'string' ? (own(topology, 'backend') as string) : null;
  const model = normalizeModelConfig(externalConfig ?? topology, kerasVersion, source);
  const manifest = own(v, 'weightsManifest');
  const layerNames = new Set(model.layers.map((l) => l.name));
  const groups = new Map<string, WeightRef[]>();
  if (manifest !== undefined && !Array.isArray(manifest)) throw new KerasLensError(source, 'weightsManifest is not a list');
  for (const [gi, group] of ((manifest as unknown[]) ?? []).entries()) {
    if (!isPlainObject(group) || !Array.isArray(own(group, 'paths')) || !Array.isArray(own(group, 'weights'))) {
      throw new KerasLensError(source, `weightsManifest[${gi}] has no paths/weights lists`);
    }
    const shards: ByteSource[] = [];
    for (const p of own(group, 'paths') as unknown[]) {
      if (typeof p !== 'string') throw new KerasLensError(source, `weightsManifest[${gi}] has a non-string path`);
      let decoded: string;
      try {
        decoded = decodeURIComponent(p);
      } catch {
        throw new KerasLensError(source, `weight shard path '${p.slice(0, 200)}' is not a valid URL-encoded path`);
      }
      if (!locate) throw new KerasLensError(source, `weight shard '${p}' cannot be read here: only the model.json itself was given (open the model where its folder is on disk)`);
      shards.push(await locate(decoded, p));
    }
    const groupBytes = shards.reduce((s, x) => s + x.size, 0);
    let offset = 0;
    for (const w of own(group, 'weights') as unknown[]) {
      if (!isPlainObject(w) || typeof own(w, 'name') !== 'string' || !Array.isArray(own(w, 'shape'))) {
        throw new KerasLensError(source, `weightsManifest[${gi}] has a weight without name/shape`);
      }
      const name = own(w, 'name') as string;
      const shape = (own(w, 'shape') as unknown[]).map(Number);
      if (!shape.every((d) => Number.isInteger(d) && d >= 0)) throw new KerasLensError(source, `weight '${name}' has a bad shape`);
      const dtype = typeof own(w, 'dtype') === 'string' ? (own(w, 'dtype') as string) : 'float32';
      const q = isPlainObject(own(w, 'quantization')) ? (own(w, 'quantization') as Record<string, unknown>) : null;
      const storeType = q && typeof own(q, 'dtype') === 'string' ? (own(q, 'dtype') as string) : dtype;
      const bytesPer = DTYPE_BYTES[storeType];
      if (!bytesPer) throw new KerasLensError(source, `weight '${name}' has dtype '${storeType}', which Keras Lens cannot read`);
      const count = shape.reduce((a, b) => a * b, 1);
      const len = count * bytesPer;
      if (offset + len > groupBytes) {
        throw new KerasLensError(source, `weight '${name}' runs past the end of its shards (${groupBytes} bytes)`);
      }
      const start = offset;
      offset += len;
      const segments = name.split('/');
      const layer = segments.find((s) => layerNames.has(s)) ?? segments[0];
      const ref: WeightRef = {
        layer,
        name,
        path: `${(own(group, 'paths') as string[]).join('+')}@${start}`,
        shape,
        dtype: q ? `${storeType} (quantized ${dtype})` : dtype,
        read: async () => decodeTfjs(await readShardRange(shards, start, len), storeType, count, q),
      };
      const g = groups.get(layer);
      if (g) g.push(ref);
      else groups.set(layer, [ref]);
    }
  }
  return {
    source,
    format: 'tfjs-json',
    kerasVersion,
    backend,
    model,
    layers: [...groups].map(([layer, weights]) => ({ layer, weights })),
    close() {},
  };
}

async function readShardRange(shards: ByteSource[], start: number, len: number): Promise<Uint8Array> {
  const out = new Uint8Array(len);
  let pos = 0; // offset of the current shard in the group
  let done = 0;
  for (const s of shards) {
    const from = Math.max(start + done, pos);
    const to = Math.min(start + len, pos + s.size);
    if (from < to) {
      out.set(await s.read(from - pos, to - from), done);
      done += to - from;
    }
    pos += s.size;
    if (done === len) break;
  }
  return out;
}

function decodeTfjs(bytes: Uint8Array, storeType: string, count: number, q: Record<string, unknown> | null): Float32Array {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(count);
  const scale = q && typeof own(q, 'scale') === 'number' ? (own(q, 'scale') as number) : 1;
  const min = q && typeof own(q, 'min') === 'number' ? (own(q, 'min') as number) : 0;
  for (let i = 0; i < count; i++) {
    let x: number;
    switch (storeType) {
      case 'float32':
        x = dv.getFloat32(i * 4, true);
        break;
      case 'int32':
        x = dv.getInt32(i * 4, true);
        break;
      case 'uint16':
        x = dv.getUint16(i * 2, true);
        break;
      case 'float16':
        x = halfToFloat(dv.getUint16(i * 2, true));
        break;
      default:
        x = dv.getUint8(i);
    }
    out[i] = q && (storeType === 'uint8' || storeType === 'uint16') ? x * scale + min : x;
  }
  return out;
}
