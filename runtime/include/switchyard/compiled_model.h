// A model prepared for one device: constants folded, compiled by the device's plugin,
// ready to predict. Thread-safe: predict() may be called from several threads.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "switchyard/device.h"
#include "switchyard/graph_view.h"
#include "switchyard/onnx_import.h"
#include "switchyard/status.h"

namespace switchyard {

struct LoadOptions {
  bool fold_constants = true;
};

struct LoadTimes {
  double prepare_ms = 0;  // constant folding and checks
  double compile_ms = 0;  // plugin compile
};

class CompiledModel {
 public:
  // Fails with StatusCode::unsupported listing every node the device cannot run, and why.
  static Result<std::shared_ptr<CompiledModel>> load(std::shared_ptr<const Model> model, const Device& device,
                                                     const LoadOptions& options = {});

  // Inputs in graph-input order; each is checked against the declared type and shape.
  Result<std::vector<Value>> predict(const std::vector<Value>& inputs) const;

  const Graph& graph() const { return graph_; }
  const Device& device() const { return *device_; }
  const LoadTimes& load_times() const { return times_; }
  // Per-node implementation the device reported ("onednn", "reference").
  const std::vector<std::string>& implementations() const { return implementations_; }

 private:
  std::shared_ptr<const Model> model_;
  Graph graph_;
  std::unique_ptr<GraphView> view_;
  std::unique_ptr<Executable> executable_;
  const Device* device_ = nullptr;
  LoadTimes times_;
  std::vector<std::string> implementations_;
};

// Folds nodes whose inputs are all constants into initializers, using the reference.
// Skips nondeterministic operators and results over `max_bytes`. Returns the count folded.
Result<int> fold_constants(Graph& graph, size_t max_bytes = size_t{256} << 20);

// Checks a value against a declared type: element type, rank and static dims.
Status check_input(const ValueInfo& declared, const Value& value);

// Deterministic inputs for a graph (symbolic dims become 1): floats cycle through
// [-0.5, 0.5), integers through 0..9, booleans alternate.
Result<std::vector<Value>> generate_inputs(const Graph& graph);

}  // namespace switchyard
