/**
 * Writes the examples/ folder that `npm start` opens in VS Code (and the E2E suite reuses):
 *   - models: LSTM .h5, GRU reset_after, Bidirectional, a Keras 1 file, a Keras 3 .keras, a toy LSTM(2),
 *     a two-input model with an auxiliary input, a char-level LSTM with a softmax head;
 *   - for each model an input sequence `<model>.input.json` to right-click > Keras Lens: Predict;
 *   - weights.py, a script that mentions weight names, to hover over.
 *
 *   node --import tsx scripts/examples.ts [OUTDIR=examples]
 *
 * The synthetic models come from the fixture writers (test/fixtures/generate.ts); the Keras-written files from
 * ../shared/keras-reference are copied in when that folder is there (they are data Keras produced).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';

const root = resolve(__dirname, '..');
const reference = resolve(root, '..', 'shared', 'keras-reference');

/** Keras-written files worth opening, under the names they get in examples/. */
export const referenceExamples: { from: string; to: string; what: string }[] = [
  {
    from: 'dl4j/examples/functional_lstm/lstm_functional_tf_keras_2.h5',
    to: 'lstm_functional_keras2.h5',
    what: 'Keras 2.0.8 functional model: Input(10,4) → LSTM(8) → Dense(5, softmax)',
  },
  {
    from: 'dl4j/examples/simple_lstm/simple_lstm_tf_keras_1_model.h5',
    to: 'simple_lstm_keras1.h5',
    what: 'Keras 1.2.2 Sequential LSTM(50) → Dense(1), LSTM stored as 12 arrays W_/U_/b_{i,c,f,o}',
  },
  {
    from: 'dl4j/tfkeras/rnn_5.h5',
    to: 'bidirectional_lstm_tfkeras.h5',
    what: 'tf.keras 2.2.4 Bidirectional(LSTM(6), concat) → relu',
  },
  {
    from: 'dl4j/tfkeras/rnn_6.h5',
    to: 'lstm_tfkeras.h5',
    what: 'tf.keras 2.2.4 LSTM(6) → relu',
  },
];

/** Deterministic numbers in [-1, 1) (a tiny LCG), so the example inputs are the same on every machine. */
export function exampleSequence(shape: number[], seed: number): unknown {
  let s = seed >>> 0 || 1;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return Math.round(((s / 2 ** 32) * 2 - 1) * 1000) / 1000;
  };
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
  file: string;
  what: string;
  /** The example input written beside it, if any. */
  input?: string;
}

/** Writes every example into `outDir`; returns what it wrote. */
export function writeExamples(outDir: string): ExampleModel[] {
  mkdirSync(outDir, { recursive: true });
  const written: ExampleModel[] = [];

  // Synthetic models (GRU reset_after, Keras 3 .keras, toy LSTM(2), two-input, char-level, ...) and their inputs.
  const generator = join(root, 'test', 'fixtures', 'generate.ts');
  if (existsSync(generator)) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', generator, outDir], { cwd: root, stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`test/fixtures/generate.ts failed (exit ${r.status})`);
    for (const f of readdirSync(outDir)) {
      if (/\.(h5|keras|hdf5)$/.test(f)) written.push({ file: f, what: 'generated fixture' });
    }
  } else {
    console.warn('examples: test/fixtures/generate.ts is not there yet; writing only the Keras-written examples');
  }

  if (existsSync(reference)) {
    for (const ex of referenceExamples) {
      const from = join(reference, ex.from);
      if (!existsSync(from)) continue;
      copyFileSync(from, join(outDir, ex.to));
      written.push({ file: ex.to, what: ex.what });
    }
  }

  writeFileSync(join(outDir, 'weights.py'), weightsPy);
  writeFileSync(
    join(outDir, 'README.md'),
    [
      '# Keras Lens examples',
      '',
      'Open a model file (it opens in the Keras Lens viewer), click a layer, then a weight, to see its gate blocks.',
      'Right-click an input `.json` in the explorer and choose **Keras Lens: Predict**.',
      'Hover over the weight names in `weights.py`.',
      '',
      ...written.map((w) => `- \`${w.file}\`: ${w.what}`),
      '',
    ].join('\n'),
  );
  return written;
}

if (require.main === module) {
  const out = resolve(process.argv[2] ?? join(root, 'examples'));
  const written = writeExamples(out);
  console.log(`examples: ${written.length} models in ${out}: ${written.map((w) => basename(w.file)).join(', ')}`);
}
