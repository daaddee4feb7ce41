// Holding a target's outputs against expected ones: value comparison and the one check every
// suite runs (a model on the target, its outputs against expected values, under the tolerance of
// the target's compute type).
#include "switchyard/conformance/check.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <regex>
#include <sstream>

#include "switchyard/conformance/tolerance.h"
#include "switchyard/reference/util.h"

namespace switchyard::conformance {

namespace {

std::string fmt(double v) {
  std::ostringstream s;
  s.precision(7);
  s << v;
  return s.str();
}

std::string compare_strings(const Tensor& e, const Tensor& g) {
  for (size_t i = 0; i < e.strings().size(); ++i)
    if (e.strings()[i] != g.strings()[i])
      return "[" + std::to_string(i) + "]: expected \"" + e.strings()[i] + "\", got \"" + g.strings()[i] + "\"";
  return {};
}

// NaN must meet NaN, infinities must match exactly, the rest within atol + rtol * |expected|:
// the count of values that differ and the worst one.
std::string compare_floats(const Tensor& e, const Tensor& g, double rtol, double atol) {
  int64_t worst = -1, count = 0;
  double worst_excess = 0;
  for (int64_t i = 0; i < e.numel(); ++i) {
    double ev = reference::get_double(e, i), gv = reference::get_double(g, i);
    bool ok;
    if (std::isnan(ev) || std::isnan(gv)) ok = std::isnan(ev) && std::isnan(gv);
    else if (std::isinf(ev) || std::isinf(gv)) ok = ev == gv;
    else ok = std::fabs(gv - ev) <= atol + rtol * std::fabs(ev);
    if (ok) continue;
    ++count;
    double excess = std::isfinite(ev) && std::isfinite(gv) ? std::fabs(gv - ev) - (atol + rtol * std::fabs(ev)) : INFINITY;
    if (worst < 0 || excess > worst_excess) worst = i, worst_excess = excess;
  }
  if (worst < 0) return {};
  double ev = reference::get_double(e, worst), gv = reference::get_double(g, worst);
  return std::to_string(count) + " of " + std::to_string(e.numel()) + " values differ; worst at [" + std::to_string(worst) +
         "]: expected " + fmt(ev) + ", got " + fmt(gv) + ", |diff| " + fmt(std::fabs(gv - ev)) + " > tol " + fmt(atol + rtol * std::fabs(ev));
}

std::string compare_complex(const Tensor& e, const Tensor& g, double rtol, double atol) {
  const bool single = e.type() == ElementType::complex64;
  for (size_t i = 0; i < static_cast<size_t>(e.numel()) * 2; ++i) {
    double ev = single ? e.data<float>()[i] : e.data<double>()[i];
    double gv = single ? g.data<float>()[i] : g.data<double>()[i];
    if (!(std::fabs(gv - ev) <= atol + rtol * std::fabs(ev)) && !(std::isnan(ev) && std::isnan(gv)))
      return "[" + std::to_string(i / 2) + "]: expected " + fmt(ev) + ", got " + fmt(gv);
  }
  return {};
}

// Exact, unless the tolerance allows whole steps: a narrow-float device's int8/uint8 results may
// be one quantisation step off (the quantiser's input was rounded first; tolerance.h).
std::string compare_integers(const Tensor& e, const Tensor& g, double atol) {
  for (int64_t i = 0; i < e.numel(); ++i) {
    int64_t ev = reference::get_int64(e, i), gv = reference::get_int64(g, i);
    const uint64_t steps = ev > gv ? static_cast<uint64_t>(ev) - static_cast<uint64_t>(gv) : static_cast<uint64_t>(gv) - static_cast<uint64_t>(ev);
    if (ev != gv && !(atol >= 1 && static_cast<double>(steps) <= atol))
      return "[" + std::to_string(i) + "]: expected " + std::to_string(ev) + ", got " + std::to_string(gv);
  }
  return {};
}

// float8 / float4 and other exotic types: bit-exact.
std::string compare_bytes(const Tensor& e, const Tensor& g) {
  const auto* ep = static_cast<const uint8_t*>(e.raw());
  const auto* gp = static_cast<const uint8_t*>(g.raw());
  for (size_t i = 0; i < e.byte_size(); ++i)
    if (ep[i] != gp[i]) return "byte " + std::to_string(i) + ": expected 0x" + fmt(ep[i]) + ", got " + fmt(gp[i]);
  return {};
}

std::string compare_tensors(const Tensor& e, const Tensor& g, double rtol, double atol) {
  if (e.type() != g.type())
    return "element type: expected " + std::string(element_type_name(e.type())) + ", got " + std::string(element_type_name(g.type()));
  if (e.shape() != g.shape()) return "shape: expected " + shape_to_string(e.shape()) + ", got " + shape_to_string(g.shape());
  const ElementType t = e.type();
  if (t == ElementType::string) return compare_strings(e, g);
  if (t == ElementType::float32 || t == ElementType::float64 || t == ElementType::float16 || t == ElementType::bfloat16)
    return compare_floats(e, g, rtol, atol);
  if (t == ElementType::complex64 || t == ElementType::complex128) return compare_complex(e, g, rtol, atol);
  if (is_signed_integer(t) || is_unsigned_integer(t) || t == ElementType::boolean) return compare_integers(e, g, atol);
  return compare_bytes(e, g);
}

}  // namespace

std::string compare_values(const Value& expected, const Value& got, double rtol, double atol) {
  if (expected.kind != got.kind) {
    auto k = [](const Value& v) {
      return v.kind == Value::Kind::none ? "empty optional" : v.kind == Value::Kind::tensor ? "tensor" : "sequence";
    };
    return std::string("value kind: expected ") + k(expected) + ", got " + k(got);
  }
  if (expected.kind == Value::Kind::tensor) return compare_tensors(expected.tensor, got.tensor, rtol, atol);
  if (expected.kind == Value::Kind::sequence) {
    if (expected.sequence.size() != got.sequence.size())
      return "sequence length: expected " + std::to_string(expected.sequence.size()) + ", got " + std::to_string(got.sequence.size());
    for (size_t i = 0; i < expected.sequence.size(); ++i) {
      std::string d = compare_tensors(expected.sequence[i], got.sequence[i], rtol, atol);
      if (!d.empty()) return "sequence item " + std::to_string(i) + ": " + d;
    }
  }
  return {};
}


std::string reason_key(const std::string& message) {
  static const std::regex node_prefix("^[A-Za-z0-9_.:]+( '[^']*')?: ");
  std::string m = std::regex_replace(message, node_prefix, "", std::regex_constants::format_first_only);
  for (auto& c : m)
    if (c == '\n') c = ' ';
  while (m.find("  ") != std::string::npos) m.replace(m.find("  "), 2, " ");
  return m;
}

namespace {

bool narrow_float(const Target& target) { return target.compute_type != ElementType::float32 && is_floating(target.compute_type); }

// Float tolerances per output: the fixed ones for float32 targets, the derived ones (at least the
// fixed ones) for narrow-float targets.
Result<std::vector<Tolerance>> output_tolerances(const Model& model, const std::vector<Value>& inputs, const Target& target,
                                                 double rtol, double atol) {
  std::vector<Tolerance> tolerances(model.graph.outputs.size(), Tolerance{.atol = atol, .rtol = rtol});
  if (!narrow_float(target)) return tolerances;
  SY_ASSIGN_OR_RETURN(auto derived, derive_case_tolerances(model.graph, inputs, target.compute_type));
  for (size_t i = 0; i < derived.size() && i < tolerances.size(); ++i)
    tolerances[i] = {.atol = std::max(atol, derived[i].atol), .rtol = std::max(rtol, derived[i].rtol)};
  return tolerances;
}

// A derived tolerance as large as the result itself would pass an all-zero output: the compute
// type cannot resolve this output, so it proves nothing either way. Empty when it can.
std::string unresolved_output(const Value& expected, const Tolerance& tolerance) {
  if (expected.kind != Value::Kind::tensor || !is_floating(expected.tensor.type())) return {};
  const double biggest = max_abs(&expected.tensor);
  if (biggest <= 0 || tolerance.atol < biggest) return {};
  std::ostringstream d;
  d << "derived atol " << tolerance.atol << " >= largest |expected| " << biggest;
  return d.str();
}

}  // namespace

Check check_outputs(const Model& model, const std::vector<Value>& inputs, const std::vector<Value>& expected, const Target& target,
                    double rtol, double atol, const std::string& where) {
  const std::string at = where.empty() ? "" : where + " ";
  auto outputs = target(model, inputs);
  if (!outputs.ok()) {
    if (outputs.status().code() == StatusCode::unsupported) return {Outcome::skipped, reason_key(outputs.status().message()), ""};
    return {Outcome::failed, "run failed", at + outputs.status().to_string()};
  }
  if (outputs->size() != expected.size())
    return {Outcome::failed, "output count", at + "got " + std::to_string(outputs->size()) + " outputs, expected " + std::to_string(expected.size())};
  auto tolerances = output_tolerances(model, inputs, target, rtol, atol);
  if (!tolerances.ok())
    return {Outcome::failed, "tolerance", at + "cannot derive the " + std::string(element_type_name(target.compute_type)) +
                                              " tolerance: " + tolerances.status().to_string()};
  std::string unresolved;
  for (size_t i = 0; i < expected.size(); ++i) {
    const std::string output = "output " + std::to_string(i) + " '" + model.graph.value_name(model.graph.outputs[i]) + "'";
    std::string diff = compare_values(expected[i], (*outputs)[i], (*tolerances)[i].rtol, (*tolerances)[i].atol);
    if (!diff.empty()) return {Outcome::failed, "mismatch", at + output + ": " + diff};
    if (unresolved.empty() && narrow_float(target)) {
      std::string u = unresolved_output(expected[i], (*tolerances)[i]);
      if (!u.empty()) unresolved = at + output + ": " + u;
    }
  }
  if (!unresolved.empty())
    return {Outcome::skipped, std::string(element_type_name(target.compute_type)) + " cannot resolve the result (tolerance >= result)", unresolved};
  return {};
}

}  // namespace switchyard::conformance
