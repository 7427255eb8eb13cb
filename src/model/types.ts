/**
 * The neutral shapes every part of Keras Lens speaks.
 *
 *   formats/  : bytes on disk            -> ModelFile (architecture + lazily readable weights)
 *   model/    : ModelFile                -> Model (graph of layers, each bound to its LayerKind)
 *   engine/   : Model + input tensors    -> outputs (+ gate trace)
 *   explain/  : Model                    -> words and the `inspect` report
 *
 * Nothing here imports `vscode`, node-only modules or h5wasm.
 */

/** A dense row-major tensor. Engine intermediates are Float64Array; weights read from files are Float32Array. */
export interface Tensor {
  shape: number[];
  data: Float32Array | Float64Array;
}

// ---------------------------------------------------------------------------------------------
// Architecture (normalised across Keras 1 / 2 / tf.keras / 3 / TF.js spellings)
// ---------------------------------------------------------------------------------------------

/** A reference to one output tensor of one call of a layer: Keras's [layer_name, node_index, tensor_index]. */
export interface TensorRef {
  layer: string;
  node: number;
  tensor: number;
}

/**
 * One layer of the architecture, always in *functional* form (a Sequential model is rewritten as a chain that
 * starts from an explicit InputLayer), with Keras-2 key spellings:
 *   output_dim -> units, inner_activation -> recurrent_activation, batch_shape -> batch_input_shape,
 *   nb_filter -> filters, filter_length -> kernel_size, W_regularizer -> kernel_regularizer, ... .
 * Wrappers keep their wrapped layer (without inbound edges) in `inner` (and Bidirectional's explicit
 * backward layer, if any, in `backward`).
 */
export interface LayerConfig {
  name: string;
  className: string;
  config: Record<string, unknown>;
  /** One entry per call of the layer (Keras "node"); each entry lists that call's input tensors. */
  inbound: TensorRef[][];
  /** Extra tensors passed to a call (e.g. RNN `initial_state`), per call, keyed by Keras argument name. */
  inboundKwargs?: Record<string, TensorRef[]>[];
  /**
   * The call's keyword arguments that are not tensors, per call, as the file wrote them (Keras 3 node `kwargs`,
   * tf.keras 4th inbound entry): e.g. `use_causal_mask: true`, `return_attention_scores: true`, `training: false`.
   */
  callOptions?: Record<string, unknown>[];
  /**
   * Set on layers that came from a nested model (a Sequential/Functional used as a layer), which the normaliser
   * inlines: the nested model's name (outermost first, joined by '/'), and the layer's name inside it when it had
   * to be renamed to stay unique (`name` is then `<nested model>/<storedName>`).
   */
  nestedIn?: string;
  storedName?: string;
  inner?: LayerConfig;
  backward?: LayerConfig;
  /**
   * Operation nodes only (Keras 3 `keras.src.ops.*` classes, named 'ops.<Class>'; tf.keras TFOpLambda /
   * SlicingOpLambda): per call, its arguments as the file wrote them, each graph tensor replaced by {$tensor: k}
   * (and its dtype, when the file says it), k = its place in that call's `inbound` list (which holds every tensor of
   * the call, in order).
   */
  callArgs?: { args: unknown[]; kwargs: Record<string, unknown> }[];
}

export interface ModelConfig {
  name: string;
  /** What the file said; the layers are functional either way. */
  className: 'Sequential' | 'Functional' | 'Model';
  layers: LayerConfig[];
  inputs: TensorRef[];
  outputs: TensorRef[];
}

// ---------------------------------------------------------------------------------------------
// Weight files
// ---------------------------------------------------------------------------------------------

export type FormatId =
  | 'keras1-h5' // Keras 1.x full model (model_config + model_weights)
  | 'keras1-weights-h5' // Keras 1.x save_weights
  | 'keras2-h5' // Keras 2.x / tf.keras full model
  | 'keras2-weights-h5' // Keras 2.x / tf.keras save_weights (layer_names at the root)
  | 'keras3-legacy-h5' // Keras 3 writing the legacy .h5 format
  | 'keras3-keras' // Keras 3 .keras zip
  | 'keras3-weights-h5' // Keras 3 .weights.h5
  | 'keras-json' // architecture only (model.to_json())
  | 'tfjs-json' // TF.js layers model.json + .bin shards
  | 'weights-json'; // a JSON dump of get_weights() or {name: {data, shape}} joined to an architecture

