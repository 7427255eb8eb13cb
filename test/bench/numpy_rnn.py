"""numpy + OpenBLAS peer for `npm run bench` (test/bench/bench-rnn.ts runs it as a child process).

Reads the weights and inputs the bench wrote to DIR (raw little-endian float32 files, shapes in DIR/cases.json),
computes the same layers the way a careful numpy user would (Keras formulas, float32 like Keras itself: x·W + b for
all steps in one matrix product, then per step one h·U product and the gate activations), times each case
(median of several runs after one warm-up: wall clock and this process's CPU time, all threads), writes each
output to DIR/<case>.numpy.f32 so the bench can check the numbers agree, and prints one JSON line.

  LSTM  z = x·W + b + h·U (gates i, f, c, o); c' = σ(f)·c + σ(i)·tanh(c̃); h' = σ(o)·tanh(c')
  GRU (reset_after=False)  z = σ(x·Wz + bz + h·Uz), r = σ(x·Wr + br + h·Ur)
                           h̃ = tanh(x·Wh + bh + (r·h)·Uh); h' = z·h + (1 − z)·h̃

Usage: python3 numpy_rnn.py DIR
"""
import json
import sys
import time

import numpy as np


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def lstm(x, W, U, b, units):
    batch, steps, features = x.shape
    xw = (x.reshape(batch * steps, features) @ W + b).reshape(batch, steps, 4 * units)
    h = np.zeros((batch, units), np.float32)
    c = np.zeros((batch, units), np.float32)
    for t in range(steps):
        z = xw[:, t] + h @ U
        i = sigmoid(z[:, :units])
        f = sigmoid(z[:, units : 2 * units])
        cc = np.tanh(z[:, 2 * units : 3 * units])
        o = sigmoid(z[:, 3 * units :])
        c = f * c + i * cc
        h = o * np.tanh(c)
    return h


def gru(x, W, U, b, units):
    batch, steps, features = x.shape
    xw = (x.reshape(batch * steps, features) @ W + b).reshape(batch, steps, 3 * units)
    uzr = np.ascontiguousarray(U[:, : 2 * units])
    uh = np.ascontiguousarray(U[:, 2 * units :])
    h = np.zeros((batch, units), np.float32)
    for t in range(steps):
        zr = sigmoid(xw[:, t, : 2 * units] + h @ uzr)
        z = zr[:, :units]
        r = zr[:, units:]
        hh = np.tanh(xw[:, t, 2 * units :] + (r * h) @ uh)
        h = z * h + (1 - z) * hh
    return h


def main():
    d = sys.argv[1]
    with open(f"{d}/cases.json") as f:
        spec = json.load(f)
    load = lambda name, shape: np.fromfile(f"{d}/{name}", dtype="<f4").reshape(shape)
    out = {"numpy": np.__version__}
    for case in spec["cases"]:
        cell, units = case["cell"], case["units"]
        g = 4 if cell == "lstm" else 3
        features, steps, batch = case["features"], case["steps"], case["batch"]
        W = load(case["kernel"], (features, g * units))
        U = load(case["recurrent_kernel"], (units, g * units))
        b = load(case["bias"], (g * units,))
        x = load(case["input"], (batch, steps, features))
        run = (lambda: lstm(x, W, U, b, units)) if cell == "lstm" else (lambda: gru(x, W, U, b, units))
        y = run()  # warm-up
        y.astype("<f4").tofile(f"{d}/{case['name']}.numpy.f32")
        first = time.perf_counter()
        run()
        first = time.perf_counter() - first
        runs = 5 if first > 0.3 else 9 if first > 0.04 else 25
        walls, cpus = [], []
        for _ in range(runs):
            c0, t0 = time.process_time(), time.perf_counter()
            run()
            walls.append((time.perf_counter() - t0) * 1000)
            cpus.append((time.process_time() - c0) * 1000)
        out[case["name"]] = {"ms": float(np.median(walls)), "cpu_ms": float(np.median(cpus))}
    print(json.dumps(out))


main()
