// Whole models on the device under test with the CPU beside it (models_partition.h).
#include "models_partition.h"

#include <algorithm>
#include <map>

#include "switchyard/conformance/check.h"
#include "switchyard/hal/plugin_loader.h"
#include "switchyard/runtime/discovery.h"
#include "switchyard/runtime/shape_inference.h"

namespace switchyard::conformance {

bool cpu_beside(const Target& target) {
  return device_first_policy(*target.registry, target.device_id).devices.size() > 1 || target.device->info().kind == DeviceKind::cpu;
}

namespace {

// The graph inputs' tensors by name: the range check's calibration inputs.
std::map<std::string, Tensor> inputs_by_name(const Graph& graph, const std::vector<Value>& inputs) {
  std::map<std::string, Tensor> named;
  for (size_t i = 0; i < inputs.size() && i < graph.inputs.size(); ++i)
    if (inputs[i].kind == Value::Kind::tensor) named[graph.value_name(graph.inputs[i])] = inputs[i].tensor;
  return named;
}

}  // namespace

Result<PartitionedLoad> load_partitioned(std::shared_ptr<const Model> model, const Target& target, const std::vector<Value>& inputs) {
  PartitionOptions options;
  options.policy = device_first_policy(*target.registry, target.device_id);
  options.input_shapes = input_shapes_of(model->graph, inputs, {});
  options.range_check.inputs = inputs_by_name(model->graph, inputs);
  auto loaded = PartitionedModel::load(model, *target.registry, options);
  if (!loaded.ok() && !cpu_beside(target))
    return loaded.status().with_context("no CPU device beside " + target.device_id + " in this process, so it must run every node");
  if (!loaded.ok()) return loaded.status();
  PartitionedLoad load;
  load.total_nodes = static_cast<int64_t>((*loaded)->graph().nodes.size());
  for (const auto& p : (*loaded)->plan().placements) load.device_nodes += p.device == target.device_id;
  load.placement = placement_summary(**loaded, target.device_id);
  load.model = std::move(loaded).value();
  return load;
}

std::string placement_summary(const PartitionedModel& model, const std::string& device_id) {
  std::map<std::string, int64_t> nodes_on;
  for (const auto& p : model.plan().placements) ++nodes_on[p.device];
  const int64_t total = static_cast<int64_t>(model.plan().placements.size());
  std::string text = std::to_string(nodes_on[device_id]) + " of " + std::to_string(total) + " nodes on " + device_id;
  for (const auto& [device, count] : nodes_on)
    if (device != device_id) text += ", " + std::to_string(count) + " on " + device;
  const size_t segments = model.plan().segments.size();
  return text + " (" + std::to_string(segments) + (segments == 1 ? " segment)" : " segments)");
}

std::string refusals_of(const PartitionedModel& model, const std::string& device_id) {
  auto answers = model.support().find(device_id);
  if (answers == model.support().end()) return "the plan holds no support answers from " + device_id;
  std::map<std::string, int> count_by_cause;
  for (size_t n = 0; n < answers->second.size(); ++n) {
    const NodeSupport& a = answers->second[n];
    if (a.supported()) continue;  // supported, yet placed elsewhere: the plan's reason says why
    const std::string op = n < model.graph().nodes.size() ? model.graph().nodes[n].op_type + ": " : "";
    ++count_by_cause[op + support_reason_name(a.reason) + (a.message.empty() ? "" : " (" + reason_key(a.message) + ")")];
  }
  std::vector<std::pair<std::string, int>> causes(count_by_cause.begin(), count_by_cause.end());
  std::stable_sort(causes.begin(), causes.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  const size_t nodes = answers->second.size();
  std::string text = std::to_string(nodes) + (nodes == 1 ? " node" : " nodes");
  for (size_t i = 0; i < causes.size(); ++i)
    text += (i ? "; " : ": ") + std::to_string(causes[i].second) + " x " + causes[i].first;
  return text;
}

}  // namespace switchyard::conformance
