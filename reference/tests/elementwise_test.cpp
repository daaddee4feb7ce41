// Tests for the reference elementwise kernels.
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

Tensor run1(const std::string& op, const std::vector<Input>& inputs, const std::vector<Attribute>& attrs = {},
            int64_t opset = 21) {
  return expect_run(op, inputs, attrs, opset)[0];
}

StatusCode run_error(const std::string& op, const std::vector<Input>& inputs, const std::vector<Attribute>& attrs = {},
                     int64_t opset = 21) {
  return code_of(run_node(op, inputs, attrs, opset));
}

Tensor f64(Shape s, std::vector<double> v) { return Tensor::from_vector<double>(ET::float64, std::move(s), v); }
Tensor i8(Shape s, std::vector<int8_t> v) { return Tensor::from_vector<int8_t>(ET::int8, std::move(s), v); }
Tensor u8(Shape s, std::vector<uint8_t> v) { return Tensor::from_vector<uint8_t>(ET::uint8, std::move(s), v); }
Tensor u64(Shape s, std::vector<uint64_t> v) { return Tensor::from_vector<uint64_t>(ET::uint64, std::move(s), v); }
Tensor boolean(Shape s, std::vector<uint8_t> v) { return Tensor::from_vector<uint8_t>(ET::boolean, std::move(s), v); }
Tensor f16(Shape s, std::vector<float> v) {
  std::vector<uint16_t> bits;
  for (float x : v) bits.push_back(float_to_half(x));
  return Tensor::from_vector<uint16_t>(ET::float16, std::move(s), bits);
}

template <typename T>
std::vector<T> values(const Tensor& t) {
  if (!t.defined()) return {};
  return std::vector<T>(t.data<T>(), t.data<T>() + t.numel());
}

// Compares as doubles; NaN matches NaN; `tol` is absolute.
void expect_doubles(const Tensor& t, const std::vector<double>& expected, double tol = 0) {
  ASSERT_TRUE(t.defined());
  ASSERT_EQ(t.numel(), static_cast<int64_t>(expected.size()));
  for (size_t i = 0; i < expected.size(); ++i) {
    double got = get_double(t, static_cast<int64_t>(i));
    if (std::isnan(expected[i])) {
      EXPECT_TRUE(std::isnan(got)) << "element " << i << " = " << got;
    } else if (std::isinf(expected[i])) {
      EXPECT_EQ(got, expected[i]) << "element " << i;
    } else {
      EXPECT_NEAR(got, expected[i], tol) << "element " << i;
      if (expected[i] == 0 && tol == 0) {
        EXPECT_EQ(std::signbit(got), std::signbit(expected[i])) << "sign of " << i;
      }
    }
  }
}

std::vector<uint8_t> bytes(const Tensor& t) {
  const uint8_t* p = static_cast<const uint8_t*>(t.raw());
  return std::vector<uint8_t>(p, p + t.byte_size());
}

// ---- arithmetic ---------------------------------------------------------

TEST(ElementwiseArith, AddBroadcastsRowVector) {
  Tensor y = run1("Add", {f32({2, 3}, {1, 2, 3, 4, 5, 6}), f32({3}, {10, 20, 30})});
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  EXPECT_EQ(values<float>(y), (std::vector<float>{11, 22, 33, 14, 25, 36}));
}

TEST(ElementwiseArith, AddBroadcastsBothWays) {
  Tensor y = run1("Sub", {f32({2, 1}, {10, 20}), f32({1, 3}, {1, 2, 3})});
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  EXPECT_EQ(values<float>(y), (std::vector<float>{9, 8, 7, 19, 18, 17}));
}

TEST(ElementwiseArith, IntegerAddWraps) {
  EXPECT_EQ(values<int8_t>(run1("Add", {i8({2}, {127, -128}), i8({2}, {1, -1})})), (std::vector<int8_t>{-128, 127}));
  EXPECT_EQ(values<uint8_t>(run1("Add", {u8({1}, {250}), u8({1}, {10})})), (std::vector<uint8_t>{4}));
  EXPECT_EQ(values<uint64_t>(run1("Sub", {u64({1}, {0}), u64({1}, {1})})),
            (std::vector<uint64_t>{std::numeric_limits<uint64_t>::max()}));
  EXPECT_EQ(values<int32_t>(run1("Mul", {i32({1}, {65536}), i32({1}, {65536})})), (std::vector<int32_t>{0}));
}

TEST(ElementwiseArith, Int64StaysExactBeyond2To53) {
  const int64_t big = (int64_t{1} << 53) + 1;
  EXPECT_EQ(values<int64_t>(run1("Add", {i64({1}, {big}), i64({1}, {2})})), (std::vector<int64_t>{big + 2}));
  EXPECT_EQ(values<int64_t>(run1("Mul", {i64({1}, {big}), i64({1}, {3})})), (std::vector<int64_t>{big * 3}));
  const uint64_t ubig = (uint64_t{1} << 63) + 7;
  EXPECT_EQ(values<uint64_t>(run1("Div", {u64({1}, {ubig}), u64({1}, {2})})), (std::vector<uint64_t>{ubig / 2}));
}

