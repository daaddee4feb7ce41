// Reference kernels: shape family (reshape/transpose/concat/slice/gather/pad/...).
//
// Data movement works for every element type (including string and the sub-byte
// types) because elements are moved with copy_element; only ops that compute
// on values (Range, CumSum, TopK, Resize, ...) read them as numbers.
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <set>

#include "switchyard/reference/interpreter.h"
#include "switchyard/reference/util.h"

namespace switchyard::reference {

namespace {

// ---------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------

[[noreturn]] void bad(const std::string& msg) { throw_error(StatusCode::invalid_argument, msg); }
[[noreturn]] void unsupported(const std::string& msg) { throw_error(StatusCode::unsupported, msg); }

int64_t numel_of(const Shape& s) {
  auto n = shape_numel(s);
  if (!n) bad("invalid shape " + shape_to_string(s));
  return *n;
}

// Row-major strides (dims of 0 count as 1 so strides stay meaningful).
std::vector<int64_t> strides(const Shape& s) { return strides_of(s); }

// Advances a row-major multi-index; returns false after the last one.
bool next_index(std::vector<int64_t>& idx, const Shape& shape) {
  for (size_t d = shape.size(); d-- > 0;) {
    if (++idx[d] < shape[d]) return true;
    idx[d] = 0;
  }
  return false;
}

// Calls f(flat, multi_index) for every element of `shape` in row-major order.
template <typename F>
void for_each_index(const Shape& shape, F&& f) {
  int64_t n = numel_of(shape);
  if (n == 0) return;
  std::vector<int64_t> idx(shape.size(), 0);
  for (int64_t i = 0; i < n; ++i) {
    f(i, idx);
    next_index(idx, shape);
  }
}

// out[idx] = in[base + sum(idx[d] * in_step[d])]: covers Transpose, Slice, Expand.
Tensor strided_copy(const Tensor& in, const Shape& out_shape, int64_t base, const std::vector<int64_t>& in_step) {
  Tensor out = Tensor::allocate(in.type(), out_shape);
  for_each_index(out_shape, [&](int64_t i, const std::vector<int64_t>& idx) {
    int64_t src = base;
    for (size_t d = 0; d < idx.size(); ++d) src += idx[d] * in_step[d];
    copy_element(in, src, out, i);
  });
  return out;
}

Tensor transpose_tensor(const Tensor& in, const std::vector<int64_t>& perm) {
  auto st = strides(in.shape());
  Shape out_shape(perm.size());
  std::vector<int64_t> step(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) {
    out_shape[i] = in.shape()[static_cast<size_t>(perm[i])];
    step[i] = st[static_cast<size_t>(perm[i])];
  }
  return strided_copy(in, out_shape, 0, step);
}

bool is_integer_type(ElementType t) {
  return is_signed_integer(t) || is_unsigned_integer(t);
}

// Reads a scalar or single-element tensor as int64.
int64_t scalar_int(const Tensor& t, const char* what) {
  if (t.numel() != 1) bad(std::string(what) + " must hold exactly one value, got shape " + shape_to_string(t.shape()));
  if (!is_integer_type(t.type())) bad(std::string(what) + " must be an integer tensor");
  return get_int64(t, 0);
}

// Axes from an attribute (old opsets) or an input (new opsets); nullopt if neither.
std::optional<std::vector<int64_t>> axes_from(KernelContext& ctx, size_t input_index, const char* attr = "axes") {
  if (ctx.has_input(input_index)) return tensor_to_int64_list(ctx.input(input_index));
  if (ctx.has_attr(attr)) return ctx.attr_ints(attr);
  return std::nullopt;
}

// normalize_axis for ops that index a dimension: a scalar has no axis to name.
int64_t axis_of(int64_t axis, int64_t rank, const char* what) {
  if (rank == 0) bad(std::string(what) + " " + std::to_string(axis) + " given for a rank-0 tensor");
  return normalize_axis(axis, rank, what);
}

std::vector<int64_t> normalize_axes(const std::vector<int64_t>& axes, int64_t rank, const char* what) {
  std::vector<int64_t> out;
  std::set<int64_t> seen;
  for (int64_t a : axes) {
    int64_t n = axis_of(a, rank, what);
    if (!seen.insert(n).second) bad(std::string(what) + " " + std::to_string(a) + " is repeated");
    out.push_back(n);
  }
  return out;
}

// Index into a gather-like dim: negative counts from the end; out of range is an error.
int64_t resolve_index(int64_t i, int64_t dim, const char* what) {
  int64_t r = i < 0 ? i + dim : i;
  if (r < 0 || r >= dim)
    bad(std::string(what) + " index " + std::to_string(i) + " is out of range for a dimension of size " +
        std::to_string(dim));
  return r;
}

// ---------------------------------------------------------------------------
// Reshape, Shape, Size, Flatten, Squeeze, Unsqueeze
// ---------------------------------------------------------------------------

void reshape(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  std::vector<int64_t> req;
  if (ctx.opset() < 5 && !ctx.has_input(1)) {
    req = ctx.attr_ints("shape");
  } else {
    req = tensor_to_int64_list(ctx.input(1));
  }
  const bool allowzero = ctx.attr_int("allowzero", 0) != 0;
  Shape out(req.size());
  int64_t infer_at = -1;
  int64_t known = 1;
  for (size_t i = 0; i < req.size(); ++i) {
    int64_t d = req[i];
    if (d == -1) {
      if (infer_at >= 0) bad("Reshape: more than one -1 in shape");
      infer_at = static_cast<int64_t>(i);
      continue;
    }
    if (d == 0 && !allowzero) {
      if (static_cast<int64_t>(i) >= x.rank())
        bad("Reshape: shape has 0 at index " + std::to_string(i) + " but the input has rank " + std::to_string(x.rank()));
      d = x.dim(static_cast<int64_t>(i));
    } else if (d < 0) {
      bad("Reshape: invalid dimension " + std::to_string(d));
    }
    out[i] = d;
    if (d != 0 && known > std::numeric_limits<int64_t>::max() / d) bad("Reshape: shape too large");
    known *= d;
  }
  if (infer_at >= 0) {
    if (known == 0) bad("Reshape: cannot infer -1 when other dimensions multiply to 0");
    if (x.numel() % known != 0)
      bad("Reshape: cannot reshape " + shape_to_string(x.shape()) + " to " + shape_to_string(Shape(req)));
    out[static_cast<size_t>(infer_at)] = x.numel() / known;
  }
  if (numel_of(out) != x.numel())
    bad("Reshape: cannot reshape " + shape_to_string(x.shape()) + " to " + shape_to_string(out));
  ctx.set_output(0, x.reshaped(out));
}

void shape_op(KernelContext& ctx) {
  const Value& v = ctx.input_value(0);
  if (v.kind != Value::Kind::tensor) bad("Shape: input is not a tensor");
  const Shape& s = v.tensor.shape();
  int64_t r = static_cast<int64_t>(s.size());
  int64_t start = ctx.attr_int("start", 0);
  int64_t end = ctx.has_attr("end") ? ctx.attr_int("end", r) : r;
  if (start < 0) start += r;
  if (end < 0) end += r;
  start = std::clamp<int64_t>(start, 0, r);
  end = std::clamp<int64_t>(end, 0, r);
  std::vector<int64_t> dims;
  for (int64_t i = start; i < end; ++i) dims.push_back(s[static_cast<size_t>(i)]);
  ctx.set_output(0, Tensor::from_vector<int64_t>(ElementType::int64, {static_cast<int64_t>(dims.size())}, dims));
}

void size_op(KernelContext& ctx) {
  ctx.set_output(0, Tensor::scalar<int64_t>(ElementType::int64, ctx.input(0).numel()));
}

void flatten(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  int64_t r = x.rank();
  int64_t axis = ctx.attr_int("axis", 1);
  if (axis < 0) axis += r;
  if (axis < 0 || axis > r) bad("Flatten: axis " + std::to_string(ctx.attr_int("axis", 1)) + " out of range for rank " +
                                std::to_string(r));
  int64_t a = 1, b = 1;
  for (int64_t i = 0; i < r; ++i) (i < axis ? a : b) *= x.dim(i);
  ctx.set_output(0, x.reshaped({a, b}));
}

void squeeze(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  auto axes = axes_from(ctx, 1);
  std::vector<bool> drop(static_cast<size_t>(x.rank()), false);
  if (!axes) {
    for (int64_t i = 0; i < x.rank(); ++i) drop[static_cast<size_t>(i)] = x.dim(i) == 1;
  } else {
    for (int64_t a : normalize_axes(*axes, x.rank(), "Squeeze axis")) {
      if (x.dim(a) != 1)
        bad("Squeeze: axis " + std::to_string(a) + " has size " + std::to_string(x.dim(a)) + ", not 1");
      drop[static_cast<size_t>(a)] = true;
    }
  }
  Shape out;
  for (int64_t i = 0; i < x.rank(); ++i)
    if (!drop[static_cast<size_t>(i)]) out.push_back(x.dim(i));
  ctx.set_output(0, x.reshaped(out));
}

void unsqueeze(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  auto axes = axes_from(ctx, 1);
  if (!axes) bad("Unsqueeze: axes are required");
  int64_t out_rank = x.rank() + static_cast<int64_t>(axes->size());
  std::vector<bool> inserted(static_cast<size_t>(out_rank), false);
  for (int64_t a : normalize_axes(*axes, out_rank, "Unsqueeze axis")) inserted[static_cast<size_t>(a)] = true;
  Shape out;
  int64_t k = 0;
  for (int64_t i = 0; i < out_rank; ++i) out.push_back(inserted[static_cast<size_t>(i)] ? 1 : x.dim(k++));
  ctx.set_output(0, x.reshaped(out));
}

// ---------------------------------------------------------------------------
// Slice, Concat, Split, Transpose
// ---------------------------------------------------------------------------

void slice(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  std::vector<int64_t> starts, ends, axes, steps;
  if (ctx.opset() < 10) {
    starts = ctx.attr_ints("starts");
    ends = ctx.attr_ints("ends");
    axes = ctx.attr_ints("axes");
  } else {
    starts = tensor_to_int64_list(ctx.input(1));
    ends = tensor_to_int64_list(ctx.input(2));
    if (ctx.has_input(3)) axes = tensor_to_int64_list(ctx.input(3));
    if (ctx.has_input(4)) steps = tensor_to_int64_list(ctx.input(4));
  }
  if (starts.size() != ends.size()) bad("Slice: starts and ends differ in length");
  if (axes.empty()) {
    if (starts.size() > static_cast<size_t>(x.rank())) bad("Slice: more starts than input dimensions");
    for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
  }
  if (steps.empty()) steps.assign(starts.size(), 1);
  if (axes.size() != starts.size() || steps.size() != starts.size())
    bad("Slice: starts, ends, axes and steps must have the same length");
  axes = normalize_axes(axes, x.rank(), "Slice axis");

  const int64_t r = x.rank();
  Shape out_shape = x.shape();
  std::vector<int64_t> begin(static_cast<size_t>(r), 0), step(static_cast<size_t>(r), 1);
  for (size_t k = 0; k < axes.size(); ++k) {
    const size_t a = static_cast<size_t>(axes[k]);
    const int64_t dim = x.shape()[a];
    const int64_t st = steps[k];
    if (st == 0) bad("Slice: step cannot be 0");
    int64_t s = starts[k], e = ends[k];
    // Bring negatives into range first (saturating for huge values).
    if (s < 0) s += dim;  // cannot overflow: dim >= 0; still-negative values clamp below
    if (e < 0) e += dim;
    int64_t count;
    if (st > 0) {
      s = std::clamp<int64_t>(s, 0, dim);
      e = std::clamp<int64_t>(e, 0, dim);
      count = e > s ? (e - s - 1) / st + 1 : 0;
    } else {
      s = std::clamp<int64_t>(s, -1, dim - 1);
      e = std::clamp<int64_t>(e, -1, dim - 1);
      count = s > e ? (s - e - 1) / (-st) + 1 : 0;
    }
    begin[a] = count > 0 ? s : 0;
    step[a] = st;
    out_shape[a] = count;
  }
  auto st = strides(x.shape());
  int64_t base = 0;
  std::vector<int64_t> in_step(static_cast<size_t>(r));
  for (size_t d = 0; d < static_cast<size_t>(r); ++d) {
    base += begin[d] * st[d];
    in_step[d] = step[d] * st[d];
  }
  ctx.set_output(0, strided_copy(x, out_shape, base, in_step));
}

void concat(KernelContext& ctx) {
  std::vector<const Tensor*> ins;
  for (size_t i = 0; i < ctx.num_inputs(); ++i)
    if (ctx.has_input(i)) ins.push_back(&ctx.input(i));
  if (ins.empty()) bad("Concat: no inputs");
  const Tensor& first = *ins[0];
  const int64_t r = first.rank();
  if (!ctx.has_attr("axis") && ctx.opset() >= 4) bad("Concat: axis attribute is required");
  const int64_t axis = axis_of(ctx.attr_int("axis", 1), r, "Concat axis");
  Shape out_shape = first.shape();
  out_shape[static_cast<size_t>(axis)] = 0;
  for (const Tensor* t : ins) {
    if (t->type() != first.type()) bad("Concat: inputs have different element types");
    if (t->rank() != r) bad("Concat: inputs have different ranks");
    for (int64_t d = 0; d < r; ++d)
      if (d != axis && t->dim(d) != first.dim(d))
        bad("Concat: shapes " + shape_to_string(first.shape()) + " and " + shape_to_string(t->shape()) +
            " differ outside the concat axis");
    out_shape[static_cast<size_t>(axis)] += t->dim(axis);
  }
  Tensor out = Tensor::allocate(first.type(), out_shape);
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= out_shape[static_cast<size_t>(d)];
  for (int64_t d = axis + 1; d < r; ++d) inner *= out_shape[static_cast<size_t>(d)];
  const int64_t out_block = out_shape[static_cast<size_t>(axis)] * inner;
  int64_t offset = 0;
  for (const Tensor* t : ins) {
    const int64_t block = t->dim(axis) * inner;
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t j = 0; j < block; ++j) copy_element(*t, o * block + j, out, o * out_block + offset + j);
    offset += block;
  }
  ctx.set_output(0, out);
}

// Copies x[..., start:start+len, ...] along `axis`.
Tensor slice_axis(const Tensor& x, int64_t axis, int64_t start, int64_t len) {
  Shape s = x.shape();
  s[static_cast<size_t>(axis)] = len;
  auto st = strides(x.shape());
  return strided_copy(x, s, start * st[static_cast<size_t>(axis)], st);
}

void split(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const int64_t axis = axis_of(ctx.attr_int("axis", 0), x.rank(), "Split axis");
  const int64_t dim = x.dim(axis);
  const int64_t n_out = static_cast<int64_t>(ctx.num_outputs());
  std::vector<int64_t> sizes;
  if (ctx.opset() >= 13 && ctx.has_input(1)) {
    sizes = tensor_to_int64_list(ctx.input(1));
  } else if (ctx.opset() < 13 && ctx.has_attr("split")) {
    sizes = ctx.attr_ints("split");
  } else if (ctx.opset() < 13 && ctx.has_input(1)) {  // Split-2 took split as an optional input
    sizes = tensor_to_int64_list(ctx.input(1));
  }
  if (sizes.empty()) {
    if (ctx.opset() >= 18 && ctx.has_attr("num_outputs")) {
      int64_t n = ctx.attr_int("num_outputs", n_out);
      if (n <= 0) bad("Split: num_outputs must be positive");
      if (n != n_out) bad("Split: num_outputs does not match the node's output count");
      int64_t chunk = (dim + n - 1) / n;
      for (int64_t i = 0; i < n; ++i) sizes.push_back(std::max<int64_t>(0, std::min(chunk, dim - chunk * i)));
    } else {
      if (n_out <= 0) bad("Split: no outputs");
      if (dim % n_out != 0)
        bad("Split: dimension " + std::to_string(dim) + " cannot be split evenly into " + std::to_string(n_out));
      sizes.assign(static_cast<size_t>(n_out), dim / n_out);
    }
  }
  if (static_cast<int64_t>(sizes.size()) != n_out) bad("Split: split has a different length than the output count");
  int64_t total = 0;
  for (int64_t s : sizes) {
    if (s < 0) bad("Split: negative split size");
    total += s;
  }
  if (total != dim) bad("Split: split sizes sum to " + std::to_string(total) + ", dimension is " + std::to_string(dim));
  int64_t start = 0;
  for (size_t i = 0; i < sizes.size(); ++i) {
    if (ctx.wants_output(i)) ctx.set_output(i, slice_axis(x, axis, start, sizes[i]));
    start += sizes[i];
  }
}

void transpose(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  std::vector<int64_t> perm = ctx.attr_ints("perm");
  if (perm.empty() && !ctx.has_attr("perm")) {
    for (int64_t i = x.rank(); i-- > 0;) perm.push_back(i);
  }
  if (static_cast<int64_t>(perm.size()) != x.rank()) bad("Transpose: perm length does not match the input rank");
  perm = normalize_axes(perm, x.rank(), "Transpose perm entry");
  ctx.set_output(0, transpose_tensor(x, perm));
}

// ---------------------------------------------------------------------------
// Gather family
// ---------------------------------------------------------------------------

void gather(KernelContext& ctx) {
  const Tensor& data = ctx.input(0);
  const Tensor& ind = ctx.input(1);
  if (!is_integer_type(ind.type())) bad("Gather: indices must be integers");
  if (data.rank() < 1) bad("Gather: data must have rank >= 1");
  const int64_t axis = axis_of(ctx.attr_int("axis", 0), data.rank(), "Gather axis");
  Shape out_shape(data.shape().begin(), data.shape().begin() + axis);
  out_shape.insert(out_shape.end(), ind.shape().begin(), ind.shape().end());
  out_shape.insert(out_shape.end(), data.shape().begin() + axis + 1, data.shape().end());
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= data.dim(d);
  for (int64_t d = axis + 1; d < data.rank(); ++d) inner *= data.dim(d);
  const int64_t dim = data.dim(axis);
  Tensor out = Tensor::allocate(data.type(), out_shape);
  const int64_t n_ind = ind.numel();
  std::vector<int64_t> idx(static_cast<size_t>(n_ind));
  for (int64_t k = 0; k < n_ind; ++k) idx[static_cast<size_t>(k)] = resolve_index(get_int64(ind, k), dim, "Gather");
  int64_t o = 0;
  for (int64_t a = 0; a < outer; ++a)
    for (int64_t k = 0; k < n_ind; ++k)
      for (int64_t b = 0; b < inner; ++b)
        copy_element(data, (a * dim + idx[static_cast<size_t>(k)]) * inner + b, out, o++);
  ctx.set_output(0, out);
}

void gather_elements(KernelContext& ctx) {
  const Tensor& data = ctx.input(0);
  const Tensor& ind = ctx.input(1);
  if (!is_integer_type(ind.type())) bad("GatherElements: indices must be integers");
  if (ind.rank() != data.rank()) bad("GatherElements: data and indices must have the same rank");
  const int64_t axis = axis_of(ctx.attr_int("axis", 0), data.rank(), "GatherElements axis");
  for (int64_t d = 0; d < data.rank(); ++d)
    if (d != axis && ind.dim(d) > data.dim(d)) bad("GatherElements: indices shape exceeds data shape");
  auto st = strides(data.shape());
  Tensor out = Tensor::allocate(data.type(), ind.shape());
  for_each_index(ind.shape(), [&](int64_t i, const std::vector<int64_t>& idx) {
    int64_t src = 0;
    for (size_t d = 0; d < idx.size(); ++d) {
      int64_t v = static_cast<int64_t>(d) == axis ? resolve_index(get_int64(ind, i), data.dim(axis), "GatherElements")
                                                  : idx[d];
      src += v * st[d];
    }
    copy_element(data, src, out, i);
  });
  ctx.set_output(0, out);
}

void gather_nd(KernelContext& ctx) {
  const Tensor& data = ctx.input(0);
  const Tensor& ind = ctx.input(1);
  if (!is_integer_type(ind.type())) bad("GatherND: indices must be integers");
  const int64_t b = ctx.attr_int("batch_dims", 0);
  const int64_t r = data.rank(), q = ind.rank();
  if (q < 1 || r < 1) bad("GatherND: data and indices must have rank >= 1");
  if (b < 0 || b >= std::min(r, q)) bad("GatherND: batch_dims out of range");
  for (int64_t d = 0; d < b; ++d)
    if (data.dim(d) != ind.dim(d)) bad("GatherND: batch dimensions of data and indices differ");
  const int64_t k = ind.dim(q - 1);
  if (k < 1 || k > r - b) bad("GatherND: last indices dimension out of range");
  Shape out_shape(ind.shape().begin(), ind.shape().end() - 1);
  for (int64_t d = b + k; d < r; ++d) out_shape.push_back(data.dim(d));
  int64_t batch = 1, slice = 1;
  for (int64_t d = 0; d < b; ++d) batch *= data.dim(d);
  for (int64_t d = b + k; d < r; ++d) slice *= data.dim(d);
  int64_t data_batch = 1;
  for (int64_t d = b; d < r; ++d) data_batch *= data.dim(d);
  const int64_t n_tuples = k == 0 ? 0 : ind.numel() / k;
  const int64_t tuples_per_batch = batch == 0 ? 0 : n_tuples / batch;
  auto st = strides(data.shape());
  Tensor out = Tensor::allocate(data.type(), out_shape);
  for (int64_t t = 0; t < n_tuples; ++t) {
    const int64_t bi = tuples_per_batch == 0 ? 0 : t / tuples_per_batch;
    int64_t src = bi * data_batch;
    for (int64_t j = 0; j < k; ++j)
      src += resolve_index(get_int64(ind, t * k + j), data.dim(b + j), "GatherND") * st[static_cast<size_t>(b + j)];
    for (int64_t s = 0; s < slice; ++s) copy_element(data, src + s, out, t * slice + s);
  }
  ctx.set_output(0, out);
}

// ---------------------------------------------------------------------------
// Scatter family
// ---------------------------------------------------------------------------

enum class Reduction { none, add, mul, max, min };

Reduction parse_reduction(KernelContext& ctx, const char* op) {
  std::string r = ctx.attr_string("reduction", "none");
  if (r == "none") return Reduction::none;
  if (r == "add") return Reduction::add;
  if (r == "mul") return Reduction::mul;
  if (r == "max") return Reduction::max;
  if (r == "min") return Reduction::min;
  unsupported(std::string(op) + ": unknown reduction '" + r + "'");
}

// out[dst] = reduce(out[dst], upd[src]).
void scatter_one(Tensor& out, int64_t dst, const Tensor& upd, int64_t src, Reduction red) {
  if (red == Reduction::none) {
    copy_element(upd, src, out, dst);
    return;
  }
  if (out.type() == ElementType::string) unsupported("scatter reductions are not defined for strings");
  if (is_floating(out.type())) {
    double a = get_double(out, dst), b = get_double(upd, src), v = 0;
    switch (red) {
      case Reduction::add: v = a + b; break;
      case Reduction::mul: v = a * b; break;
      case Reduction::max: v = std::isnan(a) || std::isnan(b) ? std::nan("") : std::max(a, b); break;
      case Reduction::min: v = std::isnan(a) || std::isnan(b) ? std::nan("") : std::min(a, b); break;
      default: break;
    }
    set_double(out, dst, v);
  } else if (out.type() == ElementType::uint64) {
    uint64_t a = get_uint64(out, dst), b = get_uint64(upd, src), v = 0;
    switch (red) {
      case Reduction::add: v = a + b; break;
      case Reduction::mul: v = a * b; break;
      case Reduction::max: v = std::max(a, b); break;
      case Reduction::min: v = std::min(a, b); break;
      default: break;
    }
    set_uint64(out, dst, v);
  } else {
    int64_t a = get_int64(out, dst), b = get_int64(upd, src), v = 0;
    switch (red) {
      case Reduction::add: v = static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b)); break;
      case Reduction::mul: v = static_cast<int64_t>(static_cast<uint64_t>(a) * static_cast<uint64_t>(b)); break;
      case Reduction::max: v = std::max(a, b); break;
      case Reduction::min: v = std::min(a, b); break;
      default: break;
    }
    set_int64(out, dst, v);
  }
}

