/**
 * Writes the examples/ folder that `npm start` opens in VS Code (and the E2E suite reuses):
 *   - models: LSTM .h5, GRU reset_after, Bidirectional, a Keras 1 file, a Keras 3 .keras, a toy LSTM(2),
 *     a two-input model with an auxiliary input, a char-level LSTM with a softmax head;
 *   - for each model an input sequence `<model>.input.json` to right-click > Keras Lens: Predict;
 *   - weights.py, a script that mentions weight names, to hover over.
 *
 *   node --import tsx scripts/examples.ts [OUTDIR=examples]
 *
 * The synthetic models come from the fixture writers (test/fixtures/models.ts + writers.ts); the Keras-written files from
 * ../shared/keras-reference are copied in when that folder is there (they are data Keras produced).
 */
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fixtureModels, seededSigned } from '../test/fixtures/models';
import { writeKeras1H5, writeKeras2H5, writeKeras3Keras } from '../test/fixtures/writers';

const root = resolve(__dirname, '..');
const reference = resolve(root, '..', 'shared', 'keras-reference');

/** Keras-written files worth opening, under the names they get in examples/. */
export const referenceExamples: { from: string; to: string; what: string; inputShape: number[] }[] = [
  {
    from: 'dl4j/examples/functional_lstm/lstm_functional_tf_keras_2.h5',
    to: 'lstm_functional_keras2.h5',
    what: 'Keras 2.0.8 functional model: Input(10,4) → LSTM(8) → Dense(5, softmax)',
    inputShape: [10, 4],
  },
  {
    from: 'dl4j/examples/simple_lstm/simple_lstm_tf_keras_1_model.h5',
    to: 'simple_lstm_keras1.h5',
    what: 'Keras 1.2.2 Sequential LSTM(50) → Dense(1), LSTM stored as 12 arrays W_/U_/b_{i,c,f,o}',
    inputShape: [1, 1],
  },
  {
    from: 'dl4j/tfkeras/rnn_5.h5',
    to: 'bidirectional_lstm_tfkeras.h5',
    what: 'tf.keras 2.2.4 Bidirectional(LSTM(6), concat) → relu',
    inputShape: [3, 4],
  },
  {
    from: 'dl4j/tfkeras/rnn_6.h5',
    to: 'lstm_tfkeras.h5',
    what: 'tf.keras 2.2.4 LSTM(6) → relu',
    inputShape: [3, 4],
  },
];

/** Deterministic numbers in [-1, 1] to 3 decimals (the fixtures' seeded PRNG), the same on every machine. */
export function exampleSequence(shape: number[], seed: number): unknown {
  const r = seededSigned(seed);
  const next = () => Math.round(r() * 1000) / 1000;
  const build = (dims: number[]): unknown => (dims.length === 0 ? next() : Array.from({ length: dims[0] }, () => build(dims.slice(1))));
  return build(shape);
}

export const weightsPy = `"""Weight names as Keras writes them. Hover over a name (with Keras Lens installed) to see what it holds."""
import h5py

f = h5py.File("lstm_functional_keras2.h5", "r")

# Keras 2 / tf.keras LSTM: one fused array per role, columns in gate order [i | f | c | o]
kernel = f["model_weights/lstm/lstm/kernel:0"][()]              # (input_dim, 4*units)
recurrent = f["model_weights/lstm/lstm/recurrent_kernel:0"][()]  # (units, 4*units)
bias = f["model_weights/lstm/lstm/bias:0"][()]                   # (4*units,)

# tf.keras 2.x variable names keep the cell scope
print("lstm/lstm_cell/recurrent_kernel")

# Keras 1 stored one array per gate; the forget gate's recurrent weights:
u_f = h5py.File("simple_lstm_keras1.h5", "r")["model_weights/lstm_1/lstm_1_U_f:0"][()]

# Bidirectional halves
fwd = "bidirectional_1/forward_lstm_1/kernel:0"
bwd = "bidirectional_1/backward_lstm_1/recurrent_kernel:0"

# GRU with reset_after=True: bias has two rows (input bias, recurrent bias), columns [z | r | h]
gru_bias = "gru/gru_cell/bias:0"

# Keras 3 .keras / .weights.h5 variable paths are positional: vars/0 kernel, vars/1 recurrent kernel, vars/2 bias
k3 = "layers/lstm/cell/vars/1"
`;

export interface ExampleModel {
  /** File name inside the examples folder. */
  file: string;
  what: string;
  /** The example input written beside it (`<model>.input.json`). */
  input?: string;
}

/** Input JSON for Predict: one sample without the batch axis (one input) or an object keyed by input name. */
function inputFor(shapes: { name: string; shape: number[]; ints?: number }[], seed: number): unknown {
  const one = (s: { shape: number[]; ints?: number }, k: number) => {
    const v = exampleSequence(s.shape, seed + k);
    return s.ints ? mapLeaves(v, (x) => Math.floor(((x + 1) / 2) * s.ints!)) : v;
  };
  if (shapes.length === 1) return one(shapes[0], 0);
  return Object.fromEntries(shapes.map((s, k) => [s.name, one(s, k)]));
}

function mapLeaves(v: unknown, f: (x: number) => number): unknown {
  return Array.isArray(v) ? v.map((x) => mapLeaves(x, f)) : f(v as number);
}

