/**
 * Every fixture model written in every format (test/fixtures/generate.ts) opens with the right format and version,
 * and every weight reads back equal to what was written (Keras 1 files: equal to the written split arrays).
 */
import '../fixtures/fast-h5wasm';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openModelFile } from '../../src/formats/open';
import { generateFixtures, type GeneratedFixture } from '../fixtures/generate';
import { keras1Arrays, type FixtureWeight } from '../fixtures/writers';

const dir = mkdtempSync(join(tmpdir(), 'keras-lens-formats-'));
let fixtures: GeneratedFixture[] = [];

test.before(async () => {
  fixtures = await generateFixtures(dir);
});
test.after(() => rmSync(dir, { recursive: true, force: true }));

function expectedWeights(f: GeneratedFixture): { layer: string; weights: FixtureWeight[] }[] {
  if (f.format === 'keras1-h5' || f.format === 'keras1-weights-h5') {
    const backend = f.file.includes('keras1-th') ? 'theano' : 'tensorflow';
    return f.layers.map((l) => ({ layer: l.name, weights: keras1Arrays(l, backend) }));
  }
  return f.layers.map((l) => ({ layer: l.name, weights: l.weights }));
}

test('every generated fixture opens with its format, version and weights', async () => {
  assert.ok(fixtures.length > 100, `expected many fixtures, got ${fixtures.length}`);
  const seenFormats = new Set<string>();
  for (const f of fixtures) {
    const m = await openModelFile(f.file, f.configPath ? { configPath: f.configPath } : {});
    try {
      const what = `${f.file} (${f.format})`;
      seenFormats.add(m.format);
      assert.equal(m.format, f.format, what);
      assert.equal(m.kerasVersion, f.kerasVersion, what);
      const want = expectedWeights(f);
      assert.deepEqual(
        m.layers.map((l) => l.layer),
        want.map((l) => l.layer),
        `${what}: layers`,
      );
      for (const [i, wl] of want.entries()) {
        const got = m.layers[i];
        assert.equal(got.weights.length, wl.weights.length, `${what}: ${wl.layer} weight count`);
        for (const [j, w] of wl.weights.entries()) {
          const ref = got.weights[j];
          assert.deepEqual(ref.shape, w.shape, `${what}: ${wl.layer} #${j} shape`);
          assert.equal(ref.layer, wl.layer);
          if (f.format === 'keras3-keras' || f.format === 'keras3-weights-h5') {
            assert.match(ref.name, /^layers\/.+\/vars\/\d+$/, `${what}: keras 3 variable path`);
          } else if (f.format === 'weights-json' && /(get_weights|embedded)\.json$/.test(f.file)) {
            assert.ok(ref.name.startsWith(`${wl.layer}/`), ref.name);
          } else if (f.format === 'tfjs-json') {
            assert.equal(ref.name, w.name.replace(/:0$/, ''));
          } else {
            assert.equal(ref.name, w.name, `${what}: weight name`);
          }
          const data = await ref.read();
          assert.ok(data instanceof Float32Array);
          assert.deepEqual(Array.from(data), Array.from(w.data), `${what}: ${ref.name} data`);
        }
      }
      // The architecture is there (from the file or the config) and names the same layers.
      if (f.format === 'keras1-weights-h5') {
        assert.equal(m.model, null, `${what}: a weights-only file opened without a config has no architecture`);
        continue;
      }
      assert.ok(m.model, `${what}: model`);
      const names = new Set(m.model!.layers.map((l) => l.name));
      for (const l of want) assert.ok(names.has(l.layer), `${what}: architecture lacks ${l.layer}`);
    } finally {
      m.close();
    }
  }
  for (const fmt of ['keras1-h5', 'keras1-weights-h5', 'keras2-h5', 'keras2-weights-h5', 'keras3-legacy-h5', 'keras3-keras', 'keras3-weights-h5', 'tfjs-json', 'weights-json']) {
    assert.ok(seenFormats.has(fmt), `no fixture opened as ${fmt}`);
  }
});

test('Keras 3 groups follow class name + per-class counter, not layer names', async () => {
  const f = fixtures.find((x) => x.format === 'keras3-weights-h5' && x.model.id === 'two_input')!;
  const m = await openModelFile(f.file, { configPath: f.configPath });
  try {
    const paths = m.layers.map((l) => [l.layer, l.weights.map((w) => w.name)]);
    assert.deepEqual(paths, [
      ['lstm_1', ['layers/lstm/cell/vars/0', 'layers/lstm/cell/vars/1', 'layers/lstm/cell/vars/2']],
      ['dense_1', ['layers/dense/vars/0', 'layers/dense/vars/1']],
      ['dense_2', ['layers/dense_1/vars/0', 'layers/dense_1/vars/1']],
    ]);
  } finally {
    m.close();
  }
  const b = fixtures.find((x) => x.format === 'keras3-keras' && x.model.id === 'bidirectional_lstm')!;
  const mb = await openModelFile(b.file);
  try {
    assert.deepEqual(
      mb.layers[0].weights.map((w) => w.name),
      [0, 1, 2].map((i) => `layers/bidirectional/forward_layer/cell/vars/${i}`).concat([0, 1, 2].map((i) => `layers/bidirectional/backward_layer/cell/vars/${i}`)),
    );
  } finally {
    mb.close();
  }
});

test('Keras 3 weights without an architecture still list groups, vars and shapes', async () => {
  const f = fixtures.find((x) => x.format === 'keras3-weights-h5' && x.model.id === 'lstm')!;
  const m = await openModelFile(f.file);
  try {
    assert.equal(m.model, null);
    assert.deepEqual(
      m.layers.map((l) => [l.layer, l.weights.map((w) => `${w.name}${JSON.stringify(w.shape)}`)]),
      [
        ['layers/dense', ['layers/dense/vars/0[4,2]', 'layers/dense/vars/1[2]']],
        ['layers/lstm', ['layers/lstm/cell/vars/0[3,16]', 'layers/lstm/cell/vars/1[4,16]', 'layers/lstm/cell/vars/2[16]']],
      ],
    );
  } finally {
    m.close();
  }
});

test('chunked layer_names0/1/2 and weight_names0/1 read as one list', async () => {
  const f = fixtures.find((x) => x.file.endsWith('two_input.keras2-chunked.h5'))!;
  const m = await openModelFile(f.file);
  try {
    assert.deepEqual(m.layers.map((l) => l.layer), ['lstm_1', 'dense_1', 'dense_2']);
    assert.deepEqual(m.layers[0].weights.map((w) => w.name), ['lstm_1/kernel:0', 'lstm_1/recurrent_kernel:0', 'lstm_1/bias:0']);
  } finally {
    m.close();
  }
});

test('Keras 1 backend is told apart by the :0 suffix', async () => {
  for (const [tag, backend] of [['tf', 'tensorflow'], ['th', 'theano']]) {
    const f = fixtures.find((x) => x.file.endsWith(`lstm.keras1-${tag}.h5`) && x.model.id === 'lstm')!;
    const m = await openModelFile(f.file);
    try {
      assert.equal(m.backend, backend);
      assert.equal(m.layers[0].weights[0].name, `lstm_1_W_i${tag === 'tf' ? ':0' : ''}`);
      assert.equal(m.model!.layers[1].config.units, 4);
    } finally {
      m.close();
    }
  }
});
