"""
Real-Keras cases for how masks flow through Keras 3 operation nodes (keras.ops calls in a functional model), made
and run by Keras 3.15.1 on TensorFlow 2.21 CPU. Not run by `npm test`: test/conformance/keras3-ops.test.ts reads
the committed outputs in test/fixtures/keras3-ops/ (same layout as ../shared/keras-reference/keras3, see its README).

    python3 -m venv /tmp/venv-tfk
    /tmp/venv-tfk/bin/pip install tensorflow-cpu==2.21.0 keras==3.15.1
    cd <repo> && /tmp/venv-tfk/bin/python test/keras3-ops/generate.py

What the cases pin down (measured while writing them): an op node passes no mask on (Operation has no mask
handling), EXCEPT where TensorFlow hands back the very tensor object it was given — ops.convert_to_tensor(x) and
ops.cast(x, <the dtype x has>) — which still carries `_keras_mask`, so the next layer, whose stored mask= is null,
picks the mask up at run time. Explicit masks computed with ops (mask=ops.any(ops.not_equal(x, 0), -1)) are stored
as the call's mask= tensor. Saving, reloading and writing a case folder is test/keras3-real/generate.py's
run_case: every float variable seeded random; each saved format reloaded by Keras to the same numbers, else left
out (the legacy .h5 always is: Keras 3 cannot reload operation nodes from it, "Unknown layer: ConvertToTensor").
Masked inputs have exact zero steps (sample 0: the last two; sample 1: the first).
"""
import importlib.util
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import keras  # noqa: E402
from keras import layers as L, ops  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "keras3-ops")
SEED = 11
CASES = []


def case(name, formats=("keras",)):
    def wrap(fn):
        CASES.append((name, fn, formats))
        return fn
    return wrap


def seq(rng, steps=5, feats=3):
    x = rng.normal(0, 1, (2, steps, feats)).astype("float32")
    x[0, -2:] = 0.0
    x[1, 0] = 0.0
    return x


def masked_lstm_after(op, name):
    """Masking -> op -> LSTM(return_sequences) and LSTM(last): what mask reaches the LSTMs."""
    def fn(rng):
        x = keras.Input((5, 3))
        h = L.Masking(0.0)(x)
        y = op(h)
        return keras.Model(x, [L.LSTM(3, return_sequences=True, name="seq")(y), L.GRU(2, name="last")(y)]), seq(rng)
    case(name, formats=("keras", "h5", "weights") if name == "mask_convert_to_tensor" else ("keras",))(fn)


masked_lstm_after(lambda h: ops.convert_to_tensor(h), "mask_convert_to_tensor")
masked_lstm_after(lambda h: ops.convert_to_tensor(h, "float32"), "mask_convert_to_tensor_same_dtype")
masked_lstm_after(lambda h: ops.cast(h, "float32"), "mask_cast_same_dtype")
masked_lstm_after(lambda h: ops.cast(h, "float64"), "mask_cast_float64")
masked_lstm_after(lambda h: ops.reshape(h, (-1, 5, 3)), "mask_reshape_same_shape")
masked_lstm_after(lambda h: h[:, :, :], "mask_getitem_whole")
masked_lstm_after(lambda h: h + 0.0, "mask_add_zero")
masked_lstm_after(lambda h: ops.tanh(ops.convert_to_tensor(h)), "mask_tanh_after_convert")


@case("mask_explicit_ops")
def mask_explicit_ops(rng):
    # a mask computed with ops and passed by hand: stored as the call's mask= tensor
    x = keras.Input((5, 3))
    m = ops.any(ops.greater(ops.abs(x), 0.0), axis=-1)
    y = L.LSTM(3, return_sequences=True, name="seq")(x, mask=m)
    z = L.Bidirectional(L.GRU(2), name="bi")(x, mask=ops.logical_not(ops.all(ops.equal(x, 0.0), axis=-1)))
    return keras.Model(x, [y, z, ops.cast(m, "float32")]), seq(rng)


@case("mask_embedding_convert")
def mask_embedding_convert(rng):
    x = keras.Input((6,), dtype="int32")
    e = L.Embedding(9, 4, mask_zero=True, name="emb")(x)
    t = rng.integers(1, 9, (2, 6)).astype("int32")
    t[0, -2:] = 0
    t[1, 0] = 0
    return keras.Model(x, [L.LSTM(3, name="l")(ops.convert_to_tensor(e)), L.LSTM(2, name="l2")(ops.multiply(e, 1.0))]), t


