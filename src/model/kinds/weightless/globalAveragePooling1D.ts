/** GlobalAveragePooling1D: mean over the steps, counting only the real (unmasked) steps. */
import { globalPooling1DKind } from './globalPooling1D';

export const globalAveragePooling1DKind = globalPooling1DKind(['GlobalAveragePooling1D', 'GlobalAvgPool1D'], true);
