// PartitionedModel: prepare the graph, plan it, compile or restore one executable per segment.
// Predictions run in prediction.cpp.
#include "switchyard/runtime/partitioned_model.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>

#include "switchyard/runtime/shape_inference.h"

namespace switchyard {

namespace {
double ms_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}
}  // namespace

DeviceFigures figures_of(const Device& d) {
  DeviceFigures f;
  f.id = d.id();
  f.kind = device_kind_name(d.info().kind);
  f.peak_gflops = d.info().peak_gflops_f32;
  f.memory_bandwidth_gbps = d.info().memory_bandwidth_gbps;
  f.host_link_gbps = d.info().host_link_gbps;
  f.launch_overhead_us = d.info().launch_overhead_us;
  f.active_power_watts = d.info().active_power_watts;
  // Only small memories shape the plan (NPUs); a CPU's or GPU's gigabytes never split a segment.
  if (d.info().memory_bytes > 0 && d.info().memory_bytes < (uint64_t{1} << 30)) f.memory_bytes = static_cast<double>(d.info().memory_bytes);
  if (d.info().compute_element_type == ElementType::float16 || d.info().compute_element_type == ElementType::bfloat16) f.float_bytes = 2;
  return f;
}

Graph extract_subgraph(const Graph& g, const std::vector<int32_t>& nodes, const std::vector<int32_t>& inputs,
                       const std::vector<int32_t>& outputs) {
  Graph sub;
  sub.name = g.name;
  sub.opsets = g.opsets;
  std::map<int32_t, int32_t> remap;
  auto map_value = [&](int32_t v) -> int32_t {
    if (v < 0) return -1;
    auto it = remap.find(v);
    if (it != remap.end()) return it->second;
    int32_t id = static_cast<int32_t>(sub.values.size());
    sub.values.push_back(g.values[static_cast<size_t>(v)]);
    remap[v] = id;
    auto init = g.initializers.find(v);
    if (init != g.initializers.end()) sub.initializers[id] = init->second;
    return id;
  };
  for (int32_t v : inputs) sub.inputs.push_back(map_value(v));
  for (int32_t n : nodes) {
    Node copy = g.nodes[static_cast<size_t>(n)];
    for (auto& v : copy.inputs) v = map_value(v);
    for (auto& v : copy.outputs) v = map_value(v);
    // Values nested graphs read by name from this scope must exist in the subgraph too.
    for (const auto& a : copy.attributes) {
      std::vector<const Graph*> subs;
      if (a.g) subs.push_back(a.g.get());
      for (const auto& sg : a.graphs) subs.push_back(sg.get());
      for (const Graph* s : subs)
        for (int32_t sv : s->outer_scope_values()) {
          int32_t v = g.find_value(s->value_name(sv));
          if (v >= 0) map_value(v);
        }
    }
    sub.nodes.push_back(std::move(copy));
  }
  for (int32_t v : outputs) sub.outputs.push_back(map_value(v));
  return sub;
}

namespace {
// Refuses, before any device is asked, a graph whose static shapes need a tensor larger than the
// host would ever allocate (Tensor::allocate's limit): such a plan cannot run, and asking devices
// about it can take minutes.
Status check_value_sizes(const Graph& g) {
  for (const auto& v : g.values) {
    if (v.type.kind != ValueType::Kind::tensor) continue;
    auto shape = v.type.tensor.static_shape();
    if (!shape) continue;
    auto numel = shape_numel(*shape);
    auto bytes = numel ? storage_bytes(v.type.tensor.elem, *numel) : std::nullopt;
    if (bytes && *bytes <= max_tensor_bytes()) continue;
    return Status(StatusCode::out_of_memory, "value '" + v.name + "' (" + v.type.tensor.to_string() + ") would take " +
                                                 (bytes ? std::to_string(*bytes >> 20) + " MiB" : std::string("more bytes than a size_t holds")) +
                                                 ", more than the " + std::to_string(max_tensor_bytes() >> 20) +
                                                 " MiB a tensor may take here (half the machine's memory): refused before planning");
  }
  return {};
}
}  // namespace

