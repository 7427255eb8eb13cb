/** Activation(activation): applies the named Keras activation element by element (softmax along its axis). Passes the mask through. */
import { activationLayerKind } from './activationLayer';

export const activationKind = activationLayerKind('Activation');
