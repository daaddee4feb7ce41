// CPU plugin: native data-movement kernels (implementation "native").
//  - Reshape, Flatten, Squeeze, Unsqueeze, Identity: the output is a view of the input's
//    storage with the new shape (no copy), as in the reference;
//  - Concat, Split, Slice (steps 1): memcpy of contiguous blocks;
//  - Transpose: copy_strided (merged axes, row copies or tiles).
// Kernels work on the shapes of each run, so they need no static shapes. Operands that fix
// what a node does (shape, axes, split, starts/ends) are constants taken at compile time,
// except the shape/axes operand of the view ops, which is read per run as the reference does.
// Whatever accepts() cannot rule out at compile time (another element type at run time, an
// invalid operand) is handed to the reference kernel at run time: results and errors are
// always the reference's.
#include <algorithm>
#include <cstring>
#include <functional>
#include <limits>

#include "native.h"
#include "switchyard/reference/util.h"

namespace switchyard::cpu {

namespace {

using native::NativeKernel;
using Ints = std::vector<int64_t>;

bool has_input(const Node& node, size_t i) { return i < node.inputs.size() && node.inputs[i] >= 0; }

// Element size of input 0 as the graph declares it; 0 when not a fixed-size tensor.
size_t input_element_bytes(const Node& node, const Graph& graph) {
  if (!has_input(node, 0) || !native::is_tensor_value(graph, node.inputs[0])) return 0;
  return native::element_bytes(elem_type_of(graph, node.inputs[0]));
}

// Axes normalised as the reference does (negative from the end, no repeats); nullopt if invalid.
std::optional<Ints> normalized_axes(const Ints& axes, int64_t rank) {
  Ints out;
  for (int64_t a : axes) {
    const int64_t n = a < 0 ? a + rank : a;
    if (rank == 0 || n < 0 || n >= rank || std::find(out.begin(), out.end(), n) != out.end()) return std::nullopt;
    out.push_back(n);
  }
  return out;
}

std::optional<int64_t> normalized_axis(int64_t axis, int64_t rank) {
  auto a = normalized_axes({axis}, rank);
  return a ? std::optional<int64_t>((*a)[0]) : std::nullopt;
}

// Product of dims [from, to); nullopt on overflow.
std::optional<int64_t> span_numel(const Shape& s, size_t from, size_t to) {
  return shape_numel(Shape(s.begin() + static_cast<std::ptrdiff_t>(from), s.begin() + static_cast<std::ptrdiff_t>(to)));
}

std::vector<int64_t> row_major_strides(const Shape& s) {
  std::vector<int64_t> st(s.size());
  int64_t acc = 1;
  for (size_t i = s.size(); i-- > 0;) {
    st[i] = acc;
    acc *= std::max<int64_t>(s[i], 1);
  }
  return st;
}

const std::byte* bytes_of(const Tensor& t) { return static_cast<const std::byte*>(t.raw()); }
std::byte* bytes_of(Tensor& t) { return static_cast<std::byte*>(t.raw_mutable()); }

// ---------------------------------------------------------------------------
// Views: Reshape, Flatten, Squeeze, Unsqueeze
// ---------------------------------------------------------------------------

// An integer operand: a constant taken at compile time, else input `index` of each run.
struct IntsOperand {
  size_t index = 0;
  std::optional<Ints> constant;

