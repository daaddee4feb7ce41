// Conformance targets: the reference interpreter or a device through its plugin.
#pragma once

#include <string>

#include "switchyard/conformance/case.h"

namespace switchyard::conformance {

TargetFactory reference_target_factory();
// `with_cpu`: the CPU's plugin is loaded beside the device's, for the suites that run whole models
// split with it (models, stress); the others need only the device's own plugin.
TargetFactory device_target_factory(const std::string& device_id, bool with_cpu = true);

}  // namespace switchyard::conformance
