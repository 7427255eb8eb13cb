"""
Real-Keras cases for Keras Lens: small models made and run by Keras 3.15.1 (TensorFlow 2.21 CPU backend).

How to run (never run by `npm test`; the tests read the committed outputs in test/fixtures/keras3-real/):

    python3 -m venv /tmp/venv-keras
    /tmp/venv-keras/bin/pip install tensorflow-cpu==2.21.0 keras==3.15.1 h5py
    cd <repo> && /tmp/venv-keras/bin/python test/keras3-real/generate.py [case-name-substring ...]

Each case folder, laid out like ../shared/keras-reference/keras3 (see its README):
    model.keras                     model.save() — always
    model.h5                        legacy full-model HDF5 — for the ALL_FORMATS cases, where Keras reloads it
    model.weights.h5 + model.json   save_weights() + to_json() — same rule
    input.json                      nested list (batch first), or {InputLayer name: nested list} for several inputs
    expected.json                   {"outputs": [one nested list per model output], "keras": "3.15.1"} from model.predict
    case.json                       {"name", "files", "inputs", "seed", "masked", "covers"}
Every float variable is set to seeded random values (never constants). Masked cases set timesteps of the input to
exactly 0 (sample 0: the last two steps; sample 1: the first) and use Masking or Embedding(mask_zero=True).
Every saved format is reloaded by Keras and must predict the same numbers (else that format is left out).
"""
import json
import os
import shutil
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import keras  # noqa: E402
from keras import layers as L, ops  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "keras3-real")
SEED = 7
CASES = []
# Cases also saved as legacy .h5 and .weights.h5 + model.json (the others only as .keras, to keep the committed
# files small): every ConvLSTM and unmasked stacked-cells case, and one or two of each other group.
ALL_FORMATS = {
    "conv_lstm1d_valid_strides",
    "conv_lstm1d_same_dilation_backwards",
    "conv_lstm1d_state_hard_sigmoid",
    "conv_lstm1d_channels_first",
    "conv_lstm3d_same_seq",
    "conv_lstm3d_strides_state",
    "conv_lstm3d_channels_first",
    "stacked_lstm_gru_simple_seq",
    "stacked_list_state",
    "stacked_two_lstm_backwards",
    "attention_concat_causal",
    "additive_attention",
    "mha_cross_options",
    "pooling2d",
}


def case(name, formats=("keras",), covers=()):
    def wrap(fn):
        CASES.append((name, fn, formats, covers))
        return fn

    return wrap


def seq(rng, batch, steps, feats, masked):
    x = rng.normal(0, 1, (batch, steps, feats)).astype("float32")
    if masked:
        x[0, -2:] = 0.0
        x[1, 0] = 0.0
    return x


def tokens(rng, batch, steps, vocab, masked):
    t = rng.integers(1, vocab, (batch, steps)).astype("int32")
    if masked:
        t[0, -2:] = 0
        t[1, 0] = 0
    return t


def masked_input(shape, masked, name=None):
    x = keras.Input(shape, name=name)
    return x, (L.Masking(mask_value=0.0)(x) if masked else x)


# ---------------------------------------------------------------------------------------------------------------
# keras.ops nodes in functional models. Each op's result is an output of its own, so every op is checked; the masked
# variants put the ops between Masking and an LSTM, so the test also sees what mask each op node passes on.
# ---------------------------------------------------------------------------------------------------------------


def with_lstm_tail(h, outputs):
    outputs.append(L.LSTM(3, name="tail_lstm")(h))
    return outputs


def ops_arith(rng, masked):
    x, h = masked_input((4, 3), masked)
    y = L.Dense(3, name="d")(h)
    outs = [
        ops.add(h, y),
        ops.subtract(h, y),
        ops.multiply(h, y),
        ops.divide(h, ops.add(ops.abs(y), 1.0)),
        ops.maximum(h, y),
        ops.minimum(h, y),
        ops.abs(y),
        ops.square(y),
        ops.sqrt(ops.add(ops.abs(y), 0.5)),
        ops.exp(ops.clip(y, -2.0, 2.0)),
        ops.log(ops.add(ops.abs(y), 0.5)),
        ops.clip(y, -0.3, 0.4),
        h + y * 2.0 - 1.5,
        h / 3.0,
    ]
    with_lstm_tail(ops.add(h, y), outs)
    return keras.Model(x, outs), seq(rng, 2, 4, 3, masked)


