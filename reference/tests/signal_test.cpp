// Tests for the reference signal kernels (DFT/STFT/windows, GridSample, RoiAlign, NMS, ...).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
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

Tensor I64(int64_t v) { return I(ET::int64, {}, {v}); }

Tensor run1(const std::string& op, const std::vector<Input>& inputs, const std::vector<Attribute>& attrs = {},
            int64_t opset = 26) {
  return expect_run(op, inputs, attrs, opset)[0];
}

StatusCode run_code(const std::string& op, const std::vector<Input>& inputs, const std::vector<Attribute>& attrs = {},
                    int64_t opset = 26) {
  return code_of(run_node(op, inputs, attrs, opset));
}

// ---- DFT / STFT --------------------------------------------------------------

TEST(SignalDft, RealForwardDefaultAxisOpset20) {
  // [1,2,3,4] -> 10, -2+2i, -2, -2-2i; default axis -2 is the signal axis of a [4, 1] input.
  Tensor y = run1("DFT", {F({4, 1}, {1, 2, 3, 4})}, {}, 20);
  expect_values(y, {4, 2}, {10, 0, -2, 2, -2, 0, -2, -2});
}

TEST(SignalDft, OnesidedAndInverse) {
  Tensor half = run1("DFT", {F({4, 1}, {1, 2, 3, 4})}, {ai("onesided", 1)}, 20);
  expect_values(half, {3, 2}, {10, 0, -2, 2, -2, 0});
  // Inverse of the full complex spectrum gives the signal back (imaginary parts zero).
  Tensor inv = run1("DFT", {F({4, 2}, {10, 0, -2, 2, -2, 0, -2, -2})}, {ai("inverse", 1)}, 20);
  expect_values(inv, {4, 2}, {1, 0, 2, 0, 3, 0, 4, 0});
  // Inverse of a one-sided spectrum is a real signal of length 2 * (3 - 1).
  Tensor irfft = run1("DFT", {F({3, 2}, {10, 0, -2, 2, -2, 0})}, {ai("inverse", 1), ai("onesided", 1)}, 20);
  expect_values(irfft, {4, 1}, {1, 2, 3, 4});
}

TEST(SignalDft, AxisInputAndLengthOpset20) {
  // x[2, 2, 1]: transform along axis 0 (given as -3) => sums and differences of rows.
  Tensor y = run1("DFT", {F({2, 2, 1}, {1, 2, 5, 7}), none(), I64(-3)}, {}, 20);
  expect_values(y, {2, 2, 2}, {6, 0, 9, 0, -4, 0, -5, 0});
  // dft_length 2 truncates [1,2,3,4] to [1,2]; length 6 zero-pads.
  Tensor t = run1("DFT", {F({4, 1}, {1, 2, 3, 4}), I64(2)}, {}, 20);
  expect_values(t, {2, 2}, {3, 0, -1, 0});
  Tensor p = run1("DFT", {F({2, 1}, {1, 1}), I(ET::int32, {}, {4})}, {}, 20);
  // [1,1,0,0] -> 2, 1-i, 0, 1+i
  expect_values(p, {4, 2}, {2, 0, 1, -1, 0, 0, 1, 1});
}

TEST(SignalDft, Opset17AttributeAxisFloat16) {
  Tensor y = run1("DFT", {F({1, 4, 1}, {1, 2, 3, 4}, ET::float16)}, {ai("axis", 1)}, 17);
  ASSERT_EQ(y.type(), ET::float16);
  expect_values(y, {1, 4, 2}, {10, 0, -2, 2, -2, 0, -2, -2}, 1e-3);
}

TEST(SignalDft, RejectsBadInput) {
  // The last dimension holds real/imaginary parts: not a valid axis.
  EXPECT_EQ(run_code("DFT", {F({4, 1}, {1, 2, 3, 4}), none(), I64(-1)}, {}, 20), StatusCode::invalid_argument);
  EXPECT_EQ(run_code("DFT", {F({4, 3}, std::vector<double>(12, 0))}, {}, 20), StatusCode::invalid_argument);
  EXPECT_EQ(run_code("DFT", {F({4, 1}, {1, 2, 3, 4}), I64(0)}, {}, 20), StatusCode::invalid_argument);
  EXPECT_EQ(run_code("DFT", {I(ET::int32, {4, 1}, {1, 2, 3, 4})}, {}, 20), StatusCode::unsupported);
}

