/**
 * ZeroPadding2D: zeros around rows and columns. `padding` n, (h, w) symmetric, or ((top, bottom), (left, right));
 * Keras 1 also (top, bottom, left, right). data_format channels_last (default) / channels_first (Keras 1 'th').
 * No output mask (Keras's layer does not support masking).
 */
import { padCropKind } from './spatial';

export const zeroPadding2DKind = padCropKind('ZeroPadding2D', 'padding', 2, 1, 1);
