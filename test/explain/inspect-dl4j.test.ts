/**
 * `inspect` over every Keras-written .h5 in ../shared/keras-reference/dl4j. Expected facts come from the files
 * themselves (read here directly with h5wasm: model_config, weight_names, datasets) and from the reference
 * README (Keras 1 stores i, c, f, o; Keras 2 fuses i, f, c, o), never from our own output.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { inspectModel, type InspectReport, type InspectWeight } from '../../src/explain/inspect';
import { openModelFile } from '../../src/formats/open';
import { buildModel } from '../../src/model/graph';

const DL4J = '../shared/keras-reference/dl4j';

function h5Files(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...h5Files(p));
    else if (name.endsWith('.h5')) out.push(p);
  }
  return out.sort();
}

async function h5() {
  const mod = await import('h5wasm/node');
  await mod.ready;
  return mod;
}
type H5 = Awaited<ReturnType<typeof h5>>;

interface RawFacts {
  /** layer name -> class name (top level), from model_config. */
  classes: Map<string, string>;
  /** layer name -> raw config of the layer (inner config for wrappers). */
  configs: Map<string, Record<string, unknown>>;
  /** layer name -> weight names in the order of the weight_names attribute. */
  weightNames: Map<string, string[]>;
  /** weight name -> shape as stored. */
  shapes: Map<string, number[]>;
  /** total number of stored numbers */
  totalParams: number;
  keras1: boolean;
}

async function rawFacts(path: string): Promise<RawFacts> {
  const lib = await h5();
  const f = new lib.File(path, 'r');
  try {
    const root = f.keys().includes('model_weights') ? (f.get('model_weights') as InstanceType<H5['Group']>) : f;
    const classes = new Map<string, string>();
    const configs = new Map<string, Record<string, unknown>>();
    const mc = f.attrs['model_config']?.value;
    if (typeof mc === 'string') {
      const parsed = JSON.parse(mc);
      const layers = Array.isArray(parsed.config) ? parsed.config : parsed.config.layers;
      for (const l of layers) {
        const name = l.config?.name ?? l.name;
        classes.set(name, l.class_name);
        configs.set(name, l.config?.layer?.config ?? l.config);
      }
    }
    const weightNames = new Map<string, string[]>();
    let totalParams = 0;
    const shapes = new Map<string, number[]>();
    const layerNames = [...((root.attrs['layer_names']?.value as string[]) ?? [])];
    for (const ln of layerNames) {
      const g = root.get(ln) as InstanceType<H5['Group']>;
      const wn = g.attrs['weight_names']?.value;
      const names = typeof wn === 'string' ? [wn] : [...((wn as string[]) ?? [])];
      weightNames.set(ln, names);
      for (const n of names) {
        const shape = [...((g.get(n) as InstanceType<H5['Dataset']>).shape ?? [])].map(Number);
        shapes.set(n, shape);
        totalParams += shape.reduce((a: number, b: number) => a * b, 1);
      }
    }
    const version = String(f.attrs['keras_version']?.value ?? '');
    const keras1 = version.startsWith('1') || layerNames.some((ln) => (weightNames.get(ln) ?? []).some((n) => /_[WUb](_[a-z])?(:0)?$/.test(n)));
    return { classes, configs, weightNames, shapes, totalParams, keras1 };
  } finally {
    f.close();
  }
}

async function readDataset(path: string, datasetPath: string): Promise<Float32Array> {
  const lib = await h5();
  const f = new lib.File(path, 'r');
  try {
    return Float32Array.from((f.get(datasetPath) as InstanceType<H5['Dataset']>).value as Float32Array);
  } finally {
    f.close();
  }
}

async function inspectPath(path: string): Promise<InspectReport> {
  const file = await openModelFile(path);
  try {
    return await inspectModel(file);
  } finally {
    file.close();
  }
}

const models = h5Files(DL4J).filter((p) => !p.endsWith('_inputs_and_outputs.h5'));
const dataFiles = h5Files(DL4J).filter((p) => p.endsWith('_inputs_and_outputs.h5'));

test('the reference folder has the files the manifest lists', () => {
  assert.equal(models.length, 27);
  assert.equal(dataFiles.length, 6);
});