TEST(ElementwiseArith, IntegerDivTruncatesTowardZero) {
  Tensor y = run1("Div", {i32({4}, {-7, 7, -7, 7}), i32({4}, {2, -2, -2, 2})});
  EXPECT_EQ(values<int32_t>(y), (std::vector<int32_t>{-3, -3, 3, 3}));
  const int32_t mn = std::numeric_limits<int32_t>::min();
  EXPECT_EQ(values<int32_t>(run1("Div", {i32({1}, {mn}), i32({1}, {-1})})), (std::vector<int32_t>{mn}));
  EXPECT_EQ(run_error("Div", {i32({1}, {1}), i32({1}, {0})}), StatusCode::invalid_argument);
}

TEST(ElementwiseArith, FloatDivByZeroFollowsIeee) {
  expect_doubles(run1("Div", {f32({3}, {1, -1, 0}), f32({3}, {0, 0, 0})}), {kInf, -kInf, kNaN});
}

TEST(ElementwiseArith, Float16RoundsToNearestEven) {
  // 1 + 2^-11 is halfway between 1 and 1 + 2^-10: ties to the even mantissa (1.0).
  // 1 + 3*2^-11 is halfway between 1 + 2^-10 and 1 + 2^-9: rounds to 1 + 2^-9.
  Tensor y = run1("Add", {f16({2}, {1.0f, 1.0f}), f16({2}, {0.00048828125f, 0.00146484375f})});
  EXPECT_EQ(y.type(), ET::float16);
  expect_doubles(y, {1.0, 1.001953125});
}

TEST(ElementwiseArith, EmptyTensorsBroadcast) {
  Tensor y = run1("Add", {f32({0, 3}, {}), f32({3}, {1, 2, 3})});
  EXPECT_EQ(y.shape(), (Shape{0, 3}));
  EXPECT_EQ(y.numel(), 0);
  EXPECT_EQ(run1("Mul", {f32({0}, {}), f32({1}, {2})}).shape(), (Shape{0}));
}

TEST(ElementwiseArith, RejectsBadShapesAndTypes) {
  EXPECT_EQ(run_error("Add", {f32({2}, {1, 2}), f32({3}, {1, 2, 3})}), StatusCode::invalid_argument);
  EXPECT_EQ(run_error("Add", {f32({1}, {1}), f64({1}, {1})}), StatusCode::invalid_argument);
  EXPECT_EQ(run_error("Add", {boolean({1}, {1}), boolean({1}, {1})}), StatusCode::invalid_argument);
  EXPECT_EQ(run_error("Sqrt", {i32({1}, {4})}), StatusCode::invalid_argument);
}

TEST(ElementwiseArith, LegacyBroadcastBeforeOpset7) {
  Tensor a = f32({2, 3}, {1, 2, 3, 4, 5, 6});
  // broadcast=1, axis=0: B's single dim lines up with A's first dim.
  Tensor y = run1("Add", {a, f32({2}, {10, 20})}, {ai("broadcast", 1), ai("axis", 0)}, 6);
  EXPECT_EQ(values<float>(y), (std::vector<float>{11, 12, 13, 24, 25, 26}));
  // broadcast=1 without axis: trailing alignment, as numpy.
  EXPECT_EQ(values<float>(run1("Mul", {a, f32({3}, {1, 0, 2})}, {ai("broadcast", 1)}, 6)),
            (std::vector<float>{1, 0, 6, 4, 0, 12}));
  // broadcast=0 demands equal shapes.
  EXPECT_EQ(run_error("Sub", {a, f32({3}, {1, 2, 3})}, {}, 6), StatusCode::invalid_argument);
  EXPECT_EQ(values<uint8_t>(run1("Greater", {a, f32({2}, {2, 5})}, {ai("broadcast", 1), ai("axis", 0)}, 6)),
            (std::vector<uint8_t>{0, 0, 1, 0, 0, 1}));
}

TEST(ElementwiseArith, ModSignRules) {
  Tensor a = i32({4}, {-4, 7, 5, -5});
  Tensor b = i32({4}, {3, -3, -3, 3});
  EXPECT_EQ(values<int32_t>(run1("Mod", {a, b})), (std::vector<int32_t>{2, -2, -1, 1}));  // sign of divisor
  EXPECT_EQ(values<int32_t>(run1("Mod", {a, b}, {ai("fmod", 1)})),
            (std::vector<int32_t>{-1, 1, 2, -2}));  // sign of dividend
  expect_doubles(run1("Mod", {f32({2}, {-4.5f, 4.5f}), f32({1}, {2})}, {ai("fmod", 1)}), {-0.5, 0.5});
  EXPECT_EQ(run_error("Mod", {f32({1}, {1}), f32({1}, {2})}), StatusCode::invalid_argument);
  EXPECT_EQ(run_error("Mod", {i32({1}, {1}), i32({1}, {0})}), StatusCode::invalid_argument);
}

