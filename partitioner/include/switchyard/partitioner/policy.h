// Compute-unit policies: which devices a model may use, what to optimise, and the
// integrator's overrides (pins and bans). Usable from C++, the CLI (--units, --device,
// --policy FILE) and YAML policy files:
//
//   units: cpu-and-npu          # all | cpu-only | cpu-and-gpu | cpu-and-npu
//   devices: [npu:0, cpu:0]     # or an explicit ordered list (overrides units)
//   objective: auto             # auto (default) | latency | power | accelerator
//   strict: false               # fail instead of falling back outside the preferred devices
//   pin:                        # node name or op type -> device id
//     nodes: {conv_17: cpu:0}
//     ops: {Softmax: cpu:0}
//   ban:                        # node name or op type -> devices it must not use
//     nodes: {resize_3: [npu:0]}
//     ops: {Resize: [gpu:0]}
#pragma once

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "switchyard/hal/status.h"

namespace switchyard {

enum class ComputeUnits { all, cpu_only, cpu_and_gpu, cpu_and_npu };
// latency: the cost model picks the fastest device for each node (transfers included).
// power: the same, weighing energy (time x active power) instead of time.
// accelerator: every node an accelerator in the policy supports runs there; the CPU runs the
//   rest (ONNX Runtime's execution-provider priority, OpenVINO's HETERO:GPU,CPU); the cost model
//   only chooses between accelerators.
// automatic: accelerator when the units name one accelerator class (cpu-and-gpu, cpu-and-npu),
//   latency otherwise (all, cpu-only, an explicit device list).
enum class Objective { automatic, latency, power, accelerator };

const char* objective_name(Objective o);
Result<Objective> parse_objective(const std::string& s);

const char* compute_units_name(ComputeUnits u);
Result<ComputeUnits> parse_compute_units(const std::string& s);

struct Policy {
  ComputeUnits units = ComputeUnits::all;
  std::vector<std::string> devices;  // explicit ordered device list; overrides units when non-empty
  Objective objective = Objective::automatic;
  bool strict = false;
  std::map<std::string, std::string> pin_nodes;  // node name -> device id
  std::map<std::string, std::string> pin_ops;    // op type -> device id
  std::map<std::string, std::set<std::string>> ban_nodes;
  std::map<std::string, std::set<std::string>> ban_ops;

  static Result<Policy> from_yaml_file(const std::filesystem::path& file);
  static Result<Policy> from_yaml_string(const std::string& text, const std::string& where = "policy");
  // The objective `automatic` stands for under these units (never automatic itself).
  Objective effective_objective() const;
  // Canonical text: equal policies give equal strings (used in cache keys and plan output).
  std::string canonical() const;
};

}  // namespace switchyard