Status PartitionedModel::prepare(const DeviceRegistry& devices, const PartitionOptions& options) {
  auto t0 = std::chrono::steady_clock::now();
  graph_ = model_->graph;
  SY_RETURN_IF_ERROR(specialize_inputs(graph_, options.input_shapes));
  if (!options.input_shapes.empty()) SY_RETURN_IF_ERROR(infer_shapes(graph_).status());
  if (options.fold_constants) {
    // Folded constants (weights, shapes) let ONNX infer shapes it could not before, and newly
    // static shapes let Shape/Size nodes fold: repeat until neither makes progress.
    for (int round = 0; round < 8; ++round) {
      SY_ASSIGN_OR_RETURN(int folded, fold_constants(graph_));
      if (folded == 0) break;
      SY_ASSIGN_OR_RETURN(int improved, infer_shapes(graph_));
      if (improved == 0) break;
    }
  }
  SY_RETURN_IF_ERROR(check_value_sizes(graph_));
  times_.prepare_ms = ms_since(t0);

  // Support query: every device answers for every node (once per model).
  auto t1 = std::chrono::steady_clock::now();
  GraphView view(graph_);
  PartitionInput in;
  in.graph = &graph_;
  in.policy = options.policy;
  in.cost_model = options.cost_model;
  for (const auto& d : devices.devices()) {
    in.devices.push_back(figures_of(*d));
    SY_ASSIGN_OR_RETURN(support_[d->id()], d->query_support(view));
  }
  times_.support_ms = ms_since(t1);
  SY_RETURN_IF_ERROR(check_ranges(devices, options, in.devices));

  auto t2 = std::chrono::steady_clock::now();
  in.support = std::move(support_);  // lent to the partitioner, not copied (an answer per node per device)
  auto planned = Partitioner::partition(in);
  support_ = std::move(in.support);
  if (!planned.ok()) return planned.status();
  plan_ = std::move(*planned);
  times_.partition_ms = ms_since(t2);
  return {};
}

Status PartitionedModel::check_ranges(const DeviceRegistry& devices, const PartitionOptions& options, const std::vector<DeviceFigures>& figures) {
  if (!options.range_check.enabled) return {};
  SY_RETURN_IF_ERROR(check_calibration_inputs(graph_, options.range_check));
  auto allowed = Partitioner::allowed_devices(options.policy, figures);
  if (!allowed.ok()) return {};  // the partitioner reports a bad policy itself
  // Narrow-float devices the policy allows that claim at least one node.
  std::vector<const Device*> narrow;
  for (const auto& d : devices.devices()) {
    const ElementType t = d->info().compute_element_type;
    if (!is_floating(t) || max_finite(t) >= max_finite(ElementType::float32)) continue;
    if (std::find(allowed->begin(), allowed->end(), d->id()) == allowed->end()) continue;
    const auto& table = support_[d->id()];
    if (std::any_of(table.begin(), table.end(), [](const NodeSupport& s) { return s.supported(); })) narrow.push_back(d.get());
  }
  if (narrow.empty()) return {};
  auto t0 = std::chrono::steady_clock::now();
  const std::string what = options.range_check.inputs.empty() ? "generated calibration inputs" : "calibration inputs";
  // The given inputs, and generated values for the rest (generated only when some are missing).
  std::vector<Value> inputs;
  std::optional<Result<std::vector<Value>>> generated;
  for (size_t i = 0; i < graph_.inputs.size(); ++i) {
    auto given = options.range_check.inputs.find(graph_.value_name(graph_.inputs[i]));
    if (given != options.range_check.inputs.end()) {
      inputs.push_back(Value::of(given->second));
      continue;
    }
    if (!generated) generated = generate_inputs(graph_);
    if (!generated->ok() || i >= (*generated)->size()) {
      range_note_ = "range check skipped: input '" + graph_.value_name(graph_.inputs[i]) + "' has no calibration value" +
                    (generated->ok() ? "" : " (" + generated->status().message() + ")");
      times_.range_check_ms = ms_since(t0);
      return {};
    }
    inputs.push_back((**generated)[i]);
  }
  auto mags = value_magnitudes(graph_, inputs);
  times_.range_check_ms = ms_since(t0);
  if (!mags.ok()) {
    if (!options.range_check.inputs.empty()) return mags.status().with_context("range check on the calibration inputs");
    range_note_ = "range check skipped: the reference could not run the model: " + mags.status().message();
    return {};
  }
  std::string note;
  for (const Device* d : narrow) {
    auto refusals = range_refusals(graph_, *mags, d->info().compute_element_type, options.range_check.headroom, what);
    auto& table = support_[d->id()];
    int refused = 0;
    for (size_t n = 0; n < refusals.size() && n < table.size(); ++n)
      if (!refusals[n].empty() && table[n].supported()) {
        table[n] = NodeSupport{SupportReason::range, refusals[n], ""};
        ++refused;
      }
    note += (note.empty() ? "" : "; ") + std::to_string(refused) + " node(s) kept off " + d->id() + " (" +
            std::string(element_type_name(d->info().compute_element_type)) + ")";
  }
  range_note_ = "range check on " + what + ": " + note;
  return {};
}

