/**
 * Engine behaviour that the reference data does not pin down, checked on tiny models whose expected values are
 * worked out by hand in the comments (not produced by our code).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildModel, inferShapes } from '../../src/model/graph';
import { parseInputJson, predict, PredictSession } from '../../src/engine/predict';
import { KerasLensError } from '../../src/model/types';
import { inputLayer, layer, memoryFile, modelConfig, ref } from './memoryModel';
import { seededSigned } from '../fixtures/models';

const t = (shape: number[], data: number[]) => ({ shape, data: Float64Array.from(data) });

function close(actual: ArrayLike<number>, expected: number[], tol = 1e-12) {
  assert.equal(actual.length, expected.length, `length ${actual.length} vs ${expected.length}`);
  expected.forEach((e, i) => assert.ok(Math.abs(actual[i] - e) <= tol, `[${i}] ${actual[i]} vs ${e}`));
}

/** Dense(2) with kernel [[1,2],[3,4]], bias [0.5,-0.5], shared by two inputs; outputs Add and Subtract of the two calls. */
function sharedDenseModel() {
  const config = modelConfig(
    [
      inputLayer('a', [2]),
      inputLayer('b', [2]),
      layer('dense', 'Dense', { units: 2, activation: 'linear', use_bias: true }, [ref('a')], [ref('b')]),
      layer('sum', 'Add', {}, [ref('dense', 0), ref('dense', 1)]),
      layer('diff', 'Subtract', {}, [ref('dense', 0), ref('dense', 1)]),
    ],
    [ref('a'), ref('b')],
    [ref('sum'), ref('diff')],
  );
  return memoryFile(config, {
    dense: [
      { name: 'dense/kernel:0', shape: [2, 2], data: [1, 2, 3, 4] },
      { name: 'dense/bias:0', shape: [2], data: [0.5, -0.5] },
    ],
  });
}

test('a shared layer is one layer with two calls; several inputs and outputs', async () => {
  const model = await buildModel(sharedDenseModel());
  assert.equal(model.layerByName.get('dense')!.calls.length, 2);
  assert.deepEqual(model.outputNames, ['sum', 'diff']);
  // dense(a=[1,1]) = [1+3+0.5, 2+4-0.5] = [4.5, 5.5]; dense(b=[2,0]) = [2+0.5, 4-0.5] = [2.5, 3.5]
  const r = await predict(model, { a: t([1, 2], [1, 1]), b: t([1, 2], [2, 0]) });
  close(r.outputs[0].data, [7, 9]);
  close(r.outputs[1].data, [2, 2]);
  // the same inputs given as a list in input order
  const r2 = await predict(model, [t([1, 2], [1, 1]), t([1, 2], [2, 0])]);
  close(r2.outputs[1].data, [2, 2]);
});

test('unknown/custom layers: buildModel and inferShapes work; predict refuses before reading any weight', async () => {
  const config = modelConfig(
    [
      inputLayer('x', [3, 2]),
      layer('dense', 'Dense', { units: 2 }, [ref('x')]),
      layer('attention_1', 'MyAttention', { heads: 2 }, [ref('dense')]),
      layer('out', 'Dense', { units: 1 }, [ref('attention_1')]),
    ],
    [ref('x')],
    [ref('out')],
  );
  const file = memoryFile(config, {
    dense: [
      { name: 'dense/kernel:0', shape: [2, 2], data: [1, 0, 0, 1] },
      { name: 'dense/bias:0', shape: [2], data: [0, 0] },
    ],
  });
  const model = await buildModel(file);
  assert.deepEqual(model.unknownLayers.map((l) => l.name), ['attention_1']);
  const shapes = inferShapes(config, '2.2.4');
  assert.deepEqual(shapes.get('dense:0:0'), [null, 3, 2]);
  assert.equal(shapes.has('attention_1:0:0'), false, 'unknown layer: unknown shape');
  assert.equal(shapes.has('out:0:0'), false, 'downstream of an unknown layer: unknown shape');
  await assert.rejects(predict(model, t([1, 3, 2], [1, 2, 3, 4, 5, 6])), (err: unknown) => {
    assert.ok(err instanceof KerasLensError);
    assert.match(err.message, /^memory\.h5: .*'attention_1'.*MyAttention/);
    return true;
  });
  assert.deepEqual(file.reads, [], 'no weight was read');
});

