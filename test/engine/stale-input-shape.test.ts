/**
 * A tf.keras 2.3 Sequential whose every layer carries `batch_input_shape` (users pass input_shape to each layer;
 * Keras uses it only on the first layer and ignores it after). Source of truth: Keras's rule itself — the stale
 * keys must change nothing, so the file must predict exactly what the same file without them predicts (that
 * path is pinned to real Keras by the conformance suites), and inspect must report the same shapes as predict's
 * graph. Before the fix predict bound the second LSTM's kernel against the stale (5, 3) and refused the file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeKeras2H5, type RawModelConfig } from '../fixtures/writers';
import { seededRandom } from '../fixtures/models';
import { openModelFile } from '../../src/formats/open';
import { buildModel, tensorKey } from '../../src/model/graph';
import { predict } from '../../src/engine/predict';
import { inspectModel } from '../../src/explain/inspect';

const STALE = [null, 5, 3];

function lstm(name: string, units: number, returnSequences: boolean, stale: boolean) {
  return {
    class_name: 'LSTM',
    config: {
      name, trainable: true, dtype: 'float32', units, return_sequences: returnSequences, return_state: false, go_backwards: false,
      stateful: false, unroll: false, time_major: false, activation: 'tanh', recurrent_activation: 'sigmoid', use_bias: true,
      unit_forget_bias: true, dropout: 0.0, recurrent_dropout: 0.0, implementation: 2,
      ...(stale ? { batch_input_shape: STALE } : {}),
    },
  };
}

function sequential(stale: boolean, withInputLayer: boolean): RawModelConfig {
  return {
    class_name: 'Sequential',
    config: {
      name: 'sequential',
      layers: [
        // tf.keras 2.3+ lists the InputLayer first in a Sequential's config; older writers start at the first layer
        ...(withInputLayer ? [{ class_name: 'InputLayer', config: { batch_input_shape: STALE, dtype: 'float32', sparse: false, ragged: false, name: 'lstm_input' } }] : []),
        lstm('lstm', 8, true, true),
        lstm('lstm_1', 4, false, stale),
        { class_name: 'Dense', config: { name: 'dense', trainable: true, dtype: 'float32', units: 2, activation: 'linear', use_bias: true, ...(stale ? { batch_input_shape: STALE } : {}) } },
      ],
    },
  };
}

test('tf.keras 2.3 Sequential with stale batch_input_shape on later layers: predict ignores it like Keras; inspect agrees', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'keras-lens-stale-'));
  try {
    const rnd = seededRandom(23);
    const w = (name: string, shape: number[]) => ({ name, shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rnd() - 0.5) });
    const layers = [
      { name: 'lstm', weights: [w('lstm/lstm_cell/kernel:0', [3, 32]), w('lstm/lstm_cell/recurrent_kernel:0', [8, 32]), w('lstm/lstm_cell/bias:0', [32])] },
      { name: 'lstm_1', weights: [w('lstm_1/lstm_cell_1/kernel:0', [8, 16]), w('lstm_1/lstm_cell_1/recurrent_kernel:0', [4, 16]), w('lstm_1/lstm_cell_1/bias:0', [16])] },
      { name: 'dense', weights: [w('dense/kernel:0', [4, 2]), w('dense/bias:0', [2])] },
    ];
    const x = { shape: [2, 5, 3], data: Float64Array.from({ length: 30 }, () => rnd() * 2 - 1) };
    const outputs: Float64Array[] = [];
    for (const [stale, withInputLayer] of [[true, true], [true, false], [false, true]]) {
      const path = join(dir, `stale-${stale}-${withInputLayer}.h5`);
      await writeKeras2H5(path, { kerasVersion: '2.3.0-tf', modelConfig: sequential(stale, withInputLayer), layers });
      const file = await openModelFile(path);
      try {
        const model = await buildModel(file);
        const r = await predict(model, x);
        assert.deepEqual(r.outputs[0].shape, [2, 2]);
        outputs.push(r.outputs[0].data as Float64Array);
        const report = await inspectModel(file);
        for (const l of report.layers) {
          assert.deepEqual(l.outputShape, model.shapes.get(tensorKey({ layer: l.name, node: 0, tensor: 0 })), `${l.name}: inspect vs predict shape`);
        }
        const lstm1 = report.layers.find((l) => l.name === 'lstm_1')!;
        assert.deepEqual(lstm1.outputShape, [null, 4]);
      } finally {
        file.close();
      }
    }
    assert.deepEqual(Array.from(outputs[0]), Array.from(outputs[2]), 'stale keys change nothing');
    assert.deepEqual(Array.from(outputs[1]), Array.from(outputs[2]), 'stale keys change nothing (no InputLayer listed)');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
