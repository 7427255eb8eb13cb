/** GlobalMaxPooling3D: the largest value over all three spatial axes, per channel. */
import { globalPooling2DKind } from './globalPooling2D';

export const globalMaxPooling3DKind = globalPooling2DKind(['GlobalMaxPooling3D', 'GlobalMaxPool3D'], false, 3);
