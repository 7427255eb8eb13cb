"""
Real tf.keras 2.x op layers (TFOpLambda / SlicingOpLambda) for Keras Lens: small functional models that call
TensorFlow functions on Keras tensors, made and run by the tf.keras 2.x implementation that TensorFlow 2.21 still
ships as `tensorflow.python.keras` (the code frozen when Keras left the TensorFlow tree; `pip install tf_keras` is
not served on these machines). Not run by `npm test`: test/conformance/tf-keras-ops.test.ts reads the committed
outputs in test/fixtures/tf-keras-ops/ (layout of ../shared/keras-reference/keras3, see its README).

    python3 -m venv /tmp/venv-tfk
    /tmp/venv-tfk/bin/pip install tensorflow-cpu==2.21.0
    cd <repo> && /tmp/venv-tfk/bin/python test/tf-keras-ops/generate.py

That module has no __version__ (its to_json/save read one): it is set to '2.6.0', the Keras release the frozen code
matches, and the files record it as keras_version. Its Model.predict no longer runs on TF 2.21 (a removed
tf.distribute name), so the expected outputs are `model(x, training=False)` — the same graph run
(Functional._run_internal_graph) predict uses. Every saved file is reloaded with load_model and must give the same
numbers. Every variable is seeded random; masked inputs have exact zero steps (sample 0: the last two; sample 1:
the first).
"""
import json
import os
import shutil
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow.python import keras as tfk  # noqa: E402
from tensorflow.python.keras import layers as L  # noqa: E402
from tensorflow.python.keras.layers.recurrent import GRU, LSTM  # noqa: E402

tfk.__version__ = "2.6.0"
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "tf-keras-ops")
SEED = 5
CASES = []


def case(name, formats=("h5",)):
    def wrap(fn):
        CASES.append((name, fn, formats))
        return fn
    return wrap


def seq(rng, steps=5, feats=3, masked=False):
    x = rng.normal(0, 1, (2, steps, feats)).astype("float32")
    if masked:
        x[0, -2:] = 0.0
        x[1, 0] = 0.0
    return x


def head(masked):
    x = tfk.Input((5, 3))
    h = L.Masking(0.0)(x) if masked else x
    return x, h, LSTM(4, return_sequences=True, name="l")(h)


def tf_math(rng, masked):
    x, h, y = head(masked)
    outs = [
        y + h[:, :, :1],
        y - 0.5,
        y * 2.0,
        y / 3.0,
        tf.math.maximum(y, 0.1),
        tf.math.minimum(y, h[:, :, 1:2]),
        tf.math.abs(y),
        tf.math.square(y),
        tf.math.sqrt(tf.math.abs(y) + 0.5),
        tf.math.exp(y),
        tf.math.log(tf.math.abs(y) + 0.5),
        tf.math.sigmoid(y),
        tf.math.tanh(y * 3.0),
        tf.nn.relu(y),
        tf.clip_by_value(y, -0.2, 0.3),
        -y,
        y ** 2,
    ]
    return tfk.Model(x, outs), seq(rng, masked=masked)


def tf_reduce(rng, masked):
    x, h, y = head(masked)
    outs = [
        tf.math.reduce_mean(y, axis=1),
        tf.reduce_sum(y, axis=-1, keepdims=True),
        tf.math.reduce_max(y, axis=[1, 2]),
        tf.math.reduce_min(y, 1),
        tf.math.reduce_prod(y + 1.0, axis=-1),
        tf.cast(tf.math.reduce_any(y > 0.1, axis=-1), tf.float32),
        tf.cast(tf.math.reduce_all(y > -0.3, axis=1), tf.float32),
        tf.nn.softmax(y, axis=-1),
        tf.nn.softmax(y, axis=1),
        tf.where(y > 0.0, y, h[:, :, :1] * 0.5),
        tf.cast(tf.math.not_equal(h, 0.0), tf.float32),
        tf.cast(tf.math.greater_equal(y, 0.0), tf.float32),
    ]
    return tfk.Model(x, outs), seq(rng, masked=masked)


def tf_shape(rng, masked):
    x, h, y = head(masked)
    outs = [
        tf.concat([y, h], axis=-1),
        tf.concat([y, y], 1),
        tf.stack([y, y * 2.0], axis=1),
        tf.expand_dims(y, -1),
        tf.squeeze(tf.expand_dims(y, 2), axis=2),
        tf.reshape(y, (-1, 20)),
        tf.reshape(y, [-1, 2, 10]),
        tf.transpose(y, perm=[0, 2, 1]),
        tf.linalg.matmul(y, y, transpose_b=True),
        tf.linalg.matmul(y, h, transpose_a=True),
    ]
    return tfk.Model(x, outs), seq(rng, masked=masked)


def tf_getitem(rng, masked):
    x, h, y = head(masked)
    outs = [y[:, -1, :], y[:, 1], y[..., ::2], y[:, 1:4:2, ...], y[:, None, 0], y[:, :, -2:], y[:, ::-1], y[:, -3:-1, 1:]]
    return tfk.Model(x, outs), seq(rng, masked=masked)


