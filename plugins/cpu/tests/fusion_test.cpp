// Tests for the CPU plugin's graph passes: fused executables are compared with the reference
// interpreter on the unfused graph (rtol 1e-4), fusion decisions are checked on graphs where
// fusion is legal and where it is not, and the serialized form pins the fusion.
#include <gtest/gtest.h>

#include <omp.h>

#include <cstdlib>
#include <filesystem>
#include <thread>
#include <cstring>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "executable.h"
#include "graph_passes.h"
#include "one_node_case.h"
#include "switchyard/reference/interpreter.h"

namespace switchyard::cpu {
namespace {

Tensor random_tensor(const Shape& shape, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  Tensor t = Tensor::allocate(ElementType::float32, shape);
  uint32_t x = seed * 2654435761u + 12345u;
  float* p = t.mutable_data<float>();
  for (int64_t i = 0; i < t.numel(); ++i) {
    x = x * 1664525u + 1013904223u;
    p[i] = lo + (hi - lo) * static_cast<float>((x >> 8) & 0xffff) / 65536.0f;
  }
  return t;
}

using kernel_test::af;
using kernel_test::ai;
using kernel_test::ais;

// Builds small CNN graphs value by value. Shapes are static unless `batch_symbol` is set.
struct Builder {
  Graph g;
  std::vector<Value> feeds;
  std::string batch_symbol;
  uint32_t seed = 1;

