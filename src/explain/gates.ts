/**
 * Gate layouts in the user's words, for when no layer kind answers (weights-only files, free-text hovers,
 * unknown classes): which gates a recurrent family fuses along the last axis, in Keras's order, and how to
 * guess a layer's class from its Keras-generated name (`lstm_1` → LSTM, `conv_lst_m2d` → ConvLSTM2D).
 */

// The gate tables and block layout are the recurrent kinds' own (one place for each gate's meaning).
import { GRU_GATES, LSTM_GATES, gateBlocks, type Gate } from '../model/kinds/recurrent';
export { GRU_GATES, LSTM_GATES, gateBlocks, type Gate };

export type Family = 'lstm' | 'gru' | 'simple_rnn' | 'conv_lstm' | 'dense' | 'conv' | 'embedding' | 'batch_norm' | 'layer_norm';

/** The family of a Keras class name (including CuDNN and cell variants), or null when we don't know it. */
export function familyOf(className: string | null | undefined): Family | null {
  if (!className) return null;
  const c = className.replace(/^(CuDNN|CuDNN)/, '');
  if (/^ConvLSTM[123]D$/.test(className) || /^ConvLSTM[123]DCell$/.test(className)) return 'conv_lstm';
  if (c === 'LSTM' || c === 'LSTMCell' || className === 'CuDNNLSTM') return 'lstm';
  if (c === 'GRU' || c === 'GRUCell' || className === 'CuDNNGRU') return 'gru';
  if (c === 'SimpleRNN' || c === 'SimpleRNNCell') return 'simple_rnn';
  if (className === 'Dense') return 'dense';
  if (/^(Conv[123]D|Convolution[123]D|Conv[123]DTranspose|SeparableConv[12]D|DepthwiseConv[12]D)$/.test(className)) return 'conv';
  if (className === 'Embedding') return 'embedding';
  if (className === 'BatchNormalization') return 'batch_norm';
  if (className === 'LayerNormalization') return 'layer_norm';
  return null;
}

export function gatesOf(className: string | null | undefined): Gate[] | null {
  const f = familyOf(className);
  if (f === 'lstm' || f === 'conv_lstm') return LSTM_GATES;
  if (f === 'gru') return GRU_GATES;
  return null;
}

export function isCuDNN(className: string | null | undefined): boolean {
  return className === 'CuDNNLSTM' || className === 'CuDNNGRU';
}

/** The gate a Keras 1 split-array suffix names (`W_f` → forget gate). */
export function keras1Gate(className: string | null, letter: string): Gate | null {
  const gates = gatesOf(className) ?? (/[icfo]/.test(letter) ? LSTM_GATES : /[zrh]/.test(letter) ? GRU_GATES : null);
  return gates?.find((g) => g.label === letter) ?? null;
}

/**
 * Guess a Keras class from a generated layer name: strip the `_<n>` counter and match the snake_case or
 * lower-cased class (Keras 1 `simplernn_1`, Keras 2 `simple_rnn_1`, tf.keras `conv_lst_m2d`, Keras 3 `lstm`).
 * Returns null when the name says nothing (custom names such as `encoder`).
 */
export function guessClassFromName(layerName: string): string | null {
  const base = layerName
    .replace(/^(forward|backward)_/, '')
    .replace(/_\d+$/, '')
    .toLowerCase()
    .replace(/_/g, '');
  return NAME_TO_CLASS[base] ?? null;
}

const NAME_TO_CLASS: Record<string, string> = {
  lstm: 'LSTM',
  lstmcell: 'LSTM',
  gru: 'GRU',
  grucell: 'GRU',
  simplernn: 'SimpleRNN',
  simplernncell: 'SimpleRNN',
  cudnnlstm: 'CuDNNLSTM',
  cudnngru: 'CuDNNGRU',
  convlstm1d: 'ConvLSTM1D',
  convlstm2d: 'ConvLSTM2D',
  convlstm3d: 'ConvLSTM3D',
  convlstm2dcell: 'ConvLSTM2D',
  dense: 'Dense',
  embedding: 'Embedding',
  conv1d: 'Conv1D',
  conv2d: 'Conv2D',
  conv3d: 'Conv3D',
  convolution1d: 'Conv1D',
  convolution2d: 'Conv2D',
  convolution3d: 'Conv3D',
  batchnormalization: 'BatchNormalization',
  layernormalization: 'LayerNormalization',
  bidirectional: 'Bidirectional',
  timedistributed: 'TimeDistributed',
};

/** What each stored role means, independent of gates. */
export function roleMeaning(role: string, family: Family | null): string {
  switch (role) {
    case 'kernel':
      if (family === 'conv_lstm') return 'input kernel: convolves the input x(t) into every gate';
      if (family === 'lstm' || family === 'gru') return 'input kernel: multiplies the input x(t) into every gate';
      if (family === 'simple_rnn') return 'input kernel: multiplies the input x(t) into the hidden state';
      if (family === 'conv') return 'convolution kernel';
      if (family === 'dense') return 'kernel: input features × output units';
      return 'kernel';
    case 'recurrent_kernel':
      if (family === 'conv_lstm') return 'recurrent kernel: convolves the previous hidden state h(t-1) into every gate';
      if (family === 'simple_rnn') return 'recurrent kernel: multiplies the previous hidden state h(t-1)';
      return 'recurrent kernel: multiplies the previous hidden state h(t-1) into every gate';
    case 'bias':
      if (family === 'lstm' || family === 'gru' || family === 'conv_lstm') return 'bias of every gate';
      return 'bias of each output unit';
    case 'embeddings':
      return 'embedding matrix: row k is the vector for token id k';
    case 'gamma':
      return 'scale (γ) per feature';
    case 'beta':
      return 'offset (β) per feature';
    case 'moving_mean':
      return 'moving mean per feature (used at inference)';
    case 'moving_variance':
      return 'moving variance per feature (used at inference)';
    case 'running_mean':
      return 'running mean per feature (Keras 1)';
    case 'running_std':
      return 'running standard deviation per feature (Keras 1)';
    case 'depthwise_kernel':
      return 'depthwise kernel: one filter per input channel';
    case 'pointwise_kernel':
      return 'pointwise kernel: 1×1 mix of channels';
    case 'alpha':
      return 'learned slope of the negative part (PReLU)';
    default:
      return 'weight';
  }
}

/** Keras 3 positional variable order for a family (`vars/0`, `vars/1`, ...). */
export function keras3VarRoles(family: Family | null): string[] | null {
  switch (family) {
    case 'lstm':
    case 'gru':
    case 'simple_rnn':
    case 'conv_lstm':
      return ['kernel', 'recurrent_kernel', 'bias'];
    case 'dense':
    case 'conv':
      return ['kernel', 'bias'];
    case 'embedding':
      return ['embeddings'];
    case 'batch_norm':
      return ['gamma', 'beta', 'moving_mean', 'moving_variance'];
    case 'layer_norm':
      return ['gamma', 'beta'];
    default:
      return null;
  }
}