def ops_compare_logic(rng, masked):
    x, h = masked_input((4, 3), masked)
    y = L.Dense(3, name="d")(h)
    gt, lt = ops.greater(h, y), ops.less(h, y)
    f = lambda b: ops.cast(b, "float32")  # noqa: E731
    outs = [
        f(gt),
        f(lt),
        f(ops.greater_equal(h, 0.1)),
        f(ops.less_equal(y, 0.0)),
        f(ops.equal(h, 0.0)),
        f(ops.not_equal(h, 0.0)),
        f(ops.logical_and(gt, ops.greater(y, 0.0))),
        f(ops.logical_or(lt, ops.less(y, -0.2))),
        f(ops.logical_not(gt)),
        ops.where(gt, h, y),
        ops.where(ops.less(y, 0.0), y, 0.0),
    ]
    with_lstm_tail(ops.where(gt, h, y), outs)
    return keras.Model(x, outs), seq(rng, 2, 4, 3, masked)


def ops_reduce(rng, masked):
    x, h = masked_input((4, 3), masked)
    y = L.LSTM(3, return_sequences=True, name="l")(h)
    f = lambda b: ops.cast(b, "float32")  # noqa: E731
    outs = [
        ops.sum(y, axis=1),
        ops.sum(y, axis=-1, keepdims=True),
        ops.mean(y, axis=1),
        ops.mean(y, axis=(1, 2)),
        ops.mean(y),
        ops.max(y, axis=2),
        ops.min(y, axis=1, keepdims=True),
        ops.prod(ops.add(y, 1.0), axis=-1),
        f(ops.any(ops.greater(y, 0.1), axis=-1)),
        f(ops.all(ops.greater(y, -0.2), axis=1)),
        f(ops.any(ops.not_equal(x, 0.0), axis=-1, keepdims=True)),
    ]
    with_lstm_tail(ops.multiply(y, ops.mean(y, axis=-1, keepdims=True)), outs)
    return keras.Model(x, outs), seq(rng, 2, 4, 3, masked)


def ops_shape(rng, masked):
    x, h = masked_input((4, 3), masked)
    y = L.Dense(2, name="d")(h)
    outs = [
        ops.expand_dims(y, 1),
        ops.expand_dims(y, -1),
        ops.squeeze(ops.expand_dims(y, 2), axis=2),
        ops.reshape(y, (-1, 2, 4)),
        ops.reshape(y, (-1, 8)),
        ops.transpose(y, (0, 2, 1)),
        ops.concatenate([h, y], axis=-1),
        ops.concatenate([h, h], axis=1),
        ops.stack([y, y * 2.0], axis=1),
        ops.stack([y, y + 1.0], axis=-1),
    ]
    with_lstm_tail(ops.concatenate([h, y], axis=-1), outs)
    return keras.Model(x, outs), seq(rng, 2, 4, 3, masked)


def ops_getitem(rng, masked):
    x, h = masked_input((5, 4), masked)
    y = L.Dense(4, name="d")(h)
    outs = [
        y[:, -1, :],
        y[:, 1],
        y[..., ::2],
        y[:, 1:4:2, ...],
        y[:, None, 0],
        y[:, :, -2:],
        y[:, ::-1],
    ]
    with_lstm_tail(y[:, :, 1:], outs)
    return keras.Model(x, outs), seq(rng, 2, 5, 4, masked)


