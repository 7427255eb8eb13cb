/** ELU(alpha, default 1): y = x for x > 0, alpha·(eˣ − 1) below. Passes the mask through. */
import { activationLayerKind } from './activationLayer';

export const eluKind = activationLayerKind('ELU');