/** Names of a Keras model config's input layers, in model input order. */
function inputNames(config: { config: unknown }): string[] {
  const c = config.config as { input_layers?: [string, number, number][]; layers?: { class_name: string; config: { name?: string } }[] };
  if (c && !Array.isArray(c) && c.input_layers) return c.input_layers.map((l) => l[0]);
  return ['input'];
}

/** Writes every example into `outDir`; returns what it wrote. */
export async function writeExamples(outDir: string): Promise<ExampleModel[]> {
  mkdirSync(outDir, { recursive: true });
  const written: ExampleModel[] = [];
  const writeInput = (model: string, value: unknown) => {
    const name = model.replace(/\.(h5|keras)$/, '.input.json');
    writeFileSync(join(outDir, name), JSON.stringify(value, null, 1).replace(/\n\s+(-?[\d.e-]+)/g, ' $1').replace(/\n\s*\]/g, ' ]') + '\n');
    return name;
  };

  // Synthetic models written with the same writers the format tests use (seeded: identical on every machine).
  const byId = new Map(fixtureModels().map((m) => [m.id, m]));
  const need = (id: string) => {
    const m = byId.get(id);
    if (!m) throw new Error(`examples: fixture model '${id}' is missing from test/fixtures/models.ts`);
    return m;
  };
  const synthetic: { id: string; file: string; as: 'keras2' | 'keras1' | 'keras3'; what: string; ints?: number }[] = [
    { id: 'gru_reset_after', file: 'gru_reset_after.h5', as: 'keras2', what: 'GRU(4, reset_after=True): bias (2, 12), row 0 input bias, row 1 recurrent bias, columns [z|r|h]' },
    { id: 'bidirectional_lstm', file: 'bidirectional_lstm.h5', as: 'keras2', what: 'Bidirectional(LSTM(3, return_sequences), concat)' },
    { id: 'lstm', file: 'lstm_keras1.h5', as: 'keras1', what: 'Keras 1.2.2 file: LSTM(4) stored as 12 arrays W_/U_/b_{i,c,f,o}, then Dense(2)' },
    { id: 'lstm', file: 'lstm_keras3.keras', as: 'keras3', what: 'Keras 3 .keras zip: LSTM(4) -> Dense(2)' },
    { id: 'toy_lstm', file: 'toy_lstm.h5', as: 'keras2', what: 'toy LSTM(2) on sequences of 3 numbers: small enough to read every weight' },
    { id: 'two_input', file: 'two_input.h5', as: 'keras2', what: 'two inputs: main_input (30,6) -> LSTM(128), aux_input (1) -> Concatenate -> Dense(64) -> Dense(1)' },
    { id: 'char_lstm', file: 'char_lstm.h5', as: 'keras2', what: 'char-level: 10 character ids -> Embedding(20,8) -> LSTM(16) -> Dense(20, softmax)', ints: 20 },
  ];
  let seed = 1;
  for (const ex of synthetic) {
    const m = need(ex.id);
    const path = join(outDir, ex.file);
    if (ex.as === 'keras2') await writeKeras2H5(path, { modelConfig: m.keras2Config, layers: m.layers });
    else if (ex.as === 'keras1') await writeKeras1H5(path, { modelConfig: m.keras1Config!, layers: m.layers });
    else await writeKeras3Keras(path, { config: m.keras3Config!, layers: m.layers });
    const names = inputNames(m.keras2Config);
    const input = writeInput(
      ex.file,
      inputFor(m.inputShapes.map((shape, k) => ({ name: names[k] ?? `input_${k + 1}`, shape, ints: ex.ints })), 1000 * seed++),
    );
    written.push({ file: ex.file, what: ex.what, input });
  }

  // Keras-written files (their inputs: the first stored samples where the file ships some, else seeded numbers).
  if (existsSync(reference)) {
    for (const ex of referenceExamples) {
      const from = join(reference, ex.from);
      if (!existsSync(from)) continue;
      copyFileSync(from, join(outDir, ex.to));
      const input = writeInput(ex.to, exampleSequence(ex.inputShape, 1000 * seed++));
      written.push({ file: ex.to, what: ex.what, input });
    }
  }

  writeFileSync(join(outDir, 'weights.py'), weightsPy);
  writeFileSync(
    join(outDir, 'README.md'),
    [
      '# Keras Lens examples',
      '',
      'Open a model file (it opens in the Keras Lens viewer), click a layer, then a weight, to see its gate blocks.',
      'Right-click an input `.json` in the explorer and choose **Predict** (with the model open, or pick it).',
      'Hover over the weight names in `weights.py`.',
      '',
      ...written.map((x) => `- \`${x.file}\`: ${x.what}${x.input ? ` (input: \`${x.input}\`)` : ''}`),
      '',
    ].join('\n'),
  );
  return written;
}

if (require.main === module) {
  const out = resolve(process.argv[2] ?? join(root, 'examples'));
  writeExamples(out).then(
    (written) => console.log(`examples: ${written.length} models in ${out}: ${written.map((x) => basename(x.file)).join(', ')}`),
    (e: unknown) => {
      console.error(`examples: ${e instanceof Error ? e.message : String(e)}`);
      process.exit(1);
    },
  );
}