def ops_matmul_einsum(rng, masked):
    x, h = masked_input((4, 3), masked)
    y = L.Dense(3, name="d")(h)
    z = L.Dense(2, name="e")(h)
    outs = [
        ops.matmul(h, ops.transpose(y, (0, 2, 1))),
        ops.einsum("btf,bsf->bts", h, y),
        ops.einsum("btf,btg->bfg", y, z),
        ops.einsum("bij,bjk->bik", ops.matmul(h, ops.transpose(y, (0, 2, 1))), z),
    ]
    with_lstm_tail(ops.matmul(ops.softmax(ops.einsum("btf,bsf->bts", h, y), axis=-1), z), outs)
    return keras.Model(x, outs), seq(rng, 2, 4, 3, masked)


def ops_activations(rng, masked):
    x, h = masked_input((4, 3), masked)
    y = L.Dense(3, name="d")(h)
    outs = [
        ops.softmax(y, axis=-1),
        ops.softmax(y, axis=1),
        ops.sigmoid(y),
        ops.tanh(y),
        ops.relu(y),
        ops.convert_to_tensor(y),
    ]
    with_lstm_tail(ops.tanh(y), outs)
    return keras.Model(x, outs), seq(rng, 2, 4, 3, masked)


def ops_embedding(rng, masked):
    # Embedding(mask_zero) then op nodes, then an LSTM: the mask must pass the ops as Keras passes it
    x = keras.Input((5,), dtype="int32")
    e = L.Embedding(7, 3, mask_zero=masked, name="emb")(x)
    y = ops.multiply(ops.add(e, 0.5), 2.0)
    outs = [y, L.LSTM(3, name="tail_lstm")(y), L.LSTM(2, name="tail_lstm2")(ops.tanh(e))]
    return keras.Model(x, outs), tokens(rng, 2, 5, 7, masked)


for fn in (ops_arith, ops_compare_logic, ops_reduce, ops_shape, ops_getitem, ops_matmul_einsum, ops_activations, ops_embedding):
    for m in (False, True):
        case(f"{fn.__name__}{'_masked' if m else ''}", covers=("ops",))(lambda rng, fn=fn, m=m: fn(rng, m))


# ---------------------------------------------------------------------------------------------------------------
# Attention layers
# ---------------------------------------------------------------------------------------------------------------


def qv_inputs(masked, tq=4, tv=5, f=3):
    q, qh = masked_input((tq, f), masked, name="query")
    v, vh = masked_input((tv, f), masked, name="value")
    return q, qh, v, vh


def qv_data(rng, masked, tq=4, tv=5, f=3):
    return {"query": seq(rng, 2, tq, f, masked), "value": seq(rng, 2, tv, f, masked)}


def attention_case(name, masked, make):
    def build(rng):
        q, qh, v, vh = qv_inputs(masked)
        outs = make(qh, vh)
        return keras.Model([q, v], outs), qv_data(rng, masked)

    case(f"{name}{'_masked' if masked else ''}", formats=("keras", "h5", "weights"), covers=("attention",))(build)


for m in (False, True):
    attention_case("attention_dot", m, lambda q, v: L.Attention(name="att")([q, v]))
    attention_case("attention_scale", m, lambda q, v: L.Attention(use_scale=True, name="att")([q, v]))
    attention_case("attention_concat_causal", m, lambda q, v: L.Attention(score_mode="concat", use_scale=True, name="att")([q, v], use_causal_mask=True))
    attention_case(
        "attention_key_scores",
        m,
        lambda q, v: list(L.Attention(name="att")([q, v, L.Dense(3, name="k")(v)], return_attention_scores=True)),
    )
    attention_case("additive_attention", m, lambda q, v: L.AdditiveAttention(name="att")([q, v]))
    attention_case("additive_attention_noscale", m, lambda q, v: L.AdditiveAttention(use_scale=False, name="att")([q, v]))
    attention_case("mha_self", m, lambda q, v: L.MultiHeadAttention(num_heads=2, key_dim=3, name="mha")(q, q))
    attention_case(
        "mha_cross_options",
        m,
        lambda q, v: L.MultiHeadAttention(num_heads=2, key_dim=2, value_dim=3, output_shape=5, use_bias=False, name="mha")(q, v),
    )
    attention_case(
        "mha_key_causal_scores",
        m,
        lambda q, v: list(
            L.MultiHeadAttention(num_heads=3, key_dim=2, name="mha")(q, v, key=L.Dense(4, name="k")(v), use_causal_mask=True, return_attention_scores=True)
        ),
    )
    attention_case(
        "lstm_mha_pool",
        m,
        lambda q, v: L.GlobalAveragePooling1D()(L.MultiHeadAttention(num_heads=2, key_dim=2, name="mha")(L.LSTM(4, return_sequences=True, name="l")(q), v)),
    )


