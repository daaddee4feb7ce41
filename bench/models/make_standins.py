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
  shufflenet_v2       ShuffleNetV2 1.0x (Split, depthwise convs, Concat, Reshape-Transpose-Reshape channel
                      shuffles), x [1,3,224,224], 2.3 M weights (8.8 MiB)
  squeezenet1_1       SqueezeNet 1.1 (fire modules: 1x1 squeeze, 1x1 and 3x3 expands concatenated, ceil-mode
                      max pooling), x [1,3,224,224], 1.2 M weights (4.7 MiB)
  densenet121         DenseNet-121 (blocks of 6/12/24/16 layers, each reading a Concat of all earlier features;
                      pre-activation BN+Relu), x [1,3,224,224], 8.1 M weights (30.8 MiB)
  mobilenet_v2        MobileNetV2 (inverted residuals, Clip(0,6), residual Adds), x [1,3,224,224], 3.5 M weights
                      (13.5 MiB)
  mobilenet_v3_small  MobileNetV3-Small (HardSwish, squeeze-and-excitation with HardSigmoid and Mul), opset 14 for
                      HardSwish, x [1,3,224,224], 2.5 M weights (9.8 MiB)
  ocr_det             PP-OCR/DBNet-like text detector (MobileNetV3-large x0.5 backbone with SE, FPN neck with
                      nearest Resize, Adds and Concat, DB head with ConvTranspose and Sigmoid), opset 14,
                      x [1,3,640,640] -> maps [1,1,640,640], 0.95 M weights (3.7 MiB)
  one_relu            One Relu node, x [1,16] -> y [1,16]: the fixed cost of a prediction (checks, transfers,
                      scheduling, the ABI call) with next to no work in it

Every model has batch 1, float32, BatchNormalization nodes (not folded) where the real exports have them,
He-initialized weights and near-identity BN parameters (activations stay finite), and is checked with
onnx.checker and strict shape inference before it is written.
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


