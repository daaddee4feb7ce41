// Which plugins a policy can use, so discovery initialises only those: `--device cpu:0` never
// starts an OpenCL driver, and `--units cpu-only` skips plugins whose manifest declares only
// gpu or npu devices (manifest `device_kinds`).
#pragma once

#include "switchyard/hal/plugin_loader.h"
#include "switchyard/partitioner/policy.h"

namespace switchyard {

// An explicit device list loads the plugins it names (and those of pinned devices); compute
// units load the plugins that may have a device of an allowed kind; `all` loads every plugin.
DiscoveryOptions discovery_for(const Policy& policy);

// `device_id` first, then every other CPU device of the registry, with the accelerator objective:
// the device runs every node it supports, the CPU the rest. What `switchyard run --device all`
// gives each device, and how the qualification kit loads whole models.
Policy device_first_policy(const DeviceRegistry& registry, const std::string& device_id);

}  // namespace switchyard