void scatter_elements(KernelContext& ctx) {
  const Tensor& data = ctx.input(0);
  const Tensor& ind = ctx.input(1);
  const Tensor& upd = ctx.input(2);
  if (!is_integer_type(ind.type())) bad("ScatterElements: indices must be integers");
  if (upd.type() != data.type()) bad("ScatterElements: updates and data types differ");
  if (ind.shape() != upd.shape()) bad("ScatterElements: indices and updates shapes differ");
  if (ind.rank() != data.rank()) bad("ScatterElements: data and indices must have the same rank");
  const Reduction red = ctx.node().op_type == "Scatter" ? Reduction::none : parse_reduction(ctx, "ScatterElements");
  const int64_t axis = axis_of(ctx.attr_int("axis", 0), data.rank(), "ScatterElements axis");
  for (int64_t d = 0; d < data.rank(); ++d)
    if (d != axis && ind.dim(d) > data.dim(d)) bad("ScatterElements: indices shape exceeds data shape");
  Tensor out = data.clone();
  auto st = strides(data.shape());
  for_each_index(ind.shape(), [&](int64_t i, const std::vector<int64_t>& idx) {
    int64_t dst = 0;
    for (size_t d = 0; d < idx.size(); ++d) {
      int64_t v = static_cast<int64_t>(d) == axis
                      ? resolve_index(get_int64(ind, i), data.dim(axis), "ScatterElements")
                      : idx[d];
      dst += v * st[d];
    }
    scatter_one(out, dst, upd, i, red);
  });
  ctx.set_output(0, out);
}