TEST(ElementwiseArith, PowTypes) {
  expect_doubles(run1("Pow", {f32({3}, {2, 4, -8}), f32({3}, {3, 0.5f, 1.0f / 3})}), {8, 2, kNaN});
  // 3^39 needs 62 bits: exact integer power.
  EXPECT_EQ(values<int64_t>(run1("Pow", {i64({1}, {3}), i64({1}, {39})})),
            (std::vector<int64_t>{4052555153018976267LL}));
  EXPECT_EQ(values<int32_t>(run1("Pow", {i32({2}, {2, -2}), i64({2}, {31, 3})})),
            (std::vector<int32_t>{std::numeric_limits<int32_t>::min(), -8}));  // wraps
  EXPECT_EQ(values<int32_t>(run1("Pow", {i32({3}, {2, 3, 4}), f32({3}, {0.5f, 2, 1.5f})})),
            (std::vector<int32_t>{1, 9, 8}));  // truncated to the base's type
  expect_doubles(run1("Pow", {f32({2}, {2, 10}), i64({2}, {-1, 2})}), {0.5, 100});
  EXPECT_EQ(values<int32_t>(run1("Pow", {i32({3}, {1, -1, 5}), i32({3}, {-3, -3, -1})})),
            (std::vector<int32_t>{1, -1, 0}));
}

TEST(ElementwiseArith, VariadicSumMeanBroadcast) {
  Tensor a = f32({2, 1}, {1, 2});
  Tensor b = f32({3}, {10, 20, 30});
  Tensor c = f32({1}, {100});
  EXPECT_EQ(values<float>(run1("Sum", {a, b, c})), (std::vector<float>{111, 121, 131, 112, 122, 132}));
  Tensor m = run1("Mean", {a, b, c});
  EXPECT_EQ(m.shape(), (Shape{2, 3}));
  expect_doubles(m, {37, 121.0 / 3, 131.0 / 3, 112.0 / 3, 122.0 / 3, 44}, 1e-5);
  EXPECT_EQ(values<float>(run1("Sum", {b})), (std::vector<float>{10, 20, 30}));
}

TEST(ElementwiseArith, VariadicMaxMin) {
  const int64_t big = (int64_t{1} << 53) + 1;
  EXPECT_EQ(values<int64_t>(run1("Max", {i64({2}, {big, -5}), i64({2}, {big - 1, -6})})),
            (std::vector<int64_t>{big, -5}));
  EXPECT_EQ(values<uint8_t>(run1("Min", {u8({3}, {200, 3, 7}), u8({1}, {5})})), (std::vector<uint8_t>{5, 3, 5}));
  expect_doubles(run1("Max", {f32({3}, {1, NAN, 3}), f32({3}, {NAN, 2, 1})}), {kNaN, kNaN, 3});
  expect_doubles(run1("Min", {f32({2}, {1, 5}), f32({2}, {2, 4}), f32({1}, {3})}), {1, 3});
  EXPECT_EQ(run_error("Sum", {i32({1}, {1}), i32({1}, {1})}), StatusCode::invalid_argument);
}

TEST(ElementwiseArith, UnaryIntegerOps) {
  EXPECT_EQ(values<int8_t>(run1("Neg", {i8({3}, {-128, 5, 0})})), (std::vector<int8_t>{-128, -5, 0}));
  EXPECT_EQ(values<int8_t>(run1("Abs", {i8({3}, {-128, -5, 7})})), (std::vector<int8_t>{-128, 5, 7}));
  EXPECT_EQ(values<uint8_t>(run1("Abs", {u8({1}, {200})})), (std::vector<uint8_t>{200}));
  EXPECT_EQ(values<int32_t>(run1("Sign", {i32({3}, {-9, 0, 4})})), (std::vector<int32_t>{-1, 0, 1}));
  expect_doubles(run1("Sign", {f32({4}, {-2.5f, 0, 3, NAN})}), {-1, 0, 1, kNaN});
  EXPECT_EQ(run_error("Neg", {u8({1}, {1})}), StatusCode::invalid_argument);
}

TEST(ElementwiseMath, BasicFunctions) {
  expect_doubles(run1("Sqrt", {f32({3}, {4, 0, -1})}), {2, 0, kNaN});
  expect_doubles(run1("Exp", {f32({2}, {0, 1})}), {1, static_cast<float>(M_E)});
  expect_doubles(run1("Log", {f32({3}, {1, 0, -1})}), {0, -kInf, kNaN});
  expect_doubles(run1("Reciprocal", {f32({2}, {4, 0})}), {0.25, kInf});
  expect_doubles(run1("Tanh", {f32({2}, {0, 100})}), {0, 1});
  expect_doubles(run1("Erf", {f32({2}, {0, 10})}), {0, 1});
  expect_doubles(run1("Sqrt", {f64({1}, {2})}), {std::sqrt(2.0)});
}

TEST(ElementwiseMath, RoundingOps) {
  Tensor x = f32({8}, {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 2.4f, -2.6f, 3.0f});
  expect_doubles(run1("Round", {x}), {0, 2, 2, -0.0, -2, 2, -3, 3});
  expect_doubles(run1("Ceil", {f32({3}, {1.2f, -1.2f, -0.5f})}), {2, -1, -0.0});
  expect_doubles(run1("Floor", {f32({3}, {1.2f, -1.2f, 2})}), {1, -2, 2});
}

