// Named parameters of the NPU program's operations. The native blob stores them as the flat
// vectors Op::i and Op::f (the format is unchanged); each family's struct is a view with ONE
// encoder, used by the compiler, and ONE decoder, used by the blob checker and the executor, so
// a parameter's position is written down in one place only. A decoder refuses a vector that is
// too short (MissingParameters); range checks stay with the blob checker.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "npu_graph.h"

namespace npusim {

// Thrown by a decoder; from_blob reports it as a malformed blob.
struct MissingParameters : std::runtime_error {
  MissingParameters() : std::runtime_error("operation inconsistent: missing parameters") {}
};

namespace params {
template <typename T>
void require(const std::vector<T>& v, size_t n) {
  if (v.size() < n) throw MissingParameters();
}
}  // namespace params

// A 2-D window (convolution, pooling): ten integers from some position of Op::i.
struct Window {
  int64_t kernel_h = 1, kernel_w = 1;
  int64_t stride_h = 1, stride_w = 1;
  int64_t dilation_h = 1, dilation_w = 1;
  int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;

  void encode(std::vector<int64_t>& i) const {
    i.insert(i.end(), {kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left, pad_bottom, pad_right});
  }
  // Reads from i[at]; the caller has required the values it needs (a convolution does not need
  // the bottom and right pads, which then read as 0).
  static Window decode(const std::vector<int64_t>& i, size_t at) {
    auto at_or_0 = [&](size_t k) { return at + k < i.size() ? i[at + k] : 0; };
    return {i[at], i[at + 1], i[at + 2], i[at + 3], i[at + 4], i[at + 5], i[at + 6], i[at + 7], at_or_0(8), at_or_0(9)};
  }
};

// Conv and QLinearConv: Op::i = {groups, block, blocks, window...}. The weight is stored in
// `blocks` blocks of `block` output channels per group. The checker requires the first 11
// values (through pad_left: the executor needs no bottom or right pad).
struct ConvParams {
  int64_t groups = 1, block = 1, blocks = 1;
  Window window;

  void encode(Op& op) const {
    op.i = {groups, block, blocks};
    window.encode(op.i);
  }
  static ConvParams decode(const Op& op) {
    params::require(op.i, 11);
    return {op.i[0], op.i[1], op.i[2], Window::decode(op.i, 3)};
  }
};

// MaxPool and AveragePool: Op::i = {window..., count_include_pad}.
struct PoolParams {
  Window window;
  int64_t count_include_pad = 0;  // non-zero: the padded positions count in the average (kept as read from the model)

  void encode(Op& op) const {
    op.i.clear();
    window.encode(op.i);
    op.i.push_back(count_include_pad);
  }
  static PoolParams decode(const Op& op) {
    params::require(op.i, 11);
    return {Window::decode(op.i, 0), op.i[10]};
  }
};

// QLinearConv's quantisation: Op::f = {x_scale, y_scale, x_zero, y_zero, w_scale[M], w_zero[M]}
// for M output channels.
struct QuantConvParams {
  float x_scale = 1, y_scale = 1, x_zero = 0, y_zero = 0;
  std::vector<float> w_scale, w_zero;  // one per output channel

  void encode(Op& op) const {
    op.f = {x_scale, y_scale, x_zero, y_zero};
    op.f.insert(op.f.end(), w_scale.begin(), w_scale.end());
    op.f.insert(op.f.end(), w_zero.begin(), w_zero.end());
  }
  static QuantConvParams decode(const Op& op, int64_t out_channels) {
    const size_t m = static_cast<size_t>(out_channels);
    params::require(op.f, 4 + 2 * m);
    const auto scales = op.f.begin() + 4, zeros = scales + static_cast<std::ptrdiff_t>(m);
    return {op.f[0], op.f[1], op.f[2], op.f[3], {scales, zeros}, {zeros, zeros + static_cast<std::ptrdiff_t>(m)}};
  }
};

// Gemm: Op::i = {trans_a, trans_b}, Op::f = {alpha, beta}.
struct GemmParams {
  bool trans_a = false, trans_b = false;
  float alpha = 1, beta = 1;

  void encode(Op& op) const {
    op.i = {trans_a, trans_b};
    op.f = {alpha, beta};
  }
  static GemmParams decode(const Op& op) {
    params::require(op.i, 2);
    params::require(op.f, 2);
    return {op.i[0] != 0, op.i[1] != 0, op.f[0], op.f[1]};
  }
};

// QLinearMatMul: Op::f = {a_scale, a_zero, b_scale, b_zero, y_scale, y_zero}.
struct QuantMatMulParams {
  float a_scale = 1, a_zero = 0, b_scale = 1, b_zero = 0, y_scale = 1, y_zero = 0;

  void encode(Op& op) const { op.f = {a_scale, a_zero, b_scale, b_zero, y_scale, y_zero}; }
  static QuantMatMulParams decode(const Op& op) {
    params::require(op.f, 6);
    return {op.f[0], op.f[1], op.f[2], op.f[3], op.f[4], op.f[5]};
  }
};

// Two floats in Op::f: Clip's {low, high} bounds, HardSigmoid's y = alpha * x + beta.
struct ClipParams {
  float low = 0, high = 0;

  void encode(Op& op) const { op.f = {low, high}; }
  static ClipParams decode(const Op& op) {
    params::require(op.f, 2);
    return {op.f[0], op.f[1]};
  }
};
struct HardSigmoidParams {
  float alpha = 0.2f, beta = 0.5f;

  void encode(Op& op) const { ClipParams{alpha, beta}.encode(op); }
  static HardSigmoidParams decode(const Op& op) {
    const ClipParams two = ClipParams::decode(op);
    return {two.low, two.high};
  }
};

// Softmax: Op::i = {axis, flatten}; flatten (opset < 13) folds the axes after `axis` into it.
struct SoftmaxParams {
  int64_t axis = 0;
  bool flatten = false;

  void encode(Op& op) const { op.i = {axis, flatten}; }
  static SoftmaxParams decode(const Op& op) {
    params::require(op.i, 2);
    return {op.i[0], op.i[1] != 0};
  }
};

// Concat: Op::i = {axis}.
struct ConcatParams {
  int64_t axis = 0;

  void encode(Op& op) const { op.i = {axis}; }
  static ConcatParams decode(const Op& op) {
    params::require(op.i, 1);
    return {op.i[0]};
  }
};

// Transpose: Op::i = perm (output axis a reads input axis perm[a]).
struct TransposeParams {
  std::vector<int64_t> perm;

  void encode(Op& op) const { op.i = perm; }
  static TransposeParams decode(const Op& op, size_t rank) {
    params::require(op.i, rank);
    return {std::vector<int64_t>(op.i.begin(), op.i.begin() + static_cast<std::ptrdiff_t>(rank))};
  }
};

// QuantizeLinear and DequantizeLinear: Op::i = {axis} (-1: one scale for the tensor),
// Op::f = {scale[n], zero_point[n]}.
struct QuantizeParams {
  int64_t axis = -1;
  std::vector<float> scale, zero_point;

  void encode(Op& op) const {
    op.i = {axis};
    op.f = scale;
    op.f.insert(op.f.end(), zero_point.begin(), zero_point.end());
  }
  static QuantizeParams decode(const Op& op) {
    params::require(op.i, 1);
    params::require(op.f, 2);
    const auto half = op.f.begin() + static_cast<std::ptrdiff_t>(op.f.size() / 2);
    return {op.i[0], {op.f.begin(), half}, {half, half + static_cast<std::ptrdiff_t>(op.f.size() / 2)}};
  }
};

}  // namespace npusim