  std::optional<Ints> get(const std::vector<const Value*>& inputs) const {
    if (constant) return constant;
    const Tensor* t = native::tensor_input(inputs, index);
    if (!t || t->rank() > 1 || is_sub_byte(t->type()) || !(is_signed_integer(t->type()) || is_unsigned_integer(t->type())))
      return std::nullopt;
    return reference::tensor_to_int64_list(*t);
  }
};

// Operand `i` of `node`: its constant, or (when `runtime_ok`) a run-time integer tensor.
std::optional<IntsOperand> ints_operand(const Node& node, const Graph& graph, size_t i, bool runtime_ok) {
  if (!has_input(node, i)) return std::nullopt;
  IntsOperand op{i, native::constant_ints(node, graph, i)};
  if (op.constant) return op;
  const ElementType t = elem_type_of(graph, node.inputs[i]);
  if (!runtime_ok || graph.is_initializer(node.inputs[i]) || !native::is_tensor_value(graph, node.inputs[i]) ||
      is_sub_byte(t) || !(is_signed_integer(t) || is_unsigned_integer(t)))
    return std::nullopt;
  return op;
}

// The output shape of a view for the input's shape; nullopt hands the run to the reference.
using ShapeRule = std::function<std::optional<Shape>(const Shape& in, const std::vector<const Value*>& inputs)>;

class ViewKernel final : public NativeKernel {
 public:
  ViewKernel(const Node& node, ShapeRule rule) : NativeKernel(node), rule_(std::move(rule)) {}

  void run(const std::vector<const Value*>& inputs, std::vector<Value>& outputs) const override {
    const Tensor* x = native::tensor_input(inputs, 0);
    const std::optional<Shape> s = x ? rule_(x->shape(), inputs) : std::nullopt;
    if (!s) return fallback(inputs, outputs);
    outputs[0] = Value::of(x->reshaped(*s));
  }
  int output_aliases_input() const override { return 0; }

