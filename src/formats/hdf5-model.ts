/** An open HDF5 file -> ModelFile: the legacy Keras layout (Keras 1/2/tf.keras/3-legacy) or Keras 3 weights. */
import { KerasLensError } from '../model/types';
import { toKerasLensError } from './foreign-errors';
import type { ModelFile } from '../model/types';
import type { Hdf5File } from './hdf5';
import { isLegacyKerasH5, readLegacyKerasH5 } from './keras-h5';
import { isKeras3WeightsH5, readKeras3Weights } from './keras3-weights';

/**
 * Read an open HDF5 file as a Keras model. `keras3` is set when the HDF5 is a `.keras` archive's weights: then the
 * architecture and version come from the archive.
 */
export function modelFileFromHdf5(
  h5: Hdf5File,
  source: string,
  externalConfig: unknown,
  keras3: { kerasVersion: string | null; config: unknown; entry: string } | null,
): ModelFile {
  try {
    return readHdf5Model(h5, source, externalConfig, keras3);
  } catch (e) {
    throw toKerasLensError(e, source, 'damaged HDF5 structure');
  }
}

function readHdf5Model(
  h5: Hdf5File,
  source: string,
  externalConfig: unknown,
  keras3: { kerasVersion: string | null; config: unknown; entry: string } | null,
): ModelFile {
  if (!keras3 && isLegacyKerasH5(h5)) {
    const r = readLegacyKerasH5(h5, externalConfig);
    return { source, ...r, close: () => h5.close() };
  }
  if (isKeras3WeightsH5(h5)) {
    const config = keras3 ? (externalConfig ?? keras3.config) : externalConfig;
    const r = readKeras3Weights(h5, config, keras3?.kerasVersion ?? null, keras3?.entry ?? null);
    return {
      source,
      format: keras3 ? 'keras3-keras' : 'keras3-weights-h5',
      kerasVersion: r.kerasVersion,
      backend: null,
      model: r.model,
      layers: r.layers,
      close: () => h5.close(),
    };
  }
  if (keras3) throw new KerasLensError(source, `${keras3.entry} has no layers/ group (not Keras 3 weights)`);
  throw new KerasLensError(source, 'HDF5 file but not a Keras model (no model_weights, layer_names or layers/ group)');
}
