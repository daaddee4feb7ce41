#include "switchyard/runtime/range_check.h"

#include <cmath>
#include <cstdio>
#include <limits>

#include "switchyard/hal/hash.h"
#include "switchyard/reference/interpreter.h"
#include "switchyard/reference/util.h"

namespace switchyard {

namespace {

double tensor_max_abs(const Tensor& t) {
  if (!is_floating(t.type())) return -1;
  double m = 0;
  for (int64_t i = 0; i < t.numel(); ++i) {
    const double v = std::fabs(reference::get_double(t, i));
    if (!std::isnan(v)) m = std::max(m, v);  // inf counts: it is out of every range
  }
  return m;
}

std::string figure(double v, int digits = 3) {
  char b[32];
  std::snprintf(b, sizeof b, "%.*g", digits, v);
  return b;
}

}  // namespace

std::string RangeCheckOptions::key() const {
  if (!enabled) return "off";
  Hasher h;
  for (const auto& [name, t] : inputs) {
    h.update_field(name);
    h.update_u64(static_cast<uint64_t>(t.type()));
    for (auto d : t.shape()) h.update_u64(static_cast<uint64_t>(d));
    if (t.type() != ElementType::string) h.update(t.raw(), t.byte_size());
  }
  return figure(headroom) + (inputs.empty() ? ":generated" : ":" + h.hex());
}

Status check_calibration_inputs(const Graph& graph, const RangeCheckOptions& options) {
  for (const auto& [name, t] : options.inputs) {
    bool known = false;
    for (int32_t id : graph.inputs) known = known || graph.value_name(id) == name;
    if (!known) {
      std::string names;
      for (int32_t id : graph.inputs) names += (names.empty() ? "" : ", ") + graph.value_name(id);
      return Status(StatusCode::invalid_argument, "calibration input: the model has no input named '" + name + "' (its inputs: " + names + ")");
    }
  }
  return {};
}

double max_finite(ElementType type) {
  switch (type) {
    case ElementType::float16: return 65504.0;
    case ElementType::bfloat16: return 3.3895313892515355e38;
    case ElementType::float32: return std::numeric_limits<float>::max();
    case ElementType::float64: return std::numeric_limits<double>::max();
    default: return is_floating(type) ? 448.0 : 0;  // float8 e4m3 is the narrowest common one
  }
}

Result<std::vector<double>> value_magnitudes(const Graph& graph, const std::vector<Value>& inputs) {
  std::vector<double> mag(graph.values.size(), -1);
  for (const auto& [id, t] : graph.initializers) mag[static_cast<size_t>(id)] = tensor_max_abs(t);
  for (size_t i = 0; i < graph.inputs.size() && i < inputs.size(); ++i)
    if (inputs[i].kind == Value::Kind::tensor) mag[static_cast<size_t>(graph.inputs[i])] = tensor_max_abs(inputs[i].tensor);
  reference::RunOptions ro;
  ro.on_node = [&](size_t n, const std::vector<Value>& outs) {
    const Node& node = graph.nodes[n];
    for (size_t o = 0; o < outs.size() && o < node.outputs.size(); ++o)
      if (node.outputs[o] >= 0 && outs[o].kind == Value::Kind::tensor) mag[static_cast<size_t>(node.outputs[o])] = tensor_max_abs(outs[o].tensor);
  };
  SY_RETURN_IF_ERROR(reference::Interpreter().run(graph, inputs, ro).status());
  return mag;
}

std::vector<std::string> range_refusals(const Graph& graph, const std::vector<double>& magnitudes, ElementType compute, double headroom,
                                        const std::string& inputs_name) {
  std::vector<std::string> out(graph.nodes.size());
  const double top = max_finite(compute);
  if (top <= 0) return out;
  const double limit = top / std::max(1.0, headroom);
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    const Node& node = graph.nodes[n];
    double worst = -1;
    int32_t at = -1;
    auto look = [&](int32_t v) {
      if (v < 0 || static_cast<size_t>(v) >= magnitudes.size()) return;
      if (magnitudes[static_cast<size_t>(v)] > worst) worst = magnitudes[static_cast<size_t>(v)], at = v;
    };
    for (int32_t v : node.inputs) look(v);
    for (int32_t v : node.outputs) look(v);
    if (at >= 0 && worst > limit)
      out[n] = "values reach " + figure(worst) + " at '" + graph.value_name(at) + "' on the " + inputs_name + "; " +
               std::string(element_type_name(compute)) + " holds " + figure(top, 6) + ", and the range check keeps values below " +
               figure(limit, 4) + " (headroom " + figure(headroom) + "x)";
  }
  return out;
}

}  // namespace switchyard
