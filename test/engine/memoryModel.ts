/** Small in-memory models for engine tests: a ModelConfig written by hand and weights given as arrays. */
import type { LayerConfig, ModelConfig, ModelFile, TensorRef, WeightRef } from '../../src/model/types';

export function ref(layer: string, node = 0, tensor = 0): TensorRef {
  return { layer, node, tensor };
}

export function inputLayer(name: string, shape: (number | null)[]): LayerConfig {
  return { name, className: 'InputLayer', config: { name, batch_input_shape: [null, ...shape] }, inbound: [] };
}

export function layer(name: string, className: string, config: Record<string, unknown>, ...calls: TensorRef[][]): LayerConfig {
  return { name, className, config: { name, ...config }, inbound: calls };
}

export function modelConfig(layers: LayerConfig[], inputs: TensorRef[], outputs: TensorRef[]): ModelConfig {
  return { name: 'test_model', className: 'Functional', layers, inputs, outputs };
}

export interface MemoryWeight {
  name: string;
  shape: number[];
  data: number[];
}

/** A ModelFile over the config and weights (Keras 2 naming `<layer>/<role>:0`); counts reads in `reads`. */
export function memoryFile(
  config: ModelConfig,
  weights: Record<string, MemoryWeight[]> = {},
  kerasVersion = '2.2.4',
): ModelFile & { reads: string[] } {
  const reads: string[] = [];
  return {
    source: 'memory.h5',
    format: 'keras2-h5',
    kerasVersion,
    backend: 'tensorflow',
    model: config,
    layers: Object.entries(weights).map(([layerName, ws]) => ({
      layer: layerName,
      weights: ws.map(
        (w): WeightRef => ({
          layer: layerName,
          name: w.name,
          path: `/model_weights/${layerName}/${w.name}`,
          shape: w.shape,
          dtype: '<f4',
          read: async () => {
            reads.push(w.name);
            return Float32Array.from(w.data);
          },
        }),
      ),
    })),
    reads,
    close() {},
  };
}
