// Reference kernels: reduction family (Reduce*, ArgMax, ArgMin).
//
// Floating inputs accumulate in double. Integer inputs use exact 64-bit integer
// arithmetic that wraps like the element type (sum, product, sum of squares, L1)
// and exact comparisons (max, min); ops that are not integer-valued (mean, L2,
// log-sum, log-sum-exp) compute in double and convert with the usual truncation.
#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <set>

#include "switchyard/reference/interpreter.h"
#include "switchyard/reference/util.h"

namespace switchyard::reference {

namespace {

[[noreturn]] void bad(const std::string& msg) { throw_error(StatusCode::invalid_argument, msg); }

enum class ReduceOp { sum, mean, max, min, prod, l1, l2, log_sum, log_sum_exp, sum_square };

bool is_int_like(ElementType t) {
  return is_signed_integer(t) || is_unsigned_integer(t) || t == ElementType::boolean;
}

// Calls f(flat, out_flat) for every element of `shape`, where out_flat is the
// index into the reduced output (strides 0 on reduced axes).
template <typename F>
void for_each_with_output(const Shape& shape, const std::vector<bool>& reduced, F&& f) {
  const auto n = shape_numel(shape).value_or(0);
  if (n == 0) return;
  const size_t r = shape.size();
  // Output strides over the kept axes, in order.
  std::vector<int64_t> ostride(r, 0);
  int64_t acc = 1;
  for (size_t d = r; d-- > 0;) {
    if (reduced[d]) continue;
    ostride[d] = acc;
    acc *= shape[d];
  }
  std::vector<int64_t> idx(r, 0);
  int64_t o = 0;
  for (int64_t i = 0; i < n; ++i) {
    f(i, o);
    for (size_t d = r; d-- > 0;) {
      ++idx[d];
      o += ostride[d];
      if (idx[d] < shape[d]) break;
      o -= ostride[d] * idx[d];
      idx[d] = 0;
    }
  }
}

// Smallest / largest value of an integer type (for empty max / min reductions).
int64_t int_type_min(ElementType t) {
  switch (t) {
    case ElementType::int8: return std::numeric_limits<int8_t>::min();
    case ElementType::int16: return std::numeric_limits<int16_t>::min();
    case ElementType::int32: return std::numeric_limits<int32_t>::min();
    case ElementType::int64: return std::numeric_limits<int64_t>::min();
    case ElementType::int4: return -8;
    case ElementType::int2: return -2;
    default: return 0;  // unsigned and bool
  }
}

uint64_t int_type_max(ElementType t) {
  switch (t) {
    case ElementType::int8: return static_cast<uint64_t>(std::numeric_limits<int8_t>::max());
    case ElementType::int16: return static_cast<uint64_t>(std::numeric_limits<int16_t>::max());
    case ElementType::int32: return static_cast<uint64_t>(std::numeric_limits<int32_t>::max());
    case ElementType::int64: return static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
    case ElementType::uint8: return std::numeric_limits<uint8_t>::max();
    case ElementType::uint16: return std::numeric_limits<uint16_t>::max();
    case ElementType::uint32: return std::numeric_limits<uint32_t>::max();
    case ElementType::uint64: return std::numeric_limits<uint64_t>::max();
    case ElementType::int4: return 7;
    case ElementType::uint4: return 15;
    case ElementType::int2: return 1;
    case ElementType::uint2: return 3;
    case ElementType::boolean: return 1;
    default: return 0;
  }
}

struct ReduceSpec {
  std::vector<bool> reduced;  // per input axis (none: noop_with_empty_axes with no axes)
  bool keepdims = true;
};

ReduceSpec reduce_spec(KernelContext& ctx, const Tensor& x, int64_t axes_input_since) {
  ReduceSpec s;
  s.keepdims = ctx.attr_int("keepdims", 1) != 0;
  std::vector<int64_t> axes;
  if (ctx.opset() >= axes_input_since && ctx.has_input(1)) {
    axes = tensor_to_int64_list(ctx.input(1));
  } else if (ctx.has_attr("axes")) {
    axes = ctx.attr_ints("axes");
  } else if (ctx.has_input(1)) {
    axes = tensor_to_int64_list(ctx.input(1));
  }
  const size_t r = static_cast<size_t>(x.rank());
  s.reduced.assign(r, false);
  if (axes.empty()) {
    // noop_with_empty_axes: nothing is reduced, so each output is the reduction of its one input
    // value (ReduceL1 |x|, ReduceSumSquare x^2, ReduceLogSum log x: onnx/onnx#7394, which settled
    // onnx/onnx#6103); otherwise every axis is reduced.
    if (ctx.attr_int("noop_with_empty_axes", 0) == 0) s.reduced.assign(r, true);
    return s;
  }
  std::set<int64_t> seen;
  for (int64_t a : axes) {
    int64_t n = normalize_axis(a, x.rank(), "reduction axis");
    if (r == 0) continue;  // a scalar: axis 0 / -1 name the (empty) set of axes
    if (!seen.insert(n).second) bad("reduction axis " + std::to_string(a) + " is repeated");
    s.reduced[static_cast<size_t>(n)] = true;
  }
  return s;
}

Shape reduced_shape(const Shape& in, const std::vector<bool>& reduced, bool keepdims) {
  Shape out;
  for (size_t d = 0; d < in.size(); ++d) {
    if (!reduced[d]) out.push_back(in[d]);
    else if (keepdims) out.push_back(1);
  }
  return out;
}

void reduce_with(KernelContext& ctx, ReduceOp op, int64_t axes_input_since) {
  const Tensor& x = ctx.input(0);
  const ElementType t = x.type();
  if (t == ElementType::string || t == ElementType::complex64 || t == ElementType::complex128)
    throw_error(StatusCode::unsupported, std::string("reductions do not support ") + std::string(element_type_name(t)));
  ReduceSpec spec = reduce_spec(ctx, x, axes_input_since);
  const Shape out_shape = reduced_shape(x.shape(), spec.reduced, spec.keepdims);
  Tensor out = Tensor::allocate(t, out_shape);
  const int64_t n_out = out.numel();
  const size_t no = static_cast<size_t>(n_out);
  std::vector<int64_t> count(no, 0);

  // Exact integer path for integer-valued ops on integer inputs.
  const bool integer = is_int_like(t);
  const bool exact_int = integer && (op == ReduceOp::sum || op == ReduceOp::prod || op == ReduceOp::l1 ||
                                     op == ReduceOp::sum_square || op == ReduceOp::max || op == ReduceOp::min);
  if (exact_int) {
    const bool u64 = t == ElementType::uint64;
    std::vector<uint64_t> acc(no, op == ReduceOp::prod ? 1 : 0);  // wrapping sum / product
    std::vector<int64_t> best_s(no);
    std::vector<uint64_t> best_u(no);
    for_each_with_output(x.shape(), spec.reduced, [&](int64_t i, int64_t o) {
      const size_t k = static_cast<size_t>(o);
      const uint64_t u = get_uint64(x, i);
      const int64_t s = get_int64(x, i);
      switch (op) {
        case ReduceOp::sum: acc[k] += u; break;
        case ReduceOp::prod: acc[k] *= u; break;
        case ReduceOp::sum_square: acc[k] += u * u; break;
        case ReduceOp::l1: acc[k] += (u64 || s >= 0) ? u : static_cast<uint64_t>(0) - u; break;
        case ReduceOp::max:
          if (count[k] == 0 || (u64 ? u > best_u[k] : s > best_s[k])) best_s[k] = s, best_u[k] = u;
          break;
        case ReduceOp::min:
          if (count[k] == 0 || (u64 ? u < best_u[k] : s < best_s[k])) best_s[k] = s, best_u[k] = u;
          break;
        default: break;
      }
      ++count[k];
    });
    for (size_t k = 0; k < no; ++k) {
      const int64_t i = static_cast<int64_t>(k);
      if (op == ReduceOp::max || op == ReduceOp::min) {
        if (count[k] == 0) {  // empty set: the identity of max / min
          if (op == ReduceOp::max) set_int64(out, i, int_type_min(t));
          else set_uint64(out, i, int_type_max(t));
        } else {
          u64 ? set_uint64(out, i, best_u[k]) : set_int64(out, i, best_s[k]);
        }
      } else {
        set_uint64(out, i, acc[k]);
      }
    }
    ctx.set_output(0, out);
    return;
  }

  // Floating (or non-integer-valued) path in double.
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> acc(no, 0.0);
  if (op == ReduceOp::prod) acc.assign(no, 1.0);
  if (op == ReduceOp::max) acc.assign(no, -inf);
  if (op == ReduceOp::min) acc.assign(no, inf);
  std::vector<double> shift(no, 0.0);  // log-sum-exp: per-output maximum
  if (op == ReduceOp::log_sum_exp) {
    std::vector<double> mx(no, -inf);
    for_each_with_output(x.shape(), spec.reduced, [&](int64_t i, int64_t o) {
      const double v = get_double(x, i);
      double& m = mx[static_cast<size_t>(o)];
      if (std::isnan(v) || v > m) m = std::isnan(m) ? m : v;
    });
    for (size_t k = 0; k < no; ++k) shift[k] = std::isfinite(mx[k]) ? mx[k] : 0.0;
  }
  for_each_with_output(x.shape(), spec.reduced, [&](int64_t i, int64_t o) {
    const size_t k = static_cast<size_t>(o);
    const double v = get_double(x, i);
    double& a = acc[k];
    switch (op) {
      case ReduceOp::sum: case ReduceOp::mean: case ReduceOp::log_sum: a += v; break;
      case ReduceOp::prod: a *= v; break;
      case ReduceOp::l1: a += std::fabs(v); break;
      case ReduceOp::l2: case ReduceOp::sum_square: a += v * v; break;
      case ReduceOp::log_sum_exp: a += std::exp(v - shift[k]); break;
      case ReduceOp::max: if (std::isnan(v) || v > a) a = std::isnan(a) ? a : v; break;
      case ReduceOp::min: if (std::isnan(v) || v < a) a = std::isnan(a) ? a : v; break;
    }
    ++count[k];
  });
  for (size_t k = 0; k < no; ++k) {
    double v = acc[k];
    switch (op) {
      case ReduceOp::mean: v = v / static_cast<double>(count[k]); break;  // empty: 0/0 = NaN
      case ReduceOp::l2: v = std::sqrt(v); break;
      case ReduceOp::log_sum: v = std::log(v); break;
      case ReduceOp::log_sum_exp: v = std::log(v) + shift[k]; break;
      default: break;
    }
    set_double(out, static_cast<int64_t>(k), v);
  }
  ctx.set_output(0, out);
}

template <ReduceOp Op, int64_t AxesInputSince>
void reduce_kernel(KernelContext& ctx) {
  reduce_with(ctx, Op, AxesInputSince);
}

// ArgMax / ArgMin.
void arg_reduce(KernelContext& ctx, bool is_max) {
  const Tensor& x = ctx.input(0);
  const ElementType t = x.type();
  if (t == ElementType::string || t == ElementType::complex64 || t == ElementType::complex128)
    throw_error(StatusCode::unsupported, std::string("ArgMax/ArgMin do not support ") + std::string(element_type_name(t)));
  const int64_t axis = normalize_axis(ctx.attr_int("axis", 0), x.rank(), "axis");
  const bool keepdims = ctx.attr_int("keepdims", 1) != 0;
  const bool last = ctx.attr_int("select_last_index", 0) != 0;
  const int64_t r = x.rank();
  const int64_t n = r == 0 ? 1 : x.dim(axis);
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= x.dim(d);
  for (int64_t d = axis + 1; d < r; ++d) inner *= x.dim(d);
  Shape out_shape;
  for (int64_t d = 0; d < r; ++d) {
    if (d != axis) out_shape.push_back(x.dim(d));
    else if (keepdims) out_shape.push_back(1);
  }
  Tensor out = Tensor::allocate(ElementType::int64, out_shape);
  if (out.numel() > 0 && n == 0) bad("ArgMax/ArgMin: cannot reduce an empty axis");
  const bool integer = is_int_like(t);
  const bool u64 = t == ElementType::uint64;
  // Returns -1/0/1 comparing element p with q; NaN ranks above everything for
  // ArgMax and below everything for ArgMin, so the first NaN wins (as numpy).
  auto better = [&](int64_t p, int64_t q) -> int {
    int c;
    if (u64) {
      uint64_t a = get_uint64(x, p), b = get_uint64(x, q);
      c = a < b ? -1 : (a > b ? 1 : 0);
    } else if (integer) {
      int64_t a = get_int64(x, p), b = get_int64(x, q);
      c = a < b ? -1 : (a > b ? 1 : 0);
    } else {
      double a = get_double(x, p), b = get_double(x, q);
      if (std::isnan(a) || std::isnan(b)) return std::isnan(a) == std::isnan(b) ? 0 : (std::isnan(a) ? 1 : -1);
      c = a < b ? -1 : (a > b ? 1 : 0);
    }
    return is_max ? c : -c;
  };
  int64_t* o = out.mutable_data<int64_t>();
  for (int64_t a = 0; a < outer; ++a)
    for (int64_t b = 0; b < inner; ++b) {
      int64_t best = 0;
      for (int64_t j = 1; j < n; ++j) {
        const int c = better((a * n + j) * inner + b, (a * n + best) * inner + b);
        if (c > 0 || (c == 0 && last)) best = j;
      }
      o[a * inner + b] = best;
    }
  ctx.set_output(0, out);
}

void arg_max(KernelContext& ctx) { arg_reduce(ctx, true); }
void arg_min(KernelContext& ctx) { arg_reduce(ctx, false); }

}  // namespace

void register_reduction_kernels(KernelRegistry& r) {
  // Axes moved from an attribute to an input in opset 13 for ReduceSum, 18 for the others.
  r.add("", "ReduceSum", reduce_kernel<ReduceOp::sum, 13>);
  r.add("", "ReduceMean", reduce_kernel<ReduceOp::mean, 18>);
  r.add("", "ReduceMax", reduce_kernel<ReduceOp::max, 18>);
  r.add("", "ReduceMin", reduce_kernel<ReduceOp::min, 18>);
  r.add("", "ReduceProd", reduce_kernel<ReduceOp::prod, 18>);
  r.add("", "ReduceL1", reduce_kernel<ReduceOp::l1, 18>);
  r.add("", "ReduceL2", reduce_kernel<ReduceOp::l2, 18>);
  r.add("", "ReduceLogSum", reduce_kernel<ReduceOp::log_sum, 18>);
  r.add("", "ReduceLogSumExp", reduce_kernel<ReduceOp::log_sum_exp, 18>);
  r.add("", "ReduceSumSquare", reduce_kernel<ReduceOp::sum_square, 18>);
  r.add("", "ArgMax", arg_max);
  r.add("", "ArgMin", arg_min);
}

}  // namespace switchyard::reference
