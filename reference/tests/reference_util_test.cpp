// Tests for the reference helpers: half conversion, broadcasting, element access.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "switchyard/reference/util.h"

namespace switchyard::reference {
namespace {

TEST(HalfConversion, RoundTripsExactValues) {
  for (float v : {0.0f, -0.0f, 1.0f, -2.5f, 65504.0f, 6.103515625e-05f, 5.960464477539063e-08f}) {
    EXPECT_EQ(half_to_float(float_to_half(v)), v) << v;
  }
  EXPECT_EQ(float_to_half(1.0f), 0x3c00);
  EXPECT_EQ(float_to_half(65520.0f), 0x7c00);  // rounds up to infinity
  EXPECT_TRUE(std::isnan(half_to_float(float_to_half(std::numeric_limits<float>::quiet_NaN()))));
  // 1 + 2^-11 is a tie between 1 and 1 + 2^-10: rounds to even (1).
  EXPECT_EQ(float_to_half(1.0f + std::ldexp(1.0f, -11)), 0x3c00);
  EXPECT_EQ(float_to_half(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);
}

TEST(BFloat16Conversion, RoundsToNearestEven) {
  EXPECT_EQ(float_to_bfloat16(1.0f), 0x3f80);
  EXPECT_EQ(bfloat16_to_float(0x3f80), 1.0f);
  EXPECT_EQ(float_to_bfloat16(1.0f + std::ldexp(1.0f, -8)), 0x3f80);  // tie -> even
}

TEST(Broadcast, ShapesAndIndexMap) {
  EXPECT_EQ(broadcast_shapes({{2, 1, 3}, {4, 1}}), (Shape{2, 4, 3}));
  EXPECT_EQ(broadcast_shapes({{}, {5}}), (Shape{5}));
  EXPECT_EQ(broadcast_shapes({{0, 3}, {1, 3}}), (Shape{0, 3}));
  EXPECT_THROW(broadcast_shapes({{2, 3}, {4, 3}}), Error);
  auto m = broadcast_index_map({3, 1}, {3, 2});
  EXPECT_EQ(m, (std::vector<int64_t>{0, 0, 1, 1, 2, 2}));
  auto m2 = broadcast_index_map({2}, {3, 2});
  EXPECT_EQ(m2, (std::vector<int64_t>{0, 1, 0, 1, 0, 1}));
}

TEST(ElementAccess, PackedInt4AndCasts) {
  Tensor t = Tensor::allocate(ElementType::int4, {3});
  set_int64(t, 0, -8);
  set_int64(t, 1, 7);
  set_int64(t, 2, -1);
  EXPECT_EQ(get_int64(t, 0), -8);
  EXPECT_EQ(get_int64(t, 1), 7);
  EXPECT_EQ(get_int64(t, 2), -1);
  EXPECT_EQ(t.byte_size(), 2u);
  Tensor i8 = Tensor::allocate(ElementType::int8, {1});
  set_double(i8, 0, -3.7);
  EXPECT_EQ(get_int64(i8, 0), -3);
}

TEST(Axis, NormalizesAndRejects) {
  EXPECT_EQ(normalize_axis(-1, 4), 3);
  EXPECT_EQ(normalize_axis(0, 4), 0);
  EXPECT_THROW(normalize_axis(4, 4), Error);
  EXPECT_THROW(normalize_axis(-5, 4), Error);
}

}  // namespace
}  // namespace switchyard::reference
