// Tests for the reference math kernels.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "switchyard/reference/interpreter.h"
#include "switchyard/reference/util.h"
#include "test_util.h"

namespace switchyard::reference {
namespace {

using namespace switchyard::reference::test;

// ---- helpers ---------------------------------------------------------------

std::vector<Tensor> runN(const std::string& op, const std::vector<Input>& inputs, const std::vector<Attribute>& attrs,
                         int64_t opset, size_t n_out) {
  return expect_run(op, inputs, attrs, opset, first_outputs(n_out));
}

Tensor run1(const std::string& op, const std::vector<Input>& inputs, const std::vector<Attribute>& attrs = {},
            int64_t opset = 21) {
  return runN(op, inputs, attrs, opset, 1)[0];
}

StatusCode run_code(const std::string& op, const std::vector<Input>& inputs, const std::vector<Attribute>& attrs = {},
                    int64_t opset = 21) {
  return code_of(run_node(op, inputs, attrs, opset));
}

std::vector<double> arange(int64_t n, double start = 0) {
  std::vector<double> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = start + static_cast<double>(i);
  return v;
}

// ---- Conv -------------------------------------------------------------------

TEST(MathConv, PaddedAndUnpadded3x3) {
  Tensor x = F({1, 1, 5, 5}, arange(25));
  Tensor w = F({1, 1, 3, 3}, std::vector<double>(9, 1.0));
  expect_values(run1("Conv", {x, w}, {ais("kernel_shape", {3, 3})}), {1, 1, 3, 3},
                {54, 63, 72, 99, 108, 117, 144, 153, 162});
  expect_values(run1("Conv", {x, w}, {ais("pads", {1, 1, 1, 1})}), {1, 1, 5, 5},
                {12, 21, 27, 33, 24, 33, 54, 63, 72, 51, 63, 99, 108, 117, 81, 93, 144, 153, 162, 111, 72, 111, 117, 123, 84});
}

TEST(MathConv, StridesAndAsymmetricPads) {
  Tensor x = F({1, 1, 5, 5}, arange(25));
  Tensor w = F({1, 1, 3, 3}, std::vector<double>(9, 1.0));
  // pads top=1, left=0, bottom=1, right=0; stride 2: rows -1..1 / 1..3 / 3..5 (row 5 is padding), cols 0..2 / 2..4.
  expect_values(run1("Conv", {x, w}, {ais("pads", {1, 0, 1, 0}), ais("strides", {2, 2})}), {1, 1, 3, 2},
                {21, 33, 99, 117, 111, 123});
}

TEST(MathConv, DepthwiseGroupsWithBias) {
  Tensor x = F({1, 2, 2, 2}, arange(8, 1));
  Tensor w = F({2, 1, 1, 1}, {2, 3});
  Tensor b = F({2}, {1, -1});
  expect_values(run1("Conv", {x, w, b}, {ai("group", 2)}), {1, 2, 2, 2}, {3, 5, 7, 9, 14, 17, 20, 23});
}

TEST(MathConv, GroupsMixChannelsWithinGroupOnly) {
  // 4 input channels, 2 groups, 2 output channels: out0 = in0 + in1, out1 = in2 - in3.
  Tensor x = F({1, 4, 1, 1}, {1, 2, 10, 20});
  Tensor w = F({2, 2, 1, 1}, {1, 1, 1, -1});
  expect_values(run1("Conv", {x, w}, {ai("group", 2)}), {1, 2, 1, 1}, {3, -10});
}

TEST(MathConv, DilationsAndStrides1D) {
  Tensor x = F({1, 1, 5}, {1, 2, 3, 4, 5});
  Tensor w = F({1, 1, 2}, {1, 1});
  expect_values(run1("Conv", {x, w}, {ais("dilations", {2})}), {1, 1, 3}, {4, 6, 8});
  expect_values(run1("Conv", {x, w}, {ais("dilations", {2}), ais("strides", {2})}), {1, 1, 2}, {4, 8});
}

TEST(MathConv, AutoPadSameUpperVsLower) {
  Tensor x = F({1, 1, 3}, {1, 2, 3});
  Tensor w = F({1, 1, 2}, {1, 10});
  expect_values(run1("Conv", {x, w}, {as("auto_pad", "SAME_UPPER")}), {1, 1, 3}, {21, 32, 3});
  expect_values(run1("Conv", {x, w}, {as("auto_pad", "SAME_LOWER")}), {1, 1, 3}, {10, 21, 32});
  expect_values(run1("Conv", {x, w}, {as("auto_pad", "VALID")}), {1, 1, 2}, {21, 32});
}

TEST(MathConv, ThreeSpatialAxes) {
  Tensor x = F({1, 1, 2, 2, 3}, arange(12));
  Tensor w = F({1, 1, 2, 2, 2}, std::vector<double>(8, 1.0));
  // Windows over cols 0-1 and 1-2: sum of 8 values.
  expect_values(run1("Conv", {x, w}), {1, 1, 1, 1, 2}, {0 + 1 + 3 + 4 + 6 + 7 + 9 + 10, 1 + 2 + 4 + 5 + 7 + 8 + 10 + 11});
}

TEST(MathConv, Float16AndFloat64) {
  Tensor x = F({1, 2, 1, 2}, {1, 2, 3, 4}, ET::float16);
  Tensor w = F({1, 2, 1, 1}, {0.5, 0.25}, ET::float16);
  Tensor y = run1("Conv", {x, w});
  ASSERT_EQ(y.type(), ET::float16);
  expect_values(y, {1, 1, 1, 2}, {1.25, 2.0});
  Tensor xd = F({1, 1, 1, 1}, {1e200}, ET::float64);
  Tensor wd = F({1, 1, 1, 1}, {1e100}, ET::float64);
  Tensor yd = run1("Conv", {xd, wd});
  ASSERT_EQ(yd.type(), ET::float64);
  expect_values(yd, {1, 1, 1, 1}, {1e300}, 1e-12);
}

TEST(MathConv, EmptyBatch) {
  Tensor x = F({0, 1, 3, 3}, {});
  Tensor w = F({2, 1, 2, 2}, std::vector<double>(8, 1.0));
  Tensor y = run1("Conv", {x, w});
  EXPECT_EQ(y.shape(), (Shape{0, 2, 2, 2}));
}

TEST(MathConv, NaNPropagates) {
  Tensor x = F({1, 1, 1, 3}, {1, kNaN, 1});
  Tensor w = F({1, 1, 1, 1}, {2});
  expect_values(run1("Conv", {x, w}), {1, 1, 1, 3}, {2, kNaN, 2});
}

TEST(MathConv, BadShapesAreRejected) {
  Tensor x = F({1, 3, 4, 4}, std::vector<double>(48, 1.0));
  Tensor w = F({1, 2, 3, 3}, std::vector<double>(18, 1.0));
  EXPECT_EQ(run_code("Conv", {x, w}), StatusCode::invalid_argument);  // 3 channels vs 2
  Tensor w2 = F({1, 3, 5, 5}, std::vector<double>(75, 1.0));
  EXPECT_EQ(run_code("Conv", {x, w2}), StatusCode::invalid_argument);  // kernel bigger than input
  EXPECT_EQ(run_code("Conv", {I(ET::int32, {1, 1, 1, 1}, {1}), I(ET::int32, {1, 1, 1, 1}, {1})}),
            StatusCode::invalid_argument);
}

// ---- ConvTranspose ----------------------------------------------------------

TEST(MathConvTranspose, StridesPadsAndOutputPadding) {
  Tensor x = F({1, 1, 3}, {1, 2, 3});
  Tensor w = F({1, 1, 3}, {1, 1, 1});
  expect_values(run1("ConvTranspose", {x, w}), {1, 1, 5}, {1, 3, 6, 5, 3});
  expect_values(run1("ConvTranspose", {x, w}, {ais("strides", {2})}), {1, 1, 7}, {1, 1, 3, 2, 5, 3, 3});
  expect_values(run1("ConvTranspose", {x, w}, {ais("strides", {2}), ais("pads", {1, 1})}), {1, 1, 5}, {1, 3, 2, 5, 3});
  expect_values(run1("ConvTranspose", {x, w}, {ais("strides", {2}), ais("output_padding", {1})}), {1, 1, 8},
                {1, 1, 3, 2, 5, 3, 3, 0});
}

TEST(MathConvTranspose, GroupsAndBias) {
  // C=2, group 2, W (2, 1, 1): each channel scaled by its own weight, plus bias.
  Tensor x = F({1, 2, 2}, {1, 2, 3, 4});
  Tensor w = F({2, 1, 1}, {10, 100});
  Tensor b = F({2}, {1, 2});
  expect_values(run1("ConvTranspose", {x, w, b}, {ai("group", 2)}), {1, 2, 2}, {11, 21, 302, 402});
}

TEST(MathConvTranspose, AutoPadSameUpper) {
  Tensor x = F({1, 1, 2}, {1, 2});
  Tensor w = F({1, 1, 3}, {1, 1, 1});
  // Full output (stride 2): [1,1,3,2,2]; output 4 = in * stride, total pad 1, SAME_UPPER pads the end.
  expect_values(run1("ConvTranspose", {x, w}, {ais("strides", {2}), as("auto_pad", "SAME_UPPER")}), {1, 1, 4},
                {1, 1, 3, 2});
}

// ---- Gemm / MatMul ----------------------------------------------------------

TEST(MathGemm, TransposesAlphaBetaAndBroadcastC) {
  Tensor a = F({3, 2}, {1, 4, 2, 5, 3, 6});  // A^T = [[1,2,3],[4,5,6]]
  Tensor b = F({2, 3}, {1, 0, 1, 0, 1, 1});  // B^T = [[1,0],[0,1],[1,1]]
  Tensor c = F({2}, {10, 20});
  // A^T B^T = [[4,5],[10,11]]; 2 * that + 0.5 * [10,20].
  expect_values(run1("Gemm", {a, b, c}, {ai("transA", 1), ai("transB", 1), af("alpha", 2), af("beta", 0.5f)}), {2, 2},
                {13, 20, 25, 32});
}

TEST(MathGemm, NoCAndScalarC) {
  Tensor a = F({1, 2}, {1, 2});
  Tensor b = F({2, 2}, {3, 4, 5, 6});
  expect_values(run1("Gemm", {a, b}), {1, 2}, {13, 16});
  expect_values(run1("Gemm", {a, b, none()}), {1, 2}, {13, 16});  // C given as an omitted input
  expect_values(run1("Gemm", {a, b, F({}, {1})}), {1, 2}, {14, 17});
  EXPECT_EQ(run_code("Gemm", {a, b, F({3}, {1, 2, 3})}), StatusCode::invalid_argument);
  EXPECT_EQ(run_code("Gemm", {a, F({3, 2}, arange(6))}), StatusCode::invalid_argument);
}

TEST(MathGemm, IntegerExact) {
  Tensor a = I(ET::int64, {1, 1}, {(int64_t{1} << 53) + 1});
  Tensor b = I(ET::int64, {1, 1}, {1});
  Tensor c = I(ET::int64, {1, 1}, {2});
  expect_ints(run1("Gemm", {a, b, c}), ET::int64, {1, 1}, {(int64_t{1} << 53) + 3});
}

TEST(MathMatMul, Plain2D) {
  Tensor a = F({2, 3}, arange(6));
  Tensor b = F({3, 2}, arange(6));
  expect_values(run1("MatMul", {a, b}), {2, 2}, {10, 13, 28, 40});
}

TEST(MathMatMul, OneDimensionalOperands) {
  Tensor v = F({3}, {1, 2, 3});
  expect_values(run1("MatMul", {v, v}), {}, {14});
  Tensor m = F({3, 2}, arange(6));
  expect_values(run1("MatMul", {v, m}), {2}, {16, 22});
  Tensor m2 = F({2, 2, 3}, arange(12));
  expect_values(run1("MatMul", {m2, v}), {2, 2}, {8, 26, 44, 62});
}

TEST(MathMatMul, BatchBroadcasting) {
  Tensor a = F({2, 1, 1, 2}, {1, 2, 3, 4});
  Tensor b = F({3, 2, 1}, {1, 0, 0, 1, 1, 1});
  // Output batch (2,3): a_i . b_j.
  expect_values(run1("MatMul", {a, b}), {2, 3, 1, 1}, {1, 2, 3, 3, 4, 7});
  EXPECT_EQ(run_code("MatMul", {F({2, 3}, arange(6)), F({2, 3}, arange(6))}), StatusCode::invalid_argument);
  EXPECT_EQ(run_code("MatMul", {F({2, 1, 2}, arange(4)), F({3, 2, 1}, arange(6))}), StatusCode::invalid_argument);
}

TEST(MathMatMul, IntegersWrapAndStayExact) {
  Tensor a = I(ET::int32, {1, 2}, {std::numeric_limits<int32_t>::max(), 1});
  Tensor b = I(ET::int32, {2, 1}, {1, 1});
  expect_ints(run1("MatMul", {a, b}), ET::int32, {1, 1}, {std::numeric_limits<int32_t>::min()});
  Tensor c = I(ET::int64, {1, 1}, {(int64_t{1} << 60) + 1});
  Tensor d = I(ET::int64, {1, 1}, {3});
  expect_ints(run1("MatMul", {c, d}), ET::int64, {1, 1}, {3 * ((int64_t{1} << 60) + 1) - 0});
}

TEST(MathMatMul, EmptyInnerDimensionGivesZeros) {
  Tensor a = F({2, 0}, {});
  Tensor b = F({0, 3}, {});
  expect_values(run1("MatMul", {a, b}), {2, 3}, {0, 0, 0, 0, 0, 0});
}

// ---- Pooling ----------------------------------------------------------------

TEST(MathMaxPool, CeilModeAndIndices) {
  Tensor x = F({1, 1, 4, 4}, arange(16, 1));
  auto out = runN("MaxPool", {x}, {ais("kernel_shape", {3, 3}), ais("strides", {2, 2}), ai("ceil_mode", 1)}, 12, 2);
  expect_values(out[0], {1, 1, 2, 2}, {11, 12, 15, 16});
  expect_ints(out[1], ET::int64, {1, 1, 2, 2}, {10, 11, 14, 15});
  // Without ceil mode only one window fits.
  expect_values(run1("MaxPool", {x}, {ais("kernel_shape", {3, 3}), ais("strides", {2, 2})}, 12), {1, 1, 1, 1}, {11});
}

TEST(MathMaxPool, CeilModeDropsWindowStartingInPadding) {
  // in 2, k 1, s 2, pad_end 1: ceil gives 2 windows, but the second would start at 2, in the end padding.
  Tensor x = F({1, 1, 2}, {1, 2});
  expect_values(run1("MaxPool", {x}, {ais("kernel_shape", {1}), ais("strides", {2}), ais("pads", {0, 1}), ai("ceil_mode", 1)}, 12),
                {1, 1, 1}, {1});
  expect_values(run1("MaxPool", {x}, {ais("kernel_shape", {1}), ais("strides", {2}), ai("ceil_mode", 1)}, 12), {1, 1, 1}, {1});
}

TEST(MathMaxPool, StorageOrderColumnMajorIndices) {
  Tensor x = F({1, 1, 2, 3}, {1, 2, 3, 4, 9, 6});
  auto row = runN("MaxPool", {x}, {ais("kernel_shape", {2, 2})}, 12, 2);
  expect_values(row[0], {1, 1, 1, 2}, {9, 9});
  expect_ints(row[1], ET::int64, {1, 1, 1, 2}, {4, 4});  // h=1, w=1 -> 1*3+1
  auto col = runN("MaxPool", {x}, {ais("kernel_shape", {2, 2}), ai("storage_order", 1)}, 12, 2);
  expect_ints(col[1], ET::int64, {1, 1, 1, 2}, {3, 3});  // h + w*H = 1 + 1*2
}

TEST(MathMaxPool, IndicesIncludeBatchAndChannel) {
  Tensor x = F({2, 1, 1, 2}, {5, 1, 0, 7});
  auto out = runN("MaxPool", {x}, {ais("kernel_shape", {1, 2})}, 12, 2);
  expect_values(out[0], {2, 1, 1, 1}, {5, 7});
  expect_ints(out[1], ET::int64, {2, 1, 1, 1}, {0, 3});
}

TEST(MathMaxPool, PadsDilationsAndInt8) {
  Tensor x = I(ET::int8, {1, 1, 5}, {-5, -100, 7, 3, -128});
  Tensor y = run1("MaxPool", {x}, {ais("kernel_shape", {2}), ais("dilations", {2}), ais("pads", {1, 1})}, 12);
  // Padded positions -1..5; windows (o-1, o+1) for o = 0..4.
  expect_ints(y, ET::int8, {1, 1, 5}, {-100, 7, 3, 7, 3});
  Tensor u = I(ET::uint8, {1, 1, 2}, {200, 255});
  expect_ints(run1("MaxPool", {u}, {ais("kernel_shape", {2})}, 12), ET::uint8, {1, 1, 1}, {255});
}

TEST(MathMaxPool, NaNPropagates) {
  Tensor x = F({1, 1, 3}, {1, kNaN, 2});
  expect_values(run1("MaxPool", {x}, {ais("kernel_shape", {2})}, 12), {1, 1, 2}, {kNaN, kNaN});
}

TEST(MathAveragePool, CountIncludePad) {
  Tensor x = F({1, 1, 3}, {3, 6, 9});
  std::vector<Attribute> base = {ais("kernel_shape", {2}), ais("pads", {1, 1})};
  expect_values(run1("AveragePool", {x}, base, 19), {1, 1, 4}, {3, 4.5, 7.5, 9});
  auto inc = base;
  inc.push_back(ai("count_include_pad", 1));
  expect_values(run1("AveragePool", {x}, inc, 19), {1, 1, 4}, {1.5, 4.5, 7.5, 4.5});
}

TEST(MathAveragePool, CeilModePartialWindow) {
  Tensor x = F({1, 1, 1, 5}, {1, 2, 3, 4, 5});
  // k 2, s 2, ceil: windows [1,2], [3,4], [5] (partial window averages only its real value).
  expect_values(run1("AveragePool", {x}, {ais("kernel_shape", {1, 2}), ais("strides", {1, 2}), ai("ceil_mode", 1)}, 19),
                {1, 1, 1, 3}, {1.5, 3.5, 5});
  expect_values(run1("AveragePool", {x}, {ais("kernel_shape", {1, 2}), ais("strides", {1, 2}), ai("ceil_mode", 1),
                                          ai("count_include_pad", 1)}, 19),
                {1, 1, 1, 3}, {1.5, 3.5, 5});
}

TEST(MathAveragePool, DilationsAndSameUpper) {
  Tensor x = F({1, 1, 4}, {1, 2, 3, 4});
  expect_values(run1("AveragePool", {x}, {ais("kernel_shape", {2}), ais("dilations", {2})}, 19), {1, 1, 2}, {2, 3});
  expect_values(run1("AveragePool", {x}, {ais("kernel_shape", {2}), as("auto_pad", "SAME_UPPER")}, 19), {1, 1, 4},
                {1.5, 2.5, 3.5, 4});
}

TEST(MathLpPool, TwoNorm) {
  Tensor x = F({1, 1, 3}, {3, 4, 0});
  expect_values(run1("LpPool", {x}, {ais("kernel_shape", {2}), ai("p", 2)}, 18), {1, 1, 2}, {5, 4});
  expect_values(run1("GlobalLpPool", {x}, {ai("p", 1)}, 18), {1, 1, 1}, {7});
}

TEST(MathGlobalPool, AverageAndMax) {
  Tensor x = F({1, 2, 2, 2}, {1, 2, 3, 4, -1, -2, -3, 8});
  expect_values(run1("GlobalAveragePool", {x}), {1, 2, 1, 1}, {2.5, 0.5});
  expect_values(run1("GlobalMaxPool", {x}), {1, 2, 1, 1}, {4, 8});
  Tensor h = F({1, 1, 2}, {1, 2}, ET::float16);
  Tensor y = run1("GlobalAveragePool", {h});
  ASSERT_EQ(y.type(), ET::float16);
  expect_values(y, {1, 1, 1}, {1.5});
}

TEST(MathMaxUnpool, ScattersToIndices) {
  Tensor x = F({1, 1, 1, 2}, {5, 7});
  Tensor idx = I(ET::int64, {1, 1, 1, 2}, {1, 2});
  expect_values(run1("MaxUnpool", {x, idx}, {ais("kernel_shape", {2, 2}), ais("strides", {2, 2})}, 11), {1, 1, 2, 4},
                {0, 5, 7, 0, 0, 0, 0, 0});
}

TEST(MathMaxRoiPool, WholeImageRoi) {
  Tensor x = F({1, 1, 2, 2}, {1, 2, 3, 4});
  Tensor rois = F({1, 5}, {0, 0, 0, 1, 1});
  expect_values(run1("MaxRoiPool", {x, rois}, {ais("pooled_shape", {1, 1})}, 1), {1, 1, 1, 1}, {4});
}

// ---- Softmax family ---------------------------------------------------------

TEST(MathSoftmax, SingleAxisOpset13) {
  Tensor x = F({2, 2}, {0, std::log(3.0), 1, 1});
  expect_values(run1("Softmax", {x}, {}, 13), {2, 2}, {0.25, 0.75, 0.5, 0.5});
  // axis 0 normalises columns.
  expect_values(run1("Softmax", {x}, {ai("axis", 0)}, 13), {2, 2},
                {1 / (1 + std::exp(1.0)), 3 / (3 + std::exp(1.0)), std::exp(1.0) / (1 + std::exp(1.0)),
                 std::exp(1.0) / (3 + std::exp(1.0))});
}

TEST(MathSoftmax, Opset11CoercesTo2D) {
  // Shape (1,2,2) with axis 1: opset 11 normalises over all 4 values, opset 13 over axis 1 only.
  Tensor x = F({1, 2, 2}, {0, 0, 0, 0});
  expect_values(run1("Softmax", {x}, {ai("axis", 1)}, 11), {1, 2, 2}, {0.25, 0.25, 0.25, 0.25});
  expect_values(run1("Softmax", {x}, {ai("axis", 1)}, 13), {1, 2, 2}, {0.5, 0.5, 0.5, 0.5});
  // Default axis differs too: 1 before opset 13, -1 from 13.
  Tensor y = F({2, 2, 1}, {0, 0, 0, 0});
  expect_values(run1("Softmax", {y}, {}, 11), {2, 2, 1}, {0.5, 0.5, 0.5, 0.5});
  expect_values(run1("Softmax", {y}, {}, 13), {2, 2, 1}, {1, 1, 1, 1});
}

TEST(MathSoftmax, LargeValuesAndNegativeAxis) {
  Tensor x = F({1, 3}, {1000, 1000, -kInf});
  expect_values(run1("Softmax", {x}, {ai("axis", -1)}, 13), {1, 3}, {0.5, 0.5, 0});
  expect_values(run1("LogSoftmax", {x}, {}, 13), {1, 3}, {-std::log(2.0), -std::log(2.0), -kInf});
  EXPECT_EQ(run_code("Softmax", {x}, {ai("axis", 2)}, 13), StatusCode::invalid_argument);
}

// The operators' function bodies subtract ReduceMax: a group holding +inf or NaN is NaN
// throughout (inf - inf), as ONNX Runtime computes it; other groups are unaffected.
TEST(MathSoftmax, InfinityOrNanMakesItsGroupNan) {
  Tensor x = F({3, 3}, {1, kInf, 2, 1, kNaN, 2, 1, 2, -kInf});
  for (const char* op : {"Softmax", "LogSoftmax"}) {
    const std::vector<double> y = vals(run1(op, {x}, {}, 13));
    for (int i = 0; i < 6; ++i) EXPECT_TRUE(std::isnan(y[static_cast<size_t>(i)])) << op << " [" << i << "]";
    EXPECT_FALSE(std::isnan(y[6])) << op;
  }
}

// As ArgMax (numpy's argmax): a NaN ranks above every number, the first one wins.
TEST(MathHardmax, NanRanksAboveNumbers) {
  Tensor x = F({2, 3}, {1, kNaN, kInf, kNaN, 5, kNaN});
  expect_values(run1("Hardmax", {x}, {}, 13), {2, 3}, {0, 1, 0, 1, 0, 0});
}

TEST(MathHardmax, FirstMaximumWins) {
  Tensor x = F({2, 3}, {1, 3, 3, -1, -2, -3});
  expect_values(run1("Hardmax", {x}, {}, 13), {2, 3}, {0, 1, 0, 1, 0, 0});
  // Opset 11 with axis 0: one hot over the flattened tensor.
  expect_values(run1("Hardmax", {x}, {ai("axis", 0)}, 11), {2, 3}, {0, 1, 0, 0, 0, 0});
}

// ---- Dropout ----------------------------------------------------------------

TEST(MathDropout, InferenceIsIdentityWithTrueMask) {
  Tensor x = F({3}, {1, -2, 3});
  auto out = runN("Dropout", {x, F({}, {0.3})}, {}, 13, 2);
  expect_values(out[0], {3}, {1, -2, 3});
  expect_ints(out[1], ET::boolean, {3}, {1, 1, 1});
  // Training with ratio 0 is also the identity.
  Tensor train = I(ET::boolean, {}, {1});
  auto out2 = runN("Dropout", {x, F({}, {0}), train}, {}, 13, 2);
  expect_values(out2[0], {3}, {1, -2, 3});
  EXPECT_EQ(run_code("Dropout", {x, F({}, {0.5}), train}, {}, 13), StatusCode::unsupported);
}

// ---- Normalisation ----------------------------------------------------------

TEST(MathBatchNormalization, Inference) {
  Tensor x = F({1, 2, 1, 2}, {1, 3, 10, 20});
  Tensor scale = F({2}, {2, 1});
  Tensor bias = F({2}, {1, 0});
  Tensor mean = F({2}, {2, 10});
  Tensor var = F({2}, {4, 100});
  expect_values(run1("BatchNormalization", {x, scale, bias, mean, var}, {af("epsilon", 0)}, 15), {1, 2, 1, 2},
                {0, 2, 0, 1});
}

TEST(MathBatchNormalization, TrainingModeRunningStats) {
  Tensor x = F({2, 1}, {1, 3});  // batch mean 2, population variance 1
  Tensor one = F({1}, {1}), zero = F({1}, {0});
  auto out = runN("BatchNormalization", {x, one, zero, zero, one},
                  {ai("training_mode", 1), af("epsilon", 0), af("momentum", 0.5f)}, 15, 3);
  expect_values(out[0], {2, 1}, {-1, 1});
  expect_values(out[1], {1}, {1});  // 0 * 0.5 + 2 * 0.5
  expect_values(out[2], {1}, {1});  // 1 * 0.5 + 1 * 0.5
}

TEST(MathLayerNormalization, ValuesAndStatistics) {
  Tensor x = F({2, 2}, {1, 3, 2, 2});
  Tensor s = F({2}, {1, 2});
  Tensor b = F({2}, {0, 1});
  auto out = runN("LayerNormalization", {x, s, b}, {af("epsilon", 0)}, 17, 3);
  expect_values(out[0], {2, 2}, {-1, 3, kNaN, kNaN});  // second row has zero variance and eps 0
  expect_values(out[1], {2, 1}, {2, 2});
  expect_values(out[2], {2, 1}, {1, kInf});
  // axis 0 normalises everything; negative axis -2 is the same for rank 2.
  Tensor s4 = F({2, 2}, {1, 1, 1, 1});
  Tensor y = run1("LayerNormalization", {F({2, 2}, {0, 0, 4, 4}), s4}, {ai("axis", -2), af("epsilon", 0)}, 17);
  expect_values(y, {2, 2}, {-1, -1, 1, 1});
}

TEST(MathRMSNormalization, Basic) {
  Tensor x = F({1, 2}, {3, 4});
  Tensor s = F({2}, {1, 2});
  // rms = sqrt((9 + 16) / 2)
  const double rms = std::sqrt(12.5);
  expect_values(run1("RMSNormalization", {x, s}, {af("epsilon", 0)}, 23), {1, 2}, {3 / rms, 8 / rms});
}

TEST(MathInstanceNormalization, PerChannel) {
  Tensor x = F({1, 2, 2}, {1, 3, 5, 5});
  expect_values(run1("InstanceNormalization", {x, F({2}, {1, 1}), F({2}, {0, 7})}, {af("epsilon", 0)}, 6), {1, 2, 2},
                {-1, 1, kNaN, kNaN});
  expect_values(run1("InstanceNormalization", {x, F({2}, {2, 1}), F({2}, {0, 7})}, {af("epsilon", 1)}, 6), {1, 2, 2},
                {-2 / std::sqrt(2.0), 2 / std::sqrt(2.0), 7, 7});
}

TEST(MathGroupNormalization, TwoGroups) {
  Tensor x = F({1, 4, 1}, {1, 3, 10, 10});
  Tensor scale = F({4}, {1, 2, 1, 1});
  Tensor bias = F({4}, {0, 0, 5, 5});
  expect_values(run1("GroupNormalization", {x, scale, bias}, {ai("num_groups", 2), af("epsilon", 1e-12f)}, 21),
                {1, 4, 1}, {-1, 2, 5, 5}, 1e-4);
  EXPECT_EQ(run_code("GroupNormalization", {x, scale, bias}, {ai("num_groups", 3)}, 21), StatusCode::invalid_argument);
}

TEST(MathLpNormalization, L1AndL2) {
  Tensor x = F({2, 2}, {3, 4, 0, 0});
  expect_values(run1("LpNormalization", {x}, {ai("p", 2)}, 1), {2, 2}, {0.6, 0.8, 0, 0});
  expect_values(run1("LpNormalization", {x}, {ai("p", 1), ai("axis", 0)}, 1), {2, 2}, {1, 1, 0, 0});
}

TEST(MathLRN, AcrossChannels) {
  Tensor x = F({1, 2, 1, 1}, {1, 2});
  // size 2: channel c sums channels c-0 .. c+1.
  const double a = 1.0;
  expect_values(run1("LRN", {x}, {ai("size", 2), af("alpha", 1), af("beta", 1), af("bias", 1)}, 13), {1, 2, 1, 1},
                {1 / (1 + a / 2 * 5), 2 / (1 + a / 2 * 4)});
}

TEST(MathMeanVarianceNormalization, DefaultAxes) {
  Tensor x = F({2, 1, 1, 1}, {1, 3});
  expect_values(run1("MeanVarianceNormalization", {x}, {}, 13), {2, 1, 1, 1}, {-1, 1}, 1e-6);
}

// ---- Quantisation -----------------------------------------------------------

TEST(MathQuantizeLinear, RoundHalfEvenAndSaturate) {
  Tensor x = F({6}, {0.5, 1.5, 2.5, -0.5, 1000, -1000});
  expect_ints(run1("QuantizeLinear", {x, F({}, {1}), I(ET::int8, {}, {0})}, {}, 21), ET::int8, {6},
              {0, 2, 2, 0, 127, -128});
  expect_ints(run1("QuantizeLinear", {x, F({}, {1}), I(ET::uint8, {}, {10})}, {}, 21), ET::uint8, {6},
              {10, 12, 12, 10, 255, 0});
  // No zero point: uint8 with zero point 0.
  expect_ints(run1("QuantizeLinear", {F({2}, {-3, 3}), F({}, {2})}, {}, 13), ET::uint8, {2}, {0, 2});
}

TEST(MathQuantizeLinear, PerAxisAndBlocked) {
  Tensor x = F({2, 2}, {1, 2, 3, 4});
  expect_ints(run1("QuantizeLinear", {x, F({2}, {1, 2}), I(ET::int8, {2}, {0, 1})}, {ai("axis", 1)}, 13), ET::int8,
              {2, 2}, {1, 2, 3, 3});
  expect_ints(run1("QuantizeLinear", {x, F({2}, {1, 2}), I(ET::int8, {2}, {0, 1})}, {ai("axis", -2)}, 13), ET::int8,
              {2, 2}, {1, 2, 3, 3});
  // Blocks of 2 along axis 1: x (1,4), scale (1,2).
  Tensor xb = F({1, 4}, {2, 4, 6, 8});
  expect_ints(run1("QuantizeLinear", {xb, F({1, 2}, {2, 4}), I(ET::int16, {1, 2}, {0, 0})},
                   {ai("axis", 1), ai("block_size", 2)}, 21),
              ET::int16, {1, 4}, {1, 2, 2, 2});
  EXPECT_EQ(run_code("QuantizeLinear", {x, F({3}, {1, 2, 3}), I(ET::int8, {3}, {0, 0, 0})}, {ai("axis", 1)}, 13),
            StatusCode::invalid_argument);
}

TEST(MathQuantizeLinear, Int4PackingAndFloat8) {
  Tensor x = F({3}, {-9, 7.4, 3});
  Tensor q = run1("QuantizeLinear", {x, F({}, {1}), I(ET::int4, {}, {0})}, {}, 21);
  expect_ints(q, ET::int4, {3}, {-8, 7, 3});
  Tensor dq = run1("DequantizeLinear", {q, F({}, {0.5}), I(ET::int4, {}, {1})}, {}, 21);
  expect_values(dq, {3}, {-4.5, 3, 1});
  // float8e4m3fn: 448 is the largest value; saturate clamps, otherwise NaN.
  Tensor f8 = Tensor::allocate(ET::float8e4m3fn, {});
  f8.mutable_data<uint8_t>()[0] = 0;
  Tensor big = F({3}, {448, 1000, 0.3});
  Tensor y = run1("QuantizeLinear", {big, F({}, {1}), f8}, {}, 21);
  ASSERT_EQ(y.type(), ET::float8e4m3fn);
  EXPECT_EQ(y.data<uint8_t>()[0], 0x7E);
  EXPECT_EQ(y.data<uint8_t>()[1], 0x7E);
  EXPECT_EQ(y.data<uint8_t>()[2], 0x2A);  // 0.3 -> 0.3125 = 1.25 * 2^-2: exponent field 5, mantissa 2
  Tensor y2 = run1("QuantizeLinear", {big, F({}, {1}), f8}, {ai("saturate", 0)}, 21);
  EXPECT_EQ(y2.data<uint8_t>()[1], 0x7F);
  expect_values(run1("DequantizeLinear", {y, F({}, {2})}, {}, 21), {3}, {896, 896, 0.625});
}

TEST(MathDequantizeLinear, PerAxisInt32AndFloat16Scale) {
  Tensor x = I(ET::uint8, {2, 2}, {0, 255, 10, 20});
  expect_values(run1("DequantizeLinear", {x, F({2}, {1, 0.5}), I(ET::uint8, {2}, {10, 20})}, {ai("axis", 0)}, 13),
                {2, 2}, {-10, 245, -5, 0});
  expect_values(run1("DequantizeLinear", {I(ET::int32, {2}, {-3, 1 << 30}), F({}, {2})}, {}, 13), {2},
                {-6, 2147483648.0});
  Tensor y = run1("DequantizeLinear", {I(ET::int8, {1}, {-4}), F({}, {0.25}, ET::float16)}, {}, 21);
  ASSERT_EQ(y.type(), ET::float16);
  expect_values(y, {1}, {-1});
}

TEST(MathDynamicQuantizeLinear, ScaleAndZeroPoint) {
  Tensor x = F({3}, {0, 63.75, -63.75});
  auto out = runN("DynamicQuantizeLinear", {x}, {}, 11, 3);
  expect_values(out[1], {}, {0.5});                // 127.5 / 255
  expect_ints(out[2], ET::uint8, {}, {128});       // round(63.75 / 0.5) = round(127.5) = 128 (even)
  expect_ints(out[0], ET::uint8, {3}, {128, 255, 0});  // 127.5 -> 128 + 128 saturates; -127.5 -> -128 + 128
  auto zeros = runN("DynamicQuantizeLinear", {F({2}, {0, 0})}, {}, 11, 3);
  expect_ints(zeros[0], ET::uint8, {2}, {0, 0});
}

TEST(MathMatMulInteger, ZeroPointsPerRowAndColumn) {
  Tensor a = I(ET::uint8, {2, 2}, {11, 12, 13, 14});
  Tensor b = I(ET::int8, {2, 2}, {1, 2, 3, 4});
  Tensor azp = I(ET::uint8, {2}, {10, 12});
  Tensor bzp = I(ET::int8, {}, {1});
  // (a - azp) = [[1,2],[1,2]], (b - 1) = [[0,1],[2,3]].
  expect_ints(run1("MatMulInteger", {a, b, azp, bzp}, {}, 10), ET::int32, {2, 2}, {4, 7, 4, 7});
  expect_ints(run1("MatMulInteger", {a, b}, {}, 10), ET::int32, {2, 2}, {47, 70, 55, 82});
}

TEST(MathQLinearMatMul, RequantizesWithRounding) {
  Tensor a = I(ET::uint8, {1, 2}, {2, 4});
  Tensor b = I(ET::uint8, {2, 1}, {3, 5});
  // (2*3 + 4*5) = 26; * 0.5 * 1 / 4 = 3.25 -> 3 + 100.
  Tensor y = run1("QLinearMatMul", {a, F({}, {0.5}), I(ET::uint8, {}, {0}), b, F({}, {1}), I(ET::uint8, {}, {0}),
                                    F({}, {4}), I(ET::uint8, {}, {100})}, {}, 10);
  expect_ints(y, ET::uint8, {1, 1}, {103});
}

TEST(MathConvInteger, WithZeroPoint) {
  Tensor x = I(ET::uint8, {1, 1, 2, 2}, {2, 3, 4, 5});
  Tensor w = I(ET::uint8, {1, 1, 1, 1}, {3});
  expect_ints(run1("ConvInteger", {x, w, I(ET::uint8, {}, {1}), I(ET::uint8, {}, {1})}, {}, 10), ET::int32,
              {1, 1, 2, 2}, {2, 4, 6, 8});
}

TEST(MathQLinearConv, BiasAndSaturation) {
  Tensor x = I(ET::int8, {1, 1, 1, 2}, {10, 100});
  Tensor w = I(ET::int8, {1, 1, 1, 1}, {2});
  Tensor b = I(ET::int32, {1}, {1});
  // (x*2 + 1) * (1 * 1 / 1) = 21, 201 -> saturates to 127.
  Tensor y = run1("QLinearConv", {x, F({}, {1}), I(ET::int8, {}, {0}), w, F({}, {1}), I(ET::int8, {}, {0}), F({}, {1}),
                                  I(ET::int8, {}, {0}), b}, {}, 10);
  expect_ints(y, ET::int8, {1, 1, 1, 2}, {21, 127});
}

// ---- Einsum -----------------------------------------------------------------

TEST(MathEinsum, MatMulTraceTransposeAndImplicit) {
  Tensor a = F({2, 2}, {1, 2, 3, 4});
  Tensor b = F({2, 2}, {5, 6, 7, 8});
  expect_values(run1("Einsum", {a, b}, {as("equation", "ij,jk->ik")}, 12), {2, 2}, {19, 22, 43, 50});
  expect_values(run1("Einsum", {a}, {as("equation", "ii->i")}, 12), {2}, {1, 4});
  expect_values(run1("Einsum", {a}, {as("equation", "ii")}, 12), {}, {5});
  expect_values(run1("Einsum", {a}, {as("equation", "ba")}, 12), {2, 2}, {1, 3, 2, 4});
  expect_values(run1("Einsum", {a, b}, {as("equation", "...j,...j->...")}, 12), {2}, {17, 53});
  EXPECT_EQ(run_code("Einsum", {a, F({3}, {1, 2, 3})}, {as("equation", "ij,j->i")}, 12), StatusCode::invalid_argument);
}

}  // namespace
}  // namespace switchyard::reference
