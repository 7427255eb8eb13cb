import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { hoverTextAt, MAX_LINE } from '../../extension/hoverText';
import { ModelSession } from '../../extension/modelSession';

const LSTM_K2 = join(__dirname, '../../../shared/keras-reference/dl4j/examples/simple_lstm/simple_lstm_tf_keras_2_model.h5');

test('a weight name in Python gets generic words and the range of the name', () => {
  const line = "w = f['model_weights/lstm_1/lstm_1/recurrent_kernel:0'][()]";
  const col = line.indexOf('recurrent_kernel') + 3;
  const h = hoverTextAt(line, col, null);
  assert.ok(h);
  assert.ok(line.slice(h.start, h.end).includes('recurrent_kernel'));
  assert.match(h.markdown, /forget/);
  assert.equal(hoverTextAt('print("hello world")', 8, null), null);
});

test('with a model open, get_weights()[k] names the real array and its units', async () => {
  const s = await ModelSession.open(LSTM_K2, { maxTensorElements: 1e6 });
  try {
    const line = 'U = model.get_weights()[1]';
    const h = hoverTextAt(line, line.indexOf('get_weights') + 2, s.report);
    assert.ok(h);
    assert.equal(line.slice(h.start, h.end), 'get_weights()[1]');
    assert.match(h.markdown, /lstm_1\/recurrent_kernel:0/);
    assert.match(h.markdown, /50/); // the model's real units
    assert.equal(hoverTextAt(line, line.indexOf('get_weights') + 2, null)?.markdown.includes('lstm_1/recurrent_kernel:0') ?? false, false);
  } finally {
    s.close();
  }
});

test('very long lines are searched only around the cursor, and ranges stay in line coordinates', () => {
  const pad = 'x'.repeat(MAX_LINE * 2);
  const line = `${pad} "lstm_1/kernel:0" ${pad}`;
  const col = line.indexOf('lstm_1/kernel') + 2;
  const h = hoverTextAt(line, col, null);
  assert.ok(h);
  assert.ok(line.slice(h.start, h.end).includes('lstm_1/kernel'));
});
