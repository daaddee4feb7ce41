#!/usr/bin/env python3
"""Stand-in models for benchmarks, built with onnx.helper (Debian python3-onnx).

Real model zoos are not reachable from these machines, so the benchmarks use models made here
with the topology (layer shapes, operator mix, weight volume) of the architectures they stand
for and random weights. Each is written to OUT_DIR/<name>.onnx; nothing is committed.

  python3 bench/models/make_standins.py OUT_DIR [NAME ...]     (default: every model)

Models:
  vgg19   VGG-19 (16 3x3 convolutions in 5 blocks with max pooling, 3 fully connected layers),
          input x [1,3,224,224], 143.7 M float32 weights (548 MiB): the "large dense weights" case
          for cached loads and memory.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def vgg19(rng):
    nodes, inits = [], []
    def weight(name, shape, fan_in):
        inits.append(numpy_helper.from_array((rng.standard_normal(shape, dtype=np.float32) * np.float32(np.sqrt(2.0 / fan_in))), name))
    x, c = "x", 3
    blocks = [(64, 2), (128, 2), (256, 4), (512, 4), (512, 4)]
    k = 0
    for b, (width, convs) in enumerate(blocks):
        for _ in range(convs):
            weight(f"conv{k}_w", (width, c, 3, 3), c * 9)
            inits.append(numpy_helper.from_array(np.zeros(width, np.float32), f"conv{k}_b"))
            nodes.append(helper.make_node("Conv", [x, f"conv{k}_w", f"conv{k}_b"], [f"conv{k}"], pads=[1, 1, 1, 1], kernel_shape=[3, 3]))
            nodes.append(helper.make_node("Relu", [f"conv{k}"], [f"relu{k}"]))
            x, c, k = f"relu{k}", width, k + 1
        nodes.append(helper.make_node("MaxPool", [x], [f"pool{b}"], kernel_shape=[2, 2], strides=[2, 2]))
        x = f"pool{b}"
    nodes.append(helper.make_node("Flatten", [x], ["flat"], axis=1))
    x, n_in = "flat", 512 * 7 * 7
    for i, n_out in enumerate([4096, 4096, 1000]):
        weight(f"fc{i}_w", (n_out, n_in), n_in)
        inits.append(numpy_helper.from_array(np.zeros(n_out, np.float32), f"fc{i}_b"))
        nodes.append(helper.make_node("Gemm", [x, f"fc{i}_w", f"fc{i}_b"], [f"fc{i}"], transB=1))
        x, n_in = f"fc{i}", n_out
        if i < 2:
            nodes.append(helper.make_node("Relu", [x], [f"fc{i}_relu"]))
            x = f"fc{i}_relu"
    nodes.append(helper.make_node("Softmax", [x], ["prob"], axis=1))
    graph = helper.make_graph(nodes, "vgg19_standin", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 224, 224])],
                              [helper.make_tensor_value_info("prob", TensorProto.FLOAT, [1, 1000])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="switchyard make_standins")


MODELS = {"vgg19": vgg19}


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    out_dir, names = argv[1], argv[2:] or sorted(MODELS)
    os.makedirs(out_dir, exist_ok=True)
    for name in names:
        if name not in MODELS:
            print(f"make_standins: unknown model '{name}' (known: {', '.join(sorted(MODELS))})", file=sys.stderr)
            return 2
        path = os.path.join(out_dir, name + ".onnx")
        model = MODELS[name](np.random.default_rng(0))
        onnx.checker.check_model(model)
        onnx.save(model, path)
        print(f"{path}: {os.path.getsize(path) / 2**20:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
