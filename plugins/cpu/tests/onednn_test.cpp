// Tests for the CPU plugin's oneDNN kernels: each provider runs a one-node graph and is
// compared with the reference interpreter on deterministic pseudo-random data.
#include <gtest/gtest.h>
#include <cstring>

#include "block_pool.h"

#include <cmath>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "fast_kernel.h"
#include "one_node_case.h"
#include "switchyard/reference/interpreter.h"

namespace switchyard::cpu {
namespace {

using namespace kernel_test;

const FastKernelProvider* provider(const std::string& op) {
  for (const auto& p : fast_kernel_providers())
    if (p.op_type == op && std::string(p.implementation) == "onednn") return &p;
  return nullptr;
}

// Whether `got` matches the reference value `want`: within rtol 1e-3 / atol 1e-5 when
// `want` is finite, the same NaN or infinity otherwise (a plain |diff| test passes NaN).
bool matches(float got, float want) {
  if (std::isnan(want)) return std::isnan(got);
  if (std::isinf(want)) return got == want;
  return std::fabs(got - want) <= 1e-5 + 1e-3 * std::fabs(want);
}

// Runs the node through the provider (which must accept it) and through the reference,
// and compares outputs with `matches`.
void check(const std::string& op, const std::vector<In>& ins, const std::vector<Attribute>& attrs = {},
           int64_t opset = 21, size_t n_out = 1) {
  SCOPED_TRACE(op);
  Case c = make_case(op, ins, attrs, opset, n_out);
  const FastKernelProvider* p = provider(op);
  ASSERT_NE(p, nullptr) << "no onednn provider for " << op;
  CompileContext ctx{c.graph, 2};
  const Node& node = c.graph.nodes[0];
  ASSERT_TRUE(p->accepts(node, ctx)) << op << " was declined";
  std::unique_ptr<FastKernel> k = p->create(node, ctx);
  ASSERT_NE(k, nullptr);

  auto want = reference::Interpreter().run(c.graph, c.feeds);
  ASSERT_TRUE(want.ok()) << want.status().to_string();

  std::vector<Value> slots;
  const std::vector<const Value*> in = bind_inputs(c, slots);
  for (int rep = 0; rep < 2; ++rep) {  // the second run reuses the prepared primitives
    std::vector<Value> out(node.outputs.size());
    k->run(in, out);
    const Tensor& got = out[0].tensor;
    const Tensor& exp = want.value()[0].tensor;
    ASSERT_EQ(got.type(), ElementType::float32);
    ASSERT_EQ(got.shape(), exp.shape());
    const float* g = got.data<float>();
    const float* e = exp.data<float>();
    int bad = 0;
    for (int64_t i = 0; i < got.numel() && bad < 5; ++i) {
      if (!matches(g[i], e[i])) {
        ADD_FAILURE() << op << " element " << i << ": got " << g[i] << ", reference " << e[i];
        ++bad;
      }
    }
  }
}

void expect_declined(const std::string& op, const std::vector<In>& ins, const std::vector<Attribute>& attrs = {},
                     int64_t opset = 21, size_t n_out = 1) {
  Case c = make_case(op, ins, attrs, opset, n_out);
  const FastKernelProvider* p = provider(op);
  ASSERT_NE(p, nullptr);
  CompileContext ctx{c.graph, 2};
  EXPECT_FALSE(p->accepts(c.graph.nodes[0], ctx)) << op << " should be declined";
}

Tensor R(const Shape& s, uint32_t seed) { return random_tensor(s, seed); }

// R(s, seed) with NaN, +inf and -inf written at the given flat positions (in that order,
// cycling), for the paths that recompute what oneDNN does with non-finite values.
Tensor with_specials(const Shape& s, uint32_t seed, const std::vector<int64_t>& at) {
  Tensor t = R(s, seed);
  const float specials[] = {std::nanf(""), INFINITY, -INFINITY};
  for (size_t i = 0; i < at.size(); ++i) t.mutable_data<float>()[at[i]] = specials[i % 3];
  return t;
}

// ---- Conv ------------------------------------------------------------------

TEST(OneDnnConv, Plain2D) { check("Conv", {input(R({1, 3, 9, 11}, 1)), constant(R({4, 3, 3, 3}, 2))}); }

TEST(OneDnnConv, BiasPaddedStrided) {
  check("Conv", {input(R({2, 5, 13, 10}, 3)), constant(R({7, 5, 3, 2}, 4)), constant(R({7}, 5))},
        {ais("pads", {1, 0, 2, 1}), ais("strides", {2, 3})});
}

TEST(OneDnnConv, RuntimeBias) {
  check("Conv", {input(R({1, 4, 8, 8}, 6)), constant(R({8, 4, 1, 1}, 7)), input(R({8}, 8))});
}

TEST(OneDnnConv, Dilated) {
  check("Conv", {input(R({1, 4, 15, 15}, 9)), constant(R({6, 4, 3, 3}, 10))},
        {ais("dilations", {2, 3}), ais("pads", {2, 3, 2, 3})});
}

TEST(OneDnnConv, Grouped) {
  check("Conv", {input(R({1, 8, 10, 10}, 11)), constant(R({12, 2, 3, 3}, 12)), constant(R({12}, 13))},
        {ai("group", 4), ais("pads", {1, 1, 1, 1})});
}

TEST(OneDnnConv, Depthwise) {
  check("Conv", {input(R({2, 16, 12, 12}, 14)), constant(R({16, 1, 3, 3}, 15)), constant(R({16}, 16))},
        {ai("group", 16), ais("pads", {1, 1, 1, 1}), ais("strides", {2, 2})});
}

TEST(OneDnnConv, AutoPadSameUpper) {
  check("Conv", {input(R({1, 3, 10, 7}, 17)), constant(R({5, 3, 4, 3}, 18))},
        {as("auto_pad", "SAME_UPPER"), ais("strides", {2, 2})});
}

TEST(OneDnnConv, AutoPadSameLower) {
  check("Conv", {input(R({1, 3, 10, 7}, 19)), constant(R({5, 3, 4, 4}, 20))}, {as("auto_pad", "SAME_LOWER")});
}

TEST(OneDnnConv, AutoPadValid) {
  check("Conv", {input(R({1, 3, 10, 7}, 21)), constant(R({5, 3, 3, 2}, 22))},
        {as("auto_pad", "VALID"), ais("strides", {3, 2})});
}

TEST(OneDnnConv, OneD) {
  check("Conv", {input(R({2, 4, 20}, 23)), constant(R({6, 4, 5}, 24)), constant(R({6}, 25))},
        {ais("pads", {2, 1}), ais("strides", {2})});
}

TEST(OneDnnConv, ThreeD) {
  check("Conv", {input(R({1, 2, 6, 7, 8}, 26)), constant(R({4, 2, 3, 3, 3}, 27))}, {ais("pads", {1, 1, 1, 1, 1, 1})});
}

TEST(OneDnnConv, LargeChannels) {
  check("Conv", {input(R({1, 64, 14, 14}, 28)), constant(R({128, 64, 3, 3}, 29)), constant(R({128}, 30))},
        {ais("pads", {1, 1, 1, 1})});
}

TEST(OneDnnConv, DynamicInputShape) {
  check("Conv", {dynamic(R({1, 6, 9, 9}, 31)), constant(R({4, 3, 3, 3}, 32))}, {ai("group", 2)});
}

TEST(OneDnnConv, DeclinesRuntimeWeights) {
  expect_declined("Conv", {input(R({1, 3, 9, 11}, 1)), input(R({4, 3, 3, 3}, 2))});
}

TEST(OneDnnConv, DeclinesDouble) {
  Tensor x = Tensor::allocate(ElementType::float64, {1, 1, 3, 3});
  Tensor w = Tensor::allocate(ElementType::float64, {1, 1, 1, 1});
  expect_declined("Conv", {input(x), constant(w)});
}

// ---- ConvTranspose ---------------------------------------------------------------

TEST(OneDnnConvTranspose, Strided) {
  check("ConvTranspose", {input(R({1, 24, 10, 10}, 130)), constant(R({24, 24, 2, 2}, 131)), constant(R({24}, 132))},
        {ais("kernel_shape", {2, 2}), ais("strides", {2, 2})});
  check("ConvTranspose", {input(R({1, 24, 8, 8}, 133)), constant(R({24, 1, 2, 2}, 134)), constant(R({1}, 135))},
        {ais("strides", {2, 2})});
}

TEST(OneDnnConvTranspose, PadsOutputPaddingDilations) {
  check("ConvTranspose", {input(R({2, 3, 7, 6}, 136)), constant(R({3, 5, 3, 4}, 137))},
        {ais("strides", {3, 2}), ais("pads", {1, 2, 0, 1}), ais("output_padding", {2, 1}), ais("dilations", {2, 1})});
  check("ConvTranspose", {input(R({1, 4, 5, 5}, 138)), constant(R({4, 2, 3, 3}, 139))},
        {ais("strides", {2, 2}), ais("output_padding", {1, 1})});
}

TEST(OneDnnConvTranspose, BiasAfterThePrimitive) {
  // The bias is added after oneDNN's deconvolution: every batch and channel, and output
  // positions only output_padding reaches.
  check("ConvTranspose", {input(R({2, 5, 6, 7}, 145)), constant(R({5, 3, 2, 2}, 146)), constant(R({3}, 147))},
        {ais("strides", {2, 2}), ais("output_padding", {1, 1})});
  check("ConvTranspose", {input(R({1, 24, 40, 40}, 148)), constant(R({24, 1, 2, 2}, 149)), constant(R({1}, 155))},
        {ais("kernel_shape", {2, 2}), ais("strides", {2, 2})});
}

TEST(OneDnnConvTranspose, Grouped) {
  check("ConvTranspose", {input(R({1, 6, 5, 5}, 140)), constant(R({6, 2, 3, 3}, 141)), constant(R({6}, 142))},
        {ai("group", 3), ais("strides", {2, 2}), ais("pads", {1, 1, 1, 1})});
  check("ConvTranspose", {input(R({2, 8, 4, 4}, 143)), constant(R({8, 1, 4, 4}, 144))}, {ai("group", 8), ais("strides", {2, 2})});
}

TEST(OneDnnConvTranspose, OneDThreeD) {
  check("ConvTranspose", {input(R({2, 4, 9}, 150)), constant(R({4, 3, 3}, 151)), constant(R({3}, 152))},
        {ais("strides", {2}), ais("pads", {1, 0}), ais("output_padding", {1})});
  check("ConvTranspose", {input(R({1, 4, 3, 4, 5}, 153)), constant(R({4, 1, 2, 3, 2}, 154))},
        {ai("group", 2), ais("strides", {2, 1, 2}), ais("dilations", {1, 2, 1})});
}

TEST(OneDnnConvTranspose, DynamicInputShape) {
  check("ConvTranspose", {dynamic(R({1, 4, 6, 7}, 145)), constant(R({4, 3, 3, 3}, 146)), constant(R({3}, 147))},
        {ais("pads", {1, 1, 1, 1})});
}

TEST(OneDnnConvTranspose, Declines) {
  const Tensor x = R({1, 4, 5, 5}, 148), w = R({4, 2, 3, 3}, 149);
  expect_declined("ConvTranspose", {input(x), constant(w)}, {as("auto_pad", "SAME_UPPER"), ais("strides", {2, 2})});
  expect_declined("ConvTranspose", {input(x), constant(w)}, {ais("output_shape", {10, 10}), ais("strides", {2, 2})});
  expect_declined("ConvTranspose", {input(x), input(w)});
  expect_declined("ConvTranspose", {input(x), constant(w)}, {ais("pads", {4, 3, 4, 3})});  // empty output
}

// ---- Gemm / MatMul -----------------------------------------------------------

TEST(OneDnnGemm, Plain) { check("Gemm", {input(R({5, 7}, 40)), constant(R({7, 3}, 41))}); }

TEST(OneDnnGemm, TransposedWithBiasRow) {
  check("Gemm", {input(R({7, 5}, 42)), constant(R({3, 7}, 43)), constant(R({3}, 44))},
        {ai("transA", 1), ai("transB", 1), af("alpha", 0.5f), af("beta", 2.0f)});
}

TEST(OneDnnGemm, RuntimeBAndMatrixC) {
  check("Gemm", {input(R({4, 6}, 45)), input(R({6, 9}, 46)), input(R({4, 9}, 47))}, {af("beta", -1.5f)});
}

TEST(OneDnnGemm, ColumnC) {
  check("Gemm", {input(R({4, 6}, 48)), constant(R({9, 6}, 49)), constant(R({4, 1}, 50))}, {ai("transB", 1)});
}

TEST(OneDnnGemm, ScalarC) {
  check("Gemm", {input(R({1, 64}, 51)), constant(R({64, 10}, 52)), constant(R({}, 53))});
}

TEST(OneDnnMatMul, TwoD) { check("MatMul", {input(R({6, 5}, 60)), constant(R({5, 4}, 61))}); }

TEST(OneDnnMatMul, Batched) { check("MatMul", {input(R({2, 3, 6, 5}, 62)), input(R({2, 3, 5, 4}, 63))}); }

TEST(OneDnnMatMul, BroadcastWeights) { check("MatMul", {input(R({3, 6, 5}, 64)), constant(R({5, 4}, 65))}); }

TEST(OneDnnMatMul, OneDOperands) {
  check("MatMul", {input(R({5}, 66)), input(R({2, 5, 3}, 67))});
  check("MatMul", {input(R({2, 4, 5}, 68)), input(R({5}, 69))});
}

// ---- Pooling -----------------------------------------------------------------

TEST(OneDnnPool, MaxPoolBasic) {
  check("MaxPool", {input(R({1, 3, 10, 10}, 70))}, {ais("kernel_shape", {3, 3}), ais("strides", {2, 2})});
}

TEST(OneDnnPool, MaxPoolPadsCeil) {
  check("MaxPool", {input(R({2, 4, 11, 12}, 71))},
        {ais("kernel_shape", {3, 3}), ais("strides", {2, 2}), ais("pads", {1, 1, 1, 1}), ai("ceil_mode", 1)});
}

TEST(OneDnnPool, MaxPoolDilated) {
  check("MaxPool", {input(R({1, 2, 12, 12}, 72))}, {ais("kernel_shape", {2, 2}), ais("dilations", {2, 2})});
}

TEST(OneDnnPool, MaxPoolSameUpper) {
  check("MaxPool", {input(R({1, 2, 7, 8}, 73))},
        {ais("kernel_shape", {3, 2}), ais("strides", {2, 2}), as("auto_pad", "SAME_UPPER")});
}

TEST(OneDnnPool, AveragePoolExcludePadCeil) {
  check("AveragePool", {input(R({1, 3, 11, 9}, 74))},
        {ais("kernel_shape", {3, 3}), ais("strides", {2, 2}), ais("pads", {1, 1, 1, 1}), ai("ceil_mode", 1)});
}

TEST(OneDnnPool, AveragePoolIncludePad) {
  check("AveragePool", {input(R({1, 3, 9, 9}, 75))},
        {ais("kernel_shape", {3, 3}), ais("pads", {1, 1, 1, 1}), ai("count_include_pad", 1)});
}

TEST(OneDnnPool, AveragePool1D3D) {
  check("AveragePool", {input(R({2, 3, 17}, 76))}, {ais("kernel_shape", {4}), ais("strides", {3})});
  check("MaxPool", {input(R({1, 2, 5, 6, 7}, 77))}, {ais("kernel_shape", {2, 2, 2})});
}

TEST(OneDnnPool, DeclinesIndicesOutput) {
  expect_declined("MaxPool", {input(R({1, 3, 10, 10}, 70))}, {ais("kernel_shape", {3, 3})}, 21, 2);
}

TEST(OneDnnPool, DeclinesCeilExtensionCountedAsPad) {
  expect_declined("AveragePool", {input(R({1, 1, 6, 6}, 78))},
                  {ais("kernel_shape", {3, 3}), ais("strides", {2, 2}), ai("ceil_mode", 1), ai("count_include_pad", 1)});
}

TEST(OneDnnPool, Global) {
  check("GlobalAveragePool", {input(R({2, 5, 7, 6}, 79))});
  check("GlobalMaxPool", {input(R({2, 5, 7, 6}, 80))});
  check("GlobalAveragePool", {input(R({1, 4, 9}, 81))});
}

// ---- Normalisation, activations, softmax ---------------------------------------

TEST(OneDnnBatchNorm, Inference) {
  Tensor var = R({6}, 85);
  for (int i = 0; i < 6; ++i) var.mutable_data<float>()[i] = std::fabs(var.data<float>()[i]) + 0.1f;
  check("BatchNormalization",
        {input(R({2, 6, 5, 4}, 82)), constant(R({6}, 83)), constant(R({6}, 84)), constant(R({6}, 86)), constant(var)},
        {af("epsilon", 1e-3f)}, 15);
  check("BatchNormalization", {input(R({3, 6}, 87)), input(R({6}, 83)), input(R({6}, 84)), input(R({6}, 86)), input(var)});
}

TEST(OneDnnEltwise, Activations) {
  const Tensor x = R({2, 3, 4, 5}, 90);
  check("Relu", {input(x)});
  check("LeakyRelu", {input(x)}, {af("alpha", 0.2f)});
  check("Sigmoid", {input(x)});
  check("Tanh", {input(x)});
  check("HardSigmoid", {input(x)}, {af("alpha", 0.3f), af("beta", 0.4f)});
  check("HardSwish", {input(R({3, 7}, 91))});
  Tensor wide = R({4, 8}, 92);
  for (int64_t i = 0; i < wide.numel(); ++i) wide.mutable_data<float>()[i] *= 6.0f;
  check("HardSwish", {input(wide)});
}

TEST(OneDnnEltwise, Clip) {
  const Tensor x = R({3, 10}, 93);
  check("Clip", {input(x)}, {af("min", -0.3f), af("max", 0.5f)}, 6);
  check("Clip", {input(x), constant(Tensor::scalar<float>(ElementType::float32, -0.2f)),
                 constant(Tensor::scalar<float>(ElementType::float32, 0.25f))}, {}, 13);
  check("Clip", {input(x), omitted(), constant(Tensor::scalar<float>(ElementType::float32, 0.1f))}, {}, 13);
  check("Clip", {input(x)}, {}, 13);
  expect_declined("Clip", {input(x), input(Tensor::scalar<float>(ElementType::float32, 0.0f))}, {}, 13);
}

TEST(OneDnnSoftmax, Axes) {
  const Tensor x = R({2, 3, 4}, 95);
  check("Softmax", {input(x)}, {}, 13);
  check("Softmax", {input(x)}, {ai("axis", 1)}, 13);
  check("Softmax", {input(x)}, {ai("axis", 0)}, 13);
  check("Softmax", {input(R({3, 7}, 96))}, {}, 11);
  check("Softmax", {input(x)}, {ai("axis", 1)}, 11);  // flattens to [2, 12]
}

// ---- NaN and ±inf (oneDNN drops NaN and clamps to ±FLT_MAX; ONNX propagates) -----

TEST(OneDnnSpecialValues, Activations) {
  const Tensor x = with_specials({3, 10}, 97, {1, 4, 7, 12, 20, 29});
  check("Relu", {input(x)});
  check("HardSigmoid", {input(x)});
  check("Clip", {input(x)}, {af("min", -0.3f), af("max", 0.5f)}, 6);
  check("Clip", {input(x), omitted(), constant(Tensor::scalar<float>(ElementType::float32, 0.1f))}, {}, 13);
  check("Clip", {input(x), constant(Tensor::scalar<float>(ElementType::float32, -0.1f))}, {}, 13);
  check("Clip", {input(x)}, {}, 13);
}

TEST(OneDnnSpecialValues, MaxPool) {
  // Position 0 alone in a 1x1 window: a window of only NaN; the others share windows.
  const Tensor x = with_specials({1, 2, 7, 8}, 98, {0, 9, 30, 61, 70, 100});
  check("MaxPool", {input(x)}, {ais("kernel_shape", {1, 1})});
  check("MaxPool", {input(x)}, {ais("kernel_shape", {3, 2}), ais("strides", {2, 1}), ais("pads", {1, 0, 1, 1}), ai("ceil_mode", 1)});
  check("MaxPool", {input(x)}, {ais("kernel_shape", {2, 2}), ais("dilations", {2, 2})});
  check("MaxPool", {input(with_specials({1, 2, 5, 6, 7}, 99, {3, 100, 250}))}, {ais("kernel_shape", {2, 2, 2})});
  check("GlobalMaxPool", {input(x)});
  check("GlobalMaxPool", {input(with_specials({2, 3, 1, 1}, 100, {0, 2, 4}))});  // whole planes NaN, +inf, -inf
}

TEST(OneDnnSpecialValues, Softmax) {
  // Groups holding NaN, +inf or -inf, and untouched groups beside them.
  const Tensor x = with_specials({2, 3, 4}, 101, {1, 6, 15});
  check("Softmax", {input(x)}, {}, 13);
  check("Softmax", {input(x)}, {ai("axis", 1)}, 13);
  check("Softmax", {input(x)}, {ai("axis", 1)}, 11);
  Tensor all_minus_inf = R({2, 3}, 102);
  for (int i = 0; i < 3; ++i) all_minus_inf.mutable_data<float>()[i] = -INFINITY;
  check("Softmax", {input(all_minus_inf)}, {}, 13);
}

// ---- Binary ----------------------------------------------------------------------

TEST(OneDnnBinary, Broadcasting) {
  const Tensor a = R({2, 3, 4, 5}, 100);
  check("Add", {input(a), input(R({2, 3, 4, 5}, 101))});
  check("Add", {input(a), input(R({1, 3, 1, 1}, 102))});
  check("Mul", {input(R({5}, 103)), input(a)});  // commutative: swapped
  check("Sub", {input(a), constant(R({4, 1}, 104))});
  Tensor d = R({3, 1, 5}, 105);
  for (int64_t i = 0; i < d.numel(); ++i) d.mutable_data<float>()[i] += 3.0f;
  check("Div", {input(a), constant(d)});
  check("Sum", {input(a), input(R({1, 5}, 106))});
  check("Add", {input(Tensor::scalar<float>(ElementType::float32, 1.5f)), input(Tensor::scalar<float>(ElementType::float32, 2.0f))});
}

TEST(OneDnnBinary, DeclinesTwoSidedBroadcastOfSub) {
  expect_declined("Sub", {input(R({3, 1}, 107)), input(R({1, 4}, 108))});
  expect_declined("Add", {input(R({3, 1}, 107)), input(R({1, 4}, 108))});
  expect_declined("Sub", {input(R({4}, 109)), input(R({3, 4}, 110))});
}

TEST(OneDnnBinary, DynamicShapes) {
  check("Add", {dynamic(R({2, 3, 4}, 111)), dynamic(R({3, 1}, 112))});
  // Shapes oneDNN cannot run fall back to the reference inside the kernel.
  check("Sub", {dynamic(R({3, 1}, 113)), dynamic(R({1, 4}, 114))});
}

TEST(OneDnnConcurrency, ParallelRuns) {
  Case c = make_case("Conv", {input(R({1, 8, 16, 16}, 120)), constant(R({16, 8, 3, 3}, 121))},
                     {ais("pads", {1, 1, 1, 1})}, 21, 1);
  const FastKernelProvider* p = provider("Conv");
  CompileContext ctx{c.graph, 1};
  auto k = p->create(c.graph.nodes[0], ctx);
  ASSERT_NE(k, nullptr);
  auto want = reference::Interpreter().run(c.graph, c.feeds);
  ASSERT_TRUE(want.ok());
  Value w = Value::of(c.graph.initializers.begin()->second);
  std::vector<int> failures(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        std::vector<const Value*> in = {&c.feeds[0], &w};
        std::vector<Value> out(1);
        k->run(in, out);
        const float* g = out[0].tensor.data<float>();
        const float* e = want.value()[0].tensor.data<float>();
        for (int64_t j = 0; j < out[0].tensor.numel(); ++j)
          if (std::fabs(g[j] - e[j]) > 1e-5 + 1e-3 * std::fabs(e[j])) ++failures[static_cast<size_t>(t)];
      }
    });
  for (auto& th : threads) th.join();
  for (int f : failures) EXPECT_EQ(f, 0);
}