# ---------------------------------------------------------------------------------------------------------------
# ConvLSTM1D / ConvLSTM3D
# ---------------------------------------------------------------------------------------------------------------


def conv_case(name, shape, make, formats=("keras", "h5", "weights")):
    def build(rng):
        x = keras.Input(shape)
        outs = make(x)
        return keras.Model(x, outs), rng.normal(0, 1, (2, *shape)).astype("float32")

    case(name, formats=formats, covers=("conv_lstm",))(build)


conv_case("conv_lstm1d_valid_strides", (4, 9, 2), lambda x: L.ConvLSTM1D(3, 3, strides=2, padding="valid", return_sequences=True, name="c")(x))
conv_case("conv_lstm1d_same_dilation_backwards", (4, 8, 2), lambda x: L.ConvLSTM1D(2, 2, dilation_rate=2, padding="same", go_backwards=True, name="c")(x))
conv_case(
    "conv_lstm1d_state_hard_sigmoid", (3, 6, 2), lambda x: list(L.ConvLSTM1D(2, 3, return_state=True, recurrent_activation="hard_sigmoid", activation="relu", name="c")(x))
)
conv_case("conv_lstm1d_channels_first", (4, 2, 7), lambda x: L.ConvLSTM1D(3, 2, data_format="channels_first", return_sequences=True, use_bias=False, name="c")(x))
conv_case("conv_lstm3d_same_seq", (3, 3, 4, 3, 2), lambda x: L.ConvLSTM3D(2, (2, 3, 2), padding="same", return_sequences=True, name="c")(x))
conv_case("conv_lstm3d_strides_state", (2, 5, 4, 4, 1), lambda x: list(L.ConvLSTM3D(2, 2, strides=(2, 1, 2), return_state=True, go_backwards=True, name="c")(x)))
conv_case("conv_lstm3d_channels_first", (2, 1, 3, 4, 3), lambda x: L.ConvLSTM3D(2, (1, 2, 2), data_format="channels_first", dilation_rate=(1, 2, 1), name="c")(x))


def conv_lstm_masked(rng):
    # the mask of a 4D sequence (batch, time, steps, channels) reduced to (batch, time) with op nodes
    x = keras.Input((4, 6, 2))
    mask = ops.any(ops.not_equal(x, 0.0), axis=(2, 3))
    y = L.ConvLSTM1D(2, 3, padding="same", return_sequences=True, name="c")(x, mask=mask)
    data = rng.normal(0, 1, (2, 4, 6, 2)).astype("float32")
    data[0, -2:] = 0.0
    data[1, 0] = 0.0
    return keras.Model(x, y), data


case("conv_lstm1d_masked", covers=("conv_lstm", "ops"))(conv_lstm_masked)


def conv_lstm3d_masked(rng):
    x = keras.Input((4, 2, 3, 2, 1))
    mask = ops.any(ops.not_equal(x, 0.0), axis=(2, 3, 4, 5))
    y = L.ConvLSTM3D(2, 2, padding="same", return_sequences=True, go_backwards=True, name="c")(x, mask=mask)
    data = rng.normal(0, 1, (2, 4, 2, 3, 2, 1)).astype("float32")
    data[0, -2:] = 0.0
    data[1, 0] = 0.0
    return keras.Model(x, y), data