test('config vs weights: a wrong kernel shape names the layer, the weight, expected and found shapes', async () => {
  const config = modelConfig([inputLayer('x', [2]), layer('dense_1', 'Dense', { units: 3 }, [ref('x')])], [ref('x')], [ref('dense_1')]);
  const file = memoryFile(config, {
    dense_1: [
      { name: 'dense_1/kernel:0', shape: [2, 2], data: [1, 2, 3, 4] },
      { name: 'dense_1/bias:0', shape: [3], data: [0, 0, 0] },
    ],
  });
  const model = await buildModel(file);
  await assert.rejects(predict(model, t([1, 2], [1, 1])), (err: unknown) => {
    assert.ok(err instanceof KerasLensError);
    assert.match(err.message, /^memory\.h5: /);
    assert.match(err.message, /dense_1/);
    assert.match(err.message, /kernel/);
    assert.match(err.message, /\(2, ?2\)/);
    assert.match(err.message, /\(2, ?3\)/);
    return true;
  });
});

test('config vs weights: a layer without weights in the file is named with the weights it expects', async () => {
  const config = modelConfig([inputLayer('x', [2]), layer('dense_1', 'Dense', { units: 3 }, [ref('x')])], [ref('x')], [ref('dense_1')]);
  const model = await buildModel(memoryFile(config, { dense_7: [{ name: 'dense_7/kernel:0', shape: [2, 3], data: [0, 0, 0, 0, 0, 0] }] }));
  await assert.rejects(predict(model, t([1, 2], [1, 1])), /dense_1' \(Dense\) has no weights in the file; it expects kernel \(2, 3\), bias \(3,\).*dense_7/);
});

test('masks: Masking -> Dense (passes the mask) -> GlobalAveragePooling1D averages only real steps', async () => {
  const config = modelConfig(
    [
      inputLayer('x', [3, 2]),
      layer('masking', 'Masking', { mask_value: 0 }, [ref('x')]),
      layer('dense', 'Dense', { units: 2, use_bias: false }, [ref('masking')]),
      layer('pool', 'GlobalAveragePooling1D', {}, [ref('dense')]),
    ],
    [ref('x')],
    [ref('pool')],
  );
  const model = await buildModel(
    memoryFile(config, { dense: [{ name: 'dense/kernel:0', shape: [2, 2], data: [1, 0, 0, 2] }] }),
  );
  // steps [1,2], [0,0] (masked), [3,4] -> dense [1,4], [0,0], [3,8]; mean over the 2 real steps = [2, 6]
  // (without the mask it would be [4/3, 4])
  const r = await predict(model, t([1, 3, 2], [1, 2, 0, 0, 3, 4]));
  close(r.outputs[0].data, [2, 6]);
});

test('masks: Concatenate joins masks end to end on the steps axis and ANDs them on the feature axis', async () => {
  const build = (axis: number) =>
    modelConfig(
      [
        inputLayer('a', [2, 1]),
        inputLayer('b', [2, 1]),
        layer('ma', 'Masking', { mask_value: 0 }, [ref('a')]),
        layer('mb', 'Masking', { mask_value: 9 }, [ref('b')]),
        layer('cat', 'Concatenate', { axis }, [[ref('ma'), ref('mb')]].flat()),
        layer('pool', 'GlobalAveragePooling1D', {}, [ref('cat')]),
      ],
      [ref('a'), ref('b')],
      [ref('pool')],
    );
  // a = [[1],[0]] (step 1 masked), b = [[9],[7]] (step 0 masked)
  const inputs = { a: t([1, 2, 1], [1, 0]), b: t([1, 2, 1], [9, 7]) };
  // axis 1: steps [1],[0],[0 (b's masked step zeroed by Masking)],[7]; mask [1,0,0,1] -> mean (1+7)/2 = 4
  const steps = await predict(await buildModel(memoryFile(build(1))), inputs);
  close(steps.outputs[0].data, [4]);
  // axis -1: steps [1,0],[0,7]; mask [1&0, 0&1] = [0,0] -> no real step: 0/0 = NaN, as Keras gives
  const features = await predict(await buildModel(memoryFile(build(-1))), inputs);
  assert.ok(features.outputs[0].data.every((v) => Number.isNaN(v)));
});

/** SimpleRNN(1, linear) with kernel 1, recurrent 1, bias 0: h_t = x_t + h_(t-1), so the output is h0 + Σx. */
function summingRnn(extra: Record<string, unknown>, initialStateAs: 'kwargs' | 'inputs' | null) {
  const layers = [inputLayer('x', [2, 1])];
  const rnn = layer('rnn', 'SimpleRNN', { units: 1, activation: 'linear', use_bias: true, ...extra }, [ref('x')]);
  if (initialStateAs) {
    layers.push(inputLayer('h0', [1]));
    if (initialStateAs === 'kwargs') rnn.inboundKwargs = [{ initial_state: [ref('h0')] }];
    else rnn.inbound = [[ref('x'), ref('h0')]];
  }
  layers.push(rnn);
  const config = modelConfig(layers, initialStateAs ? [ref('x'), ref('h0')] : [ref('x')], [ref('rnn')]);
  return memoryFile(config, {
    rnn: [
      { name: 'rnn/kernel:0', shape: [1, 1], data: [1] },
      { name: 'rnn/recurrent_kernel:0', shape: [1, 1], data: [1] },
      { name: 'rnn/bias:0', shape: [1], data: [0] },
    ],
  });
}

test('RNN initial_state: from call kwargs and from extra positional inputs (older Keras 2 configs)', async () => {
  for (const style of ['kwargs', 'inputs'] as const) {
    const model = await buildModel(summingRnn({}, style));
    // h0 = 10, x = [1, 2] -> 13
    const r = await predict(model, { x: t([1, 2, 1], [1, 2]), h0: t([1, 1], [10]) });
    close(r.outputs[0].data, [13]);
  }
});

test('stateful layers: a session carries the state between calls; reset() starts over; no session = fresh', async () => {
  const model = await buildModel(summingRnn({ stateful: true }, null));
  const x = t([1, 2, 1], [1, 2]);
  const session = new PredictSession();
  close((await predict(model, x, { session })).outputs[0].data, [3]);
  close((await predict(model, x, { session })).outputs[0].data, [6]);
  session.reset();
  close((await predict(model, x, { session })).outputs[0].data, [3]);
  close((await predict(model, x)).outputs[0].data, [3]);
});

test('trace: LSTM gates per step satisfy c = f·c(t-1) + i·c̃ and h = o·tanh(c); last h is the output', async () => {
  const units = 3;
  const features = 2;
  const rand = seededSigned(7);
  const arr = (n: number) => Array.from({ length: n }, rand);
  const config = modelConfig(
    [inputLayer('x', [4, features]), layer('lstm', 'LSTM', { units, activation: 'tanh', recurrent_activation: 'sigmoid' }, [ref('x')])],
    [ref('x')],
    [ref('lstm')],
  );
  const model = await buildModel(
    memoryFile(config, {
      lstm: [
        { name: 'lstm/kernel:0', shape: [features, 4 * units], data: arr(features * 4 * units) },
        { name: 'lstm/recurrent_kernel:0', shape: [units, 4 * units], data: arr(units * 4 * units) },
        { name: 'lstm/bias:0', shape: [4 * units], data: arr(4 * units) },
      ],
    }),
  );
  const r = await predict(model, t([2, 4, features], arr(2 * 4 * features)), { trace: true });
  assert.equal(r.trace?.length, 1);
  const tr = r.trace![0];
  assert.equal(tr.layer, 'lstm');
  assert.deepEqual(tr.gates, ['i', 'f', 'c', 'o']);
  assert.equal(tr.hidden.length, 4);
  let prevC = new Float64Array(2 * units);
  for (let s = 0; s < 4; s++) {
    const [i, f, cc, o] = tr.gates.map((g) => tr.gateValues[g][s].data);
    const c = tr.cell![s].data;
    const h = tr.hidden[s].data;
    for (let k = 0; k < 2 * units; k++) {
      assert.ok(Math.abs(c[k] - (f[k] * prevC[k] + i[k] * cc[k])) < 1e-12, `c at step ${s}`);
      assert.ok(Math.abs(h[k] - o[k] * Math.tanh(c[k])) < 1e-12, `h at step ${s}`);
    }
    prevC = Float64Array.from(c);
  }
  close(r.outputs[0].data, Array.from(tr.hidden[3].data));
});

test('parseInputJson: batch axis optional, several inputs by name, clear errors', async () => {
  const one = await buildModel(memoryFile(modelConfig([inputLayer('x', [2, 3]), layer('f', 'Flatten', {}, [ref('x')])], [ref('x')], [ref('f')])));
  assert.deepEqual(parseInputJson('[[[1,2,3],[4,5,6]]]', one, 'in.json').x.shape, [1, 2, 3]);
  assert.deepEqual(parseInputJson('[[1,2,3],[4,5,6]]', one, 'in.json').x.shape, [1, 2, 3], 'one sample without the batch axis');
  assert.deepEqual(Array.from(parseInputJson('{"x": [[1,2,3],[4,5,6]]}', one, 'in.json').x.data), [1, 2, 3, 4, 5, 6]);
  assert.throws(() => parseInputJson('[[1,2],[3,4]]', one, 'in.json'), /^KerasLensError: in\.json: the input has shape \(2, 2\) but input 'x' expects \(None, 2, 3\)/);
  assert.throws(() => parseInputJson('[[1,2,3],[4,"5",6]]', one, 'in.json'), /in\.json: the input\[1\]\[1\] is "5", not a number/);
  assert.throws(() => parseInputJson('[[1,2,3],[4,null,6]]', one, 'in.json'), /\[1\]\[1\] is null, not a number/);
  assert.throws(() => parseInputJson('[[1,2,3],[4,1e999,6]]', one, 'in.json'), /\[1\]\[1\] is Infinity, not a finite number/);
  assert.throws(() => parseInputJson('[[1,2,3],[4,5]]', one, 'in.json'), /ragged/);
  assert.throws(() => parseInputJson('[[1,2,3],[4,5,NaN]]', one, 'in.json'), /in\.json: not valid JSON/);
  assert.throws(() => parseInputJson('"hello"', one, 'in.json'), /expected a nested array/);
  const deep = '['.repeat(5000) + ']'.repeat(5000);
  assert.throws(() => parseInputJson(deep, one, 'in.json'), /nested more than 16 levels/);

  const two = await buildModel(sharedDenseModel());
  const both = parseInputJson('{"a": [1, 2], "b": [[3, 4]]}', two, 'in.json');
  assert.deepEqual(both.a.shape, [1, 2]);
  assert.deepEqual(both.b.shape, [1, 2]);
  assert.throws(() => parseInputJson('[[1,2]]', two, 'in.json'), /2 inputs; give an object keyed by input name/);
  assert.throws(() => parseInputJson('{"a": [1, 2], "c": [1, 2]}', two, 'in.json'), /missing 'b'; not an input: 'c'/);
  assert.throws(() => parseInputJson('{"a": [[1, 2]], "b": [[1, 2], [3, 4]]}', two, 'in.json'), /different batch sizes/);
});

test('predict checks tensors given directly against the declared input shape', async () => {
  const model = await buildModel(sharedDenseModel());
  await assert.rejects(predict(model, { a: t([1, 3], [1, 2, 3]), b: t([1, 2], [1, 2]) }), /input 'a' expects shape \(None, 2\) \(batch first\) but was given \(1, 3\)/);
  await assert.rejects(predict(model, [t([1, 2], [1, 2])]), /2 input\(s\) \(a, b\) but 1 were given/);
});

test('NaN/Infinity in a stored weight: predict refuses, naming the weight and where', async () => {
  const config = modelConfig([inputLayer('x', [2]), layer('dense_1', 'Dense', { units: 1 }, [ref('x')])], [ref('x')], [ref('dense_1')]);
  const model = await buildModel(
    memoryFile(config, {
      dense_1: [
        { name: 'dense_1/kernel:0', shape: [2, 1], data: [1, Number.POSITIVE_INFINITY] },
        { name: 'dense_1/bias:0', shape: [1], data: [0] },
      ],
    }),
  );
  await assert.rejects(predict(model, t([1, 2], [1, 1])), /^KerasLensError: memory\.h5: weight 'dense_1\/kernel:0' of layer 'dense_1' \(Dense\) holds 1 non-finite value \(first: Infinity at \[1, 0\]\)/);
});