TEST(SignalStft, FramesWithAndWithoutWindow) {
  // Frames [1,2] and [3,4] (step 2, length 2), one-sided: 2 bins each.
  Tensor y = run1("STFT", {F({1, 4, 1}, {1, 2, 3, 4}), I64(2), none(), I64(2)}, {}, 17);
  expect_values(y, {1, 2, 2, 2}, {3, 0, -1, 0, 7, 0, -1, 0});
  // Window [1, 0] keeps only the first sample of each frame; step 1 gives 3 frames.
  Tensor w = run1("STFT", {F({1, 4, 1}, {1, 2, 3, 4}), I64(1), F({2}, {1, 0})}, {}, 17);
  expect_values(w, {1, 3, 2, 2}, {1, 0, 1, 0, 2, 0, 2, 0, 3, 0, 3, 0});
  // Two-sided output of a length-4 frame has 4 bins.
  Tensor full = run1("STFT", {F({1, 4, 1}, {1, 2, 3, 4}), I64(4), none(), I64(4)}, {ai("onesided", 0)}, 17);
  expect_values(full, {1, 1, 4, 2}, {10, 0, -2, 2, -2, 0, -2, -2});
  EXPECT_EQ(run_code("STFT", {F({1, 4, 1}, {1, 2, 3, 4}), I64(1), F({2}, {1, 0}), I64(3)}, {}, 17),
            StatusCode::invalid_argument);
  EXPECT_EQ(run_code("STFT", {F({1, 4, 1}, {1, 2, 3, 4}), I64(1), none(), I64(5)}, {}, 17),
            StatusCode::invalid_argument);
}

TEST(SignalWindows, HannHammingBlackman) {
  expect_values(run1("HannWindow", {I64(4)}, {}, 17), {4}, {0, 0.5, 1, 0.5});
  expect_values(run1("HannWindow", {I(ET::int32, {}, {4})}, {ai("periodic", 0)}, 17), {4}, {0, 0.75, 0.75, 0});
  const double a = 25.0 / 46.0, b = 21.0 / 46.0;
  expect_values(run1("HammingWindow", {I64(4)}, {}, 17), {4}, {a - b, a, a + b, a});
  Tensor bl = run1("BlackmanWindow", {I64(4)}, {ai("output_datatype", 11)}, 17);
  ASSERT_EQ(bl.type(), ET::float64);
  expect_values(bl, {4}, {0, 0.34, 1.0, 0.34}, 1e-12);
  expect_values(run1("HannWindow", {I64(0)}, {}, 17), {0}, {});
  EXPECT_EQ(run_code("HannWindow", {I64(-1)}, {}, 17), StatusCode::invalid_argument);
}

TEST(SignalMelWeightMatrix, SmallTriangle) {
  // One mel band over 0..4 Hz at 8 Hz sample rate, dft_length 8: band edges fall on bins 0, 1, 2.
  Tensor y = run1("MelWeightMatrix", {I64(1), I64(8), I64(8), F({}, {0}), F({}, {4})}, {}, 17);
  expect_values(y, {5, 1}, {0, 1, 0, 0, 0});
}

// ---- GridSample / AffineGrid ----------------------------------------------------

TEST(SignalGridSample, ModesAndPadding) {
  const Tensor x = F({1, 1, 2, 2}, {1, 2, 3, 4});
  // The centre of the image averages all four pixels.
  expect_values(run1("GridSample", {x, F({1, 1, 1, 2}, {0, 0})}, {}, 16), {1, 1, 1, 1}, {2.5});
  // The top-left corner with align_corners=0 lies half a pixel outside: zeros vs border vs reflection.
  const Tensor corner = F({1, 1, 1, 2}, {-1, -1});
  expect_values(run1("GridSample", {x, corner}, {as("mode", "bilinear")}, 16), {1, 1, 1, 1}, {0.25});
  expect_values(run1("GridSample", {x, corner}, {as("padding_mode", "border")}, 16), {1, 1, 1, 1}, {1});
  expect_values(run1("GridSample", {x, corner}, {as("padding_mode", "reflection")}, 16), {1, 1, 1, 1}, {1});
  expect_values(run1("GridSample", {x, F({1, 1, 1, 2}, {1, 1})}, {}, 16), {1, 1, 1, 1}, {1.0});
  // Nearest with align_corners=1: (x=1, y=-1) is the top-right pixel.
  expect_values(run1("GridSample", {x, F({1, 1, 1, 2}, {1, -1})}, {as("mode", "nearest"), ai("align_corners", 1)}, 20),
                {1, 1, 1, 1}, {2});
  // The grid's first coordinate is x (width): (0.5, -1) with align_corners=1 is between pixels 1 and 2.
  expect_values(run1("GridSample", {x, F({1, 1, 1, 2}, {0, -1})}, {ai("align_corners", 1)}, 20), {1, 1, 1, 1}, {1.5});
}

