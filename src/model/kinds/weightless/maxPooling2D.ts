/** MaxPooling2D: the largest value of each (rows × cols) window, per channel. */
import { pooling2DKind } from './pooling2D';

export const maxPooling2DKind = pooling2DKind(['MaxPooling2D', 'MaxPool2D'], false);
