// Policy options on the command line.
#include "policy_args.h"

#include <cmath>

#include "switchyard/runtime/tensor_io.h"

namespace switchyard::cli {

Result<Policy> policy_from_args(const Args& args) {
  Policy p;
  if (auto file = args.get("--policy")) {
    SY_ASSIGN_OR_RETURN(p, Policy::from_yaml_file(*file));
  }
  if (auto u = args.get("--units")) {
    SY_ASSIGN_OR_RETURN(p.units, parse_compute_units(*u));
  }
  auto devices = args.all("--device");
  if (!devices.empty()) {
    if (args.has("--units")) return Status(StatusCode::invalid_argument, "give --units or --device, not both");
    p.devices = devices;
  }
  if (auto o = args.get("--objective")) {
    auto parsed = parse_objective(*o);
    if (!parsed.ok()) return Status(StatusCode::invalid_argument, "--" + parsed.status().message());
    p.objective = *parsed;
  }
  if (args.has("--strict")) p.strict = true;
  return p;
}

Status range_check_from_args(const Args& args, RangeCheckOptions* out) {
  out->enabled = !args.has("--no-range-check");
  if (auto h = args.get("--range-headroom")) {
    char* end = nullptr;
    const double v = std::strtod(h->c_str(), &end);
    if (h->empty() || *end != '\0' || !std::isfinite(v) || v < 1)
      return Status(StatusCode::invalid_argument, "--range-headroom expects a number >= 1, got '" + *h + "'");
    out->headroom = v;
  }
  for (const auto& spec : args.all("--calibration-input")) {
    auto eq = spec.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
      return Status(StatusCode::invalid_argument, "--calibration-input expects NAME=FILE, got '" + spec + "'");
    auto t = load_tensor_file(spec.substr(eq + 1));
    if (!t.ok()) return t.status().with_context("--calibration-input " + spec.substr(0, eq));
    out->inputs[spec.substr(0, eq)] = std::move(t).value();
  }
  return {};
}

}  // namespace switchyard::cli
