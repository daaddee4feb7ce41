// A model split across devices by the partitioner: one compiled executable per segment,
// run in dependency order with independent segments on different devices at the same
// time, tensors moved only where the plan crosses devices. Thread-safe predict().
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <string_view>
#include <string>
#include <vector>

#include "switchyard/runtime/cancellation.h"
#include "switchyard/runtime/constant_folding.h"
#include "switchyard/hal/device.h"
#include "switchyard/runtime/model_inputs.h"
#include "switchyard/runtime/onnx_import.h"
#include "switchyard/partitioner/partitioner.h"
#include "switchyard/hal/plugin_loader.h"
#include "switchyard/runtime/range_check.h"

namespace switchyard {

struct PartitionOptions {
  Policy policy;
  bool fold_constants = true;
  const CostModel* cost_model = nullptr;  // default: RooflineCostModel
  // Fixed shapes for inputs with symbolic dims (name -> dims): the graph is specialised to them
  // before planning, so static-shape devices can take it; predict() then requires these shapes.
  std::map<std::string, Shape> input_shapes;
  // Narrow-float devices (float16 NPUs) refuse nodes whose values would overflow them, measured
  // on calibration inputs (switchyard/range_check.h).
  RangeCheckOptions range_check;
};

struct PartitionTimes {
  double prepare_ms = 0;    // constant folding
  double support_ms = 0;    // support queries on every device
  double partition_ms = 0;
  double compile_ms = 0;    // all segments
  double range_check_ms = 0;  // the calibration run for narrow-float devices (0 when none is allowed)
};

// One timed span of a prediction, for performance reports and traces.
struct PredictEvent {
  enum class Kind { segment, transfer, node };
  Kind kind = Kind::segment;
  int32_t segment = -1;
  std::string device;  // the segment's device, or "from->to" for a transfer
  // "#3" for segments, the value's name for transfers, "Conv conv1" (op type and node name) for a
  // node the device timed itself (sy_profiler: only while events are recorded, on plugins that can)
  std::string name;
  std::chrono::steady_clock::time_point start, end;
  // node events: how the device ran the node, as its support answer names it ("onednn",
  // "onednn+fused" for a node that carries the nodes fused into it); empty for the other kinds
  std::string implementation;
};

// Per-call controls: cancellation and a deadline (checked at every segment boundary and polled by
// the plugins inside their work through one stop flag: StopFlag), a memory limit, and an optional
// sink for timed events.
struct PredictControl {
  std::optional<CancellationToken> cancel;
  std::optional<std::chrono::steady_clock::time_point> deadline;
  // 0: none. Checked after every segment against the bytes of the values the prediction holds
  // (its inputs and every segment output so far, each host and device copy), and handed to the
  // plugins (sy_execute_args.max_memory_bytes), whose Loop, Scan and sequence kernels check what
  // they accumulate. Past it: StatusCode::resource_exhausted.
  uint64_t max_memory_bytes = 0;
  std::vector<PredictEvent>* events = nullptr;  // appended under an internal lock
  // With `events`: also the operators that plugins able to time them report (sy_profiler), as
  // Kind::node events. For traces: it costs the plugin a clock read per node.
  bool node_events = false;
};

class PartitionedModel {
 public:
  // Plans only (support query + partition), without compiling: for `switchyard plan`.
  static Result<std::shared_ptr<PartitionedModel>> plan_only(std::shared_ptr<const Model> model, const DeviceRegistry& devices,
                                                             const PartitionOptions& options);
  // Plans and compiles every segment on its device.
  static Result<std::shared_ptr<PartitionedModel>> load(std::shared_ptr<const Model> model, const DeviceRegistry& devices,
                                                        const PartitionOptions& options);
  // The whole model as one segment on `device`, without the partitioner (conformance, tests):
  // fails with StatusCode::unsupported listing every node the device cannot run, and why.
  // `fold_constants` false leaves every node to the device.
  static Result<std::shared_ptr<PartitionedModel>> load_on_device(std::shared_ptr<const Model> model, const Device& device,
                                                                  bool fold_constants = true);

