/**
 * Cropping2D: y = x[:, top : rows − bottom, left : cols − right, :] (channels_last; channels_first crops axes 2, 3).
 * `cropping` n, (h, w) symmetric, or ((top, bottom), (left, right)), default none. No output mask (Keras's layer does
 * not support masking).
 */
import { padCropKind } from './spatial';

export const cropping2DKind = padCropKind('Cropping2D', 'cropping', 2, 0, -1);
