// Conformance targets: the reference interpreter, or a device loaded through its plugin.
#include "switchyard/conformance/targets.h"

#include "switchyard/hal/plugin_loader.h"
#include "switchyard/reference/interpreter.h"
#include "switchyard/runtime/partitioned_model.h"

namespace switchyard::conformance {

TargetFactory reference_target_factory() {
  return []() -> Result<Target> {
    Target target([](const Model& model, const std::vector<Value>& inputs) { return reference::Interpreter().run(model.graph, inputs); });
    target.device_id = "reference";
    return target;
  };
}

namespace {

// Why `device_id` is absent: the load failures of its plugin when it failed, else the registry's answer.
Status absent_device(const DeviceRegistry& registry, const std::string& device_id, const Status& not_found) {
  const std::string plugin = device_id.substr(0, device_id.find(':'));
  std::string reasons;
  for (const auto& failure : registry.failures())
    if (failure.name == plugin) reasons += "\n  " + failure.manifest.string() + ": " + failure.reason;
  if (reasons.empty()) return not_found;
  return Status(StatusCode::unavailable, "no device '" + device_id + "': plugin '" + plugin + "' failed to load:" + reasons);
}

}  // namespace

TargetFactory device_target_factory(const std::string& device_id, bool with_cpu) {
  return [device_id, with_cpu]() -> Result<Target> {
    // The device's own plugin, and the CPU's when asked; not the others (OpenCL platforms, the NPU
    // driver), whose start-up would cost every worker.
    DiscoveryOptions discovery;
    discovery.only_plugins = {device_id.substr(0, device_id.find(':'))};
    if (with_cpu && discovery.only_plugins[0] != "cpu") discovery.only_plugins.push_back("cpu");
    auto registry = std::make_shared<const DeviceRegistry>(DeviceRegistry::discover(discovery));
    auto found = registry->find(device_id);
    if (!found.ok()) return absent_device(*registry, device_id, found.status());
    const Device* device = *found;
    Target target([registry, device](const Model& model, const std::vector<Value>& inputs) -> Result<std::vector<Value>> {
      // Single-operator cases compile per case, without constant folding so the device itself
      // runs every node the case tests; predict through the runtime's one path.
      auto shared = std::shared_ptr<const Model>(&model, [](const Model*) {});
      SY_ASSIGN_OR_RETURN(auto loaded, PartitionedModel::load_on_device(shared, *device, /*fold_constants=*/false));
      return loaded->predict(inputs);
    }, device->info().compute_element_type);
    target.device_id = device_id;
    target.device = device;
    target.registry = registry;
    return target;
  };
}

}  // namespace switchyard::conformance
