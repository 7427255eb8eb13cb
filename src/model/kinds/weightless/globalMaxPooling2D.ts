/** GlobalMaxPooling2D: the largest value over all rows and columns, per channel. */
import { globalPooling2DKind } from './globalPooling2D';

export const globalMaxPooling2DKind = globalPooling2DKind(['GlobalMaxPooling2D', 'GlobalMaxPool2D'], false);