TEST(ElementwiseMath, Trigonometry) {
  expect_doubles(run1("Sin", {f32({2}, {0, static_cast<float>(M_PI / 2)})}), {0, 1});
  expect_doubles(run1("Cos", {f32({1}, {0})}), {1});
  expect_doubles(run1("Tan", {f32({1}, {0})}), {0});
  expect_doubles(run1("Atan", {f32({1}, {1})}), {static_cast<float>(M_PI / 4)});
  expect_doubles(run1("Asin", {f32({2}, {1, 2})}), {static_cast<float>(M_PI / 2), kNaN});
  expect_doubles(run1("Acos", {f32({1}, {1})}), {0});
  expect_doubles(run1("Sinh", {f32({1}, {0})}), {0});
  expect_doubles(run1("Cosh", {f32({1}, {0})}), {1});
  expect_doubles(run1("Asinh", {f32({1}, {0})}), {0});
  expect_doubles(run1("Acosh", {f32({2}, {1, 0.5f})}), {0, kNaN});
  expect_doubles(run1("Atanh", {f32({2}, {0, 1})}), {0, kInf});
}

// ---- activations ------------------------------------------------------------

TEST(ElementwiseActivation, Relu) {
  expect_doubles(run1("Relu", {f32({4}, {-1, 0, 2, NAN})}), {0, 0, 2, kNaN});
  EXPECT_EQ(values<int8_t>(run1("Relu", {i8({3}, {-128, 0, 127})})), (std::vector<int8_t>{0, 0, 127}));
  EXPECT_EQ(run1("Relu", {f32({0, 2}, {})}).shape(), (Shape{0, 2}));
}

TEST(ElementwiseActivation, ClipAttributesBeforeOpset11) {
  Tensor x = f32({4}, {-5, 0.5f, 5, NAN});
  expect_doubles(run1("Clip", {x}, {af("min", -1), af("max", 1)}, 6), {-1, 0.5, 1, kNaN});
  expect_doubles(run1("Clip", {x}, {af("max", 1)}, 6), {-5, 0.5, 1, kNaN});
}

TEST(ElementwiseActivation, ClipInputsFromOpset11) {
  Tensor x = f32({3}, {-5, 0.5f, 5});
  expect_doubles(run1("Clip", {x, f32({}, {-1}), f32({}, {1})}, {}, 13), {-1, 0.5, 1});
  expect_doubles(run1("Clip", {x, Tensor(), f32({}, {1})}, {}, 13), {-5, 0.5, 1});  // min omitted
  expect_doubles(run1("Clip", {x, f32({}, {0})}, {}, 13), {0, 0.5, 5});              // max omitted
  expect_doubles(run1("Clip", {x, f32({}, {2}), f32({}, {1})}, {}, 13), {1, 1, 1});  // min > max: all max
  EXPECT_EQ(values<int8_t>(run1("Clip", {i8({3}, {-100, 3, 100}), i8({}, {-10}), i8({}, {10})}, {}, 13)),
            (std::vector<int8_t>{-10, 3, 10}));
  EXPECT_EQ(run_error("Clip", {x, f32({2}, {0, 1})}, {}, 13), StatusCode::invalid_argument);
}

TEST(ElementwiseActivation, SigmoidFamily) {
  expect_doubles(run1("Sigmoid", {f32({3}, {0, -1000, 1000})}), {0.5, 0, 1});
  expect_doubles(run1("HardSigmoid", {f32({3}, {-10, 0, 1})}), {0, 0.5, 0.7}, 1e-7);
  expect_doubles(run1("HardSigmoid", {f32({1}, {1})}, {af("alpha", 0.5f), af("beta", 0.25f)}), {0.75});
  expect_doubles(run1("HardSwish", {f32({4}, {-4, 4, 1, 0})}), {0, 4, 2.0 / 3.0, 0}, 1e-7);
  expect_doubles(run1("Swish", {f32({2}, {0, 100})}), {0, 100});
  expect_doubles(run1("Swish", {f32({1}, {1})}, {af("alpha", 2)}), {1 / (1 + std::exp(-2.0))}, 1e-7);
}

// Found by the ops cross-check against ONNX Runtime: a NaN must come through (numpy's
// minimum/maximum propagate it; std::min/std::max with NaN second do not).
TEST(ElementwiseActivation, ClampingActivationsKeepNan) {
  EXPECT_TRUE(std::isnan(vals(run1("HardSigmoid", {f32({1}, {std::nanf("")})}))[0]));
  EXPECT_TRUE(std::isnan(vals(run1("Celu", {f32({1}, {std::nanf("")})}))[0]));
  expect_doubles(run1("Celu", {F({2}, {-kInf, kInf})}), {-1, kInf});
}

