/**
 * Randomised configs of every layer kind tfjs-layers supports, each checked against tfjs (see tfjs-oracle.ts).
 * Seeds are fixed: a failure names the case and reproduces on every run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkAgainstTfjs, Draw, seededRandom, tf, type OracleInput } from './tfjs-oracle';

const CASES_PER_KIND = 12;

function floatInput(draw: Draw, shape: number[], scale = 1): OracleInput {
  const n = shape.reduce((a, b) => a * b, 1);
  return { shape, data: draw.uniform(n, -scale, scale) };
}

type Case = { build: () => tf.LayersModel; inputs: OracleInput[]; calls?: number; what: string };
type CaseMaker = (draw: Draw) => Case;

/** One-input functional model around `layers` applied in a chain. */
function chain(inputShape: number[], layers: tf.layers.Layer[], dtype: 'float32' | 'int32' = 'float32'): tf.LayersModel {
  const input = tf.input({ shape: inputShape, dtype });
  let y: tf.SymbolicTensor | tf.SymbolicTensor[] = input;
  for (const l of layers) y = l.apply(y) as tf.SymbolicTensor | tf.SymbolicTensor[];
  return tf.model({ inputs: input, outputs: y });
}

const ACTIVATIONS = ['tanh', 'relu', 'sigmoid', 'linear', 'hardSigmoid', 'softsign', 'elu'] as const;
const GATE_ACTIVATIONS = ['hardSigmoid', 'sigmoid', 'tanh'] as const;

function recurrentArgs(draw: Draw, kind: 'lstm' | 'gru' | 'simpleRNN') {
  const args: Record<string, unknown> = {
    units: draw.int(1, 5),
    activation: draw.pick(ACTIVATIONS),
    useBias: draw.bool(0.8),
    returnSequences: draw.bool(),
    goBackwards: draw.bool(0.3),
  };
  if (kind !== 'simpleRNN') args.recurrentActivation = draw.pick(GATE_ACTIVATIONS);
  return args;
}

function recurrentLayer(kind: 'lstm' | 'gru' | 'simpleRNN', args: Record<string, unknown>): tf.layers.Layer {
  if (kind === 'lstm') return tf.layers.lstm(args as never);
  if (kind === 'gru') return tf.layers.gru(args as never);
  return tf.layers.simpleRNN(args as never);
}

function recurrentCase(kind: 'lstm' | 'gru' | 'simpleRNN'): CaseMaker {
  return (draw) => {
    const args = recurrentArgs(draw, kind);
    const returnState = draw.bool(0.25);
    if (returnState) args.returnState = true;
    const [batch, steps, features] = [draw.int(1, 3), draw.int(1, 5), draw.int(1, 4)];
    return {
      what: JSON.stringify(args),
      build: () => chain([steps, features], [recurrentLayer(kind, args)]),
      inputs: [floatInput(draw, [batch, steps, features], 1.5)],
    };
  };
}