def ops_more(rng, masked):
    # ops and argument spellings the mask cases do not reach: numpy constants (__numpy__ / __tensor__ args),
    # implicit and '...' einsum, one-operand einsum, initial=, squeeze without axis, newaxis with ellipsis
    x = keras.Input((4, 3))
    h = L.Masking(0.0)(x) if masked else x
    y = L.Dense(3, name="d")(h)
    w = np.linspace(-1.0, 1.0, 6).reshape(3, 2).astype("float32")
    outs = [
        ops.add(y, np.array([0.5, -1.0, 2.0], "float32")),
        ops.matmul(y, w),
        ops.einsum("...f,fg->...g", y, w),
        ops.einsum("btf,bsf", h, y),
        ops.einsum("btf->bf", y),
        ops.max(y, axis=1, initial=0.2),
        ops.amax(y, axis=-1),
        ops.amin(y, axis=1),
        ops.squeeze(ops.expand_dims(y, 1)),
        ops.where(ops.greater(y, 0.0), 1.0, -1.0),
        ops.log_softmax(y, axis=-1),
        ops.negative(y),
        ops.power(y, 2.0),
        ops.true_divide(y, 4.0),
        ops.floor_divide(y, 0.3),
        ops.mod(y, 0.3),
        ops.sign(y),
        ops.reciprocal(ops.add(ops.abs(y), 1.0)),
        ops.floor(y),
        ops.ceil(y),
        ops.sin(y),
        ops.cos(y),
        ops.log1p(ops.abs(y)),
        ops.expm1(y),
        ops.rsqrt(ops.add(ops.abs(y), 1.0)),
        y[..., None],
        y[:, ::2, None, -1],
        ops.cast(ops.greater(y, 0.0), "int32"),
        ops.cast(ops.multiply(y, 3.0), "int32"),
    ]
    return keras.Model(x, outs), seq(rng, steps=4)


def ops_extra(rng, masked):
    # activation ops, statistics, arg-reductions, cumsum, normalize, axis moves, flip, repeat, tile, *_like
    x = keras.Input((4, 3))
    h = L.Masking(0.0)(x) if masked else x
    y = L.Dense(3, name="d")(h)
    f = lambda t: ops.cast(t, "float32")  # noqa: E731
    outs = [
        ops.silu(y), ops.gelu(y), ops.gelu(y, approximate=False), ops.leaky_relu(y), ops.leaky_relu(y, 0.05),
        ops.elu(y, 0.7), ops.selu(y), ops.softplus(y), ops.softsign(y), ops.hard_sigmoid(y), ops.hard_silu(y),
        ops.log_sigmoid(y), ops.relu6(ops.multiply(y, 5.0)), ops.erf(y), ops.stop_gradient(y),
        ops.var(y, axis=1), ops.std(y, axis=-1, keepdims=True), ops.logsumexp(y, axis=1),
        f(ops.argmax(y, axis=-1)), f(ops.argmin(y, axis=1, keepdims=True)),
        ops.cumsum(y, axis=1), ops.normalize(y, axis=-1),
        ops.swapaxes(y, 1, 2), ops.moveaxis(y, 1, -1), ops.flip(y, axis=1), ops.repeat(y, 2, axis=1),
        ops.tile(y, (1, 2, 1)), ops.zeros_like(y), ops.ones_like(y),
    ]
    return keras.Model(x, outs), seq(rng, steps=4)


case("ops_extra")(lambda rng: ops_extra(rng, False))
case("ops_extra_masked")(lambda rng: ops_extra(rng, True))
case("ops_more")(lambda rng: ops_more(rng, False))
case("ops_more_masked")(lambda rng: ops_more(rng, True))


def shared_generator():
    """test/keras3-real/generate.py: its run_case saves, reloads and writes a case folder; pointed at our folder."""
    here = os.path.dirname(os.path.abspath(__file__))
    spec = importlib.util.spec_from_file_location("keras3_real_generate", os.path.join(here, "..", "keras3-real", "generate.py"))
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    gen.OUT = OUT
    gen.SEED = SEED
    gen.ALL_FORMATS = {name for name, _, formats in CASES if "weights" in formats}
    return gen


def main():
    os.makedirs(OUT, exist_ok=True)
    gen = shared_generator()
    only = sys.argv[1:]
    for name, fn, formats in CASES:
        if only and not any(o in name for o in only):
            continue
        print(name, ", ".join(gen.run_case(name, fn, formats, ("ops", "masks"))))


if __name__ == "__main__":
    main()