TEST(ElementwiseActivation, ReluVariants) {
  expect_doubles(run1("LeakyRelu", {f32({2}, {-2, 3})}, {af("alpha", 0.5f)}), {-1, 3});
  expect_doubles(run1("LeakyRelu", {f32({1}, {-100})}), {-1}, 1e-6);  // default alpha 0.01
  expect_doubles(run1("Elu", {f32({2}, {-1, 2})}), {std::exp(-1.0) - 1, 2}, 1e-7);
  expect_doubles(run1("Selu", {f32({2}, {1, 0})}), {1.0507009873554805, 0}, 1e-6);
  expect_doubles(run1("Celu", {f32({2}, {-1, 2})}, {af("alpha", 2)}), {2 * (std::exp(-0.5) - 1), 2}, 1e-7);
  expect_doubles(run1("ThresholdedRelu", {f32({3}, {1, 1.5f, -3})}), {0, 1.5, 0});  // strictly greater than alpha
  expect_doubles(run1("Softplus", {f32({3}, {0, 1000, -1000})}), {std::log(2.0), 1000, 0}, 1e-7);
  expect_doubles(run1("Softsign", {f32({2}, {1, -3})}), {0.5, -0.75});
  expect_doubles(run1("Mish", {f32({2}, {0, 1})}), {0, std::tanh(std::log1p(std::exp(1.0)))}, 1e-7);
  expect_doubles(run1("Shrink", {f32({5}, {-2, -1, 0, 1, 2})}, {af("lambd", 1.5f), af("bias", 0.5f)}),
                 {-1.5, 0, 0, 0, 1.5});
  EXPECT_EQ(values<int8_t>(run1("Shrink", {i8({3}, {-5, 0, 5})}, {af("lambd", 1), af("bias", 1)})),
            (std::vector<int8_t>{-4, 0, 4}));
}

TEST(ElementwiseActivation, Gelu) {
  expect_doubles(run1("Gelu", {f32({3}, {0, 1, -1})}, {}, 20), {0, 0.8413447460685429, -0.15865525393145707}, 1e-7);
  expect_doubles(run1("Gelu", {f32({1}, {1})}, {as("approximate", "tanh")}, 20), {0.8411919906082768}, 1e-7);
  EXPECT_EQ(run_error("Gelu", {f32({1}, {1})}, {as("approximate", "fast")}, 20),
            StatusCode::invalid_argument);
}

TEST(ElementwiseActivation, PReluUnidirectionalBroadcast) {
  Tensor y = run1("PRelu", {f32({2, 3}, {-1, -2, -3, 1, 2, 3}), f32({3}, {0.5f, 1, 2})});
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  EXPECT_EQ(values<float>(y), (std::vector<float>{-0.5f, -2, -6, 1, 2, 3}));
  EXPECT_EQ(values<int32_t>(run1("PRelu", {i32({2}, {-3, 3}), i32({1}, {4})})), (std::vector<int32_t>{-12, 3}));
  // The slope may not grow the output.
  EXPECT_EQ(run_error("PRelu", {f32({3}, {1, 2, 3}), f32({2, 3}, {1, 1, 1, 1, 1, 1})}), StatusCode::invalid_argument);
}

// ---- comparison and logic -------------------------------------------------

TEST(ElementwiseCompare, ExactIntegerAndNaN) {
  const int64_t big = int64_t{1} << 53;
  EXPECT_EQ(values<uint8_t>(run1("Equal", {i64({2}, {big, big}), i64({2}, {big + 1, big})})),
            (std::vector<uint8_t>{0, 1}));
  EXPECT_EQ(values<uint8_t>(run1("Equal", {f32({2}, {NAN, 1}), f32({2}, {NAN, 1})})), (std::vector<uint8_t>{0, 1}));
  const uint64_t top = std::numeric_limits<uint64_t>::max();
  EXPECT_EQ(values<uint8_t>(run1("Greater", {u64({2}, {top, 1}), u64({2}, {top - 1, 2})})),
            (std::vector<uint8_t>{1, 0}));
  EXPECT_EQ(values<uint8_t>(run1("LessOrEqual", {f32({3}, {1, 2, NAN}), f32({1}, {2})})),
            (std::vector<uint8_t>{1, 1, 0}));
  EXPECT_EQ(values<uint8_t>(run1("GreaterOrEqual", {i8({3}, {-1, 0, 1}), i8({1}, {0})})),
            (std::vector<uint8_t>{0, 1, 1}));
  Tensor less = run1("Less", {f32({2, 1}, {1, 5}), f32({2}, {2, 6})});
  EXPECT_EQ(less.type(), ET::boolean);
  EXPECT_EQ(less.shape(), (Shape{2, 2}));
  EXPECT_EQ(values<uint8_t>(less), (std::vector<uint8_t>{1, 1, 0, 1}));
}

TEST(ElementwiseCompare, EqualStringsBroadcast) {
  Tensor a = Tensor::from_strings({2}, {"x", "y"});
  Tensor b = Tensor::from_strings({1}, {"y"});
  EXPECT_EQ(values<uint8_t>(run1("Equal", {a, b}, {}, 19)), (std::vector<uint8_t>{0, 1}));
  EXPECT_EQ(values<uint8_t>(run1("Equal", {boolean({2}, {1, 0}), boolean({2}, {1, 1})})), (std::vector<uint8_t>{1, 0}));
}

