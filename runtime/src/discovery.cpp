// Discovery options for a policy.
#include "switchyard/runtime/discovery.h"

#include <algorithm>

namespace switchyard {

namespace {
void add_plugin_of(const std::string& device_id, std::vector<std::string>& plugins) {
  std::string plugin = device_id.substr(0, device_id.find(':'));
  if (std::find(plugins.begin(), plugins.end(), plugin) == plugins.end()) plugins.push_back(plugin);
}
}  // namespace

DiscoveryOptions discovery_for(const Policy& policy) {
  DiscoveryOptions options;
  if (!policy.devices.empty()) {
    for (const auto& id : policy.devices) add_plugin_of(id, options.only_plugins);
    for (const auto& [node, id] : policy.pin_nodes) add_plugin_of(id, options.only_plugins);
    for (const auto& [op, id] : policy.pin_ops) add_plugin_of(id, options.only_plugins);
    return options;
  }
  switch (policy.units) {
    case ComputeUnits::cpu_only: options.only_kinds = {"cpu"}; break;
    case ComputeUnits::cpu_and_gpu: options.only_kinds = {"cpu", "gpu"}; break;
    case ComputeUnits::cpu_and_npu: options.only_kinds = {"cpu", "npu"}; break;
    case ComputeUnits::all: break;
  }
  return options;
}

Policy device_first_policy(const DeviceRegistry& registry, const std::string& device_id) {
  Policy policy;
  policy.devices = {device_id};
  policy.objective = Objective::accelerator;
  for (const auto& d : registry.devices())
    if (d->info().kind == DeviceKind::cpu && d->id() != device_id) policy.devices.push_back(d->id());
  return policy;
}

}  // namespace switchyard
