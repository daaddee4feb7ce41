// Tests for the reference reduction kernels.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>

#include "switchyard/reference/interpreter.h"
#include "switchyard/reference/util.h"
#include "test_util.h"

namespace switchyard::reference {
namespace {

using namespace switchyard::reference::test;

Tensor axes(std::vector<int64_t> v) { return i64({static_cast<int64_t>(v.size())}, v); }

Tensor run1(const std::string& op, const std::vector<Input>& inputs, const std::vector<Attribute>& attrs = {},
            int64_t opset = 18) {
  return values_or_throw(run_node(op, inputs, attrs, opset))[0].tensor;
}

StatusCode error_of(const std::string& op, const std::vector<Input>& inputs, const std::vector<Attribute>& attrs = {},
                    int64_t opset = 18) {
  return code_of(run_node(op, inputs, attrs, opset));
}

// [[1, 2, 3], [4, 5, 6]]
Tensor m23() { return f32({2, 3}, {1, 2, 3, 4, 5, 6}); }

TEST(ReductionSum, AxesInputKeepdimsAndOpsets) {
  Tensor y = run1("ReduceSum", {m23(), axes({1})}, {ai("keepdims", 0)}, 13);
  EXPECT_EQ(y.shape(), (Shape{2}));
  EXPECT_EQ(vals(y), (std::vector<double>{6, 15}));
  Tensor k = run1("ReduceSum", {m23(), axes({-2})}, {}, 13);
  EXPECT_EQ(k.shape(), (Shape{1, 3}));
  EXPECT_EQ(vals(k), (std::vector<double>{5, 7, 9}));
  // Opset 11: axes attribute.
  EXPECT_EQ(vals(run1("ReduceSum", {m23()}, {ais("axes", {0})}, 11)), (std::vector<double>{5, 7, 9}));
  // No axes: all of them.
  Tensor all = run1("ReduceSum", {m23()}, {ai("keepdims", 0)}, 13);
  EXPECT_EQ(all.shape(), Shape{});
  EXPECT_EQ(vals(all)[0], 21.0);
}

TEST(ReductionSum, NoopWithEmptyAxes) {
  Tensor y = run1("ReduceSum", {m23(), axes({})}, {ai("noop_with_empty_axes", 1)}, 13);
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  EXPECT_EQ(vals(y), vals(m23()));
  Tensor z = run1("ReduceSum", {m23(), axes({})}, {}, 13);
  EXPECT_EQ(z.shape(), (Shape{1, 1}));
  EXPECT_EQ(vals(z)[0], 21.0);
}

// With noop_with_empty_axes and no axes each output reduces its one input value, so the
// elementwise part stays (onnx/onnx#7394): L1 |x|, L2 |x|, SumSquare x^2, LogSum log x, LogSumExp x.
TEST(ReductionOps, NoopWithEmptyAxesKeepsTheElementwisePart) {
  Tensor x = f32({2, 2}, {-2, 3, 0.5f, -0.25f});
  auto noop = [&](const char* op) { return vals(run1(op, {x, axes({})}, {ai("noop_with_empty_axes", 1)})); };
  EXPECT_EQ(noop("ReduceL1"), (std::vector<double>{2, 3, 0.5, 0.25}));
  EXPECT_EQ(noop("ReduceL2"), (std::vector<double>{2, 3, 0.5, 0.25}));
  EXPECT_EQ(noop("ReduceSumSquare"), (std::vector<double>{4, 9, 0.25, 0.0625}));
  EXPECT_EQ(noop("ReduceMax"), vals(x));
  EXPECT_EQ(noop("ReduceLogSumExp"), vals(x));
  const std::vector<double> logs = noop("ReduceLogSum");
  EXPECT_TRUE(std::isnan(logs[0]));
  EXPECT_FLOAT_EQ(static_cast<float>(logs[1]), std::log(3.0f));
  EXPECT_EQ(run1("ReduceL1", {x, axes({})}, {ai("noop_with_empty_axes", 1)}).shape(), (Shape{2, 2}));
}

TEST(ReductionSum, IntegerExactAndWrapping) {
  const int64_t big = (int64_t{1} << 53) + 1;
  EXPECT_EQ(ints(run1("ReduceSum", {i64({2}, {big, 2})}, {}, 13))[0], big + 2);
  Tensor w = i32({2}, {std::numeric_limits<int32_t>::max(), 1});
  EXPECT_EQ(ints(run1("ReduceSum", {w}, {}, 13))[0], std::numeric_limits<int32_t>::min());
}

TEST(ReductionSum, EmptySet) {
  Tensor e = f32({2, 0, 4}, {});
  Tensor y = run1("ReduceSum", {e, axes({1})}, {}, 13);
  EXPECT_EQ(y.shape(), (Shape{2, 1, 4}));
  EXPECT_EQ(vals(y), std::vector<double>(8, 0.0));
  // A zero non-reduced axis gives an empty output.
  EXPECT_EQ(run1("ReduceSum", {e, axes({2})}, {}, 13).shape(), (Shape{2, 0, 1}));
  EXPECT_EQ(vals(run1("ReduceProd", {e, axes({1})}))[0], 1.0);
  EXPECT_TRUE(std::isinf(vals(run1("ReduceMax", {e, axes({1})}))[0]));
  EXPECT_LT(vals(run1("ReduceMax", {e, axes({1})}))[0], 0);
  EXPECT_GT(vals(run1("ReduceMin", {e, axes({1})}))[0], 0);
  EXPECT_TRUE(std::isnan(vals(run1("ReduceMean", {e, axes({1})}))[0]));
  EXPECT_EQ(vals(run1("ReduceL2", {e, axes({1})}))[0], 0.0);
  EXPECT_EQ(vals(run1("ReduceLogSum", {e, axes({1})}))[0], -std::numeric_limits<double>::infinity());
  EXPECT_EQ(vals(run1("ReduceLogSumExp", {e, axes({1})}))[0], -std::numeric_limits<double>::infinity());
  Tensor ei = i32({0, 2}, {});
  EXPECT_EQ(ints(run1("ReduceMin", {ei, axes({0})}))[0], std::numeric_limits<int32_t>::max());
  EXPECT_EQ(ints(run1("ReduceMax", {ei, axes({0})}))[0], std::numeric_limits<int32_t>::min());
}

TEST(ReductionOps, Values) {
  Tensor x = f32({2, 2}, {1, -2, 3, -4});
  EXPECT_EQ(vals(run1("ReduceL1", {x, axes({1})}, {ai("keepdims", 0)})), (std::vector<double>{3, 7}));
  EXPECT_NEAR(vals(run1("ReduceL2", {x, axes({0})}))[0], std::sqrt(10.0), 1e-6);
  EXPECT_EQ(vals(run1("ReduceSumSquare", {x, axes({1})})), (std::vector<double>{5, 25}));
  EXPECT_EQ(vals(run1("ReduceProd", {x, axes({0})})), (std::vector<double>{3, 8}));
  EXPECT_EQ(vals(run1("ReduceMean", {x})), (std::vector<double>{-0.5}));
  EXPECT_EQ(vals(run1("ReduceMax", {x, axes({1})})), (std::vector<double>{1, 3}));
  EXPECT_EQ(vals(run1("ReduceMin", {x, axes({-1})})), (std::vector<double>{-2, -4}));
  EXPECT_NEAR(vals(run1("ReduceLogSum", {f32({2}, {1, 2})}))[0], std::log(3.0), 1e-6);
  // Log-sum-exp stays finite for large inputs.
  EXPECT_NEAR(vals(run1("ReduceLogSumExp", {f32({2}, {1000, 1000})}))[0], 1000 + std::log(2.0), 1e-3);
  // Opset 13 variants take axes as an attribute.
  EXPECT_EQ(vals(run1("ReduceMean", {x}, {ais("axes", {1})}, 13)), (std::vector<double>{-0.5, -0.5}));
}

TEST(ReductionOps, NanPropagationAndTypes) {
  Tensor x = f32({3}, {1, std::nanf(""), 2});
  EXPECT_TRUE(std::isnan(vals(run1("ReduceMax", {x}))[0]));
  EXPECT_TRUE(std::isnan(vals(run1("ReduceMin", {x}))[0]));
  Tensor h = from_doubles(ElementType::float16, {3}, {0.5, 1.5, 2});
  Tensor s = run1("ReduceSum", {h}, {}, 13);
  EXPECT_EQ(s.type(), ElementType::float16);
  EXPECT_EQ(vals(s)[0], 4.0);
  Tensor b = Tensor::from_vector<uint8_t>(ElementType::boolean, {2, 2}, {1, 0, 1, 1});
  EXPECT_EQ(ints(run1("ReduceMin", {b, axes({1})}, {}, 20)), (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(ints(run1("ReduceMax", {b, axes({1})}, {}, 20)), (std::vector<int64_t>{1, 1}));
  // Integer mean truncates.
  EXPECT_EQ(ints(run1("ReduceMean", {i32({2}, {1, 2})})), (std::vector<int64_t>{1}));
  Tensor u = Tensor::from_vector<uint64_t>(ElementType::uint64, {2}, {~uint64_t{0}, 1});
  EXPECT_EQ(run1("ReduceMax", {u}).data<uint64_t>()[0], ~uint64_t{0});
}

TEST(ReductionOps, ScalarInput) {
  Tensor s = f32({}, {3});
  Tensor y = run1("ReduceSum", {s, axes({0})}, {}, 13);
  EXPECT_EQ(y.shape(), Shape{});
  EXPECT_EQ(vals(y)[0], 3.0);
  EXPECT_EQ(vals(run1("ReduceSumSquare", {s}))[0], 9.0);
  EXPECT_EQ(ints(run1("ArgMax", {s}, {}, 13))[0], 0);
}

TEST(ReductionOps, BadAxes) {
  EXPECT_EQ(error_of("ReduceSum", {m23(), axes({2})}, {}, 13), StatusCode::invalid_argument);
  EXPECT_EQ(error_of("ReduceMean", {m23(), axes({1, -1})}), StatusCode::invalid_argument);
}

TEST(ReductionArg, MaxMinKeepdimsLastIndex) {
  Tensor x = f32({2, 3}, {2, 5, 5, 1, 1, 0});
  Tensor y = run1("ArgMax", {x}, {ai("axis", 1)}, 13);
  EXPECT_EQ(y.shape(), (Shape{2, 1}));
  EXPECT_EQ(ints(y), (std::vector<int64_t>{1, 0}));
  EXPECT_EQ(ints(run1("ArgMax", {x}, {ai("axis", -1), ai("select_last_index", 1)}, 13)),
            (std::vector<int64_t>{2, 1}));
  Tensor z = run1("ArgMin", {x}, {ai("keepdims", 0)}, 13);
  EXPECT_EQ(z.shape(), (Shape{3}));
  EXPECT_EQ(ints(z), (std::vector<int64_t>{1, 1, 1}));
  EXPECT_EQ(ints(run1("ArgMin", {x}, {ai("axis", 1), ai("keepdims", 0)}, 13)), (std::vector<int64_t>{0, 2}));
  Tensor u = Tensor::from_vector<uint64_t>(ElementType::uint64, {2}, {~uint64_t{0} - 1, ~uint64_t{0}});
  EXPECT_EQ(ints(run1("ArgMax", {u}, {}, 13))[0], 1);
  EXPECT_EQ(error_of("ArgMax", {f32({0, 2}, {})}, {}, 13), StatusCode::invalid_argument);
  EXPECT_EQ(error_of("ArgMax", {x}, {ai("axis", 2)}, 13), StatusCode::invalid_argument);
}

}  // namespace
}  // namespace switchyard::reference
