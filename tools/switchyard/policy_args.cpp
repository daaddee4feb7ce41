// Policy options on the command line.
#include "policy_args.h"

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

}  // namespace switchyard::cli