case("conv_lstm3d_masked", covers=("conv_lstm", "ops"))(conv_lstm3d_masked)


def conv_lstm_initial_state(rng):
    x = keras.Input((3, 6, 2), name="x")
    h0 = keras.Input((6, 2), name="h0")
    c0 = keras.Input((6, 2), name="c0")
    y = L.ConvLSTM1D(2, 3, padding="same", return_sequences=True, name="c")(x, initial_state=[h0, c0])
    data = {n: rng.normal(0, 1, (2, *s)).astype("float32") for n, s in (("x", (3, 6, 2)), ("h0", (6, 2)), ("c0", (6, 2)))}
    return keras.Model([x, h0, c0], y), data


case("conv_lstm1d_initial_state", covers=("conv_lstm",))(conv_lstm_initial_state)
conv_case(
    "conv_lstm1d_bidirectional",
    (3, 5, 2),
    lambda x: L.Bidirectional(L.ConvLSTM1D(2, 2, padding="same", return_sequences=True), merge_mode="concat", name="bi")(x),
    formats=("keras",),
)


# ---------------------------------------------------------------------------------------------------------------
# RNN over stacked cells
# ---------------------------------------------------------------------------------------------------------------


def stacked_case(name, make, masked=False, steps=5, feats=3, formats=("keras", "h5", "weights")):
    def build(rng):
        x, h = masked_input((steps, feats), masked)
        return keras.Model(x, make(h)), seq(rng, 2, steps, feats, masked)

    case(name, formats=formats, covers=("stacked_cells",))(build)


cells3 = lambda: [L.LSTMCell(3), L.GRUCell(2), L.SimpleRNNCell(3)]  # noqa: E731
for m in (False, True):
    sfx = "_masked" if m else ""
    stacked_case(f"stacked_lstm_gru_simple_seq{sfx}", lambda h: L.RNN(L.StackedRNNCells(cells3()), return_sequences=True, name="rnn")(h), m)
    stacked_case(f"stacked_list_state{sfx}", lambda h: keras.tree.flatten(L.RNN(cells3(), return_state=True, name="rnn")(h)), m)
    stacked_case(
        f"stacked_two_lstm_backwards{sfx}",
        lambda h: L.RNN([L.LSTMCell(3), L.LSTMCell(2)], go_backwards=True, return_sequences=True, name="rnn")(h),
        m,
    )
    stacked_case(
        f"stacked_gru_before_after_dense{sfx}",
        lambda h: L.Dense(2, name="d")(L.RNN([L.GRUCell(3, reset_after=False), L.GRUCell(2)], name="rnn")(h)),
        m,
    )


def stacked_initial_state(rng):
    x = keras.Input((4, 3), name="x")
    h1 = keras.Input((3,), name="h1")
    c1 = keras.Input((3,), name="c1")
    h2 = keras.Input((2,), name="h2")
    y = L.RNN([L.LSTMCell(3), L.GRUCell(2)], return_sequences=True, name="rnn")(x, initial_state=[[h1, c1], h2])
    data = {
        "x": seq(rng, 2, 4, 3, False),
        "h1": rng.normal(0, 1, (2, 3)).astype("float32"),
        "c1": rng.normal(0, 1, (2, 3)).astype("float32"),
        "h2": rng.normal(0, 1, (2, 2)).astype("float32"),
    }
    return keras.Model([x, h1, c1, h2], y), data


case("stacked_initial_state", covers=("stacked_cells",))(stacked_initial_state)


def bidir_stacked(rng):
    x, h = masked_input((5, 3), True)
    y = L.Bidirectional(L.RNN([L.LSTMCell(2), L.SimpleRNNCell(2)], return_sequences=True), name="bi")(h)
    return keras.Model(x, y), seq(rng, 2, 5, 3, True)


