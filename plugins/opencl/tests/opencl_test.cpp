// OpenCL plugin tests: one-node graphs against the reference interpreter, the support
// query's refusals, serialize/restore and corrupt blobs. The plugin is loaded through the
// host library like any other; every test skips (with the reason) when no OpenCL device exists.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <future>
#include <thread>

#include "switchyard/hal/device.h"
#include "switchyard/hal/graph_view.h"
#include "switchyard/hal/hash.h"
#include "switchyard/hal/plugin_loader.h"
#include "switchyard/reference/interpreter.h"
#include "switchyard/reference/util.h"

namespace switchyard {
namespace {

struct Env {
  DeviceRegistry registry;
  const Device* device = nullptr;
  std::string why;
};

Env& env() {
  static Env* e = [] {
    auto* e = new Env();
    DiscoveryOptions o;
    o.extra_paths = {SWITCHYARD_PLUGIN_DIR};
    o.use_environment = false;
    o.use_default_paths = false;
    e->registry = DeviceRegistry::discover(o);
    auto d = e->registry.find("opencl:0");
    if (d.ok()) e->device = *d;
    else {
      e->why = d.status().message();
      for (const auto& p : e->registry.plugins())
        if (p->identity().name == "opencl") e->why += " (" + p->diagnostics() + ")";
      for (const auto& f : e->registry.failures()) e->why += " [" + f.name + ": " + f.reason + "]";
    }
    return e;
  }();
  return *e;
}

Tensor random_tensor(Shape shape, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  Tensor t = Tensor::allocate(ElementType::float32, shape);
  uint32_t s = seed * 2654435761u + 12345u;
  float* p = t.mutable_data<float>();
  for (int64_t i = 0; i < t.numel(); ++i) {
    s = s * 1664525u + 1013904223u;
    p[i] = lo + (hi - lo) * static_cast<float>(s >> 8) / static_cast<float>(1u << 24);
  }
  return t;
}

Tensor to_half(const Tensor& f) {
  Tensor t = Tensor::allocate(ElementType::float16, f.shape());
  for (int64_t i = 0; i < f.numel(); ++i) t.mutable_data<uint16_t>()[i] = reference::float_to_half(f.data<float>()[i]);
  return t;
}

Tensor ints(std::vector<int64_t> v) { return Tensor::from_vector<int64_t>(ElementType::int64, {static_cast<int64_t>(v.size())}, v); }
Tensor floats(std::vector<float> v) { return Tensor::from_vector<float>(ElementType::float32, {static_cast<int64_t>(v.size())}, v); }

Attribute attr_i(const std::string& n, int64_t v) {
  Attribute a;
  a.name = n;
  a.type = Attribute::Type::integer;
  a.i = v;
  return a;
}
Attribute attr_f(const std::string& n, float v) {
  Attribute a;
  a.name = n;
  a.type = Attribute::Type::floating;
  a.f = v;
  return a;
}
Attribute attr_is(const std::string& n, std::vector<int64_t> v) {
  Attribute a;
  a.name = n;
  a.type = Attribute::Type::ints;
  a.ints = std::move(v);
  return a;
}
Attribute attr_s(const std::string& n, const std::string& v) {
  Attribute a;
  a.name = n;
  a.type = Attribute::Type::string;
  a.s = v;
  return a;
}

// A small graph builder: runtime inputs carry random data for the test.
struct Builder {
  Graph g;
  std::vector<Tensor> feeds;
  int64_t opset = 17;
  Builder() { g.opsets = {{"", 17}}; }

  int32_t value(const std::string& name, const Shape& s, ElementType e = ElementType::float32) {
    ValueType vt;
    vt.kind = ValueType::Kind::tensor;
    vt.tensor.elem = e;
    std::vector<Dim> dims;
    for (auto d : s) dims.push_back(Dim{d, ""});
    vt.tensor.shape = dims;
    return g.add_value(name, vt);
  }
  int32_t input(const std::string& name, const Shape& s, float lo = -1.0f, float hi = 1.0f) {
    int32_t v = value(name, s);
    g.inputs.push_back(v);
    feeds.push_back(random_tensor(s, static_cast<uint32_t>(feeds.size() + 7 * g.values.size()), lo, hi));
    return v;
  }
  // A float16 runtime input with random values in [lo, hi].
  int32_t input_h(const std::string& name, const Shape& s, float lo = -1.0f, float hi = 1.0f) {
    int32_t v = value(name, s, ElementType::float16);
    g.inputs.push_back(v);
    feeds.push_back(to_half(random_tensor(s, static_cast<uint32_t>(feeds.size() + 7 * g.values.size()), lo, hi)));
    return v;
  }
  int32_t init(const std::string& name, const Tensor& t) {
    int32_t v = value(name, t.shape(), t.type());
    g.initializers[v] = t;
    return v;
  }
  Node& node(const std::string& op, std::vector<int32_t> in, std::vector<int32_t> out, std::vector<Attribute> attrs = {}) {
    Node n;
    n.name = op + std::to_string(g.nodes.size());
    n.op_type = op;
    n.opset = opset;
    n.inputs = std::move(in);
    n.outputs = std::move(out);
    n.attributes = std::move(attrs);
    g.nodes.push_back(std::move(n));
    return g.nodes.back();
  }
  void output(int32_t v) { g.outputs.push_back(v); }
};

// float16 tolerance (docs/opencl.md, "float16"): the kernels compute in float and round
// once to half, the reference computes exactly (double) and rounds once, so results differ
// by at most one half ulp (<= 2u|want|, u = 2^-11 the unit roundoff of float16) plus the
// float32 accumulation error of n terms of magnitude <= s (n * 2^-24 * s), plus 2^-24 (the
// spacing of half subnormals) for results near zero.
struct HalfTol {
  int64_t n = 1;   // accumulation length (terms summed into one output)
  double s = 1.0;  // bound on |term|
};

void expect_close(const Tensor& want, const Tensor& got, const std::string& what, HalfTol ht = {}) {
  ASSERT_EQ(want.shape(), got.shape()) << what;
  ASSERT_EQ(want.type(), got.type()) << what;
  if (want.type() == ElementType::float16 && ht.n > 0) {
    const double u = std::ldexp(1.0, -11);
    for (int64_t i = 0; i < want.numel(); ++i) {
      const double a = reference::half_to_float(want.data<uint16_t>()[i]), b = reference::half_to_float(got.data<uint16_t>()[i]);
      if (std::isnan(a)) {
        ASSERT_TRUE(std::isnan(b)) << what << " element " << i;
        continue;
      }
      const double tol = 2 * u * std::fabs(a) + static_cast<double>(ht.n) * std::ldexp(ht.s, -24) + std::ldexp(1.0, -24);
      ASSERT_LE(std::fabs(a - b), tol) << what << " element " << i << ": reference " << a << ", opencl " << b;
    }
    return;
  }
  if (want.type() != ElementType::float32) {
    ASSERT_EQ(0, std::memcmp(want.raw(), got.raw(), want.byte_size())) << what;
    return;
  }
  const float* a = want.data<float>();
  const float* b = got.data<float>();
  for (int64_t i = 0; i < want.numel(); ++i) {
    const double tol = 1e-5 + 1e-3 * std::fabs(a[i]);
    if (std::isnan(a[i])) {
      ASSERT_TRUE(std::isnan(b[i])) << what << " element " << i;
      continue;
    }
    ASSERT_LE(std::fabs(static_cast<double>(a[i]) - b[i]), tol) << what << " element " << i << ": reference " << a[i] << ", opencl " << b[i];
  }
}

std::vector<Tensor> run_device(const Executable& exe, const Device& d, const std::vector<Tensor>& feeds, const ExecuteControl& control = {}) {
  std::vector<DeviceTensor> in;
  for (const auto& t : feeds) {
    auto u = upload(d, t);
    EXPECT_TRUE(u.ok()) << u.status().message();
    in.push_back(*u);
  }
  auto out = exe.execute(in, control);
  EXPECT_TRUE(out.ok()) << out.status().message();
  std::vector<Tensor> r;
  if (!out.ok()) return r;
  for (const auto& o : *out) {
    auto t = download(o);
    EXPECT_TRUE(t.ok()) << t.status().message();
    r.push_back(*t);
  }
  return r;
}

// Compiles on opencl:0, checks every node is claimed, runs and compares with the reference.
void check(Builder& b, const std::string& what, std::vector<HalfTol> ht = {HalfTol{}}) {
  const Device& d = *env().device;
  GraphView view(b.g);
  auto support = d.query_support(view);
  ASSERT_TRUE(support.ok()) << support.status().message();
  for (size_t i = 0; i < support->size(); ++i) ASSERT_TRUE((*support)[i].supported()) << what << ": " << (*support)[i].message;
  auto exe = d.compile(view);
  ASSERT_TRUE(exe.ok()) << what << ": " << exe.status().message();
  reference::Interpreter interp;
  std::vector<Value> in;
  for (const auto& t : b.feeds) in.push_back(Value::of(t));
  auto want = interp.run(b.g, in);
  ASSERT_TRUE(want.ok()) << want.status().message();
  auto got = run_device(**exe, d, b.feeds);
  ASSERT_EQ(got.size(), want->size());
  for (size_t i = 0; i < got.size(); ++i)
    expect_close((*want)[i].tensor, got[i], what + " output " + std::to_string(i), ht.size() == got.size() ? ht[i] : ht.at(0));
}

class OpenCL : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!env().device) GTEST_SKIP() << "no OpenCL device: " << env().why;
  }
};