class _Net:
    """Builds one graph: nodes and initializers with generated names, He-initialized weights and
    near-identity BatchNormalization parameters so random activations stay finite through many layers."""

    def __init__(self, rng):
        self.rng, self.nodes, self.inits, self.names, self.count = rng, [], [], set(), 0

    def const(self, name, array):
        """An initializer by name, added once (shapes, Clip bounds, Resize scales are shared)."""
        if name not in self.names:
            self.names.add(name)
            self.inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def param(self, shape, fan_in):
        self.count += 1
        w = self.rng.standard_normal(shape, dtype=np.float32) * np.float32(np.sqrt(2.0 / fan_in))
        return self.const(f"p{self.count}", w.astype(np.float32))

    def op(self, op_type, inputs, outputs=1, **attrs):
        self.count += 1
        names = [f"{op_type.lower()}{self.count}" + (f"_{i}" if outputs > 1 else "") for i in range(outputs)]
        self.nodes.append(helper.make_node(op_type, inputs, names, name=names[0], **attrs))
        return names if outputs > 1 else names[0]

    def conv(self, x, cin, cout, k, stride=1, group=1, bias=False, pad=None):
        pad = k // 2 if pad is None else pad
        inputs = [x, self.param((cout, cin // group, k, k), cin // group * k * k)]
        if bias:
            inputs.append(self.const(f"p{self.count}_b", (self.rng.standard_normal(cout, dtype=np.float32) * np.float32(0.01))))
        return self.op("Conv", inputs, kernel_shape=[k, k], strides=[stride, stride], pads=[pad] * 4, group=group)

    def bn(self, x, c):
        jitter = lambda scale: (self.rng.standard_normal(c, dtype=np.float32) * np.float32(scale)).astype(np.float32)
        self.count += 1
        p = f"bn{self.count}"
        return self.op("BatchNormalization", [x, self.const(p + "_gamma", 1 + jitter(0.1)), self.const(p + "_beta", jitter(0.05)),
                                              self.const(p + "_mean", jitter(0.05)), self.const(p + "_var", 1 + np.abs(jitter(0.1)))],
                       epsilon=1e-5)

    def act(self, x, kind):
        if kind is None:
            return x
        if kind == "relu":
            return self.op("Relu", [x])
        if kind == "relu6":
            return self.op("Clip", [x, self.const("clip_min", np.float32(0)), self.const("clip_max", np.float32(6))])
        if kind == "hardswish":
            return self.op("HardSwish", [x])
        if kind == "hardsigmoid":  # torch: relu6(x + 3) / 6
            return self.op("HardSigmoid", [x], alpha=1.0 / 6, beta=0.5)
        raise ValueError(kind)

    def conv_bn(self, x, cin, cout, k, stride=1, group=1, act=None):
        return self.act(self.bn(self.conv(x, cin, cout, k, stride, group), cout), act)

    def gemm(self, x, n_in, n_out):
        return self.op("Gemm", [x, self.param((n_out, n_in), n_in), self.const(f"p{self.count}_b", np.zeros(n_out, np.float32))], transB=1)

    def head(self, x, c, n_out=1000):
        """GlobalAveragePool, Flatten, Gemm c -> n_out."""
        return self.gemm(self.op("Flatten", [self.op("GlobalAveragePool", [x])], axis=1), c, n_out)

    def model(self, name, input_shape, output, output_shape, opset=13, output_name="logits"):
        last = self.nodes[-1]
        assert list(last.output) == [output], "the graph output comes from the last node"
        last.output[0] = output_name
        graph = helper.make_graph(self.nodes, name + "_standin", [helper.make_tensor_value_info("x", TensorProto.FLOAT, input_shape)],
                                  [helper.make_tensor_value_info(output_name, TensorProto.FLOAT, output_shape)], self.inits)
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="switchyard make_standins")


def _make_divisible(v, divisor=8):
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return new_v + divisor if new_v < 0.9 * v else new_v


def shufflenet_v2(rng):
    n = _Net(rng)
    x = n.conv_bn("x", 3, 24, 3, stride=2, act="relu")
    x = n.op("MaxPool", [x], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    c, hw = 24, 56
    for units, out in [(4, 116), (8, 232), (4, 464)]:
        half = out // 2
        for u in range(units):
            if u == 0:  # downsampling unit: both branches see the whole input
                hw //= 2
                left = n.conv_bn(n.conv_bn(x, c, c, 3, stride=2, group=c), c, half, 1, act="relu")
                right_in, right_c, stride = x, c, 2
            else:
                left, right_in = n.op("Split", [x], outputs=2, axis=1)
                right_c, stride = half, 1
            right = n.conv_bn(right_in, right_c, half, 1, act="relu")
            right = n.conv_bn(n.conv_bn(right, half, half, 3, stride=stride, group=half), half, half, 1, act="relu")
            x = n.op("Concat", [left, right], axis=1)
            x = n.op("Reshape", [x, n.const(f"shuffle_{out}_in", np.array([1, 2, half, hw, hw], np.int64))])
            x = n.op("Transpose", [x], perm=[0, 2, 1, 3, 4])
            x = n.op("Reshape", [x, n.const(f"shuffle_{out}_out", np.array([1, out, hw, hw], np.int64))])
            c = out
    x = n.conv_bn(x, c, 1024, 1, act="relu")
    return n.model("shufflenet_v2", [1, 3, 224, 224], n.head(x, 1024), [1, 1000])


def squeezenet1_1(rng):
    n = _Net(rng)
    pool = lambda x: n.op("MaxPool", [x], kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)
    conv_relu = lambda x, cin, cout, k, **kw: n.op("Relu", [n.conv(x, cin, cout, k, bias=True, **kw)])
    def fire(x, cin, squeeze, e1, e3):
        s = conv_relu(x, cin, squeeze, 1)
        return n.op("Concat", [conv_relu(s, squeeze, e1, 1), conv_relu(s, squeeze, e3, 3)], axis=1)
    x = pool(conv_relu("x", 3, 64, 3, stride=2, pad=0))
    x = fire(fire(x, 64, 16, 64, 64), 128, 16, 64, 64)
    x = fire(fire(pool(x), 128, 32, 128, 128), 256, 32, 128, 128)
    x = fire(fire(pool(x), 256, 48, 192, 192), 384, 48, 192, 192)
    x = fire(fire(x, 384, 64, 256, 256), 512, 64, 256, 256)
    x = conv_relu(x, 512, 1000, 1)
    x = n.op("Flatten", [n.op("GlobalAveragePool", [x])], axis=1)
    return n.model("squeezenet1_1", [1, 3, 224, 224], x, [1, 1000])


def densenet121(rng):
    n = _Net(rng)
    x = n.conv_bn("x", 3, 64, 7, stride=2, act="relu")
    x = n.op("MaxPool", [x], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    c, growth = 64, 32
    for b, layers in enumerate([6, 12, 24, 16]):
        features = [x]
        for _ in range(layers):
            cin = c + growth * (len(features) - 1)
            y = n.op("Concat", features, axis=1)  # torch.cat(prev_features, 1), one input for the first layer as exported
            y = n.conv(n.act(n.bn(y, cin), "relu"), cin, 4 * growth, 1)
            y = n.conv(n.act(n.bn(y, 4 * growth), "relu"), 4 * growth, growth, 3)
            features.append(y)
        x, c = n.op("Concat", features, axis=1), c + growth * layers
        if b < 3:
            x = n.conv(n.act(n.bn(x, c), "relu"), c, c // 2, 1)
            x, c = n.op("AveragePool", [x], kernel_shape=[2, 2], strides=[2, 2]), c // 2
    x = n.act(n.bn(x, c), "relu")
    return n.model("densenet121", [1, 3, 224, 224], n.head(x, c), [1, 1000])


def mobilenet_v2(rng):
    n = _Net(rng)
    x, c = n.conv_bn("x", 3, 32, 3, stride=2, act="relu6"), 32
    for t, out, repeats, s in [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]:
        for i in range(repeats):
            stride, hidden = s if i == 0 else 1, c * t
            y = x if t == 1 else n.conv_bn(x, c, hidden, 1, act="relu6")
            y = n.conv_bn(y, hidden, hidden, 3, stride=stride, group=hidden, act="relu6")
            y = n.conv_bn(y, hidden, out, 1)
            x = n.op("Add", [x, y]) if stride == 1 and c == out else y
            c = out
    x = n.conv_bn(x, c, 1280, 1, act="relu6")
    return n.model("mobilenet_v2", [1, 3, 224, 224], n.head(x, 1280), [1, 1000])


def _se(n, x, c, squeeze, gate):
    """Squeeze-and-excitation: GlobalAveragePool, 1x1 conv + Relu, 1x1 conv + gate, Mul with the features."""
    s = n.op("Relu", [n.conv(n.op("GlobalAveragePool", [x]), c, squeeze, 1, bias=True)])
    return n.op("Mul", [x, gate(n.conv(s, squeeze, c, 1, bias=True))])


def mobilenet_v3_small(rng):
    n = _Net(rng)
    x, c = n.conv_bn("x", 3, 16, 3, stride=2, act="hardswish"), 16
    hsig = lambda y: n.act(y, "hardsigmoid")
    # torchvision's bneck_conf: kernel, expanded, out, use_se, activation, stride
    for k, exp, out, se, act, stride in [(3, 16, 16, True, "relu", 2), (3, 72, 24, False, "relu", 2), (3, 88, 24, False, "relu", 1),
                                         (5, 96, 40, True, "hardswish", 2), (5, 240, 40, True, "hardswish", 1),
                                         (5, 240, 40, True, "hardswish", 1), (5, 120, 48, True, "hardswish", 1),
                                         (5, 144, 48, True, "hardswish", 1), (5, 288, 96, True, "hardswish", 2),
                                         (5, 576, 96, True, "hardswish", 1), (5, 576, 96, True, "hardswish", 1)]:
        y = x if exp == c else n.conv_bn(x, c, exp, 1, act=act)
        y = n.conv_bn(y, exp, exp, k, stride=stride, group=exp, act=act)
        if se:
            y = _se(n, y, exp, _make_divisible(exp // 4), hsig)
        y = n.conv_bn(y, exp, out, 1)
        x = n.op("Add", [x, y]) if stride == 1 and c == out else y
        c = out
    x = n.conv_bn(x, c, 576, 1, act="hardswish")
    x = n.act(n.head(x, 576, 1024), "hardswish")
    return n.model("mobilenet_v3_small", [1, 3, 224, 224], n.gemm(x, 1024, 1000), [1, 1000], opset=14)


def ocr_det(rng):
    """PP-OCR (ch_ppocr_mobile_v2.0_det) layout: MobileNetV3-large x0.5 backbone, DBFPN neck (96), DB head."""
    n = _Net(rng)
    x, c = n.conv_bn("x", 3, 8, 3, stride=2, act="hardswish"), 8
    hsig = lambda y: n.op("HardSigmoid", [y], alpha=0.2, beta=0.5)  # PaddleOCR's SE gate
    # MobileNetV3-large: kernel, expanded, out, use_se, activation, stride (scaled by 0.5, made divisible by 8)
    cfg = [(3, 16, 16, False, "relu", 1), (3, 64, 24, False, "relu", 2), (3, 72, 24, False, "relu", 1),
           (5, 72, 40, True, "relu", 2), (5, 120, 40, True, "relu", 1), (5, 120, 40, True, "relu", 1),
           (3, 240, 80, False, "hardswish", 2), (3, 200, 80, False, "hardswish", 1), (3, 184, 80, False, "hardswish", 1),
           (3, 184, 80, False, "hardswish", 1), (3, 480, 112, True, "hardswish", 1), (3, 672, 112, True, "hardswish", 1),
           (5, 672, 160, True, "hardswish", 2), (5, 960, 160, True, "hardswish", 1), (5, 960, 160, True, "hardswish", 1)]
    feats = []
    for i, (k, exp, out, se, act, stride) in enumerate(cfg):
        if stride == 2 and i > 2:  # a stage ends before each later stride-2 block: 1/4, 1/8, 1/16
            feats.append((x, c))
        exp, out = _make_divisible(exp * 0.5), _make_divisible(out * 0.5)
        y = n.conv_bn(x, c, exp, 1, act=act)
        y = n.conv_bn(y, exp, exp, k, stride=stride, group=exp, act=act)
        if se:
            y = _se(n, y, exp, exp // 4, hsig)
        y = n.conv_bn(y, exp, out, 1)
        x = n.op("Add", [x, y]) if stride == 1 and c == out else y
        c = out
    feats.append((n.conv_bn(x, c, 480, 1, act="hardswish"), 480))  # 1/32
    roi = n.const("resize_roi", np.zeros(0, np.float32))
    up = lambda y, s: n.op("Resize", [y, roi, n.const(f"resize_x{s}", np.array([1, 1, s, s], np.float32))], mode="nearest",
                           coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    c2, c3, c4, c5 = [n.conv(f, fc, 96, 1) for f, fc in feats]
    out4 = n.op("Add", [c4, up(c5, 2)])
    out3 = n.op("Add", [c3, up(out4, 2)])
    out2 = n.op("Add", [c2, up(out3, 2)])
    p5, p4, p3, p2 = [n.conv(f, 96, 24, 3) for f in (c5, out4, out3, out2)]
    x = n.op("Concat", [up(p5, 8), up(p4, 4), up(p3, 2), p2], axis=1)
    x = n.conv_bn(x, 96, 24, 3, act="relu")
    x = n.op("ConvTranspose", [x, n.param((24, 24, 2, 2), 24), n.const(f"p{n.count}_b", np.zeros(24, np.float32))],
             kernel_shape=[2, 2], strides=[2, 2])
    x = n.act(n.bn(x, 24), "relu")
    x = n.op("ConvTranspose", [x, n.param((24, 1, 2, 2), 24), n.const(f"p{n.count}_b", np.zeros(1, np.float32))],
             kernel_shape=[2, 2], strides=[2, 2])
    return n.model("ocr_det", [1, 3, 640, 640], n.op("Sigmoid", [x]), [1, 1, 640, 640], opset=14, output_name="maps")


def one_relu(rng):
    del rng  # no weights
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 16])
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"], name="relu")], "one_relu", [x], [y])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


MODELS = {"vgg19": vgg19, "shufflenet_v2": shufflenet_v2, "squeezenet1_1": squeezenet1_1, "densenet121": densenet121,
          "mobilenet_v2": mobilenet_v2, "mobilenet_v3_small": mobilenet_v3_small, "ocr_det": ocr_det, "one_relu": one_relu}


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
        onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
        onnx.save(model, path)
        print(f"{path}: {os.path.getsize(path) / 2**20:.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