 private:
  ShapeRule rule_;
};

// Reshape's target for `req` (0 copies the input dim unless allowzero, one -1 is inferred).
std::optional<Shape> reshape_target(const Shape& in, const Ints& req, bool allowzero) {
  const auto numel = shape_numel(in);
  if (!numel) return std::nullopt;
  Shape out(req.size());
  int64_t infer_at = -1, known = 1;
  for (size_t i = 0; i < req.size(); ++i) {
    int64_t d = req[i];
    if (d == -1) {
      if (infer_at >= 0) return std::nullopt;
      infer_at = static_cast<int64_t>(i);
      continue;
    }
    if (d == 0 && !allowzero) {
      if (i >= in.size()) return std::nullopt;
      d = in[i];
    } else if (d < 0) {
      return std::nullopt;
    }
    out[i] = d;
    if (d != 0 && known > std::numeric_limits<int64_t>::max() / d) return std::nullopt;
    known *= d;
  }
  if (infer_at >= 0) {
    if (known == 0 || *numel % known != 0) return std::nullopt;
    out[static_cast<size_t>(infer_at)] = *numel / known;
  }
  if (shape_numel(out) != numel) return std::nullopt;
  return out;
}

// The view ops' common conditions: one tensor input 0 and exactly one output.
bool view_node(const Node& node, const Graph& graph) {
  return has_input(node, 0) && native::is_tensor_value(graph, node.inputs[0]) && native::has_outputs(node, 1);
}

std::optional<ShapeRule> reshape_rule(const Node& node, const Graph& graph) {
  if (!view_node(node, graph)) return std::nullopt;
  const bool allowzero = node.attr_int("allowzero", 0) != 0;
  IntsOperand shape;
  if (node.opset < 5 && !has_input(node, 1)) {
    shape.constant = node.attr_ints("shape");
  } else {
    auto op = ints_operand(node, graph, 1, true);
    if (!op) return std::nullopt;
    shape = *op;
  }
  return ShapeRule([shape, allowzero](const Shape& in, const std::vector<const Value*>& inputs) -> std::optional<Shape> {
    const auto req = shape.get(inputs);
    return req ? reshape_target(in, *req, allowzero) : std::nullopt;
  });
}

std::optional<ShapeRule> flatten_rule(const Node& node, const Graph& graph) {
  if (!view_node(node, graph)) return std::nullopt;
  const int64_t axis = node.attr_int("axis", 1);
  return ShapeRule([axis](const Shape& in, const std::vector<const Value*>&) -> std::optional<Shape> {
    const int64_t r = static_cast<int64_t>(in.size());
    const int64_t a = axis < 0 ? axis + r : axis;
    if (a < 0 || a > r) return std::nullopt;
    const auto outer = span_numel(in, 0, static_cast<size_t>(a)), inner = span_numel(in, static_cast<size_t>(a), in.size());
    if (!outer || !inner) return std::nullopt;
    return Shape{*outer, *inner};
  });
}

// Squeeze / Unsqueeze axes: input 1 when the node has it, else the attribute; nullopt: none.
std::optional<std::optional<IntsOperand>> axes_operand(const Node& node, const Graph& graph) {
  if (has_input(node, 1)) {
    auto op = ints_operand(node, graph, 1, true);
    if (!op) return std::nullopt;
    return std::optional<IntsOperand>(*op);
  }
  if (node.attr("axes")) return std::optional<IntsOperand>(IntsOperand{1, node.attr_ints("axes")});
  return std::optional<IntsOperand>();
}

std::optional<Shape> squeezed(const Shape& in, const std::optional<Ints>& axes) {
  Shape out;
  if (!axes) {
    for (int64_t d : in)
      if (d != 1) out.push_back(d);
    return out;
  }
  const auto norm = normalized_axes(*axes, static_cast<int64_t>(in.size()));
  if (!norm) return std::nullopt;
  for (int64_t a : *norm)
    if (in[static_cast<size_t>(a)] != 1) return std::nullopt;
  for (size_t i = 0; i < in.size(); ++i)
    if (std::find(norm->begin(), norm->end(), static_cast<int64_t>(i)) == norm->end()) out.push_back(in[i]);
  return out;
}

std::optional<Shape> unsqueezed(const Shape& in, const Ints& axes) {
  const int64_t out_rank = static_cast<int64_t>(in.size() + axes.size());
  const auto norm = normalized_axes(axes, out_rank);
  if (!norm) return std::nullopt;
  Shape out;
  size_t k = 0;
  for (int64_t i = 0; i < out_rank; ++i)
    out.push_back(std::find(norm->begin(), norm->end(), i) != norm->end() ? 1 : in[k++]);
  return out;
}

std::optional<ShapeRule> squeeze_rule(const Node& node, const Graph& graph, bool unsqueeze) {
  if (!view_node(node, graph)) return std::nullopt;
  const auto axes = axes_operand(node, graph);
  if (!axes || (unsqueeze && !*axes)) return std::nullopt;
  const std::optional<IntsOperand> op = *axes;
  return ShapeRule([op, unsqueeze](const Shape& in, const std::vector<const Value*>& inputs) -> std::optional<Shape> {
    std::optional<Ints> list;
    if (op) {
      list = op->get(inputs);
      if (!list) return std::nullopt;
    }
    return unsqueeze ? unsqueezed(in, *list) : squeezed(in, list);
  });
}

std::optional<ShapeRule> view_rule(const Node& node, const Graph& graph) {
  if (node.op_type == "Reshape") return reshape_rule(node, graph);
  if (node.op_type == "Flatten") return flatten_rule(node, graph);
  if (node.op_type == "Squeeze") return squeeze_rule(node, graph, false);
  if (node.op_type == "Unsqueeze") return squeeze_rule(node, graph, true);
  return std::nullopt;
}

bool view_accepts(const Node& node, const CompileContext& ctx) { return view_rule(node, ctx.graph).has_value(); }

std::unique_ptr<FastKernel> view_create(const Node& node, const CompileContext& ctx) {
  auto rule = view_rule(node, ctx.graph);
  return rule ? std::make_unique<ViewKernel>(node, std::move(*rule)) : nullptr;
}

// Identity passes its input value on (tensor, sequence or optional), as the reference does.
class IdentityKernel final : public NativeKernel {
 public:
  using NativeKernel::NativeKernel;
  void run(const std::vector<const Value*>& inputs, std::vector<Value>& outputs) const override {
    if (inputs.empty() || !inputs[0]) return fallback(inputs, outputs);
    outputs[0] = *inputs[0];
  }
  int output_aliases_input() const override { return 0; }
};

bool identity_accepts(const Node& node, const CompileContext&) { return has_input(node, 0) && native::has_outputs(node, 1); }

std::unique_ptr<FastKernel> identity_create(const Node& node, const CompileContext&) {
  return std::make_unique<IdentityKernel>(node);
}

// ---------------------------------------------------------------------------
// Concat
// ---------------------------------------------------------------------------

class ConcatKernel final : public NativeKernel {
 public:
  ConcatKernel(const Node& node, ElementType type, int64_t axis) : NativeKernel(node), type_(type), axis_(axis) {}

