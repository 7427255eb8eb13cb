/**
 * The gates of LSTM/GRU/ConvLSTM and the weights of a gated cell: gate tables in Keras order, column blocks, the
 * kernel/recurrent-kernel and CuDNN bias roles, and the sentence for a Keras 1 split array (one gate per array).
 */
import type { GateBlock, WeightRole } from '../types';

export interface Gate {
  label: string;
  meaning: string;
}

export const LSTM_GATES: Gate[] = [
  { label: 'i', meaning: 'input gate' },
  { label: 'f', meaning: 'forget gate' },
  { label: 'c', meaning: 'cell candidate (c̃)' },
  { label: 'o', meaning: 'output gate' },
];

export const GRU_GATES: Gate[] = [
  { label: 'z', meaning: 'update gate (z)' },
  { label: 'r', meaning: 'reset gate (r)' },
  { label: 'h', meaning: 'candidate (h̃)' },
];

/** Gate blocks along the last axis: gate g holds columns [offset + g·width, offset + (g+1)·width). */
export function gateBlocks(gates: Gate[], width: number, offset = 0, suffix = ''): GateBlock[] {
  return gates.map((g, k) => ({
    label: g.label,
    meaning: g.meaning + suffix,
    axis: -1,
    start: offset + k * width,
    end: offset + (k + 1) * width,
  }));
}

/** The kernel (in, g·u) and recurrent kernel (u, g·u) of a gated cell: one column block per gate, in Keras order. */
export function gatedKernelRoles(gates: Gate[], u: number, inDim: number | null): WeightRole[] {
  const g = gates.length;
  return [
    {
      role: 'kernel',
      meaning: 'input kernel: multiplies the input x(t), one column block per gate',
      shape: inDim === null ? null : [inDim, g * u],
      blocks: gateBlocks(gates, u),
    },
    {
      role: 'recurrent_kernel',
      meaning: 'recurrent kernel: multiplies the previous hidden state h(t-1), one column block per gate',
      shape: [u, g * u],
      blocks: gateBlocks(gates, u),
    },
  ];
}

/** The CuDNN classes (Keras 2 cudnn_recurrent.py): sigmoid/tanh always, and a bias of two halves (2·g·u). */
export function isCuDNN(className: string | null | undefined): boolean {
  return className === 'CuDNNLSTM' || className === 'CuDNNGRU';
}

/** A CuDNN bias (2·g·u): the input bias for every gate, then the recurrent bias for every gate. */
export function cudnnBiasRole(gates: Gate[], u: number, use: string): WeightRole {
  const g = gates.length;
  const labels = gates.map((x) => x.label).join(',');
  return {
    role: 'bias',
    meaning: `bias (CuDNN): input bias ${labels} then recurrent bias ${labels}; ${use}`,
    shape: [2 * g * u],
    blocks: [...gateBlocks(gates, u, 0, ', input bias'), ...gateBlocks(gates, u, g * u, ', recurrent bias')],
  };
}

/** What a Keras 1 split array (`lstm_1_W_f`: role kernel, one gate) holds, in one phrase. */
export function keras1SplitMeaning(role: string, gate: Gate): string {
  const what = role === 'kernel' ? 'input kernel (multiplies x(t))' : role === 'recurrent_kernel' ? 'recurrent kernel (multiplies h(t-1))' : 'bias';
  return `${what} of the ${gate.meaning} only (Keras 1 split array)`;
}
