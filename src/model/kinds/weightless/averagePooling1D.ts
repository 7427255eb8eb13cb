/** AveragePooling1D: the mean of each window of steps (padding excluded), per channel. */
import { pooling1DKind } from './pooling1D';

export const averagePooling1DKind = pooling1DKind(['AveragePooling1D', 'AvgPool1D'], true);