void scatter_nd(KernelContext& ctx) {
  const Tensor& data = ctx.input(0);
  const Tensor& ind = ctx.input(1);
  const Tensor& upd = ctx.input(2);
  if (!is_integer_type(ind.type())) bad("ScatterND: indices must be integers");
  if (upd.type() != data.type()) bad("ScatterND: updates and data types differ");
  const Reduction red = parse_reduction(ctx, "ScatterND");
  const int64_t r = data.rank(), q = ind.rank();
  if (q < 1) bad("ScatterND: indices must have rank >= 1");
  const int64_t k = ind.dim(q - 1);
  if (k > r) bad("ScatterND: last indices dimension exceeds data rank");
  Shape upd_shape(ind.shape().begin(), ind.shape().end() - 1);
  for (int64_t d = k; d < r; ++d) upd_shape.push_back(data.dim(d));
  if (upd.shape() != upd_shape)
    bad("ScatterND: updates shape " + shape_to_string(upd.shape()) + " should be " + shape_to_string(upd_shape));
  int64_t slice = 1;
  for (int64_t d = k; d < r; ++d) slice *= data.dim(d);
  const int64_t n_tuples = numel_of(Shape(ind.shape().begin(), ind.shape().end() - 1));
  auto st = strides(data.shape());
  Tensor out = data.clone();
  for (int64_t t = 0; t < n_tuples; ++t) {
    int64_t dst = 0;
    for (int64_t j = 0; j < k; ++j)
      dst += resolve_index(get_int64(ind, t * k + j), data.dim(j), "ScatterND") * st[static_cast<size_t>(j)];
    for (int64_t s = 0; s < slice; ++s) scatter_one(out, dst + s, upd, t * slice + s, red);
  }
  ctx.set_output(0, out);
}

