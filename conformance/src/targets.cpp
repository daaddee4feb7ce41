// Conformance targets: the reference interpreter, or a device loaded through its plugin.
#include "switchyard/conformance/targets.h"

#include "switchyard/runtime/partitioned_model.h"
#include "switchyard/hal/plugin_loader.h"
#include "switchyard/reference/interpreter.h"

namespace switchyard::conformance {

TargetFactory reference_target_factory() {
  return []() -> Result<Target> {
    return Target([](const Model& model, const std::vector<Value>& inputs) {
      return reference::Interpreter().run(model.graph, inputs);
    });
  };
}

TargetFactory device_target_factory(const std::string& device_id) {
  return [device_id]() -> Result<Target> {
    // Only the device's own plugin: every case process starts here, and initialising the other
    // plugins (a CPU bandwidth probe, OpenCL platforms) cost more than most cases.
    DiscoveryOptions discovery;
    discovery.only_plugins = {device_id.substr(0, device_id.find(':'))};
    auto registry = std::make_shared<DeviceRegistry>(DeviceRegistry::discover(discovery));
    SY_ASSIGN_OR_RETURN(const Device* device, registry->find(device_id));
    const ElementType compute = device->info().compute_element_type;
    return Target([registry, device](const Model& model, const std::vector<Value>& inputs) -> Result<std::vector<Value>> {
      // The corpus models are small: compile per case, without constant folding so the
      // device itself runs every node the case tests; predict through the runtime's one path.
      auto shared = std::shared_ptr<const Model>(&model, [](const Model*) {});
      SY_ASSIGN_OR_RETURN(auto loaded, PartitionedModel::load_on_device(shared, *device, /*fold_constants=*/false));
      return loaded->predict(inputs);
    }, compute);
  };
}

}  // namespace switchyard::conformance
