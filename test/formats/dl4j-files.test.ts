/**
 * Every Keras-written .h5 under ../shared/keras-reference/dl4j opens with the right format and version, and its
 * layers, weight names, shapes and numbers equal what h5wasm reports when walked directly (independently of
 * src/formats). Versions and architectures come from dl4j/MANIFEST.md.
 */
import '../fixtures/fast-h5wasm';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { openModelFile } from '../../src/formats/open';
import { KerasLensError } from '../../src/model/types';

const ROOT = '../shared/keras-reference/dl4j';

function walk(d: string): string[] {
  return readdirSync(d)
    .flatMap((n) => {
      const p = join(d, n);
      return statSync(p).isDirectory() ? walk(p) : p.endsWith('.h5') ? [p] : [];
    })
    .sort();
}

/** From MANIFEST.md: file -> [format, keras_version attribute]. */
const EXPECTED: Record<string, [string, string | null]> = {
  'examples/simple_lstm/simple_lstm_tf_keras_1_model.h5': ['keras1-h5', '1.2.2'],
  'examples/simple_lstm/simple_lstm_tf_keras_1_weights.h5': ['keras1-weights-h5', null],
  'examples/simple_lstm/simple_lstm_th_keras_1_model.h5': ['keras1-h5', '1.2.2'],
  'examples/simple_lstm/simple_lstm_th_keras_1_weights.h5': ['keras1-weights-h5', null],
  'examples/simple_lstm/simple_lstm_tf_keras_2_model.h5': ['keras2-h5', '2.0.6'],
  'examples/simple_lstm/simple_lstm_tf_keras_2_weights.h5': ['keras2-weights-h5', '2.0.6'],
  'examples/simple_rnn/simple_rnn_tf_keras_2_model.h5': ['keras2-h5', '2.1.3'],
  'examples/simple_rnn/simple_rnn_tf_keras_2_weights.h5': ['keras2-weights-h5', '2.1.3'],
  'examples/simple_flatten_lstm/simple_flatten_lstm_tf_keras_2_model.h5': ['keras2-h5', '2.1.3'],
  'examples/simple_flatten_lstm/simple_flatten_lstm_tf_keras_2_weights.h5': ['keras2-weights-h5', '2.1.3'],
  'examples/simple_flatten_rnn/simple_flatten_rnn_tf_keras_2_model.h5': ['keras2-h5', '2.1.3'],
  'examples/simple_flatten_rnn/simple_flatten_rnn_tf_keras_2_weights.h5': ['keras2-weights-h5', '2.1.3'],
  'examples/functional_lstm/lstm_functional_tf_keras_2.h5': ['keras2-h5', '2.0.8'],
  'examples/masking/masking_zero_lstm.h5': ['keras2-h5', '2.2.0'],
  'examples/masking/masking_two_lstm.h5': ['keras2-h5', '2.2.0'],
};
for (const f of ['rnn_0', 'rnn_5', 'rnn_6', 'rnn_7', 'rnn_12', 'rnn_20', 'rnn_26', 'rnn_29', 'rnn_44', 'rnn_148', 'convlstm2d_0', 'convlstm2d_19']) {
  EXPECTED[`tfkeras/${f}.h5`] = ['keras2-h5', '2.2.4-tf'];
}

type Direct = { layer: string; weights: { name: string; shape: number[]; first: number; last: number }[] }[];

/** Walk the file with h5wasm directly: layer_names, weight_names, dataset shapes and values. */
async function directListing(path: string): Promise<Direct> {
  const h5 = await import('h5wasm/node');
  await h5.ready;
  const f = new h5.File(path, 'r');
  try {
    const root = (f.keys().includes('model_weights') ? f.get('model_weights') : f) as InstanceType<typeof h5.Group>;
    const names = root.attrs.layer_names.value as string[];
    const out: Direct = [];
    for (const layer of names) {
      const g = root.get(layer) as InstanceType<typeof h5.Group>;
      const wn = g.attrs.weight_names.value;
      const list = Array.isArray(wn) ? (wn as string[]) : [];
      if (!list.length) continue;
      out.push({
        layer,
        weights: list.map((n) => {
          const ds = g.get(n) as InstanceType<typeof h5.Dataset>;
          const v = ds.value as Float32Array;
          return { name: n, shape: ds.shape as number[], first: v[0], last: v[v.length - 1] };
        }),
      });
    }
    return out;
  } finally {
    f.close();
  }
}

const files = walk(ROOT);

test('the reference folder has the files the manifest lists', () => {
  for (const rel of Object.keys(EXPECTED)) assert.ok(files.includes(join(ROOT, rel)), rel);
});