// ---------------------------------------------------------------------------
// ConstantOfShape, Expand, Range, Tile, Pad
// ---------------------------------------------------------------------------

void constant_of_shape(KernelContext& ctx) {
  Shape s = tensor_to_int64_list(ctx.input(0));
  for (int64_t d : s)
    if (d < 0) bad("ConstantOfShape: negative dimension " + std::to_string(d));
  const Attribute* a = ctx.node().attr("value");
  Tensor value;
  if (a) {
    if (a->type != Attribute::Type::tensor) bad("ConstantOfShape: value must be a tensor");
    value = a->t;
    if (value.numel() != 1) bad("ConstantOfShape: value must have exactly one element");
  } else {
    value = Tensor::scalar<float>(ElementType::float32, 0.0f);
  }
  Tensor out = Tensor::allocate(value.type(), s);
  for (int64_t i = 0; i < out.numel(); ++i) copy_element(value, 0, out, i);
  ctx.set_output(0, out);
}

void expand(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  Shape target = tensor_to_int64_list(ctx.input(1));
  Shape out_shape = broadcast_shapes({x.shape(), target});
  auto map = broadcast_index_map(x.shape(), out_shape);
  Tensor out = Tensor::allocate(x.type(), out_shape);
  for (int64_t i = 0; i < out.numel(); ++i) copy_element(x, map[static_cast<size_t>(i)], out, i);
  ctx.set_output(0, out);
}

void range(KernelContext& ctx) {
  const Tensor& ts = ctx.input(0);
  const Tensor& tl = ctx.input(1);
  const Tensor& td = ctx.input(2);
  if (ts.numel() != 1 || tl.numel() != 1 || td.numel() != 1) bad("Range: start, limit and delta must be scalars");
  if (ts.type() != tl.type() || ts.type() != td.type()) bad("Range: start, limit and delta types differ");
  const ElementType t = ts.type();
  constexpr int64_t kMaxRange = int64_t{1} << 34;
  if (is_integer_type(t)) {
    const int64_t s = get_int64(ts, 0), l = get_int64(tl, 0), d = get_int64(td, 0);
    if (d == 0) bad("Range: delta cannot be 0");
    // ceil((l - s) / d) computed without overflow in 128-bit arithmetic.
    __int128 diff = static_cast<__int128>(l) - s;
    __int128 n = diff / d;
    if (n * d != diff) n += 1;  // ceil when same sign
    if ((diff > 0) != (d > 0) && diff != 0) n = 0;
    if (n < 0) n = 0;
    if (n > kMaxRange) bad("Range: too many elements");
    Tensor out = Tensor::allocate(t, {static_cast<int64_t>(n)});
    for (int64_t i = 0; i < static_cast<int64_t>(n); ++i)
      set_int64(out, i, static_cast<int64_t>(static_cast<__int128>(s) + static_cast<__int128>(i) * d));
    ctx.set_output(0, out);
    return;
  }
  const double s = get_double(ts, 0), l = get_double(tl, 0), d = get_double(td, 0);
  if (d == 0 || !std::isfinite(s) || !std::isfinite(l) || !std::isfinite(d))
    bad("Range: start, limit and delta must be finite and delta non-zero");
  double nd = std::max(std::ceil((l - s) / d), 0.0);
  if (nd > static_cast<double>(kMaxRange)) bad("Range: too many elements");
  const int64_t n = static_cast<int64_t>(nd);
  Tensor out = Tensor::allocate(t, {n});
  for (int64_t i = 0; i < n; ++i) set_double(out, i, s + static_cast<double>(i) * d);
  ctx.set_output(0, out);
}

void tile(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  std::vector<int64_t> reps;
  if (ctx.opset() < 6 && ctx.has_input(2)) {  // Tile-1: tiles, axis
    reps.assign(static_cast<size_t>(x.rank()), 1);
    int64_t axis = axis_of(scalar_int(ctx.input(2), "Tile axis"), x.rank(), "Tile axis");
    reps[static_cast<size_t>(axis)] = scalar_int(ctx.input(1), "Tile tiles");
  } else {
    reps = tensor_to_int64_list(ctx.input(1));
  }
  if (static_cast<int64_t>(reps.size()) != x.rank()) bad("Tile: repeats length must equal the input rank");
  Shape out_shape(static_cast<size_t>(x.rank()));
  for (size_t d = 0; d < reps.size(); ++d) {
    if (reps[d] < 0) bad("Tile: negative repeat");
    if (reps[d] != 0 && x.shape()[d] > std::numeric_limits<int64_t>::max() / reps[d]) bad("Tile: output too large");
    out_shape[d] = x.shape()[d] * reps[d];
  }
  auto st = strides(x.shape());
  Tensor out = Tensor::allocate(x.type(), out_shape);
  for_each_index(out_shape, [&](int64_t i, const std::vector<int64_t>& idx) {
    int64_t src = 0;
    for (size_t d = 0; d < idx.size(); ++d) src += (idx[d] % x.shape()[d]) * st[d];
    copy_element(x, src, out, i);
  });
  ctx.set_output(0, out);
}

void pad(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const int64_t r = x.rank();
  std::string mode = ctx.attr_string("mode", "constant");
  std::vector<int64_t> pads;
  Tensor value;  // one element of x's type, or undefined for zero
  std::vector<int64_t> axes;
  if (ctx.opset() < 11) {
    pads = ctx.has_attr("pads") ? ctx.attr_ints("pads") : ctx.attr_ints("paddings");
    if (x.type() != ElementType::string) {
      value = Tensor::allocate(x.type(), {});
      set_double(value, 0, ctx.attr_float("value", 0.0f));
    }
  } else {
    pads = tensor_to_int64_list(ctx.input(1));
    if (ctx.has_input(2)) {
      const Tensor& cv = ctx.input(2);
      if (cv.numel() > 1) bad("Pad: constant_value must be a scalar");
      if (cv.numel() == 1) {
        if (cv.type() != x.type()) bad("Pad: constant_value type differs from the input type");
        value = cv;
      }
    }
    if (ctx.has_input(3)) axes = tensor_to_int64_list(ctx.input(3));
  }
  if (axes.empty())
    for (int64_t d = 0; d < r; ++d) axes.push_back(d);
  axes = normalize_axes(axes, r, "Pad axis");
  const size_t na = axes.size();
  if (pads.size() != 2 * na)
    bad("Pad: pads has " + std::to_string(pads.size()) + " values, expected " + std::to_string(2 * na));
  std::vector<int64_t> pb(static_cast<size_t>(r), 0), pe(static_cast<size_t>(r), 0);
  constexpr int64_t kMaxPad = int64_t{1} << 40;  // beyond this no output could be allocated
  for (int64_t v : pads)
    if (v > kMaxPad || v < -kMaxPad) bad("Pad: pad value " + std::to_string(v) + " is out of range");
  for (size_t k = 0; k < na; ++k) {
    pb[static_cast<size_t>(axes[k])] = pads[k];
    pe[static_cast<size_t>(axes[k])] = pads[k + na];
  }
  if (mode != "constant" && mode != "reflect" && mode != "edge" && mode != "wrap")
    unsupported("Pad: unknown mode '" + mode + "'");
  // Negative pads crop first; then the remaining range [lo, lo + len) is padded.
  std::vector<int64_t> lo(static_cast<size_t>(r)), len(static_cast<size_t>(r)), before(static_cast<size_t>(r));
  Shape out_shape(static_cast<size_t>(r));
  for (size_t d = 0; d < static_cast<size_t>(r); ++d) {
    const int64_t dim = x.shape()[d];
    lo[d] = std::max<int64_t>(0, -pb[d]);
    len[d] = dim - lo[d] - std::max<int64_t>(0, -pe[d]);
    if (len[d] < 0) bad("Pad: negative pads remove more than the whole dimension");
    before[d] = std::max<int64_t>(0, pb[d]);
    out_shape[d] = before[d] + len[d] + std::max<int64_t>(0, pe[d]);
    if (mode != "constant" && len[d] == 0 && out_shape[d] > 0)
      bad("Pad: mode '" + mode + "' cannot pad an empty dimension");
  }
  auto st = strides(x.shape());
  Tensor out = Tensor::allocate(x.type(), out_shape);
  for_each_index(out_shape, [&](int64_t i, const std::vector<int64_t>& idx) {
    int64_t src = 0;
    bool inside = true;
    for (size_t d = 0; d < idx.size(); ++d) {
      int64_t c = idx[d] - before[d];
      const int64_t n = len[d];
      if (c < 0 || c >= n) {
        if (mode == "constant") {
          inside = false;
          break;
        } else if (mode == "edge") {
          c = std::clamp<int64_t>(c, 0, n - 1);
        } else if (mode == "wrap") {
          c = ((c % n) + n) % n;
        } else {  // reflect (without repeating the edge), periodic with period 2(n-1)
          if (n == 1) {
            c = 0;
          } else {
            const int64_t p = 2 * (n - 1);
            c = ((c % p) + p) % p;
            if (c >= n) c = p - c;
          }
        }
      }
      src += (lo[d] + c) * st[d];
    }
    if (inside) {
      copy_element(x, src, out, i);
    } else if (value.defined()) {
      copy_element(value, 0, out, i);
    }  // else: zero (allocate zero-fills) or empty string
  });
  ctx.set_output(0, out);
}

