/** Softmax(axis, default -1): y = exp(x − max) / Σ exp(x − max) along the axis. Passes the mask through. */
import { activationLayerKind } from './activationLayer';

export const softmaxKind = activationLayerKind('Softmax');