for (const file of files) {
  const rel = relative(ROOT, file);
  if (rel.endsWith('_inputs_and_outputs.h5')) {
    test(`${rel}: HDF5 but not a Keras model -> one-line KerasLensError`, async () => {
      await assert.rejects(openModelFile(file), (e: unknown) => {
        assert.ok(e instanceof KerasLensError);
        assert.match(e.message, /not a Keras model/);
        assert.ok(!e.message.includes('\n'));
        assert.equal(e.file, file);
        return true;
      });
    });
    continue;
  }
  test(`${rel}: format, version, layers, weight names, shapes and data`, async () => {
    const want = EXPECTED[rel];
    assert.ok(want, `no manifest entry for ${rel}`);
    const m = await openModelFile(file);
    try {
      assert.equal(m.format, want[0]);
      assert.equal(m.kerasVersion, want[1]);
      const direct = await directListing(file);
      assert.deepEqual(
        m.layers.map((l) => l.layer),
        direct.map((l) => l.layer),
      );
      for (const [i, d] of direct.entries()) {
        const got = m.layers[i].weights;
        assert.deepEqual(
          got.map((w) => [w.name, w.shape]),
          d.weights.map((w) => [w.name, w.shape]),
        );
        for (const [j, w] of d.weights.entries()) {
          const data = await got[j].read();
          assert.equal(data.length, w.shape.reduce((a, b) => a * b, 1));
          assert.equal(data[0], w.first);
          assert.equal(data[data.length - 1], w.last);
          assert.equal(got[j].dtype, '<f4');
          assert.equal(got[j].layer, d.layer);
        }
      }
      if (!rel.endsWith('_weights.h5')) {
        assert.ok(m.model, 'full model files carry an architecture');
        // Every weighted layer is in the architecture.
        const names = new Set(m.model!.layers.map((l) => l.name));
        for (const l of m.layers) assert.ok(names.has(l.layer), l.layer);
        assert.equal(m.model!.layers[0].className, 'InputLayer');
      } else {
        assert.equal(m.model, null);
      }
    } finally {
      m.close();
    }
  });
}

test('Keras 1.2.2 Sequential LSTM normalises to Keras 2 spellings (MANIFEST: output_dim=50, inner_activation=hard_sigmoid, dropout_W=0.2)', async () => {
  for (const tag of ['tf', 'th']) {
    const m = await openModelFile(join(ROOT, `examples/simple_lstm/simple_lstm_${tag}_keras_1_model.h5`));
    try {
      assert.equal(m.backend, tag === 'tf' ? 'tensorflow' : 'theano');
      const [input, lstm, dense] = m.model!.layers;
      assert.equal(input.className, 'InputLayer');
      assert.equal(input.name, 'lstm_input_1'); // the name Keras 1.2.2 gave it (see *_inputs_and_outputs.h5: inputs/lstm_input_1)
      assert.deepEqual(input.config.batch_input_shape, [null, 1, 1]);
      assert.equal(lstm.className, 'LSTM');
      assert.equal(lstm.config.units, 50);
      assert.equal(lstm.config.recurrent_activation, 'hard_sigmoid');
      assert.equal(lstm.config.dropout, 0.2);
      assert.equal(lstm.config.output_dim, undefined);
      assert.equal(lstm.config.inner_activation, undefined);
      assert.deepEqual(lstm.inbound, [[{ layer: 'lstm_input_1', node: 0, tensor: 0 }]]);
      assert.equal(dense.config.units, 1);
      assert.equal(dense.config.use_bias, true);
      assert.deepEqual(m.model!.outputs, [{ layer: 'dense_1', node: 0, tensor: 0 }]);
    } finally {
      m.close();
    }
  }
});

test('Keras 2 Sequential gets an InputLayer named <first>_input; tf.keras Bidirectional keeps its wrapped LSTM in inner', async () => {
  const m = await openModelFile(join(ROOT, 'examples/simple_rnn/simple_rnn_tf_keras_2_model.h5'));
  try {
    assert.equal(m.model!.layers[0].name, 'simple_rnn_1_input'); // MANIFEST: inputs/simple_rnn_1_input
    assert.deepEqual(m.model!.layers[0].config.batch_input_shape, [25, 1, 1]);
  } finally {
    m.close();
  }
  const b = await openModelFile(join(ROOT, 'tfkeras/rnn_29.h5'));
  try {
    const bidi = b.model!.layers.filter((l) => l.className === 'Bidirectional');
    assert.deepEqual(bidi.map((l) => [l.name, l.inner?.className, l.inner?.config.units]), [
      ['bidirectional_14', 'LSTM', 6],
      ['bidirectional_15', 'LSTM', 4],
    ]);
    assert.equal(bidi[1].inner!.name, 'lstm_15');
    assert.deepEqual(bidi[1].inbound, [[{ layer: 'activation_18', node: 0, tensor: 0 }]]);
  } finally {
    b.close();
  }
});
