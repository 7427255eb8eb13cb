/**
 * The keras-js reference cases (Keras 2.0/2.1, TensorFlow backend) as one-layer model files: the case's layer through
 * formats' singleLayerModel, its weights as stored arrays with Keras 2 names. Shared by the conformance test and the
 * export test.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { singleLayerModel } from '../../src/model/config';
import type { ModelFile, WeightRef } from '../../src/model/types';

export const ROOT = join(__dirname, '../../../shared/keras-reference/keras-js');
export const KERAS_VERSION = '2.1.2';
export const TOLERANCE = 1e-5;

interface Stored {
  data: number[];
  shape: number[];
}
export interface CaseData {
  input: Stored;
  weights?: Stored[];
  expected: Stored;
}
export interface CaseIndex {
  layer?: { class_name: string; config: Record<string, unknown> };
  function?: { name: string; kwargs: Record<string, unknown> };
  input_shape: number[];
  weights?: string[];
  stateful?: boolean;
}

export const index = JSON.parse(readFileSync(join(ROOT, 'cases.json'), 'utf8')) as {
  files: Record<string, { cases: Record<string, CaseIndex> }>;
};

function snake(className: string): string {
  return className.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

/** The activation function cases as the activation layer that computes them. */
function activationLayer(fn: { name: string; kwargs: Record<string, unknown> }): { class_name: string; config: Record<string, unknown> } {
  const name = fn.name.replace(/^keras\.activations\./, '');
  const kw = fn.kwargs ?? {};
  if (Object.keys(kw).length === 0) return { class_name: 'Activation', config: { activation: name } };
  if (name === 'elu') return { class_name: 'ELU', config: { alpha: kw.alpha } };
  if (name === 'relu') return { class_name: 'ReLU', config: { max_value: kw.max_value ?? null, negative_slope: kw.alpha ?? 0 } };
  throw new Error(`no activation layer for ${fn.name} ${JSON.stringify(kw)}`);
}

/** Keras 2 weight names: `<layer>/<role>:0`; Bidirectional halves `<layer>/forward_<inner>/<role>:0`. */
function weightName(layerName: string, innerName: string | null, role: string): string {
  const m = /^(forward|backward)\/(.+)$/.exec(role);
  if (m && innerName) return `${layerName}/${m[1]}_${innerName}/${m[2]}:0`;
  return `${layerName}/${role}:0`;
}

export function caseModelFile(key: string, c: CaseIndex, data: CaseData): ModelFile {
  const rawLayer = c.layer ? structuredClone(c.layer) : activationLayer(c.function!);
  const layerName = `${snake(rawLayer.class_name)}_1`;
  rawLayer.config.name = layerName;
  let innerName: string | null = null;
  const inner = rawLayer.config.layer as { class_name: string; config: Record<string, unknown> } | undefined;
  if (inner) {
    innerName = `${snake(inner.class_name)}_1`;
    inner.config.name = innerName;
  }
  const config = singleLayerModel(rawLayer, [c.input_shape], KERAS_VERSION);
  const roles = c.weights ?? [];
  const stored = data.weights ?? [];
  assert.equal(stored.length, roles.length, `${key}: weights listed in cases.json vs stored`);
  const weights: WeightRef[] = stored.map((w, i) => ({
    layer: layerName,
    name: weightName(layerName, innerName, roles[i]),
    path: `${key}/weights/${i}`,
    shape: w.shape,
    dtype: 'float32',
    read: async () => Float32Array.from(w.data),
  }));
  return {
    source: `keras-js ${key}`,
    format: 'weights-json',
    kerasVersion: KERAS_VERSION,
    backend: 'tensorflow',
    model: config,
    layers: weights.length ? [{ layer: layerName, weights }] : [],
    close() {},
  };
}

