// Tolerances for narrow-float devices (switchyard/tolerance.h; docs/conformance.md, "Narrow-float
// devices"): derived from each case's computation on the reference, never tuned per test.
#include "switchyard/conformance/tolerance.h"

#include <algorithm>
#include <cmath>

#include "switchyard/reference/interpreter.h"
#include "switchyard/reference/util.h"

namespace switchyard::conformance {

double unit_roundoff(ElementType compute) {
  switch (compute) {
    case ElementType::float16: return std::ldexp(1.0, -11);
    case ElementType::bfloat16: return std::ldexp(1.0, -8);
    case ElementType::float32: return std::ldexp(1.0, -24);
    default: return 0;
  }
}

Tolerance derive_tolerance(ElementType result, ElementType compute, int64_t accumulation_length, double term_scale) {
  if (result == ElementType::int8 || result == ElementType::uint8) return {1.0, 0.0};
  const double u = unit_roundoff(compute);
  const double k = static_cast<double>(std::max<int64_t>(1, accumulation_length));
  return {4 * u * std::sqrt(k) * term_scale, u};
}

Tolerance derive_deep_tolerance(ElementType compute, int64_t depth, double scale) {
  return {4 * unit_roundoff(compute) * std::sqrt(static_cast<double>(std::max<int64_t>(1, depth))) * scale, 0};
}

std::vector<int64_t> graph_depth(const Graph& graph) {
  std::vector<int64_t> depth(graph.values.size(), 0);
  for (const auto& n : graph.nodes) {
    int64_t d = 0;
    for (auto v : n.inputs)
      if (v >= 0) d = std::max(d, depth[static_cast<size_t>(v)]);
    for (auto v : n.outputs)
      if (v >= 0) depth[static_cast<size_t>(v)] = d + 1;
  }
  return depth;
}

// Largest finite magnitude of a numeric tensor (0 for empty or non-numeric ones).
double max_abs(const Tensor* t) {
  if (!t || t->numel() == 0 || t->type() == ElementType::string || t->type() == ElementType::boolean) return 0;
  double m = 0;
  for (int64_t i = 0; i < t->numel(); ++i) {
    const double v = std::fabs(reference::get_double(*t, i));
    if (std::isfinite(v)) m = std::max(m, v);
  }
  return m;
}

namespace {

double min_abs(const Tensor* t) {
  if (!t || t->numel() == 0) return 0;
  double m = INFINITY;
  for (int64_t i = 0; i < t->numel(); ++i) m = std::min(m, std::fabs(reference::get_double(*t, i)));
  return m;
}
const Tensor* input_of(const Node& n, const std::vector<const Tensor*>& values, size_t i) {
  return i < n.inputs.size() && n.inputs[i] >= 0 ? values[static_cast<size_t>(n.inputs[i])] : nullptr;
}

// How much an error in input i of node n can grow through n (absolute error in -> out).
double input_gain(const Graph& g, const Node& n, const std::vector<const Tensor*>& values, size_t i) {
  const std::string& op = n.op_type;
  auto in = [&](size_t k) { return input_of(n, values, k); };
  const Tensor* y = n.outputs.empty() || n.outputs[0] < 0 ? nullptr : values[static_cast<size_t>(n.outputs[0])];
  if (op == "Mul") return max_abs(in(1 - std::min<size_t>(i, 1)));
  if (op == "Div") {
    const double d = min_abs(in(1));
    if (d == 0) return 0;  // a zero divisor gives inf/NaN, compared exactly
    return i == 0 ? 1 / d : max_abs(y) / d;
  }
  if ((op == "Conv" || op == "Gemm") && i == 2) return op == "Gemm" ? std::fabs(n.attr_float("beta", 1)) : 1;  // the bias
  if (op == "Conv" || op == "MatMul" || op == "Gemm") {
    const NodeTerms t = node_terms(g, n, values);
    const double other = max_abs(in(i == 0 ? 1 : 0));
    return std::sqrt(static_cast<double>(t.accumulation_length)) * other * (op == "Gemm" ? std::fabs(n.attr_float("alpha", 1)) : 1);
  }
  if (op == "BatchNormalization" && i == 0) {
    const Tensor *s = in(1), *v = in(4);
    double m = 0;
    if (s && v && s->numel() == v->numel())
      for (int64_t c = 0; c < s->numel(); ++c)
        m = std::max(m, std::fabs(reference::get_double(*s, c)) / std::sqrt(reference::get_double(*v, c) + n.attr_float("epsilon", 1e-5f)));
    return m;
  }
  // Softmax: dy_i = y_i (dx_i - sum_j y_j dx_j), so |dy| <= 2 max|y| max|dx|; LogSoftmax: 2.
  if (op == "Softmax") return 2 * max_abs(y);
  if (op == "LogSoftmax") return 2;
  if (op == "Exp") return max_abs(y);  // dy = y dx
  return 1;  // Add, Sub, Sum, activations (slope <= 1), pooling, layout ops
}

}  // namespace

NodeTerms node_terms(const Graph& graph, const Node& n, const std::vector<const Tensor*>& values) {
  (void)graph;
  NodeTerms t;
  auto in = [&](size_t k) { return input_of(n, values, k); };
  const Tensor* y = n.outputs.empty() || n.outputs[0] < 0 ? nullptr : values[static_cast<size_t>(n.outputs[0])];
  const std::string& op = n.op_type;
  auto spatial = [](const Tensor* w, size_t from) {
    int64_t k = 1;
    if (w)
      for (size_t a = from; a < w->shape().size(); ++a) k *= w->shape()[a];
    return k;
  };
  if (op == "Conv" && in(1)) {
    const bool bias = in(2) != nullptr;
    t.accumulation_length = spatial(in(1), 1) + (bias ? 1 : 0);
    t.term_scale = std::max(max_abs(in(0)) * max_abs(in(1)), max_abs(in(2)));
  } else if ((op == "MatMul" || op == "Gemm") && in(0) && in(1)) {
    const auto& a = in(0)->shape();
    const bool ta = op == "Gemm" && n.attr_int("transA", 0);
    const int64_t k = a.empty() ? 1 : ta ? a[0] : a.back();
    const double alpha = op == "Gemm" ? std::fabs(n.attr_float("alpha", 1)) : 1, beta = op == "Gemm" ? std::fabs(n.attr_float("beta", 1)) : 0;
    t.accumulation_length = k + (in(2) ? 1 : 0);
    t.term_scale = std::max(alpha * max_abs(in(0)) * max_abs(in(1)), beta * max_abs(in(2)));
  } else if (op == "AveragePool") {
    t.accumulation_length = 1;
    for (auto k : n.attr_ints("kernel_shape")) t.accumulation_length *= k;
    t.term_scale = max_abs(in(0));
  } else if (op == "GlobalAveragePool" && in(0)) {
    t.accumulation_length = spatial(in(0), 2);
    t.term_scale = max_abs(in(0));
  } else if ((op == "Softmax" || op == "LogSoftmax") && in(0)) {
    const auto& s = in(0)->shape();
    int64_t axis = n.attr_int("axis", n.opset < 13 ? 1 : -1);
    if (axis < 0) axis += static_cast<int64_t>(s.size());
    t.accumulation_length = 1;
    for (size_t a = static_cast<size_t>(std::max<int64_t>(0, axis)); a < s.size() && (n.opset < 13 || a == static_cast<size_t>(axis)); ++a)
      t.accumulation_length *= s[a];
    t.term_scale = std::max(1.0, max_abs(y));
  } else if (op == "Sum") {
    t.accumulation_length = static_cast<int64_t>(n.inputs.size());
    for (size_t i = 0; i < n.inputs.size(); ++i) t.term_scale = std::max(t.term_scale, max_abs(in(i)));
  } else if (op == "BatchNormalization") {
    t.accumulation_length = 2;  // x * s + t
    t.term_scale = max_abs(in(0)) * input_gain(graph, n, values, 0);
    t.term_scale = std::max(t.term_scale, max_abs(y));
  } else {  // elementwise and layout ops: one term, as large as the inputs or the result
    for (size_t i = 0; i < n.inputs.size(); ++i) t.term_scale = std::max(t.term_scale, max_abs(in(i)));
    t.term_scale = std::max(t.term_scale, max_abs(y));
  }
  return t;
}

Result<std::vector<Tolerance>> derive_case_tolerances(const Graph& graph, const std::vector<Value>& inputs, ElementType compute) {
  reference::RunOptions ro;
  for (const auto& n : graph.nodes)
    for (auto v : n.outputs)
      if (v >= 0) ro.extra_outputs.push_back(graph.value_name(v));
  SY_ASSIGN_OR_RETURN(auto ran, reference::Interpreter().run(graph, inputs, ro));
  std::vector<const Tensor*> values(graph.values.size(), nullptr);
  for (const auto& [id, t] : graph.initializers) values[static_cast<size_t>(id)] = &t;
  for (size_t i = 0; i < graph.inputs.size() && i < inputs.size(); ++i)
    if (inputs[i].kind == Value::Kind::tensor) values[static_cast<size_t>(graph.inputs[i])] = &inputs[i].tensor;
  size_t k = graph.outputs.size();
  for (const auto& n : graph.nodes)
    for (auto v : n.outputs)
      if (v >= 0) {
        if (k < ran.size() && ran[k].kind == Value::Kind::tensor) values[static_cast<size_t>(v)] = &ran[k].tensor;
        ++k;
      }
  // Accumulated tolerance of every value. The device rounds float graph inputs and constants to
  // the compute type (relative error u); what that does to a result depends on the operation (a
  // Softmax of 10000..10003 in float16 sees four equal inputs), so it is carried like any other
  // input error, through the operation's gain.
  std::vector<Tolerance> acc(graph.values.size());
  const double u = unit_roundoff(compute);
  auto rounded = [&](int32_t id) {
    const Tensor* t = values[static_cast<size_t>(id)];
    if (t && is_floating(t->type())) acc[static_cast<size_t>(id)] = Tolerance{0, u};
  };
  for (const auto& [id, t] : graph.initializers) rounded(id);
  for (auto id : graph.inputs) rounded(id);
  for (const auto& n : graph.nodes) {
    if (n.outputs.empty() || n.outputs[0] < 0) continue;
    const Tensor* y = values[static_cast<size_t>(n.outputs[0])];
    const ElementType yt = y ? y->type() : ElementType::float32;
    const NodeTerms terms = node_terms(graph, n, values);
    Tolerance own = is_floating(yt) ? derive_tolerance(yt, compute, terms.accumulation_length, terms.term_scale) : Tolerance{};
    for (size_t i = 0; i < n.inputs.size(); ++i) {
      if (n.inputs[i] < 0) continue;
      const Tolerance& in = acc[static_cast<size_t>(n.inputs[i])];
      if (in.atol == 0 && in.rtol == 0) continue;
      const double carried = in.atol + in.rtol * max_abs(values[static_cast<size_t>(n.inputs[i])]);
      own.atol += carried * input_gain(graph, n, values, i);
      own.rtol += in.rtol;
    }
    if (!is_floating(yt)) own = (yt == ElementType::int8 || yt == ElementType::uint8) ? derive_tolerance(yt, compute, 1, 0) : Tolerance{};
    for (auto v : n.outputs)
      if (v >= 0) acc[static_cast<size_t>(v)] = own;
  }
  std::vector<Tolerance> out;
  for (auto v : graph.outputs) {
    const Tensor* t = values[static_cast<size_t>(v)];
    if (t && (t->type() == ElementType::int8 || t->type() == ElementType::uint8)) out.push_back(derive_tolerance(t->type(), compute, 1, 0));
    else out.push_back(acc[static_cast<size_t>(v)]);
  }
  return out;
}

}  // namespace switchyard::conformance
