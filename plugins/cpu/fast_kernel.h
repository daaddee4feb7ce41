// CPU plugin: the interface of fast (non-reference) kernels. A provider looks at a node,
// its static shapes and constant inputs at compile time and either builds a kernel
// (with weights prepared once) or declines, in which case the reference kernel runs.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "graph_passes.h"
#include "switchyard/hal/graph.h"
#include "switchyard/hal/tensor.h"

namespace switchyard::cpu {

// The layout a value is kept in between kernels: null = plain row-major; otherwise an
// opaque oneDNN memory descriptor (kernels/onednn.cpp). Such values travel as float32 1-D
// tensors holding the descriptor's bytes and are only read by kernels told the layout.
using Layout = std::shared_ptr<const void>;

class FastKernel {
 public:
  virtual ~FastKernel() = default;
  // Inputs in node order (nullptr = omitted); outputs sized to the node's outputs.
  // Must be thread-safe for concurrent calls (no mutable state shared between runs).
  virtual void run(const std::vector<const Value*>& inputs, std::vector<Value>& outputs) const = 0;
  // The layout output 0 leaves in (null: plain). Only kernels built with ctx.blocked_dst set
  // may leave anything else.
  virtual Layout output_layout() const { return nullptr; }
  // The input whose storage output 0 shares (a view, or accumulation into the input), or -1: the
  // memory plan keeps that storage for as long as the output lives.
  virtual int output_aliases_input() const { return -1; }
  // The temporary blocks a run takes through take_block after its outputs (scratchpads and layout
  // conversions of kPooledBytes or more), in order, for the memory plan.
  virtual std::vector<size_t> pooled_temps() const { return {}; }
};

// Elementwise work this small runs on the calling thread: a parallel region's fork and join cost
// more than the work (on a loaded machine, a hundred times more: a 10^5-node chain of Relu on 16
// floats took 107 us per node with two threads, 3 us with one).
inline constexpr int64_t kSerialElements = int64_t{1} << 15;
inline int threads_for_elements(int threads, const Shape& shape) {
  const auto n = shape_numel(shape);
  return n && *n < kSerialElements ? 1 : threads;
}

class PackedConstants;
inline constexpr uint32_t kWeightsSlot = 0;  // PackedConstants slot of a kernel's weights

struct CompileContext {
  const Graph& graph;
  int threads;  // threads a kernel may use
  // Prepared constants of the executable being built (null: kernels built later, at run time):
  // at compile, kernels record the constants they prepare; at restore, they take them from here.
  PackedConstants* packed = nullptr;
  int64_t node_index = -1;  // the execution node being built (the key of its constants)
  // Layout planning (static shapes only; see CpuExecutable::build): the layout each input
  // arrives in (empty or null entries: plain) and whether output 0 may stay in the layout its
  // primitive prefers instead of plain.
  std::vector<Layout> input_layouts{};
  bool blocked_dst = false;
};

struct FastKernelProvider {
  const char* implementation;  // reported in support answers ("onednn", "native")
  const char* op_type;
  // True if this provider would run the node (types/attributes/shapes it handles).
  bool (*accepts)(const Node& node, const CompileContext& ctx);
  // Builds the kernel; may throw switchyard::Error.
  std::unique_ptr<FastKernel> (*create)(const Node& node, const CompileContext& ctx);
};

// How a FusedConv node (graph_passes.h) runs: its post-ops; its boundary layouts come with the
// CompileContext (input 0 and input 3, the sum operand).
struct FusedConvSpec {
  std::vector<ConvPostOp> post_ops;
  bool sum_in_place = false;  // input 3's storage is exclusively this node's (its last use)
};

// Builds a FusedConv kernel (static shapes: primitives built now, boundary layouts as
// ctx says; dynamic: plain, per shape at run time, with a reference fallback).
std::unique_ptr<FastKernel> create_fused_conv(const Node& node, const CompileContext& ctx, const FusedConvSpec& spec);

// Operators that run on inputs held in a oneDNN layout and may keep it (Conv, pooling,
// elementwise activations, BatchNormalization: input 0; Concat: every input), with static shapes.
bool takes_layouts(const Node& node, size_t input);
// Builds such a node's kernel for ctx.input_layouts (static shapes); null when oneDNN cannot run
// it that way (the node then gets its inputs converted to plain and its usual kernel).
std::unique_ptr<FastKernel> create_layout_kernel(const Node& node, const CompileContext& ctx);
// The bytes a value held in `layout` takes (as uninitialized storage for it is sized).
size_t layout_bytes(const Layout& layout);
// A value held in `layout`, as a plain row-major tensor of `shape`.
Value to_plain(const Value& value, const Layout& layout, const Shape& shape);
// True if oneDNN runs the Conv `conv` of `graph` with these post-ops (input 3 = sum operand).
bool fused_conv_supported(const Node& conv, const Graph& graph, int threads, const std::vector<ConvPostOp>& ops);
// Float32 tensor with uninitialised storage (for outputs a kernel overwrites completely).
Tensor uninitialized_f32(const Shape& shape);

// All providers, in preference order (kernels/registry.cpp).
const std::vector<FastKernelProvider>& fast_kernel_providers();

// Helpers for providers: static shape / constant lookups in the graph.
const Tensor* constant_input(const Node& node, const Graph& graph, size_t i);
std::optional<Shape> static_shape_of(const Graph& graph, int32_t value);
ElementType elem_type_of(const Graph& graph, int32_t value);

}  // namespace switchyard::cpu