/** One stored array. Its data is read only when asked. */
export interface WeightRef {
  /** Name of the Keras layer (top-level, as in layer_names / the config) this weight belongs to. */
  layer: string;
  /**
   * The weight's Keras name as users see it: `lstm_1/kernel:0`, `lstm/lstm_cell/kernel:0`, `lstm_1_W_i:0`,
   * `bidirectional_1/forward_lstm_1/bias:0`; for Keras 3 files the variable path, e.g. `layers/lstm/cell/vars/0`.
   */
  name: string;
  /** Where it lives in its container (HDF5 path, zip entry + path, JSON pointer), for messages. */
  path: string;
  shape: number[];
  /** Storage dtype as written, e.g. '<f4', '<f8', 'float32'. */
  dtype: string;
  /** Read the data (converted to float32). May throw an Error with a clear message. */
  read(): Promise<Float32Array>;
}

export interface LayerWeights {
  layer: string;
  /** In the order the file lists them (weight_names order / vars order) == get_weights() order. */
  weights: WeightRef[];
}

export interface ModelFile {
  /** File path (or a display name) for messages. */
  source: string;
  format: FormatId;
  kerasVersion: string | null;
  backend: string | null;
  /** Normalised architecture, or null for weights-only files opened without an architecture. */
  model: ModelConfig | null;
  /** Weights grouped by layer, in file order. Layers without weights may be omitted. */
  layers: LayerWeights[];
  /** Release file handles. Idempotent. */
  close(): void;
}

/** Every user-facing failure: one line that names the file and the problem. */
export class KerasLensError extends Error {
  constructor(
    readonly file: string | null,
    readonly problem: string,
  ) {
    super(file ? `${file}: ${problem}` : problem);
    this.name = 'KerasLensError';
  }
}

// ---------------------------------------------------------------------------------------------
// Layer kinds: one file per kind under model/kinds/, registered in model/kinds/index.ts
// ---------------------------------------------------------------------------------------------

/** One gate (or role) block along an axis of a weight: e.g. columns 0..u of an LSTM kernel = input gate. */
export interface GateBlock {
  label: string; // 'i' | 'f' | 'c' | 'o' | 'z' | 'r' | 'h' | ...
  meaning: string; // 'input gate', 'forget gate', 'cell candidate (c̃)', ...
  axis: number; // -1 for the last axis
  start: number;
  end: number; // exclusive
}

/** A range of rows (first axis) of a weight and where those rows come from. */
export interface RowSource {
  source: string; // upstream layer/input name, 'h(t-1)', 'input bias', 'recurrent bias', ...
  start: number;
  end: number; // exclusive
  meaning?: string;
}

/** One weight a layer kind expects, in get_weights() order. */
export interface WeightRole {
  /** Canonical Keras-2 role name: 'kernel', 'recurrent_kernel', 'bias', 'embeddings', 'gamma', 'beta', 'moving_mean', ... */
  role: string;
  meaning: string;
  /** Expected shape, when it follows from the config and input shape. */
  shape: number[] | null;
  blocks: GateBlock[];
  /** Bidirectional halves. */
  direction?: 'forward' | 'backward';
  /**
   * A kernel whose rows multiply another tensor than the layer's input: the name of what they read (a stacked
   * cell's kernel reads the output of the cell below it, e.g. "rnn/lstm_cell (cell 0) output h(t)").
   */
  rowsFrom?: string;
  /**
   * Rows of the weight's matrix view (product of the leading axes, last axis) that the kind names itself, when they
   * are not an input's features: e.g. a MultiHeadAttention query kernel (feature, head, key_dim), whose row
   * feature·heads + head is (input feature, head). `offset` is the index of the span's first row in its `index` word.
   */
  rows?: (RowSource & { offset?: number; index?: string })[];
}

export interface KindContext {
  kerasVersion: string | null;
  /** Input shapes of this call, batch axis included as null. */
  inputShapes: (number | null)[][];
  /** Which call of the layer (Keras node index) the shapes are for, when known; see LayerConfig.callOptions. */
  node?: number;
}

