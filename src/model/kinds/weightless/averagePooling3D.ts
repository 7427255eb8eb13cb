/** AveragePooling3D: the mean of each (dim1 × dim2 × dim3) window, per channel ('same': mean of the real cells). */
import { poolingKind } from './pooling2D';

export const averagePooling3DKind = poolingKind(['AveragePooling3D', 'AvgPool3D'], 3, true);
