/** MaxPooling2D: the largest value of each (rows × cols) window, per channel. */
import { poolingKind } from './pooling2D';

export const maxPooling2DKind = poolingKind(['MaxPooling2D', 'MaxPool2D'], 2, false);
