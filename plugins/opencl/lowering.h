// OpenCL plugin: the support query and the lowering of a graph to a KernelSchedule.
#pragma once

#include <cstdint>
#include <vector>

#include "kernel_schedule.h"
#include "switchyard/hal/graph.h"
#include "switchyard/plugin_abi.h"
#include "switchyard/plugin_helpers.h"

namespace switchyard::opencl {

struct DeviceLimits {
  uint64_t max_allocation_bytes = 0;  // 0: unknown (no limit checked)
};

// One answer per node (same checks as lower(); no device work).
std::vector<plugin_helpers::NodeAnswer> query_support(const Graph& graph, const DeviceLimits& limits);

// Lowers the whole graph. Throws Error(unsupported) naming the first node it cannot run.
// Program binaries are left empty (the executable builds them).
KernelSchedule lower(const Graph& graph, const DeviceLimits& limits);

}  // namespace switchyard::opencl