TEST(SignalGridSample, CubicOnConstantImageAndVolumetric) {
  const Tensor x = F({1, 1, 3, 3}, std::vector<double>(9, 5));
  Tensor y = run1("GridSample", {x, F({1, 1, 2, 2}, {0.3, -0.2, -0.9, 0.7})},
                  {as("mode", "cubic"), as("padding_mode", "border")}, 20);
  expect_values(y, {1, 1, 1, 2}, {5, 5});
  // 5-D: the centre of a 2x2x2 volume is the mean of its values.
  Tensor v = run1("GridSample", {F({1, 1, 2, 2, 2}, {0, 1, 2, 3, 4, 5, 6, 7}), F({1, 1, 1, 1, 3}, {0, 0, 0})}, {}, 20);
  expect_values(v, {1, 1, 1, 1, 1}, {3.5});
  // (x=1, y=-1, z=1) with align_corners=1 reads [d=1, h=0, w=1] = 5.
  Tensor n = run1("GridSample", {F({1, 1, 2, 2, 2}, {0, 1, 2, 3, 4, 5, 6, 7}), F({1, 1, 1, 1, 3}, {1, -1, 1})},
                  {as("mode", "nearest"), ai("align_corners", 1)}, 20);
  expect_values(n, {1, 1, 1, 1, 1}, {5});
  EXPECT_EQ(run_code("GridSample", {x, F({1, 1, 1, 3}, {0, 0, 0})}, {}, 20), StatusCode::invalid_argument);
  EXPECT_EQ(run_code("GridSample", {x, F({1, 1, 1, 2}, {0, 0})}, {as("mode", "area")}, 20), StatusCode::unsupported);
}

TEST(SignalAffineGrid, IdentityTheta) {
  const Tensor theta = F({1, 2, 3}, {1, 0, 0, 0, 1, 0});
  Tensor g = run1("AffineGrid", {theta, I(ET::int64, {4}, {1, 1, 2, 2})}, {}, 20);
  expect_values(g, {1, 2, 2, 2}, {-0.5, -0.5, 0.5, -0.5, -0.5, 0.5, 0.5, 0.5});
  Tensor a = run1("AffineGrid", {theta, I(ET::int64, {4}, {1, 1, 2, 2})}, {ai("align_corners", 1)}, 20);
  expect_values(a, {1, 2, 2, 2}, {-1, -1, 1, -1, -1, 1, 1, 1});
  // A translation by (0.25, 0) shifts x only; 3-D theta maps (x, y, z).
  Tensor t = run1("AffineGrid", {F({1, 2, 3}, {1, 0, 0.25, 0, 1, 0}), I(ET::int64, {4}, {1, 1, 1, 2})}, {}, 20);
  expect_values(t, {1, 1, 2, 2}, {-0.25, 0, 0.75, 0});
  Tensor v = run1("AffineGrid", {F({1, 3, 4}, {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0}), I(ET::int64, {5}, {1, 1, 1, 1, 2})},
                  {}, 20);
  expect_values(v, {1, 1, 1, 2, 3}, {-0.5, 0, 0, 0.5, 0, 0});
  EXPECT_EQ(run_code("AffineGrid", {theta, I(ET::int64, {5}, {1, 1, 1, 2, 2})}, {}, 20), StatusCode::invalid_argument);
}

// ---- RoiAlign / NonMaxSuppression / DeformConv --------------------------------------

Tensor column_ramp() {  // 4x4 image whose value is the column index
  std::vector<double> v;
  for (int h = 0; h < 4; ++h)
    for (int w = 0; w < 4; ++w) v.push_back(w);
  return F({1, 1, 4, 4}, v);
}