// ---------------------------------------------------------------------------
// DepthToSpace, SpaceToDepth, Trilu, EyeLike, OneHot
// ---------------------------------------------------------------------------

void depth_to_space(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  if (x.rank() != 4) bad("DepthToSpace: input must be 4-D");
  const int64_t b = ctx.attr_int("blocksize", 0);
  if (b <= 0) bad("DepthToSpace: blocksize must be positive");
  const int64_t n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
  if (c % (b * b) != 0) bad("DepthToSpace: channels not divisible by blocksize^2");
  const int64_t oc = c / (b * b);
  const std::string mode = ctx.attr_string("mode", "DCR");
  Tensor t;
  if (mode == "DCR") {
    t = transpose_tensor(x.reshaped({n, b, b, oc, h, w}), {0, 3, 4, 1, 5, 2});
  } else if (mode == "CRD") {
    t = transpose_tensor(x.reshaped({n, oc, b, b, h, w}), {0, 1, 4, 2, 5, 3});
  } else {
    unsupported("DepthToSpace: unknown mode '" + mode + "'");
  }
  ctx.set_output(0, t.reshaped({n, oc, h * b, w * b}));
}

void space_to_depth(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  if (x.rank() != 4) bad("SpaceToDepth: input must be 4-D");
  const int64_t b = ctx.attr_int("blocksize", 0);
  if (b <= 0) bad("SpaceToDepth: blocksize must be positive");
  const int64_t n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
  if (h % b != 0 || w % b != 0) bad("SpaceToDepth: height and width must be divisible by blocksize");
  Tensor t = transpose_tensor(x.reshaped({n, c, h / b, b, w / b, b}), {0, 3, 5, 1, 2, 4});
  ctx.set_output(0, t.reshaped({n, c * b * b, h / b, w / b}));
}

void trilu(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  if (x.rank() < 2) bad("Trilu: input must have rank >= 2");
  const int64_t k = ctx.has_input(1) ? scalar_int(ctx.input(1), "Trilu k") : 0;
  const bool upper = ctx.attr_int("upper", 1) != 0;
  const int64_t rows = x.dim(x.rank() - 2), cols = x.dim(x.rank() - 1);
  Tensor out = Tensor::allocate(x.type(), x.shape());
  for (int64_t i = 0; i < x.numel(); ++i) {
    const int64_t j = i % cols, r = (i / cols) % rows;
    // Keep j - r >= k (upper) or j - r <= k (lower); compare without overflow.
    const __int128 diff = static_cast<__int128>(j) - r;
    const bool keep = upper ? diff >= k : diff <= k;
    if (keep) copy_element(x, i, out, i);
  }
  ctx.set_output(0, out);
}

void eye_like(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  if (x.rank() != 2) bad("EyeLike: input must be 2-D");
  ElementType t = x.type();
  if (ctx.has_attr("dtype")) {
    auto e = element_type_from_int(static_cast<int32_t>(ctx.attr_int("dtype", 1)));
    if (!e || *e == ElementType::undefined) bad("EyeLike: invalid dtype");
    t = *e;
  }
  if (t == ElementType::string) unsupported("EyeLike: string output");
  const int64_t k = ctx.attr_int("k", 0);
  Tensor out = Tensor::allocate(t, x.shape());
  for (int64_t r = 0; r < x.dim(0); ++r) {
    const int64_t c = r + k;
    if (c >= 0 && c < x.dim(1)) set_double(out, r * x.dim(1) + c, 1.0);
  }
  ctx.set_output(0, out);
}

void one_hot(KernelContext& ctx) {
  const Tensor& ind = ctx.input(0);
  const Tensor& depth_t = ctx.input(1);
  const Tensor& values = ctx.input(2);
  if (depth_t.numel() != 1) bad("OneHot: depth must be a scalar");
  if (values.numel() != 2) bad("OneHot: values must have two elements");
  const double depth_d = get_double(depth_t, 0);
  if (!(depth_d >= 1) || depth_d > 1e9) bad("OneHot: depth must be a positive number");
  const int64_t depth = static_cast<int64_t>(depth_d);
  const int64_t out_rank = ind.rank() + 1;
  const int64_t axis = axis_of(ctx.attr_int("axis", -1), out_rank, "OneHot axis");
  Shape out_shape = ind.shape();
  out_shape.insert(out_shape.begin() + axis, depth);
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= ind.dim(d);
  for (int64_t d = axis; d < ind.rank(); ++d) inner *= ind.dim(d);
  Tensor out = Tensor::allocate(values.type(), out_shape);
  for (int64_t i = 0; i < out.numel(); ++i) copy_element(values, 0, out, i);
  for (int64_t a = 0; a < outer; ++a)
    for (int64_t b = 0; b < inner; ++b) {
      const int64_t src = a * inner + b;
      int64_t v = is_floating(ind.type()) ? static_cast<int64_t>(std::trunc(get_double(ind, src)))
                                           : get_int64(ind, src);
      if (v < 0) v += depth;
      if (v < 0 || v >= depth) continue;
      copy_element(values, 1, out, (a * depth + v) * inner + b);
    }
  ctx.set_output(0, out);
}

// ---------------------------------------------------------------------------
// CumSum, TopK, NonZero, Compress, ReverseSequence, Unique
// ---------------------------------------------------------------------------

void cumsum(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const int64_t axis = axis_of(scalar_int(ctx.input(1), "CumSum axis"), x.rank(), "CumSum axis");
  const bool exclusive = ctx.attr_int("exclusive", 0) != 0;
  const bool reverse = ctx.attr_int("reverse", 0) != 0;
  if (x.type() == ElementType::string || x.type() == ElementType::boolean) bad("CumSum: unsupported element type");
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= x.dim(d);
  for (int64_t d = axis + 1; d < x.rank(); ++d) inner *= x.dim(d);
  const int64_t n = x.rank() == 0 ? 1 : x.dim(axis);
  const bool is_int = is_integer_type(x.type());
  Tensor out = Tensor::allocate(x.type(), x.shape());
  for (int64_t a = 0; a < outer; ++a)
    for (int64_t b = 0; b < inner; ++b) {
      double acc = 0;
      uint64_t iacc = 0;  // wraps like the integer type
      for (int64_t s = 0; s < n; ++s) {
        const int64_t k = reverse ? n - 1 - s : s;
        const int64_t i = (a * n + k) * inner + b;
        if (exclusive) {
          is_int ? set_int64(out, i, static_cast<int64_t>(iacc)) : set_double(out, i, acc);
        }
        if (is_int) iacc += static_cast<uint64_t>(get_int64(x, i));
        else acc += get_double(x, i);
        if (!exclusive) {
          is_int ? set_int64(out, i, static_cast<int64_t>(iacc)) : set_double(out, i, acc);
        }
      }
    }
  ctx.set_output(0, out);
}

