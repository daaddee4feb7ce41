// Policy parsing and canonical form.
#include "switchyard/partitioner/policy.h"

#include <yaml-cpp/yaml.h>

#include <sstream>

namespace switchyard {

const char* compute_units_name(ComputeUnits u) {
  switch (u) {
    case ComputeUnits::all: return "all";
    case ComputeUnits::cpu_only: return "cpu-only";
    case ComputeUnits::cpu_and_gpu: return "cpu-and-gpu";
    case ComputeUnits::cpu_and_npu: return "cpu-and-npu";
  }
  return "all";
}

Result<ComputeUnits> parse_compute_units(const std::string& s) {
  if (s == "all") return ComputeUnits::all;
  if (s == "cpu-only" || s == "cpu_only") return ComputeUnits::cpu_only;
  if (s == "cpu-and-gpu" || s == "cpu_and_gpu") return ComputeUnits::cpu_and_gpu;
  if (s == "cpu-and-npu" || s == "cpu_and_npu") return ComputeUnits::cpu_and_npu;
  return Status(StatusCode::invalid_argument, "unknown compute units '" + s + "' (use all, cpu-only, cpu-and-gpu or cpu-and-npu)");
}

const char* objective_name(Objective o) {
  switch (o) {
    case Objective::automatic: return "auto";
    case Objective::latency: return "latency";
    case Objective::power: return "power";
    case Objective::accelerator: return "accelerator";
  }
  return "auto";
}

Result<Objective> parse_objective(const std::string& s) {
  if (s == "auto" || s == "automatic") return Objective::automatic;
  if (s == "latency") return Objective::latency;
  if (s == "power") return Objective::power;
  if (s == "accelerator") return Objective::accelerator;
  return Status(StatusCode::invalid_argument, "objective must be auto, latency, power or accelerator, got '" + s + "'");
}

Objective Policy::effective_objective() const {
  if (objective != Objective::automatic) return objective;
  if (devices.empty() && (units == ComputeUnits::cpu_and_gpu || units == ComputeUnits::cpu_and_npu)) return Objective::accelerator;
  return Objective::latency;
}

namespace {
Status read_map(const YAML::Node& n, const std::string& where, std::map<std::string, std::string>& out) {
  if (!n) return {};
  if (!n.IsMap()) return Status(StatusCode::invalid_argument, where + " must be a mapping");
  for (const auto& kv : n) out[kv.first.as<std::string>()] = kv.second.as<std::string>();
  return {};
}

Status read_ban(const YAML::Node& n, const std::string& where, std::map<std::string, std::set<std::string>>& out) {
  if (!n) return {};
  if (!n.IsMap()) return Status(StatusCode::invalid_argument, where + " must be a mapping");
  for (const auto& kv : n) {
    auto& set = out[kv.first.as<std::string>()];
    if (kv.second.IsSequence()) {
      for (const auto& d : kv.second) set.insert(d.as<std::string>());
    } else {
      set.insert(kv.second.as<std::string>());
    }
  }
  return {};
}
}  // namespace

Result<Policy> Policy::from_yaml_string(const std::string& text, const std::string& where) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return Status(StatusCode::invalid_argument, where + ": malformed YAML at line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  Policy p;
  if (!root || root.IsNull()) return p;
  if (!root.IsMap()) return Status(StatusCode::invalid_argument, where + ": expected a mapping");
  static const std::set<std::string> known = {"units", "devices", "objective", "strict", "pin", "ban"};
  try {
    for (const auto& kv : root) {
      std::string key = kv.first.as<std::string>();
      if (!known.count(key))
        return Status(StatusCode::invalid_argument, where + ": unknown key '" + key + "' (known: units, devices, objective, strict, pin, ban)");
    }
    if (root["units"]) {
      auto u = parse_compute_units(root["units"].as<std::string>());
      if (!u.ok()) return u.status().with_context(where);
      p.units = *u;
    }
    if (root["devices"]) {
      if (!root["devices"].IsSequence()) return Status(StatusCode::invalid_argument, where + ": devices must be a list");
      for (const auto& d : root["devices"]) p.devices.push_back(d.as<std::string>());
    }
    if (root["objective"]) {
      auto o = parse_objective(root["objective"].as<std::string>());
      if (!o.ok()) return o.status().with_context(where);
      p.objective = *o;
    }
    if (root["strict"]) p.strict = root["strict"].as<bool>();
    if (YAML::Node pin = root["pin"]) {
      SY_RETURN_IF_ERROR(read_map(pin["nodes"], where + ": pin.nodes", p.pin_nodes));
      SY_RETURN_IF_ERROR(read_map(pin["ops"], where + ": pin.ops", p.pin_ops));
    }
    if (YAML::Node ban = root["ban"]) {
      SY_RETURN_IF_ERROR(read_ban(ban["nodes"], where + ": ban.nodes", p.ban_nodes));
      SY_RETURN_IF_ERROR(read_ban(ban["ops"], where + ": ban.ops", p.ban_ops));
    }
  } catch (const YAML::Exception& e) {
    return Status(StatusCode::invalid_argument, where + ": " + e.msg);
  }
  return p;
}

Result<Policy> Policy::from_yaml_file(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) return Status(StatusCode::not_found, "policy file '" + file.string() + "' not found");
  try {
    YAML::Node n = YAML::LoadFile(file.string());
    std::stringstream ss;
    ss << n;
    return from_yaml_string(ss.str(), "policy '" + file.string() + "'");
  } catch (const YAML::Exception& e) {
    return Status(StatusCode::invalid_argument, "policy '" + file.string() + "': malformed YAML at line " +
                                                    std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
}

std::string Policy::canonical() const {
  std::ostringstream s;
  s << "units=" << compute_units_name(units) << ";devices=";
  for (const auto& d : devices) s << d << ",";
  s << ";objective=" << objective_name(effective_objective()) << ";strict=" << strict;
  for (const auto& [k, v] : pin_nodes) s << ";pin.node." << k << "=" << v;
  for (const auto& [k, v] : pin_ops) s << ";pin.op." << k << "=" << v;
  for (const auto& [k, v] : ban_nodes) {
    s << ";ban.node." << k << "=";
    for (const auto& d : v) s << d << ",";
  }
  for (const auto& [k, v] : ban_ops) {
    s << ";ban.op." << k << "=";
    for (const auto& d : v) s << d << ",";
  }
  return s.str();
}

}  // namespace switchyard
