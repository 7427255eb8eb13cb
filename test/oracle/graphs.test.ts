/**
 * Whole graphs against tfjs: shared layers (one layer, several calls), several inputs and outputs, masks flowing
 * through merges and wrappers, RNN initial_state inputs, stateful layers across predict calls.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkAgainstTfjs, Draw, seededRandom, tf, type OracleInput } from './tfjs-oracle';

function floatInput(draw: Draw, shape: number[], scale = 1): OracleInput {
  return { shape, data: draw.uniform(shape.reduce((a, b) => a * b, 1), -scale, scale) };
}

test('tfjs oracle graph: a shared LSTM called on two inputs, concatenated, with two outputs', async () => {
  const draw = new Draw(seededRandom(11));
  const outcome = await checkAgainstTfjs(
    'shared LSTM',
    () => {
      const a = tf.input({ shape: [4, 3], name: 'left' });
      const b = tf.input({ shape: [4, 3], name: 'right' });
      const shared = tf.layers.lstm({ units: 5, returnSequences: true, name: 'shared_lstm' });
      const ya = shared.apply(a) as tf.SymbolicTensor;
      const yb = shared.apply(b) as tf.SymbolicTensor;
      const joined = tf.layers.concatenate({ axis: -1 }).apply([ya, yb]) as tf.SymbolicTensor;
      const summary = tf.layers.gru({ units: 3, name: 'summary' }).apply(joined) as tf.SymbolicTensor;
      const out1 = tf.layers.dense({ units: 2, activation: 'softmax', name: 'probs' }).apply(summary) as tf.SymbolicTensor;
      const diff = tf.layers.add().apply([ya, yb]) as tf.SymbolicTensor;
      return tf.model({ inputs: [a, b], outputs: [out1, diff] });
    },
    [floatInput(draw, [3, 4, 3]), floatInput(draw, [3, 4, 3])],
    draw,
  );
  assert.equal(outcome.outputs, 2);
});

test('tfjs oracle graph: RNN initial_state given as model inputs (LSTM h and c, GRU h)', async () => {
  const draw = new Draw(seededRandom(12));
  for (const kind of ['lstm', 'gru'] as const) {
    await checkAgainstTfjs(
      `initial_state ${kind}`,
      () => {
        const x = tf.input({ shape: [5, 2], name: 'x' });
        const h = tf.input({ shape: [3], name: 'h0' });
        const c = tf.input({ shape: [3], name: 'c0' });
        const layer = kind === 'lstm' ? tf.layers.lstm({ units: 3, returnSequences: true }) : tf.layers.gru({ units: 3, returnSequences: true });
        const initialState = kind === 'lstm' ? [h, c] : [h];
        const y = layer.apply(x, { initialState }) as tf.SymbolicTensor;
        return tf.model({ inputs: kind === 'lstm' ? [x, h, c] : [x, h], outputs: y });
      },
      kind === 'lstm'
        ? [floatInput(draw, [2, 5, 2]), floatInput(draw, [2, 3]), floatInput(draw, [2, 3])]
        : [floatInput(draw, [2, 5, 2]), floatInput(draw, [2, 3])],
      draw,
    );
  }
});

test('tfjs oracle graph: stateful LSTM and GRU keep their state across three predict calls of one session', async () => {
  const draw = new Draw(seededRandom(13));
  for (const kind of ['lstm', 'gru', 'simpleRNN'] as const) {
    await checkAgainstTfjs(
      `stateful ${kind}`,
      () => {
        const args = { units: 3, stateful: true, batchInputShape: [2, 4, 2], returnSequences: kind === 'gru' };
        const layer = kind === 'lstm' ? tf.layers.lstm(args) : kind === 'gru' ? tf.layers.gru(args) : tf.layers.simpleRNN(args);
        const m = tf.sequential();
        m.add(layer);
        return m;
      },
      [floatInput(draw, [2, 4, 2])],
      draw,
      3,
    );
  }
});

test('tfjs oracle graph: masks through Embedding(mask_zero) -> Bidirectional LSTM -> TimeDistributed -> LSTM', async () => {
  const draw = new Draw(seededRandom(14));
  const ids = Float32Array.from([3, 1, 4, 0, 0, 0, 2, 7, 1, 8, 2, 0]);
  await checkAgainstTfjs(
    'mask chain',
    () => {
      const x = tf.input({ shape: [6] });
      let y = tf.layers.embedding({ inputDim: 9, outputDim: 3, maskZero: true }).apply(x) as tf.SymbolicTensor;
      y = tf.layers.bidirectional({ layer: tf.layers.lstm({ units: 2, returnSequences: true }) as never, mergeMode: 'concat' }).apply(y) as tf.SymbolicTensor;
      y = tf.layers.timeDistributed({ layer: tf.layers.dense({ units: 3, activation: 'tanh' }) }).apply(y) as tf.SymbolicTensor;
      y = tf.layers.lstm({ units: 2 }).apply(y) as tf.SymbolicTensor;
      return tf.model({ inputs: x, outputs: y });
    },
    [{ shape: [2, 6], data: ids }],
    draw,
  );
});

test('tfjs oracle graph: two masked branches concatenated (on features, on steps) feed a GRU', async () => {
  const draw = new Draw(seededRandom(15));
  const a = floatInput(draw, [2, 5, 2]);
  const b = floatInput(draw, [2, 5, 2]);
  // padding: sample 0 of `a` ends in two masked steps, sample 1 of `b` has a masked step in the middle
  a.data.fill(0, 3 * 2, 5 * 2);
  b.data.fill(0, (5 + 2) * 2, (5 + 3) * 2);
  // (Add is left out: tfjs-layers 4.22 computes a wrongly shaped mask for Add followed by an RNN and throws.)
  for (const axis of [-1, 1]) {
    await checkAgainstTfjs(
      `masked concatenate axis ${axis}`,
      () => {
        const xa = tf.input({ shape: [5, 2] });
        const xb = tf.input({ shape: [5, 2] });
        const ma = tf.layers.masking({ maskValue: 0 }).apply(xa) as tf.SymbolicTensor;
        const mb = tf.layers.masking({ maskValue: 0 }).apply(xb) as tf.SymbolicTensor;
        const ra = tf.layers.simpleRNN({ units: 3, returnSequences: true }).apply(ma) as tf.SymbolicTensor;
        const rb = tf.layers.lstm({ units: 3, returnSequences: true }).apply(mb) as tf.SymbolicTensor;
        const joined = tf.layers.concatenate({ axis }).apply([ra, rb]) as tf.SymbolicTensor;
        const y = tf.layers.gru({ units: 2, returnSequences: true }).apply(joined) as tf.SymbolicTensor;
        return tf.model({ inputs: [xa, xb], outputs: y });
      },
      [a, b],
      draw,
    );
  }
});

test('tfjs oracle graph: Conv1D -> MaxPooling1D -> GRU -> Dropout -> Dense, and RepeatVector decoder', async () => {
  const draw = new Draw(seededRandom(16));
  await checkAgainstTfjs(
    'conv-pool-gru',
    () =>
      tf.sequential({
        layers: [
          tf.layers.conv1d({ inputShape: [9, 2], filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }),
          tf.layers.maxPooling1d({ poolSize: 2 }),
          tf.layers.gru({ units: 4 }),
          tf.layers.dropout({ rate: 0.5 }),
          tf.layers.repeatVector({ n: 3 }),
          tf.layers.simpleRNN({ units: 2, returnSequences: true }),
          tf.layers.timeDistributed({ layer: tf.layers.dense({ units: 1 }) }),
        ],
      }),
    [floatInput(draw, [3, 9, 2])],
    draw,
  );
});

// Keras 2 / tf.keras / TF.js write a nested model's calls with their original node numbers, which start at 1 (its node 0
// links its own inputs to outputs and is left out of the config: `kept_nodes = 1` in Network.get_config). The
// normaliser's inlining (model/config.ts) numbers them from 0, so this graph is refused until that is handled there.
test('tfjs oracle graph: nested models (a Sequential and a functional Model used as layers, one called twice)', async () => {
  const draw = new Draw(seededRandom(17));
  await checkAgainstTfjs(
    'nested models',
    () => {
      const encoder = tf.sequential({
        name: 'encoder',
        layers: [
          tf.layers.timeDistributed({ inputShape: [4, 3], layer: tf.layers.dense({ units: 5, activation: 'tanh' }) }),
          tf.layers.lstm({ units: 4, returnSequences: true }),
        ],
      });
      const hIn = tf.input({ shape: [4, 4] });
      const head = tf.model({
        name: 'head',
        inputs: hIn,
        outputs: tf.layers.dense({ units: 2 }).apply(tf.layers.gru({ units: 3 }).apply(hIn)) as tf.SymbolicTensor,
      });
      const a = tf.input({ shape: [4, 3] });
      const b = tf.input({ shape: [4, 3] });
      const ea = encoder.apply(a) as tf.SymbolicTensor;
      const eb = encoder.apply(b) as tf.SymbolicTensor;
      const merged = tf.layers.average().apply([ea, eb]) as tf.SymbolicTensor;
      return tf.model({ inputs: [a, b], outputs: [head.apply(merged) as tf.SymbolicTensor, eb] });
    },
    [floatInput(draw, [2, 4, 3]), floatInput(draw, [2, 4, 3])],
    draw,
  );
});
