/** LeakyReLU(alpha / negative_slope, default 0.3): y = x for x >= 0, alpha·x below. Passes the mask through. */
import { activationLayerKind } from './activationLayer';

export const leakyReLUKind = activationLayerKind('LeakyReLU');
