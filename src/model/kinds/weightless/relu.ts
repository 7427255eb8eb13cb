/** ReLU(max_value, negative_slope, threshold): y = min(max_value, x) for x >= threshold, negative_slope·(x − threshold) below. Passes the mask through. */
import { activationLayerKind } from './activationLayer';

export const reluKind = activationLayerKind('ReLU');