const MAKERS: Record<string, CaseMaker> = {
  LSTM: recurrentCase('lstm'),
  GRU: recurrentCase('gru'),
  SimpleRNN: recurrentCase('simpleRNN'),
  Bidirectional: (draw) => {
    const kind = draw.pick(['lstm', 'gru', 'simpleRNN'] as const);
    const args = recurrentArgs(draw, kind);
    args.goBackwards = false;
    const mergeMode = draw.pick(['concat', 'sum', 'mul', 'ave'] as const);
    const [batch, steps, features] = [draw.int(1, 3), draw.int(1, 5), draw.int(1, 4)];
    return {
      what: `${kind} ${mergeMode} ${JSON.stringify(args)}`,
      build: () => chain([steps, features], [tf.layers.bidirectional({ layer: recurrentLayer(kind, args) as never, mergeMode })]),
      inputs: [floatInput(draw, [batch, steps, features], 1.5)],
    };
  },
  ConvLSTM2D: (draw) => {
    const args = {
      filters: draw.int(1, 3),
      kernelSize: draw.int(1, 3),
      padding: draw.pick(['same', 'valid'] as const),
      returnSequences: draw.bool(),
      activation: draw.pick(['tanh', 'relu'] as const),
      recurrentActivation: draw.pick(GATE_ACTIVATIONS),
    };
    const [batch, steps, rows, cols, channels] = [draw.int(1, 2), draw.int(1, 3), draw.int(3, 5), draw.int(3, 5), draw.int(1, 2)];
    return {
      what: JSON.stringify(args),
      build: () => chain([steps, rows, cols, channels], [tf.layers.convLstm2d(args)]),
      inputs: [floatInput(draw, [batch, steps, rows, cols, channels])],
    };
  },
  Dense: (draw) => {
    const args = { units: draw.int(1, 6), activation: draw.pick([...ACTIVATIONS, 'softmax'] as const), useBias: draw.bool(0.8) };
    const shape = draw.bool() ? [draw.int(1, 5)] : [draw.int(1, 4), draw.int(1, 5)];
    return {
      what: `${JSON.stringify(args)} on ${JSON.stringify(shape)}`,
      build: () => chain(shape, [tf.layers.dense(args)]),
      inputs: [floatInput(draw, [draw.int(1, 3), ...shape])],
    };
  },
  TimeDistributed: (draw) => {
    const args = { units: draw.int(1, 5), activation: draw.pick(ACTIVATIONS) };
    const shape = [draw.int(1, 4), draw.int(1, 4)];
    return {
      what: JSON.stringify(args),
      build: () => chain(shape, [tf.layers.timeDistributed({ layer: tf.layers.dense(args) })]),
      inputs: [floatInput(draw, [draw.int(1, 3), ...shape])],
    };
  },
  Embedding: (draw) => {
    const inputDim = draw.int(3, 9);
    const args = { inputDim, outputDim: draw.int(1, 4), maskZero: draw.bool() };
    const [batch, steps] = [draw.int(1, 3), draw.int(2, 6)];
    const ids = Float32Array.from({ length: batch * steps }, () => draw.int(0, inputDim - 1));
    // with mask_zero, pad the end of the first sequence (masked steps carry the LSTM state)
    if (args.maskZero) ids[steps - 1] = 0;
    const units = draw.int(1, 4);
    return {
      what: `${JSON.stringify(args)} -> LSTM(${units})`,
      build: () => chain([steps], [tf.layers.embedding(args), tf.layers.lstm({ units, returnSequences: draw.bool() })], 'float32'),
      inputs: [{ shape: [batch, steps], data: ids }],
    };
  },
  Conv1D: (draw) => {
    const dilation = draw.bool(0.3) ? 2 : 1;
    const args = {
      filters: draw.int(1, 4),
      kernelSize: draw.int(1, 3),
      strides: dilation > 1 ? 1 : draw.int(1, 2),
      dilationRate: dilation,
      padding: draw.pick(['valid', 'same'] as const), // tfjs has no causal conv1d
      activation: draw.pick(ACTIVATIONS),
      useBias: draw.bool(0.8),
    };
    const shape = [draw.int(5, 8), draw.int(1, 3)];
    return {
      what: JSON.stringify(args),
      build: () => chain(shape, [tf.layers.conv1d(args)]),
      inputs: [floatInput(draw, [draw.int(1, 2), ...shape])],
    };
  },
  Pooling1D: (draw) => {
    const which = draw.pick(['max', 'average', 'globalMax', 'globalAverage'] as const);
    const poolSize = draw.int(1, 4);
    const args = { poolSize, strides: draw.int(1, 3), padding: draw.pick(['valid', 'same', 'same'] as const) };
    const shape = [draw.int(4, 9), draw.int(1, 3)];
    const layer =
      which === 'max'
        ? () => tf.layers.maxPooling1d(args)
        : which === 'average'
          ? () => tf.layers.averagePooling1d(args)
          : which === 'globalMax'
            ? () => tf.layers.globalMaxPooling1d({})
            : () => tf.layers.globalAveragePooling1d({});
    return {
      what: `${which} ${JSON.stringify(args)}`,
      build: () => chain(shape, [layer()]),
      inputs: [floatInput(draw, [draw.int(1, 3), ...shape])],
    };
  },
  Merges: (draw) => {
    const which = draw.pick(['add', 'multiply', 'average', 'maximum', 'minimum', 'concatenate', 'dot'] as const);
    const rank3 = draw.bool();
    const shape = rank3 ? [draw.int(1, 4), draw.int(1, 4)] : [draw.int(1, 5)];
    const n = which === 'dot' ? 2 : draw.int(2, 3);
    const axis = draw.pick(rank3 ? [-1, 1, 2] : [-1, 1]);
    const normalize = draw.bool();
    const dotAxes = rank3 ? draw.pick([1, 2, -1]) : 1;
    const shapes = Array.from({ length: n }, () => {
      if (which === 'concatenate') {
        const s = [...shape];
        s[(axis + s.length + 1) % (s.length + 1) - 1 < 0 ? s.length - 1 : ((axis < 0 ? s.length + 1 + axis : axis) - 1)] = draw.int(1, 4);
        return s;
      }
      return shape;
    });
    return {
      what: `${which} x${n} ${JSON.stringify(shapes)} axis ${which === 'dot' ? dotAxes : axis}${which === 'dot' ? ` normalize ${normalize}` : ''}`,
      build: () => {
        const inputs = shapes.map((s) => tf.input({ shape: s }));
        const layer =
          which === 'concatenate'
            ? tf.layers.concatenate({ axis })
            : which === 'dot'
              ? tf.layers.dot({ axes: dotAxes, normalize })
              : tf.layers[which]({});
        return tf.model({ inputs, outputs: layer.apply(inputs) as tf.SymbolicTensor });
      },
      inputs: (() => {
        const batch = draw.int(1, 3);
        return shapes.map((s) => floatInput(draw, [batch, ...s]));
      })(),
    };
  },
  BatchNormalization: (draw) => {
    const args = { epsilon: draw.pick([1e-3, 1e-5, 0.1]), center: draw.bool(0.8), scale: draw.bool(0.8) };
    const shape = draw.bool() ? [draw.int(1, 5)] : [draw.int(1, 4), draw.int(1, 4)];
    return {
      what: JSON.stringify(args),
      build: () => chain(shape, [tf.layers.batchNormalization(args)]),
      inputs: [floatInput(draw, [draw.int(1, 3), ...shape], 2)],
    };
  },
  LayerNormalization: (draw) => {
    const args = { epsilon: draw.pick([1e-3, 1e-5, 0.1]), center: draw.bool(0.8), scale: draw.bool(0.8) };
    const shape = draw.bool() ? [draw.int(2, 5)] : [draw.int(1, 4), draw.int(2, 4)];
    return {
      what: JSON.stringify(args),
      build: () => chain(shape, [tf.layers.layerNormalization(args)]),
      inputs: [floatInput(draw, [draw.int(1, 3), ...shape], 2)],
    };
  },
  Reshapes: (draw) => {
    const [a, b] = [draw.int(1, 4), draw.int(1, 4)];
    const which = draw.pick(['flatten', 'reshape', 'permute', 'repeatVector'] as const);
    const layers =
      which === 'flatten'
        ? () => [tf.layers.flatten()]
        : which === 'reshape'
          ? () => [tf.layers.reshape({ targetShape: draw.bool() ? [b, a] : [-1, 1] })]
          : which === 'permute'
            ? () => [tf.layers.permute({ dims: [2, 1] })]
            : () => [tf.layers.flatten(), tf.layers.repeatVector({ n: 3 })];
    const built = layers();
    return {
      what: which,
      build: () => chain([a, b], built),
      inputs: [floatInput(draw, [draw.int(1, 3), a, b])],
    };
  },
  Masking: (draw) => {
    const kind = draw.pick(['lstm', 'gru', 'simpleRNN'] as const);
    const args = recurrentArgs(draw, kind);
    const maskValue = draw.pick([0, 1.5]);
    const [batch, steps, features] = [draw.int(1, 3), draw.int(3, 6), draw.int(1, 3)];
    const x = floatInput(draw, [batch, steps, features]);
    // mask some steps of each sample (trailing padding for sample 0, a hole in the middle of the last sample)
    for (let f = 0; f < features; f++) {
      x.data[((0 * steps) + steps - 1) * features + f] = maskValue;
      x.data[((batch - 1) * steps + 1) * features + f] = maskValue;
    }
    const after = draw.bool() && args.returnSequences ? [tf.layers.timeDistributed({ layer: tf.layers.dense({ units: 2 }) })] : [];
    return {
      what: `mask ${maskValue} -> ${kind} ${JSON.stringify(args)}${after.length ? ' -> TimeDistributed(Dense)' : ''}`,
      build: () => chain([steps, features], [tf.layers.masking({ maskValue }), recurrentLayer(kind, args), ...after]),
      inputs: [x],
    };
  },
  ActivationLayers: (draw) => {
    const which = draw.pick(['reLU', 'leakyReLU', 'elu', 'softmax', 'thresholdedReLU', 'activation', 'prelu'] as const);
    const layer = () =>
      which === 'reLU'
        ? tf.layers.reLU({ maxValue: draw.bool() ? 0.7 : undefined })
        : which === 'leakyReLU'
          ? tf.layers.leakyReLU({ alpha: draw.pick([0.1, 0.3]) })
          : which === 'elu'
            ? tf.layers.elu({ alpha: draw.pick([0.5, 1]) })
            : which === 'softmax'
              ? tf.layers.softmax({ axis: -1 })
              : which === 'thresholdedReLU'
                ? tf.layers.thresholdedReLU({ theta: 0.2 })
                : which === 'prelu'
                  ? tf.layers.prelu({})
                  : tf.layers.activation({ activation: draw.pick(['selu', 'softplus', 'relu6', 'swish', 'mish', 'gelu'] as never) });
    const shape = [draw.int(1, 3), draw.int(1, 4)];
    const built = layer();
    return { what: which, build: () => chain(shape, [built]), inputs: [floatInput(draw, [draw.int(1, 3), ...shape], 2)] };
  },
};

/** Kinds whose settings space is larger get more draws. */
const EXTRA_CASES: Record<string, number> = { Pooling1D: 30, Merges: 24, Reshapes: 18 };

for (const [kind, make] of Object.entries(MAKERS)) {
  const count = EXTRA_CASES[kind] ?? CASES_PER_KIND;
  test(`tfjs oracle: ${kind} (${count} random configs)`, async () => {
    const draw = new Draw(seededRandom(hash(kind)));
    let worst = 0;
    for (let i = 0; i < count; i++) {
      const c = make(draw);
      const outcome = await checkAgainstTfjs(`${kind}#${i} ${c.what}`, c.build, c.inputs, draw, c.calls);
      assert.ok(outcome.outputs >= 1);
      worst = Math.max(worst, outcome.worst);
    }
    assert.ok(worst <= 1e-5);
  });
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}
