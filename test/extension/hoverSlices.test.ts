/**
 * Hovers with a model open offer the same gate slices the viewer's Copy slice copies, with the model's real columns.
 * Source of truth: the file's weight order (= get_weights order) and its LSTM units (50: gate f = columns [50, 100)).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { hoverTextAt } from '../../extension/hoverText';
import { ModelSession } from '../../extension/modelSession';

const LSTM_K2 = join(__dirname, '../../../shared/keras-reference/dl4j/examples/simple_lstm/simple_lstm_tf_keras_2_model.h5');

test('hover over a weight name or get_weights()[k] with the model open lists its gate slices in both forms', async () => {
  const s = await ModelSession.open(LSTM_K2, { maxTensorElements: 1e6 });
  try {
    const line = "k = f['model_weights/lstm_1/lstm_1/kernel:0'][()]";
    const h = hoverTextAt(line, line.indexOf('kernel:0') + 2, s.report);
    assert.ok(h);
    assert.match(h.markdown, /`model\.get_weights\(\)\[0\]\[:, 50:100\]  # lstm_1 kernel, f \(forget gate\)`/);
    assert.match(h.markdown, /`model\.get_layer\('lstm_1'\)\.get_weights\(\)\[0\]\[:, 50:100\]`/);
    const g = 'U = model.get_weights()[1]';
    const h2 = hoverTextAt(g, g.indexOf('get_weights') + 2, s.report);
    assert.ok(h2);
    assert.match(h2.markdown, /model\.get_weights\(\)\[1\]\[:, 150:200\]  # lstm_1 recurrent kernel, o \(output gate\)/);
    // without a model: no slices (the real columns are unknown)
    assert.doesNotMatch(hoverTextAt(line, line.indexOf('kernel:0') + 2, null)?.markdown ?? '', /Gate slices/);
  } finally {
    s.close();
  }
});