case("stacked_bidirectional_masked", covers=("stacked_cells",))(bidir_stacked)
for m in (False, True):
    sfx = "_masked" if m else ""
    stacked_case(
        f"stacked_zero_output_unroll{sfx}",
        lambda h: L.RNN([L.LSTMCell(3), L.GRUCell(2)], return_sequences=True, zero_output_for_mask=True, unroll=True, name="rnn")(h),
        m,
    )


def stacked_embedding(rng, masked):
    x = keras.Input((5,), dtype="int32")
    e = L.Embedding(6, 3, mask_zero=masked, name="emb")(x)
    y = L.RNN([L.SimpleRNNCell(3), L.LSTMCell(2)], return_sequences=True, name="rnn")(e)
    return keras.Model(x, y), tokens(rng, 2, 5, 6, masked)


for m in (False, True):
    case(f"stacked_embedding{'_masked' if m else ''}", covers=("stacked_cells",))(lambda rng, m=m: stacked_embedding(rng, m))


# ---------------------------------------------------------------------------------------------------------------
# Padding, resampling, cropping, 2D pooling
# ---------------------------------------------------------------------------------------------------------------


def seq1d_case(name, make, masked):
    def build(rng):
        x, h = masked_input((5, 3), masked)
        return keras.Model(x, make(h)), seq(rng, 2, 5, 3, masked)

    case(f"{name}{'_masked' if masked else ''}", formats=("keras", "h5", "weights"), covers=("reshaping",))(build)


for m in (False, True):
    seq1d_case("zero_padding1d", lambda h: [L.ZeroPadding1D((1, 2))(h), L.LSTM(2, name="l")(L.ZeroPadding1D(1)(h))], m)
    seq1d_case("up_sampling1d", lambda h: [L.UpSampling1D(2)(h), L.GRU(2, name="g")(L.UpSampling1D(3)(h))], m)
    seq1d_case("cropping1d", lambda h: [L.Cropping1D((1, 2))(h), L.SimpleRNN(2, name="s")(L.Cropping1D(1)(h))], m)


def image_case(name, shape, make):
    def build(rng):
        x = keras.Input(shape)
        return keras.Model(x, make(x)), rng.normal(0, 1, (2, *shape)).astype("float32")

    case(name, formats=("keras", "h5", "weights"), covers=("reshaping", "pooling"))(build)


image_case("zero_padding2d", (3, 4, 2), lambda x: [L.ZeroPadding2D(((1, 0), (2, 1)))(x), L.ZeroPadding2D(1, data_format="channels_first")(x)])
image_case("up_sampling2d", (3, 2, 2), lambda x: [L.UpSampling2D((2, 3))(x), L.UpSampling2D(2, data_format="channels_first")(x)])
image_case("cropping2d", (5, 6, 2), lambda x: [L.Cropping2D(((1, 2), (0, 3)))(x), L.Cropping2D(((0, 1), (1, 0)), data_format="channels_first")(x)])
image_case(
    "pooling2d",
    (5, 6, 2),
    lambda x: [
        L.MaxPooling2D(2)(x),
        L.MaxPooling2D((3, 2), strides=(1, 2), padding="same")(x),
        L.AveragePooling2D(2)(x),
        L.AveragePooling2D((2, 3), strides=1, padding="same")(x),
        L.AveragePooling2D(2, data_format="channels_first")(x),
        L.GlobalAveragePooling2D()(x),
        L.GlobalMaxPooling2D(keepdims=True)(x),
        L.GlobalAveragePooling2D(data_format="channels_first")(x),
        L.GlobalMaxPooling2D()(x),
    ],
)
image_case(
    "conv2d_pool_lstm",
    (4, 4, 1),
    lambda x: L.LSTM(3, name="l")(L.Reshape((4, 4))(L.Conv2D(2, 2, padding="same", name="c")(L.MaxPooling2D((1, 2))(x)))),
)


# ---------------------------------------------------------------------------------------------------------------
# Normalization, Permute and RNN(cell) options (the layer kinds the export writes code for: each setting it reads)
# ---------------------------------------------------------------------------------------------------------------