// Orders two elements of the same tensor numerically (exact for 64-bit integers).
int compare_elements(const Tensor& t, int64_t a, int64_t b) {
  if (t.type() == ElementType::uint64) {
    uint64_t x = get_uint64(t, a), y = get_uint64(t, b);
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  if (is_integer_type(t.type()) || t.type() == ElementType::boolean) {
    int64_t x = get_int64(t, a), y = get_int64(t, b);
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  if (t.type() == ElementType::string) {
    int c = t.strings()[static_cast<size_t>(a)].compare(t.strings()[static_cast<size_t>(b)]);
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  double x = get_double(t, a), y = get_double(t, b);
  // NaN sorts above every number (as numpy does).
  if (std::isnan(x) || std::isnan(y)) return std::isnan(x) == std::isnan(y) ? 0 : (std::isnan(x) ? 1 : -1);
  return x < y ? -1 : (x > y ? 1 : 0);
}

void top_k(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  if (x.rank() < 1) bad("TopK: input must have rank >= 1");
  const int64_t axis = axis_of(ctx.attr_int("axis", -1), x.rank(), "TopK axis");
  const int64_t k = ctx.opset() < 10 ? ctx.attr_int("k", -1) : scalar_int(ctx.input(1), "TopK K");
  const int64_t n = x.dim(axis);
  if (k < 0 || k > n) bad("TopK: k=" + std::to_string(k) + " is out of range for axis size " + std::to_string(n));
  const bool largest = ctx.attr_int("largest", 1) != 0;
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= x.dim(d);
  for (int64_t d = axis + 1; d < x.rank(); ++d) inner *= x.dim(d);
  Shape out_shape = x.shape();
  out_shape[static_cast<size_t>(axis)] = k;
  Tensor vals = Tensor::allocate(x.type(), out_shape);
  Tensor inds = Tensor::allocate(ElementType::int64, out_shape);
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t a = 0; a < outer; ++a)
    for (int64_t b = 0; b < inner; ++b) {
      std::iota(order.begin(), order.end(), 0);
      auto at = [&](int64_t j) { return (a * n + j) * inner + b; };
      // Stable sort keeps the lower index first among equal values.
      std::stable_sort(order.begin(), order.end(), [&](int64_t p, int64_t q) {
        int c = compare_elements(x, at(p), at(q));
        return largest ? c > 0 : c < 0;
      });
      for (int64_t j = 0; j < k; ++j) {
        const int64_t dst = (a * k + j) * inner + b;
        copy_element(x, at(order[static_cast<size_t>(j)]), vals, dst);
        set_int64(inds, dst, order[static_cast<size_t>(j)]);
      }
    }
  ctx.set_output(0, vals);
  ctx.set_output(1, inds);
}

bool is_nonzero(const Tensor& t, int64_t i) {
  if (t.type() == ElementType::string) return !t.strings()[static_cast<size_t>(i)].empty();
  if (is_integer_type(t.type()) || t.type() == ElementType::boolean) return get_int64(t, i) != 0;
  return get_double(t, i) != 0.0;  // NaN counts as non-zero
}

void non_zero(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  // A scalar behaves like a one-element vector.
  const Shape shape = x.rank() == 0 ? Shape{1} : x.shape();
  std::vector<int64_t> hits;  // flat indices of the non-zero elements
  for (int64_t i = 0; i < x.numel(); ++i)
    if (is_nonzero(x, i)) hits.push_back(i);
  const int64_t r = static_cast<int64_t>(shape.size()), nnz = static_cast<int64_t>(hits.size());
  Tensor out = Tensor::allocate(ElementType::int64, {r, nnz});
  for (int64_t j = 0; j < nnz; ++j) {
    const std::vector<int64_t> idx = unravel(hits[static_cast<size_t>(j)], shape);
    for (int64_t d = 0; d < r; ++d) out.mutable_data<int64_t>()[d * nnz + j] = idx[static_cast<size_t>(d)];
  }
  ctx.set_output(0, out);
}

void compress(KernelContext& ctx) {
  const Tensor& x0 = ctx.input(0);
  const Tensor& cond = ctx.input(1);
  if (cond.rank() != 1) bad("Compress: condition must be 1-D");
  Tensor x = x0;
  int64_t axis = 0;
  if (ctx.has_attr("axis")) {
    axis = axis_of(ctx.attr_int("axis", 0), x.rank(), "Compress axis");
  } else {
    x = x0.reshaped({x0.numel()});
  }
  const int64_t dim = x.dim(axis);
  std::vector<int64_t> keep;
  for (int64_t i = 0; i < cond.numel(); ++i) {
    if (get_double(cond, i) == 0.0) continue;
    if (i >= dim) bad("Compress: condition selects index " + std::to_string(i) + " beyond the axis size");
    keep.push_back(i);
  }
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= x.dim(d);
  for (int64_t d = axis + 1; d < x.rank(); ++d) inner *= x.dim(d);
  Shape out_shape = x.shape();
  out_shape[static_cast<size_t>(axis)] = static_cast<int64_t>(keep.size());
  Tensor out = Tensor::allocate(x.type(), out_shape);
  int64_t o = 0;
  for (int64_t a = 0; a < outer; ++a)
    for (int64_t k : keep)
      for (int64_t b = 0; b < inner; ++b) copy_element(x, (a * dim + k) * inner + b, out, o++);
  ctx.set_output(0, out);
}

void reverse_sequence(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& lens = ctx.input(1);
  if (x.rank() < 2) bad("ReverseSequence: input must have rank >= 2");
  const int64_t batch_axis = axis_of(ctx.attr_int("batch_axis", 1), x.rank(), "ReverseSequence batch_axis");
  const int64_t time_axis = axis_of(ctx.attr_int("time_axis", 0), x.rank(), "ReverseSequence time_axis");
  if (batch_axis == time_axis || batch_axis > 1 || time_axis > 1)
    bad("ReverseSequence: batch_axis and time_axis must be 0 and 1 in some order");
  if (lens.rank() != 1 || lens.dim(0) != x.dim(batch_axis))
    bad("ReverseSequence: sequence_lens must have one entry per batch");
  const int64_t t_len = x.dim(time_axis);
  auto st = strides(x.shape());
  Tensor out = Tensor::allocate(x.type(), x.shape());
  for_each_index(x.shape(), [&](int64_t i, const std::vector<int64_t>& idx) {
    const int64_t b = idx[static_cast<size_t>(batch_axis)], t = idx[static_cast<size_t>(time_axis)];
    const int64_t len = get_int64(lens, b);
    if (len < 0 || len > t_len) bad("ReverseSequence: sequence length out of range");
    int64_t src = i;
    if (t < len) src = i + (len - 1 - 2 * t) * st[static_cast<size_t>(time_axis)];
    copy_element(x, src, out, i);
  });
  ctx.set_output(0, out);
}

void unique(KernelContext& ctx) {
  const Tensor& x0 = ctx.input(0);
  const bool sorted = ctx.attr_int("sorted", 1) != 0;
  Tensor x = x0;
  int64_t axis = 0;
  if (ctx.has_attr("axis")) {
    axis = axis_of(ctx.attr_int("axis", 0), x.rank(), "Unique axis");
  } else {
    x = x0.reshaped({x0.numel()});
  }
  const int64_t n = x.dim(axis);
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= x.dim(d);
  for (int64_t d = axis + 1; d < x.rank(); ++d) inner *= x.dim(d);
  // Compares slice p with slice q along the axis, lexicographically.
  auto cmp = [&](int64_t p, int64_t q) {
    for (int64_t a = 0; a < outer; ++a)
      for (int64_t b = 0; b < inner; ++b) {
        int c = compare_elements(x, (a * n + p) * inner + b, (a * n + q) * inner + b);
        if (c != 0) return c;
      }
    return 0;
  };
  // Sort slice positions (stable: equal slices keep input order), then group runs
  // of equal slices: each group's first entry is the first occurrence.
  std::vector<int64_t> by_value(static_cast<size_t>(n));
  std::iota(by_value.begin(), by_value.end(), int64_t{0});
  std::stable_sort(by_value.begin(), by_value.end(), [&](int64_t a, int64_t b) { return cmp(a, b) < 0; });
  std::vector<int64_t> firsts, counts, inverse_first(static_cast<size_t>(n));
  for (size_t j = 0; j < by_value.size(); ++j) {
    if (j == 0 || cmp(by_value[j - 1], by_value[j]) != 0) {
      firsts.push_back(by_value[j]);
      counts.push_back(0);
    }
    ++counts.back();
    inverse_first[static_cast<size_t>(by_value[j])] = static_cast<int64_t>(firsts.size()) - 1;
  }
  // Groups are in sorted order; unsorted output lists them by first occurrence.
  const size_t m = firsts.size();
  std::vector<size_t> order(m);
  std::iota(order.begin(), order.end(), size_t{0});
  if (!sorted)
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return firsts[a] < firsts[b]; });
  std::vector<int64_t> rank_of(m);
  for (size_t j = 0; j < m; ++j) rank_of[order[j]] = static_cast<int64_t>(j);
  Shape ys = x.shape();
  ys[static_cast<size_t>(axis)] = static_cast<int64_t>(m);
  Tensor y = Tensor::allocate(x.type(), ys);
  for (int64_t a = 0; a < outer; ++a)
    for (size_t j = 0; j < m; ++j)
      for (int64_t b = 0; b < inner; ++b)
        copy_element(x, (a * n + firsts[order[j]]) * inner + b, y, (a * static_cast<int64_t>(m) + static_cast<int64_t>(j)) * inner + b);
  const int64_t mm = static_cast<int64_t>(m);
  Tensor idx = Tensor::allocate(ElementType::int64, {mm});
  Tensor inv = Tensor::allocate(ElementType::int64, {n});
  Tensor cnt = Tensor::allocate(ElementType::int64, {mm});
  for (size_t j = 0; j < m; ++j) {
    idx.mutable_data<int64_t>()[j] = firsts[order[j]];
    cnt.mutable_data<int64_t>()[j] = counts[order[j]];
  }
  for (int64_t i = 0; i < n; ++i)
    inv.mutable_data<int64_t>()[i] = rank_of[static_cast<size_t>(inverse_first[static_cast<size_t>(i)])];
  ctx.set_output(0, y);
  ctx.set_output(1, idx);
  ctx.set_output(2, inv);
  ctx.set_output(3, cnt);
}

