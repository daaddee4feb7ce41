// The smallest integrator: list the devices, then load a model (argument 1, optional) under the
// `all` policy and predict once with zero-filled inputs, printing each output's shape.
#include <cstdio>

#include "switchyard/hal/plugin_loader.h"
#include "switchyard/runtime/model_inputs.h"
#include "switchyard/runtime/model_loader.h"

using namespace switchyard;

int main(int argc, char** argv) {
  DeviceRegistry devices = DeviceRegistry::discover();
  for (const auto& d : devices.devices()) std::printf("device %s: %s\n", d->id().c_str(), d->info().name.c_str());
  for (const auto& f : devices.failures()) std::fprintf(stderr, "plugin %s not loaded: %s\n", f.name.c_str(), f.reason.c_str());
  if (argc < 2) return 0;

  PartitionOptions options;
  options.policy.units = ComputeUnits::all;
  CacheOptions no_cache;
  no_cache.enabled = false;
  const PlanCache cache(no_cache);
  auto model = load_model(argv[1], devices, options, cache);
  if (!model.ok()) {
    std::fprintf(stderr, "%s\n", model.status().to_string().c_str());
    return 1;
  }
  auto inputs = generate_inputs((*model)->graph());
  if (!inputs.ok()) {
    std::fprintf(stderr, "%s\n", inputs.status().to_string().c_str());
    return 1;
  }
  auto outputs = (*model)->predict(*inputs);
  if (!outputs.ok()) {
    std::fprintf(stderr, "%s\n", outputs.status().to_string().c_str());
    return 1;
  }
  for (size_t i = 0; i < outputs->size(); ++i) std::printf("output %zu: %s\n", i, shape_to_string((*outputs)[i].tensor.shape()).c_str());
  return 0;
}
