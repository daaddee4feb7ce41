// Reference kernels: sequences of tensors and optional values.
//
// A sequence is a Value of kind sequence (std::vector<Tensor>); an optional is a
// Value with is_optional set, empty when its kind is none.
#include <algorithm>
#include <cstring>

#include "switchyard/reference/interpreter.h"
#include "switchyard/reference/util.h"

namespace switchyard::reference {

namespace {

// ---------------------------------------------------------------------------
// Helpers

std::string type_name(ElementType t) { return std::string(element_type_name(t)); }

const std::vector<Tensor>& sequence_input(const KernelContext& ctx, size_t i, const char* what) {
  const Value& v = ctx.input_value(i);
  if (v.kind != Value::Kind::sequence)
    throw_error(StatusCode::invalid_argument, std::string(what) + " must be a sequence" +
                                                  (v.kind == Value::Kind::none ? " (got an empty optional)" : " (got a tensor)"));
  return v.sequence;
}

// Reads a single-element int32/int64 position tensor.
int64_t position_of(const Tensor& t, const char* what) {
  if (t.type() != ElementType::int32 && t.type() != ElementType::int64)
    throw_error(StatusCode::invalid_argument, std::string(what) + " must be int32 or int64, got " + type_name(t.type()));
  if (t.numel() != 1)
    throw_error(StatusCode::invalid_argument, std::string(what) + " must be a scalar, got shape " + shape_to_string(t.shape()));
  return get_int64(t, 0);
}

// Resolves a position into [0, size) (or [0, size] when `allow_end`), accepting negatives.
size_t resolve_position(int64_t pos, size_t size, bool allow_end, const char* what) {
  const int64_t n = static_cast<int64_t>(size);
  const int64_t hi = allow_end ? n : n - 1;
  if (pos < -n || pos > hi)
    throw_error(StatusCode::invalid_argument, std::string(what) + " " + std::to_string(pos) + " is out of range [" +
                                                  std::to_string(-n) + ", " + std::to_string(hi) + "]");
  return static_cast<size_t>(pos < 0 ? pos + n : pos);
}

void check_same_type(const std::vector<Tensor>& seq, const Tensor& t, const char* what) {
  if (!seq.empty() && seq[0].type() != t.type())
    throw_error(StatusCode::invalid_argument, std::string(what) + ": tensor of type " + type_name(t.type()) +
                                                  " does not match the sequence's element type " + type_name(seq[0].type()));
}

// Copies `count` consecutive elements (flat, row-major) from src to dst; any element type.
void copy_run(const Tensor& src, int64_t src_off, Tensor& dst, int64_t dst_off, int64_t count) {
  if (count <= 0) return;
  const int bits = element_bits(src.type());
  if (src.type() != ElementType::string && bits >= 8 && bits % 8 == 0) {
    const size_t b = static_cast<size_t>(bits / 8);
    std::memcpy(static_cast<std::byte*>(dst.raw_mutable()) + static_cast<size_t>(dst_off) * b,
                static_cast<const std::byte*>(src.raw()) + static_cast<size_t>(src_off) * b, static_cast<size_t>(count) * b);
    return;
  }
  for (int64_t k = 0; k < count; ++k) copy_element(src, src_off + k, dst, dst_off + k);
}

size_t sequence_bytes(const std::vector<Tensor>& seq) {
  size_t bytes = 0;
  for (const Tensor& t : seq) bytes += tensor_bytes(t);
  return bytes;
}

int64_t prod(const Shape& s, size_t from, size_t to) {
  int64_t p = 1;
  for (size_t i = from; i < to; ++i) p *= s[i];
  return p;
}

// t[..., start:start+len, ...] along `axis` (axis kept).
Tensor slice_axis(const Tensor& t, int64_t axis, int64_t start, int64_t len) {
  const Shape& s = t.shape();
  const size_t a = static_cast<size_t>(axis);
  const int64_t outer = prod(s, 0, a), dim = s[a], inner = prod(s, a + 1, s.size());
  Shape out_shape = s;
  out_shape[a] = len;
  Tensor out = Tensor::allocate(t.type(), out_shape);
  for (int64_t o = 0; o < outer; ++o) copy_run(t, (o * dim + start) * inner, out, o * len * inner, len * inner);
  return out;
}

// Concatenates tensors along an existing `axis`; all other dims must match.
Tensor concat_axis(const std::vector<Tensor>& parts, int64_t axis) {
  const Tensor& first = parts.at(0);
  const size_t a = static_cast<size_t>(axis);
  Shape out_shape = first.shape();
  out_shape[a] = 0;
  for (const Tensor& p : parts) {
    bool ok = p.type() == first.type() && p.rank() == first.rank();
    for (size_t d = 0; ok && d < out_shape.size(); ++d)
      if (d != a && p.shape()[d] != first.shape()[d]) ok = false;
    if (!ok)
      throw_error(StatusCode::invalid_argument, "cannot concatenate " + type_name(first.type()) +
                                                    shape_to_string(first.shape()) + " and " + type_name(p.type()) +
                                                    shape_to_string(p.shape()) + " along axis " + std::to_string(axis));
    out_shape[a] += p.shape()[a];
  }
  Tensor out = Tensor::allocate(first.type(), out_shape);
  const int64_t outer = prod(out_shape, 0, a), inner = prod(out_shape, a + 1, out_shape.size());
  const int64_t out_row = out_shape[a] * inner;
  int64_t offset = 0;  // start of this part's block inside one output row
  for (const Tensor& p : parts) {
    const int64_t row = p.shape()[a] * inner;
    for (int64_t o = 0; o < outer; ++o) copy_run(p, o * row, out, o * out_row + offset, row);
    offset += row;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Sequence operators

void sequence_empty(KernelContext& ctx) {
  const int64_t dtype = ctx.attr_int("dtype", static_cast<int64_t>(ElementType::float32));
  auto t = element_type_from_int(static_cast<int32_t>(dtype));
  if (!t || *t == ElementType::undefined)
    throw_error(StatusCode::invalid_argument, "SequenceEmpty dtype " + std::to_string(dtype) + " is not an element type");
  ctx.set_output_value(0, Value::of_sequence({}));
}

void sequence_construct(KernelContext& ctx) {
  std::vector<Tensor> seq;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    const Tensor& t = ctx.input(i);
    check_same_type(seq, t, "SequenceConstruct");
    seq.push_back(t);
  }
  if (seq.empty()) throw_error(StatusCode::invalid_argument, "SequenceConstruct needs at least one input");
  ctx.set_output_value(0, Value::of_sequence(std::move(seq)));
}

void sequence_at(KernelContext& ctx) {
  const auto& seq = sequence_input(ctx, 0, "SequenceAt input_sequence");
  size_t p = resolve_position(position_of(ctx.input(1), "SequenceAt position"), seq.size(), false, "SequenceAt position");
  ctx.set_output(0, seq[p]);
}

void sequence_insert(KernelContext& ctx) {
  std::vector<Tensor> seq = sequence_input(ctx, 0, "SequenceInsert input_sequence");
  const Tensor& t = ctx.input(1);
  check_same_type(seq, t, "SequenceInsert");
  size_t p = seq.size();
  if (ctx.has_input(2))
    p = resolve_position(position_of(ctx.input(2), "SequenceInsert position"), seq.size(), true, "SequenceInsert position");
  seq.insert(seq.begin() + static_cast<std::ptrdiff_t>(p), t);
  if (ctx.memory_limited()) ctx.check_memory(sequence_bytes(seq), "the " + std::to_string(seq.size()) + " tensors of the sequence");
  ctx.set_output_value(0, Value::of_sequence(std::move(seq)));
}

void sequence_erase(KernelContext& ctx) {
  std::vector<Tensor> seq = sequence_input(ctx, 0, "SequenceErase input_sequence");
  int64_t pos = ctx.has_input(1) ? position_of(ctx.input(1), "SequenceErase position") : -1;
  size_t p = resolve_position(pos, seq.size(), false, "SequenceErase position");
  seq.erase(seq.begin() + static_cast<std::ptrdiff_t>(p));
  ctx.set_output_value(0, Value::of_sequence(std::move(seq)));
}

void sequence_length(KernelContext& ctx) {
  const auto& seq = sequence_input(ctx, 0, "SequenceLength input_sequence");
  ctx.set_output(0, Tensor::scalar<int64_t>(ElementType::int64, static_cast<int64_t>(seq.size())));
}

void concat_from_sequence(KernelContext& ctx) {
  const auto& seq = sequence_input(ctx, 0, "ConcatFromSequence input_sequence");
  if (!ctx.has_attr("axis")) throw_error(StatusCode::invalid_argument, "ConcatFromSequence needs the axis attribute");
  const int64_t new_axis = ctx.attr_int("new_axis", 0);
  if (new_axis != 0 && new_axis != 1)
    throw_error(StatusCode::invalid_argument, "ConcatFromSequence new_axis must be 0 or 1, got " + std::to_string(new_axis));
  if (seq.empty()) throw_error(StatusCode::invalid_argument, "ConcatFromSequence cannot concatenate an empty sequence");
  const int64_t rank = seq[0].rank() + new_axis;
  if (rank == 0) throw_error(StatusCode::invalid_argument, "ConcatFromSequence cannot concatenate scalars without new_axis");
  const int64_t axis = normalize_axis(ctx.attr_int("axis", 0), rank, "ConcatFromSequence axis");
  if (ctx.memory_limited()) ctx.check_memory(sequence_bytes(seq), "the concatenation of " + std::to_string(seq.size()) + " tensors");
  std::vector<Tensor> parts;
  for (const Tensor& t : seq) {
    ctx.poll_cancel("element", static_cast<int64_t>(parts.size()));
    if (t.rank() != seq[0].rank())
      throw_error(StatusCode::invalid_argument, "ConcatFromSequence: tensors have different ranks (" +
                                                    shape_to_string(seq[0].shape()) + " and " + shape_to_string(t.shape()) + ")");
    if (new_axis) {
      Shape s = t.shape();
      s.insert(s.begin() + axis, 1);
      parts.push_back(t.reshaped(s));
    } else {
      parts.push_back(t);
    }
  }
  ctx.set_output(0, concat_axis(parts, axis));
}

void split_to_sequence(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  if (x.rank() == 0) throw_error(StatusCode::invalid_argument, "SplitToSequence cannot split a scalar");
  const int64_t axis = normalize_axis(ctx.attr_int("axis", 0), x.rank(), "SplitToSequence axis");
  const int64_t keepdims = ctx.attr_int("keepdims", 1);
  const int64_t dim = x.dim(axis);
  std::vector<int64_t> lengths;
  bool squeeze = false;
  if (!ctx.has_input(1)) {
    lengths.assign(static_cast<size_t>(dim), 1);
    squeeze = keepdims == 0;
  } else {
    const Tensor& split = ctx.input(1);
    if (split.type() != ElementType::int32 && split.type() != ElementType::int64)
      throw_error(StatusCode::invalid_argument, "SplitToSequence split must be int32 or int64, got " + type_name(split.type()));
    if (split.rank() == 0) {
      const int64_t chunk = get_int64(split, 0);
      if (chunk <= 0)
        throw_error(StatusCode::invalid_argument, "SplitToSequence split must be positive, got " + std::to_string(chunk));
      for (int64_t start = 0; start < dim; start += chunk) lengths.push_back(std::min(chunk, dim - start));
    } else if (split.rank() == 1) {
      int64_t total = 0;
      for (int64_t i = 0; i < split.numel(); ++i) {
        const int64_t len = get_int64(split, i);
        if (len < 0)
          throw_error(StatusCode::invalid_argument, "SplitToSequence split has a negative length " + std::to_string(len));
        lengths.push_back(len);
        total += len;
      }
      if (total != dim)
        throw_error(StatusCode::invalid_argument, "SplitToSequence split lengths sum to " + std::to_string(total) +
                                                      " but the axis has " + std::to_string(dim) + " elements");
    } else {
      throw_error(StatusCode::invalid_argument, "SplitToSequence split must be a scalar or 1-D, got shape " +
                                                    shape_to_string(split.shape()));
    }
  }
  std::vector<Tensor> seq;
  int64_t start = 0;
  for (int64_t len : lengths) {
    ctx.poll_cancel("element", static_cast<int64_t>(seq.size()));
    Tensor part = slice_axis(x, axis, start, len);
    if (squeeze) {
      Shape s = part.shape();
      s.erase(s.begin() + axis);
      part = part.reshaped(s);
    }
    seq.push_back(std::move(part));
    start += len;
  }
  ctx.set_output_value(0, Value::of_sequence(std::move(seq)));
}

// Applies the body to each position of the input sequence; additional inputs are
// sequences of the same length (indexed alongside) or tensors (passed whole).
void sequence_map(KernelContext& ctx) {
  const Attribute* a = ctx.node().attr("body");
  if (!a || a->type != Attribute::Type::graph || !a->g)
    throw_error(StatusCode::invalid_argument, "SequenceMap needs a graph attribute 'body'");
  const Graph& body = *a->g;
  const auto& seq = sequence_input(ctx, 0, "SequenceMap input_sequence");
  const size_t n_in = ctx.num_inputs();
  if (body.inputs.size() != n_in)
    throw_error(StatusCode::invalid_argument, "SequenceMap body takes " + std::to_string(body.inputs.size()) +
                                                  " inputs; the node has " + std::to_string(n_in));
  if (body.outputs.size() != ctx.num_outputs())
    throw_error(StatusCode::invalid_argument, "SequenceMap body produces " + std::to_string(body.outputs.size()) +
                                                  " outputs; the node has " + std::to_string(ctx.num_outputs()));
  for (size_t j = 1; j < n_in; ++j) {
    const Value& v = ctx.input_value(j);
    if (v.kind == Value::Kind::sequence && v.sequence.size() != seq.size())
      throw_error(StatusCode::invalid_argument, "SequenceMap input " + std::to_string(j) + " has " +
                                                    std::to_string(v.sequence.size()) + " elements; input_sequence has " +
                                                    std::to_string(seq.size()));
    if (v.kind == Value::Kind::none)
      throw_error(StatusCode::invalid_argument, "SequenceMap input " + std::to_string(j) + " has no value");
  }
  std::vector<std::vector<Tensor>> outs(body.outputs.size());
  size_t out_bytes = 0;
  for (size_t i = 0; i < seq.size(); ++i) {
    ctx.poll_cancel("element", static_cast<int64_t>(i));
    std::vector<Value> in;
    in.push_back(Value::of(seq[i]));
    for (size_t j = 1; j < n_in; ++j) {
      const Value& v = ctx.input_value(j);
      in.push_back(v.kind == Value::Kind::sequence ? Value::of(v.sequence[i]) : Value::of(v.tensor));
    }
    std::vector<Value> r = ctx.run_subgraph(body, in);
    for (size_t k = 0; k < r.size(); ++k) {
      if (r[k].kind != Value::Kind::tensor)
        throw_error(StatusCode::invalid_argument, "SequenceMap body output " + std::to_string(k) + " is not a tensor");
      out_bytes += tensor_bytes(r[k].tensor);
      outs[k].push_back(std::move(r[k].tensor));
    }
    if (ctx.memory_limited()) ctx.check_memory(out_bytes, "after element " + std::to_string(i) + ", the output sequences");
  }
  for (size_t k = 0; k < outs.size(); ++k) ctx.set_output_value(k, Value::of_sequence(std::move(outs[k])));
}

// ---------------------------------------------------------------------------
// Optional operators

void optional_op(KernelContext& ctx) {
  const Value* in = ctx.input_value_or_null(0);
  if (!in) {
    if (!ctx.has_attr("type"))
      throw_error(StatusCode::invalid_argument, "Optional without an input needs the 'type' attribute");
    Value v;
    v.is_optional = true;
    ctx.set_output_value(0, std::move(v));
    return;
  }
  if (in->kind == Value::Kind::none)
    throw_error(StatusCode::invalid_argument, "Optional input must be a tensor or a sequence, got an empty optional");
  Value v = *in;
  v.is_optional = true;
  ctx.set_output_value(0, std::move(v));
}

void optional_has_element(KernelContext& ctx) {
  const Value* in = ctx.input_value_or_null(0);
  if (!in && ctx.opset() < 18) throw_error(StatusCode::invalid_argument, "OptionalHasElement-15 needs an input");
  const bool has = in && in->has_value();
  ctx.set_output(0, Tensor::scalar<uint8_t>(ElementType::boolean, has ? 1 : 0));
}

void optional_get_element(KernelContext& ctx) {
  const Value& in = ctx.input_value(0);
  if (!in.has_value())
    throw_error(StatusCode::invalid_argument, "OptionalGetElement: the optional input is empty");
  Value v = in;
  v.is_optional = false;
  ctx.set_output_value(0, std::move(v));
}

}  // namespace

void register_sequence_kernels(KernelRegistry& r) {
  r.add("", "SequenceEmpty", sequence_empty);
  r.add("", "SequenceConstruct", sequence_construct);
  r.add("", "SequenceAt", sequence_at);
  r.add("", "SequenceInsert", sequence_insert);
  r.add("", "SequenceErase", sequence_erase);
  r.add("", "SequenceLength", sequence_length);
  r.add("", "ConcatFromSequence", concat_from_sequence);
  r.add("", "SplitToSequence", split_to_sequence);
  r.add("", "SequenceMap", sequence_map);
  r.add("", "Optional", optional_op);
  r.add("", "OptionalHasElement", optional_has_element);
  r.add("", "OptionalGetElement", optional_get_element);
}

}  // namespace switchyard::reference
