/**
 * Operation nodes Keras Lens does not run are refused with one line naming the op — never a stack trace, never a
 * silent wrong answer. Source of truth: the file formats as Keras writes them (Keras 3 functional config with a
 * keras.src.ops node, keras/src/models/functional.py serialize_node; tf.keras TFOpLambda node data,
 * keras/engine/node.py Node.serialize) and the project rule that unknown classes are refused before predict runs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeModelConfig } from '../../src/model/config';
import { buildModel } from '../../src/model/graph';
import { predict } from '../../src/engine/predict';
import { KerasLensError } from '../../src/model/types';
import { memoryFile } from './memoryModel';

const kt = (layer: string, shape: (number | null)[]) => ({ class_name: '__keras_tensor__', config: { shape, dtype: 'float32', keras_history: [layer, 0, 0] } });
const input = { module: 'keras.layers', class_name: 'InputLayer', config: { batch_shape: [null, 3], dtype: 'float32', name: 'x' }, name: 'x', inbound_nodes: [] };

function keras3Model(op: Record<string, unknown>) {
  return { module: 'keras.src.models.functional', class_name: 'Functional', config: { name: 'm', layers: [input, op], input_layers: ['x', 0, 0], output_layers: [op.name, 0, 0] } };
}

async function refusal(raw: unknown, kerasVersion: string, batch = 1): Promise<string> {
  const config = normalizeModelConfig(raw, kerasVersion, 'model.keras');
  const model = await buildModel(memoryFile(config, {}, kerasVersion));
  try {
    await predict(model, { shape: [batch, 3], data: new Float64Array(batch * 3).fill(0.5) });
  } catch (err) {
    assert.ok(err instanceof KerasLensError, `a KerasLensError, got ${err}`);
    assert.ok(!err.message.includes('\n'), 'one line');
    return err.message;
  }
  assert.fail('predict ran an op it does not know');
}

test('a Keras 3 op class Keras Lens does not run is refused, naming the class', async () => {
  const msg = await refusal(
    keras3Model({ module: 'keras.src.ops.math', class_name: 'Erfinv', config: { name: 'erfinv' }, name: 'erfinv', inbound_nodes: [{ args: [kt('x', [null, 3])], kwargs: {} }] }),
    '3.15.1',
  );
  assert.match(msg, /'erfinv' \(class ops\.Erfinv\)/);
});

test('a known Keras 3 op called with a tensor index (gather) is refused, naming the op', async () => {
  const msg = await refusal(
    keras3Model({ module: 'keras.src.ops.numpy', class_name: 'GetItem', config: { name: 'get_item' }, name: 'get_item', inbound_nodes: [{ args: [kt('x', [null, 3]), kt('x', [null, 3])], kwargs: {} }] }),
    '3.15.1',
  );
  assert.match(msg, /get_item.*ops\.GetItem.*tensor \(gather\)/);
});

test('a TFOpLambda calling a TensorFlow function Keras Lens does not run is refused, naming the function', async () => {
  const raw = {
    class_name: 'Functional',
    config: {
      name: 'm',
      layers: [
        { class_name: 'InputLayer', config: { batch_input_shape: [null, 3], dtype: 'float32', name: 'x' }, name: 'x', inbound_nodes: [] },
        { class_name: 'TFOpLambda', config: { name: 'tf.math.bessel_i0e', trainable: true, dtype: 'float32', function: 'math.bessel_i0e' }, name: 'tf.math.bessel_i0e', inbound_nodes: [['x', 0, 0, { name: null }]] },
      ],
      input_layers: [['x', 0, 0]],
      output_layers: [['tf.math.bessel_i0e', 0, 0]],
    },
  };
  const msg = await refusal(raw, '2.6.0');
  assert.match(msg, /'tf\.math\.bessel_i0e' \(TFOpLambda\).*tf\.math\.bessel_i0e/);
});

test('an einsum that would run for minutes is refused, not hung on', async () => {
  // 'bi,cj->' over a batch of 40000: 40000·3·40000·3 = 1.4e10 multiply-adds
  const msg = await refusal(
    keras3Model({ module: 'keras.src.ops.numpy', class_name: 'Einsum', config: { name: 'einsum', subscripts: 'bi,cj->' }, name: 'einsum', inbound_nodes: [{ args: [kt('x', [null, 3]), kt('x', [null, 3])], kwargs: {} }] }),
    '3.15.1',
    40000,
  );
  assert.match(msg, /'einsum' \(ops\.Einsum\).*einsum 'bi,cj->'.*steps/);
});

test('an op whose settings ask for a huge output (tile by 1e9) is refused before allocating it', async () => {
  const msg = await refusal(
    keras3Model({ module: 'keras.src.ops.numpy', class_name: 'Tile', config: { name: 'tile', repeats: [1, 1000000000] }, name: 'tile', inbound_nodes: [{ args: [kt('x', [null, 3])], kwargs: {} }] }),
    '3.15.1',
  );
  assert.match(msg, /'tile' \(ops\.Tile\).*3\.0e\+9 values/);
});
