"""
Real-Keras cases for the attention and spatial kinds that test/keras3-real/generate.py does not cover: bilinear
UpSampling2D, the 3D padding / cropping / upsampling / pooling layers, MultiHeadAttention on rank-4 inputs with attention_axes (and its scores), use_gate, sliding_window,
dropout > 0 (Keras's explicit-softmax path: a row the mask closes gives zeros, not a uniform softmax), an explicit
attention_mask input, and Attention with dropout (ignored at inference). Made and run by Keras 3.15.1 (TensorFlow
2.21 CPU backend).

How to run (never run by `npm test`; test/kinds/attention-spatial-keras.test.ts reads the committed outputs):

    python3 -m venv /tmp/venv-attn
    /tmp/venv-attn/bin/pip install tensorflow-cpu==2.21.0 keras==3.15.1 h5py
    cd <repo> && /tmp/venv-attn/bin/python test/keras3-attention/generate.py [case-name-substring ...]

Each case folder is laid out like ../shared/keras-reference/keras3 (see its README): model.keras, model.h5,
model.weights.h5 + model.json (each only when Keras's own reload of it predicts the same), input.json,
expected.json ({"outputs": [...], "keras": "3.15.1"}) and case.json. Every float variable gets seeded random values.
Masked cases set timesteps to exactly 0 (sample 0: the last two steps; sample 1: the first) behind a Masking layer.
"""
import importlib.util
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
from keras import layers as L  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "keras3-attention")
SEED = 11


def seq(rng, shape, masked):
    x = rng.normal(0, 1, shape).astype("float32")
    if masked:
        x[0, -2:] = 0.0
        x[1, 0] = 0.0
    return x


def upsampling2d_bilinear(rng):
    x = keras.Input((3, 4, 2))
    h = L.Conv2D(2, 1, name="c")(x)
    outs = [
        L.UpSampling2D((2, 3), interpolation="bilinear")(h),
        L.UpSampling2D(2, interpolation="bilinear", data_format="channels_first")(h),
        L.UpSampling2D((3, 1), interpolation="nearest", data_format="channels_first")(h),
    ]
    return keras.Model(x, outs), seq(rng, (2, 3, 4, 2), False)


def mha_rank4_axes(rng):
    x = keras.Input((3, 4, 5))
    a = L.MultiHeadAttention(num_heads=2, key_dim=3, attention_axes=(2,), name="mha_axis2")(x, x)
    b = L.MultiHeadAttention(num_heads=2, key_dim=2, value_dim=3, output_shape=(2, 3), name="mha_default")(x, x)
    c, scores = L.MultiHeadAttention(num_heads=3, key_dim=2, attention_axes=(1,), name="mha_axis1_scores")(x, x, return_attention_scores=True)
    return keras.Model(x, [a, b, c, scores]), seq(rng, (2, 3, 4, 5), False)


def mha_gate_window(masked):
    def make(rng):
        q_in = keras.Input((5, 3), name="q")
        v_in = keras.Input((4, 3), name="v")
        # One Masking per attention layer: Keras's MultiHeadAttention deletes the Keras mask of the tensors it is
        # called on, so a second consumer of the same tensor that Keras happens to run later would see none.
        q = [L.Masking(0.0)(q_in) if masked else q_in for _ in range(3)]
        v = L.Masking(0.0)(v_in) if masked else v_in
        outs = [
            L.MultiHeadAttention(num_heads=2, key_dim=2, use_gate=True, name="mha_gate")(q[0], v),
            L.MultiHeadAttention(num_heads=2, key_dim=2, sliding_window=2, name="mha_window")(q[1], q[1]),
            L.MultiHeadAttention(num_heads=2, key_dim=3, sliding_window=3, name="mha_window_causal")(q[2], q[2], use_causal_mask=True),
        ]
        return keras.Model([q_in, v_in], outs), {"q": seq(rng, (2, 5, 3), masked), "v": seq(rng, (2, 4, 3), masked)}

    return make


def dropout_masked(rng):
    x = keras.Input((5, 3))
    h = [L.Masking(0.0)(x) for _ in range(3)]  # one per layer: see mha_gate_window
    outs = [
        L.MultiHeadAttention(num_heads=2, key_dim=2, dropout=0.3, name="mha_dropout")(h[0], h[0]),
        L.Attention(dropout=0.5, use_scale=True, name="att_dropout")([h[1], h[1]]),
        L.AdditiveAttention(dropout=0.5, name="add_dropout")([h[2], h[2]], use_causal_mask=True),
    ]
    return keras.Model(x, outs), seq(rng, (2, 5, 3), True)


