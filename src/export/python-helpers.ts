/**
 * The Python helpers numpy and PyTorch predictors share (the time loop of Keras's rnn(), the three cells with their
 * formulas, Conv1D and 1D pooling), written once for both array libraries.
 */
export interface PythonArrays {
  /** Module name: np or torch. */
  lib: string;
  /** Keyword for the axis argument: axis or dim. */
  axis: string;
  max: string;
  zerosLike: string;
  /** Zeros of a shape (a Python tuple expression) with x's dtype. */
  zeros(shape: string): string;
  /** Join along an axis: np.concatenate / torch.cat. */
  cat: string;
}

export const NUMPY_ARRAYS: PythonArrays = { lib: 'np', axis: 'axis', max: 'max', zerosLike: 'np.zeros_like', zeros: (s) => `np.zeros(${s}, dtype=x.dtype)`, cat: 'np.concatenate' };
export const TORCH_ARRAYS: PythonArrays = { lib: 'torch', axis: 'dim', max: 'amax', zerosLike: 'torch.zeros_like', zeros: (s) => `x.new_zeros(${s})`, cat: 'torch.cat' };

export function pythonHelpers(L: PythonArrays): string {
  return `def _run_rnn(step, x, mask, states, go_backwards, return_sequences, zero_output_for_mask):
    """Keras's rnn(): steps in order (reversed with go_backwards); at a masked step the states are kept and the
    output is the previous output (or 0 with zero_output_for_mask). The sequence is in processing order."""
    batch, steps = x.shape[0], x.shape[1]
    output = ${L.zerosLike}(states[0])
    outputs = []
    for s in range(steps):
        t = steps - 1 - s if go_backwards else s
        new_states = step(t, states)
        new_output = new_states[0]
        if mask is not None:
            real = mask[:, t][:, None]
            new_states = [${L.lib}.where(real, n, o) for n, o in zip(new_states, states)]
            new_output = ${L.lib}.where(real, new_output, ${L.zerosLike}(output) if zero_output_for_mask else output)
        states = new_states
        output = new_output
        outputs.append(output)
    y = ${L.lib}.stack(outputs, ${L.axis}=1) if return_sequences else output
    return y, states


def _lstm(x, mask, W, U, b, act, rec, go_backwards, return_sequences, zero_output_for_mask, initial):
    u = U.shape[0]
    xw = x @ W + (b if b is not None else 0)          # x(t) W + b for every step at once, columns i | f | c | o

    def step(t, states):
        h, c = states
        z = xw[:, t] + h @ U
        i = rec(z[:, 0 * u:1 * u])                    # i = rec(x W_i + h U_i + b_i)   input gate
        f = rec(z[:, 1 * u:2 * u])                    # f = rec(x W_f + h U_f + b_f)   forget gate
        cc = act(z[:, 2 * u:3 * u])                   # c~ = act(x W_c + h U_c + b_c)  cell candidate
        o = rec(z[:, 3 * u:4 * u])                    # o = rec(x W_o + h U_o + b_o)   output gate
        c = f * c + i * cc                            # c = f * c(t-1) + i * c~
        return [o * act(c), c]                        # h = o * act(c)

    zeros = ${L.zeros('(x.shape[0], u)')}
    return _run_rnn(step, x, mask, initial or [zeros, zeros], go_backwards, return_sequences, zero_output_for_mask)


def _gru(x, mask, W, U, b, reset_after, act, rec, go_backwards, return_sequences, zero_output_for_mask, initial):
    u = U.shape[0]
    b_in = b[0] if (b is not None and reset_after) else (b if b is not None else 0)
    b_rec = b[1] if (b is not None and reset_after) else 0
    xw = x @ W + b_in                                 # columns z | r | h

    def step(t, states):
        (h,) = states
        xz, xr, xh = xw[:, t, 0:u], xw[:, t, u:2 * u], xw[:, t, 2 * u:3 * u]
        if reset_after:
            hu = h @ U + b_rec
            z = rec(xz + hu[:, 0:u])                  # z = rec(x W_z + b_z + h U_z + b'_z)   update gate
            r = rec(xr + hu[:, u:2 * u])              # r = rec(x W_r + b_r + h U_r + b'_r)   reset gate
            hh = act(xh + r * hu[:, 2 * u:3 * u])     # h~ = act(x W_h + b_h + r * (h U_h + b'_h))
        else:
            z = rec(xz + h @ U[:, 0:u])               # z = rec(x W_z + b_z + h U_z)
            r = rec(xr + h @ U[:, u:2 * u])           # r = rec(x W_r + b_r + h U_r)
            hh = act(xh + (r * h) @ U[:, 2 * u:3 * u])  # h~ = act(x W_h + b_h + (r * h) U_h)
        return [z * h + (1 - z) * hh]                 # h = z * h(t-1) + (1 - z) * h~

    zeros = ${L.zeros('(x.shape[0], u)')}
    return _run_rnn(step, x, mask, initial or [zeros], go_backwards, return_sequences, zero_output_for_mask)


def _simple_rnn(x, mask, W, U, b, act, go_backwards, return_sequences, zero_output_for_mask, initial):
    u = U.shape[0]
    xw = x @ W + (b if b is not None else 0)

    def step(t, states):
        (h,) = states
        return [act(xw[:, t] + h @ U)]                # h = act(x W + b + h(t-1) U)

    zeros = ${L.zeros('(x.shape[0], u)')}
    return _run_rnn(step, x, mask, initial or [zeros], go_backwards, return_sequences, zero_output_for_mask)


def _patch_index(in_sizes, out_sizes, kernel, strides, dilation, pad_before):
    # for every output position q and kernel tap a (both row-major): the flat input position
    # q * strides + a * dilation - pad_before it reads, or prod(in_sizes) (a row of zeros) where that is padding
    import itertools
    import math
    outside = math.prod(in_sizes)
    idx = []
    for q in itertools.product(*[range(n) for n in out_sizes]):
        for a in itertools.product(*[range(k) for k in kernel]):
            at = [q[d] * strides[d] + a[d] * dilation[d] - pad_before[d] for d in range(len(q))]
            flat = 0
            for d, v in enumerate(at):
                flat = flat * in_sizes[d] + v
            idx.append(flat if all(0 <= v < n for v, n in zip(at, in_sizes)) else outside)
    return idx


def _conv_lstm(x, mask, W, U, b, out_sizes, strides, dilation, pad_before, rec_pad_before, act, rec, go_backwards, return_sequences, zero_output_for_mask, initial):
    # ConvLSTM: an LSTM whose products are convolutions, as patches (im2col) times the kernels reshaped to
    # (taps * channels, 4f): z = patches(x(t)) W + b + patches(h(t-1)) U, gates i | f | c | o along the last axis.
    # The states are kept flat, (batch, positions * f), for the time loop.
    import math
    batch, steps = x.shape[0], x.shape[1]
    in_sizes, cin = list(x.shape[2:-1]), x.shape[-1]
    kernel = list(W.shape[:-2])
    f = U.shape[-1] // 4
    taps, P = math.prod(kernel), math.prod(out_sizes)
    n = len(kernel)
    xi = _patch_index(in_sizes, out_sizes, kernel, strides, dilation, pad_before)
    hi = _patch_index(out_sizes, out_sizes, kernel, [1] * n, [1] * n, rec_pad_before)
    xf = x.reshape(batch, steps, -1, cin)
    xf = ${L.cat}([xf, ${L.zeros('(batch, steps, 1, cin)')}], ${L.axis}=2)   # + one zero position (the padding)
    xw = xf[:, :, xi].reshape(batch, steps, P, taps * cin) @ W.reshape(taps * cin, 4 * f)
    xw = xw + (b if b is not None else 0)             # conv(x(t), W) + b for every step at once
    Ur = U.reshape(taps * f, 4 * f)

    def step(t, states):
        h, c = states[0].reshape(batch, P, f), states[1].reshape(batch, P, f)
        hz = ${L.cat}([h, ${L.zeros('(batch, 1, f)')}], ${L.axis}=1)
        z = xw[:, t] + hz[:, hi].reshape(batch, P, taps * f) @ Ur   # + conv(h(t-1), U), 'same', stride 1
        i = rec(z[..., 0 * f:1 * f])                  # i = rec(z_i)   input gate
        fg = rec(z[..., 1 * f:2 * f])                 # f = rec(z_f)   forget gate
        cc = act(z[..., 2 * f:3 * f])                 # c~ = act(z_c)  cell candidate
        o = rec(z[..., 3 * f:4 * f])                  # o = rec(z_o)   output gate
        c = fg * c + i * cc                           # c = f * c(t-1) + i * c~
        return [(o * act(c)).reshape(batch, P * f), c.reshape(batch, P * f)]   # h = o * act(c)

    zeros = ${L.zeros('(batch, P * f)')}
    start = [s.reshape(batch, P * f) for s in initial] if initial else [zeros, zeros]
    y, states = _run_rnn(step, x, mask, start, go_backwards, return_sequences, zero_output_for_mask)
    shape = tuple(out_sizes) + (f,)
    y = y.reshape((batch, steps) + shape) if return_sequences else y.reshape((batch,) + shape)
    return y, [s.reshape((batch,) + shape) for s in states]


def _conv1d(x, W, b, stride, dilation, pad_before, out_steps):
    # y[t, f] = sum_{j, c} x[t * stride + j * dilation - pad_before, c] W[j, c, f]  (zeros outside the input)
    batch, steps, cin = x.shape
    k = W.shape[0]
    y = ${L.zeros('(batch, out_steps, W.shape[2])')}
    for j in range(k):
        for t in range(out_steps):
            s = t * stride + j * dilation - pad_before
            if 0 <= s < steps:
                y[:, t] += x[:, s] @ W[j]
    return y + (b if b is not None else 0)


def _pool1d(x, pool, stride, pad_before, out_steps, average):
    # windows of pool steps every stride steps; padded cells are ignored (average divides by the real cells)
    steps = x.shape[1]
    cols = []
    for t in range(out_steps):
        a = max(t * stride - pad_before, 0)
        e = min(t * stride - pad_before + pool, steps)
        w = x[:, a:e]
        cols.append(w.mean(${L.axis}=1) if average else w.${L.max}(${L.axis}=1))
    return ${L.lib}.stack(cols, ${L.axis}=1)


def _attention(q, k, v, q_mask, v_mask, causal, score, scale, csw):
    """Attention / AdditiveAttention (Keras's dense attention) on query q (batch, tq, dim), key k (batch, tv, dim) and
    value v (batch, tv, dv); returns the output (batch, tq, dv) and the attention weights (batch, tq, tv)."""
    if score == "dot":
        s = q @ k.swapaxes(1, 2)                      # s[i, j] = sum_c q[i, c] k[j, c]
        if scale is not None:
            s = s * scale                             # (* scale with use_scale)
    elif score == "concat":
        qk = q[:, :, None, :] + k[:, None, :, :]      # q[i, c] + k[j, c]
        if scale is not None:
            qk = qk * scale                           # tanh(scale * (q + k)) with use_scale
        s = csw * ${L.lib}.tanh(qk).sum(${L.axis}=-1)      # s[i, j] = csw * sum_c tanh(q[i, c] + k[j, c])
    else:
        t = ${L.lib}.tanh(q[:, :, None, :] + k[:, None, :, :])
        s = (t * scale if scale is not None else t).sum(${L.axis}=-1)  # s[i, j] = sum_c scale[c] tanh(q[i, c] + k[j, c])
    keep = None
    if v_mask is not None:
        keep = (v_mask != 0)[:, None, :]              # value step j is real
    if causal:
        tq, tv = s.shape[1], s.shape[2]
        tri = (${L.lib}.arange(tv)[None, :] <= ${L.lib}.arange(tq)[:, None])[None]  # j <= i (use_causal_mask)
        keep = tri if keep is None else keep & tri
    if keep is not None:
        # s - 1e9 where not kept, in float32 as Keras computes it (a row with every step masked comes out near-uniform)
        dropped = ${L.lib === 'np' ? '(s.astype(np.float32) - np.float32(1e9)).astype(s.dtype)' : '(s.float() - 1e9).to(s.dtype)'}
        s = ${L.lib}.where(keep, s, dropped)
    e = ${L.lib}.exp(s - s.${L.max}(${L.axis}=-1)[..., None])
    w = e / e.sum(${L.axis}=-1)[..., None]            # w[i, :] = softmax_j(s[i, :])
    y = w @ v                                         # y[i, :] = sum_j w[i, j] v[j, :]
    if q_mask is not None:
        y = y * (q_mask != 0)[..., None]              # 0 where the query step is masked
    return y, w
`;
}