for (const path of models) {
  test(`inspect ${path.slice(DL4J.length + 1)}`, async () => {
    const facts = await rawFacts(path);
    const report = await inspectPath(path);
    const names = report.layers.map((l) => l.name);
    // Every layer of the architecture is listed, with its class.
    for (const [name, cls] of facts.classes) {
      const layer = report.layers.find((l) => l.name === name);
      assert.ok(layer, `layer ${name} missing from ${names.join(',')}`);
      assert.equal(layer.className, cls === 'Merge' ? layer.className : cls);
    }
    // Every stored array is listed under its layer in weight_names order; parameter counts add up.
    for (const [layerName, weightNames] of facts.weightNames) {
      const layer = report.layers.find((l) => l.name === layerName);
      if (weightNames.length === 0) continue;
      assert.ok(layer, `layer ${layerName} with weights is missing`);
      assert.deepEqual(
        layer.weights.map((w) => w.name),
        weightNames,
      );
      for (const w of layer.weights) {
        assert.deepEqual(w.shape, facts.shapes.get(w.name));
        assert.equal(w.params, w.shape.reduce((a, b) => a * b, 1));
      }
    }
    assert.equal(report.totalParams, facts.totalParams);
    // Keras wrote these files: the architecture and the arrays agree, so there is nothing to note.
    if (!report.weightsOnly) assert.deepEqual(report.notes ?? [], []);

    for (const layer of report.layers) {
      const cls = layer.innerClassName ?? layer.className;
      const config = facts.configs.get(layer.name);
      // Units from the config, or (weights-only files) from the stored recurrent kernel (u, ...u).
      const recurrentName = (facts.weightNames.get(layer.name) ?? []).find((n) => /recurrent_kernel|_U(_[a-z])?(:0)?$/.test(n));
      const recurrentShape = recurrentName ? facts.shapes.get(recurrentName) : undefined;
      const units = Number(config?.units ?? config?.output_dim ?? config?.filters ?? recurrentShape?.[recurrentShape.length - 2] ?? NaN);
      for (const w of layer.weights) {
        // Blocks always lie inside the array's last axis.
        for (const b of w.blocks) {
          assert.ok(b.axis === -1 || b.axis === w.shape.length - 1, `${w.name}: blocks on the last axis`);
          assert.ok(b.start >= 0 && b.end <= w.shape[w.shape.length - 1] && b.start < b.end, `${w.name}: block ${b.label} inside`);
        }
        if (!/LSTM/.test(cls)) continue;
        if (facts.keras1) {
          // Keras 1 split array: exactly one block, the gate its own name says, covering its u columns.
          const letter = /_[WUb]_([icfo])(:0)?$/.exec(w.name)?.[1];
          assert.ok(letter, `${w.name} has a gate suffix`);
          assert.deepEqual(
            w.blocks.map((b) => [b.label, b.start, b.end]),
            [[letter, 0, units]],
            w.name,
          );
          assert.equal(w.gate, letter);
        } else {
          if (w.role === 'kernel' || w.role === 'recurrent_kernel' || w.role === 'bias') {
            assert.deepEqual(
              w.blocks.map((b) => [b.label, b.start, b.end]),
              ['i', 'f', 'c', 'o'].map((g, k) => [g, k * units, (k + 1) * units]),
              `${w.name}: i,f,c,o blocks of ${units}`,
            );
          }
        }
        if (w.role === 'recurrent_kernel' && w.shape.length === 2) {
          assert.deepEqual(
            w.rows.map((r) => [r.source, r.start, r.end]),
            [['h(t-1)', 0, units]],
          );
        }
      }
    }
  });
}

test('Keras 1 LSTM: stored order is i, c, f, o and each label is the array its name says (tf and th, model and weights-only)', async () => {
  for (const path of [
    `${DL4J}/examples/simple_lstm/simple_lstm_tf_keras_1_model.h5`,
    `${DL4J}/examples/simple_lstm/simple_lstm_th_keras_1_model.h5`,
    `${DL4J}/examples/simple_lstm/simple_lstm_tf_keras_1_weights.h5`,
    `${DL4J}/examples/simple_lstm/simple_lstm_th_keras_1_weights.h5`,
  ]) {
    const report = await inspectPath(path);
    const lstm = report.layers.find((l) => l.name === 'lstm_1')!;
    assert.equal(lstm.className, 'LSTM', path);
    assert.deepEqual(
      lstm.weights.map((w) => w.gate),
      ['i', 'i', 'i', 'c', 'c', 'c', 'f', 'f', 'f', 'o', 'o', 'o'],
      path,
    );
    assert.deepEqual(
      lstm.weights.map((w) => w.role),
      Array(4).fill(['kernel', 'recurrent_kernel', 'bias']).flat(),
    );
    const meanings = { i: /input gate/, c: /cell candidate/, f: /forget gate/, o: /output gate/ };
    for (const w of lstm.weights) assert.match(w.blocks[0].meaning, meanings[w.gate as 'i']);
  }
});

test('Keras 1 LSTM: the fused kernel the engine builds puts array W_<g> exactly at block <g> of the i,f,c,o layout', async () => {
  const path = `${DL4J}/examples/simple_lstm/simple_lstm_tf_keras_1_model.h5`;
  const report = await inspectPath(path);
  const file = await openModelFile(path);
  try {
    const model = await buildModel(file);
    await model.bindAll();
    const fused = model.layerByName.get('lstm_1')!.weights!;
    const lstm = report.layers.find((l) => l.name === 'lstm_1')!;
    const fusedOrder = ['i', 'f', 'c', 'o'];
    const roleOf = { kernel: 'W', recurrent_kernel: 'U', bias: 'b' } as const;
    for (const w of lstm.weights as InspectWeight[]) {
      // Read the array straight from the HDF5 file, by the name the report gives it.
      const raw = await readDataset(path, w.path);
      assert.match(w.name, new RegExp(`_${roleOf[w.role as keyof typeof roleOf]}_${w.gate}:0$`));
      const u = 50;
      const g = fusedOrder.indexOf(w.gate!);
      const tensor = fused.get(w.role)!;
      const rows = w.shape.length === 2 ? w.shape[0] : 1;
      const cols = tensor.shape[tensor.shape.length - 1];
      assert.equal(cols, 4 * u);
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < u; c++) {
          assert.equal(tensor.data[r * cols + g * u + c], raw[r * u + c], `${w.name}[${r},${c}]`);
        }
      }
    }
  } finally {
    file.close();
  }
});