// ---------------------------------------------------------------------------
// Resize / Upsample
// ---------------------------------------------------------------------------

struct ResizeParams {
  std::string mode = "nearest";           // nearest | linear | cubic
  std::string coord = "half_pixel";       // coordinate_transformation_mode
  std::string nearest_mode = "round_prefer_floor";  // or "simple" (Upsample / Resize-10)
  double cubic_a = -0.75;
  bool exclude_outside = false;
  double extrapolation = 0.0;
  bool antialias = false;
  std::vector<double> scales;             // per axis of the input
  Shape out_shape;
  std::vector<double> roi;                // 2 * rank: starts then ends (tf_crop_and_resize)
};

// Maps an output coordinate to the input coordinate along one axis.
double original_coordinate(const ResizeParams& p, size_t axis, int64_t x, int64_t in_len) {
  const double scale = p.scales[axis];
  // The transformations use the unrounded resized length, scale * in_len (as the
  // ONNX reference does); it equals the output size when sizes were given.
  const double out_len = scale * static_cast<double>(in_len);
  const double xr = static_cast<double>(x);
  const std::string& m = p.coord;
  if (m == "half_pixel") return (xr + 0.5) / scale - 0.5;
  if (m == "half_pixel_symmetric") {
    const double adjustment = static_cast<double>(p.out_shape[axis]) / out_len;
    const double center = static_cast<double>(in_len) / 2;
    const double offset = center * (1 - adjustment);
    return offset + (xr + 0.5) / scale - 0.5;
  }
  if (m == "pytorch_half_pixel") return out_len > 1 ? (xr + 0.5) / scale - 0.5 : 0.0;
  if (m == "align_corners")
    return out_len == 1 ? 0.0 : xr * static_cast<double>(in_len - 1) / (out_len - 1);
  if (m == "asymmetric") return xr / scale;
  if (m == "tf_half_pixel_for_nn") return (xr + 0.5) / scale;
  if (m == "tf_crop_and_resize") {
    const size_t r = p.out_shape.size();
    const double start = p.roi[axis], end = p.roi[axis + r];
    const double il = static_cast<double>(in_len - 1);
    return out_len > 1 ? start * il + xr * (end - start) * il / (out_len - 1) : 0.5 * (start + end) * il;
  }
  unsupported("Resize: unknown coordinate_transformation_mode '" + m + "'");
}

double cubic_kernel(double s, double a) {  // Keys cubic convolution, |s| based
  s = std::fabs(s);
  if (s <= 1) return ((a + 2) * s - (a + 3)) * s * s + 1;
  if (s < 2) return ((a * s - 5 * a) * s + 8 * a) * s - 4 * a;
  return 0;
}

// One axis' contribution: input indices (already clamped) and weights.
struct AxisTaps {
  std::vector<int64_t> index;
  std::vector<double> weight;
  bool outside = false;  // tf_crop_and_resize extrapolation
};

AxisTaps axis_taps(const ResizeParams& p, size_t axis, int64_t x, int64_t in_len) {
  AxisTaps t;
  const double xo = original_coordinate(p, axis, x, in_len);
  if (p.coord == "tf_crop_and_resize" && (xo < 0 || xo > static_cast<double>(in_len - 1))) {
    t.outside = true;
    return t;
  }
  const double scale = p.scales[axis];
  if (p.mode == "nearest") {
    double r;
    const double fl = std::floor(xo);
    const bool half = xo - fl == 0.5;
    if (p.nearest_mode == "round_prefer_floor") r = half ? fl : std::round(xo);
    else if (p.nearest_mode == "round_prefer_ceil") r = half ? fl + 1 : std::round(xo);
    else if (p.nearest_mode == "floor") r = fl;
    else if (p.nearest_mode == "ceil") r = std::ceil(xo);
    else if (p.nearest_mode == "simple") r = scale < 1 ? std::ceil(xo) : fl;
    else unsupported("Resize: unknown nearest_mode '" + p.nearest_mode + "'");
    t.index.push_back(std::clamp<int64_t>(static_cast<int64_t>(r), 0, in_len - 1));
    t.weight.push_back(1.0);
    return t;
  }
  // Linear / cubic: taps at base + i for i in [first, first + n).
  int64_t base = static_cast<int64_t>(std::floor(xo));
  double ratio = xo - static_cast<double>(base);
  if (ratio == 0) {  // sit exactly on a sample: same taps as the onnx reference picks
    base -= 1;
    ratio = 1;
  }
  const double s = p.antialias ? std::min(scale, 1.0) : 1.0;
  int64_t first;
  if (p.mode == "linear") first = p.antialias ? static_cast<int64_t>(std::floor(-1 / s) + 1) : 0;
  else if (p.mode == "cubic") first = p.antialias ? static_cast<int64_t>(std::floor(-2 / s) + 1) : -1;
  else unsupported("Resize: unknown mode '" + p.mode + "'");
  const int64_t last = 1 - first;  // inclusive
  double sum = 0;
  for (int64_t i = first; i <= last; ++i) {
    const double arg = (static_cast<double>(i) - ratio) * s;
    double w = p.mode == "linear" ? std::max(0.0, 1 - std::fabs(arg)) : cubic_kernel(arg, p.cubic_a);
    const int64_t pos = base + i;
    if (p.exclude_outside && (pos < 0 || pos >= in_len)) w = 0;
    t.index.push_back(std::clamp<int64_t>(pos, 0, in_len - 1));
    t.weight.push_back(w);
    sum += w;
  }
  if (p.antialias || p.exclude_outside)
    for (double& w : t.weight) w = sum != 0 ? w / sum : 0;
  // Zero-weight taps contribute nothing; dropping them keeps unscaled axes cheap.
  AxisTaps kept;
  for (size_t j = 0; j < t.weight.size(); ++j)
    if (t.weight[j] != 0) {
      kept.index.push_back(t.index[j]);
      kept.weight.push_back(t.weight[j]);
    }
  if (kept.index.empty()) {  // degenerate (all weights zero): one tap of weight 0
    kept.index.push_back(t.index[0]);
    kept.weight.push_back(0.0);
  }
  return kept;
}

Tensor resize_tensor(const Tensor& x, const ResizeParams& p) {
  const size_t r = static_cast<size_t>(x.rank());
  Tensor out = Tensor::allocate(x.type(), p.out_shape);
  if (out.numel() == 0) return out;
  if (x.numel() == 0) bad("Resize: cannot resize an empty input to a non-empty output");
  if (p.mode != "nearest" && (x.type() == ElementType::string || x.type() == ElementType::boolean))
    unsupported("Resize: linear/cubic modes need a numeric input");
  // Precompute taps per axis and output coordinate.
  std::vector<std::vector<AxisTaps>> taps(r);
  for (size_t d = 0; d < r; ++d)
    for (int64_t o = 0; o < p.out_shape[d]; ++o) taps[d].push_back(axis_taps(p, d, o, x.shape()[d]));
  auto st = strides(x.shape());
  for_each_index(p.out_shape, [&](int64_t i, const std::vector<int64_t>& idx) {
    std::vector<const AxisTaps*> at(r);
    bool outside = false;
    for (size_t d = 0; d < r; ++d) {
      at[d] = &taps[d][static_cast<size_t>(idx[d])];
      outside = outside || at[d]->outside;
    }
    if (outside) {
      set_double(out, i, p.extrapolation);
      return;
    }
    if (p.mode == "nearest") {
      int64_t src = 0;
      for (size_t d = 0; d < r; ++d) src += at[d]->index[0] * st[d];
      copy_element(x, src, out, i);
      return;
    }
    // Tensor-product of the per-axis taps.
    std::vector<size_t> k(r, 0);
    double acc = 0;
    while (true) {
      double w = 1;
      int64_t src = 0;
      for (size_t d = 0; d < r; ++d) {
        w *= at[d]->weight[k[d]];
        src += at[d]->index[k[d]] * st[d];
      }
      if (w != 0) acc += w * get_double(x, src);
      size_t d = r;
      while (d-- > 0) {
        if (++k[d] < at[d]->index.size()) break;
        k[d] = 0;
      }
      if (d == static_cast<size_t>(-1)) break;
    }
    set_double(out, i, acc);
  });
  return out;
}

