// Conformance targets.
#include "targets.h"

#include "switchyard/reference.h"

namespace switchyard::cli {

conformance::TargetFactory reference_target_factory() {
  return []() -> Result<conformance::Target> {
    return conformance::Target([](const Model& model, const std::vector<Value>& inputs) {
      return reference::Interpreter().run(model.graph, inputs);
    });
  };
}

conformance::TargetFactory device_target_factory(const std::string& device_id) {
  return [device_id]() -> Result<conformance::Target> {
    return Status(StatusCode::unavailable, "device targets are not available yet: " + device_id);
  };
}

}  // namespace switchyard::cli
