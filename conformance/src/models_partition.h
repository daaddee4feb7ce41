// Loading a whole model for the models and stress suites the way `switchyard run --device all`
// tries one device: the device under test first, for every node it claims, and the CPU for the
// rest (the partitioner's accelerator objective). The result says how the model was split.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "switchyard/conformance/case.h"
#include "switchyard/partitioner/policy.h"
#include "switchyard/runtime/discovery.h"
#include "switchyard/runtime/partitioned_model.h"

namespace switchyard::conformance {

// Whether the target's registry holds a CPU device to run what the device under test does not.
bool cpu_beside(const Target& target);

struct PartitionedLoad {
  std::shared_ptr<PartitionedModel> model;
  int64_t device_nodes = 0;  // nodes placed on the device under test
  int64_t total_nodes = 0;   // nodes of the prepared graph (after constant folding)
  std::string placement;     // "41 of 53 nodes on opencl:0, 12 on cpu:0 (3 segments)"
};

// Plans and compiles `model` on the target's registry under device_first_policy. `inputs` fix
// the shapes of symbolic input dims and are the range check's calibration inputs (narrow-float
// devices refuse the nodes whose values would overflow them on these inputs).
// REQUIRES: target.device and target.registry are set.
Result<PartitionedLoad> load_partitioned(std::shared_ptr<const Model> model, const Target& target, const std::vector<Value>& inputs);

// "41 of 53 nodes on opencl:0, 12 on cpu:0 (3 segments)".
std::string placement_summary(const PartitionedModel& model, const std::string& device_id);

// Why the device runs none of the nodes: its support answers grouped by message, most frequent
// first ("53 nodes: 40 x op: Conv is not supported; 13 x ..."), in full.
std::string refusals_of(const PartitionedModel& model, const std::string& device_id);

}  // namespace switchyard::conformance
