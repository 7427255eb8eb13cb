/** ThresholdedReLU(theta, default 1): y = x where x > theta, else 0. Passes the mask through. */
import { activationLayerKind } from './activationLayer';

export const thresholdedReLUKind = activationLayerKind('ThresholdedReLU');
