/**
 * A Keras 2 .h5 with one LSTM(2048) on 2048 input features: kernel and recurrent_kernel are (2048, 8192),
 * the size the viewer must stay responsive for. Values are a cheap deterministic pattern: w[r, c] = ((r * 8192 + c) % 1000) / 1000 - 0.5.
 */
import { writeKeras2H5 } from '../../fixtures/writers';

export const BIG_UNITS = 2048;
export const BIG_INPUT = 2048;

export function bigValue(r: number, c: number): number {
  return Math.fround((((r * 4 * BIG_UNITS + c) % 1000) / 1000) - 0.5);
}

export async function writeBigLstmModel(path: string): Promise<void> {
  const cols = 4 * BIG_UNITS;
  const pattern = (rows: number) => {
    const data = new Float32Array(rows * cols);
    for (let i = 0; i < data.length; i++) data[i] = ((i % 1000) / 1000) - 0.5;
    return data;
  };
  const modelConfig = {
    class_name: 'Sequential',
    config: [
      {
        class_name: 'LSTM',
        config: {
          name: 'lstm_big',
          trainable: true,
          batch_input_shape: [null, 5, BIG_INPUT],
          dtype: 'float32',
          units: BIG_UNITS,
          activation: 'tanh',
          recurrent_activation: 'sigmoid',
          use_bias: true,
          return_sequences: false,
          unit_forget_bias: true,
        },
      },
    ],
  };
  await writeKeras2H5(path, {
    modelConfig,
    kerasVersion: '2.2.4',
    layers: [
      {
        name: 'lstm_big',
        className: 'LSTM',
        weights: [
          { name: 'lstm_big/kernel:0', shape: [BIG_INPUT, cols], data: pattern(BIG_INPUT) },
          { name: 'lstm_big/recurrent_kernel:0', shape: [BIG_UNITS, cols], data: pattern(BIG_UNITS) },
          { name: 'lstm_big/bias:0', shape: [cols], data: pattern(1) },
        ],
      },
    ],
  });
}

if (require.main === module) void writeBigLstmModel(process.argv[2]);
