/**
 * Keras 1 stores a gated cell as one array per gate and role (`lstm_1_W_i`, `lstm_1_U_f`, `gru_1_b_h`): what each
 * such array is (its role and the one gate block it holds), and fusing them BY NAME into the Keras 2 layout.
 */
import type { LayerConfig, Tensor, WeightRef, WeightRole } from '../types';
import { KerasLensError } from '../types';
import { keras1SplitName, matchStoredToRoles, storedWeightName } from './bind-by-name';
import { keras1SplitMeaning, type Gate } from './gated-roles';

/**
 * Stored roles of a recurrent layer: each Keras 1 split array (`lstm_1_W_f`) gets its role and the one gate block it
 * holds; fused arrays get weightRoles() matched by name, then by position.
 */
export function recurrentStoredRoles(
  layer: LayerConfig,
  refs: WeightRef[],
  roles: WeightRole[],
  gates: Gate[],
): WeightRole[] {
  const split = refs.map((r) => keras1SplitName(storedWeightName(r)));
  if (refs.length > 0 && split.every((s) => s !== null)) {
    return refs.map((ref, i) => {
      const s = split[i]!;
      const gate = gates.find((g) => g.label === s.gate);
      if (!gate) {
        throw new KerasLensError(null, `layer '${layer.name}': weight '${ref.name}' names gate '${s.gate}', which ${layer.className} does not have`);
      }
      const width = ref.shape[ref.shape.length - 1];
      return {
        role: s.role,
        meaning: keras1SplitMeaning(s.role, gate),
        shape: [...ref.shape],
        blocks: [{ label: gate.label, meaning: gate.meaning, axis: -1, start: 0, end: width }],
      };
    });
  }
  const idx = matchStoredToRoles(
    layer,
    refs,
    roles.map((r) => r.role),
  );
  return refs.map((ref, i) => ({ ...roles[idx[i]], shape: [...ref.shape] }));
}

/**
 * Keras 1 split arrays fused BY NAME into the Keras 2 layout: kernel = [W_i | W_f | W_c | W_o] (LSTM, gates in the
 * order given), never by stored position (Keras 1.2 lists LSTM arrays i, c, f, o). Returns null if the arrays are not
 * Keras 1 split arrays.
 */
export function fuseKeras1Split(
  layer: LayerConfig,
  stored: { ref: WeightRef; data: Float32Array }[],
  gates: Gate[],
): Map<string, Tensor> | null {
  const split = stored.map((s) => keras1SplitName(storedWeightName(s.ref)));
  if (stored.length === 0 || !split.every((s) => s !== null)) return null;
  const byRole = new Map<string, Map<string, { ref: WeightRef; data: Float32Array }>>();
  stored.forEach((s, i) => {
    const { role, gate } = split[i]!;
    if (!byRole.has(role)) byRole.set(role, new Map());
    const m = byRole.get(role)!;
    if (m.has(gate)) throw new KerasLensError(null, `layer '${layer.name}': two stored arrays for ${role} gate '${gate}'`);
    m.set(gate, s);
  });
  const out = new Map<string, Tensor>();
  for (const [role, parts] of byRole) {
    for (const g of gates) {
      if (!parts.has(g.label)) {
        throw new KerasLensError(null, `layer '${layer.name}': the Keras 1 ${role} array for the ${g.meaning} ('${g.label}') is missing`);
      }
    }
    const first = parts.get(gates[0].label)!;
    const rows = first.ref.shape.length === 2 ? first.ref.shape[0] : 1;
    const width = first.ref.shape[first.ref.shape.length - 1];
    const G = gates.length;
    const fused = new Float32Array(rows * G * width);
    gates.forEach((g, k) => {
      const part = parts.get(g.label)!;
      if (part.data.length !== rows * width) {
        throw new KerasLensError(null, `layer '${layer.name}': '${part.ref.name}' has shape (${part.ref.shape.join(',')}), expected (${first.ref.shape.join(',')})`);
      }
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < width; c++) fused[r * G * width + k * width + c] = part.data[r * width + c];
      }
    });
    out.set(role, { shape: first.ref.shape.length === 2 ? [rows, G * width] : [G * width], data: fused });
  }
  return out;
}