TEST(ElementwiseLogic, BooleanOps) {
  Tensor a = boolean({2, 2}, {0, 0, 1, 1});
  Tensor b = boolean({2}, {0, 1});
  EXPECT_EQ(values<uint8_t>(run1("And", {a, b})), (std::vector<uint8_t>{0, 0, 0, 1}));
  EXPECT_EQ(values<uint8_t>(run1("Or", {a, b})), (std::vector<uint8_t>{0, 1, 1, 1}));
  EXPECT_EQ(values<uint8_t>(run1("Xor", {a, b})), (std::vector<uint8_t>{0, 1, 1, 0}));
  EXPECT_EQ(values<uint8_t>(run1("Not", {b})), (std::vector<uint8_t>{1, 0}));
  EXPECT_EQ(run_error("And", {i32({1}, {1}), i32({1}, {1})}), StatusCode::invalid_argument);
}

TEST(ElementwiseLogic, WhereBroadcastsAllThree) {
  Tensor c = boolean({2, 1}, {1, 0});
  Tensor y = run1("Where", {c, i64({2}, {1, 2}), i64({1}, {9})});
  EXPECT_EQ(y.shape(), (Shape{2, 2}));
  EXPECT_EQ(values<int64_t>(y), (std::vector<int64_t>{1, 2, 9, 9}));
  Tensor s = run1("Where", {boolean({2}, {0, 1}), Tensor::from_strings({2}, {"a", "b"}), Tensor::from_strings({}, {"z"})});
  EXPECT_EQ(s.strings(), (std::vector<std::string>{"z", "b"}));
  EXPECT_EQ(run_error("Where", {c, i64({1}, {1}), i32({1}, {1})}), StatusCode::invalid_argument);
}

TEST(ElementwiseLogic, IsNaNIsInf) {
  Tensor x = f32({4}, {1, NAN, INFINITY, -INFINITY});
  EXPECT_EQ(values<uint8_t>(run1("IsNaN", {x})), (std::vector<uint8_t>{0, 1, 0, 0}));
  EXPECT_EQ(values<uint8_t>(run1("IsInf", {x})), (std::vector<uint8_t>{0, 0, 1, 1}));
  EXPECT_EQ(values<uint8_t>(run1("IsInf", {x}, {ai("detect_negative", 0)})), (std::vector<uint8_t>{0, 0, 1, 0}));
  EXPECT_EQ(values<uint8_t>(run1("IsInf", {x}, {ai("detect_positive", 0)})), (std::vector<uint8_t>{0, 0, 0, 1}));
  EXPECT_EQ(values<uint8_t>(run1("IsInf", {f16({2}, {INFINITY, 65504})})), (std::vector<uint8_t>{1, 0}));
}

TEST(ElementwiseBitwise, ShiftsAndMasks) {
  Tensor x = u8({3}, {200, 1, 255});
  EXPECT_EQ(values<uint8_t>(run1("BitShift", {x, u8({3}, {1, 7, 8})}, {as("direction", "LEFT")})),
            (std::vector<uint8_t>{144, 128, 0}));
  EXPECT_EQ(values<uint8_t>(run1("BitShift", {x, u8({1}, {2})}, {as("direction", "RIGHT")})),
            (std::vector<uint8_t>{50, 0, 63}));
  EXPECT_EQ(values<uint64_t>(run1("BitShift", {u64({2}, {1, 1}), u64({2}, {63, 64})}, {as("direction", "LEFT")})),
            (std::vector<uint64_t>{uint64_t{1} << 63, 0}));
  EXPECT_EQ(run_error("BitShift", {x, x}, {as("direction", "UP")}), StatusCode::invalid_argument);
  EXPECT_EQ(values<int8_t>(run1("BitwiseAnd", {i8({2}, {-1, 12}), i8({1}, {10})})), (std::vector<int8_t>{10, 8}));
  EXPECT_EQ(values<int8_t>(run1("BitwiseOr", {i8({2}, {-128, 12}), i8({1}, {3})})), (std::vector<int8_t>{-125, 15}));
  EXPECT_EQ(values<uint8_t>(run1("BitwiseXor", {u8({1}, {0xF0}), u8({1}, {0xFF})})), (std::vector<uint8_t>{0x0F}));
  EXPECT_EQ(values<int8_t>(run1("BitwiseNot", {i8({2}, {0, -1})})), (std::vector<int8_t>{-1, 0}));
  EXPECT_EQ(values<uint8_t>(run1("BitwiseNot", {u8({1}, {0x0F})})), (std::vector<uint8_t>{0xF0}));
  EXPECT_EQ(run_error("BitwiseAnd", {f32({1}, {1}), f32({1}, {1})}), StatusCode::invalid_argument);
}

// ---- Cast -------------------------------------------------------------------

Tensor cast_to(const Tensor& x, ET to, std::vector<Attribute> extra = {}) {
  extra.push_back(ai("to", static_cast<int64_t>(to)));
  return run1("Cast", {x}, extra);
}

