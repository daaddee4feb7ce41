// The one prediction scheduler of a PartitionedModel: segments start as soon as their inputs are
// ready and complete through the plugins' completion callbacks; predict() is predict_async plus a
// wait. Values move between devices through the host, once per (value, device).
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>

#include "switchyard/hal/wait.h"
#include "switchyard/runtime/partitioned_model.h"

namespace switchyard {

namespace {
using Clock = std::chrono::steady_clock;

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

// State of one prediction, shared by the callbacks of its segments. Once `done` has run the model
// may be gone: nothing after that point reads `model`.
struct PartitionedModel::Prediction : std::enable_shared_from_this<Prediction> {
  Prediction(const PartitionedModel& m, PredictControl c, std::function<void(Result<std::vector<Value>>)> d)
      : model(&m), control(std::move(c)), stop(control.cancel, control.deadline), exec{stop.flag(), control.max_memory_bytes},
        done(std::move(d)), waiting(m.dependency_counts_), segment_count(m.plan_.segments.size()) {}

  const PartitionedModel* model;
  PredictControl control;
  StopFlag stop;
  ExecuteControl exec;
  std::function<void(Result<std::vector<Value>>)> done;

  // Per-node events of segment `segment`, when events are recorded (sy_profiler).
  struct NodeEvents : NodeEventSink {
    Prediction* prediction = nullptr;
    size_t segment = 0;
    void node_event(size_t node, const char* implementation, Clock::time_point start, Clock::time_point end) override;
  };
  std::vector<NodeEvents> node_events;

  std::mutex mu;  // guards everything below, and control.events
  std::map<int32_t, HeldValue> slots;
  std::vector<int32_t> waiting;  // unfinished dependencies per segment
  std::vector<size_t> ready;     // segments to start, first at ready[next_ready]
  size_t next_ready = 0;
  size_t segment_count = 0, started = 0, finished = 0;
  bool draining = false, reported = false;
  Status error;

