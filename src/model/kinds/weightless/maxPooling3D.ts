/** MaxPooling3D: the largest value of each (dim1 × dim2 × dim3) window, per channel. */
import { poolingKind } from './pooling2D';

export const maxPooling3DKind = poolingKind(['MaxPooling3D', 'MaxPool3D'], 3, false);