TEST(ElementwiseCast, NumericConversions) {
  EXPECT_EQ(values<int32_t>(cast_to(f32({3}, {-1.7f, 2.9f, 0}), ET::int32)), (std::vector<int32_t>{-1, 2, 0}));
  EXPECT_EQ(values<uint8_t>(cast_to(i32({2}, {300, -1}), ET::uint8)), (std::vector<uint8_t>{44, 255}));
  EXPECT_EQ(values<uint8_t>(cast_to(f32({3}, {0, -2, 0.5f}), ET::boolean)), (std::vector<uint8_t>{0, 1, 1}));
  expect_doubles(cast_to(boolean({2}, {1, 0}), ET::float32), {1, 0});
  const int64_t big = (int64_t{1} << 62) + 12345;
  EXPECT_EQ(values<int64_t>(cast_to(u64({1}, {static_cast<uint64_t>(big)}), ET::int64)), (std::vector<int64_t>{big}));
  Tensor h = cast_to(f32({3}, {1.0f, 65520.0f, 1e-8f}), ET::float16);
  EXPECT_EQ(h.type(), ET::float16);
  expect_doubles(h, {1, kInf, 0});  // 65520 is the tie to infinity
  EXPECT_EQ(cast_to(f32({0}, {}), ET::int8).shape(), (Shape{0}));
}

TEST(ElementwiseCast, RoundsOnceToNarrowFloats) {
  // Double rounding through float32 would give 1.0 in both cases.
  Tensor h = cast_to(f64({1}, {1.0 + std::ldexp(1.0, -11) + std::ldexp(1.0, -40)}), ET::float16);
  EXPECT_EQ(values<uint16_t>(h), (std::vector<uint16_t>{0x3C01}));
  Tensor b = cast_to(f64({1}, {1.0 + std::ldexp(1.0, -8) + std::ldexp(1.0, -30)}), ET::bfloat16);
  EXPECT_EQ(values<uint16_t>(b), (std::vector<uint16_t>{0x3F81}));
  // int64 -> float32: 2^60 + 2^36 + 1 is just above the midpoint, so it rounds up.
  Tensor f = cast_to(i64({1}, {(int64_t{1} << 60) + (int64_t{1} << 36) + 1}), ET::float32);
  EXPECT_EQ(values<float>(f), (std::vector<float>{std::ldexp(1.0f, 60) + std::ldexp(1.0f, 37)}));
}

TEST(ElementwiseCast, Strings) {
  Tensor s = Tensor::from_strings({6}, {"1e-5", "INF", "-inf", "NaN", "+2.5", "-3"});
  expect_doubles(cast_to(s, ET::float32), {static_cast<float>(1e-5), kInf, -kInf, kNaN, 2.5, -3});
  EXPECT_EQ(values<int64_t>(cast_to(Tensor::from_strings({2}, {"9007199254740993", "-7"}), ET::int64)),
            (std::vector<int64_t>{9007199254740993LL, -7}));
  EXPECT_EQ(values<int32_t>(cast_to(Tensor::from_strings({1}, {"100.5"}), ET::int32)), (std::vector<int32_t>{100}));
  EXPECT_EQ(run_error("Cast", {Tensor::from_strings({1}, {"hello"})}, {ai("to", 1)}), StatusCode::invalid_argument);
  EXPECT_EQ(cast_to(i64({2}, {-12, 9007199254740993LL}), ET::string).strings(),
            (std::vector<std::string>{"-12", "9007199254740993"}));
  EXPECT_EQ(cast_to(f32({3}, {0.1f, 2.5f, -INFINITY}), ET::string).strings(),
            (std::vector<std::string>{"0.1", "2.5", "-INF"}));
  EXPECT_EQ(cast_to(f16({1}, {0.1f}), ET::string).strings(), (std::vector<std::string>{"0.1"}));
}

TEST(ElementwiseCast, Float8E4M3FN) {
  Tensor x = f32({7}, {448, 464, 480, INFINITY, NAN, -0.0f, 0.001953125f});
  EXPECT_EQ(bytes(cast_to(x, ET::float8e4m3fn)),
            (std::vector<uint8_t>{0x7E, 0x7E, 0x7E, 0x7E, 0x7F, 0x80, 0x01}));
  EXPECT_EQ(bytes(cast_to(x, ET::float8e4m3fn, {ai("saturate", 0)})),
            (std::vector<uint8_t>{0x7E, 0x7E, 0x7F, 0x7F, 0x7F, 0x80, 0x01}));
  // And back: 0x7E is 448, 0x01 is 2^-9, 0x7F is NaN.
  Tensor codes = Tensor::from_vector<uint8_t>(ET::float8e4m3fn, {4}, {0x7E, 0x01, 0x7F, 0xB8});
  expect_doubles(cast_to(codes, ET::float32), {448, 0.001953125, kNaN, -1});
}

