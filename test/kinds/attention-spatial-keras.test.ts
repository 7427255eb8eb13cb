/**
 * Attention, AdditiveAttention, MultiHeadAttention and the padding / resampling / pooling kinds end to end through
 * the bundled CLI (`node bin/keras-lens.js predict MODEL INPUT --json`), in every format each case ships.
 *
 * Source of truth: what real Keras 3.15.1 (TensorFlow 2.21 CPU) returned from model.predict():
 *   - ../shared/keras-reference/keras3: lstm_attention, lstm_additive_attention, lstm_mha_layernorm, padding_pooling
 *     (ZeroPadding1D, UpSampling1D, Cropping1D);
 *   - test/fixtures/keras3-attention (made by test/keras3-attention/generate.py): bilinear UpSampling2D, the 3D
 *     padding / cropping / upsampling / pooling layers in both data formats,
 *     MultiHeadAttention on rank-4 inputs with attention_axes and scores, use_gate, sliding_window (with and
 *     without masks and causal), dropout > 0 with masks (Keras's explicit-softmax path), an explicit
 *     attention_mask input, Attention/AdditiveAttention with dropout, and MultiHeadAttention deleting its input
 *     tensors' masks (Keras 3) before an Attention that reads the same tensor, and masks passed by hand
 *     (Attention(mask=[qm, vm]), MultiHeadAttention(value_mask=vm)) from keras.ops nodes.
 * Rule: |ours − keras| ≤ 1e-5 · max(1, |keras|) for every output value, and the same number and shapes of outputs.
 * inspect must name every stored MultiHeadAttention array's role and give the output shapes predict produces.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureCliBuilt, PROJECT, runCli as cli } from '../fixtures/cli';

const SHARED = join(PROJECT, '../shared/keras-reference/keras3');
const OURS = join(PROJECT, 'test/fixtures/keras3-attention');
const SHARED_CASES = ['lstm_attention', 'lstm_additive_attention', 'lstm_mha_layernorm', 'padding_pooling'];
const RTOL = 1e-5;

before(ensureCliBuilt);

type Nested = number | Nested[];

function shapeOf(x: Nested): number[] {
  return Array.isArray(x) ? [x.length, ...(x.length ? shapeOf(x[0]) : [])] : [];
}

function flat(x: Nested, out: number[] = []): number[] {
  if (Array.isArray(x)) for (const v of x) flat(v, out);
  else out.push(x);
  return out;
}

interface CaseFiles {
  name: string;
  dir: string;
  files: Record<string, string>;
}

function casesIn(root: string, only?: string[]): CaseFiles[] {
  const names = only ?? readdirSync(root).filter((n) => existsSync(join(root, n, 'case.json')));
  return names.sort().map((n) => {
    const c = JSON.parse(readFileSync(join(root, n, 'case.json'), 'utf8')) as { files: Record<string, string> };
    return { name: n, dir: join(root, n), files: c.files };
  });
}

/** Runs every format of a case; returns the worst relative difference and how many formats ran. */
function runCase(c: CaseFiles): { worst: number; formats: string[] } {
  const expected = (JSON.parse(readFileSync(join(c.dir, 'expected.json'), 'utf8')) as { outputs: Nested[] }).outputs;
  const input = join(c.dir, 'input.json');
  let worst = 0;
  const formats: string[] = [];
  for (const [format, file] of Object.entries(c.files)) {
    if (format === 'config') continue;
    const args = ['predict', join(c.dir, file), input, '--json'];
    if (format === 'weights') args.push('--config', join(c.dir, c.files.config));
    const r = cli(...args);
    assert.equal(r.status, 0, `${c.name} (${format}): ${r.stderr}`);
    const ours = (JSON.parse(r.stdout) as { outputs: Nested[] }).outputs;
    assert.equal(ours.length, expected.length, `${c.name} (${format}): ${ours.length} outputs, Keras gave ${expected.length}`);
    ours.forEach((o, i) => {
      assert.deepEqual(shapeOf(o), shapeOf(expected[i]), `${c.name} (${format}) output ${i} shape`);
      const a = flat(o);
      const b = flat(expected[i]);
      a.forEach((v, k) => {
        const d = Math.abs(v - b[k]) / Math.max(1, Math.abs(b[k]));
        assert.ok(d <= RTOL, `${c.name} (${format}) output ${i}[${k}]: ours ${v}, Keras ${b[k]}`);
        worst = Math.max(worst, d);
      });
    });
    formats.push(format);
  }
  return { worst, formats };
}

const shared = existsSync(SHARED) ? casesIn(SHARED, SHARED_CASES) : [];
const ours = casesIn(OURS);

test('the real-Keras cases for these layers are all here', () => {
  assert.equal(shared.length, SHARED_CASES.length, `expected the shared cases ${SHARED_CASES.join(', ')} in ${SHARED}`);
  assert.ok(ours.length >= 9, `expected the generated cases in ${OURS}`);
});

for (const c of [...shared, ...ours]) {
  test(`real Keras: ${c.name} predicts within 1e-5 in every format it ships`, () => {
    const { worst, formats } = runCase(c);
    assert.ok(formats.length >= 1 && worst <= RTOL);
  });
}