// --- elementwise ---

void unary_case(const std::string& op, std::vector<Attribute> attrs = {}, float lo = -3, float hi = 3) {
  Builder b;
  int32_t x = b.input("x", {2, 3, 5}, lo, hi), y = b.value("y", {2, 3, 5});
  b.node(op, {x}, {y}, std::move(attrs));
  b.output(y);
  check(b, op);
}

TEST_F(OpenCL, Activations) {
  unary_case("Relu");
  unary_case("Sigmoid");
  unary_case("Tanh");
  unary_case("HardSigmoid", {attr_f("alpha", 0.3f), attr_f("beta", 0.4f)});
  unary_case("HardSwish");
  unary_case("LeakyRelu", {attr_f("alpha", 0.2f)});
  unary_case("Exp");
  unary_case("Abs");
  unary_case("Neg");
  unary_case("Sqrt", {}, 0.1f, 4.0f);
  unary_case("Log", {}, 0.1f, 4.0f);
  unary_case("Elu", {attr_f("alpha", 0.7f)});
  unary_case("Erf");
  unary_case("Softplus");
}

TEST_F(OpenCL, ClipWithConstantBounds) {
  Builder b;
  int32_t x = b.input("x", {4, 6}, -2, 2), lo = b.init("lo", Tensor::scalar<float>(ElementType::float32, -0.5f)),
          hi = b.init("hi", Tensor::scalar<float>(ElementType::float32, 0.75f)), y = b.value("y", {4, 6});
  b.node("Clip", {x, lo, hi}, {y});
  b.output(y);
  check(b, "Clip");
}

TEST_F(OpenCL, BroadcastingBinaryOps) {
  for (const char* op : {"Add", "Sub", "Mul", "Div", "Max", "Min"}) {
    Builder b;
    int32_t a = b.input("a", {2, 3, 4}, 0.5f, 2.0f), c = b.input("c", {3, 1}, 0.5f, 2.0f), y = b.value("y", {2, 3, 4});
    b.node(op, {a, c}, {y});
    b.output(y);
    check(b, op);
  }
  Builder b;
  int32_t a = b.input("a", {2, 3, 4}), c = b.input("c", {4}), d = b.input("d", {2, 1, 1}), y = b.value("y", {2, 3, 4});
  b.node("Sum", {a, c, d}, {y});
  b.output(y);
  check(b, "Sum of three");
  Builder p;
  int32_t x = p.input("x", {1, 3, 2, 2}), s = p.init("slope", random_tensor({3, 1, 1}, 3, 0, 1)), z = p.value("z", {1, 3, 2, 2});
  p.node("PRelu", {x, s}, {z});
  p.output(z);
  check(p, "PRelu");
}

// --- convolution ---

void conv_case(const std::string& what, Shape x, Shape w, Shape y, std::vector<Attribute> attrs, bool bias) {
  Builder b;
  int32_t xi = b.input("x", x), wi = b.init("w", random_tensor(w, 11)), yi = b.value("y", y);
  std::vector<int32_t> in = {xi, wi};
  if (bias) in.push_back(b.init("b", random_tensor({w[0]}, 12)));
  b.node("Conv", in, {yi}, std::move(attrs));
  b.output(yi);
  check(b, what);
}