TEST(ElementwiseCast, Float8OtherFormats) {
  Tensor x = f32({4}, {61440, -0.0f, NAN, 57344});
  // e5m2: 61440 is the tie between 57344 (odd mantissa) and 65536: rounds up, i.e. overflows.
  EXPECT_EQ(bytes(cast_to(x, ET::float8e5m2)), (std::vector<uint8_t>{0x7B, 0x80, 0x7E, 0x7B}));
  EXPECT_EQ(bytes(cast_to(x, ET::float8e5m2, {ai("saturate", 0)})), (std::vector<uint8_t>{0x7C, 0x80, 0x7E, 0x7B}));
  // fnuz formats: no negative zero, 0x80 is NaN.
  EXPECT_EQ(bytes(cast_to(x, ET::float8e5m2fnuz)), (std::vector<uint8_t>{0x7F, 0x00, 0x80, 0x7F}));
  EXPECT_EQ(bytes(cast_to(f32({3}, {240, 1000, -1}), ET::float8e4m3fnuz, {ai("saturate", 0)})),
            (std::vector<uint8_t>{0x7F, 0x80, 0xC0}));
  Tensor back = Tensor::from_vector<uint8_t>(ET::float8e4m3fnuz, {2}, {0x80, 0x40});
  expect_doubles(cast_to(back, ET::float32), {kNaN, 1});
}

TEST(ElementwiseCast, Float8CodesRoundTripThroughFloat32) {
  for (ET type : {ET::float8e4m3fn, ET::float8e4m3fnuz, ET::float8e5m2, ET::float8e5m2fnuz, ET::float8e8m0}) {
    std::vector<uint8_t> all(256);
    for (int c = 0; c < 256; ++c) all[static_cast<size_t>(c)] = static_cast<uint8_t>(c);
    Tensor codes = Tensor::from_vector<uint8_t>(type, {256}, all);
    Tensor wide = cast_to(codes, ET::float32, {ai("saturate", 0)});
    Tensor back = cast_to(wide, type, {ai("saturate", 0)});
    std::vector<uint8_t> got = bytes(back);
    for (int c = 0; c < 256; ++c) {
      if (std::isnan(values<float>(wide)[static_cast<size_t>(c)])) continue;  // several NaN codes map to one
      EXPECT_EQ(got[static_cast<size_t>(c)], c) << element_type_name(type) << " code " << c;
    }
  }
}

TEST(ElementwiseCast, Float4AndE8M0) {
  // 0.75 ties 0.5/1.0 -> 1.0 (even code 2); 5 ties 4/6 -> 4 (code 6); -7 saturates to -6 (0xF).
  Tensor q = cast_to(f32({4}, {0.25f, 0.75f, 5, -7}), ET::float4e2m1);
  EXPECT_EQ(bytes(q), (std::vector<uint8_t>{0x20, 0xF6}));
  expect_doubles(cast_to(q, ET::float32), {0, 1, 4, -6});
  Tensor x = f32({4}, {1, 3, 2.9f, 0.124f});
  EXPECT_EQ(bytes(cast_to(x, ET::float8e8m0)), (std::vector<uint8_t>{0x7F, 0x81, 0x81, 0x7C}));
  EXPECT_EQ(bytes(cast_to(x, ET::float8e8m0, {as("round_mode", "down")})),
            (std::vector<uint8_t>{0x7F, 0x80, 0x80, 0x7B}));
  EXPECT_EQ(bytes(cast_to(x, ET::float8e8m0, {as("round_mode", "nearest")})),
            (std::vector<uint8_t>{0x7F, 0x81, 0x80, 0x7C}));
  expect_doubles(cast_to(Tensor::from_vector<uint8_t>(ET::float8e8m0, {2}, {0x80, 0xFF}), ET::float32), {2, kNaN});
}

TEST(ElementwiseCast, SubByteIntegersWrap) {
  Tensor q = cast_to(f32({3}, {9, -8, 7}), ET::int4);
  expect_doubles(cast_to(q, ET::int8), {-7, -8, 7});
}

TEST(ElementwiseCast, Opset1TakesTypeName) {
  Tensor y = run1("Cast", {f32({2}, {3.7f, -1.2f})}, {as("to", "INT32")}, 1);
  EXPECT_EQ(y.type(), ET::int32);
  EXPECT_EQ(values<int32_t>(y), (std::vector<int32_t>{3, -1}));
  EXPECT_EQ(run_error("Cast", {f32({1}, {1})}, {as("to", "QUUX")}, 1), StatusCode::invalid_argument);
}

TEST(ElementwiseCast, CastLikeAndErrors) {
  Tensor y = run1("CastLike", {f32({2}, {1.5f, -2.5f}), i64({0}, {})});
  EXPECT_EQ(y.type(), ET::int64);
  EXPECT_EQ(values<int64_t>(y), (std::vector<int64_t>{1, -2}));
  EXPECT_EQ(run_error("Cast", {f32({1}, {1})}, {ai("to", 99)}), StatusCode::invalid_argument);
  EXPECT_EQ(run_error("Cast", {f32({1}, {1})}, {ai("to", 14)}), StatusCode::unsupported);
  EXPECT_EQ(run_error("Cast", {f32({1}, {1})}), StatusCode::invalid_argument);
}

}  // namespace
}  // namespace switchyard::reference
