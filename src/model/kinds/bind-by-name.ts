/**
 * Matching a layer's stored arrays to the roles its kind expects (get_weights() order):
 *   - by name: tf.keras / Keras 2 `lstm_1/kernel:0`, `lstm/lstm_cell/recurrent_kernel:0`, `dense_1/bias:0`;
 *     Keras 1 `dense_1_W`, `lstm_1_U_f:0`, `batchnormalization_1_running_std`;
 *   - by position: Keras 3 `vars/0..n` and any other names that don't say their role.
 */
import type { LayerConfig, Tensor, WeightRef, WeightRole } from '../types';
import { KerasLensError } from '../types';

/** The weight's own name: last path segment without the `:0` suffix. */
export function storedWeightName(ref: { name: string }): string {
  const seg = ref.name.split('/').pop() ?? ref.name;
  return seg.replace(/:\d+$/, '');
}

/** Keras 1 short names → Keras 2 role names. */
export const KERAS1_ROLE_NAMES: Record<string, string> = {
  W: 'kernel',
  U: 'recurrent_kernel',
  b: 'bias',
  gamma: 'gamma',
  beta: 'beta',
  running_mean: 'moving_mean',
  running_std: 'moving_variance', // Keras 1.2 stores the variance under this name
  alphas: 'alpha',
};

/** A Keras 1 split recurrent array: `<layer>_W_i`, `<layer>_U_c`, `<layer>_b_f`. */
export function keras1SplitName(name: string): { role: string; gate: string } | null {
  const m = /(?:^|_)([WUb])_([a-z])$/.exec(name);
  if (!m) return null;
  return { role: KERAS1_ROLE_NAMES[m[1]], gate: m[2] };
}

function roleFromName(name: string, roles: string[], layerName: string, aliases: Record<string, string>): string | null {
  if (roles.includes(name)) return name;
  // Keras 1: `<layer name>_<short name>`
  const short = name.startsWith(layerName + '_') ? name.slice(layerName.length + 1) : null;
  const candidates: string[] = [];
  if (short) candidates.push(short);
  for (const key of Object.keys(aliases)) if (name === key || name.endsWith('_' + key)) candidates.push(key);
  for (const c of candidates) {
    if (roles.includes(c)) return c;
    const alias = aliases[c];
    if (alias && roles.includes(alias)) return alias;
  }
  // tf.keras names like `moving_mean` inside other spellings
  for (const r of roles) if (name.endsWith('_' + r) || name.endsWith('/' + r)) return r;
  return null;
}

/**
 * For each stored ref, the index of the role it holds. By name when every ref names a distinct role; otherwise by
 * position when the counts agree; otherwise a KerasLensError.
 */
export function matchStoredToRoles(
  layer: LayerConfig,
  refs: { name: string }[],
  roles: string[],
  aliases: Record<string, string> = KERAS1_ROLE_NAMES,
): number[] {
  const byName = refs.map((r) => roleFromName(storedWeightName(r), roles, layer.name, aliases));
  if (byName.every((r) => r !== null) && new Set(byName).size === byName.length) {
    return byName.map((r) => roles.indexOf(r as string));
  }
  if (refs.length === roles.length) return roles.map((_, i) => i);
  throw new KerasLensError(
    null,
    `layer '${layer.name}' (${layer.className}) has ${refs.length} stored weight(s) [${refs
      .map((r) => r.name)
      .join(', ')}] but ${roles.length} were expected [${roles.join(', ')}]`,
  );
}

/** Stored roles for kinds whose arrays are never split: weightRoles matched by name/position, shapes as stored. */
export function storedRolesByMatch(layer: LayerConfig, refs: WeightRef[], roles: WeightRole[]): WeightRole[] {
  const idx = matchStoredToRoles(
    layer,
    refs,
    roles.map((r) => r.role),
  );
  return refs.map((ref, i) => ({ ...roles[idx[i]], shape: [...ref.shape] }));
}

export function tensorOf(ref: { shape: number[] }, data: Float32Array): Tensor {
  return { shape: [...ref.shape], data };
}

/** Bind stored arrays to role names (no fusion). Checks the element count against the expected shape when known. */
export function bindByMatch(
  layer: LayerConfig,
  stored: { ref: WeightRef; data: Float32Array }[],
  roles: WeightRole[],
  aliases?: Record<string, string>,
): Map<string, Tensor> {
  const idx = matchStoredToRoles(
    layer,
    stored.map((s) => s.ref),
    roles.map((r) => r.role),
    aliases,
  );
  const out = new Map<string, Tensor>();
  stored.forEach((s, i) => {
    const role = roles[idx[i]];
    const expected = role.shape;
    if (expected && expected.every((d) => d > 0)) {
      const n = expected.reduce((a, b) => a * b, 1);
      if (n !== s.data.length) {
        throw new KerasLensError(
          null,
          `layer '${layer.name}': weight '${s.ref.name}' has shape (${s.ref.shape.join(',')}) with ${s.data.length} values but ${role.role} should be (${expected.join(',')})`,
        );
      }
      out.set(role.role, { shape: [...expected], data: s.data });
    } else {
      out.set(role.role, tensorOf(s.ref, s.data));
    }
  });
  return out;
}