  // The one way to predict: segments start as their inputs become ready and complete through the
  // plugins' completion callbacks; no thread waits for a device. `done` runs exactly once (on the
  // thread that completes the last segment, possibly this one). `control` is copied; its events
  // vector must outlive the call. The model must outlive the call. Thread-safe. Inputs are never
  // written; outputs are owned by the result. Cancellation gives StatusCode::cancelled, a passed
  // deadline StatusCode::deadline_exceeded, the memory limit StatusCode::resource_exhausted.
  void predict_async(std::vector<Value> inputs, PredictControl control,
                     std::function<void(Result<std::vector<Value>>)> done) const;
  // predict_async plus a wait.
  Result<std::vector<Value>> predict(const std::vector<Value>& inputs, const PredictControl* control = nullptr) const;

  const Graph& graph() const { return graph_; }
  const Plan& plan() const { return plan_; }
  const SupportTable& support() const { return support_; }
  const PartitionTimes& times() const { return times_; }
  // Restored models: how many segments were compiled again because their driver refused the cached
  // executable (a plugin that changed its format). The plan cache then rewrites the entry.
  size_t segments_compiled_on_restore() const { return segments_compiled_on_restore_; }
  // What the range check did on this load ("" when no narrow-float device was allowed; on a
  // cached load the refusals are in support() and the plan's reasons, and this is empty).
  const std::string& range_check_note() const { return range_note_; }

  // For the plan cache: every segment's executable as bytes (in segment order), and the way
  // back from a prepared graph, its plan, the support answers and those bytes. A segment whose
  // bytes the driver refuses is compiled from its subgraph again (reported in `warnings`).
  Result<std::vector<std::vector<uint8_t>>> serialize_executables() const;
  // `bytes_owner` (may be null) owns the memory `executables` point into; when given, the model
  // keeps it until its executables are released, and plugins may use the bytes in place.
  static Result<std::shared_ptr<PartitionedModel>> restore(Graph graph, Plan plan, SupportTable support,
                                                           const DeviceRegistry& devices,
                                                           const std::vector<std::string_view>& executables,
                                                           std::shared_ptr<const void> bytes_owner,
                                                           std::vector<std::string>* warnings);
  // What plugins said while this model's executables were built or restored (host log lines,
  // "segment #0 on cpu:0: cpu: restore: 12 prepared constants ..."), for load reports.
  const std::vector<std::string>& build_notes() const { return build_notes_; }

 private:
  struct CompiledSegment {
    Graph graph;                 // the segment's subgraph (inputs/outputs = plan's)
    std::unique_ptr<GraphView> view;
    std::unique_ptr<Executable> executable;
    const Device* device = nullptr;
  };

  struct Prediction;  // one prediction in flight (prediction.cpp)
  Status check_inputs(const std::vector<Value>& inputs) const;
  void index_dependencies();  // fills dependency_counts_ and dependents_ from plan_

  Status prepare(const DeviceRegistry& devices, const PartitionOptions& options);
  Status compile_segments(const DeviceRegistry& devices);
  CompiledSegment& extract_segment(size_t i, const Device& device);  // subgraph and view of segment i
  Status compile_segment(size_t i, const Device& device);
  Status check_ranges(const DeviceRegistry& devices, const PartitionOptions& options, const std::vector<DeviceFigures>& figures);

  std::shared_ptr<const Model> model_;
  Graph graph_;
  Plan plan_;
  SupportTable support_;
  PartitionTimes times_;
  size_t segments_compiled_on_restore_ = 0;
  std::string range_note_;
  std::vector<std::string> build_notes_;
  std::shared_ptr<const void> bytes_owner_;  // declared before segments_: released after them
  std::vector<CompiledSegment> segments_;
  std::vector<int32_t> dependency_counts_;         // per segment: segments it waits for
  std::vector<std::vector<int32_t>> dependents_;  // per segment: segments waiting for it
};

// Builds the subgraph of `graph` made of `nodes` with the given inputs and outputs
// (initializers the nodes read are carried along; nested graphs keep their outer reads).
Graph extract_subgraph(const Graph& graph, const std::vector<int32_t>& nodes, const std::vector<int32_t>& inputs,
                       const std::vector<int32_t>& outputs);

// Figures of a device for the cost model.
DeviceFigures figures_of(const Device& device);

}  // namespace switchyard
