/**
 * The viewer names every weight with its `model.get_weights()[k]` index and Keras name (the storage path as the
 * second line for Keras 3 files), and every gate chip has "Copy slice" whose text is the numpy slice of that gate.
 * Real webview bundle in headless Chromium (harness/webviewHarness.ts) on Keras-written files; the clipboard is read
 * back from the page. Sources of truth: the files' weight order (= get_weights order) and the gate blocks the
 * inspect report gives (checked against Keras elsewhere). Needs `npm run build` and Chromium; skipped without them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CHROMIUM, openHarness } from './harness/webviewHarness';

const ROOT = join(__dirname, '../..');
const LSTM_K2 = join(ROOT, '../shared/keras-reference/dl4j/examples/simple_lstm/simple_lstm_tf_keras_2_model.h5');
const BIDI_K3 = join(ROOT, '../shared/keras-reference/keras3/bidir_lstm_concat/model.keras');
const skip = !existsSync(CHROMIUM) ? `no Chromium at ${CHROMIUM}` : !existsSync(join(ROOT, 'dist/webview.js')) ? 'run npm run build first' : !existsSync(LSTM_K2) ? 'no ../shared/keras-reference' : false;

test('viewer: get_weights index and Keras name on every weight; Copy slice copies the gate slice in both forms', { skip }, async () => {
  const h = await openHarness({ view: 'model', modelPath: LSTM_K2 });
  const p = h.page;
  try {
    await p.context().grantPermissions(['clipboard-read', 'clipboard-write']).catch(() => {});
    await p.waitForSelector('#summary [data-testid=format]');
    await p.click('[data-testid=layer][data-layer=lstm_1]');
    const weight = p.locator('[data-testid=weight][data-weight="lstm_1/recurrent_kernel:0"]');
    assert.equal(await weight.locator('[data-testid=weight-index]').textContent(), 'model.get_weights()[1]');
    assert.equal(await weight.locator('[data-testid=weight-keras-name]').textContent(), 'lstm_1/recurrent_kernel:0');
    await weight.locator('.weight-toggle').click();
    const copy = weight.locator('[data-testid=copy-slice][data-gate=f]');
    await copy.waitFor();
    await copy.click();
    const text = await p.evaluate('navigator.clipboard.readText()');
    assert.equal(text, "model.get_weights()[1][:, 50:100]  # lstm_1 recurrent kernel, f (forget gate)\nmodel.get_layer('lstm_1').get_weights()[1][:, 50:100]");
    await p.click('[data-testid=layer][data-layer=dense_1]');
    assert.equal(await p.locator('[data-testid=weight][data-weight="dense_1/bias:0"] [data-testid=weight-index]').textContent(), 'model.get_weights()[4]');
    assert.deepEqual(h.problems, []);
  } finally {
    await h.close();
  }
});

test('viewer: a Keras 3 Bidirectional weight shows its variable path, with the storage path as the second line', { skip: skip || (!existsSync(BIDI_K3) && 'no keras3 reference') }, async () => {
  const h = await openHarness({ view: 'model', modelPath: BIDI_K3 });
  const p = h.page;
  try {
    await p.waitForSelector('#summary [data-testid=format]');
    await p.click('[data-testid=layer][data-layer=bidirectional]');
    const w = p.locator('[data-testid=weight][data-weight="layers/bidirectional/backward_layer/cell/vars/0"]');
    assert.equal(await w.locator('[data-testid=weight-keras-name]').textContent(), 'bidirectional/backward_lstm_12/lstm_cell/kernel');
    assert.equal(await w.locator('[data-testid=weight-stored-name]').textContent(), 'layers/bidirectional/backward_layer/cell/vars/0');
    assert.equal(await w.locator('[data-testid=weight-index]').textContent(), 'model.get_weights()[3]');
  } finally {
    await h.close();
  }
});
