/**
 * ZeroPadding1D: zeros before and after the steps axis. `padding` n or (before, after) (Keras 1: an int or a pair);
 * data_format (Keras 3) picks the steps axis. No output mask (Keras's layer does not support masking).
 */
import { padCropKind } from './spatial';

export const zeroPadding1DKind = padCropKind('ZeroPadding1D', 'padding', 1, 1, 1);