test('inspect names every MultiHeadAttention array by sublayer and axes, and agrees with predict on output shapes', () => {
  for (const c of ours.filter((x) => x.name.startsWith('mha_'))) {
    for (const [format, file] of Object.entries(c.files)) {
      if (format === 'config') continue;
      const args = ['inspect', join(c.dir, file), '--json'];
      if (format === 'weights') args.push('--config', join(c.dir, c.files.config));
      const r = cli(...args);
      assert.equal(r.status, 0, `${c.name} (${format}): ${r.stderr}`);
      const report = JSON.parse(r.stdout) as { layers: { className: string; name: string; outputShape?: (number | null)[]; weights: { name: string; role: string; meaning: string; shape: number[]; rows?: { end: number; index?: string }[] }[] }[] };
      const mhas = report.layers.filter((l) => l.className === 'MultiHeadAttention');
      assert.ok(mhas.length >= 1, `${c.name}: no MultiHeadAttention layer in the report`);
      for (const l of mhas) {
        for (const w of l.weights) {
          assert.match(w.role, /^(query|key|value|gate|output)_(kernel|bias)$/, `${c.name} ${w.name}: role ${w.role}`);
          // the sublayer the file names must be the role's part (query_dense / query / attention_output / _gate_dense)
          const part = w.role.split('_')[0];
          const sub = part === 'output' ? /(attention_output|output_dense)/ : new RegExp(`(^|/)_?${part}(_dense)?/`);
          assert.match(w.name, sub, `${c.name}: ${w.name} bound as ${w.role}`);
          if (w.role.endsWith('_kernel')) assert.match(w.meaning, /axes \(/, `${c.name} ${w.name}: meaning names no axes`);
          // matrix-view rows: (input feature, head) for the projections, (head, component) for the output kernel
          if (w.role.endsWith('_kernel') && w.shape.length === 3) {
            const rows = w.rows ?? [];
            const perHeadRows = w.role === 'output_kernel';
            assert.equal(rows.length, w.shape[0], `${c.name} ${w.name}: ${rows.length} row spans for shape (${w.shape.join(', ')})`);
            assert.equal(rows[rows.length - 1].end, w.shape[0] * w.shape[1], `${c.name} ${w.name}: rows do not cover the matrix view`);
            assert.equal(rows[0].index, perHeadRows ? 'component' : 'head', `${c.name} ${w.name}: row word`);
          }
        }
      }
    }
  }
});

test('inspect and predict agree on the shape of every model output', () => {
  for (const c of [...shared, ...ours]) {
    const r = cli('inspect', join(c.dir, c.files.keras), '--json');
    assert.equal(r.status, 0, `${c.name}: ${r.stderr}`);
    const report = JSON.parse(r.stdout) as { layers: { name: string; outputShape?: (number | null)[] }[] };
    const p = JSON.parse(cli('predict', join(c.dir, c.files.keras), join(c.dir, 'input.json'), '--json').stdout) as { outputs: Nested[]; outputNames: string[] };
    const byName = new Map(report.layers.map((l) => [l.name, l.outputShape]));
    let compared = 0;
    p.outputNames.forEach((name, i) => {
      if (!byName.has(name)) return; // a second output of a layer (attention scores) is named 'layer:node:tensor'
      const shape = byName.get(name);
      assert.ok(shape, `${c.name}: inspect gives no output shape for ${name}`);
      assert.deepEqual(shape.slice(1), shapeOf(p.outputs[i]).slice(1), `${c.name} ${name}: inspect ${JSON.stringify(shape)} vs predict`);
      compared++;
    });
    assert.ok(compared >= 1, `${c.name}: no output compared`);
  }
});

test('tf.keras 2.x spelling: MultiHeadAttention with value= and attention_mask= as kwargs of its inbound entry', () => {
  // The same model as mha_attention_mask, its architecture written the way tf.keras 2.x Node.serialize writes a call
  // mha(q, value=v, attention_mask=m): [[ 'q', 0, 0, {value: ['v', 0, 0], attention_mask: ['m', 0, 0]} ]].
  // Weights: that case's Keras 3 model.weights.h5; truth: what Keras 3.15.1 predicted for it.
  const c = ours.find((x) => x.name === 'mha_attention_mask')!;
  const k3 = JSON.parse(readFileSync(join(c.dir, c.files.config), 'utf8')) as { config: { layers: { class_name: string; name: string; config: Record<string, unknown> }[] } };
  const layers = k3.config.layers.map((l) => {
    if (l.class_name === 'InputLayer') {
      const { batch_shape, ...rest } = l.config;
      return { class_name: 'InputLayer', name: l.name, config: { ...rest, batch_input_shape: batch_shape, dtype: 'float32' }, inbound_nodes: [] };
    }
    return { class_name: l.class_name, name: l.name, config: { ...l.config, dtype: 'float32' }, inbound_nodes: [[['q', 0, 0, { value: ['v', 0, 0], attention_mask: ['m', 0, 0] }]]] };
  });
  const arch = {
    class_name: 'Functional',
    config: { name: 'model', layers, input_layers: [['q', 0, 0], ['m', 0, 0], ['v', 0, 0]], output_layers: [['mha', 0, 0]] },
    keras_version: '2.11.0',
    backend: 'tensorflow',
  };
  const dir = mkdtempSync(join(tmpdir(), 'keras-lens-tfkeras-mha-'));
  try {
    const archFile = join(dir, 'model.json');
    writeFileSync(archFile, JSON.stringify(arch));
    const r = cli('predict', join(c.dir, c.files.weights), join(c.dir, 'input.json'), '--config', archFile, '--json');
    assert.equal(r.status, 0, r.stderr);
    const got = flat((JSON.parse(r.stdout) as { outputs: Nested[] }).outputs[0]);
    const want = flat((JSON.parse(readFileSync(join(c.dir, 'expected.json'), 'utf8')) as { outputs: Nested[] }).outputs[0]);
    assert.equal(got.length, want.length);
    got.forEach((v, k) => assert.ok(Math.abs(v - want[k]) <= RTOL * Math.max(1, Math.abs(want[k])), `[${k}] ours ${v}, Keras ${want[k]}`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('weights-only: a Keras 3 .weights.h5 alone still says what each MultiHeadAttention array is', () => {
  // Source of truth: the file's own variable paths (layers/multi_head_attention/<sublayer>/vars/<0 kernel, 1 bias>),
  // as Keras 3's saving_lib writes them; no architecture is given.
  const c = ours.find((x) => x.name === 'mha_attention_mask')!;
  const r = cli('inspect', join(c.dir, c.files.weights), '--json');
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout) as { layers: { className: string; weights: { name: string; role: string; meaning: string }[] }[] };
  const mha = report.layers.find((l) => l.className === 'MultiHeadAttention');
  assert.ok(mha, 'the layers/multi_head_attention group is not recognised as MultiHeadAttention');
  assert.equal(mha.weights.length, 8);
  for (const w of mha.weights) {
    const m = /\/_?(query|key|value|output)_dense\/vars\/([01])$/.exec(w.name);
    assert.ok(m, w.name);
    assert.equal(w.role, `${m[1]}_${m[2] === '0' ? 'kernel' : 'bias'}`, `${w.name} read as ${w.role}`);
    assert.match(w.meaning, new RegExp(`^${m[1]} projection`), `${w.name}: ${w.meaning}`);
  }
});

test('tf.keras 2.x spelling: Attention with causal=True in its config (before use_causal_mask became a call argument)', () => {
  // test/fixtures/keras3-real/attention_concat_causal (Keras 3.15.1, call(..., use_causal_mask=True)), its
  // architecture rewritten as tf.keras ≤ 2.9 wrote it: `causal: true` in the layer config, inbound nodes as
  // [[name, node, tensor, {}], ...], no call options. Weights: its .weights.h5; truth: what Keras predicted. The
  // same file without `causal` must then disagree, so the test sees the flag.
  const dir = join(PROJECT, 'test/fixtures/keras3-real/attention_concat_causal');
  const k3 = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as { config: { layers: { class_name: string; name: string; config: Record<string, unknown> }[] } };
  const tfKerasArch = (causal: boolean) => ({
    class_name: 'Functional',
    config: {
      name: 'model',
      layers: k3.config.layers.map((l) => {
        if (l.class_name === 'InputLayer') {
          const { batch_shape, ...rest } = l.config;
          return { class_name: 'InputLayer', name: l.name, config: { ...rest, batch_input_shape: batch_shape, dtype: 'float32' }, inbound_nodes: [] };
        }
        return { class_name: l.class_name, name: l.name, config: { ...l.config, dtype: 'float32', causal }, inbound_nodes: [[['query', 0, 0, {}], ['value', 0, 0, {}]]] };
      }),
      input_layers: [['query', 0, 0], ['value', 0, 0]],
      output_layers: [['att', 0, 0]],
    },
    keras_version: '2.9.0',
    backend: 'tensorflow',
  });
  const want = flat((JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as { outputs: Nested[] }).outputs[0]);
  const tmp = mkdtempSync(join(tmpdir(), 'keras-lens-tfkeras-att-'));
  try {
    const worst = (causal: boolean) => {
      const archFile = join(tmp, `model-${causal}.json`);
      writeFileSync(archFile, JSON.stringify(tfKerasArch(causal)));
      const r = cli('predict', join(dir, 'model.weights.h5'), join(dir, 'input.json'), '--config', archFile, '--json');
      assert.equal(r.status, 0, r.stderr);
      const got = flat((JSON.parse(r.stdout) as { outputs: Nested[] }).outputs[0]);
      assert.equal(got.length, want.length);
      return Math.max(...got.map((v, k) => Math.abs(v - want[k]) / Math.max(1, Math.abs(want[k]))));
    };
    assert.ok(worst(true) <= RTOL, `causal: true differs from Keras by ${worst(true)}`);
    assert.ok(worst(false) > 1e-3, 'without causal the output should differ: the test would not see the flag');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