def mha_attention_mask(rng):
    q = keras.Input((4, 3), name="q")
    m = keras.Input((4, 5), name="m")
    v = keras.Input((5, 3), name="v")
    out = L.MultiHeadAttention(num_heads=2, key_dim=2, name="mha")(q, v, attention_mask=m)
    mask = (rng.random((2, 4, 5)) > 0.4).astype("float32")
    mask[0, 1] = 0.0  # one fully closed row
    return keras.Model([q, m, v], out), {"q": seq(rng, (2, 4, 3), False), "m": mask, "v": seq(rng, (2, 5, 3), False)}


def mha_clears_masks(rng):
    # Keras's MultiHeadAttention deletes the Keras mask of the tensors it is called on (backend.set_keras_mask(query,
    # None), ...): a layer that reads the same tensor after it sees no mask. Attention([mha, x]) then gets no value
    # mask (masked steps of x take part); Add([x, mha]) keeps the query mask (it ANDs only the masks it has), as the
    # LSTM after it shows.
    x_in = keras.Input((5, 3))
    x = L.LSTM(4, return_sequences=True, name="enc")(L.Masking(0.0)(x_in))
    a = L.MultiHeadAttention(num_heads=2, key_dim=2, name="mha")(x, x)
    att = L.Attention(name="att_after")([a, x])
    add = L.LSTM(3, name="after_add")(L.Add()([x, a]))
    return keras.Model(x_in, [att, add]), seq(rng, (2, 5, 3), True)


def attention_explicit_masks(rng):
    # masks passed by hand, as keras.ops results: Attention(mask=[query_mask, value_mask]),
    # MultiHeadAttention(query_mask=..., value_mask=...) (Keras 3 takes the query's mask from the tensor, not the
    # argument, and the value's from value_mask)
    q = keras.Input((4, 3), name="q")
    v = keras.Input((5, 3), name="v")
    qm = keras.ops.any(keras.ops.not_equal(q, 0.0), axis=-1)
    vm = keras.ops.any(keras.ops.not_equal(v, 0.0), axis=-1)
    att = L.Attention(use_scale=True, name="att")([q, v], mask=[qm, vm])
    att_v = L.Attention(name="att_value_only")([q, v], mask=[None, vm])  # a None keeps its place in the list
    mha = L.MultiHeadAttention(num_heads=2, key_dim=2, name="mha")(q, v, value_mask=vm)
    return keras.Model([q, v], [att, att_v, mha]), {"q": seq(rng, (2, 4, 3), True), "v": seq(rng, (2, 5, 3), True)}


def spatial3d(rng):
    # 3D padding / cropping / upsampling / pooling, both data formats, after a Dense (last axis) with random weights
    x = keras.Input((4, 5, 3, 2))
    h = L.Dense(2, name="d")(x)
    outs = [
        L.ZeroPadding3D(((1, 0), (0, 2), (1, 1)))(h),
        L.ZeroPadding3D(1, data_format="channels_first")(h),
        L.Cropping3D(((1, 1), (0, 2), (1, 0)))(h),
        L.Cropping3D(((0, 1), (1, 0), (0, 0)), data_format="channels_first")(h),
        L.UpSampling3D((2, 1, 3))(h),
        L.UpSampling3D(2, data_format="channels_first")(h),
        L.MaxPooling3D(2)(h),
        L.MaxPooling3D((3, 2, 2), strides=(1, 2, 1), padding="same")(h),
        L.AveragePooling3D((2, 2, 1), padding="same")(h),
        L.AveragePooling3D(2, strides=1, data_format="channels_first")(h),
        L.GlobalAveragePooling3D()(h),
        L.GlobalMaxPooling3D(keepdims=True)(h),
        L.GlobalAveragePooling3D(data_format="channels_first", keepdims=True)(h),
    ]
    return keras.Model(x, outs), seq(rng, (2, 4, 5, 3, 2), False)


CASES = [
    ("upsampling2d_bilinear", upsampling2d_bilinear),
    ("mha_rank4_axes", mha_rank4_axes),
    ("mha_gate_window", mha_gate_window(False)),
    ("mha_gate_window_masked", mha_gate_window(True)),
    ("attention_dropout_masked", dropout_masked),
    ("mha_attention_mask", mha_attention_mask),
    ("mha_clears_masks_masked", mha_clears_masks),
    ("attention_explicit_masks_masked", attention_explicit_masks),
    ("spatial3d", spatial3d),
]


def shared_generator():
    """test/keras3-real/generate.py: its run_case saves, reloads and writes a case folder; pointed at our folder."""
    spec = importlib.util.spec_from_file_location("keras3_real_generate", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "keras3-real", "generate.py"))
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    gen.OUT = OUT
    gen.SEED = SEED
    gen.ALL_FORMATS = {name for name, _ in CASES}
    return gen


def main():
    os.makedirs(OUT, exist_ok=True)
    gen = shared_generator()
    only = sys.argv[1:]
    for name, fn in CASES:
        if only and not any(o in name for o in only):
            continue
        files = gen.run_case(name, fn, ("keras", "h5", "weights"), ())
        print(f"{name}: {', '.join(files)}")


if __name__ == "__main__":
    main()