  Builder() {
    g.name = "fusion";
    g.opsets.push_back({"", 17});
  }
  ValueType type_of(const Shape& s) const {
    ValueType vt;
    vt.kind = ValueType::Kind::tensor;
    vt.tensor.elem = ElementType::float32;
    std::vector<Dim> dims;
    for (size_t i = 0; i < s.size(); ++i)
      dims.push_back(i == 0 && !batch_symbol.empty() ? Dim{-1, batch_symbol} : Dim{s[i], ""});
    vt.tensor.shape = dims;
    return vt;
  }
  int32_t input(const std::string& name, const Shape& s) {
    int32_t id = g.add_value(name, type_of(s));
    g.inputs.push_back(id);
    feeds.push_back(Value::of(random_tensor(s, seed++)));
    return id;
  }
  int32_t constant(const std::string& name, Tensor t) {
    ValueType vt;
    vt.kind = ValueType::Kind::tensor;
    vt.tensor.elem = ElementType::float32;
    std::vector<Dim> dims;
    for (int64_t d : t.shape()) dims.push_back(Dim{d, ""});
    vt.tensor.shape = dims;
    int32_t id = g.add_value(name, vt);
    g.initializers[id] = std::move(t);
    return id;
  }
  int32_t node(const std::string& op, const std::string& name, std::vector<int32_t> ins, const Shape& out,
               std::vector<Attribute> attrs = {}) {
    Node n;
    n.op_type = op;
    n.name = name;
    n.opset = 17;
    n.inputs = std::move(ins);
    n.attributes = std::move(attrs);
    int32_t o = g.add_value(name + "_out", type_of(out));
    n.outputs.push_back(o);
    g.nodes.push_back(n);
    return o;
  }
  // Conv 3x3 pad 1 (or 1x1) with bias.
  int32_t conv(const std::string& name, int32_t x, int64_t cin, int64_t cout, const Shape& out, int64_t k = 3) {
    int32_t w = constant(name + "_w", random_tensor({cout, cin, k, k}, seed++, -0.3f, 0.3f));
    int32_t b = constant(name + "_b", random_tensor({cout}, seed++));
    const int64_t p = k / 2;
    return node("Conv", name, {x, w, b}, out, {ais("pads", {p, p, p, p}), ais("kernel_shape", {k, k})});
  }
  int32_t bn(const std::string& name, int32_t x, int64_t c, const Shape& out) {
    int32_t s = constant(name + "_s", random_tensor({c}, seed++, 0.5f, 1.5f));
    int32_t b = constant(name + "_b", random_tensor({c}, seed++));
    int32_t m = constant(name + "_m", random_tensor({c}, seed++));
    int32_t v = constant(name + "_v", random_tensor({c}, seed++, 0.1f, 2.0f));
    return node("BatchNormalization", name, {x, s, b, m, v}, out, {af("epsilon", 1e-5f)});
  }
};

// Runs the graph through the CPU executable (fused) and the reference interpreter (unfused).
std::unique_ptr<CpuExecutable> check_against_reference(const Graph& g, const std::vector<Value>& feeds, double rtol = 1e-4,
                                                       double atol = 1e-5) {
  auto want = reference::Interpreter().run(g, feeds);
  EXPECT_TRUE(want.ok()) << want.status().to_string();
  auto exe = CpuExecutable::build(g, 2);
  for (int rep = 0; rep < 2; ++rep) {
    auto got = exe->run(feeds);
    EXPECT_EQ(got.size(), want->size());
    for (size_t o = 0; o < got.size() && o < want->size(); ++o) {
      const Tensor& a = got[o].tensor;
      const Tensor& b = (*want)[o].tensor;
      EXPECT_EQ(a.shape(), b.shape());
      if (a.shape() != b.shape()) continue;
      int bad = 0;
      for (int64_t i = 0; i < a.numel() && bad < 5; ++i) {
        const float x = a.data<float>()[i], y = b.data<float>()[i];
        if (std::fabs(x - y) > atol + rtol * std::fabs(y)) {
          ADD_FAILURE() << "output " << o << " element " << i << ": fused " << x << ", reference " << y;
          ++bad;
        }
      }
    }
  }
  return exe;
}

TEST(GraphPasses, FoldBatchNormalizationInFloat64) {
  Tensor w = random_tensor({2, 1, 1, 1}, 1), b = random_tensor({2}, 2);
  Tensor gamma = Tensor::from_vector<float>(ElementType::float32, {2}, {2.0f, 0.5f});
  Tensor beta = Tensor::from_vector<float>(ElementType::float32, {2}, {1.0f, -1.0f});
  Tensor mean = Tensor::from_vector<float>(ElementType::float32, {2}, {0.25f, -0.5f});
  Tensor var = Tensor::from_vector<float>(ElementType::float32, {2}, {3.0f, 0.0f});
  Tensor ow, ob;
  fold_batchnorm(w, b, gamma, beta, mean, var, 1e-5, ow, ob);
  for (int m = 0; m < 2; ++m) {
    const double s = gamma.data<float>()[m] / std::sqrt(static_cast<double>(var.data<float>()[m]) + 1e-5);
    EXPECT_FLOAT_EQ(ow.data<float>()[m], static_cast<float>(w.data<float>()[m] * s));
    EXPECT_FLOAT_EQ(ob.data<float>()[m],
                    static_cast<float>((b.data<float>()[m] - mean.data<float>()[m]) * s + beta.data<float>()[m]));
  }
}

TEST(GraphPasses, ConvBatchNormReluFuses) {
  Builder b;
  int32_t x = b.input("x", {1, 8, 10, 10});
  int32_t c = b.conv("c1", x, 8, 16, {1, 16, 10, 10});
  int32_t n = b.bn("bn1", c, 16, {1, 16, 10, 10});
  int32_t r = b.node("Relu", "relu1", {n}, {1, 16, 10, 10});
  b.g.outputs.push_back(r);
  auto exe = check_against_reference(b.g, b.feeds);
  EXPECT_EQ(exe->implementations(), (std::vector<std::string>{"onednn+fused", "folded-into-conv", "fused-into-conv"}));
  EXPECT_EQ(exe->execution_graph().nodes.size(), 1u);
  auto answers = support_for_graph(b.g, 2);
  EXPECT_EQ(answers[1].implementation, "folded-into-conv");
  EXPECT_NE(answers[1].message.find("c1"), std::string::npos) << answers[1].message;
}

TEST(GraphPasses, ConvTransposeBatchNormFolds) {
  // Grouped (group 2) with bias, and group 1 without: BN folds into the ConvTranspose's
  // weights and bias, the Relu after it runs on its own.
  for (int64_t group : {2, 1}) {
    Builder b;
    int32_t x = b.input("x", {2, 8, 5, 6});
    int32_t w = b.constant("w", random_tensor({8, 6 / group, 2, 2}, 40 + static_cast<uint32_t>(group), -0.3f, 0.3f));
    std::vector<int32_t> ins = {x, w};
    if (group == 2) ins.push_back(b.constant("bias", random_tensor({6}, 43)));
    int32_t t = b.node("ConvTranspose", "t", ins, {2, 6, 10, 12}, {ais("strides", {2, 2}), ai("group", group)});
    int32_t n = b.bn("bn", t, 6, {2, 6, 10, 12});
    int32_t r = b.node("Relu", "relu", {n}, {2, 6, 10, 12});
    b.g.outputs.push_back(r);
    auto exe = check_against_reference(b.g, b.feeds);
    EXPECT_EQ(exe->implementations(), (std::vector<std::string>{"onednn+fused", "folded-into-conv", "onednn"}));
    EXPECT_EQ(exe->execution_graph().nodes.size(), 2u);
    EXPECT_EQ(exe->execution_graph().nodes[0].op_type, "ConvTranspose");
  }
}

TEST(GraphPasses, PlainPointwiseConvFeedsBlockedConv) {
  // A 1x1 conv on a plain input runs on plain NCHW; the 3x3 conv after it reorders its input,
  // the 1x1 conv after that takes the 3x3 conv's blocked output (a blocked 1x1 conv).
  Builder b;
  const Shape s8 = {1, 8, 28, 29}, s16 = {1, 16, 28, 29};
  int32_t x = b.input("x", {1, 128, 28, 29});
  int32_t r0 = b.node("Relu", "r0", {x}, {1, 128, 28, 29});
  int32_t c1 = b.conv("c1", r0, 128, 16, s16, 1);
  int32_t r1 = b.node("Relu", "r1", {b.bn("bn1", c1, 16, s16)}, s16);
  int32_t c2 = b.conv("c2", r1, 16, 8, s8, 3);
  int32_t r2 = b.node("Relu", "r2", {c2}, s8);
  int32_t c3 = b.conv("c3", r2, 8, 16, s16, 1);
  b.g.outputs.push_back(c3);
  auto exe = check_against_reference(b.g, b.feeds);
  EXPECT_EQ(exe->execution_graph().nodes.size(), 4u);
}

// x * Clip(x + add, 0, 6) / 6 after conv+BN, as PaddlePaddle exports HardSwish.
Builder decomposed_hardswish_block(float add) {
  Builder b;
  const Shape s = {1, 16, 6, 5};
  int32_t x = b.input("x", {1, 8, 6, 5});
  int32_t t = b.bn("bn", b.conv("c", x, 8, 16, s, 1), 16, s);
  auto scalar = [&](const std::string& name, float v) {
    return b.constant(name, Tensor::from_vector<float>(ElementType::float32, {1}, {v}));
  };
  int32_t a = b.node("Add", "add", {t, scalar("three", add)}, s);
  int32_t c = b.node("Clip", "clip", {a, scalar("lo", 0.0f), scalar("hi", 6.0f)}, s);
  int32_t m = b.node("Mul", "mul", {t, c}, s);
  b.g.outputs.push_back(b.node("Div", "div", {m, scalar("six", 6.0f)}, s));
  float* in = b.feeds[0].tensor.mutable_data<float>();  // reach both clip bounds
  for (int64_t i = 0; i < b.feeds[0].tensor.numel(); ++i) in[i] *= 8.0f;
  return b;
}

TEST(GraphPasses, DecomposedHardSwishFuses) {
  Builder b = decomposed_hardswish_block(3.0f);
  auto exe = check_against_reference(b.g, b.feeds);
  EXPECT_EQ(exe->implementations(), (std::vector<std::string>{"onednn+fused", "folded-into-conv", "fused-into-conv",
                                                              "fused-into-conv", "fused-into-conv", "fused-into-conv"}));
  EXPECT_EQ(exe->execution_graph().nodes.size(), 1u);
  Builder other = decomposed_hardswish_block(2.0f);  // not HardSwish: stays as written
  auto kept = check_against_reference(other.g, other.feeds);
  EXPECT_EQ(kept->execution_graph().nodes.size(), 5u);
  Builder wide = decomposed_hardswish_block(3.0f);  // a rank-5 constant 3 would change the shape
  Tensor& three = wide.g.initializers[wide.g.nodes[2].inputs[1]];
  three = Tensor::from_vector<float>(ElementType::float32, {1, 1, 1, 1, 1}, {3.0f});
  EXPECT_EQ(plan_fusions(wide.g, 1).groups[0].absorbed.size(), 1u);  // the BN only
}

TEST(GraphPasses, EveryActivationFuses) {
  for (const std::string op : {"Relu", "LeakyRelu", "Sigmoid", "HardSwish", "HardSigmoid", "Clip"}) {
    SCOPED_TRACE(op);
    Builder b;
    int32_t x = b.input("x", {1, 4, 7, 9});
    int32_t c = b.conv("c", x, 4, 8, {1, 8, 7, 9});
    std::vector<int32_t> ins = {c};
    if (op == "Clip") {
      ins.push_back(b.constant("lo", Tensor::scalar<float>(ElementType::float32, 0.0f)));
      ins.push_back(b.constant("hi", Tensor::scalar<float>(ElementType::float32, 0.6f)));
    }
    int32_t a = b.node(op, "act", ins, {1, 8, 7, 9});
    b.g.outputs.push_back(a);
    auto exe = check_against_reference(b.g, b.feeds);
    EXPECT_EQ(exe->implementations()[1], "fused-into-conv");
  }
}

// A residual block: a = relu(bn(conv(x))); y = relu(bn(conv(relu(bn(conv(a))))) + a).
Builder residual_block(const std::string& batch_symbol = "") {
  Builder b;
  b.batch_symbol = batch_symbol;
  const Shape s = {2, 16, 8, 8};
  int32_t x = b.input("x", {2, 8, 8, 8});
  int32_t a = b.node("Relu", "r0", {b.bn("bn0", b.conv("c0", x, 8, 16, s), 16, s)}, s);
  int32_t h = b.node("Relu", "r1", {b.bn("bn1", b.conv("c1", a, 16, 16, s), 16, s)}, s);
  int32_t y = b.bn("bn2", b.conv("c2", h, 16, 16, s, 1), 16, s);
  int32_t sum = b.node("Add", "add", {y, a}, s);
  int32_t out = b.node("Relu", "r2", {sum}, s);
  b.g.outputs.push_back(out);
  return b;
}

TEST(GraphPasses, ResidualAddBecomesSumPostOp) {
  Builder b = residual_block();
  auto exe = check_against_reference(b.g, b.feeds);
  const auto& impl = exe->implementations();
  ASSERT_EQ(impl.size(), b.g.nodes.size());
  EXPECT_EQ(impl[6], "onednn+fused");      // c2
  EXPECT_EQ(impl[7], "folded-into-conv");  // bn2
  EXPECT_EQ(impl[8], "fused-into-conv");   // add
  EXPECT_EQ(impl[9], "fused-into-conv");   // r2
  EXPECT_EQ(exe->execution_graph().nodes.size(), 3u);
}

TEST(GraphPasses, ResidualBlockUnfusedLayoutsAgree) {
  // Same block with dynamic batch: fused, plain layouts, kernels built per shape at run time.
  Builder b = residual_block("N");
  auto exe = check_against_reference(b.g, b.feeds);
  EXPECT_EQ(exe->implementations()[8], "fused-into-conv");
}

TEST(GraphPasses, ConvWithSecondConsumerStaysUnfused) {
  Builder b;
  const Shape s = {1, 8, 6, 6};
  int32_t x = b.input("x", {1, 4, 6, 6});
  int32_t c = b.conv("c", x, 4, 8, s);
  int32_t n = b.bn("bn", c, 8, s);
  int32_t r = b.node("Relu", "relu", {c}, s);  // c also read here: BN cannot fold
  b.g.outputs.push_back(n);
  b.g.outputs.push_back(r);
  auto exe = check_against_reference(b.g, b.feeds);
  // The BatchNormalization reads the Conv's output in the Conv's layout, so oneDNN runs it.
  EXPECT_EQ(exe->implementations(), (std::vector<std::string>{"onednn", "onednn", "onednn"}));
}

// Conv -> MaxPool -> two convs -> Concat -> BatchNormalization -> Relu -> Conv: every value
// between the first Conv and the last stays in oneDNN's layout (no conversion to plain), and the
// results equal the reference's, also when the input holds NaN and ±inf (pooling's fixup runs
// through plain copies).
Builder layout_chain() {
  Builder b;
  int32_t x = b.input("x", {1, 8, 12, 12});
  int32_t a = b.conv("a", x, 8, 16, {1, 16, 12, 12});
  int32_t p = b.node("MaxPool", "pool", {a}, {1, 16, 6, 6}, {ais("kernel_shape", {2, 2}), ais("strides", {2, 2})});
  int32_t c1 = b.conv("c1", p, 16, 16, {1, 16, 6, 6}, 1);
  int32_t c3 = b.conv("c3", p, 16, 32, {1, 32, 6, 6});
  int32_t cat = b.node("Concat", "cat", {c1, c3}, {1, 48, 6, 6}, {ai("axis", 1)});
  int32_t n = b.bn("bn", cat, 48, {1, 48, 6, 6});
  int32_t r = b.node("Relu", "relu", {n}, {1, 48, 6, 6});
  b.g.outputs.push_back(b.conv("out", r, 48, 8, {1, 8, 6, 6}, 1));
  return b;
}

TEST(GraphPasses, LayoutsTravelThroughPoolingConcatAndNormalisation) {
  Builder b = layout_chain();
  auto exe = check_against_reference(b.g, b.feeds);
  EXPECT_EQ(exe->plain_conversions(), 0u);
  EXPECT_EQ(exe->implementations()[5], "onednn");  // BatchNormalization on oneDNN, not the plain native kernel
}

TEST(GraphPasses, NonFiniteValuesKeepTheirPlaceInALayout) {
  // x -> Conv (identity-like weights keep a NaN and an inf where they are) -> MaxPool in the
  // Conv's layout -> Concat: the pooled NaN and inf land where the reference puts them.
  Builder b;
  int32_t x = b.input("x", {1, 16, 8, 8});
  Tensor w = Tensor::allocate(ElementType::float32, {16, 16, 1, 1});
  for (int i = 0; i < 16; ++i) w.mutable_data<float>()[i * 16 + i] = 1.0f;
  int32_t c = b.node("Conv", "c", {x, b.constant("w", w)}, {1, 16, 8, 8}, {ais("kernel_shape", {1, 1})});
  int32_t p = b.node("MaxPool", "pool", {c}, {1, 16, 4, 4}, {ais("kernel_shape", {2, 2}), ais("strides", {2, 2})});
  int32_t q = b.node("AveragePool", "avg", {c}, {1, 16, 4, 4}, {ais("kernel_shape", {2, 2}), ais("strides", {2, 2})});
  b.g.outputs.push_back(b.node("Concat", "cat", {p, q}, {1, 32, 4, 4}, {ai("axis", 1)}));
  float* xp = b.feeds[0].tensor.mutable_data<float>();
  xp[3 * 64 + 9] = std::numeric_limits<float>::quiet_NaN();
  xp[7 * 64 + 20] = std::numeric_limits<float>::infinity();
  auto want = reference::Interpreter().run(b.g, b.feeds);
  ASSERT_TRUE(want.ok()) << want.status().to_string();
  auto exe = CpuExecutable::build(b.g, 2);
  EXPECT_EQ(exe->plain_conversions(), 0u);
  const Tensor got = exe->run(b.feeds)[0].tensor;
  const Tensor& ref = (*want)[0].tensor;
  ASSERT_EQ(got.shape(), ref.shape());
  int nonfinite = 0;
  for (int64_t i = 0; i < got.numel(); ++i) {
    const float g = got.data<float>()[i], r = ref.data<float>()[i];
    if (std::isnan(r) || std::isinf(r)) {
      ++nonfinite;
      EXPECT_TRUE(std::isnan(r) ? std::isnan(g) : g == r) << "element " << i << ": got " << g << ", reference " << r;
    } else {
      EXPECT_NEAR(g, r, 1e-5 + 1e-4 * std::fabs(r)) << "element " << i;
    }
  }
  // The Conv spreads each to all 16 channels of its pixel (0 * NaN, 0 * inf); each pixel is in
  // one window of each pool: 2 pixels x 16 channels x 2 pools.
  EXPECT_EQ(nonfinite, 64);
}

TEST(GraphPasses, AReaderThatCannotTakeALayoutGetsAPlainCopy) {
  // The MaxPool's padding makes windows that see no input: oneDNN declines it, so the reference
  // kernel runs it on a plain copy of the Conv's output (which the Relu reads in its layout).
  Builder b;
  int32_t x = b.input("x", {1, 8, 6, 6});
  int32_t c = b.conv("c", x, 8, 16, {1, 16, 6, 6});
  int32_t r = b.node("Relu", "relu", {c}, {1, 16, 6, 6});
  int32_t p = b.node("MaxPool", "pool", {c}, {1, 16, 8, 8}, {ais("kernel_shape", {1, 1}), ais("pads", {1, 1, 1, 1})});
  b.g.outputs.push_back(r);
  b.g.outputs.push_back(p);
  auto exe = check_against_reference(b.g, b.feeds);
  EXPECT_EQ(exe->plain_conversions(), 1u);
  EXPECT_EQ(exe->implementations(), (std::vector<std::string>{"onednn", "onednn", "reference"}));
}

TEST(GraphPasses, ThreadsByWorkGiveSmallGraphsOneThread) {
  Builder small;
  small.g.outputs.push_back(small.conv("c", small.input("x", {1, 8, 10, 10}), 8, 8, {1, 8, 10, 10}));
  EXPECT_NEAR(estimated_flops(small.g), 2.0 * 8 * 100 * 8 * 9, 1.0);
  EXPECT_EQ(CpuExecutable::build(small.g, ThreadPolicy(2, true))->threads(), 1);
  EXPECT_EQ(CpuExecutable::build(small.g, ThreadPolicy(2, false))->threads(), 2);  // a set count is kept
  Builder big;  // 64 -> 64 channels, 3x3, 112x112: 925 MFLOP
  big.g.outputs.push_back(big.conv("c", big.input("x", {1, 64, 112, 112}), 64, 64, {1, 64, 112, 112}));
  EXPECT_GT(estimated_flops(big.g), 2 * kFlopsPerThread);
  EXPECT_EQ(CpuExecutable::build(big.g, ThreadPolicy(2, true))->threads(), 2);
  EXPECT_EQ(CpuExecutable::build(big.g, ThreadPolicy(8, true))->threads(), 3);
}

size_t threads_in_process() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/task")) ++n;
  return n;
}

// Threads of this process that three runs of `exe` on a fresh thread leave behind (OpenMP keeps
// the workers a thread's parallel regions start).
size_t threads_started_by_runs(const CpuExecutable& exe, const std::vector<Value>& feeds) {
  size_t before = 0, after = 0;
  std::thread([&] {
    before = threads_in_process();
    for (int rep = 0; rep < 3; ++rep) exe.run(feeds);
    after = threads_in_process();
  }).join();
  return after > before ? after - before : 0;
}

TEST(GraphPasses, AOneThreadExecutableRunsOnOneThreadWhereverItWasBuilt) {
  // Built on a thread whose OpenMP count is 2, run on a fresh thread: oneDNN keeps the split it
  // chose at creation, so kernels created under 2 threads would start a second thread here.
  if (std::thread::hardware_concurrency() < 2) GTEST_SKIP() << "needs 2 cores to tell 1 thread from 2";
  Builder b;  // 32 -> 32 channels, 3x3, 56x56: 58 MFLOP, one thread by work
  b.g.outputs.push_back(b.conv("c", b.input("x", {1, 32, 56, 56}), 32, 32, {1, 32, 56, 56}));
  omp_set_num_threads(2);
  auto exe = CpuExecutable::build(b.g, ThreadPolicy(2, true));
  ASSERT_EQ(exe->threads(), 1);
  EXPECT_EQ(omp_get_max_threads(), 2) << "building leaves the caller's count as it was";
  EXPECT_EQ(threads_started_by_runs(*exe, b.feeds), 0u) << "the run started OpenMP threads";
}

TEST(GraphPasses, ASmallConvolutionRunsOnOneThreadInATwoThreadExecutable) {
  if (std::thread::hardware_concurrency() < 2) GTEST_SKIP() << "needs 2 cores to tell 1 thread from 2";
  Builder b;  // 8 -> 8 channels, 3x3, 10x10: 0.1 MFLOP, under kNodeFlopsForThreads
  b.g.outputs.push_back(b.conv("c", b.input("x", {1, 8, 10, 10}), 8, 8, {1, 8, 10, 10}));
  ASSERT_LT(node_flops(b.g, b.g.nodes[0]), kNodeFlopsForThreads);
  auto exe = CpuExecutable::build(b.g, ThreadPolicy(2, false));
  ASSERT_EQ(exe->threads(), 2);
  EXPECT_NE(exe->build_note().find("1 small nodes on 1"), std::string::npos) << exe->build_note();
  EXPECT_EQ(threads_started_by_runs(*exe, b.feeds), 0u) << "the small convolution started OpenMP threads";
}

TEST(GraphPasses, ASmallPoolingNodeRunsOnOneThreadInATwoThreadExecutable) {
  if (std::thread::hardware_concurrency() < 2) GTEST_SKIP() << "needs 2 cores to tell 1 thread from 2";
  Builder b;  // 28800 elements, under kSerialElements, pooled per channel (as in a squeeze-excitation)
  b.g.outputs.push_back(b.node("GlobalAveragePool", "gap", {b.input("x", {1, 32, 30, 30})}, {1, 32, 1, 1}));
  auto exe = CpuExecutable::build(b.g, ThreadPolicy(2, false));
  ASSERT_EQ(exe->threads(), 2);
  EXPECT_EQ(exe->implementations(), std::vector<std::string>{"onednn"});
  EXPECT_EQ(threads_started_by_runs(*exe, b.feeds), 0u) << "the small GlobalAveragePool started OpenMP threads";
}

TEST(GraphPasses, ValuesOfARunShareOnePlannedArena) {
  // Conv -> Relu -> Conv -> MaxPool -> Conv, plus a Reshape view of the first Relu's output that
  // the last node reads: the view keeps that storage alive to the end, so the plan must not give
  // its bytes to the values in between (check_against_reference runs twice over one arena).
  Builder b;
  const Shape s = {1, 8, 12, 12};
  int32_t x = b.input("x", s);
  int32_t r1 = b.node("Relu", "r1", {b.conv("c1", x, 8, 8, s)}, s);
  int32_t c2 = b.conv("c2", r1, 8, 8, s);
  int32_t p = b.node("MaxPool", "p", {c2}, s, {ais("kernel_shape", {3, 3}), ais("pads", {1, 1, 1, 1})});
  int32_t c3 = b.conv("c3", p, 8, 8, s);
  Tensor dims = Tensor::allocate(ElementType::int64, {4});
  const int64_t to[4] = {1, 8, 144, 1};
  std::memcpy(dims.raw_mutable(), to, sizeof to);
  ValueType dims_type = b.type_of({4});
  dims_type.tensor.elem = ElementType::int64;
  const int32_t shape = b.g.add_value("shape", dims_type);
  b.g.initializers[shape] = dims;
  int32_t view = b.node("Reshape", "view", {r1, shape}, {1, 8, 144, 1});
  int32_t flat = b.node("Reshape", "flat", {c3, shape}, {1, 8, 144, 1});
  b.g.outputs.push_back(b.node("Add", "sum", {view, flat}, {1, 8, 144, 1}));
  auto exe = check_against_reference(b.g, b.feeds);
  const size_t value_bytes = 8 * 144 * 4;
  EXPECT_GE(exe->arena_bytes(), 2 * value_bytes) << "the view's storage and one more value at a time";
  EXPECT_LT(exe->arena_bytes(), 5 * value_bytes) << "values whose lifetimes do not meet share bytes";
}

TEST(GraphPasses, ResizeConcatAndConvTransposeGetStaticShapes) {
  // Shapes the importer left unknown, as ONNX files often do after Resize: refined from the
  // constant scales, the Concat's inputs and the ConvTranspose's weights.
  Builder b;
  int32_t x = b.input("x", {1, 4, 5, 5});
  Tensor scales = Tensor::allocate(ElementType::float32, {4});
  const float sc[4] = {1.0f, 1.0f, 2.0f, 2.0f};
  std::memcpy(scales.raw_mutable(), sc, sizeof sc);
  int32_t up = b.node("Resize", "up", {x, -1, b.constant("scales", scales)}, {}, {});
  int32_t cat = b.node("Concat", "cat", {up, up}, {}, {ai("axis", 1)});
  int32_t w = b.constant("w", random_tensor({8, 3, 2, 2}, 3));
  int32_t ct = b.node("ConvTranspose", "ct", {cat, w}, {}, {ais("strides", {2, 2})});
  for (int32_t v : {up, cat, ct}) b.g.values[static_cast<size_t>(v)].type.tensor.shape.reset();
  b.g.outputs.push_back(ct);
  EXPECT_EQ(refine_static_shapes(b.g), 3);
  EXPECT_EQ(static_shape_of(b.g, up), (Shape{1, 4, 10, 10}));
  EXPECT_EQ(static_shape_of(b.g, cat), (Shape{1, 8, 10, 10}));
  EXPECT_EQ(static_shape_of(b.g, ct), (Shape{1, 3, 20, 20}));
  check_against_reference(b.g, b.feeds);
}

TEST(GraphPasses, GraphOutputIsNotFusedAway) {
  Builder b;
  const Shape s = {1, 8, 6, 6};
  int32_t x = b.input("x", {1, 4, 6, 6});
  int32_t c = b.conv("c", x, 4, 8, s);
  int32_t r = b.node("Relu", "relu", {c}, s);
  b.g.outputs.push_back(c);
  b.g.outputs.push_back(r);
  auto exe = check_against_reference(b.g, b.feeds);
  EXPECT_EQ(exe->implementations(), (std::vector<std::string>{"onednn", "onednn"}));
}

TEST(GraphPasses, AddOperandProducedLaterOrBroadcastStaysUnfused) {
  {
    // The other operand is produced after the Conv: the Add cannot move to the Conv.
    Builder b;
    const Shape s = {1, 8, 6, 6};
    int32_t x = b.input("x", {1, 8, 6, 6});
    int32_t c = b.conv("c", x, 8, 8, s);
    int32_t later = b.node("Sigmoid", "late", {x}, s);
    int32_t sum = b.node("Add", "add", {c, later}, s);
    b.g.outputs.push_back(sum);
    auto exe = check_against_reference(b.g, b.feeds);
    EXPECT_EQ(exe->implementations(), (std::vector<std::string>{"onednn", "onednn", "onednn"}));
  }
  {
    // Broadcasting Add (other operand [1,8,1,1]) is not a sum post-op.
    Builder b;
    const Shape s = {1, 8, 6, 6};
    int32_t x = b.input("x", {1, 8, 6, 6});
    int32_t z = b.input("z", {1, 8, 1, 1});
    int32_t c = b.conv("c", x, 8, 8, s);
    int32_t sum = b.node("Add", "add", {c, z}, s);
    b.g.outputs.push_back(sum);
    auto exe = check_against_reference(b.g, b.feeds);
    EXPECT_EQ(exe->implementations(), (std::vector<std::string>{"onednn", "onednn"}));
  }
}

TEST(GraphPasses, TrainingModeBatchNormIsNotFolded) {
  Builder b;
  const Shape s = {1, 8, 6, 6};
  int32_t x = b.input("x", {1, 4, 6, 6});
  int32_t c = b.conv("c", x, 4, 8, s);
  int32_t n = b.bn("bn", c, 8, s);
  b.g.nodes.back().attributes.push_back(ai("training_mode", 1));
  b.g.outputs.push_back(n);
  FusionPlan plan = plan_fusions(b.g, 2);
  EXPECT_EQ(plan.group_of[1], -1);
}

TEST(GraphPasses, SerializedFormPinsFusion) {
  Builder b = residual_block();
  auto exe = CpuExecutable::build(b.g, 2);
  const std::string bytes = exe->serialize();
  auto serialized = CpuExecutable::parse(bytes.data(), bytes.size(), b.g.nodes.size(), false);
  EXPECT_EQ(serialized.kernels, exe->implementations());
  auto restored = CpuExecutable::build(b.g, 2, &serialized);
  EXPECT_EQ(restored->implementations(), exe->implementations());
  // Bytes claiming an unfused BN where this build folds it are rejected, not misread.
  auto tampered = CpuExecutable::parse(bytes.data(), bytes.size(), b.g.nodes.size(), false);
  tampered.kernels[7] = "onednn";
  try {
    CpuExecutable::build(b.g, 2, &tampered);
    ADD_FAILURE() << "a serialized executable with other fusion was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), StatusCode::data_loss);
  }
}

bool bitwise_equal(const std::vector<Value>& a, const std::vector<Value>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].tensor.shape() != b[i].tensor.shape() || a[i].tensor.byte_size() != b[i].tensor.byte_size() ||
        std::memcmp(a[i].tensor.raw(), b[i].tensor.raw(), a[i].tensor.byte_size()) != 0)
      return false;
  return true;
}

