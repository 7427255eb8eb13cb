/** GlobalAveragePooling3D: the mean over all three spatial axes, per channel. */
import { globalPooling2DKind } from './globalPooling2D';

export const globalAveragePooling3DKind = globalPooling2DKind(['GlobalAveragePooling3D', 'GlobalAvgPool3D'], true, 3);
