#!/usr/bin/env python3
"""Reference outputs of an ONNX model from onnxruntime, for exahealth's ONNX
interpreter (crates/exahealth-nn/tests/onnx_runtime.rs) and for timing it.

For each --shape N,C,H,W it builds a deterministic float32 input (half
uniform noise in [-1, 1], half a smooth pattern of stripes and blobs, the
range of PaddleOCR's (x/255 - 0.5)/0.5 normalisation), runs the model with
onnxruntime on the CPU and writes JSON:

  {"onnxruntime": VERSION, "operators": {op: count},
   "cases": [{"shape": [...], "input": [...], "output_shape": [...],
              "output": [...], "ort_ms": best-of-5 milliseconds}]}

Usage: python3 bench/onnx_reference.py MODEL.onnx --out REF.json \
           [--shape 2,3,48,192] [--shape 1,3,48,320] [--threads 1]
Needs: numpy, onnxruntime (see bench/requirements.txt); the `onnx` package
is optional (only for the operator list).
"""
import argparse
import collections
import json
import time

import numpy as np
import onnxruntime as ort


def make_input(shape, seed):
    n, c, h, w = shape
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, size=shape).astype(np.float32)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    for i in range(n):
        if i % 2 == 1:
            for ch in range(c):
                x[i, ch] = np.sin(xx / (3.0 + ch + i) + yy / 7.0) * np.cos(yy / (5.0 + i))
    return x


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--out", required=True)
    ap.add_argument("--shape", action="append", default=[])
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    shapes = [tuple(int(v) for v in s.split(",")) for s in (args.shape or ["2,3,48,192"])]

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = args.threads
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(args.model, opts, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name

    ops = {}
    try:
        import onnx

        m = onnx.load(args.model)
        ops = dict(collections.Counter(n.op_type for n in m.graph.node))
    except ImportError:
        pass

    cases = []
    for k, shape in enumerate(shapes):
        x = make_input(shape, seed=k)
        y = sess.run(None, {name: x})[0]
        best = float("inf")
        for _ in range(5):
            t = time.perf_counter()
            sess.run(None, {name: x})
            best = min(best, time.perf_counter() - t)
        cases.append({
            "shape": list(shape),
            "input": [float(v) for v in x.ravel()],
            "output_shape": list(y.shape),
            "output": [float(v) for v in y.ravel()],
            "ort_ms": best * 1e3,
        })
    with open(args.out, "w") as fh:
        json.dump({"onnxruntime": ort.__version__, "operators": ops, "cases": cases}, fh)


if __name__ == "__main__":
    main()