std::vector<double> floats_of(const Tensor& t) {
  if (!is_floating(t.type())) bad("Resize: scales/roi must be floating point");
  return to_doubles(t);
}

void resize(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const size_t r = static_cast<size_t>(x.rank());
  ResizeParams p;
  p.mode = ctx.attr_string("mode", "nearest");
  if (p.mode != "nearest" && p.mode != "linear" && p.mode != "cubic")
    unsupported("Resize: unknown mode '" + p.mode + "'");
  std::vector<double> scales;
  std::vector<int64_t> sizes;
  if (ctx.opset() < 11) {
    p.coord = "asymmetric";
    p.nearest_mode = "simple";
    scales = floats_of(ctx.input(1));
  } else {
    p.coord = ctx.attr_string("coordinate_transformation_mode", "half_pixel");
    p.nearest_mode = ctx.attr_string("nearest_mode", "round_prefer_floor");
    p.cubic_a = ctx.attr_float("cubic_coeff_a", -0.75f);
    p.exclude_outside = ctx.attr_int("exclude_outside", 0) != 0;
    p.extrapolation = ctx.attr_float("extrapolation_value", 0.0f);
    p.antialias = ctx.attr_int("antialias", 0) != 0;
    if (ctx.has_input(2) && ctx.input(2).numel() > 0) scales = floats_of(ctx.input(2));
    if (ctx.has_input(3) && ctx.input(3).numel() > 0) sizes = tensor_to_int64_list(ctx.input(3));
    if (!scales.empty() && !sizes.empty()) bad("Resize: only one of scales and sizes may be given");
    if (scales.empty() && sizes.empty()) bad("Resize: one of scales and sizes is required");
  }
  if (p.mode == "nearest") p.antialias = false;
  // Axes the scales/sizes/roi refer to (opset 18); all axes otherwise.
  std::vector<int64_t> axes = ctx.attr_ints("axes");
  if (axes.empty())
    for (size_t d = 0; d < r; ++d) axes.push_back(static_cast<int64_t>(d));
  axes = normalize_axes(axes, x.rank(), "Resize axis");
  const size_t na = axes.size();
  p.scales.assign(r, 1.0);
  p.out_shape = x.shape();
  if (!scales.empty()) {
    if (scales.size() != na) bad("Resize: scales length does not match the number of axes");
    for (size_t k = 0; k < na; ++k) {
      const size_t a = static_cast<size_t>(axes[k]);
      if (!(scales[k] > 0) || !std::isfinite(scales[k])) bad("Resize: scales must be positive");
      p.scales[a] = scales[k];
      const double o = std::floor(static_cast<double>(x.shape()[a]) * scales[k]);
      if (o > 1e12) bad("Resize: output too large");
      p.out_shape[a] = static_cast<int64_t>(o);
    }
  } else {
    if (sizes.size() != na) bad("Resize: sizes length does not match the number of axes");
    for (int64_t s : sizes)
      if (s < 0) bad("Resize: negative size");
    const std::string policy = ctx.attr_string("keep_aspect_ratio_policy", "stretch");
    if (policy == "stretch") {
      for (size_t k = 0; k < na; ++k) {
        const size_t a = static_cast<size_t>(axes[k]);
        p.out_shape[a] = sizes[k];
        p.scales[a] = x.shape()[a] == 0 ? 1.0 : static_cast<double>(sizes[k]) / static_cast<double>(x.shape()[a]);
      }
    } else if (policy == "not_larger" || policy == "not_smaller") {
      double s = policy == "not_larger" ? std::numeric_limits<double>::infinity() : 0.0;
      for (size_t k = 0; k < na; ++k) {
        const double v = static_cast<double>(sizes[k]) / static_cast<double>(x.shape()[static_cast<size_t>(axes[k])]);
        s = policy == "not_larger" ? std::min(s, v) : std::max(s, v);
      }
      for (size_t k = 0; k < na; ++k) {
        const size_t a = static_cast<size_t>(axes[k]);
        p.scales[a] = s;
        p.out_shape[a] = static_cast<int64_t>(std::floor(s * static_cast<double>(x.shape()[a]) + 0.5));
      }
    } else {
      unsupported("Resize: unknown keep_aspect_ratio_policy '" + policy + "'");
    }
  }
  if (p.coord == "tf_crop_and_resize") {
    if (!ctx.has_input(1)) bad("Resize: tf_crop_and_resize needs roi");
    std::vector<double> roi = floats_of(ctx.input(1));
    if (roi.size() != 2 * na) bad("Resize: roi length must be twice the number of axes");
    p.roi.assign(2 * r, 0.0);
    for (size_t d = 0; d < r; ++d) p.roi[d + r] = 1.0;
    for (size_t k = 0; k < na; ++k) {
      const size_t a = static_cast<size_t>(axes[k]);
      p.roi[a] = roi[k];
      p.roi[a + r] = roi[k + na];
    }
  }
  ctx.set_output(0, resize_tensor(x, p));
}

void upsample(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  ResizeParams p;
  p.mode = ctx.attr_string("mode", "nearest");
  if (p.mode == "bilinear") p.mode = "linear";  // Upsample-1 spelling
  if (p.mode != "nearest" && p.mode != "linear") unsupported("Upsample: unknown mode '" + p.mode + "'");
  p.coord = "asymmetric";
  p.nearest_mode = "simple";
  std::vector<double> scales;
  if (ctx.opset() >= 9 && ctx.has_input(1)) {
    scales = floats_of(ctx.input(1));
  } else if (ctx.opset() >= 7) {
    for (float f : ctx.attr_floats("scales")) scales.push_back(f);
  } else {  // Upsample-1: height_scale / width_scale on NCHW
    scales = {1.0, 1.0, ctx.attr_float("height_scale", 1.0f), ctx.attr_float("width_scale", 1.0f)};
  }
  if (scales.size() != static_cast<size_t>(x.rank())) bad("Upsample: scales length must equal the input rank");
  p.scales = scales;
  p.out_shape = x.shape();
  for (size_t d = 0; d < scales.size(); ++d) {
    if (!(scales[d] >= 1) || !std::isfinite(scales[d]) || scales[d] > 1e6) bad("Upsample: scales must be >= 1");
    p.out_shape[d] = static_cast<int64_t>(std::floor(static_cast<double>(x.shape()[d]) * scales[d]));
  }
  ctx.set_output(0, resize_tensor(x, p));
}

}  // namespace

void register_shape_kernels(KernelRegistry& r) {
  r.add("", "Reshape", reshape);
  r.add("", "Shape", shape_op);
  r.add("", "Size", size_op);
  r.add("", "Flatten", flatten);
  r.add("", "Squeeze", squeeze);
  r.add("", "Unsqueeze", unsqueeze);
  r.add("", "Slice", slice);
  r.add("", "Concat", concat);
  r.add("", "Split", split);
  r.add("", "Transpose", transpose);
  r.add("", "Gather", gather);
  r.add("", "GatherElements", gather_elements);
  r.add("", "GatherND", gather_nd);
  r.add("", "ScatterElements", scatter_elements);
  r.add("", "Scatter", scatter_elements);
  r.add("", "ScatterND", scatter_nd);
  r.add("", "ConstantOfShape", constant_of_shape);
  r.add("", "Expand", expand);
  r.add("", "Range", range);
  r.add("", "Tile", tile);
  r.add("", "Pad", pad);
  r.add("", "DepthToSpace", depth_to_space);
  r.add("", "SpaceToDepth", space_to_depth);
  r.add("", "Trilu", trilu);
  r.add("", "EyeLike", eye_like);
  r.add("", "OneHot", one_hot);
  r.add("", "CumSum", cumsum);
  r.add("", "TopK", top_k);
  r.add("", "NonZero", non_zero);
  r.add("", "Compress", compress);
  r.add("", "ReverseSequence", reverse_sequence);
  r.add("", "Unique", unique);
  r.add("", "Resize", resize);
  r.add("", "Upsample", upsample);
}

}  // namespace switchyard::reference
