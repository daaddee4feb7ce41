// Reference kernels: constants, identity and control flow (If, Loop, Scan).
//
// Subgraphs run through KernelContext::run_subgraph, which binds the body's
// inputs in order and resolves outer-scope names through the enclosing graphs.
#include <algorithm>
#include <cstring>
#include <optional>

#include "switchyard/reference/interpreter.h"
#include "switchyard/reference/util.h"

namespace switchyard::reference {

namespace {

// ---------------------------------------------------------------------------
// Helpers

const Graph& graph_attr(const KernelContext& ctx, const char* name) {
  const Attribute* a = ctx.node().attr(name);
  if (!a) throw_error(StatusCode::invalid_argument, std::string("missing graph attribute '") + name + "'");
  if (a->type != Attribute::Type::graph || !a->g)
    throw_error(StatusCode::invalid_argument, std::string("attribute '") + name + "' is not a graph");
  return *a->g;
}

// A single-element bool tensor (If / Loop condition).
bool single_bool(const Tensor& t, const std::string& what) {
  if (t.type() != ElementType::boolean)
    throw_error(StatusCode::invalid_argument,
                what + " must be a bool tensor, got " + std::string(element_type_name(t.type())));
  if (t.numel() != 1)
    throw_error(StatusCode::invalid_argument,
                what + " must hold exactly one element, got shape " + shape_to_string(t.shape()));
  return get_int64(t, 0) != 0;
}

Tensor bool_scalar(bool b) { return Tensor::scalar<uint8_t>(ElementType::boolean, b ? 1 : 0); }

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

int64_t prod(const Shape& s, size_t from, size_t to) {
  int64_t p = 1;
  for (size_t i = from; i < to; ++i) p *= s[i];
  return p;
}

// t[..., index, ...] along `axis`, with that axis removed.
Tensor take_axis(const Tensor& t, int64_t axis, int64_t index) {
  const Shape& s = t.shape();
  const size_t a = static_cast<size_t>(axis);
  const int64_t outer = prod(s, 0, a), len = s[a], inner = prod(s, a + 1, s.size());
  Shape out_shape = s;
  out_shape.erase(out_shape.begin() + axis);
  Tensor out = Tensor::allocate(t.type(), out_shape);
  for (int64_t o = 0; o < outer; ++o) copy_run(t, (o * len + index) * inner, out, o * inner, inner);
  return out;
}

// Stacks equally shaped tensors along a new axis `axis` (0 <= axis <= rank).
Tensor stack_axis(const std::vector<Tensor>& parts, int64_t axis, const std::string& what) {
  const Tensor& first = parts.at(0);
  for (const Tensor& p : parts)
    if (p.type() != first.type() || p.shape() != first.shape())
      throw_error(StatusCode::invalid_argument,
                  what + ": iterations produced different types or shapes (" +
                      std::string(element_type_name(first.type())) + shape_to_string(first.shape()) + " vs " +
                      std::string(element_type_name(p.type())) + shape_to_string(p.shape()) + ")");
  const Shape& s = first.shape();
  const size_t a = static_cast<size_t>(axis);
  const int64_t outer = prod(s, 0, a), inner = prod(s, a, s.size());
  const int64_t n = static_cast<int64_t>(parts.size());
  Shape out_shape = s;
  out_shape.insert(out_shape.begin() + axis, n);
  Tensor out = Tensor::allocate(first.type(), out_shape);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t p = 0; p < n; ++p) copy_run(parts[static_cast<size_t>(p)], o * inner, out, (o * n + p) * inner, inner);
  return out;
}

// An empty tensor standing for a scan output that no iteration produced: the body's
// declared element type and shape (unknown dims as 0) with a 0-sized axis inserted.
Tensor empty_scan_output(const Graph& body, size_t body_output, int64_t axis) {
  const ValueType& vt = body.values.at(static_cast<size_t>(body.outputs.at(body_output))).type;
  ElementType elem = ElementType::float32;
  Shape shape;
  if (vt.kind == ValueType::Kind::tensor) {
    if (vt.tensor.elem != ElementType::undefined) elem = vt.tensor.elem;
    if (vt.tensor.shape)
      for (const Dim& d : *vt.tensor.shape) shape.push_back(d.is_static() ? d.value : 0);
  }
  const int64_t rank = static_cast<int64_t>(shape.size()) + 1;
  if (axis < 0) axis += rank;
  axis = std::clamp<int64_t>(axis, 0, rank - 1);
  shape.insert(shape.begin() + axis, 0);
  return Tensor::allocate(elem, shape);
}

const Tensor& tensor_of(const Value& v, const std::string& what) {
  if (v.kind != Value::Kind::tensor) throw_error(StatusCode::invalid_argument, what + " is not a tensor");
  return v.tensor;
}

// The run's limits as a Loop or Scan meets them: the cancel flag, polled before every iteration,
// and the memory limit, checked after every iteration against the carried values (states) plus
// every scan-output part so far (kept until they are stacked), and before stacking against those
// plus the stacked copies.
class IterationBudget {
 public:
  explicit IterationBudget(const KernelContext& ctx) : ctx_(ctx) {}