TEST(SignalRoiAlign, AvgMaxAndCoordinateModes) {
  const Tensor x = column_ramp();
  const Tensor rois = F({1, 4}, {0, 0, 4, 4});
  const Tensor idx = I(ET::int64, {1}, {0});
  // half_pixel: samples at x = 0.5 and 2.5 -> mean 1.5.
  expect_values(run1("RoiAlign", {x, rois, idx}, {ai("sampling_ratio", 2)}, 16), {1, 1, 1, 1}, {1.5});
  // output_half_pixel (the opset-10 behaviour): samples at x = 1 and 3 -> mean 2.
  expect_values(run1("RoiAlign", {x, rois, idx}, {ai("sampling_ratio", 2)}, 10), {1, 1, 1, 1}, {2});
  // max mode takes the largest weighted neighbour: 0.25 * 3 at the sample x = 2.5.
  expect_values(run1("RoiAlign", {x, rois, idx}, {ai("sampling_ratio", 2), as("mode", "max")}, 16), {1, 1, 1, 1},
                {0.75});
  // 1x2 output, spatial_scale 0.5 on a roi given in twice the resolution.
  expect_values(run1("RoiAlign", {x, F({1, 4}, {0, 0, 8, 8}), idx},
                     {ai("sampling_ratio", 1), ai("output_width", 2), af("spatial_scale", 0.5f)}, 16),
                {1, 1, 1, 2}, {0.5, 2.5});
  EXPECT_EQ(run_code("RoiAlign", {x, rois, I(ET::int64, {1}, {1})}, {}, 16), StatusCode::invalid_argument);
}

TEST(SignalNms, SuppressionThresholdsAndLimits) {
  const Tensor boxes = F({1, 3, 4}, {0, 0, 1, 1, 0, 0.1, 1, 1.1, 0, 10, 1, 11});
  const Tensor scores = F({1, 1, 3}, {0.9, 0.75, 0.6});
  Tensor s = run1("NonMaxSuppression", {boxes, scores, I64(3), F({1}, {0.5})}, {}, 11);
  expect_ints(s, ET::int64, {2, 3}, {0, 0, 0, 0, 0, 2});
  Tensor t = run1("NonMaxSuppression", {boxes, scores, I64(3), F({1}, {0.5}), F({1}, {0.7})}, {}, 11);
  expect_ints(t, ET::int64, {1, 3}, {0, 0, 0});
  // No max_output_boxes_per_class: nothing is selected.
  expect_ints(run1("NonMaxSuppression", {boxes, scores}, {}, 11), ET::int64, {0, 3}, {});
  // IoU exactly at the threshold does not suppress; flipped corners are accepted.
  Tensor edge = run1("NonMaxSuppression", {F({1, 2, 4}, {1, 1, 0, 0, 0, 0, 2, 1}), F({1, 1, 2}, {0.5, 0.9}), I64(5),
                                           F({}, {0.5})},
                     {}, 11);
  expect_ints(edge, ET::int64, {2, 3}, {0, 0, 1, 0, 0, 0});
  // center_point_box: [xc, yc, w, h]; the two boxes overlap fully.
  Tensor c = run1("NonMaxSuppression",
                  {F({1, 2, 4}, {0.5, 0.5, 1, 1, 0.5, 0.5, 1, 1}), F({1, 1, 2}, {0.1, 0.2}), I64(5), F({}, {0.5})},
                  {ai("center_point_box", 1)}, 11);
  expect_ints(c, ET::int64, {1, 3}, {0, 0, 1});
  EXPECT_EQ(run_code("NonMaxSuppression", {boxes, F({1, 1, 2}, {1, 2}), I64(1)}, {}, 11), StatusCode::invalid_argument);
}