TEST_F(OpenCL, Convolutions) {
  conv_case("3x3 pad 1", {1, 3, 8, 8}, {4, 3, 3, 3}, {1, 4, 8, 8}, {attr_is("pads", {1, 1, 1, 1})}, true);
  conv_case("strided", {2, 3, 9, 7}, {5, 3, 3, 3}, {2, 5, 4, 3}, {attr_is("strides", {2, 2})}, false);
  conv_case("dilated asymmetric pads", {1, 2, 10, 10}, {3, 2, 3, 3}, {1, 3, 8, 7},
            {attr_is("dilations", {2, 2}), attr_is("pads", {1, 0, 1, 1})}, true);
  conv_case("grouped", {1, 4, 6, 6}, {6, 2, 3, 3}, {1, 6, 4, 4}, {attr_i("group", 2)}, true);
  conv_case("depthwise", {1, 4, 6, 6}, {4, 1, 3, 3}, {1, 4, 6, 6}, {attr_i("group", 4), attr_is("pads", {1, 1, 1, 1})}, false);
  conv_case("auto_pad SAME_UPPER strided", {1, 2, 7, 7}, {2, 2, 3, 3}, {1, 2, 4, 4},
            {attr_s("auto_pad", "SAME_UPPER"), attr_is("strides", {2, 2})}, false);
  conv_case("auto_pad SAME_LOWER", {1, 2, 6, 6}, {2, 2, 2, 2}, {1, 2, 6, 6}, {attr_s("auto_pad", "SAME_LOWER")}, false);
  conv_case("1-D", {1, 2, 12}, {3, 2, 3}, {1, 3, 5}, {attr_is("strides", {2}), attr_is("pads", {0, 0})}, true);
  conv_case("1x1", {1, 8, 5, 5}, {16, 8, 1, 1}, {1, 16, 5, 5}, {}, true);
  conv_case("1x1 contiguous, channels not a multiple of the vector", {2, 6, 4, 4}, {13, 6, 1, 1}, {2, 13, 4, 4}, {}, true);
  conv_case("7x7 stride 2 pad 3", {1, 3, 17, 15}, {9, 3, 7, 7}, {1, 9, 9, 8}, {attr_is("strides", {2, 2}), attr_is("pads", {3, 3, 3, 3})}, true);
  conv_case("grouped, 12 channels per group", {1, 6, 5, 5}, {24, 3, 3, 3}, {1, 24, 3, 3}, {attr_i("group", 2)}, false);
  conv_case("depthwise strided dilated", {2, 5, 11, 13}, {5, 1, 3, 3}, {2, 5, 5, 6},
            {attr_i("group", 5), attr_is("strides", {2, 2}), attr_is("dilations", {2, 1}), attr_is("pads", {1, 1, 1, 0})}, true);
  conv_case("depthwise multiplier 2", {1, 3, 6, 6}, {6, 1, 3, 3}, {1, 6, 6, 6}, {attr_i("group", 3), attr_is("pads", {1, 1, 1, 1})}, true);
  {  // weights as a runtime input: the direct kernel
    Builder b;
    int32_t x = b.input("x", {1, 4, 7, 7}), w = b.input("w", {5, 4, 3, 3}), y = b.value("y", {1, 5, 5, 5});
    b.node("Conv", {x, w}, {y});
    b.output(y);
    check(b, "Conv with runtime weights");
  }
}

// --- matrix products ---

TEST_F(OpenCL, GemmAndMatMul) {
  {
    Builder b;
    int32_t a = b.input("a", {5, 7}), w = b.init("w", random_tensor({9, 7}, 4)), c = b.init("c", random_tensor({9}, 5)), y = b.value("y", {5, 9});
    b.node("Gemm", {a, w, c}, {y}, {attr_i("transB", 1), attr_f("alpha", 0.5f), attr_f("beta", 2.0f)});
    b.output(y);
    check(b, "Gemm transB");
  }
  {
    Builder b;
    int32_t a = b.input("a", {20, 17}), w = b.input("w", {20, 33}), y = b.value("y", {17, 33});
    b.node("Gemm", {a, w}, {y}, {attr_i("transA", 1)});
    b.output(y);
    check(b, "Gemm transA no C");
  }
  {
    Builder b;
    int32_t a = b.input("a", {2, 3, 4, 5}), w = b.init("w", random_tensor({5, 6}, 6)), y = b.value("y", {2, 3, 4, 6});
    b.node("MatMul", {a, w}, {y});
    b.output(y);
    check(b, "MatMul batch x matrix");
  }
  {
    Builder b;
    int32_t a = b.input("a", {3, 4}), w = b.input("w", {2, 4, 5}), y = b.value("y", {2, 3, 5});
    b.node("MatMul", {a, w}, {y});
    b.output(y);
    check(b, "MatMul matrix x batch");
  }
  {
    Builder b;
    int32_t a = b.input("a", {4}), w = b.input("w", {4, 3}), y = b.value("y", {3});
    b.node("MatMul", {a, w}, {y});
    b.output(y);
    check(b, "MatMul vector x matrix");
  }
}

TEST_F(OpenCL, GemmTilesAndEdges) {
  {  // packed constant B (transposed), tails in both dimensions, C broadcast along rows
    Builder b;
    int32_t a = b.input("a", {19, 37}), w = b.init("w", random_tensor({29, 37}, 8)), c = b.init("c", random_tensor({19, 1}, 9)),
            y = b.value("y", {19, 29});
    b.node("Gemm", {a, w, c}, {y}, {attr_i("transB", 1)});
    b.output(y);
    check(b, "Gemm packed transB with tails");
  }
  {  // runtime B, contiguous vector loads
    Builder b;
    int32_t a = b.input("a", {3, 9, 24}), w = b.input("w", {3, 24, 16}), y = b.value("y", {3, 9, 16});
    b.node("MatMul", {a, w}, {y});
    b.output(y);
    check(b, "batched MatMul, runtime B");
  }
}

// --- float16 (loads/stores as half, arithmetic in float) ---