// A restored executable takes its folded, reordered weights from the serialized bytes: it folds
// nothing (no folded-weights value in its execution graph), computes the same bits as the
// compiled one, in place (64-byte aligned bytes kept by the caller) and copied alike.
TEST(GraphPasses, RestoreUsesThePreparedConstants) {
  Builder b = residual_block();
  auto exe = CpuExecutable::build(b.g, 2);
  const std::string bytes = exe->serialize();
  const auto want = exe->run(b.feeds);
  std::unique_ptr<char, decltype(&std::free)> aligned(static_cast<char*>(std::aligned_alloc(64, (bytes.size() + 63) / 64 * 64)), &std::free);
  std::memcpy(aligned.get(), bytes.data(), bytes.size());
  for (bool in_place : {false, true}) {
    auto serialized = CpuExecutable::parse(aligned.get(), bytes.size(), b.g.nodes.size(), in_place);
    EXPECT_GT(serialized.constants->size(), 0u);
    auto restored = CpuExecutable::build(b.g, 2, &serialized);
    EXPECT_NE(restored->build_note().find(in_place ? "used in place" : "copied"), std::string::npos) << restored->build_note();
    for (const auto& v : restored->execution_graph().values)
      EXPECT_EQ(v.name.find("bn_folded_weights"), std::string::npos) << "restore folded " << v.name << " again";
    EXPECT_TRUE(bitwise_equal(restored->run(b.feeds), want)) << (in_place ? "in place" : "copied");
  }
}

TEST(GraphPasses, CorruptPreparedConstantsAreRefused) {
  Builder b = residual_block();
  const std::string bytes = CpuExecutable::build(b.g, 2)->serialize();
  for (size_t cut : {bytes.size() - 1, bytes.size() / 2}) {
    try {
      auto s = CpuExecutable::parse(bytes.data(), cut, b.g.nodes.size(), false);
      CpuExecutable::build(b.g, 2, &s);
      ADD_FAILURE() << "an executable cut to " << cut << " of " << bytes.size() << " bytes was accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), StatusCode::data_loss) << e.what();
    }
  }
}

}  // namespace
}  // namespace switchyard::cpu
