/**
 * ZeroPadding3D: zeros around the three spatial axes. `padding` n, (a, b, c) symmetric, or
 * ((a0, a1), (b0, b1), (c0, c1)); data_format channels_last / channels_first. No output mask (no mask support).
 */
import { padCropKind } from './spatial';

export const zeroPadding3DKind = padCropKind('ZeroPadding3D', 'padding', 3, 1, 1);