TEST_F(OpenCL, Float16ComputeKernels) {
  {
    Builder b;
    int32_t x = b.input_h("x", {1, 4, 9, 9}), w = b.init("w", to_half(random_tensor({10, 4, 3, 3}, 41))),
            bias = b.init("b", to_half(random_tensor({10}, 42))), y = b.value("y", {1, 10, 9, 9}, ElementType::float16);
    b.node("Conv", {x, w, bias}, {y}, {attr_is("pads", {1, 1, 1, 1})});
    b.output(y);
    check(b, "float16 Conv 3x3 (tiled)", {{4 * 9 + 1, 1.0}});
  }
  {
    Builder b;
    int32_t x = b.input_h("x", {1, 3, 8, 8}), w = b.init("w", to_half(random_tensor({3, 1, 3, 3}, 43))),
            y = b.value("y", {1, 3, 8, 8}, ElementType::float16);
    b.node("Conv", {x, w}, {y}, {attr_i("group", 3), attr_is("pads", {1, 1, 1, 1})});
    b.output(y);
    check(b, "float16 depthwise Conv", {{9, 1.0}});
  }
  {
    Builder b;
    int32_t x = b.input_h("x", {1, 2, 6, 6}), w = b.input_h("w", {3, 2, 3, 3}), y = b.value("y", {1, 3, 4, 4}, ElementType::float16);
    b.node("Conv", {x, w}, {y});
    b.output(y);
    check(b, "float16 Conv, runtime weights (direct)", {{18, 1.0}});
  }
  {
    Builder b;
    int32_t a = b.input_h("a", {7, 20}), w = b.init("w", to_half(random_tensor({20, 11}, 44))), c = b.init("c", to_half(random_tensor({11}, 45))),
            y = b.value("y", {7, 11}, ElementType::float16);
    b.node("Gemm", {a, w, c}, {y});
    b.output(y);
    check(b, "float16 Gemm packed B", {{21, 1.0}});
  }
  {
    Builder b;
    int32_t a = b.input_h("a", {2, 5, 12}), w = b.input_h("w", {12, 8}), y = b.value("y", {2, 5, 8}, ElementType::float16);
    b.node("MatMul", {a, w}, {y});
    b.output(y);
    check(b, "float16 MatMul runtime B", {{12, 1.0}});
  }
  {
    Builder b;
    int32_t x = b.input_h("x", {2, 3, 8, 8}, -3, 3), s = b.init("s", to_half(random_tensor({3}, 1))), bb = b.init("bb", to_half(random_tensor({3}, 2))),
            m = b.init("m", to_half(random_tensor({3}, 3))), v = b.init("v", to_half(random_tensor({3}, 4, 0.5f, 2.0f))),
            n = b.value("n", {2, 3, 8, 8}, ElementType::float16), r = b.value("r", {2, 3, 8, 8}, ElementType::float16),
            c = b.input_h("c", {3, 1, 1}), a = b.value("a", {2, 3, 8, 8}, ElementType::float16),
            mp = b.value("mp", {2, 3, 4, 4}, ElementType::float16), ap = b.value("ap", {2, 3, 4, 4}, ElementType::float16),
            sm = b.value("sm", {2, 3, 4, 4}, ElementType::float16), rm = b.value("rm", {2, 3, 1, 1}, ElementType::float16),
            pads = b.init("pads", ints({0, 0, 1, 1, 0, 0, 1, 1})), pd = b.value("pd", {2, 3, 10, 10}, ElementType::float16),
            roi = b.init("roi", floats({})), sc = b.init("sc", floats({1, 1, 2, 2})), rs = b.value("rs", {2, 3, 8, 8}, ElementType::float16),
            sg = b.value("sg", {2, 3, 8, 8}, ElementType::float16);
    b.node("BatchNormalization", {x, s, bb, m, v}, {n});
    b.node("Relu", {n}, {r});
    b.node("Add", {r, c}, {a});
    b.node("MaxPool", {a}, {mp}, {attr_is("kernel_shape", {2, 2}), attr_is("strides", {2, 2})});
    b.node("AveragePool", {a}, {ap}, {attr_is("kernel_shape", {2, 2}), attr_is("strides", {2, 2})});
    b.node("Softmax", {ap}, {sm}, {attr_i("axis", 1)});
    b.node("ReduceMean", {a}, {rm}, {attr_is("axes", {2, 3})});
    b.node("Pad", {x, pads}, {pd}, {attr_s("mode", "reflect")});
    b.node("Resize", {mp, roi, sc}, {rs}, {attr_s("mode", "linear")});
    b.node("Sigmoid", {x}, {sg});
    for (int32_t o : {n, r, a, mp, pd, sg, ap, rm, sm, rs}) b.output(o);
    // Elementwise results: one rounding from float16 inputs (n = 1). Averages, sums and
    // interpolation: up to 64 terms of magnitude <= 4.
    const HalfTol one{1, 1.0}, sum{64, 4.0};
    check(b, "float16 elementwise, pooling, normalisation, pad, reductions, resize", {one, one, one, one, one, one, sum, sum, sum, sum});
  }
}

// --- Cast ---

TEST_F(OpenCL, CastBetweenTypes) {
  Builder b;
  int32_t x = b.input("x", {4, 33}, -300, 300);
  auto cast = [&](int32_t from, ElementType to, const std::string& name) {
    int32_t y = b.value(name, {4, 33}, to);
    b.node("Cast", {from}, {y}, {attr_i("to", static_cast<int64_t>(to))});
    b.output(y);
    return y;
  };
  int32_t i32 = cast(x, ElementType::int32, "i32");  // truncation toward zero
  cast(i32, ElementType::int8, "i8");                 // int -> int wraps
  cast(x, ElementType::uint8, "u8");                  // float -> uint8 wraps
  int32_t h = cast(x, ElementType::float16, "h");     // one rounding
  cast(h, ElementType::float32, "h_f");
  cast(h, ElementType::int64, "h_l");
  int32_t l = cast(i32, ElementType::int64, "l");
  cast(l, ElementType::float16, "l_h");
  int32_t bo = cast(x, ElementType::boolean, "bo");
  cast(bo, ElementType::float32, "bo_f");
  cast(x, ElementType::float32, "same");  // an alias
  {
    int32_t like = b.init("like", Tensor::from_vector<int64_t>(ElementType::int64, {1}, {0})), y = b.value("cl", {4, 33}, ElementType::int64);
    b.node("CastLike", {h, like}, {y});
    b.output(y);
  }
  check(b, "Cast chain", {{0, 0.0}});  // n = 0: every float16 result must be bit-exact
  Builder r;
  int32_t d = r.value("d", {2}, ElementType::float64), e = r.value("e", {2}, ElementType::float32);
  r.g.inputs.push_back(d);
  r.node("Cast", {d}, {e}, {attr_i("to", static_cast<int64_t>(ElementType::float32))});
  r.output(e);
  GraphView rv(r.g);
  auto rs = env().device->query_support(rv);
  ASSERT_TRUE(rs.ok());
  EXPECT_EQ((*rs)[0].reason, SupportReason::element_type) << (*rs)[0].message;
}

// --- pooling and normalisation ---

TEST_F(OpenCL, Pooling) {
  {
    Builder b;
    int32_t x = b.input("x", {1, 2, 9, 9}), y = b.value("y", {1, 2, 5, 5});
    b.node("MaxPool", {x}, {y}, {attr_is("kernel_shape", {3, 3}), attr_is("strides", {2, 2}), attr_is("pads", {1, 1, 1, 1})});
    b.output(y);
    check(b, "MaxPool 3x3/2 pad 1");
  }
  for (int count_pad = 0; count_pad < 2; ++count_pad) {
    Builder b;
    int32_t x = b.input("x", {1, 2, 8, 8}), y = b.value("y", {1, 2, 5, 5});
    b.node("AveragePool", {x}, {y},
           {attr_is("kernel_shape", {3, 3}), attr_is("strides", {2, 2}), attr_is("pads", {1, 1, 1, 1}), attr_i("ceil_mode", 1),
            attr_i("count_include_pad", count_pad)});
    b.output(y);
    check(b, "AveragePool ceil count_include_pad=" + std::to_string(count_pad));
  }
  {
    Builder b;
    int32_t x = b.input("x", {2, 3, 7, 5}), y = b.value("y", {2, 3, 1, 1});
    b.node("GlobalAveragePool", {x}, {y});
    b.output(y);
    check(b, "GlobalAveragePool");
  }
}

TEST_F(OpenCL, BatchNormalization) {
  Builder b;
  int32_t x = b.input("x", {2, 3, 4, 4}), s = b.init("s", random_tensor({3}, 1)), bb = b.init("b", random_tensor({3}, 2)),
          m = b.init("m", random_tensor({3}, 3)), v = b.init("v", random_tensor({3}, 4, 0.5f, 2.0f)), y = b.value("y", {2, 3, 4, 4});
  b.node("BatchNormalization", {x, s, bb, m, v}, {y}, {attr_f("epsilon", 1e-3f)});
  b.output(y);
  check(b, "BatchNormalization");
}

