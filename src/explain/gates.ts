/**
 * Layer families from class names, for when no model is joined (weights-only files, free-text hovers, unknown
 * classes): which gates a recurrent family fuses along the last axis, in Keras's order, and how to guess a layer's
 * class from its Keras-generated name (`lstm_1` → LSTM, `conv_lst_m2d` → ConvLSTM2D). What each weight means and
 * their order come from the layer kinds (declaredRoles.ts).
 */

// The gate tables and block layout are the recurrent kinds' own (one place for each gate's meaning).
import { GRU_GATES, LSTM_GATES, gateBlocks, type Gate } from '../model/kinds/gated-roles';
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
  multiheadattention: 'MultiHeadAttention',
  attention: 'Attention',
  additiveattention: 'AdditiveAttention',
};
