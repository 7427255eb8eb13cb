/**
 * The independent oracle: TensorFlow.js layers (cpu backend) runs a model with seeded random weights; Keras Lens
 * runs the same Keras-2-style config (model.toJSON()) with the same weights; both must agree within 1e-5
 * (|ours − tfjs| <= 1e-5 · max(1, |tfjs|); tfjs computes in float32, we in float64).
 */
import * as tf from '@tensorflow/tfjs';
import { normalizeModelConfig } from '../../src/model/config';
import { buildModel } from '../../src/model/graph';
import { predict, PredictSession } from '../../src/engine/predict';
import type { ModelFile, Tensor, WeightRef } from '../../src/model/types';
import { seededRandom } from '../fixtures/models';

export const TOLERANCE = 1e-5;
const TFJS_VERSION = 'tfjs-layers 4.22.0';

let ready: Promise<void> | null = null;
export function tfReady(): Promise<void> {
  ready ??= (async () => {
    const warn = console.warn;
    console.warn = () => {}; // tfjs greets Node users once ("install tfjs-node"); keep test output clean
    try {
      await tf.setBackend('cpu');
      await tf.ready();
    } finally {
      console.warn = warn;
    }
  })();
  return ready;
}

// The fixtures' seeded PRNG (mulberry32), so every run draws the same configs and weights.
export { seededRandom };

export class Draw {
  constructor(readonly random: () => number) {}
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.random() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.random() * xs.length)];
  }
  bool(p = 0.5): boolean {
    return this.random() < p;
  }
  uniform(n: number, lo = -1, hi = 1): Float32Array {
    return Float32Array.from({ length: n }, () => lo + (hi - lo) * this.random());
  }
}

export interface OracleInput {
  shape: number[];
  data: Float32Array;
  dtype?: 'float32' | 'int32';
}

/** Replaces every weight of the model with seeded random values (moving variances positive). Returns them by name. */
function randomiseWeights(model: tf.LayersModel, draw: Draw): Map<string, Float32Array> {
  const values = new Map<string, Float32Array>();
  for (const layer of model.layers) {
    const ws = layer.weights;
    if (ws.length === 0) continue;
    const tensors = ws.map((w) => {
      const shape = w.shape.map((d) => d ?? 1);
      const n = shape.reduce((a, b) => a * b, 1);
      const data = /moving_variance|variance$/.test(w.originalName) ? draw.uniform(n, 0.5, 1.5) : draw.uniform(n, -0.8, 0.8);
      values.set(w.originalName, data);
      return tf.tensor(data, shape);
    });
    layer.setWeights(tensors);
    tensors.forEach((t) => t.dispose());
  }
  return values;
}

/** The tfjs model as the ModelFile Keras Lens would read from its model.json + weights. */
function asModelFile(model: tf.LayersModel, values: Map<string, Float32Array>, label: string): ModelFile {
  const json = model.toJSON(null, false) as unknown as Record<string, unknown>;
  const config = normalizeModelConfig(json, TFJS_VERSION, label);
  // Arrays grouped by the layer that owns them: the first part of the variable name (`dense_Dense1/kernel`,
  // `bi/forward_lstm_LSTM1/kernel`); for a nested model's inner layers that is the inner layer, as the normaliser
  // inlines nested models and the file readers split their arrays the same way.
  const groups = new Map<string, WeightRef[]>();
  for (const w of model.weights) {
    const owner = w.originalName.split('/')[0];
    const ref: WeightRef = {
      layer: owner,
      name: w.originalName,
      path: w.originalName,
      shape: w.shape.map((d) => d ?? 1),
      dtype: 'float32',
      read: async () => values.get(w.originalName)!,
    };
    groups.set(owner, [...(groups.get(owner) ?? []), ref]);
  }
  const layers = [...groups].map(([layer, weights]) => ({ layer, weights }));
  return { source: label, format: 'tfjs-json', kerasVersion: TFJS_VERSION, backend: 'tensor_flow.js', model: config, layers, close() {} };
}

export interface OracleOutcome {
  worst: number;
  outputs: number;
}

function compare(label: string, ours: Tensor[], theirs: tf.Tensor[]): OracleOutcome {
  if (ours.length !== theirs.length) throw new Error(`${label}: ${ours.length} outputs vs tfjs ${theirs.length}`);
  let worst = 0;
  theirs.forEach((t, i) => {
    const o = ours[i];
    if (o.shape.join(',') !== t.shape.join(',')) {
      throw new Error(`${label}: output ${i} shape (${o.shape.join(', ')}) vs tfjs (${t.shape.join(', ')})`);
    }
    const ref = t.dataSync();
    for (let k = 0; k < ref.length; k++) {
      const err = Math.abs(o.data[k] - ref[k]) / Math.max(1, Math.abs(ref[k]));
      if (!(err <= worst)) worst = Number.isNaN(err) ? Infinity : err;
    }
  });
  if (!(worst <= TOLERANCE)) throw new Error(`${label}: differs from tfjs by ${worst.toExponential(3)} (tolerance ${TOLERANCE})`);
  return { worst, outputs: theirs.length };
}

/**
 * Builds the model with tfjs, randomises its weights, runs both engines on the inputs and compares every output.
 * `calls` > 1 predicts repeatedly in one session (stateful layers), comparing each call.
 */
export async function checkAgainstTfjs(
  label: string,
  build: () => tf.LayersModel,
  inputs: OracleInput[],
  draw: Draw,
  calls = 1,
): Promise<OracleOutcome> {
  await tfReady();
  const model = build();
  try {
    const values = randomiseWeights(model, draw);
    const ours = await buildModel(asModelFile(model, values, label));
    const session = new PredictSession();
    let outcome: OracleOutcome = { worst: 0, outputs: 0 };
    for (let c = 0; c < calls; c++) {
      const xs = inputs.map((x) => tf.tensor(x.dtype === 'int32' ? Int32Array.from(x.data) : x.data, x.shape, x.dtype ?? 'float32'));
      const out = model.predict(xs.length === 1 ? xs[0] : xs);
      const theirs = Array.isArray(out) ? out : [out];
      const result = await predict(
        ours,
        inputs.map((x) => ({ shape: x.shape, data: Float64Array.from(x.data) })),
        { session },
      );
      const o = compare(calls > 1 ? `${label} (call ${c + 1})` : label, result.outputs, theirs);
      outcome = { worst: Math.max(outcome.worst, o.worst), outputs: o.outputs };
      xs.forEach((t) => t.dispose());
      theirs.forEach((t) => t.dispose());
    }
    return outcome;
  } finally {
    model.dispose();
  }
}

export { tf };
