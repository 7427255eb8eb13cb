/** Kinds without weights: merges, pooling, reshapes, dropout, activation, masking, input. */
import type { LayerKind } from '../../types';
import { activationKind } from './activation';
import { addKind } from './add';
import { averageKind } from './average';
import { averagePooling1DKind } from './averagePooling1D';
import { concatenateKind } from './concatenate';
import { dotKind } from './dot';
import { eluKind } from './elu';
import { flattenKind } from './flatten';
import { globalAveragePooling1DKind } from './globalAveragePooling1D';
import { globalMaxPooling1DKind } from './globalMaxPooling1D';
import { identityKind } from './identity';
import { inputLayerKind } from './inputLayer';
import { leakyReLUKind } from './leakyReLU';
import { maskingKind } from './masking';
import { maximumKind } from './maximum';
import { maxPooling1DKind } from './maxPooling1D';
import { minimumKind } from './minimum';
import { multiplyKind } from './multiply';
import { permuteKind } from './permute';
import { reluKind } from './relu';
import { repeatVectorKind } from './repeatVector';
import { reshapeKind } from './reshape';
import { softmaxKind } from './softmax';
import { subtractKind } from './subtract';
import { thresholdedReLUKind } from './thresholdedReLU';
import { zeroPadding1DKind } from './zeroPadding1D';
import { zeroPadding2DKind } from './zeroPadding2D';
import { cropping1DKind } from './cropping1D';
import { cropping2DKind } from './cropping2D';
import { upSampling1DKind } from './upSampling1D';
import { upSampling2DKind } from './upSampling2D';
import { maxPooling2DKind } from './maxPooling2D';
import { averagePooling2DKind } from './averagePooling2D';
import { globalAveragePooling2DKind } from './globalAveragePooling2D';
import { globalMaxPooling2DKind } from './globalMaxPooling2D';
import { maxPooling3DKind } from './maxPooling3D';
import { averagePooling3DKind } from './averagePooling3D';
import { globalAveragePooling3DKind } from './globalAveragePooling3D';
import { globalMaxPooling3DKind } from './globalMaxPooling3D';
import { zeroPadding3DKind } from './zeroPadding3D';
import { cropping3DKind } from './cropping3D';
import { upSampling3DKind } from './upSampling3D';

export const weightlessKinds: LayerKind[] = [
  inputLayerKind,
  maskingKind,
  identityKind,
  activationKind,
  reluKind,
  leakyReLUKind,
  eluKind,
  softmaxKind,
  thresholdedReLUKind,
  maxPooling1DKind,
  averagePooling1DKind,
  globalAveragePooling1DKind,
  globalMaxPooling1DKind,
  maxPooling2DKind,
  averagePooling2DKind,
  globalAveragePooling2DKind,
  globalMaxPooling2DKind,
  zeroPadding1DKind,
  zeroPadding2DKind,
  cropping1DKind,
  cropping2DKind,
  upSampling1DKind,
  upSampling2DKind,
  maxPooling3DKind,
  averagePooling3DKind,
  globalAveragePooling3DKind,
  globalMaxPooling3DKind,
  zeroPadding3DKind,
  cropping3DKind,
  upSampling3DKind,
  flattenKind,
  reshapeKind,
  repeatVectorKind,
  permuteKind,
  concatenateKind,
  addKind,
  subtractKind,
  multiplyKind,
  averageKind,
  maximumKind,
  minimumKind,
  dotKind,
];
