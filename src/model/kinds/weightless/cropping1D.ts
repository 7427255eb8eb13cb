/**
 * Cropping1D: y = x[:, start : steps − end, :]. `cropping` n or (start, end), default (1, 1). Always channels_last
 * (Keras has no data_format here). No output mask (Keras's layer does not support masking).
 */
import { padCropKind } from './spatial';

export const cropping1DKind = padCropKind('Cropping1D', 'cropping', 1, 1, -1, true);
