/** GlobalMaxPooling1D: max over the steps (Keras ignores the mask). */
import { globalPooling1DKind } from './globalPooling1D';

export const globalMaxPooling1DKind = globalPooling1DKind(['GlobalMaxPooling1D', 'GlobalMaxPool1D'], false);