  void run(const std::vector<const Value*>& inputs, std::vector<Value>& outputs) const override {
    std::vector<const Tensor*> ins;
    for (const Value* v : inputs) {
      if (!v || !v->has_value()) continue;
      if (v->kind != Value::Kind::tensor) return fallback(inputs, outputs);
      ins.push_back(&v->tensor);
    }
    const std::optional<Shape> shape = out_shape(ins);
    if (!shape) return fallback(inputs, outputs);
    Tensor out = native::uninitialized(type_, *shape);
    if (out.numel() > 0) copy(ins, out);
    outputs[0] = Value::of(std::move(out));
  }

 private:
  // The output shape; nullopt when the inputs are not what the kernel handles.
  std::optional<Shape> out_shape(const std::vector<const Tensor*>& ins) const {
    if (ins.empty()) return std::nullopt;
    const Shape& first = ins[0]->shape();
    const auto axis = normalized_axis(axis_, static_cast<int64_t>(first.size()));
    if (!axis) return std::nullopt;
    Shape out = first;
    out[static_cast<size_t>(*axis)] = 0;
    for (const Tensor* t : ins) {
      if (t->type() != type_ || t->shape().size() != first.size()) return std::nullopt;
      for (size_t d = 0; d < first.size(); ++d)
        if (static_cast<int64_t>(d) != *axis && t->shape()[d] != first[d]) return std::nullopt;
      out[static_cast<size_t>(*axis)] += t->shape()[static_cast<size_t>(*axis)];
    }
    return out;
  }

  // Per outer index, each input's block of (its axis extent x inner) elements in turn.
  void copy(const std::vector<const Tensor*>& ins, Tensor& out) const {
    const Shape& s = out.shape();
    const size_t axis = static_cast<size_t>(*normalized_axis(axis_, static_cast<int64_t>(s.size())));
    const int64_t outer = *span_numel(s, 0, axis), inner = *span_numel(s, axis + 1, s.size());
    const size_t elem = native::element_bytes(type_);
    std::byte* dst = bytes_of(out);
    for (int64_t o = 0; o < outer; ++o)
      for (const Tensor* t : ins) {
        const size_t block = static_cast<size_t>(t->shape()[axis] * inner) * elem;
        if (block == 0) continue;
        std::memcpy(dst, bytes_of(*t) + static_cast<size_t>(o) * block, block);
        dst += block;
      }
  }

  ElementType type_;
  int64_t axis_;
};

// The common element type of the node's present inputs; undefined if they differ or are not
// fixed-size tensors.
ElementType common_input_type(const Node& node, const Graph& graph) {
  ElementType type = ElementType::undefined;
  for (int32_t v : node.inputs) {
    if (v < 0) continue;
    const ElementType t = elem_type_of(graph, v);
    if (!native::is_tensor_value(graph, v) || native::element_bytes(t) == 0 || (type != ElementType::undefined && t != type))
      return ElementType::undefined;
    type = t;
  }
  return type;
}

bool concat_accepts(const Node& node, const CompileContext& ctx) {
  if (!native::has_outputs(node, 1) || common_input_type(node, ctx.graph) == ElementType::undefined) return false;
  if (node.opset >= 4 && !node.attr("axis")) return false;
  const int64_t axis = node.attr_int("axis", 1);
  for (int32_t v : node.inputs) {
    const auto rank = native::declared_rank(ctx.graph, v);
    if (rank && !normalized_axis(axis, static_cast<int64_t>(*rank))) return false;
  }
  return true;
}

std::unique_ptr<FastKernel> concat_create(const Node& node, const CompileContext& ctx) {
  return std::make_unique<ConcatKernel>(node, common_input_type(node, ctx.graph), node.attr_int("axis", 1));
}

// ---------------------------------------------------------------------------
// Split
// ---------------------------------------------------------------------------

// Split's sizes as the reference takes them: the split input (opset >= 13, or Split-2's
// optional input), the split attribute (opset < 13); empty: from num_outputs or even.
struct SplitSpec {
  int64_t axis = 0;
  Ints sizes;
  std::optional<int64_t> num_outputs;  // opset >= 18 attribute
  int64_t n_out = 0;                   // the node's output count