  void pump();
  bool start_on_own_thread(size_t i);
  void start_segment(size_t i);
  void segment_done(size_t i, Clock::time_point start, Result<std::vector<DeviceValue>> outputs);
  void fail(Status st);
  void finish();
  Result<DeviceValue> value_on(int32_t v, const Device* device);
  Result<Value> download(int32_t v, const DeviceValue& src, const Device* from);
  void record(PredictEvent e);
};

void PartitionedModel::Prediction::NodeEvents::node_event(size_t node, const char* implementation, Clock::time_point start,
                                                          Clock::time_point end) {
  const Graph& graph = prediction->model->segments_[segment].graph;
  if (node >= graph.nodes.size()) return;  // not a node of the segment: nothing to name
  const Node& n = graph.nodes[node];
  const Segment& s = prediction->model->plan_.segments[segment];
  prediction->record({PredictEvent::Kind::node, s.id, s.device, n.op_type + (n.name.empty() ? "" : " " + n.name), start, end,
                      implementation ? implementation : ""});
}

void PartitionedModel::Prediction::record(PredictEvent e) {
  if (!control.events) return;
  std::lock_guard<std::mutex> lock(mu);
  control.events->push_back(std::move(e));
}

Result<Value> PartitionedModel::Prediction::download(int32_t v, const DeviceValue& src, const Device* from) {
  const auto t0 = Clock::now();
  SY_ASSIGN_OR_RETURN(Value host, download_value(src));
  record({PredictEvent::Kind::transfer, -1, from->id() + "->host", model->graph_.value_name(v), t0, Clock::now()});
  return host;
}

// Value `v` on `device`: the copy already there, or one made through the host (downloaded from
// the device that produced it first, when the host has none). The lock is not held while copying.
Result<DeviceValue> PartitionedModel::Prediction::value_on(int32_t v, const Device* device) {
  std::unique_lock<std::mutex> lock(mu);
  HeldValue& slot = slots[v];
  if (auto it = slot.on_device.find(device); it != slot.on_device.end()) return it->second;
  if (!slot.host) {
    if (slot.on_device.empty()) return Status(StatusCode::internal, "value '" + model->graph_.value_name(v) + "' was never produced");
    auto [from, src] = *slot.on_device.begin();
    lock.unlock();
    SY_ASSIGN_OR_RETURN(Value host, download(v, src, from));
    lock.lock();
    slots[v].host = std::move(host);
  }
  Value host = *slots[v].host;
  lock.unlock();
  const auto t0 = Clock::now();
  SY_ASSIGN_OR_RETURN(DeviceValue dv, upload_value(*device, host));
  record({PredictEvent::Kind::transfer, -1, "host->" + device->id(), model->graph_.value_name(v), t0, Clock::now()});
  lock.lock();
  slots[v].on_device.emplace(device, dv);
  return dv;
}

void PartitionedModel::Prediction::fail(Status st) {
  std::lock_guard<std::mutex> lock(mu);
  if (error.ok()) error = std::move(st);
  ++finished;
}

// Drains ready segments on this thread. A completion arriving while another thread drains just
// queues its dependents, so plugins that complete inline never recurse. When several segments are
// ready at once, all but the last start on threads of their own, so that independent segments on
// devices whose plugins complete inline still overlap.
void PartitionedModel::Prediction::pump() {
  std::unique_lock<std::mutex> lock(mu);
  if (draining) return;
  draining = true;
  while (true) {
    if (!error.ok()) next_ready = ready.size();
    if (next_ready == ready.size()) break;
    const size_t i = ready[next_ready++];
    ++started;
    const bool more = next_ready < ready.size();
    lock.unlock();
    if (!more || !start_on_own_thread(i)) start_segment(i);
    lock.lock();
  }
  draining = false;
  const bool all_done = finished == started && (finished == segment_count || !error.ok());
  if (!all_done || reported) return;
  reported = true;
  lock.unlock();
  finish();
}

// False when no thread could be had (the caller then starts the segment itself).
bool PartitionedModel::Prediction::start_on_own_thread(size_t i) {
  try {
    std::thread([self = shared_from_this(), i] {
      self->start_segment(i);
      self->pump();
    }).detach();
    return true;
  } catch (const std::system_error&) {
    return false;
  }
}

void PartitionedModel::Prediction::start_segment(size_t i) {
  const Segment& s = model->plan_.segments[i];
  const CompiledSegment& cs = model->segments_[i];
  if (stop.flag())
    if (Status st = stop.check("before segment #" + std::to_string(s.id)); !st.ok()) return fail(std::move(st));
  std::vector<DeviceValue> args;
  for (int32_t v : s.inputs) {
    auto dv = value_on(v, cs.device);
    if (!dv.ok()) return fail(dv.status());
    args.push_back(std::move(dv).value());
  }
  ExecuteControl segment_exec = exec;
  if (!node_events.empty()) segment_exec.node_events = &node_events[i];
  const auto t0 = Clock::now();
  cs.executable->execute_async(std::move(args), segment_exec, [self = shared_from_this(), i, t0](Result<std::vector<DeviceValue>> r) {
    self->segment_done(i, t0, std::move(r));
    self->pump();
  });
}

void PartitionedModel::Prediction::segment_done(size_t i, Clock::time_point t0, Result<std::vector<DeviceValue>> outputs) {
  const Segment& s = model->plan_.segments[i];
  const Device* device = model->segments_[i].device;
  std::lock_guard<std::mutex> lock(mu);
  if (control.events) control.events->push_back({PredictEvent::Kind::segment, s.id, s.device, "#" + std::to_string(s.id), t0, Clock::now()});
  Status st = outputs.ok() ? Status() : stop.explain(outputs.status().with_context("segment #" + std::to_string(s.id) + " on " + s.device));
  if (outputs.ok()) {
    for (size_t k = 0; k < s.outputs.size() && k < outputs->size(); ++k) slots[s.outputs[k]].on_device.emplace(device, std::move((*outputs)[k]));
    st = check_held_bytes(slots, exec.max_memory_bytes, s);
  }
  if (!st.ok()) {
    if (error.ok()) error = std::move(st);
  } else {
    for (int32_t d : model->dependents_[i])
      if (--waiting[static_cast<size_t>(d)] == 0) ready.push_back(static_cast<size_t>(d));
  }
  ++finished;
}

// Gathers the graph's outputs on the host and reports. Runs once, after every started segment ended.
void PartitionedModel::Prediction::finish() {
  Status st = error;
  if (st.ok() && stop.flag()) st = stop.check("after the last segment");
  std::vector<Value> out;
  for (size_t k = 0; st.ok() && k < model->graph_.outputs.size(); ++k) {
    const int32_t o = model->graph_.outputs[k];
    HeldValue& slot = slots[o];
    if (slot.host) {
      out.push_back(*slot.host);
    } else if (slot.on_device.empty()) {
      st = Status(StatusCode::internal, "output '" + model->graph_.value_name(o) + "' was not produced");
    } else {
      auto v = download(o, slot.on_device.begin()->second, slot.on_device.begin()->first);
      if (v.ok()) out.push_back(std::move(v).value());
      else st = v.status();
    }
  }
  auto report = std::move(done);
  slots.clear();  // device buffers go back before the caller hears
  if (st.ok()) report(std::move(out));
  else report(st);
}

Status PartitionedModel::check_inputs(const std::vector<Value>& inputs) const {
  if (segments_.size() != plan_.segments.size())
    return Status(StatusCode::invalid_argument, "the model was planned but not compiled (use PartitionedModel::load)");
  if (inputs.size() != graph_.inputs.size())
    return Status(StatusCode::invalid_argument, "the model takes " + std::to_string(graph_.inputs.size()) + " inputs, got " +
                                                    std::to_string(inputs.size()));
  for (size_t i = 0; i < inputs.size(); ++i) SY_RETURN_IF_ERROR(check_input(graph_.values[static_cast<size_t>(graph_.inputs[i])], inputs[i]));
  return {};
}

void PartitionedModel::index_dependencies() {
  const size_t n = plan_.segments.size();
  dependency_counts_.assign(n, 0);
  dependents_.assign(n, {});
  for (size_t i = 0; i < n; ++i) {
    dependency_counts_[i] = static_cast<int32_t>(plan_.segments[i].depends_on.size());
    for (int32_t d : plan_.segments[i].depends_on) dependents_[static_cast<size_t>(d)].push_back(static_cast<int32_t>(i));
  }
}

void PartitionedModel::predict_async(std::vector<Value> inputs, PredictControl control,
                                     std::function<void(Result<std::vector<Value>>)> done) const {
  if (Status st = check_inputs(inputs); !st.ok()) return done(st);
  auto p = std::make_shared<Prediction>(*this, std::move(control), std::move(done));
  for (size_t i = 0; i < inputs.size(); ++i) p->slots[graph_.inputs[i]].host = std::move(inputs[i]);
  if (p->control.events && p->control.node_events) {
    p->node_events.resize(p->segment_count);
    for (size_t i = 0; i < p->segment_count; ++i) p->node_events[i].prediction = p.get(), p->node_events[i].segment = i;
  }
  // Segments carry their own initializers; only a graph output that is an initializer is read here.
  for (int32_t o : graph_.outputs)
    if (auto it = graph_.initializers.find(o); it != graph_.initializers.end()) p->slots[o].host = Value::of(it->second);
  p->ready.reserve(p->segment_count);
  for (size_t i = 0; i < p->segment_count; ++i)
    if (p->waiting[i] == 0) p->ready.push_back(i);
  p->pump();
}

Result<std::vector<Value>> PartitionedModel::predict(const std::vector<Value>& inputs, const PredictControl* control) const {
  return wait_for<Result<std::vector<Value>>>(
      [&](auto done) { predict_async(inputs, control ? *control : PredictControl{}, std::move(done)); });
}

}  // namespace switchyard