PartitionedModel::CompiledSegment& PartitionedModel::extract_segment(size_t i, const Device& device) {
  const Segment& s = plan_.segments[i];
  CompiledSegment& cs = segments_[i];
  cs.device = &device;
  cs.graph = extract_subgraph(graph_, s.nodes, s.inputs, s.outputs);
  cs.view = std::make_unique<GraphView>(cs.graph);
  return cs;
}

Status PartitionedModel::compile_segment(size_t i, const Device& device) {
  const Segment& s = plan_.segments[i];
  CompiledSegment& cs = extract_segment(i, device);
  auto exe = device.compile(*cs.view);
  if (!exe.ok()) return exe.status().with_context("segment #" + std::to_string(s.id));
  cs.executable = std::move(exe).value();
  return {};
}

Status PartitionedModel::compile_segments(const DeviceRegistry& devices) {
  auto t0 = std::chrono::steady_clock::now();
  segments_.resize(plan_.segments.size());
  for (size_t i = 0; i < plan_.segments.size(); ++i) {
    SY_ASSIGN_OR_RETURN(const Device* device, devices.find(plan_.segments[i].device));
    SY_RETURN_IF_ERROR(compile_segment(i, *device));
  }
  index_dependencies();
  times_.compile_ms = ms_since(t0);
  return {};
}

namespace {
// Every node `device` refuses, with its reason, as one error (null when it takes them all).
Status check_device_takes_all(const Graph& graph, const Device& device, const std::vector<NodeSupport>& support) {
  std::string unsupported;
  int count = 0;
  for (size_t i = 0; i < support.size(); ++i) {
    if (support[i].supported()) continue;
    ++count;
    if (count <= 20) unsupported += "\n  " + graph.nodes[i].describe() + ": " + support[i].message;
  }
  if (count == 0) return {};
  return Status(StatusCode::unsupported, device.id() + " cannot run " + std::to_string(count) + " node(s):" + unsupported +
                                             (count > 20 ? "\n  ..." : ""));
}

// The plan of a whole graph on one device: one segment reading every graph input.
Plan one_segment_plan(const Graph& graph, const std::string& device) {
  Plan plan;
  plan.policy = "devices=" + device;
  plan.devices = {device};
  Segment s;
  s.device = device;
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    s.nodes.push_back(static_cast<int32_t>(n));
    plan.placements.push_back({static_cast<int32_t>(n), device, 0, 0, "the whole model is loaded on " + device});
  }
  s.inputs = graph.inputs;
  s.outputs = graph.outputs;
  plan.segments.push_back(std::move(s));
  return plan;
}
}  // namespace