  std::optional<Ints> sizes_for(int64_t dim) const {
    Ints s = sizes;
    if (s.empty()) {
      if (num_outputs) {
        const int64_t n = *num_outputs;
        if (n <= 0 || n != n_out) return std::nullopt;
        const int64_t chunk = (dim + n - 1) / n;
        for (int64_t i = 0; i < n; ++i) s.push_back(std::max<int64_t>(0, std::min(chunk, dim - chunk * i)));
      } else {
        if (n_out <= 0 || dim % n_out != 0) return std::nullopt;
        s.assign(static_cast<size_t>(n_out), dim / n_out);
      }
    }
    int64_t total = 0;
    for (int64_t v : s) {
      if (v < 0 || v > dim) return std::nullopt;
      total += v;
    }
    if (static_cast<int64_t>(s.size()) != n_out || total != dim) return std::nullopt;
    return s;
  }
};

std::optional<SplitSpec> split_spec(const Node& node, const Graph& graph) {
  if (input_element_bytes(node, graph) == 0 || node.outputs.empty()) return std::nullopt;
  SplitSpec spec;
  spec.axis = node.attr_int("axis", 0);
  spec.n_out = static_cast<int64_t>(node.outputs.size());
  if (has_input(node, 1) && (node.opset >= 13 || !node.attr("split"))) {
    auto c = native::constant_ints(node, graph, 1);
    if (!c) return std::nullopt;
    spec.sizes = *c;
  } else if (node.opset < 13 && node.attr("split")) {
    spec.sizes = node.attr_ints("split");
  }
  if (node.opset >= 18 && node.attr("num_outputs")) spec.num_outputs = node.attr_int("num_outputs", 0);
  const auto rank = native::declared_rank(graph, node.inputs[0]);
  if (rank && !normalized_axis(spec.axis, static_cast<int64_t>(*rank))) return std::nullopt;
  return spec;
}

class SplitKernel final : public NativeKernel {
 public:
  SplitKernel(const Node& node, SplitSpec spec) : NativeKernel(node), spec_(std::move(spec)) {}

  void run(const std::vector<const Value*>& inputs, std::vector<Value>& outputs) const override {
    const Tensor* x = native::tensor_input(inputs, 0);
    const size_t elem = x ? native::element_bytes(x->type()) : 0;
    const auto axis = x ? normalized_axis(spec_.axis, x->rank()) : std::nullopt;
    const auto sizes = axis ? spec_.sizes_for(x->dim(*axis)) : std::nullopt;
    if (elem == 0 || !sizes) return fallback(inputs, outputs);
    const Shape& s = x->shape();
    const size_t a = static_cast<size_t>(*axis);
    const int64_t outer = *span_numel(s, 0, a), inner = *span_numel(s, a + 1, s.size());
    int64_t start = 0;
    for (size_t i = 0; i < sizes->size(); ++i) {
      const int64_t len = (*sizes)[i];
      if (node_.outputs[i] >= 0) outputs[i] = Value::of(piece(*x, a, outer, inner, start, len, elem));
      start += len;
    }
  }

 private:
  // x[..., start:start+len, ...] along axis a.
  static Tensor piece(const Tensor& x, size_t a, int64_t outer, int64_t inner, int64_t start, int64_t len, size_t elem) {
    Shape s = x.shape();
    s[a] = len;
    Tensor out = native::uninitialized(x.type(), s);
    if (out.numel() == 0) return out;
    const size_t block = static_cast<size_t>(len * inner) * elem, row = static_cast<size_t>(x.shape()[a] * inner) * elem;
    const std::byte* src = bytes_of(x) + static_cast<size_t>(start * inner) * elem;
    std::byte* dst = bytes_of(out);
    for (int64_t o = 0; o < outer; ++o) std::memcpy(dst + static_cast<size_t>(o) * block, src + static_cast<size_t>(o) * row, block);
    return out;
  }

