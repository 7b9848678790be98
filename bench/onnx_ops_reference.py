#!/usr/bin/env python3
"""A small ONNX model (opset 14) that exercises the operators the PaddleOCR
classifier does not use, and its onnxruntime outputs, for
crates/exahealth-nn/tests/onnx_runtime.rs.

Graph: Conv (auto_pad SAME_UPPER, stride 2, bias) -> LeakyRelu ->
AveragePool (3x3, stride 1, pads 1, count_include_pad 0) -> HardSwish ->
GlobalMaxPool -> Flatten -> Gemm (transB) -> Sigmoid/Tanh/Sub ->
Unsqueeze -> Transpose -> Squeeze -> Reshape (via Shape/Gather/Concat) ->
Softmax (axis -1) and a second output through Exp/Sqrt/Abs/Neg/Log.

Usage: python3 bench/onnx_ops_reference.py --model OUT.onnx --out OUT.json
Needs: numpy, onnx, onnxruntime.
"""
import argparse
import json

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    w = rng.normal(0, 0.3, size=(6, 3, 3, 3)).astype(np.float32)
    b = rng.normal(0, 0.1, size=(6,)).astype(np.float32)
    g = rng.normal(0, 0.5, size=(4, 6)).astype(np.float32)
    gc = rng.normal(0, 0.1, size=(4,)).astype(np.float32)
    inits = [
        numpy_helper.from_array(w, "w"),
        numpy_helper.from_array(b, "b"),
        numpy_helper.from_array(g, "g"),
        numpy_helper.from_array(gc, "gc"),
        numpy_helper.from_array(np.array([0.5], np.float32), "half"),
        numpy_helper.from_array(np.array([1], np.int64), "ax1"),
        numpy_helper.from_array(np.array(0, np.int64), "idx0"),
        numpy_helper.from_array(np.array([-1], np.int64), "minus1"),
        numpy_helper.from_array(np.array([0], np.int64), "ax0"),
    ]
    n = helper.make_node
    nodes = [
        n("Conv", ["x", "w", "b"], ["c"], auto_pad="SAME_UPPER", strides=[2, 2]),
        n("LeakyRelu", ["c"], ["lr"], alpha=0.1),
        n("AveragePool", ["lr"], ["ap"], kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1], count_include_pad=0),
        n("HardSwish", ["ap"], ["hs"]),
        n("GlobalMaxPool", ["hs"], ["gm"]),
        n("Flatten", ["gm"], ["fl"], axis=1),
        n("Gemm", ["fl", "g", "gc"], ["ge"], transB=1, alpha=1.5, beta=0.5),
        n("Sigmoid", ["ge"], ["sg"]),
        n("Tanh", ["ge"], ["th"]),
        n("Sub", ["sg", "th"], ["sb"]),
        n("Mul", ["sb", "half"], ["ml"]),
        n("Unsqueeze", ["ml", "ax1"], ["us"]),
        n("Transpose", ["us"], ["tr"], perm=[1, 0, 2]),
        n("Squeeze", ["tr", "ax0"], ["sq"]),
        n("Shape", ["sq"], ["shp"]),
        n("Gather", ["shp", "idx0"], ["n0"], axis=0),
        n("Unsqueeze", ["n0", "ax0"], ["n0v"]),
        n("Concat", ["n0v", "minus1"], ["newshape"], axis=0),
        n("Reshape", ["sq", "newshape"], ["rs"]),
        n("Softmax", ["rs"], ["y"], axis=-1),
        n("Abs", ["ge"], ["ab"]),
        n("Exp", ["ab"], ["ex"]),
        n("Sqrt", ["ex"], ["sr"]),
        n("Log", ["sr"], ["lg"]),
        n("Neg", ["lg"], ["z"]),
    ]
    graph = helper.make_graph(
        nodes,
        "ops",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 9, 11])],
        [
            helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4]),
            helper.make_tensor_value_info("z", TensorProto.FLOAT, ["N", 4]),
        ],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)], producer_name="exahealth-test")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, args.model)
    x = rng.uniform(-1, 1, size=(2, 3, 9, 11)).astype(np.float32)
    sess = ort.InferenceSession(args.model, providers=["CPUExecutionProvider"])
    y, z = sess.run(None, {"x": x})
    with open(args.out, "w") as fh:
        json.dump({
            "input_shape": list(x.shape),
            "input": [float(v) for v in x.ravel()],
            "outputs": [
                {"shape": list(y.shape), "data": [float(v) for v in y.ravel()]},
                {"shape": list(z.shape), "data": [float(v) for v in z.ravel()]},
            ],
        }, fh)


if __name__ == "__main__":
    main()
