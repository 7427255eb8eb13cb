/**
 * Cropping3D: each spatial axis cut to [start : length − end]. `cropping` n, (a, b, c) symmetric, or
 * ((a0, a1), (b0, b1), (c0, c1)), default 1 on every side; data_format channels_last / channels_first. No output mask.
 */
import { padCropKind } from './spatial';

export const cropping3DKind = padCropKind('Cropping3D', 'cropping', 3, 1, -1);