TEST_F(OpenCL, SoftmaxAndReductions) {
  {
    Builder b;
    int32_t x = b.input("x", {2, 3, 7}, -5, 5), y = b.value("y", {2, 3, 7});
    b.node("Softmax", {x}, {y}, {attr_i("axis", 1)});
    b.output(y);
    check(b, "Softmax axis 1");
  }
  {
    Builder b;
    b.opset = 11;
    int32_t x = b.input("x", {2, 3, 4}, -5, 5), y = b.value("y", {2, 3, 4});
    b.node("LogSoftmax", {x}, {y}, {attr_i("axis", 1)});
    b.output(y);
    check(b, "LogSoftmax opset 11 (coerced to 2-D)");
  }
  {
    Builder b;
    int32_t x = b.input("x", {2, 3, 4, 5}), y = b.value("y", {2, 3, 1, 1});
    b.node("ReduceMean", {x}, {y}, {attr_is("axes", {2, 3})});
    b.output(y);
    check(b, "ReduceMean spatial");
  }
  {
    Builder b;
    int32_t x = b.input("x", {2, 3, 4}), ax = b.init("axes", ints({0, 2})), y = b.value("y", {3});
    b.node("ReduceSum", {x, ax}, {y}, {attr_i("keepdims", 0)});
    b.output(y);
    check(b, "ReduceSum axes input keepdims 0");
  }
  {
    Builder b;
    int32_t x = b.input("x", {3, 4}), y = b.value("y", {1, 1});
    b.node("ReduceMax", {x}, {y});
    b.output(y);
    check(b, "ReduceMax all");
  }
}

// --- data movement ---

TEST_F(OpenCL, ConcatSplitSliceTranspose) {
  {
    Builder b;
    int32_t a = b.input("a", {2, 3, 4}), c = b.input("c", {2, 1, 4}), y = b.value("y", {2, 4, 4});
    b.node("Concat", {a, c}, {y}, {attr_i("axis", 1)});
    b.output(y);
    check(b, "Concat");
  }
  {
    Builder b;
    int32_t x = b.input("x", {2, 6}), s = b.init("split", ints({1, 5})), y0 = b.value("y0", {2, 1}), y1 = b.value("y1", {2, 5});
    b.node("Split", {x, s}, {y0, y1}, {attr_i("axis", 1)});
    b.output(y0);
    b.output(y1);
    check(b, "Split");
  }
  {
    Builder b;
    int32_t x = b.input("x", {5, 6, 7}), st = b.init("starts", ints({4, 1})), en = b.init("ends", ints({0, 100})),
            ax = b.init("axes", ints({0, 2})), sp = b.init("steps", ints({-2, 3})), y = b.value("y", {2, 6, 2});
    b.node("Slice", {x, st, en, ax, sp}, {y});
    b.output(y);
    check(b, "Slice negative step");
  }
  {
    Builder b;
    int32_t x = b.input("x", {2, 3, 4, 5}), y = b.value("y", {4, 2, 5, 3});
    b.node("Transpose", {x}, {y}, {attr_is("perm", {2, 0, 3, 1})});
    b.output(y);
    check(b, "Transpose");
  }
}

TEST_F(OpenCL, ReshapeFamilyIsNoCopy) {
  Builder b;
  int32_t x = b.input("x", {2, 3, 4}), shp = b.init("shape", ints({6, 4})), r = b.value("r", {6, 4}), f = b.value("f", {6, 4}),
          y = b.value("y", {6, 4}), u = b.value("u", {1, 6, 4}), ax = b.init("axes", ints({0}));
  b.node("Reshape", {x, shp}, {r});
  b.node("Relu", {r}, {y});
  b.node("Flatten", {y}, {f});
  b.node("Unsqueeze", {f, ax}, {u});
  b.output(u);
  b.output(y);
  check(b, "Reshape/Relu/Flatten/Unsqueeze");
}

TEST_F(OpenCL, GatherPadResize) {
  {
    Builder b;
    int32_t x = b.input("x", {3, 5, 2}), i = b.init("i", Tensor::from_vector<int64_t>(ElementType::int64, {2, 2}, {4, -1, 0, 2})),
            y = b.value("y", {3, 2, 2, 2});
    b.node("Gather", {x, i}, {y}, {attr_i("axis", 1)});
    b.output(y);
    check(b, "Gather axis 1");
  }
  for (const char* mode : {"constant", "edge", "reflect"}) {
    Builder b;
    int32_t x = b.input("x", {1, 2, 4, 5}), p = b.init("pads", ints({0, 0, 2, 1, 0, 0, 1, 3})),
            v = b.init("v", Tensor::scalar<float>(ElementType::float32, 0.25f)), y = b.value("y", {1, 2, 7, 9});
    b.node("Pad", {x, p, v}, {y}, {attr_s("mode", mode)});
    b.output(y);
    check(b, std::string("Pad ") + mode);
  }
  {
    Builder b;
    int32_t x = b.input("x", {1, 2, 3, 4}), roi = b.init("roi", floats({})), sc = b.init("scales", floats({1, 1, 2, 2})),
            y = b.value("y", {1, 2, 6, 8});
    b.node("Resize", {x, roi, sc}, {y}, {attr_s("mode", "nearest")});
    b.output(y);
    check(b, "Resize nearest x2");
  }
  {
    Builder b;
    int32_t x = b.input("x", {1, 2, 4, 4}), roi = b.init("roi", floats({})), sc = b.init("scales", floats({})),
            sz = b.init("sizes", ints({1, 2, 7, 5})), y = b.value("y", {1, 2, 7, 5});
    b.node("Resize", {x, roi, sc, sz}, {y}, {attr_s("mode", "linear")});
    b.output(y);
    check(b, "Resize linear half_pixel to sizes");
  }
  {
    Builder b;
    int32_t x = b.input("x", {1, 1, 3, 3}), roi = b.init("roi", floats({})), sc = b.init("scales", floats({1, 1, 2, 1.5f})),
            y = b.value("y", {1, 1, 6, 4});
    b.node("Resize", {x, roi, sc}, {y}, {attr_s("mode", "linear"), attr_s("coordinate_transformation_mode", "align_corners")});
    b.output(y);
    check(b, "Resize linear align_corners");
  }
}

// A small network: intermediates share slots, an output is an alias, another feeds a later node.
Builder small_network() {
  Builder b;
  int32_t x = b.input("x", {1, 3, 8, 8}), w1 = b.init("w1", random_tensor({8, 3, 3, 3}, 21)), c1 = b.value("c1", {1, 8, 8, 8}),
          r1 = b.value("r1", {1, 8, 8, 8}), w2 = b.init("w2", random_tensor({8, 8, 3, 3}, 22)), c2 = b.value("c2", {1, 8, 8, 8}),
          s = b.value("s", {1, 8, 8, 8}), p = b.value("p", {1, 8, 1, 1}), f = b.value("f", {1, 8}), wf = b.init("wf", random_tensor({8, 4}, 23)),
          o = b.value("o", {1, 4}), sm = b.value("sm", {1, 4});
  b.node("Conv", {x, w1}, {c1}, {attr_is("pads", {1, 1, 1, 1})});
  b.node("Relu", {c1}, {r1});
  b.node("Conv", {r1, w2}, {c2}, {attr_is("pads", {1, 1, 1, 1})});
  b.node("Add", {c2, r1}, {s});
  b.node("GlobalAveragePool", {s}, {p});
  b.node("Flatten", {p}, {f});
  b.node("MatMul", {f, wf}, {o});
  b.node("Softmax", {o}, {sm});
  b.output(sm);
  b.output(f);
  b.output(r1);
  return b;
}

