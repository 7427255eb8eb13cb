/** AveragePooling2D: the mean of each (rows × cols) window, per channel ('same' padding: mean of the real cells). */
import { pooling2DKind } from './pooling2D';

export const averagePooling2DKind = pooling2DKind(['AveragePooling2D', 'AvgPool2D'], true);
