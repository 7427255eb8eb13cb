/** MaxPooling1D: the largest value of each window of steps, per channel. */
import { pooling1DKind } from './pooling1D';

export const maxPooling1DKind = pooling1DKind(['MaxPooling1D', 'MaxPool1D'], false);