TEST_F(OpenCL, SmallNetwork) {
  Builder b = small_network();
  check(b, "small network");
}

// --- support query ---

TEST_F(OpenCL, SupportQueryRefusesPrecisely) {
  Builder b;
  ValueType dyn;
  dyn.kind = ValueType::Kind::tensor;
  dyn.tensor.elem = ElementType::float32;
  dyn.tensor.shape = std::vector<Dim>{Dim{-1, "N"}, Dim{3, ""}};
  int32_t x = b.g.add_value("x_dyn", dyn), y = b.g.add_value("y_dyn", dyn);
  b.g.inputs.push_back(x);
  b.node("Relu", {x}, {y});
  int32_t i = b.value("i", {4}, ElementType::int32);
  b.g.inputs.push_back(i);
  int32_t j = b.value("j", {4}, ElementType::int32);
  b.node("Relu", {i}, {j});
  int32_t r = b.input("r", {1, 1, 2, 2}), sc = b.init("sc", floats({1, 1, 2, 2})), roi = b.init("roi", floats({})), rz = b.value("rz", {1, 1, 4, 4});
  b.node("Resize", {r, roi, sc}, {rz}, {attr_s("mode", "cubic")});
  int32_t t = b.value("t", {1, 1, 2, 2});
  b.node("LpNormalization", {r}, {t});
  b.output(y);
  GraphView view(b.g);
  auto s = env().device->query_support(view);
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ((*s)[0].reason, SupportReason::shape);
  EXPECT_NE((*s)[0].message.find("x_dyn"), std::string::npos) << (*s)[0].message;
  EXPECT_NE((*s)[0].message.find("'N'"), std::string::npos) << (*s)[0].message;
  EXPECT_EQ((*s)[1].reason, SupportReason::element_type) << (*s)[1].message;
  EXPECT_EQ((*s)[2].reason, SupportReason::attribute) << (*s)[2].message;
  EXPECT_NE((*s)[2].message.find("cubic"), std::string::npos) << (*s)[2].message;
  EXPECT_EQ((*s)[3].reason, SupportReason::op) << (*s)[3].message;
  // compile refuses naming the node
  auto exe = env().device->compile(view);
  ASSERT_FALSE(exe.ok());
  EXPECT_EQ(exe.status().code(), StatusCode::unsupported);
}

// --- serialization ---

Builder conv_net(uint32_t weight_seed = 31) {
  Builder b;
  int32_t x = b.input("x", {1, 3, 8, 8}), w = b.init("w", random_tensor({4, 3, 3, 3}, weight_seed)), c = b.value("c", {1, 4, 8, 8}),
          y = b.value("y", {1, 4, 4, 4});
  b.node("Conv", {x, w}, {c}, {attr_is("pads", {1, 1, 1, 1})});
  b.node("MaxPool", {c}, {y}, {attr_is("kernel_shape", {2, 2}), attr_is("strides", {2, 2})});
  b.output(y);
  return b;
}

// The bytes of `view` compiled on `d` and serialized.
Result<std::vector<uint8_t>> compiled_bytes(const Device& d, const GraphView& view) {
  SY_ASSIGN_OR_RETURN(auto exe, d.compile(view));
  return exe->serialize();
}

TEST_F(OpenCL, SerializeRestoreRoundTrip) {
  Builder b = conv_net();
  const Device& d = *env().device;
  GraphView view(b.g);
  auto exe = d.compile(view);
  ASSERT_TRUE(exe.ok()) << exe.status().message();
  auto bytes = (*exe)->serialize();
  ASSERT_TRUE(bytes.ok()) << bytes.status().message();
  auto restored = d.restore(view, bytes->data(), bytes->size());
  ASSERT_TRUE(restored.ok()) << restored.status().message();
  auto a = run_device(**exe, d, b.feeds), r = run_device(**restored, d, b.feeds);
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(r.size(), 1u);
  ASSERT_EQ(a[0].byte_size(), r[0].byte_size());
  EXPECT_EQ(0, std::memcmp(a[0].raw(), r[0].raw(), a[0].byte_size()));
  // Restored executables serialize to the same bytes.
  auto again = (*restored)->serialize();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *bytes);
}

TEST_F(OpenCL, CorruptOrForeignBlobsAreRefused) {
  Builder b = conv_net();
  const Device& d = *env().device;
  GraphView view(b.g);
  auto bytes = compiled_bytes(d, view);
  ASSERT_TRUE(bytes.ok()) << bytes.status().message();
  std::vector<std::vector<uint8_t>> bad;
  bad.push_back({});
  bad.push_back({'n', 'o', 't', ' ', 'o', 'u', 'r', 's'});
  bad.push_back(std::vector<uint8_t>(bytes->begin(), bytes->begin() + static_cast<long>(bytes->size() / 2)));
  for (size_t pos : {size_t{9}, size_t{40}, bytes->size() / 2, bytes->size() - 1}) {
    auto flipped = *bytes;
    flipped[pos] ^= 0x5a;
    bad.push_back(flipped);
  }
  for (size_t k = 0; k < bad.size(); ++k) {
    auto r = d.restore(view, bad[k].data(), bad[k].size());
    ASSERT_FALSE(r.ok()) << "blob " << k;
    EXPECT_EQ(r.status().code(), StatusCode::data_loss) << "blob " << k << ": " << r.status().message();
  }
  // The right bytes for another graph are refused too.
  Builder other;
  int32_t x = other.input("x", {4}), y = other.value("y", {4});
  other.node("Relu", {x}, {y});
  other.output(y);
  GraphView ov(other.g);
  auto r = d.restore(ov, bytes->data(), bytes->size());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::data_loss) << r.status().message();
}

// A one-node graph of `op` on a [2, 8] input.
Builder unary_net(const std::string& op, std::vector<Attribute> attrs = {}, Shape shape = {2, 8}) {
  Builder b;
  int32_t x = b.input("x", shape), y = b.value("y", shape);
  b.node(op, {x}, {y}, std::move(attrs));
  b.output(y);
  return b;
}

// Clip with initializer bounds: lowering bakes their values into the kernel's build options.
Builder clip_net(float hi) {
  Builder b;
  int32_t x = b.input("x", {2, 8}, -2, 2), lo = b.init("lo", Tensor::scalar<float>(ElementType::float32, -0.5f)),
          h = b.init("hi", Tensor::scalar<float>(ElementType::float32, hi)), y = b.value("y", {2, 8});
  b.node("Clip", {x, lo, h}, {y});
  b.output(y);
  return b;
}

// What restoring `compiled`'s serialized bytes against `other`'s graph answers.
Status restore_other(const Builder& compiled, const Builder& other) {
  const Device& d = *env().device;
  GraphView cv(compiled.g), ov(other.g);
  SY_ASSIGN_OR_RETURN(auto bytes, compiled_bytes(d, cv));
  auto restored = d.restore(ov, bytes.data(), bytes.size());
  return restored.ok() ? Status() : restored.status();
}