  SplitSpec spec_;
};

bool split_accepts(const Node& node, const CompileContext& ctx) { return split_spec(node, ctx.graph).has_value(); }

std::unique_ptr<FastKernel> split_create(const Node& node, const CompileContext& ctx) {
  auto spec = split_spec(node, ctx.graph);
  return spec ? std::make_unique<SplitKernel>(node, std::move(*spec)) : nullptr;
}

// ---------------------------------------------------------------------------
// Slice (steps 1)
// ---------------------------------------------------------------------------

struct SliceSpec {
  Ints starts, ends, axes;  // as given (axes may be empty: the leading axes)

  // The first element and the extent per axis of the slice of `in`; nullopt if invalid.
  std::optional<std::pair<Shape, Shape>> window(const Shape& in) const {
    const int64_t r = static_cast<int64_t>(in.size());
    if (starts.size() != ends.size()) return std::nullopt;
    Ints ax = axes;
    if (ax.empty()) {
      if (starts.size() > in.size()) return std::nullopt;
      for (size_t i = 0; i < starts.size(); ++i) ax.push_back(static_cast<int64_t>(i));
    }
    if (ax.size() != starts.size()) return std::nullopt;
    const auto norm = normalized_axes(ax, r);
    if (!norm) return std::nullopt;
    Shape begin(in.size(), 0), extent = in;
    for (size_t k = 0; k < norm->size(); ++k) {
      const size_t a = static_cast<size_t>((*norm)[k]);
      const int64_t dim = in[a];
      int64_t s = starts[k], e = ends[k];
      if (s < 0) s += dim;
      if (e < 0) e += dim;
      s = std::clamp<int64_t>(s, 0, dim);
      e = std::clamp<int64_t>(e, 0, dim);
      extent[a] = e > s ? e - s : 0;
      begin[a] = extent[a] > 0 ? s : 0;
    }
    return std::make_pair(begin, extent);
  }
};

std::optional<SliceSpec> slice_spec(const Node& node, const Graph& graph) {
  if (input_element_bytes(node, graph) == 0 || !native::has_outputs(node, 1)) return std::nullopt;
  SliceSpec spec;
  if (node.opset < 10) {
    spec.starts = node.attr_ints("starts");
    spec.ends = node.attr_ints("ends");
    spec.axes = node.attr_ints("axes");
    return spec;
  }
  auto starts = native::constant_ints(node, graph, 1), ends = native::constant_ints(node, graph, 2);
  if (!starts || !ends) return std::nullopt;
  spec.starts = *starts;
  spec.ends = *ends;
  if (has_input(node, 3)) {
    auto axes = native::constant_ints(node, graph, 3);
    if (!axes) return std::nullopt;
    spec.axes = *axes;
  }
  if (has_input(node, 4)) {
    auto steps = native::constant_ints(node, graph, 4);
    if (!steps || (!steps->empty() && steps->size() != spec.starts.size())) return std::nullopt;
    for (int64_t s : *steps)
      if (s != 1) return std::nullopt;
  }
  return spec;
}

class SliceKernel final : public NativeKernel {
 public:
  SliceKernel(const Node& node, SliceSpec spec) : NativeKernel(node), spec_(std::move(spec)) {}

  void run(const std::vector<const Value*>& inputs, std::vector<Value>& outputs) const override {
    const Tensor* x = native::tensor_input(inputs, 0);
    const size_t elem = x ? native::element_bytes(x->type()) : 0;
    const auto w = elem ? spec_.window(x->shape()) : std::nullopt;
    if (!w) return fallback(inputs, outputs);
    const auto& [begin, extent] = *w;
    const std::vector<int64_t> st = row_major_strides(x->shape());
    int64_t base = 0;
    for (size_t d = 0; d < st.size(); ++d) base += begin[d] * st[d];
    Tensor out = native::uninitialized(x->type(), extent);
    if (out.numel() > 0) native::copy_strided(bytes_of(*x) + static_cast<size_t>(base) * elem, extent, st, elem, bytes_of(out));
    outputs[0] = Value::of(std::move(out));
  }

