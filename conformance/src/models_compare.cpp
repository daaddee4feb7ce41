// A whole model's outputs against expected ones under the deep-value rule (models_compare.h).
#include "models_compare.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "switchyard/reference/util.h"

namespace switchyard::conformance {

namespace {

std::string fmt(double v) {
  std::ostringstream s;
  s.precision(3);
  s << v;
  return s.str();
}

bool is_float_tensor(const Value& v) { return v.kind == Value::Kind::tensor && is_floating(v.tensor.type()); }

// For a passing float output: the element closest to its limit, and how close. Empty for others.
std::string closest_to_limit(const Tensor& expected, const Tensor& got, const Tolerance& tol) {
  int64_t at = -1;
  double worst_ratio = -1, worst_diff = 0, max_diff = 0;
  for (int64_t i = 0; i < expected.numel(); ++i) {
    const double e = reference::get_double(expected, i), g = reference::get_double(got, i);
    if (!std::isfinite(e) || !std::isfinite(g)) continue;  // matched exactly, or the comparison failed already
    const double diff = std::fabs(g - e), allowed = tol.atol + tol.rtol * std::fabs(e);
    max_diff = std::max(max_diff, diff);
    const double ratio = allowed > 0 ? diff / allowed : (diff > 0 ? INFINITY : 0);
    if (ratio > worst_ratio) at = i, worst_ratio = ratio, worst_diff = diff;
  }
  if (at < 0) return "no finite values";
  return "max |diff| " + fmt(max_diff) + "; nearest its limit at [" + std::to_string(at) + "]: |diff| " + fmt(worst_diff) + " of " +
         fmt(tol.atol + tol.rtol * std::fabs(reference::get_double(expected, at))) + " allowed";
}

bool narrow_float(ElementType compute) { return compute != ElementType::float32 && is_floating(compute); }

}  // namespace

Tolerance model_output_tolerance(const Graph& graph, const std::vector<int64_t>& depth, size_t index, const Value& expected,
                                 ElementType compute, double rtol, double atol) {
  if (!is_float_tensor(expected)) return {.atol = atol, .rtol = rtol};
  const int64_t n = depth[static_cast<size_t>(graph.outputs[index])];
  const Tolerance deep = derive_deep_tolerance(compute, n, max_abs(&expected.tensor));
  return {.atol = std::max(atol, deep.atol), .rtol = std::max(rtol, deep.rtol)};
}

Check compare_model_outputs(const Graph& graph, const std::vector<Value>& expected, const std::vector<Value>& got, ElementType compute,
                            double rtol, double atol, const std::string& where) {
  const std::string at = where.empty() ? "" : where + " ";
  if (got.size() != expected.size())
    return {Outcome::failed, "output count", at + "got " + std::to_string(got.size()) + " outputs, expected " + std::to_string(expected.size())};
  const std::vector<int64_t> depth = graph_depth(graph);
  std::string passed, unresolved;
  for (size_t i = 0; i < expected.size(); ++i) {
    const int64_t n = depth[static_cast<size_t>(graph.outputs[i])];
    const std::string output = "output " + std::to_string(i) + " '" + graph.value_name(graph.outputs[i]) + "' (" + std::to_string(n) + " deep)";
    const Tolerance tol = model_output_tolerance(graph, depth, i, expected[i], compute, rtol, atol);
    const std::string diff = compare_values(expected[i], got[i], tol.rtol, tol.atol);
    if (!diff.empty()) return {Outcome::failed, "mismatch", at + output + ": " + diff + " (rtol " + fmt(tol.rtol) + ", atol " + fmt(tol.atol) + ")"};
    const bool floating = is_float_tensor(expected[i]);
    // A deep tolerance as large as the result would pass an all-zero output: it proves nothing.
    if (floating && narrow_float(compute) && unresolved.empty() && tol.atol >= max_abs(&expected[i].tensor) && max_abs(&expected[i].tensor) > 0)
      unresolved = at + output + ": derived atol " + fmt(tol.atol) + " >= largest |expected| " + fmt(max_abs(&expected[i].tensor));
    passed += (passed.empty() ? "" : "; ") + output + ": " + (floating ? closest_to_limit(expected[i].tensor, got[i].tensor, tol) : "exact");
  }
  if (!unresolved.empty())
    return {Outcome::skipped, std::string(element_type_name(compute)) + " cannot resolve the result (tolerance >= result)", unresolved};
  return {Outcome::passed, "", at + passed};
}

}  // namespace switchyard::conformance