def seq_case(name, make, masked, covers, shape=(5, 3)):
    def build(rng):
        x, h = masked_input(shape, masked)
        return keras.Model(x, make(h)), seq(rng, 2, *shape, masked)

    case(f"{name}{'_masked' if masked else ''}", formats=("keras", "h5", "weights"), covers=covers)(build)


def batchnorm_variants(h):
    # scale=False (no gamma), center=False (no beta), both off, non-default epsilon; the mask passes through to the LSTM
    a = L.BatchNormalization(scale=False, epsilon=0.01, name="bn_noscale")(h)
    b = L.LSTM(3, return_sequences=True, name="l")(L.BatchNormalization(center=False, name="bn_nocenter")(h))
    c = L.Dense(2, name="d")(L.BatchNormalization(center=False, scale=False, epsilon=1e-5, name="bn_plain")(b))
    return [a, L.BatchNormalization(name="bn_full")(c)]


def layernorm_variants(h):
    a = L.LayerNormalization(name="ln")(h)
    b = L.LayerNormalization(center=False, epsilon=0.01, name="ln_nocenter")(h)
    c = L.Dense(2, name="d")(L.LSTM(3, name="l")(L.LayerNormalization(scale=False, name="ln_noscale")(h)))
    return [a, b, c]


def layernorm_rms(h):
    # rms_scaling=True (deprecated in Keras 3 but still read): Keras scales by the CENTRED variance, x·rsqrt(var + ε)·γ,
    # and creates γ even with scale=False; no β
    a = L.LayerNormalization(rms_scaling=True, epsilon=0.01, name="ln_rms")(h)
    b = L.Dense(2, name="d")(L.LSTM(3, name="l")(L.LayerNormalization(rms_scaling=True, scale=False, name="ln_rms_noscale")(h)))
    return [a, b]


def rms_norm(h):
    # RMSNormalization (Keras >= 3.9): x·rsqrt(mean(x²) + ε)·scale, ε 1e-6 by default
    a = L.RMSNormalization(name="rms")(h)
    b = L.Dense(2, name="d")(L.LSTM(3, name="l")(L.RMSNormalization(epsilon=0.01, name="rms_eps")(h)))
    return [a, b]


def rnn_cell_options(h):
    # RNN(cell) with the RNN's flags: go_backwards + return_state on a GRUCell(reset_after=False), a relu SimpleRNNCell
    # returning sequences, an LSTMCell without bias
    g = keras.tree.flatten(L.RNN(L.GRUCell(3, reset_after=False), go_backwards=True, return_state=True, name="rnn_gru")(h))
    s = L.RNN(L.SimpleRNNCell(2, activation="relu"), return_sequences=True, name="rnn_simple")(h)
    l = L.RNN(L.LSTMCell(2, use_bias=False), name="rnn_lstm")(h)
    return [*g, s, l]


for m in (False, True):
    seq_case("batchnorm_variants", batchnorm_variants, m, ("normalization",))
    seq_case("layernorm_variants", layernorm_variants, m, ("normalization",))
    seq_case("layernorm_rms", layernorm_rms, m, ("normalization",))
    seq_case("rms_norm", rms_norm, m, ("normalization",))
    seq_case("rnn_cell_options", rnn_cell_options, m, ("stacked_cells",))


def permute_rank3(rng):
    x = keras.Input((2, 3, 4))
    p1 = L.Permute((3, 1, 2))(x)
    p2 = L.Permute((2, 3, 1))(x)
    y = L.LSTM(2, name="l")(L.Reshape((4, 6))(p1))
    return keras.Model(x, [p1, p2, y]), rng.normal(0, 1, (2, 2, 3, 4)).astype("float32")


case("permute_rank3", formats=("keras", "h5", "weights"), covers=("reshaping",))(permute_rank3)


# ---------------------------------------------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------------------------------------------


def nested(a):
    return np.asarray(a, dtype="float64").tolist()


