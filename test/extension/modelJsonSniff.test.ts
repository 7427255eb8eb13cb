import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { sniffKerasJson } from '../../extension/modelJsonSniff';

const REF = join(__dirname, '../../../shared/keras-reference');

test('Keras architectures (model.to_json) of every generation are recognised', () => {
  assert.equal(sniffKerasJson('{"class_name": "Sequential", "config": [{"class_name": "LSTM"}], "keras_version": "1.2.2"}'), 'keras-architecture');
  assert.equal(sniffKerasJson('{"class_name":"Functional","config":{"name":"model","layers":[]},"keras_version":"2.13.1","backend":"tensorflow"}'), 'keras-architecture');
  assert.equal(sniffKerasJson('  {"class_name": "Model", "config": {"layers": []}}'), 'keras-architecture');
});

test('TF.js model.json and weight dumps are recognised', () => {
  assert.equal(sniffKerasJson('{"format": "layers-model", "modelTopology": {"class_name": "Sequential"}, "weightsManifest": []}'), 'tfjs-model');
  assert.equal(sniffKerasJson('{"lstm_1/kernel:0": {"shape": [3, 24], "data": [0.1]}}'), 'weights-dump');
  assert.equal(sniffKerasJson('{"lstm_1_W_i": [[0.1, 0.2]], "lstm_1_U_i": [[0.3]]}'), 'weights-dump');
});

test('ordinary JSON stays ordinary', () => {
  assert.equal(sniffKerasJson('{"name": "keras-lens", "version": "0.1.0", "scripts": {"build": "node"}}'), null);
  assert.equal(sniffKerasJson('[[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]'), null);
  assert.equal(sniffKerasJson('{"compilerOptions": {"strict": true}}'), null);
  assert.equal(sniffKerasJson('not json at all {"class_name": "Sequential", "config": 1}'), null);
});

test('the keras-js fixtures (test data, not models) are not taken for models, the dl4j manifest neither', () => {
  const cases = readFileSync(join(REF, 'keras-js/cases.json'), 'utf8');
  assert.equal(sniffKerasJson(cases) === 'keras-architecture' || sniffKerasJson(cases) === 'tfjs-model', false);
});

test('only the first 64 KiB are looked at', () => {
  const padding = ' '.repeat(70 * 1024);
  assert.equal(sniffKerasJson(`{${padding}"modelTopology": {}}`), null);
  const names = readdirSync(REF);
  assert.ok(names.includes('keras-js'));
});
