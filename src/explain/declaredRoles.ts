/**
 * What a weight is when no model is joined to it (weights-only files, hovers on a bare name, the fused Keras 1 view):
 * asked of the layer kinds, so a weight reads the same with or without an architecture. The kind of the class (or of
 * the layer a cell belongs to: LSTMCell → LSTM) declares the roles in get_weights() order, their meanings and their
 * gate blocks; words below are only for roles of classes no kind declares (Conv3D, custom layers, ...).
 */
import { kindFor } from '../model/kinds/index';
import { KERAS1_ROLE_NAMES } from '../model/kinds/bind-by-name';
import type { LayerConfig, WeightRole } from '../model/types';
import type { Family } from './gates';

/** The class whose kind speaks for `className`: itself, or the layer a cell class runs in (GRUCell → GRU). */
function kindClassOf(className: string | null | undefined): string | null {
  if (!className) return null;
  if (kindFor(className)) return className;
  const layer = className.replace(/Cell$/, '');
  return layer !== className && kindFor(layer) ? layer : null;
}

/**
 * The roles the kind of `className` declares, in get_weights() order, for a layer of `units` units (1 when unknown:
 * then block k spans [k, k+1), i.e. [k·u, (k+1)·u)). `config` may add what the file says (reset_after, use_bias, ...).
 * Null when no kind declares the class or the config is too thin for it.
 */
export function declaredRoles(className: string | null | undefined, config?: Record<string, unknown> | null, units?: number): WeightRole[] | null {
  const cls = kindClassOf(className);
  if (!cls) return null;
  const u = units ?? 1;
  const spatial = Number(/(\d)D$/.exec(cls)?.[1] ?? 1);
  const given = config ?? {};
  const layer: LayerConfig = {
    name: '',
    className: cls,
    config: {
      kernel_size: new Array(spatial).fill(1),
      ...given,
      ...(units !== undefined || typeof given.units !== 'number' ? { units: u } : {}),
      ...(units !== undefined || typeof given.filters !== 'number' ? { filters: u } : {}),
    },
    inbound: [],
  };
  try {
    const roles = kindFor(cls)!.weightRoles(layer, { kerasVersion: null, inputShapes: [] });
    return Array.isArray(roles) && roles.length > 0 ? roles : null;
  } catch {
    return null;
  }
}

/** The declared role a stored role name stands for (Keras 1 `running_std` is moving_variance). */
export function declaredRole(roles: WeightRole[] | null, role: string): WeightRole | null {
  if (!roles) return null;
  return roles.find((r) => r.role === role) ?? roles.find((r) => r.role === KERAS1_ROLE_NAMES[role]) ?? null;
}

/** Keras 3 positional variable order of a class (`vars/0`, `vars/1`, ...): its kind's roles, else the family's. */
export function variableOrder(className: string | null | undefined, family: Family | null): string[] | null {
  const roles = declaredRoles(className);
  if (roles) return roles.map((r) => r.role);
  return family === 'conv' ? ['kernel', 'bias'] : null;
}

/** What a stored role means for a class: its kind's words, else the words for undeclared roles. */
export function roleMeaningOf(className: string | null | undefined, family: Family | null, role: string): string {
  return declaredRole(declaredRoles(className), role)?.meaning ?? undeclaredRoleMeaning(role, family);
}

/** The noun at the head of a meaning: 'scale γ, one per channel' → 'scale γ'; 'kernel: row k …' → 'kernel'. */
export function meaningHead(meaning: string): string {
  return meaning.split(/[:,]/)[0].replace(/ per .*$/, '').trim();
}

/** Words for a role of a class that no layer kind declares. */
export function undeclaredRoleMeaning(role: string, family: Family | null): string {
  switch (role) {
    case 'kernel':
      return family === 'conv' ? 'convolution kernel' : 'kernel';
    case 'recurrent_kernel':
      return 'recurrent kernel: multiplies the previous hidden state h(t-1) into every gate';
    case 'bias':
      return 'bias of each output unit';
    case 'embeddings':
      return 'embedding matrix: row k is the vector for token id k';
    case 'gamma':
      return 'scale (γ) per feature';
    case 'beta':
      return 'offset (β) per feature';
    case 'moving_mean':
      return 'moving mean per feature (used at inference)';
    case 'moving_variance':
      return 'moving variance per feature (used at inference)';
    case 'running_mean':
      return 'running mean per feature (Keras 1)';
    case 'running_std':
      return 'running standard deviation per feature (Keras 1)';
    case 'depthwise_kernel':
      return 'depthwise kernel: one filter per input channel';
    case 'pointwise_kernel':
      return 'pointwise kernel: 1×1 mix of channels';
    case 'alpha':
      return 'learned slope of the negative part (PReLU)';
    default:
      return 'weight';
  }
}
