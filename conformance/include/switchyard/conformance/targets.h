// Conformance targets: the reference interpreter or a device through its plugin.
#pragma once

#include <string>

#include "switchyard/conformance/case.h"

namespace switchyard::conformance {

TargetFactory reference_target_factory();
TargetFactory device_target_factory(const std::string& device_id);

}  // namespace switchyard::conformance
