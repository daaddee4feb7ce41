// PartitionedModel: plan, compile per segment, run segments across devices.
#include "switchyard/partitioned_model.h"

#include "switchyard/shape_inference.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

namespace switchyard {

namespace {
double ms_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

// Where one value of a prediction lives: on the host and/or on devices. Device copies are made
// once per (value, device); values stay on their device between segments on the same device.
struct HeldValue {
  std::optional<Value> host;
  std::map<const Device*, DeviceValue> on_device;
};

// What the memory limit counts at a segment boundary: every host value and device copy the
// prediction holds (inputs included), by their tensors' bytes and buffers' sizes.
size_t held_bytes(const std::map<int32_t, HeldValue>& values) {
  size_t bytes = 0;
  for (const auto& [id, held] : values) {
    if (held.host) bytes += value_bytes(*held.host);
    for (const auto& [device, dv] : held.on_device)
      for (const auto& t : dv.tensors) bytes += t.buffer ? t.buffer->size() : 0;
  }
  return bytes;
}

Status check_held_bytes(const std::map<int32_t, HeldValue>& values, uint64_t limit, const Segment& s) {
  if (limit == 0) return {};
  const size_t bytes = held_bytes(values);
  if (bytes <= limit) return {};
  return Status(StatusCode::resource_exhausted, "after segment #" + std::to_string(s.id) + " on " + s.device +
                                                    ", the prediction's values (inputs and segment outputs, host and device copies) hold " +
                                                    std::to_string(bytes) + " bytes, over the memory limit of " + std::to_string(limit) + " bytes");
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

Status PartitionedModel::compile_segments(const DeviceRegistry& devices) {
  auto t0 = std::chrono::steady_clock::now();
  segments_.resize(plan_.segments.size());
  for (size_t i = 0; i < plan_.segments.size(); ++i) {
    const Segment& s = plan_.segments[i];
    CompiledSegment& cs = segments_[i];
    SY_ASSIGN_OR_RETURN(cs.device, devices.find(s.device));
    cs.graph = extract_subgraph(graph_, s.nodes, s.inputs, s.outputs);
    cs.view = std::make_unique<GraphView>(cs.graph);
    auto exe = cs.device->compile(*cs.view);
    if (!exe.ok()) return exe.status().with_context("segment #" + std::to_string(s.id));
    cs.executable = std::move(exe).value();
  }
  times_.compile_ms = ms_since(t0);
  return {};
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
    CompiledSegment& cs = pm->segments_[i];
    SY_ASSIGN_OR_RETURN(cs.device, devices.find(s.device));
    cs.graph = extract_subgraph(pm->graph_, s.nodes, s.inputs, s.outputs);
    cs.view = std::make_unique<GraphView>(cs.graph);
    PluginLogCapture log;
    auto exe = cs.device->restore(*cs.view, executables[i].data(), executables[i].size(), pm->bytes_owner_ != nullptr);
    for (const auto& line : log.lines()) pm->build_notes_.push_back("segment #" + std::to_string(i) + " on " + s.device + ": " + line);
    if (!exe.ok()) {
      if (warnings) warnings->push_back("segment #" + std::to_string(i) + " on " + s.device + ": the driver refused the cached executable (" +
                                        exe.status().message() + "); compiled again");
      exe = cs.device->compile(*cs.view);
      if (!exe.ok()) return exe.status().with_context("segment #" + std::to_string(i));
    }
    cs.executable = std::move(exe).value();
  }
  pm->times_.compile_ms = ms_since(t0);
  return pm;
}

Result<std::vector<Value>> PartitionedModel::predict(const std::vector<Value>& inputs, const PredictControl* control) const {
  const StopFlag stop(control ? control->cancel : std::nullopt, control ? control->deadline : std::nullopt);
  const uint64_t memory_limit = control ? control->max_memory_bytes : 0;
  const ExecuteControl exec{stop.flag(), memory_limit};
  std::mutex events_mu;
  auto record = [&](PredictEvent e) {
    if (!control || !control->events) return;
    std::lock_guard<std::mutex> lock(events_mu);
    control->events->push_back(std::move(e));
  };
  if (segments_.size() != plan_.segments.size())
    return Status(StatusCode::invalid_argument, "the model was planned but not compiled (use PartitionedModel::load)");
  if (inputs.size() != graph_.inputs.size())
    return Status(StatusCode::invalid_argument, "the model takes " + std::to_string(graph_.inputs.size()) + " inputs, got " +
                                                    std::to_string(inputs.size()));
  for (size_t i = 0; i < inputs.size(); ++i)
    SY_RETURN_IF_ERROR(check_input(graph_.values[static_cast<size_t>(graph_.inputs[i])], inputs[i]));

  std::mutex mu;
  std::map<int32_t, HeldValue> slots;
  for (size_t i = 0; i < inputs.size(); ++i) slots[graph_.inputs[i]].host = inputs[i];
  // Segments carry their own initializers; only a graph output that is an initializer is read here.
  for (int32_t o : graph_.outputs)
    if (auto it = graph_.initializers.find(o); it != graph_.initializers.end()) slots[o].host = Value::of(it->second);

  auto value_on = [&](int32_t v, const Device* d) -> Result<DeviceValue> {
    std::unique_lock<std::mutex> lock(mu);
    HeldValue& slot = slots[v];
    if (auto it = slot.on_device.find(d); it != slot.on_device.end()) return it->second;
    if (!slot.host) {
      if (slot.on_device.empty()) return Status(StatusCode::internal, "value '" + graph_.value_name(v) + "' was never produced");
      DeviceValue src = slot.on_device.begin()->second;
      const std::string from = slot.on_device.begin()->first->id();
      lock.unlock();
      auto t_down = std::chrono::steady_clock::now();
      SY_ASSIGN_OR_RETURN(Value host, download_value(src));
      record({PredictEvent::Kind::transfer, -1, from + "->host", graph_.value_name(v), t_down, std::chrono::steady_clock::now()});
      lock.lock();
      slot.host = std::move(host);
    }
    Value host = *slot.host;
    lock.unlock();
    auto t_up = std::chrono::steady_clock::now();
    SY_ASSIGN_OR_RETURN(DeviceValue dv, upload_value(*d, host));
    record({PredictEvent::Kind::transfer, -1, "host->" + d->id(), graph_.value_name(v), t_up, std::chrono::steady_clock::now()});
    lock.lock();
    slot.on_device.emplace(d, dv);
    return dv;
  };

  auto run_segment = [&](size_t i) -> Status {
    const Segment& s = plan_.segments[i];
    SY_RETURN_IF_ERROR(stop.check("before segment #" + std::to_string(s.id)));
    const CompiledSegment& cs = segments_[i];
    std::vector<DeviceValue> args;
    bool values = false;
    for (int32_t v : s.inputs) {
      SY_ASSIGN_OR_RETURN(DeviceValue dv, value_on(v, cs.device));
      values = values || dv.kind != Value::Kind::tensor || dv.is_optional;
      args.push_back(std::move(dv));
    }
    for (int32_t o : s.outputs) values = values || graph_.values[static_cast<size_t>(o)].type.kind != ValueType::Kind::tensor;
    std::vector<DeviceValue> outs;
    if (values) {
      auto t_exec = std::chrono::steady_clock::now();
      auto r = cs.executable->execute_values(args, exec);
      record({PredictEvent::Kind::segment, s.id, s.device, "#" + std::to_string(s.id), t_exec, std::chrono::steady_clock::now()});
      if (!r.ok()) return stop.explain(r.status().with_context("segment #" + std::to_string(s.id) + " on " + s.device));
      outs = std::move(r).value();
    } else {
      std::vector<DeviceTensor> tensors;
      for (auto& a : args) tensors.push_back(a.tensors.at(0));
      auto t_exec = std::chrono::steady_clock::now();
      auto r = cs.executable->execute(tensors, exec);
      record({PredictEvent::Kind::segment, s.id, s.device, "#" + std::to_string(s.id), t_exec, std::chrono::steady_clock::now()});
      if (!r.ok()) return stop.explain(r.status().with_context("segment #" + std::to_string(s.id) + " on " + s.device));
      for (auto& t : *r) {
        DeviceValue dv;
        dv.tensors.push_back(std::move(t));
        outs.push_back(std::move(dv));
      }
    }
    std::lock_guard<std::mutex> lock(mu);
    for (size_t k = 0; k < s.outputs.size() && k < outs.size(); ++k) slots[s.outputs[k]].on_device.emplace(cs.device, std::move(outs[k]));
    return check_held_bytes(slots, memory_limit, s);
  };

  // Segments run in waves of mutually independent segments; a wave's segments run at the
  // same time (each on its own device's executable), so independent work overlaps.
  std::vector<int> level(plan_.segments.size(), 0);
  int max_level = 0;
  for (size_t i = 0; i < plan_.segments.size(); ++i) {
    for (int32_t d : plan_.segments[i].depends_on) level[i] = std::max(level[i], level[static_cast<size_t>(d)] + 1);
    max_level = std::max(max_level, level[i]);
  }
  for (int l = 0; l <= max_level; ++l) {
    std::vector<size_t> wave;
    for (size_t i = 0; i < level.size(); ++i)
      if (level[i] == l) wave.push_back(i);
    if (wave.size() == 1) {
      SY_RETURN_IF_ERROR(run_segment(wave[0]));
      continue;
    }
    std::vector<std::future<Status>> running;
    for (size_t i : wave) running.push_back(std::async(std::launch::async, run_segment, i));
    Status first_error;
    for (auto& f : running) {
      Status st = f.get();
      if (!st.ok() && first_error.ok()) first_error = st;
    }
    SY_RETURN_IF_ERROR(first_error);
  }

  SY_RETURN_IF_ERROR(stop.check("after the last segment"));
  std::vector<Value> out;
  for (int32_t o : graph_.outputs) {
    HeldValue& slot = slots[o];
    if (slot.host) {
      out.push_back(*slot.host);
      continue;
    }
    if (slot.on_device.empty()) return Status(StatusCode::internal, "output '" + graph_.value_name(o) + "' was not produced");
    auto t_down = std::chrono::steady_clock::now();
    SY_ASSIGN_OR_RETURN(Value v, download_value(slot.on_device.begin()->second));
    record({PredictEvent::Kind::transfer, -1, slot.on_device.begin()->first->id() + "->host", graph_.value_name(o), t_down,
            std::chrono::steady_clock::now()});
    out.push_back(std::move(v));
  }
  return out;
}

// State of one event-driven prediction, shared by the callbacks of its segments.
struct PartitionedModel::AsyncRun {
  std::mutex mu;
  std::vector<Value> inputs;
  PredictControl control;
  std::unique_ptr<StopFlag> stop;
  ExecuteControl exec;
  std::function<void(Result<std::vector<Value>>)> done;
  std::map<int32_t, HeldValue> slots;
  std::vector<int> waiting;  // unfinished dependencies per segment
  std::vector<std::vector<int32_t>> dependents;
  std::deque<size_t> ready;
  bool draining = false;
  size_t finished = 0, started = 0;
  Status error;
  bool reported = false;
};

void PartitionedModel::predict_async(std::vector<Value> inputs, PredictControl control,
                                     std::function<void(Result<std::vector<Value>>)> done) const {
  if (segments_.size() != plan_.segments.size()) {
    done(Status(StatusCode::invalid_argument, "the model was planned but not compiled (use PartitionedModel::load)"));
    return;
  }
  if (inputs.size() != graph_.inputs.size()) {
    done(Status(StatusCode::invalid_argument, "the model takes " + std::to_string(graph_.inputs.size()) + " inputs, got " +
                                                  std::to_string(inputs.size())));
    return;
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    Status st = check_input(graph_.values[static_cast<size_t>(graph_.inputs[i])], inputs[i]);
    if (!st.ok()) {
      done(st);
      return;
    }
  }
  auto run = std::make_shared<AsyncRun>();
  run->stop = std::make_unique<StopFlag>(control.cancel, control.deadline);
  run->exec = {run->stop->flag(), control.max_memory_bytes};
  run->control = std::move(control);
  run->done = std::move(done);
  for (size_t i = 0; i < inputs.size(); ++i) run->slots[graph_.inputs[i]].host = inputs[i];
  for (int32_t o : graph_.outputs)
    if (auto it = graph_.initializers.find(o); it != graph_.initializers.end()) run->slots[o].host = Value::of(it->second);
  run->inputs = std::move(inputs);
  const size_t S = plan_.segments.size();
  run->waiting.resize(S);
  run->dependents.resize(S);
  for (size_t i = 0; i < S; ++i) {
    run->waiting[i] = static_cast<int>(plan_.segments[i].depends_on.size());
    for (int32_t d : plan_.segments[i].depends_on) run->dependents[static_cast<size_t>(d)].push_back(static_cast<int32_t>(i));
    if (run->waiting[i] == 0) run->ready.push_back(i);
  }
  async_pump(run);
}

// Drains ready segments on this thread. A completion arriving while another thread drains just
// queues its dependents, so synchronous plugins never recurse and asynchronous ones overlap.
void PartitionedModel::async_pump(const std::shared_ptr<AsyncRun>& run) const {
  std::unique_lock<std::mutex> lock(run->mu);
  if (run->draining) return;
  run->draining = true;
  while (true) {
    if (!run->error.ok()) run->ready.clear();
    if (run->ready.empty()) break;
    size_t i = run->ready.front();
    run->ready.pop_front();
    ++run->started;
    lock.unlock();
    async_start(run, i);
    lock.lock();
  }
  run->draining = false;
  const bool all_done = run->finished == run->started && (run->finished == plan_.segments.size() || !run->error.ok());
  if (all_done && !run->reported) {
    run->reported = true;
    lock.unlock();
    async_finish(run);
  }
}

void PartitionedModel::async_finish(const std::shared_ptr<AsyncRun>& run) const {
  Result<std::vector<Value>> result = Status(StatusCode::internal, "unset");
  if (!run->error.ok()) {
    result = run->error;
  } else {
    std::vector<Value> out;
    Status st;
    for (int32_t o : graph_.outputs) {
      auto& slot = run->slots[o];
      if (slot.host) {
        out.push_back(*slot.host);
        continue;
      }
      if (slot.on_device.empty()) {
        st = Status(StatusCode::internal, "output '" + graph_.value_name(o) + "' was not produced");
        break;
      }
      auto v = download_value(slot.on_device.begin()->second);
      if (!v.ok()) {
        st = v.status();
        break;
      }
      out.push_back(std::move(v).value());
    }
    result = st.ok() ? Result<std::vector<Value>>(std::move(out)) : Result<std::vector<Value>>(st);
  }
  auto done = std::move(run->done);
  run->slots.clear();
  run->inputs.clear();
  done(std::move(result));
}

void PartitionedModel::async_start(const std::shared_ptr<AsyncRun>& run, size_t i) const {
  const Segment& s = plan_.segments[i];
  const CompiledSegment& cs = segments_[i];
  auto fail = [&](Status st) {
    {
      std::lock_guard<std::mutex> lock(run->mu);
      if (run->error.ok()) run->error = std::move(st);
      ++run->finished;
    }
  };
  if (Status st = run->stop->check("before segment #" + std::to_string(s.id)); !st.ok()) return fail(std::move(st));
  std::vector<DeviceValue> args;
  bool values = false;
  for (int32_t v : s.inputs) {
    DeviceValue dv;
    std::unique_lock<std::mutex> lock(run->mu);
    auto& slot = run->slots[v];
    auto it = slot.on_device.find(cs.device);
    if (it != slot.on_device.end()) {
      dv = it->second;
    } else {
      if (!slot.host) {
        if (slot.on_device.empty()) {
          lock.unlock();
          return fail(Status(StatusCode::internal, "value '" + graph_.value_name(v) + "' was never produced"));
        }
        DeviceValue src = slot.on_device.begin()->second;
        lock.unlock();
        auto host = download_value(src);
        if (!host.ok()) return fail(host.status());
        lock.lock();
        run->slots[v].host = std::move(host).value();
      }
      Value host = *run->slots[v].host;
      lock.unlock();
      auto up = upload_value(*cs.device, host);
      if (!up.ok()) return fail(up.status());
      lock.lock();
      run->slots[v].on_device.emplace(cs.device, *up);
      dv = *up;
    }
    lock.unlock();
    values = values || dv.kind != Value::Kind::tensor || dv.is_optional;
    args.push_back(std::move(dv));
  }
  for (int32_t o : s.outputs) values = values || graph_.values[static_cast<size_t>(o)].type.kind != ValueType::Kind::tensor;
  const auto t_start = std::chrono::steady_clock::now();
  cs.executable->execute_async(std::move(args), values, run->exec, [this, run, i, t_start](Result<std::vector<DeviceValue>> r) {
    const Segment& seg = plan_.segments[i];
    {
      std::lock_guard<std::mutex> lock(run->mu);
      if (run->control.events)
        run->control.events->push_back(
            {PredictEvent::Kind::segment, seg.id, seg.device, "#" + std::to_string(seg.id), t_start, std::chrono::steady_clock::now()});
      Status st = r.ok() ? Status() : run->stop->explain(r.status().with_context("segment #" + std::to_string(seg.id) + " on " + seg.device));
      if (r.ok()) {
        for (size_t k = 0; k < seg.outputs.size() && k < r->size(); ++k)
          run->slots[seg.outputs[k]].on_device.emplace(segments_[i].device, std::move((*r)[k]));
        st = check_held_bytes(run->slots, run->exec.max_memory_bytes, seg);
      }
      if (!st.ok()) {
        if (run->error.ok()) run->error = std::move(st);
      } else {
        for (int32_t d : run->dependents[i])
          if (--run->waiting[static_cast<size_t>(d)] == 0) run->ready.push_back(static_cast<size_t>(d));
      }
      ++run->finished;
    }
    async_pump(run);
  });
}

}  // namespace switchyard