def tf_mask_flow(rng, masked):
    # what reaches an LSTM after op layers: getitem / arithmetic make new tensors; cast to the same dtype does not
    x = tfk.Input((5, 3))
    h = L.Masking(0.0)(x) if masked else x
    outs = [
        LSTM(2, name="after_slice")(h[:, :, :2]),
        GRU(2, name="after_add")(h + 0.0),
        LSTM(2, name="after_cast")(tf.cast(h, tf.float32)),
        LSTM(2, return_sequences=True, name="seq_after_mean")(tf.expand_dims(tf.reduce_mean(h, axis=-1), -1)),
    ]
    return tfk.Model(x, outs), seq(rng, masked=masked)


def tf_extra(rng, masked):
    x, h, y = head(masked)
    outs = [
        tf.nn.gelu(y), tf.nn.gelu(y, approximate=True), tf.nn.silu(y), tf.nn.leaky_relu(y), tf.nn.leaky_relu(y, alpha=0.1),
        tf.nn.elu(y), tf.nn.selu(y), tf.math.softplus(y), tf.nn.relu6(y * 8.0), tf.math.erf(y), tf.stop_gradient(y),
        tf.math.reduce_variance(y, axis=1), tf.math.reduce_std(y, axis=-1, keepdims=True),
        tf.math.reduce_logsumexp(y, axis=1), tf.cast(tf.math.argmax(y, axis=-1), tf.float32),
        tf.cast(tf.math.argmin(y), tf.float32), tf.math.cumsum(y, axis=1), tf.reverse(y, axis=[1]),
        tf.tile(y, [1, 2, 1]), tf.repeat(y, 2, axis=1), tf.zeros_like(y), tf.ones_like(y),
    ]
    return tfk.Model(x, outs), seq(rng, masked=masked)


def tf_constants(rng, masked):
    # constants where tf.keras stores them: a constant first argument (['_CONSTANT_VALUE', -1, value, kwargs]),
    # numpy arrays and tf constants in the kwargs (written as nested lists)
    x, h, y = head(masked)
    w = np.linspace(-1.0, 1.0, 4).astype("float32")
    outs = [
        2.0 - y,
        tf.math.add(1.5, y),
        y * w,
        tf.math.maximum(y, tf.constant(w)),
        tf.linalg.matmul(y, np.eye(4, 2, dtype="float32")),
        tf.where(y > 0.0, 1.0, -1.0),
    ]
    return tfk.Model(x, outs), seq(rng, masked=masked)


for fn in (tf_math, tf_reduce, tf_shape, tf_getitem, tf_mask_flow, tf_extra, tf_constants):
    for m in (False, True):
        name = f"{fn.__name__}{'_masked' if m else ''}"
        case(name, formats=("h5", "weights") if name in ("tf_getitem", "tf_mask_flow_masked") else ("h5",))(
            lambda rng, fn=fn, m=m: fn(rng, m))


def randomise(model, rng):
    for v in model.weights:
        v.assign(rng.normal(0, 0.6, v.shape).astype("float32"))


def run(model, x):
    y = model(x, training=False)
    return [np.asarray(a).tolist() for a in (y if isinstance(y, (list, tuple)) else [y])]


def close(a, b):
    return len(a) == len(b) and all(np.allclose(np.asarray(p), np.asarray(q), rtol=1e-6, atol=1e-6) for p, q in zip(a, b))


def run_case(name, fn, formats):
    rng = np.random.default_rng(SEED + sum(map(ord, name)))
    tf.random.set_seed(SEED)
    model, data = fn(rng)
    randomise(model, rng)
    expected = run(model, data)
    d = os.path.join(OUT, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    files = {}
    model.save(os.path.join(d, "model.h5"))
    if not close(run(tfk.models.load_model(os.path.join(d, "model.h5")), data), expected):
        raise RuntimeError("tf.keras's own reload of model.h5 computes differently")
    files["h5"] = "model.h5"
    if "weights" in formats:
        model.save_weights(os.path.join(d, "model.weights.h5"))
        with open(os.path.join(d, "model.json"), "w") as f:
            f.write(model.to_json())
        again = tfk.models.model_from_json(model.to_json())
        again.load_weights(os.path.join(d, "model.weights.h5"))
        if not close(run(again, data), expected):
            raise RuntimeError("tf.keras's own reload of model.weights.h5 + model.json computes differently")
        files["weights"] = "model.weights.h5"
        files["config"] = "model.json"
    with open(os.path.join(d, "input.json"), "w") as f:
        json.dump(np.asarray(data).tolist(), f)
    with open(os.path.join(d, "expected.json"), "w") as f:
        json.dump({"outputs": expected, "keras": "tensorflow.python.keras (TF " + tf.__version__ + ")"}, f)
    with open(os.path.join(d, "case.json"), "w") as f:
        json.dump({"name": name, "files": files, "inputs": [t._keras_history[0].name for t in model.inputs], "seed": SEED}, f)
    return files


def main():
    os.makedirs(OUT, exist_ok=True)
    only = sys.argv[1:]
    for name, fn, formats in CASES:
        if only and not any(o in name for o in only):
            continue
        print(name, ", ".join(run_case(name, fn, formats)))


if __name__ == "__main__":
    main()