test('tf.keras Bidirectional: forward then backward halves, each with i,f,c,o', async () => {
  const report = await inspectPath(`${DL4J}/tfkeras/rnn_29.h5`);
  for (const [name, units, inFeatures] of [
    ['bidirectional_14', 6, 4],
    ['bidirectional_15', 4, 12],
  ] as const) {
    const layer = report.layers.find((l) => l.name === name)!;
    assert.equal(layer.className, 'Bidirectional');
    assert.equal(layer.innerClassName, 'LSTM');
    assert.deepEqual(
      layer.weights.map((w) => w.direction),
      ['forward', 'forward', 'forward', 'backward', 'backward', 'backward'],
    );
    for (const w of layer.weights) assert.ok(w.name.includes(`/${w.direction}_lstm_`), w.name);
    const kernel = layer.weights[3];
    assert.deepEqual(kernel.shape, [inFeatures, 4 * units]);
    assert.equal(kernel.rows[kernel.rows.length - 1].end, inFeatures);
  }
  // The second block reads the first one's concatenated output: forward units 0-5, backward units 6-11.
  const k = report.layers.find((l) => l.name === 'bidirectional_15')!.weights[0];
  assert.deepEqual(
    k.rows.map((r) => [r.source, r.start, r.end, r.meaning]),
    [
      ['bidirectional_14', 0, 6, 'forward'],
      ['bidirectional_14', 6, 12, 'backward'],
    ],
  );
});

test('ConvLSTM2D: i,f,c,o blocks of 4 filters on the last axis, rows per kernel position', async () => {
  const report = await inspectPath(`${DL4J}/tfkeras/convlstm2d_19.h5`);
  const layer = report.layers.find((l) => l.name === 'conv_lst_m2d_22')!;
  assert.equal(layer.className, 'ConvLSTM2D');
  for (const w of layer.weights) {
    assert.deepEqual(
      w.blocks.map((b) => [b.label, b.start, b.end]),
      ['i', 'f', 'c', 'o'].map((g, k) => [g, 4 * k, 4 * (k + 1)]),
    );
  }
  const kernel = layer.weights[0];
  assert.deepEqual(kernel.view, [27, 16]);
  assert.equal(kernel.rows.length, 9);
  assert.deepEqual(
    kernel.rows.map((r) => r.position),
    [0, 1, 2].flatMap((dy) => [0, 1, 2].map((dx) => [dy, dx])),
  );
  assert.ok(kernel.rows.every((r, p) => r.source === 'input_12' && r.start === 3 * p && r.end === 3 * p + 3));
  const bi = await inspectPath(`${DL4J}/tfkeras/convlstm2d_0.h5`);
  const b = bi.layers.find((l) => l.name === 'bidirectional')!;
  assert.equal(b.innerClassName, 'ConvLSTM2D');
  assert.deepEqual(
    b.weights.map((w) => w.direction),
    ['forward', 'forward', 'forward', 'backward', 'backward', 'backward'],
  );
});

test('Flatten after SimpleRNN(return_sequences) of one timestep: Dense rows are simple_rnn_1 at timestep 0', async () => {
  const report = await inspectPath(`${DL4J}/examples/simple_flatten_rnn/simple_flatten_rnn_tf_keras_2_model.h5`);
  const k = report.layers.find((l) => l.name === 'dense_1')!.weights[0];
  assert.deepEqual(
    k.rows.map((r) => [r.source, r.start, r.end, r.timestep]),
    [['simple_rnn_1', 0, 50, 0]],
  );
});

test('weights-only Keras 2 file: classes guessed from names, gate blocks from shapes', async () => {
  const report = await inspectPath(`${DL4J}/examples/simple_lstm/simple_lstm_tf_keras_2_weights.h5`);
  assert.equal(report.weightsOnly, true);
  const lstm = report.layers.find((l) => l.name === 'lstm_1')!;
  assert.equal(lstm.className, 'LSTM');
  assert.equal(lstm.classGuessed, true);
  for (const w of lstm.weights) {
    assert.deepEqual(
      w.blocks.map((b) => [b.label, b.start, b.end]),
      ['i', 'f', 'c', 'o'].map((g, k) => [g, 50 * k, 50 * (k + 1)]),
    );
  }
  assert.equal(report.layers.find((l) => l.name === 'dense_1')!.className, 'Dense');
});

test('data files (inputs/predictions, no model) are refused with one line naming the file', async () => {
  for (const path of dataFiles) {
    await assert.rejects(openModelFile(path), (err: Error) => err.name === 'KerasLensError' && err.message.includes(path) && !err.message.includes('\n'));
  }
});