/** A mask per timestep: mask[b * T + t] = 1 where the step is real. */
export interface Mask {
  batch: number;
  steps: number;
  data: Uint8Array;
}

/** Per-timestep record of one recurrent layer, for --trace and the extension's gate plots. */
export interface RecurrentTrace {
  layer: string;
  direction?: 'forward' | 'backward';
  /** Gate labels in order, e.g. ['i','f','c','o'] (c = candidate c̃) or ['z','r','h']. */
  gates: string[];
  /** gates[g][t] is a Tensor of shape (batch, units) holding the gate's activation at step t (processing order). */
  gateValues: Record<string, Tensor[]>;
  /** cell state per step (LSTM, ConvLSTM) */
  cell?: Tensor[];
  /** hidden state per step */
  hidden: Tensor[];
  /** 1 where the step was masked out (state carried over), per step: shape (batch) */
  skipped?: Uint8Array[];
}

export interface RunContext {
  kerasVersion: string | null;
  /** Keras's `stateful` layers keep state here between predict calls of one session. */
  states: Map<string, Tensor[]>;
  /** When set, recurrent kinds push one record per run (per direction). */
  trace?: RecurrentTrace[];
}

export interface ForwardArgs {
  layer: LayerConfig;
  /** The call's input tensors (batch axis first). */
  inputs: Tensor[];
  /** One mask (or null) per input. */
  masks: (Mask | null)[];
  /** Canonical weights by role (Keras-2 fused layout, e.g. LSTM kernel (in, 4u) i,f,c,o). */
  weights: Map<string, Tensor>;
  /** Initial states passed as inputs (RNN `initial_state`), if any. */
  initialStates?: Tensor[];
  /** Which call of the layer this is (Keras node index); its non-tensor options are layer.callOptions?.[node]. */
  node?: number;
  /** Other tensors passed by keyword (e.g. MultiHeadAttention `key=`, `attention_mask=`), with their Keras masks. */
  kwargs?: Record<string, Tensor[]>;
  kwargMasks?: Record<string, (Mask | null)[]>;
  ctx: RunContext;
}

export interface ForwardResult {
  outputs: Tensor[];
  /** Output mask(s) to propagate (Keras compute_mask); omitted = no mask. */
  masks?: (Mask | null)[];
  /**
   * The layer deletes the Keras mask of the tensors it was called on, so layers that read them afterwards see none
   * (Keras 3 MultiHeadAttention: backend.set_keras_mask(query / value / key, None) inside call()).
   */
  clearsInputMasks?: boolean;
}

export interface LayerKind {
  /** Keras class names this kind handles, e.g. ['LSTM', 'CuDNNLSTM']. */
  classNames: string[];
  /** The weights this layer has, in get_weights() order, with gate blocks and meanings. */
  weightRoles(layer: LayerConfig, ctx: KindContext): WeightRole[];
  /**
   * What each *stored* array of this layer is, in the file's order (same length as `refs`): for fused Keras 2/3
   * weights this is weightRoles() matched by name/position; a Keras 1 split array such as `lstm_1_W_f`
   * gets role 'kernel' with the one block it holds ({label:'f', start:0, end:u}).
   */
  storedRoles(layer: LayerConfig, refs: WeightRef[], ctx: KindContext): WeightRole[];
  /**
   * Optional: the role a stored array's full name says for this class, with no architecture at hand (weights-only
   * files, hovers): e.g. MultiHeadAttention `.../query_dense/vars/0` → 'query_kernel'. Null when the name says none.
   */
  roleOfStoredName?(name: string): string | null;
  /**
   * Turn the file's arrays for this layer into canonical weights by role. Handles Keras 1 split arrays
   * (by name, never by position), CuDNN layouts, Keras 3 positional vars. Throws KerasLensError on mismatch.
   */
  bindWeights(layer: LayerConfig, stored: { ref: WeightRef; data: Float32Array }[], ctx: KindContext): Map<string, Tensor>;
  /** Output shapes (batch axis null) for the given input shapes. */
  outputShapes(layer: LayerConfig, ctx: KindContext): (number | null)[][];
  /** The forward computation at inference (dropout = identity). */
  forward(args: ForwardArgs): ForwardResult;
}