  void before(int64_t it) const { ctx_.poll_cancel("iteration", it); }

  // Runs the body for iteration `it`; a limit reached inside it says which iteration.
  std::vector<Value> run_body(const Graph& body, const std::vector<Value>& in, int64_t it) const {
    try {
      return ctx_.run_subgraph(body, in);
    } catch (const Error& e) {
      if (e.code() != StatusCode::cancelled && e.code() != StatusCode::resource_exhausted) throw;
      throw Error(e.code(), "iteration " + std::to_string(it) + ": " + e.what());
    }
  }

  void after(int64_t it, const std::vector<Value>& carried, const std::vector<std::vector<Tensor>>& parts) {
    if (!ctx_.memory_limited()) return;
    for (const auto& p : parts)
      if (!p.empty()) parts_bytes_ += tensor_bytes(p.back());
    ctx_.check_memory(parts_bytes_ + bytes_of(carried),
                      "after iteration " + std::to_string(it) + ", the loop-carried values and scan outputs");
  }

  void before_stacking(const std::vector<Value>& carried) const {
    if (!ctx_.memory_limited() || parts_bytes_ == 0) return;
    ctx_.check_memory(2 * parts_bytes_ + bytes_of(carried), "stacking the scan outputs: the carried values, the parts and the stacked copies");
  }

 private:
  static size_t bytes_of(const std::vector<Value>& values) {
    size_t bytes = 0;
    for (const Value& v : values) bytes += value_bytes(v);
    return bytes;
  }

