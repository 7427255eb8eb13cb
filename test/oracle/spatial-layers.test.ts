/**
 * Source of truth: TensorFlow.js layers (cpu backend, see tfjs-oracle.ts) — an independent implementation of the
 * 2D spatial layers: ZeroPadding2D, Cropping2D, UpSampling2D (nearest), MaxPooling2D, AveragePooling2D
 * (valid/same, strides, channels_last/channels_first), GlobalAveragePooling2D, GlobalMaxPooling2D. Random
 * configs and inputs from fixed seeds; a failure names the case and reproduces on every run. Each model puts a
 * Conv2D with random weights before the layer, so a wrong axis order cannot hide behind symmetric inputs.
 * (tfjs's bilinear UpSampling2D uses other pixel centres than TensorFlow, so bilinear is checked against real
 * Keras in test/kinds/attention-and-spatial-keras.test.ts instead.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkAgainstTfjs, Draw, seededRandom, tf, type OracleInput } from './tfjs-oracle';

const CASES = 16;

function floatInput(draw: Draw, shape: number[]): OracleInput {
  return { shape, data: draw.uniform(shape.reduce((a, b) => a * b, 1), -1.5, 1.5) };
}

type DataFormat = 'channelsFirst' | 'channelsLast';

function model(shape: number[], dataFormat: DataFormat, layer: tf.layers.Layer): tf.LayersModel {
  const input = tf.input({ shape });
  const conv = tf.layers.conv2d({ filters: 3, kernelSize: 1, dataFormat });
  const y = layer.apply(conv.apply(input)) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: y });
}

type Maker = (draw: Draw, dataFormat: DataFormat) => { layer: () => tf.layers.Layer; what: string; minSize: number };

const MAKERS: Record<string, Maker> = {
  ZeroPadding2D: (draw, dataFormat) => {
    const padding = draw.pick([
      draw.int(0, 2),
      [draw.int(0, 2), draw.int(0, 2)],
      [
        [draw.int(0, 2), draw.int(0, 2)],
        [draw.int(0, 2), draw.int(0, 2)],
      ],
    ]) as number;
    return { what: JSON.stringify(padding), layer: () => tf.layers.zeroPadding2d({ padding, dataFormat }), minSize: 1 };
  },
  Cropping2D: (draw, dataFormat) => {
    const cropping = draw.pick([
      draw.int(0, 1),
      [draw.int(0, 1), draw.int(0, 1)],
      [
        [draw.int(0, 2), draw.int(0, 1)],
        [draw.int(0, 1), draw.int(0, 2)],
      ],
    ]) as number;
    return { what: JSON.stringify(cropping), layer: () => tf.layers.cropping2D({ cropping, dataFormat }), minSize: 4 };
  },
  UpSampling2D: (draw, dataFormat) => {
    const size = [draw.int(1, 3), draw.int(1, 3)];
    return { what: JSON.stringify(size), layer: () => tf.layers.upSampling2d({ size, dataFormat }), minSize: 1 };
  },
  Pooling2D: (draw, dataFormat) => {
    const average = draw.bool();
    const poolSize: [number, number] = [draw.int(1, 3), draw.int(1, 3)];
    const strides: [number, number] | undefined = draw.bool(0.3) ? undefined : [draw.int(1, 3), draw.int(1, 3)];
    const padding = draw.pick(['valid', 'same'] as const);
    const args = { poolSize, strides, padding, dataFormat };
    return {
      what: `${average ? 'average' : 'max'} ${JSON.stringify(args)}`,
      layer: () => (average ? tf.layers.averagePooling2d(args) : tf.layers.maxPooling2d(args)),
      minSize: 3,
    };
  },
  GlobalPooling2D: (draw, dataFormat) => {
    const average = draw.bool();
    return {
      what: average ? 'average' : 'max',
      layer: () => (average ? tf.layers.globalAveragePooling2d({ dataFormat }) : tf.layers.globalMaxPooling2d({ dataFormat })),
      minSize: 1,
    };
  },
};

for (const [kind, make] of Object.entries(MAKERS)) {
  test(`tfjs oracle: ${kind} (${CASES} random configs, both data formats)`, async () => {
    const draw = new Draw(seededRandom(hash(kind)));
    let worst = 0;
    for (let i = 0; i < CASES; i++) {
      const dataFormat: DataFormat = i % 3 === 2 ? 'channelsFirst' : 'channelsLast';
      const c = make(draw, dataFormat);
      const [h, w, ch] = [draw.int(c.minSize, 6), draw.int(c.minSize, 6), draw.int(1, 3)];
      const shape = dataFormat === 'channelsFirst' ? [ch, h, w] : [h, w, ch];
      const outcome = await checkAgainstTfjs(
        `${kind}#${i} ${c.what} ${dataFormat} on ${JSON.stringify(shape)}`,
        () => model(shape, dataFormat, c.layer()),
        [floatInput(draw, [draw.int(1, 2), ...shape])],
        draw,
      );
      assert.ok(outcome.outputs >= 1);
      worst = Math.max(worst, outcome.worst);
    }
    assert.ok(worst <= 1e-5, `worst difference ${worst}`);
  });
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}