Result<std::shared_ptr<PartitionedModel>> PartitionedModel::load_on_device(std::shared_ptr<const Model> model, const Device& device,
                                                                           bool fold) {
  auto pm = std::shared_ptr<PartitionedModel>(new PartitionedModel());
  pm->model_ = std::move(model);
  auto t0 = std::chrono::steady_clock::now();
  pm->graph_ = pm->model_->graph;  // shares tensor storage; nodes copied
  if (fold) SY_RETURN_IF_ERROR(fold_constants(pm->graph_).status());
  pm->times_.prepare_ms = ms_since(t0);
  auto t1 = std::chrono::steady_clock::now();
  const GraphView view(pm->graph_);
  SY_ASSIGN_OR_RETURN(auto support, device.query_support(view));
  SY_RETURN_IF_ERROR(check_device_takes_all(pm->graph_, device, support));
  pm->support_[device.id()] = std::move(support);
  pm->times_.support_ms = ms_since(t1);
  pm->plan_ = one_segment_plan(pm->graph_, device.id());
  auto t2 = std::chrono::steady_clock::now();
  pm->segments_.resize(1);
  SY_RETURN_IF_ERROR(pm->compile_segment(0, device));
  pm->index_dependencies();
  pm->times_.compile_ms = ms_since(t2);
  return pm;
}

Result<std::shared_ptr<PartitionedModel>> PartitionedModel::plan_only(std::shared_ptr<const Model> model, const DeviceRegistry& devices,
                                                                      const PartitionOptions& options) {
  auto pm = std::shared_ptr<PartitionedModel>(new PartitionedModel());
  pm->model_ = std::move(model);
  SY_RETURN_IF_ERROR(pm->prepare(devices, options));
  return pm;
}

Result<std::shared_ptr<PartitionedModel>> PartitionedModel::load(std::shared_ptr<const Model> model, const DeviceRegistry& devices,
                                                                 const PartitionOptions& options) {
  SY_ASSIGN_OR_RETURN(auto pm, plan_only(std::move(model), devices, options));
  SY_RETURN_IF_ERROR(pm->compile_segments(devices));
  return pm;
}

Result<std::vector<std::vector<uint8_t>>> PartitionedModel::serialize_executables() const {
  std::vector<std::vector<uint8_t>> out;
  for (size_t i = 0; i < segments_.size(); ++i) {
    auto bytes = segments_[i].executable->serialize();
    if (!bytes.ok()) return bytes.status().with_context("segment #" + std::to_string(i));
    out.push_back(std::move(bytes).value());
  }
  return out;
}

Result<std::shared_ptr<PartitionedModel>> PartitionedModel::restore(Graph graph, Plan plan, SupportTable support,
                                                                    const DeviceRegistry& devices,
                                                                    const std::vector<std::string_view>& executables,
                                                                    std::shared_ptr<const void> bytes_owner,
                                                                    std::vector<std::string>* warnings) {
  if (executables.size() != plan.segments.size())
    return Status(StatusCode::data_loss, "cached entry has " + std::to_string(executables.size()) + " executables for " +
                                             std::to_string(plan.segments.size()) + " segments");
  auto pm = std::shared_ptr<PartitionedModel>(new PartitionedModel());
  pm->graph_ = std::move(graph);
  pm->plan_ = std::move(plan);
  pm->support_ = std::move(support);
  pm->bytes_owner_ = std::move(bytes_owner);
  auto t0 = std::chrono::steady_clock::now();
  pm->segments_.resize(pm->plan_.segments.size());
  for (size_t i = 0; i < pm->plan_.segments.size(); ++i) {
    const Segment& s = pm->plan_.segments[i];
    SY_ASSIGN_OR_RETURN(const Device* device, devices.find(s.device));
    CompiledSegment& cs = pm->extract_segment(i, *device);
    PluginLogCapture log;
    auto exe = cs.device->restore(*cs.view, executables[i].data(), executables[i].size(), pm->bytes_owner_ != nullptr);
    for (const auto& line : log.lines()) pm->build_notes_.push_back("segment #" + std::to_string(i) + " on " + s.device + ": " + line);
    if (!exe.ok()) {
      if (warnings) warnings->push_back("segment #" + std::to_string(i) + " on " + s.device + ": the driver refused the cached executable (" +
                                        exe.status().message() + "); compiled again");
      exe = cs.device->compile(*cs.view);
      if (!exe.ok()) return exe.status().with_context("segment #" + std::to_string(i));
      ++pm->segments_compiled_on_restore_;
    }
    cs.executable = std::move(exe).value();
  }
  pm->index_dependencies();
  pm->times_.compile_ms = ms_since(t0);
  return pm;
}

}  // namespace switchyard