// Bytes of another graph of the same size (one node, one input, one output) are refused, and
// the message names what differs.
TEST_F(OpenCL, RestoreRefusesAnotherGraphNamingWhatDiffers) {
  struct Case {
    std::string what;
    Builder compiled, other;
    std::string named;
  };
  std::vector<Case> cases;
  cases.push_back({"another operator", unary_net("Relu"), unary_net("Sigmoid"), "node 0 is Sigmoid in this graph, Relu in the compiled one"});
  cases.push_back({"another attribute", unary_net("LeakyRelu", {attr_f("alpha", 0.1f)}), unary_net("LeakyRelu", {attr_f("alpha", 0.2f)}),
                   "attributes"});
  cases.push_back({"another shape", unary_net("Relu", {}, {2, 8}), unary_net("Relu", {}, {4, 4}), "value types and shapes"});
  cases.push_back({"another baked initializer value", clip_net(0.75f), clip_net(0.5f), "initializer values the kernels were specialised on"});
  for (const Case& c : cases) {
    Status st = restore_other(c.compiled, c.other);
    EXPECT_EQ(st.code(), StatusCode::data_loss) << c.what << ": " << st.to_string();
    EXPECT_NE(st.message().find("compiled for another graph"), std::string::npos) << c.what << ": " << st.message();
    EXPECT_NE(st.message().find(c.named), std::string::npos) << c.what << ": " << st.message();
  }
}

// Weights are not baked into the bytes: the same graph with other weights restores and computes
// with the weights it was restored with.
TEST_F(OpenCL, RestoreTakesTheWeightsOfTheGraphItIsGiven) {
  Builder compiled = conv_net(31), reweighted = conv_net(32);
  const Device& d = *env().device;
  GraphView cv(compiled.g), rv(reweighted.g);
  auto bytes = compiled_bytes(d, cv);
  ASSERT_TRUE(bytes.ok()) << bytes.status().message();
  auto restored = d.restore(rv, bytes->data(), bytes->size());
  ASSERT_TRUE(restored.ok()) << restored.status().message();
  reference::Interpreter interp;
  auto want = interp.run(reweighted.g, {Value::of(reweighted.feeds.at(0))});
  ASSERT_TRUE(want.ok()) << want.status().message();
  auto got = run_device(**restored, d, reweighted.feeds);
  ASSERT_EQ(got.size(), 1u);
  expect_close(want->at(0).tensor, got[0], "restored with other weights");
}

// Bytes of an older format (version 2: no graph fingerprint), checksum intact, are refused as
// data loss naming both versions: the plan cache then removes the entry and compiles again.
TEST_F(OpenCL, OlderFormatVersionIsRefused) {
  Builder b = conv_net();
  const Device& d = *env().device;
  GraphView view(b.g);
  auto bytes = compiled_bytes(d, view);
  ASSERT_TRUE(bytes.ok()) << bytes.status().message();
  std::vector<uint8_t> old = *bytes;
  const size_t version_at = 8, checksum_at = old.size() - 16;  // after the 8-byte magic; the last 16 bytes
  ASSERT_EQ(old[version_at], 3) << "the format version this test was written against";
  old[version_at] = 2;
  Hasher h;
  h.update(old.data(), checksum_at);
  uint64_t digest[2];
  h.digest(digest);
  for (int b = 0; b < 16; ++b) old[checksum_at + b] = static_cast<uint8_t>(digest[b / 8] >> (8 * (b % 8)));
  auto r = d.restore(view, old.data(), old.size());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::data_loss) << r.status().message();
  EXPECT_NE(r.status().message().find("format version 2, this plugin reads 3"), std::string::npos) << r.status().message();
}

// --- cancellation ---

// A cancel flag that is never raised makes the run go in stages (executable.cpp, "Running"):
// the outputs are the same bytes as those of an all-at-once run, in the first run (one launch
// per stage) and once runs have timed the launches (several per stage).
TEST_F(OpenCL, StagedRunsGiveTheSameOutputs) {
  Builder b = small_network();
  const Device& d = *env().device;
  GraphView view(b.g);
  auto exe = d.compile(view);
  ASSERT_TRUE(exe.ok()) << exe.status().message();
  volatile int32_t never_raised = 0;
  ExecuteControl staged;
  staged.cancel_flag = &never_raised;
  auto first = run_device(**exe, d, b.feeds, staged);
  auto want = run_device(**exe, d, b.feeds);
  for (int run = 0; run < 4; ++run) {
    auto got = run == 0 ? first : run_device(**exe, d, b.feeds, staged);
    ASSERT_EQ(got.size(), want.size());
    for (size_t k = 0; k < want.size(); ++k)
      EXPECT_EQ(0, std::memcmp(want[k].raw(), got[k].raw(), want[k].byte_size())) << "run " << run << ", output " << k;
  }
}

// A chain of `length` MatMuls of a [n, n] input by the identity: its output is its input.
Builder identity_matmul_chain(int64_t n, int length) {
  Builder b;
  Tensor eye = Tensor::allocate(ElementType::float32, {n, n});
  for (int64_t i = 0; i < n * n; ++i) eye.mutable_data<float>()[i] = i / n == i % n ? 1.0f : 0.0f;
  int32_t v = b.input("x", {n, n});
  for (int i = 0; i < length; ++i) {
    int32_t w = b.init("eye" + std::to_string(i), eye), y = b.value("y" + std::to_string(i), {n, n});
    b.node("MatMul", {v, w}, {y});
    v = y;
  }
  b.output(v);
  return b;
}

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

// A flag raised a quarter into a run stops it with SY_ERROR_CANCELLED (the kernels not yet
// enqueued never run); the executable then runs on with exact outputs (its workspace is back).
TEST_F(OpenCL, CancelFlagRaisedDuringARunStopsIt) {
  Builder b = identity_matmul_chain(256, 16);
  const Device& d = *env().device;
  GraphView view(b.g);
  auto exe = d.compile(view);
  ASSERT_TRUE(exe.ok()) << exe.status().message();
  auto u = upload(d, b.feeds.at(0));
  ASSERT_TRUE(u.ok()) << u.status().message();
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE((*exe)->execute({*u}).ok());
  const double run_ms = ms_since(start);
  if (run_ms < 10) GTEST_SKIP() << "the chain runs in " << run_ms << " ms: too fast to raise a flag in the middle";
  Status stopped;
  for (int attempt = 0; attempt < 3 && stopped.ok(); ++attempt) {  // a loaded machine may raise it too late
    volatile int32_t flag = 0;
    ExecuteControl control;
    control.cancel_flag = &flag;
    std::thread raiser([&] {
      std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(run_ms / 4));
      flag = 1;
    });
    auto out = (*exe)->execute({*u}, control);
    raiser.join();
    if (!out.ok()) stopped = out.status();
  }
  ASSERT_FALSE(stopped.ok()) << "three runs of " << run_ms << " ms ran to the end with the flag raised a quarter in";
  EXPECT_EQ(stopped.code(), StatusCode::cancelled) << stopped.message();
  EXPECT_NE(stopped.message().find("cancelled after"), std::string::npos) << stopped.message();
  auto again = run_device(**exe, d, b.feeds);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(0, std::memcmp(again[0].raw(), b.feeds[0].raw(), b.feeds[0].byte_size()));
}