  const KernelContext& ctx_;
  size_t parts_bytes_ = 0;
};

// ---------------------------------------------------------------------------
// Constant, Identity

void constant(KernelContext& ctx) {
  const Node& n = ctx.node();
  if (n.attributes.size() != 1)
    throw_error(StatusCode::invalid_argument, "Constant needs exactly one value attribute");
  const Attribute& a = n.attributes[0];
  if (a.name == "value" || a.name == "sparse_value") {
    if (a.type != Attribute::Type::tensor) throw_error(StatusCode::invalid_argument, "Constant value is not a tensor");
    ctx.set_output(0, a.t);
  } else if (a.name == "value_float") {
    ctx.set_output(0, Tensor::scalar<float>(ElementType::float32, a.f));
  } else if (a.name == "value_floats") {
    ctx.set_output(0, Tensor::from_vector<float>(ElementType::float32, {static_cast<int64_t>(a.floats.size())}, a.floats));
  } else if (a.name == "value_int") {
    ctx.set_output(0, Tensor::scalar<int64_t>(ElementType::int64, a.i));
  } else if (a.name == "value_ints") {
    ctx.set_output(0, Tensor::from_vector<int64_t>(ElementType::int64, {static_cast<int64_t>(a.ints.size())}, a.ints));
  } else if (a.name == "value_string") {
    ctx.set_output(0, Tensor::from_strings({}, {a.s}));
  } else if (a.name == "value_strings") {
    ctx.set_output(0, Tensor::from_strings({static_cast<int64_t>(a.strings.size())}, a.strings));
  } else {
    throw_error(StatusCode::invalid_argument, "Constant has unknown attribute '" + a.name + "'");
  }
}

// Passes tensors, sequences and optionals (empty or not) through unchanged.
void identity(KernelContext& ctx) { ctx.set_output_value(0, ctx.input_value(0)); }

// ---------------------------------------------------------------------------
// If

void if_op(KernelContext& ctx) {
  const bool cond = single_bool(ctx.input(0), "If condition");
  const char* which = cond ? "then_branch" : "else_branch";
  const Graph& branch = graph_attr(ctx, which);
  if (!branch.inputs.empty())
    throw_error(StatusCode::invalid_argument, std::string(which) + " must not declare inputs");
  if (branch.outputs.size() != ctx.num_outputs())
    throw_error(StatusCode::invalid_argument, std::string(which) + " produces " + std::to_string(branch.outputs.size()) +
                                                  " outputs but If has " + std::to_string(ctx.num_outputs()));
  std::vector<Value> outs = ctx.run_subgraph(branch, {});
  for (size_t i = 0; i < outs.size(); ++i) ctx.set_output_value(i, std::move(outs[i]));
}

// ---------------------------------------------------------------------------
// Loop
//
// Inputs: M (optional int64 trip count), cond (optional bool), N loop-carried values.
// Body: (iteration_num, cond, carried...) -> (cond, carried..., K scan outputs).
// Outputs: N final carried values, then K scan outputs stacked along a new axis 0.

void loop_op(KernelContext& ctx) {
  const Graph& body = graph_attr(ctx, "body");
  if (ctx.num_inputs() < 2) throw_error(StatusCode::invalid_argument, "Loop needs inputs M and cond (possibly empty)");
  const size_t n_carried = ctx.num_inputs() - 2;
  if (body.inputs.size() != n_carried + 2)
    throw_error(StatusCode::invalid_argument, "Loop body takes " + std::to_string(body.inputs.size()) +
                                                  " inputs; expected 2 + " + std::to_string(n_carried) + " loop-carried");
  if (body.outputs.size() < n_carried + 1)
    throw_error(StatusCode::invalid_argument, "Loop body produces " + std::to_string(body.outputs.size()) +
                                                  " outputs; expected at least 1 + " + std::to_string(n_carried));
  const size_t n_scan = body.outputs.size() - 1 - n_carried;
  if (ctx.num_outputs() != n_carried + n_scan)
    throw_error(StatusCode::invalid_argument, "Loop has " + std::to_string(ctx.num_outputs()) + " outputs; its body yields " +
                                                  std::to_string(n_carried) + " loop-carried and " + std::to_string(n_scan) +
                                                  " scan outputs");

  std::optional<int64_t> max_trip;
  if (ctx.has_input(0)) {
    const Tensor& m = ctx.input(0);
    if (m.type() != ElementType::int64 || m.numel() != 1)
      throw_error(StatusCode::invalid_argument, "Loop M must be a single int64 value, got " +
                                                    std::string(element_type_name(m.type())) + shape_to_string(m.shape()));
    max_trip = get_int64(m, 0);
  }
  const bool has_cond = ctx.has_input(1);
  bool cond = has_cond ? single_bool(ctx.input(1), "Loop cond") : true;
  if (!max_trip && !has_cond)
    throw_error(StatusCode::unsupported, "Loop with neither a trip count nor a condition never terminates");

  std::vector<Value> carried(n_carried);
  for (size_t i = 0; i < n_carried; ++i) {
    const Value* v = ctx.input_value_or_null(i + 2);
    if (v) carried[i] = *v;
  }
  std::vector<std::vector<Tensor>> scans(n_scan);
  IterationBudget budget(ctx);

  for (int64_t it = 0; cond && (!max_trip || it < *max_trip); ++it) {
    budget.before(it);
    std::vector<Value> in;
    in.reserve(n_carried + 2);
    in.push_back(Value::of(Tensor::scalar<int64_t>(ElementType::int64, it)));
    in.push_back(Value::of(bool_scalar(cond)));
    for (Value& v : carried) in.push_back(std::move(v));
    std::vector<Value> out = budget.run_body(body, in, it);
    // Without a cond input the body's condition output is ignored (a plain for loop).
    if (has_cond) cond = single_bool(tensor_of(out[0], "Loop body condition output"), "Loop body condition output");
    for (size_t i = 0; i < n_carried; ++i) carried[i] = std::move(out[1 + i]);
    for (size_t k = 0; k < n_scan; ++k)
      scans[k].push_back(tensor_of(out[1 + n_carried + k], "Loop scan output " + std::to_string(k)));
    budget.after(it, carried, scans);
  }

  budget.before_stacking(carried);
  for (size_t i = 0; i < n_carried; ++i) ctx.set_output_value(i, std::move(carried[i]));
  for (size_t k = 0; k < n_scan; ++k) {
    Tensor t = scans[k].empty() ? empty_scan_output(body, 1 + n_carried + k, 0)
                                : stack_axis(scans[k], 0, "Loop scan output " + std::to_string(k));
    ctx.set_output(n_carried + k, std::move(t));
  }
}

// ---------------------------------------------------------------------------
// Scan

struct ScanResult {
  std::vector<Value> states;
  std::vector<Tensor> outputs;
};

// One scan over `inputs` (already without any batch axis).
// in_axes: normalised axes of the scan inputs; out_axes: normalised insertion axes
// (rank of the per-iteration output + 1) or -1 for "0"; reverse flags per input/output.
// `length` iterations are run (<= the inputs' length along their axes).
ScanResult scan_core(const KernelContext& ctx, const Graph& body, std::vector<Value> states,
                     const std::vector<Tensor>& inputs, const std::vector<int64_t>& in_axes,
                     const std::vector<bool>& in_reverse, const std::vector<int64_t>& out_axes_raw,
                     const std::vector<bool>& out_reverse, int64_t length) {
  const size_t n_states = states.size(), n_in = inputs.size();
  const size_t n_out = body.outputs.size() - n_states;
  std::vector<std::vector<Tensor>> per_iter(n_out);
  IterationBudget budget(ctx);
  for (int64_t it = 0; it < length; ++it) {
    budget.before(it);
    std::vector<Value> in;
    in.reserve(n_states + n_in);
    for (Value& s : states) in.push_back(std::move(s));
    for (size_t j = 0; j < n_in; ++j) {
      int64_t idx = in_reverse[j] ? length - 1 - it : it;
      in.push_back(Value::of(take_axis(inputs[j], in_axes[j], idx)));
    }
    std::vector<Value> out = budget.run_body(body, in, it);
    for (size_t i = 0; i < n_states; ++i) states[i] = std::move(out[i]);
    for (size_t k = 0; k < n_out; ++k)
      per_iter[k].push_back(tensor_of(out[n_states + k], "Scan output " + std::to_string(k)));
    budget.after(it, states, per_iter);
  }
  budget.before_stacking(states);
  ScanResult r;
  r.states = std::move(states);
  for (size_t k = 0; k < n_out; ++k) {
    auto& parts = per_iter[k];
    if (parts.empty()) {
      r.outputs.push_back(empty_scan_output(body, n_states + k, out_axes_raw[k]));
      continue;
    }
    if (out_reverse[k]) std::reverse(parts.begin(), parts.end());
    const int64_t rank = parts[0].rank() + 1;
    const int64_t axis = normalize_axis(out_axes_raw[k], rank, "scan_output_axes");
    r.outputs.push_back(stack_axis(parts, axis, "Scan output " + std::to_string(k)));
  }
  return r;
}

std::vector<bool> directions(const KernelContext& ctx, const char* name, size_t n) {
  std::vector<int64_t> d = ctx.attr_ints(name, std::vector<int64_t>(n, 0));
  if (d.size() != n)
    throw_error(StatusCode::invalid_argument, std::string(name) + " has " + std::to_string(d.size()) +
                                                  " entries; expected " + std::to_string(n));
  std::vector<bool> out;
  for (int64_t v : d) {
    if (v != 0 && v != 1)
      throw_error(StatusCode::invalid_argument, std::string(name) + " entries must be 0 or 1, got " + std::to_string(v));
    out.push_back(v == 1);
  }
  return out;
}

void scan_op(KernelContext& ctx) {
  const Graph& body = graph_attr(ctx, "body");
  const int64_t m = ctx.attr_int("num_scan_inputs", -1);
  const bool v8 = ctx.opset() < 9;
  const size_t first = v8 ? 1 : 0;  // opset 8: input 0 is sequence_lens
  if (m < 1 || static_cast<size_t>(m) + first > ctx.num_inputs())
    throw_error(StatusCode::invalid_argument, "Scan num_scan_inputs " + std::to_string(m) + " does not fit " +
                                                  std::to_string(ctx.num_inputs()) + " inputs");
  const size_t n_in = static_cast<size_t>(m);
  const size_t n_states = ctx.num_inputs() - first - n_in;
  if (body.inputs.size() != n_states + n_in)
    throw_error(StatusCode::invalid_argument, "Scan body takes " + std::to_string(body.inputs.size()) + " inputs; expected " +
                                                  std::to_string(n_states + n_in));
  if (body.outputs.size() < n_states)
    throw_error(StatusCode::invalid_argument, "Scan body produces fewer outputs than there are states");
  const size_t n_out = body.outputs.size() - n_states;
  if (ctx.num_outputs() != n_states + n_out)
    throw_error(StatusCode::invalid_argument, "Scan has " + std::to_string(ctx.num_outputs()) + " outputs; expected " +
                                                  std::to_string(n_states + n_out));

  std::vector<Value> states;
  for (size_t i = 0; i < n_states; ++i) states.push_back(ctx.input_value(first + i));
  std::vector<Tensor> inputs;
  for (size_t j = 0; j < n_in; ++j) inputs.push_back(ctx.input(first + n_states + j));

  if (!v8) {
    std::vector<int64_t> in_axes = ctx.attr_ints("scan_input_axes", std::vector<int64_t>(n_in, 0));
    if (in_axes.size() != n_in) throw_error(StatusCode::invalid_argument, "scan_input_axes needs one entry per scan input");
    std::vector<int64_t> out_axes = ctx.attr_ints("scan_output_axes", std::vector<int64_t>(n_out, 0));
    if (out_axes.size() != n_out) throw_error(StatusCode::invalid_argument, "scan_output_axes needs one entry per scan output");
    std::vector<bool> in_rev = directions(ctx, "scan_input_directions", n_in);
    std::vector<bool> out_rev = directions(ctx, "scan_output_directions", n_out);
    int64_t length = -1;
    for (size_t j = 0; j < n_in; ++j) {
      if (inputs[j].rank() < 1) throw_error(StatusCode::invalid_argument, "Scan input " + std::to_string(j) + " is a scalar");
      in_axes[j] = normalize_axis(in_axes[j], inputs[j].rank(), "scan_input_axes");
      const int64_t len = inputs[j].dim(in_axes[j]);
      if (length >= 0 && len != length)
        throw_error(StatusCode::invalid_argument, "Scan inputs have different sequence lengths (" + std::to_string(length) +
                                                      " and " + std::to_string(len) + ")");
      length = len;
    }
    ScanResult r = scan_core(ctx, body, std::move(states), inputs, in_axes, in_rev, out_axes, out_rev, length);
    for (size_t i = 0; i < n_states; ++i) ctx.set_output_value(i, std::move(r.states[i]));
    for (size_t k = 0; k < n_out; ++k) ctx.set_output(n_states + k, std::move(r.outputs[k]));
    return;
  }

  // Opset 8: every state and scan input has a leading batch axis; scan inputs are
  // [batch, seq, ...]; sequence_lens (optional) gives each batch entry's length, and
  // scan outputs of shorter entries are zero padded.
  std::vector<bool> in_rev = directions(ctx, "directions", n_in);
  std::vector<bool> out_rev(n_out, false);
  std::vector<int64_t> in_axes(n_in, 0), out_axes(n_out, 0);
  int64_t batch = -1, seq = -1;
  auto check_batch = [&](const Tensor& t, const std::string& what, int64_t min_rank) {
    if (t.rank() < min_rank)
      throw_error(StatusCode::invalid_argument, what + " needs rank >= " + std::to_string(min_rank) + ", got " +
                                                    shape_to_string(t.shape()));
    if (batch >= 0 && t.dim(0) != batch)
      throw_error(StatusCode::invalid_argument, what + " has batch size " + std::to_string(t.dim(0)) + "; expected " +
                                                    std::to_string(batch));
    batch = t.dim(0);
  };
  for (size_t i = 0; i < n_states; ++i) check_batch(tensor_of(states[i], "Scan state"), "Scan state " + std::to_string(i), 1);
  for (size_t j = 0; j < n_in; ++j) {
    check_batch(inputs[j], "Scan input " + std::to_string(j), 2);
    if (seq >= 0 && inputs[j].dim(1) != seq)
      throw_error(StatusCode::invalid_argument, "Scan inputs have different sequence lengths");
    seq = inputs[j].dim(1);
  }
  std::vector<int64_t> lens(static_cast<size_t>(batch), seq);
  if (ctx.has_input(0)) {
    const Tensor& sl = ctx.input(0);
    if (sl.type() != ElementType::int32 && sl.type() != ElementType::int64)
      throw_error(StatusCode::invalid_argument, "Scan sequence_lens must be int32 or int64");
    if (sl.numel() != batch)
      throw_error(StatusCode::invalid_argument, "Scan sequence_lens has " + std::to_string(sl.numel()) +
                                                    " entries; batch size is " + std::to_string(batch));
    for (int64_t b = 0; b < batch; ++b) {
      lens[static_cast<size_t>(b)] = get_int64(sl, b);
      if (lens[static_cast<size_t>(b)] < 0 || lens[static_cast<size_t>(b)] > seq)
        throw_error(StatusCode::invalid_argument, "Scan sequence_lens entry " + std::to_string(lens[static_cast<size_t>(b)]) +
                                                      " is outside [0, " + std::to_string(seq) + "]");
    }
  }
  std::vector<std::vector<Tensor>> out_states(n_states), out_scans(n_out);
  for (int64_t b = 0; b < batch; ++b) {
    std::vector<Value> st;
    for (size_t i = 0; i < n_states; ++i) st.push_back(Value::of(take_axis(states[i].tensor, 0, b)));
    std::vector<Tensor> in;
    for (size_t j = 0; j < n_in; ++j) {
      // Keep only this entry's first lens[b] steps so a reversed scan starts at its own end.
      Tensor x = take_axis(inputs[j], 0, b);
      const int64_t len = lens[static_cast<size_t>(b)];
      if (len != seq) {
        std::vector<Tensor> steps;
        for (int64_t s = 0; s < len; ++s) steps.push_back(take_axis(x, 0, s));
        x = steps.empty() ? Tensor::allocate(x.type(), [&] { Shape sh = x.shape(); sh[0] = 0; return sh; }())
                          : stack_axis(steps, 0, "Scan input");
      }
      in.push_back(std::move(x));
    }
    ScanResult r = scan_core(ctx, body, std::move(st), in, in_axes, in_rev, out_axes, out_rev, lens[static_cast<size_t>(b)]);
    for (size_t i = 0; i < n_states; ++i) out_states[i].push_back(tensor_of(r.states[i], "Scan state"));
    for (size_t k = 0; k < n_out; ++k) {
      Tensor y = std::move(r.outputs[k]);
      if (y.dim(0) < seq) {  // zero pad to the full sequence length
        Shape full = y.shape();
        full[0] = seq;
        Tensor padded = Tensor::allocate(y.type(), full);
        copy_run(y, 0, padded, 0, y.numel());
        y = padded;
      }
      out_scans[k].push_back(std::move(y));
    }
  }
  for (size_t i = 0; i < n_states; ++i) {
    Tensor t = batch > 0 ? stack_axis(out_states[i], 0, "Scan state")
                         : Tensor::allocate(states[i].tensor.type(), states[i].tensor.shape());
    ctx.set_output(i, std::move(t));
  }
  for (size_t k = 0; k < n_out; ++k) {
    Tensor t;
    if (batch > 0) {
      t = stack_axis(out_scans[k], 0, "Scan output " + std::to_string(k));
    } else {
      Tensor e = empty_scan_output(body, n_states + k, 0);  // [0, ...]
      Shape sh = e.shape();
      sh[0] = seq < 0 ? 0 : seq;
      sh.insert(sh.begin(), 0);
      t = Tensor::allocate(e.type(), sh);
    }
    ctx.set_output(n_states + k, std::move(t));
  }
}

}  // namespace

void register_control_kernels(KernelRegistry& r) {
  r.add("", "Constant", constant);
  r.add("", "Identity", identity);
  r.add("", "If", if_op);
  r.add("", "Loop", loop_op);
  r.add("", "Scan", scan_op);
}

}  // namespace switchyard::reference