TEST(SignalDeformConv, ZeroOffsetIsConvolutionAndShifts) {
  const Tensor x = F({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  const Tensor w = F({1, 1, 2, 2}, {1, 1, 1, 1});
  Tensor y = run1("DeformConv", {x, w, F({1, 8, 2, 2}, std::vector<double>(32, 0))}, {}, 19);
  expect_values(y, {1, 1, 2, 2}, {12, 16, 24, 28});
  // Every kernel tap shifted one column right (w offsets are channels 1, 3, 5, 7); column 3 is outside -> 0.
  std::vector<double> off(32, 0);
  for (int k = 0; k < 4; ++k)
    for (int p = 0; p < 4; ++p) off[static_cast<size_t>((2 * k + 1) * 4 + p)] = 1;
  Tensor s = run1("DeformConv", {x, w, F({1, 8, 2, 2}, off), F({1}, {100}), F({1, 4, 2, 2}, std::vector<double>(16, 0.5))},
                  {}, 19);
  expect_values(s, {1, 1, 2, 2}, {108, 104.5, 114, 107.5});
  // A half-pixel offset down interpolates between rows.
  std::vector<double> down(32, 0);
  for (int k = 0; k < 4; ++k)
    for (int p = 0; p < 4; ++p) down[static_cast<size_t>((2 * k) * 4 + p)] = 0.5;
  Tensor d = run1("DeformConv", {x, w, F({1, 8, 2, 2}, down)}, {}, 19);
  expect_values(d, {1, 1, 2, 2}, {18, 22, 19.5, 22.5});  // row 3 lies outside: weight on zero
  EXPECT_EQ(run_code("DeformConv", {x, w, F({1, 8, 1, 1}, std::vector<double>(8, 0))}, {}, 19),
            StatusCode::invalid_argument);
}

// ---- Col2Im / CenterCropPad ------------------------------------------------------

TEST(SignalCol2Im, OverlappingBlocksAccumulate) {
  // Image 1x3, block 1x2: block 0 covers columns 0-1, block 1 covers 1-2.
  Tensor y = run1("Col2Im", {F({1, 2, 2}, {1, 2, 10, 20}), I(ET::int64, {2}, {1, 3}), I(ET::int64, {2}, {1, 2})}, {}, 18);
  expect_values(y, {1, 1, 1, 3}, {1, 12, 20});
  // Stride 2 with padding 1 on the left of width: blocks start at columns -1 and 1.
  Tensor p = run1("Col2Im", {F({1, 2, 2}, {1, 2, 10, 20}), I(ET::int64, {2}, {1, 3}), I(ET::int64, {2}, {1, 2})},
                  {ais("strides", {1, 2}), ais("pads", {0, 1, 0, 0})}, 18);
  expect_values(p, {1, 1, 1, 3}, {10, 2, 20});
  Tensor i = run1("Col2Im", {I(ET::int32, {1, 4, 1}, {1, 2, 3, 4}), I(ET::int64, {2}, {2, 2}), I(ET::int64, {2}, {2, 2})},
                  {}, 18);
  expect_ints(i, ET::int32, {1, 1, 2, 2}, {1, 2, 3, 4});
  EXPECT_EQ(run_code("Col2Im", {F({1, 2, 3}, std::vector<double>(6, 0)), I(ET::int64, {2}, {1, 3}),
                                I(ET::int64, {2}, {1, 2})},
                     {}, 18),
            StatusCode::invalid_argument);
}

TEST(SignalCenterCropPad, CropPadAndAxes) {
  expect_values(run1("CenterCropPad", {F({5}, {0, 1, 2, 3, 4}), I(ET::int64, {1}, {3})}, {}, 18), {3}, {1, 2, 3});
  expect_values(run1("CenterCropPad", {F({2}, {1, 2}), I(ET::int64, {1}, {5})}, {}, 18), {5}, {0, 1, 2, 0, 0});
  // Only the last axis (given as -1) changes; int8 data.
  Tensor y = run1("CenterCropPad", {I(ET::int8, {2, 3}, {1, 2, 3, 4, 5, 6}), I(ET::int64, {1}, {1})},
                  {ais("axes", {-1})}, 18);
  expect_ints(y, ET::int8, {2, 1}, {2, 5});
  Tensor e = run1("CenterCropPad", {F({2, 3}, {1, 2, 3, 4, 5, 6}), I(ET::int64, {2}, {0, 3})}, {}, 18);
  expect_values(e, {0, 3}, {});
  EXPECT_EQ(run_code("CenterCropPad", {F({2}, {1, 2}), I(ET::int64, {2}, {1, 1})}, {}, 18), StatusCode::invalid_argument);
}

// ---- CumProd / BitCast / TensorScatter / Det -----------------------------------------

TEST(SignalCumProd, ExclusiveReverseAndIntegers) {
  const Tensor x = F({4}, {1, 2, 3, 4});
  expect_values(run1("CumProd", {x, I64(0)}), {4}, {1, 2, 6, 24});
  expect_values(run1("CumProd", {x, I64(0)}, {ai("exclusive", 1)}), {4}, {1, 1, 2, 6});
  expect_values(run1("CumProd", {x, I64(0)}, {ai("reverse", 1)}), {4}, {24, 24, 12, 4});
  expect_values(run1("CumProd", {x, I(ET::int32, {}, {0})}, {ai("reverse", 1), ai("exclusive", 1)}), {4},
                {24, 12, 4, 1});
  // Negative axis on a 2-D tensor; int32 products wrap.
  expect_ints(run1("CumProd", {I(ET::int32, {2, 2}, {65536, 65536, 2, 3}), I64(-1)}), ET::int32, {2, 2},
              {65536, 0, 2, 6});
  // int64 stays exact beyond 2^53.
  expect_ints(run1("CumProd", {I(ET::int64, {2}, {3037000499, 3037000499}), I64(0)}), ET::int64, {2},
              {3037000499, 9223372030926249001});
  expect_values(run1("CumProd", {F({2, 0}, {}), I64(1)}), {2, 0}, {});
  expect_values(run1("CumProd", {F({3}, {2, 0.5, 3}, ET::float16), I64(0)}), {3}, {2, 1, 3});
  EXPECT_EQ(run_code("CumProd", {x, I64(1)}), StatusCode::invalid_argument);
}

TEST(SignalBitCast, ReinterpretsBits) {
  expect_ints(run1("BitCast", {F({2}, {1.0, -2.0})}, {ai("to", 6)}), ET::int32, {2}, {1065353216, -1073741824});
  expect_ints(run1("BitCast", {F({}, {1.0}, ET::float16)}, {ai("to", 4)}), ET::uint16, {}, {0x3C00});
  expect_ints(run1("BitCast", {I(ET::int8, {2}, {-1, 5})}, {ai("to", 2)}), ET::uint8, {2}, {255, 5});
  Tensor f = run1("BitCast", {I(ET::int64, {1}, {0x3FF0000000000000})}, {ai("to", 11)});
  expect_values(f, {1}, {1.0});
  EXPECT_EQ(run_code("BitCast", {F({2}, {1, 2})}, {ai("to", 7)}), StatusCode::invalid_argument);
  EXPECT_EQ(run_code("BitCast", {F({2}, {1, 2})}, {ai("to", 8)}), StatusCode::invalid_argument);
}

TEST(SignalTensorScatter, LinearAndCircular) {
  const Tensor past = F({2, 4, 1}, std::vector<double>(8, 0));
  const Tensor update = F({2, 2, 1}, {1, 2, 3, 4});
  expect_values(run1("TensorScatter", {past, update, I(ET::int64, {2}, {0, 2})}, {}, 24), {2, 4, 1},
                {1, 2, 0, 0, 0, 0, 3, 4});
  expect_values(run1("TensorScatter", {past, update, I(ET::int64, {2}, {1, 3})}, {as("mode", "circular")}, 24),
                {2, 4, 1}, {0, 1, 2, 0, 4, 0, 0, 3});
  // No write_indices: write at 0. axis 2 on [1, 1, 3].
  expect_values(run1("TensorScatter", {F({1, 1, 3}, {7, 7, 7}), F({1, 1, 2}, {1, 2})}, {ai("axis", 2)}, 24), {1, 1, 3},
                {1, 2, 7});
  EXPECT_EQ(run_code("TensorScatter", {past, update, I(ET::int64, {2}, {1, 3})}, {}, 24), StatusCode::invalid_argument);
  EXPECT_EQ(run_code("TensorScatter", {past, update}, {ai("axis", 0)}, 24), StatusCode::invalid_argument);
}

TEST(SignalDet, SmallMatricesAndBatches) {
  expect_values(run1("Det", {F({2, 2}, {1, 2, 3, 4})}, {}, 11), {}, {-2});
  // A permutation needs pivoting; a singular matrix gives 0.
  expect_values(run1("Det", {F({2, 3, 3}, {0, 1, 0, 1, 0, 0, 0, 0, 1, 1, 2, 3, 2, 4, 6, 0, 1, 1})}, {}, 11), {2},
                {-1, 0});
  expect_values(run1("Det", {F({0, 2, 2}, {})}, {}, 11), {0}, {});
  expect_values(run1("Det", {F({2, 2}, {2, 0, 0, 3}, ET::float16)}, {}, 11), {}, {6});
  EXPECT_EQ(run_code("Det", {F({2, 3}, {1, 2, 3, 4, 5, 6})}, {}, 11), StatusCode::invalid_argument);
}

}  // namespace
}  // namespace switchyard::reference
