// CPU plugin: a compiled graph. Each node runs a fast kernel when a provider accepted it
// at compile time, otherwise the reference kernel; the choice is fixed at compile time
// and recorded in the serialized form.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "arena_plan.h"
#include "fast_kernel.h"
#include "packed_constants.h"
#include "switchyard/hal/graph.h"
#include "switchyard/plugin_abi.h"
#include "switchyard/reference/interpreter.h"

namespace switchyard::cpu {

// Where per-node profiling events go (sy_execute_args.profiler) and the clock they are timed with
// (sy_host_api.now_ns). Events name nodes of the graph as received, not the execution graph.
struct NodeProfiler {
  const sy_profiler* sink = nullptr;
  uint64_t (*now_ns)(void) = nullptr;
};

struct NodePlan {
  std::string implementation;          // "onednn", "native", "reference"
  std::unique_ptr<FastKernel> fast;    // null: reference kernel
  const reference::KernelFn* reference = nullptr;
  // Inputs that arrive in a oneDNN layout the kernel does not read: converted to plain first.
  struct PlainInput {
    size_t input;
    Layout layout;
    Shape shape;
  };
  std::vector<PlainInput> plain_inputs;
};

// How many threads an executable's kernels use: `max`, or with `by_work` (the plugin's default,
// when no thread count was set) one thread per kFlopsPerThread of arithmetic in the graph, up to
// `max`: on small graphs a parallel region's fork and join cost more than they save.
struct ThreadPolicy {
  ThreadPolicy(int max_threads, bool choose_by_work = false) : max(max_threads), by_work(choose_by_work) {}
  int max = 1;
  bool by_work = false;
};
inline constexpr double kFlopsPerThread = 400e6;
// A convolution or matrix product with less arithmetic than this runs on one thread whatever the
// executable's count: its parallel region's fork and join cost more than the second thread saves.
inline constexpr double kNodeFlopsForThreads = 1.5e6;
// The threads node `n` of `graph` gets in an executable of `threads`: one for a convolution or
// matrix product under kNodeFlopsForThreads and for any other node whose input 0 and output 0 have
// fewer than kSerialElements elements; its kernel is created under that count.
int node_threads(const Graph& graph, const Node& n, int threads);

// Floating-point operations of one run of `graph` (Conv, ConvTranspose, FusedConv, Gemm, MatMul
// with static shapes; other nodes count nothing).
double estimated_flops(const Graph& graph);
// Those of one node of `graph` (0 for the nodes estimated_flops does not count).
double node_flops(const Graph& graph, const Node& node);

class CpuExecutable {
 public:
  // What a serialized executable holds: the kernel chosen per received node and the constants
  // prepared at compile time.
  struct Serialized {
    std::vector<std::string> kernels;
    std::unique_ptr<PackedConstants> constants;
  };

  // Chooses a kernel per node. `restored` (from a serialized executable) pins the choices and
  // supplies the prepared constants (no BatchNormalization folding, no weight reorders).
  static std::unique_ptr<CpuExecutable> build(Graph graph, ThreadPolicy threads, Serialized* restored = nullptr);
  // The threads its kernels use (ThreadPolicy) and the arithmetic that chose them.
  int threads() const { return threads_; }
  // The bytes of the arena each run takes for its planned values (0: no memory plan).
  size_t arena_bytes() const { return arena_bytes_; }

  // Runs with host tensors; polls the cancel flag between nodes and hands `limits` to the reference
  // kernels (Loop, Scan and sequence operators poll it per iteration and check the memory limit).
  // Throws Error.
  // With `profiler`, reports one event per execution node it ran (see NodeProfiler); without, it
  // reads no clock.
  std::vector<Value> run(const std::vector<Value>& inputs, const reference::RunLimits& limits = {},
                         const NodeProfiler* profiler = nullptr) const;

  // The graph as received (inputs/outputs, names); execution runs the rewritten graph.
  const Graph& graph() const { return graph_; }
  const Graph& execution_graph() const { return exec_; }
  // Per received node: "onednn", "native", "reference", "onednn+fused", "folded-into-conv", "fused-into-conv".
  const std::vector<std::string>& implementations() const { return impl_; }
  // How many inputs are converted from a oneDNN layout to plain before their kernel (each run).
  size_t plain_conversions() const {
    size_t n = 0;
    for (const auto& p : plan_) n += p.plain_inputs.size();
    return n;
  }
  // The serialized form: kernel names, then the prepared constants (written straight into the
  // caller's buffer: no intermediate copy of the weights).
  size_t serialized_size() const;
  void serialize_to(char* out) const;
  std::string serialize() const;
  // Parses serialize()'s bytes; Error(data_loss) if corrupt. `in_place`: the caller keeps `data`
  // valid for the executable's lifetime, so prepared constants are used where they lie.
  static Serialized parse(const void* data, size_t size, size_t expected_nodes, bool in_place);
  // How the build went, for load reports: "12 prepared constants (548.0 MiB, in place), kernels
  // built in 41.2 ms".
  const std::string& build_note() const { return build_note_; }

 private:
  void report_node_event(const NodeProfiler& profiler, size_t exec_node, uint64_t start_ns) const;

  Graph graph_;                    // as received
  Graph exec_;                     // after the graph passes
  std::vector<std::string> impl_;  // per received node (serialized)
  std::vector<NodePlan> plan_;     // per execution node
  // Per execution node: the first received node it runs (a fused kernel's anchor), for profiling.
  std::vector<size_t> received_node_;
  std::vector<int64_t> last_use_;
  // Per value of the execution graph: the initializers as values (read in place by every run),
  // and 1 where there is one.
  std::vector<Value> constants_;
  std::vector<char> constant_;
  // The memory plan: per execution node, the arena slices its outputs take (run_arena.h).
  std::vector<std::vector<PlannedSlice>> node_slices_;
  size_t arena_bytes_ = 0;
  std::vector<char> has_subgraph_;
  reference::Interpreter interpreter_;
  std::unique_ptr<PackedConstants> packed_;
  std::string build_note_;
  int threads_ = 1;
};

// One node's support answer, as query_support reports it (strings of any length).
struct SupportAnswer {
  sy_support_reason reason = SY_SUPPORTED;
  std::string message;         // why not; for a fused node, what it runs fused with
  std::string implementation;  // how it runs: "onednn", "reference", "onednn+fused", ...
};

// Per-node support answer used by query_support.
SupportAnswer support_for(const Node& node, const Graph& graph, int threads);
// Answers for every node of `graph` (graph.nodes.size() entries), reporting fusion as compile()
// would apply it.
std::vector<SupportAnswer> support_for_graph(Graph graph, int threads);

// Whether compile-time fusion runs (SWITCHYARD_CPU_FUSION=0 turns it off) and whether fused
// convolutions keep activations in oneDNN's blocked layout (SWITCHYARD_CPU_BLOCKED=0: off).
bool fusion_enabled();
bool blocked_layout_enabled();
// The fusion plan compile() uses for `graph`.
FusionPlan plan_fusions(const Graph& graph, int threads);

}  // namespace switchyard::cpu
