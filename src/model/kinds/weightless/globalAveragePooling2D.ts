/** GlobalAveragePooling2D: the mean over all rows and columns, per channel. */
import { globalPooling2DKind } from './globalPooling2D';

export const globalAveragePooling2DKind = globalPooling2DKind(['GlobalAveragePooling2D', 'GlobalAvgPool2D'], true);