// --- the ABI's R2 rule, through the plugin's own function table ---

struct RawOpenCl {
  const sy_plugin_api* api = nullptr;
  sy_device device = nullptr;
};

RawOpenCl raw_opencl() {
  RawOpenCl raw;
  for (const auto& p : env().registry.plugins())
    if (p->identity().name == "opencl") {
      raw.api = &p->api();
      EXPECT_TRUE(take_status(raw.api->device_get(p->handle(), 0, &raw.device)).ok());
    }
  return raw;
}

void count_answer(void* calls, size_t, sy_support_reason, const char*, const char*) { ++*static_cast<int*>(calls); }

// A report whose struct_size ends before `node` has no callback (R2): refused, never called.
TEST_F(OpenCL, QuerySupportRefusesAReportWithoutRoomForItsCallback) {
  RawOpenCl raw = raw_opencl();
  ASSERT_TRUE(raw.device);
  Builder b = unary_net("Relu");
  GraphView view(b.g);
  int calls = 0;
  sy_support_report report{};
  report.struct_size = offsetof(sy_support_report, node);
  report.context = &calls;
  report.node = count_answer;
  Status st = take_status(raw.api->query_support(raw.device, view.get(), &report));
  EXPECT_EQ(st.code(), StatusCode::invalid_argument) << st.to_string();
  EXPECT_NE(st.message().find("struct_size"), std::string::npos) << st.message();
  EXPECT_EQ(calls, 0);
}

void keep_status(void* promise, sy_status status) { static_cast<std::promise<Status>*>(promise)->set_value(take_status(status)); }

// An older host's sy_execute_args ends before cancel_flag: whatever lies there is not read (R2),
// so a raised flag past struct_size does not cancel.
TEST_F(OpenCL, ExecuteReadsNoFieldPastTheArgsStructSize) {
  RawOpenCl raw = raw_opencl();
  ASSERT_TRUE(raw.device);
  Builder b = unary_net("Relu");
  GraphView view(b.g);
  sy_executable exe = nullptr;
  ASSERT_TRUE(take_status(raw.api->compile(raw.device, view.get(), nullptr, 0, &exe)).ok());
  const Tensor& x = b.feeds.at(0);
  sy_buffer in_buf = nullptr;
  ASSERT_TRUE(take_status(raw.api->buffer_alloc(raw.device, x.byte_size(), &in_buf)).ok());
  ASSERT_TRUE(take_status(raw.api->buffer_write(in_buf, 0, x.raw(), x.byte_size())).ok());
  const sy_tensor_arg in{sizeof(sy_tensor_arg), in_buf, SY_ELEM_FLOAT32, 2, x.shape().data()};
  int64_t out_dims[4] = {0, 0, 0, 0};
  sy_tensor_out out{sizeof(sy_tensor_out), nullptr, 0, 0, out_dims, 4};
  const sy_tensor_arg* inputs[] = {&in};
  sy_tensor_out* outputs[] = {&out};
  volatile int32_t raised = 1;
  std::promise<Status> done;
  sy_execute_args args{};
  args.struct_size = offsetof(sy_execute_args, cancel_flag);
  args.num_inputs = 1;
  args.inputs = inputs;
  args.num_outputs = 1;
  args.outputs = outputs;
  args.on_complete = keep_status;
  args.user_data = &done;
  args.cancel_flag = &raised;  // past struct_size: an older host never wrote it
  ASSERT_TRUE(take_status(raw.api->execute(exe, &args)).ok());
  Status completed = done.get_future().get();
  EXPECT_TRUE(completed.ok()) << completed.to_string();
  std::vector<float> y(static_cast<size_t>(x.numel()), -1.0f);
  ASSERT_NE(out.buffer, nullptr);
  EXPECT_TRUE(take_status(raw.api->buffer_read(out.buffer, 0, y.data(), y.size() * sizeof(float))).ok());
  for (int64_t i = 0; i < x.numel(); ++i) EXPECT_EQ(y[i], std::max(0.0f, x.data<float>()[i])) << "element " << i;
  raw.api->buffer_release(out.buffer);
  raw.api->buffer_release(in_buf);
  raw.api->executable_release(exe);
}

TEST_F(OpenCL, ConcurrentExecutions) {
  Builder b = conv_net();
  const Device& d = *env().device;
  GraphView view(b.g);
  auto exe = d.compile(view);
  ASSERT_TRUE(exe.ok()) << exe.status().message();
  auto want = run_device(**exe, d, b.feeds);
  std::vector<std::thread> threads;
  std::vector<int> ok(4, 0);
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int k = 0; k < 5; ++k) {
        auto got = run_device(**exe, d, b.feeds);
        if (got.size() != 1 || std::memcmp(got[0].raw(), want[0].raw(), want[0].byte_size()) != 0) return;
      }
      ok[t] = 1;
    });
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) EXPECT_TRUE(ok[t]) << "thread " << t;
}

TEST_F(OpenCL, WrongInputShapeIsRejected) {
  Builder b = conv_net();
  const Device& d = *env().device;
  GraphView view(b.g);
  auto exe = d.compile(view);
  ASSERT_TRUE(exe.ok());
  auto u = upload(d, random_tensor({1, 3, 8, 9}, 1));
  ASSERT_TRUE(u.ok());
  auto out = (*exe)->execute({*u});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::invalid_argument) << out.status().message();
}

TEST_F(OpenCL, DeviceInfo) {
  const DeviceInfo& i = env().device->info();
  EXPECT_FALSE(i.name.empty());
  EXPECT_FALSE(i.identity.empty());
  EXPECT_GT(i.memory_bytes, 0u);
  EXPECT_GT(i.max_allocation_bytes, 0u);
  EXPECT_GT(i.peak_gflops_f32, 0.0);
  EXPECT_EQ(i.peak_gflops_f16, i.peak_gflops_f32);  // float16 is computed in float
  EXPECT_GT(i.memory_bandwidth_gbps, 0.0);
  EXPECT_EQ(i.kind, DeviceKind::gpu);  // the manifest's `kind: gpu`
}

}  // namespace
// With no writable cache folder PoCL lists no device; the plugin says why instead of a bare
// "0 device(s)" (issue 14, finding 8). The CLI runs in its own environment: HOME=/proc cannot be
// written even by root.
TEST(OpenClDiagnostics, APlatformWithoutDevicesSaysWhy) {
  const std::string cmd = std::string("env -u XDG_CACHE_HOME -u POCL_CACHE_DIR HOME=/proc SWITCHYARD_PLUGIN_PATH='") + SWITCHYARD_PLUGIN_DIR +
                          "' '" + SWITCHYARD_CLI + "' devices 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  ::pclose(p);
  if (out.find("opencl:0") != std::string::npos) GTEST_SKIP() << "this OpenCL implementation lists devices without a cache folder";
  EXPECT_NE(out.find("lists no device (clGetDeviceIDs: "), std::string::npos) << out;
}

}  // namespace switchyard