 private:
  SliceSpec spec_;
};

bool slice_accepts(const Node& node, const CompileContext& ctx) { return slice_spec(node, ctx.graph).has_value(); }

std::unique_ptr<FastKernel> slice_create(const Node& node, const CompileContext& ctx) {
  auto spec = slice_spec(node, ctx.graph);
  return spec ? std::make_unique<SliceKernel>(node, std::move(*spec)) : nullptr;
}

// ---------------------------------------------------------------------------
// Transpose
// ---------------------------------------------------------------------------

// The permutation for rank r: the attribute (negative entries count from the end), or the
// reversed axes when the node has none; nullopt if invalid.
std::optional<Ints> permutation(const std::optional<Ints>& perm, int64_t r) {
  if (!perm) {
    Ints rev;
    for (int64_t i = r; i-- > 0;) rev.push_back(i);
    return rev;
  }
  if (static_cast<int64_t>(perm->size()) != r) return std::nullopt;
  return normalized_axes(*perm, r);
}

class TransposeKernel final : public NativeKernel {
 public:
  TransposeKernel(const Node& node, std::optional<Ints> perm) : NativeKernel(node), perm_(std::move(perm)) {}

  void run(const std::vector<const Value*>& inputs, std::vector<Value>& outputs) const override {
    const Tensor* x = native::tensor_input(inputs, 0);
    const size_t elem = x ? native::element_bytes(x->type()) : 0;
    const auto perm = elem ? permutation(perm_, x->rank()) : std::nullopt;
    if (!perm) return fallback(inputs, outputs);
    const std::vector<int64_t> st = row_major_strides(x->shape());
    Shape out_shape, step;
    for (int64_t p : *perm) {
      out_shape.push_back(x->shape()[static_cast<size_t>(p)]);
      step.push_back(st[static_cast<size_t>(p)]);
    }
    Tensor out = native::uninitialized(x->type(), out_shape);
    if (out.numel() > 0) native::copy_strided(bytes_of(*x), out_shape, step, elem, bytes_of(out));
    outputs[0] = Value::of(std::move(out));
  }

 private:
  std::optional<Ints> perm_;  // nullopt: reverse
};

std::optional<Ints> perm_attribute(const Node& node) {
  if (!node.attr("perm")) return std::nullopt;
  return node.attr_ints("perm");
}

bool transpose_accepts(const Node& node, const CompileContext& ctx) {
  if (input_element_bytes(node, ctx.graph) == 0 || !native::has_outputs(node, 1)) return false;
  const auto rank = native::declared_rank(ctx.graph, node.inputs[0]);
  return !rank || permutation(perm_attribute(node), static_cast<int64_t>(*rank)).has_value();
}

std::unique_ptr<FastKernel> transpose_create(const Node& node, const CompileContext&) {
  return std::make_unique<TransposeKernel>(node, perm_attribute(node));
}

}  // namespace

void append_movement_providers(std::vector<FastKernelProvider>& out) {
  using native::guarded;
  const char* impl = native::kImplementation;
  for (const char* op : {"Reshape", "Flatten", "Squeeze", "Unsqueeze"})
    out.push_back(FastKernelProvider{impl, op, &guarded<view_accepts>, &view_create});
  out.push_back(FastKernelProvider{impl, "Identity", &guarded<identity_accepts>, &identity_create});
  out.push_back(FastKernelProvider{impl, "Concat", &guarded<concat_accepts>, &concat_create});
  out.push_back(FastKernelProvider{impl, "Split", &guarded<split_accepts>, &split_create});
  out.push_back(FastKernelProvider{impl, "Slice", &guarded<slice_accepts>, &slice_create});
  out.push_back(FastKernelProvider{impl, "Transpose", &guarded<transpose_accepts>, &transpose_create});
}

}  // namespace switchyard::cpu
