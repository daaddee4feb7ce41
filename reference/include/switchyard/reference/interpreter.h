// The reference implementation: a plain interpreter over the graph IR with readable,
// obviously-correct kernels. It is the oracle every plugin is checked against, so
// clarity beats speed: kernels accumulate in double where it matters.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "switchyard/hal/graph.h"
#include "switchyard/hal/status.h"
#include "switchyard/hal/tensor.h"

namespace switchyard::reference {

class Interpreter;

// Bounds on one run, shared by every subgraph it runs. Kernels that iterate (Loop, Scan,
// SequenceMap, the interpreter between nodes) poll the flag; kernels that accumulate values
// (Loop and Scan outputs and carried values, SequenceMap outputs, growing sequences) check what
// they hold against the memory limit. Neither bounds a single ordinary kernel (one Conv).
struct RunLimits {
  const volatile int32_t* cancel_flag = nullptr;  // non-zero: stop with StatusCode::cancelled
  uint64_t max_memory_bytes = 0;                  // 0: no limit; else StatusCode::resource_exhausted
};

// What a kernel sees: its node, its input values and where to put outputs.
// Kernels throw switchyard::Error on bad input; the interpreter adds the node name.
class KernelContext {
 public:
  // `limits` (may be null: no limits) must outlive the context; subgraphs run under the same.
  KernelContext(const Node& node, std::vector<const Value*> inputs, std::vector<Value>& outputs,
                const Interpreter& interpreter, const std::map<std::string, const Value*>& scope,
                const RunLimits* limits = nullptr)
      : node_(node), inputs_(std::move(inputs)), outputs_(outputs), interpreter_(interpreter), scope_(scope), limits_(limits) {}

  const Node& node() const { return node_; }
  int64_t opset() const { return node_.opset; }

  size_t num_inputs() const { return inputs_.size(); }
  // True when input i exists, was not omitted ("" in ONNX) and holds a value.
  bool has_input(size_t i) const { return i < inputs_.size() && inputs_[i] && inputs_[i]->has_value(); }
  // REQUIRES has_input(i) and a tensor value; throws Error(invalid_argument) otherwise.
  const Tensor& input(size_t i) const;
  // Any value kind (sequence / optional); throws if the input is absent.
  const Value& input_value(size_t i) const;
  // nullptr when omitted.
  const Value* input_value_or_null(size_t i) const { return i < inputs_.size() ? inputs_[i] : nullptr; }

  size_t num_outputs() const { return outputs_.size(); }
  bool wants_output(size_t i) const { return i < node_.outputs.size() && node_.outputs[i] >= 0; }
  void set_output(size_t i, Tensor t);
  void set_output_value(size_t i, Value v);

  // Runs a nested graph (If/Loop/Scan body) with `inputs` bound to its inputs in order;
  // outer-scope names resolve through this node's scope.
  std::vector<Value> run_subgraph(const Graph& body, const std::vector<Value>& inputs) const;

  // Throws Error(cancelled) naming where it stopped ("iteration 12") once the run's cancel flag
  // is raised. Cheap (one atomic load): call it once per iteration.
  void poll_cancel(const char* unit, int64_t index) const;
  // Throws Error(resource_exhausted) when `bytes` (what `what` holds, e.g. "the loop-carried values
  // and scan outputs") exceed the run's memory limit.
  void check_memory(size_t bytes, const std::string& what) const;
  // Whether a memory limit is set (so kernels compute byte counts only then).
  bool memory_limited() const { return limits_ && limits_->max_memory_bytes > 0; }
  const RunLimits* limits() const { return limits_; }

  // Convenience attribute access (same as node().attr_*).
  int64_t attr_int(const std::string& name, int64_t fallback) const { return node_.attr_int(name, fallback); }
  float attr_float(const std::string& name, float fallback) const { return node_.attr_float(name, fallback); }
  std::string attr_string(const std::string& name, const std::string& fallback) const {
    return node_.attr_string(name, fallback);
  }
  std::vector<int64_t> attr_ints(const std::string& name, const std::vector<int64_t>& fallback = {}) const {
    return node_.attr_ints(name, fallback);
  }
  std::vector<float> attr_floats(const std::string& name, const std::vector<float>& fallback = {}) const {
    return node_.attr_floats(name, fallback);
  }
  bool has_attr(const std::string& name) const { return node_.attr(name) != nullptr; }

 private:
  const Node& node_;
  std::vector<const Value*> inputs_;
  std::vector<Value>& outputs_;
  const Interpreter& interpreter_;
  const std::map<std::string, const Value*>& scope_;
  const RunLimits* limits_;
};

using KernelFn = std::function<void(KernelContext&)>;

// Operator -> kernel. Domain "" is the default ONNX domain.
class KernelRegistry {
 public:
  static const KernelRegistry& instance();  // every reference kernel, registered once; thread-safe

  void add(const std::string& domain, const std::string& op_type, KernelFn fn);
  const KernelFn* find(const std::string& domain, const std::string& op_type) const;
  std::vector<std::string> operators() const;  // "op" or "domain::op", sorted

 private:
  std::map<std::pair<std::string, std::string>, KernelFn> kernels_;
};

struct RunOptions {
  // Values the caller wants kept besides graph outputs (by name); empty = outputs only.
  std::vector<std::string> extra_outputs;
  // Called after every node of the top-level graph with the node's index and its outputs,
  // before intermediates are freed: lets a caller look at every value without keeping them all.
  std::function<void(size_t node, const std::vector<Value>& outputs)> on_node;
  // Cancellation and the memory limit (RunLimits), for the whole run including subgraphs.
  RunLimits limits;
};

class Interpreter {
 public:
  Interpreter() : registry_(KernelRegistry::instance()) {}
  explicit Interpreter(const KernelRegistry& registry) : registry_(registry) {}

  // Checks that every node has a kernel; names the first node without one.
  Status check_supported(const Graph& graph) const;
  bool supports(const Node& node) const;

  // Runs `graph` with `inputs` bound to graph.inputs in order. Returns graph outputs in order.
  Result<std::vector<Value>> run(const Graph& graph, const std::vector<Value>& inputs,
                                 const RunOptions& options = {}) const;

  // As run(), but with an enclosing scope for outer-scope names (used for subgraphs).
  std::vector<Value> run_scoped(const Graph& graph, const std::vector<Value>& inputs,
                                const std::map<std::string, const Value*>& outer_scope,
                                const RunLimits* limits = nullptr) const;

 private:
  const KernelRegistry& registry_;
};

// Registration hooks, one per kernel family (kernels/*.cpp). KernelRegistry::instance()
// calls them all; a new family adds its function here and in registry.cpp.
void register_elementwise_kernels(KernelRegistry& r);
void register_math_kernels(KernelRegistry& r);        // Conv, Gemm, MatMul, pooling, normalisation, softmax
void register_reduction_kernels(KernelRegistry& r);
void register_shape_kernels(KernelRegistry& r);       // reshape/transpose/concat/slice/gather/pad/...
void register_control_kernels(KernelRegistry& r);     // Constant, Identity, If, Loop, ...
void register_sequence_kernels(KernelRegistry& r);    // Sequence*, Optional*, SplitToSequence, ...
void register_nn_kernels(KernelRegistry& r);          // losses, RNN/GRU/LSTM, attention, training ops
void register_signal_kernels(KernelRegistry& r);      // DFT/STFT/windows, NMS, RoiAlign, GridSample, misc
void register_text_ml_kernels(KernelRegistry& r);     // string ops and ai.onnx.ml

}  // namespace switchyard::reference