// Large output blocks freed by one run come back for the next allocation of their size class,
// the same storage; small ones are not pooled; a smaller request takes a larger free block.
TEST(BlockPool, ALargeBlockFreedIsTakenAgain) {
  const size_t big = size_t{3} << 20;
  void* first = nullptr;
  {
    auto b = take_block(big);
    first = b.get();
    std::memset(first, 1, big);
  }
  const size_t held = pooled_free_bytes();
  EXPECT_GE(held, big);
  {
    auto again = take_block(big);
    EXPECT_EQ(again.get(), first);
    EXPECT_EQ(pooled_free_bytes(), held - big);
    auto other = take_block(big);  // the pooled block is in use: a new one
    EXPECT_NE(other.get(), first);
  }
  {
    auto half = take_block(big / 2 + 1);  // fits a pooled 3 MiB block
    auto tiny = take_block(100);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(tiny.get()) % 64, 0u);
    const size_t before = pooled_free_bytes();
    tiny.reset();
    EXPECT_EQ(pooled_free_bytes(), before);  // below kPooledBytes: back to the system
  }
  Tensor t = uninitialized_tensor(ElementType::float32, {1, 256, 64, 64});
  EXPECT_EQ(t.byte_size(), size_t{256} * 64 * 64 * 4);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t.raw()) % 64, 0u);
}

}  // namespace
}  // namespace switchyard::cpu
