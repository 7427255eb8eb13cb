/** AveragePooling2D: the mean of each (rows × cols) window, per channel ('same' padding: mean of the real cells). */
import { poolingKind } from './pooling2D';

export const averagePooling2DKind = poolingKind(['AveragePooling2D', 'AvgPool2D'], 2, true);
