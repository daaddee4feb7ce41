// The partitioner: turns per-device support answers, a policy and a cost model into a
// plan. It knows no backend by name; devices are ids with figures and a kind.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "switchyard/partitioner/cost_model.h"
#include "switchyard/hal/graph.h"
#include "switchyard/partitioner/plan.h"
#include "switchyard/partitioner/policy.h"
#include "switchyard/hal/status.h"
#include "switchyard/hal/support.h"

namespace switchyard {

// Per device, one answer per graph node (the devices' answers to the support query).
using SupportTable = std::map<std::string, std::vector<NodeSupport>>;

struct PartitionInput {
  const Graph* graph = nullptr;
  std::vector<DeviceFigures> devices;  // every device present
  SupportTable support;                // for every device in `devices`
  Policy policy;
  const CostModel* cost_model = nullptr;  // default RooflineCostModel when null
};

class Partitioner {
 public:
  // Assigns every node to exactly one device, forms acyclic segments, and explains each
  // placement. Deterministic. Fails (invalid_argument / unsupported) with a full report when
  // the policy cannot be met: no allowed device supports a node, a pin names an unsupported
  // device, or `strict` and a node would fall outside the preferred devices.
  static Result<Plan> partition(const PartitionInput& input);

  // The devices a policy allows, in preference order, and which of them are "preferred"
  // (the non-CPU units of cpu-and-gpu / cpu-and-npu, the first of an explicit list).
  static Result<std::vector<std::string>> allowed_devices(const Policy& policy, const std::vector<DeviceFigures>& devices,
                                                          std::vector<std::string>* preferred = nullptr);
};

}  // namespace switchyard
