/**
 * Small architectures written as raw Keras 2 functional configs (exactly what `model.to_json()` gives), joined to
 * weight references of the shapes Keras would create. Inspect reads no weight data, so `read()` is never needed.
 */
import { normalizeModelConfig } from '../../src/model/config';
import type { LayerWeights, ModelFile, WeightRef } from '../../src/model/types';

type RawLayer = { name: string; class_name: string; config: Record<string, unknown>; inbound_nodes: unknown[] };

export function input(name: string, batchShape: (number | null)[]): RawLayer {
  return { name, class_name: 'InputLayer', config: { name, batch_input_shape: batchShape, dtype: 'float32' }, inbound_nodes: [] };
}

export function layer(name: string, className: string, config: Record<string, unknown>, ...inputs: string[]): RawLayer {
  return {
    name,
    class_name: className,
    config: { name, ...config },
    inbound_nodes: inputs.length ? [inputs.map((i) => [i, 0, 0, {}])] : [],
  };
}

function ref(layerName: string, name: string, shape: number[]): WeightRef {
  return {
    layer: layerName,
    name,
    path: `/model_weights/${layerName}/${name}`,
    shape,
    dtype: '<f4',
    read: async () => {
      throw new Error('inspect must not read weight data');
    },
  };
}

/** weights: layer -> [[weight name suffix, shape], ...] (names become `<layer>/<suffix>:0`). */
export function syntheticModel(
  name: string,
  layers: RawLayer[],
  inputs: string[],
  outputs: string[],
  weights: Record<string, [string, number[]][]>,
): ModelFile {
  const raw = {
    class_name: 'Model',
    config: {
      name,
      layers,
      input_layers: inputs.map((i) => [i, 0, 0]),
      output_layers: outputs.map((o) => [o, 0, 0]),
    },
  };
  const model = normalizeModelConfig(raw, '2.2.4', name);
  const lw: LayerWeights[] = Object.entries(weights).map(([layerName, list]) => ({
    layer: layerName,
    weights: list.map(([suffix, shape]) => ref(layerName, `${layerName}/${suffix}:0`, shape)),
  }));
  return { source: `${name}.h5`, format: 'keras2-h5', kerasVersion: '2.2.4', backend: 'tensorflow', model, layers: lw, close() {} };
}

/** Input(30, 6) → LSTM(128); Input(1) aux_input; Concatenate → Dense(64) → Dense(1). */
export function auxModel(): ModelFile {
  return syntheticModel(
    'aux',
    [
      input('main_input', [null, 30, 6]),
      layer('lstm_1', 'LSTM', { units: 128, activation: 'tanh', recurrent_activation: 'sigmoid', use_bias: true, return_sequences: false }, 'main_input'),
      input('aux_input', [null, 1]),
      layer('concatenate_1', 'Concatenate', { axis: -1 }, 'lstm_1', 'aux_input'),
      layer('dense_1', 'Dense', { units: 64, activation: 'relu', use_bias: true }, 'concatenate_1'),
      layer('dense_2', 'Dense', { units: 1, activation: 'linear', use_bias: true }, 'dense_1'),
    ],
    ['main_input', 'aux_input'],
    ['dense_2'],
    {
      lstm_1: [
        ['kernel', [6, 512]],
        ['recurrent_kernel', [128, 512]],
        ['bias', [512]],
      ],
      dense_1: [
        ['kernel', [129, 64]],
        ['bias', [64]],
      ],
      dense_2: [
        ['kernel', [64, 1]],
        ['bias', [1]],
      ],
    },
  );
}

/** Input(5, 3) → SimpleRNN(4, return_sequences) → Dropout → Flatten → Dense(2). */
export function flattenModel(): ModelFile {
  return syntheticModel(
    'flat',
    [
      input('seq', [null, 5, 3]),
      layer('simple_rnn_1', 'SimpleRNN', { units: 4, activation: 'tanh', use_bias: true, return_sequences: true }, 'seq'),
      layer('dropout_1', 'Dropout', { rate: 0.5 }, 'simple_rnn_1'),
      layer('flatten_1', 'Flatten', {}, 'dropout_1'),
      layer('dense_1', 'Dense', { units: 2, activation: 'linear', use_bias: true }, 'flatten_1'),
    ],
    ['seq'],
    ['dense_1'],
    {
      simple_rnn_1: [
        ['kernel', [3, 4]],
        ['recurrent_kernel', [4, 4]],
        ['bias', [4]],
      ],
      dense_1: [
        ['kernel', [20, 2]],
        ['bias', [2]],
      ],
    },
  );
}

/**
 * Input(7, 3) → Bidirectional(GRU(5, reset_after, return_sequences)) → TimeDistributed(Dense(2));
 * Input(10) tokens → Embedding(100, 8) → Conv1D(4 filters, kernel 2) → GlobalMaxPooling1D.
 */
export function mixedModel(): ModelFile {
  const gru = { class_name: 'GRU', config: { name: 'gru_1', units: 5, activation: 'tanh', recurrent_activation: 'sigmoid', use_bias: true, return_sequences: true, reset_after: true } };
  return syntheticModel(
    'mixed',
    [
      input('seq', [null, 7, 3]),
      layer('bidirectional_1', 'Bidirectional', { layer: gru, merge_mode: 'concat' }, 'seq'),
      layer('time_distributed_1', 'TimeDistributed', { layer: { class_name: 'Dense', config: { name: 'dense_1', units: 2, activation: 'linear', use_bias: true } } }, 'bidirectional_1'),
      input('tokens', [null, 10]),
      layer('embedding_1', 'Embedding', { input_dim: 100, output_dim: 8 }, 'tokens'),
      layer('conv1d_1', 'Conv1D', { filters: 4, kernel_size: [2], strides: [1], padding: 'valid', activation: 'linear', use_bias: true }, 'embedding_1'),
      layer('global_max_pooling1d_1', 'GlobalMaxPooling1D', {}, 'conv1d_1'),
    ],
    ['seq', 'tokens'],
    ['time_distributed_1', 'global_max_pooling1d_1'],
    {
      bidirectional_1: [
        ['forward_gru_1/kernel', [3, 15]],
        ['forward_gru_1/recurrent_kernel', [5, 15]],
        ['forward_gru_1/bias', [2, 15]],
        ['backward_gru_1/kernel', [3, 15]],
        ['backward_gru_1/recurrent_kernel', [5, 15]],
        ['backward_gru_1/bias', [2, 15]],
      ],
      time_distributed_1: [
        ['kernel', [10, 2]],
        ['bias', [2]],
      ],
      embedding_1: [['embeddings', [100, 8]]],
      conv1d_1: [
        ['kernel', [2, 8, 4]],
        ['bias', [4]],
      ],
    },
  );
}
