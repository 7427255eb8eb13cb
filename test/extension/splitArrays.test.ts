import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fuseSplitArrays, fuseValues, fusedName, partAt } from '../../extension/splitArrays';
import type { InspectLayer, InspectWeight } from '../../src/explain/inspect';

function split(name: string, role: string, gate: string, shape: number[], layerClass = 'GRU'): InspectWeight {
  const cols = shape[shape.length - 1];
  return {
    name, layer: 'gru_1', index: 0, role, meaning: `${role} of the ${gate} gate only`, shape, params: shape.reduce((a, b) => a * b, 1), dtype: '<f4', path: `/${name}`,
    layerClass, gate, blocks: [{ label: gate, meaning: `${gate} gate`, axis: -1, start: 0, end: cols }], rows: [],
    view: [shape.length > 1 ? shape[0] : 1, cols],
  };
}

test('split arrays fuse per role in the class gate order, whatever the file order', () => {
  // stored h, z, r (not the Keras order z, r, h)
  const layer: InspectLayer = {
    name: 'gru_1', className: 'GRU', params: 0,
    weights: [split('gru_1_W_h', 'kernel', 'h', [3, 4]), split('gru_1_W_z', 'kernel', 'z', [3, 4]), split('gru_1_W_r', 'kernel', 'r', [3, 4]), split('gru_1_b_z', 'bias', 'z', [4]), split('gru_1_b_r', 'bias', 'r', [4]), split('gru_1_b_h', 'bias', 'h', [4])],
  };
  const { weights, fused } = fuseSplitArrays(layer);
  assert.deepEqual(weights.map((w) => [w.name, w.shape]), [['gru_1_W_{z,r,h}', [3, 12]], ['gru_1_b_{z,r,h}', [12]]]);
  const k = fused.get('gru_1_W_{z,r,h}')!;
  assert.deepEqual(k.parts.map((p) => [p.weight.name, p.colStart, p.colEnd]), [['gru_1_W_z', 0, 4], ['gru_1_W_r', 4, 8], ['gru_1_W_h', 8, 12]]);
  assert.deepEqual(k.weight.blocks.map((b) => [b.label, b.start, b.end]), [['z', 0, 4], ['r', 4, 8], ['h', 8, 12]]);
  assert.equal(partAt(k, 9)?.part.weight.name, 'gru_1_W_h');
  assert.equal(partAt(k, 9)?.col, 1);
  assert.equal(partAt(k, 12), null);
});

test('fused values put each part in its columns', () => {
  const a = Float32Array.from([1, 2, 3, 4]); // 2 x 2
  const b = Float32Array.from([5, 6]); // 2 x 1
  assert.deepEqual([...fuseValues(2, [{ cols: 2, data: a }, { cols: 1, data: b }])], [1, 2, 5, 3, 4, 6]);
});

test('fused names keep the common prefix and suffix', () => {
  assert.equal(fusedName(['lstm_1_U_i:0', 'lstm_1_U_f:0'], ['i', 'f']), 'lstm_1_U_{i,f}:0');
  assert.equal(fusedName(['a', 'b'], ['x', 'y']), 'a (+1)');
});

test('arrays without a gate, or groups that do not line up, stay as they are', () => {
  const dense: InspectWeight = { ...split('dense_1_W', 'kernel', 'x', [3, 4], 'Dense'), gate: undefined };
  delete dense.gate;
  const odd = [split('gru_1_U_z', 'recurrent_kernel', 'z', [4, 4]), split('gru_1_U_r', 'recurrent_kernel', 'r', [5, 4])];
  const { weights, fused } = fuseSplitArrays({ name: 'x', className: 'GRU', params: 0, weights: [dense, ...odd] });
  assert.deepEqual(weights.map((w) => w.name), ['dense_1_W', 'gru_1_U_z', 'gru_1_U_r']);
  assert.equal(fused.size, 0);
});