def randomise(model, rng):
    for v in model.variables:
        if "float" in str(v.dtype):
            value = rng.normal(0, 0.5, tuple(v.shape)).astype("float32")
            # a variance must be positive: |value| + 0.1 (the same draws, so the other variables keep their values)
            v.assign(np.abs(value) + 0.1 if v.name == "moving_variance" else value)


def as_list(out):
    return [np.asarray(o) for o in keras.tree.flatten(out)]


def close(a, b):
    return len(a) == len(b) and all(x.shape == y.shape and np.allclose(x, y, rtol=1e-6, atol=1e-6) for x, y in zip(a, b))


def run_case(name, fn, formats, covers):
    rng = np.random.default_rng(SEED + sum(map(ord, name)))
    keras.utils.set_random_seed(SEED)
    if name not in ALL_FORMATS:
        formats = ("keras",)
    model, data = fn(rng)
    randomise(model, rng)
    feed = data
    if isinstance(data, dict):
        feed = [data[t._keras_history[0].name] for t in model.inputs]
    expected = as_list(model.predict(feed, verbose=0))
    d = os.path.join(OUT, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    files = {}
    model.save(os.path.join(d, "model.keras"))
    if not close(as_list(keras.models.load_model(os.path.join(d, "model.keras")).predict(feed, verbose=0)), expected):
        raise RuntimeError("Keras's own reload of model.keras predicts differently")
    files["keras"] = "model.keras"
    if "h5" in formats:
        try:
            model.save(os.path.join(d, "model.h5"))
            again = keras.models.load_model(os.path.join(d, "model.h5"))
            if not close(as_list(again.predict(feed, verbose=0)), expected):
                raise RuntimeError("reload differs")
            files["h5"] = "model.h5"
        except Exception as e:  # noqa: BLE001
            print(f"  {name}: no model.h5 ({type(e).__name__}: {str(e)[:120]})")
            if os.path.exists(os.path.join(d, "model.h5")):
                os.remove(os.path.join(d, "model.h5"))
    if "weights" in formats:
        try:
            model.save_weights(os.path.join(d, "model.weights.h5"))
            with open(os.path.join(d, "model.json"), "w") as f:
                f.write(model.to_json())
            again = keras.models.model_from_json(open(os.path.join(d, "model.json")).read())
            again.load_weights(os.path.join(d, "model.weights.h5"))
            if not close(as_list(again.predict(feed, verbose=0)), expected):
                raise RuntimeError("reload differs")
            files["weights"] = "model.weights.h5"
            files["config"] = "model.json"
        except Exception as e:  # noqa: BLE001
            print(f"  {name}: no model.weights.h5 ({type(e).__name__}: {str(e)[:120]})")
            for f in ("model.weights.h5", "model.json"):
                if os.path.exists(os.path.join(d, f)):
                    os.remove(os.path.join(d, f))
    names = [t._keras_history[0].name for t in model.inputs]
    with open(os.path.join(d, "input.json"), "w") as f:
        json.dump({k: nested(v) for k, v in data.items()} if isinstance(data, dict) else nested(data), f)
    with open(os.path.join(d, "expected.json"), "w") as f:
        json.dump({"outputs": [nested(o) for o in expected], "keras": keras.__version__}, f)
    with open(os.path.join(d, "case.json"), "w") as f:
        json.dump({"name": name, "files": files, "inputs": names, "seed": SEED, "masked": "masked" in name, "covers": list(covers)}, f)
    return files


def main():
    only = sys.argv[1:]
    os.makedirs(OUT, exist_ok=True)
    failed = []
    for name, fn, formats, covers in CASES:
        if only and not any(s in name for s in only):
            continue
        try:
            files = run_case(name, fn, formats, covers)
            print(f"{name}: {', '.join(files)}")
        except Exception as e:  # noqa: BLE001
            failed.append(name)
            shutil.rmtree(os.path.join(OUT, name), ignore_errors=True)
            print(f"{name}: FAILED {type(e).__name__}: {str(e)[:300]}")
    if failed:
        print("failed:", ", ".join(failed))


if __name__ == "__main__":
    main()
