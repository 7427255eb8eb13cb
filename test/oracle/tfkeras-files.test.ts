/**
 * The dl4j tf.keras 2.2.4 files carry no predictions; tfjs-layers is the independent oracle for them: it builds the
 * model from the file's own config, gets the file's weights (read through openModelFile, set layer by layer in
 * get_weights order), and both engines run the same seeded input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openModelFile } from '../../src/formats/open';
import { buildModel } from '../../src/model/graph';
import { predict } from '../../src/engine/predict';
import { Draw, seededRandom, tf, tfReady, TOLERANCE } from './tfjs-oracle';

const ROOT = join(__dirname, '../../../shared/keras-reference/dl4j/tfkeras');
const FILES = ['rnn_0', 'rnn_5', 'rnn_6', 'rnn_7', 'rnn_12', 'rnn_20', 'rnn_26', 'rnn_29', 'rnn_44', 'rnn_148', 'convlstm2d_19', 'convlstm2d_0'];

async function rawModelConfig(path: string): Promise<unknown> {
  const h5wasm = await import('h5wasm/node');
  await h5wasm.ready;
  const f = new h5wasm.File(path, 'r');
  try {
    return JSON.parse(String((f.attrs as Record<string, { value: unknown }>).model_config.value));
  } finally {
    f.close();
  }
}

for (const name of FILES) {
  test(`tfjs oracle on the tf.keras 2.2.4 file ${name}.h5`, async () => {
    await tfReady();
    const path = join(ROOT, `${name}.h5`);
    const file = await openModelFile(path);
    try {
      const model = await buildModel(file);
      const theirs = await tf.models.modelFromJSON({ modelTopology: (await rawModelConfig(path)) as never });
      try {
        for (const group of file.layers) {
          if (group.weights.length === 0) continue;
          const values = await Promise.all(group.weights.map(async (w) => tf.tensor(await w.read(), w.shape)));
          theirs.getLayer(group.layer).setWeights(values);
          values.forEach((v) => v.dispose());
        }
        const declared = model.shapes.get(`${model.inputs[0].layer}:0:0`)!;
        const shape = [2, ...declared.slice(1).map((d) => d ?? 4)] as number[];
        const draw = new Draw(seededRandom(name.length * 7919 + shape.length));
        const data = draw.uniform(shape.reduce((a, b) => a * b, 1), -1.5, 1.5);
        const x = tf.tensor(data, shape);
        const expected = theirs.predict(x) as tf.Tensor;
        const ours = (await predict(model, { shape, data: Float64Array.from(data) })).outputs[0];
        assert.deepEqual(ours.shape, expected.shape);
        const ref = expected.dataSync();
        let worst = 0;
        for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(ours.data[i] - ref[i]) / Math.max(1, Math.abs(ref[i])));
        assert.ok(worst <= TOLERANCE, `${name}: differs from tfjs by ${worst.toExponential(3)}`);
        x.dispose();
        expected.dispose();
      } finally {
        theirs.dispose();
      }
    } finally {
      file.close();
    }
  });
}
