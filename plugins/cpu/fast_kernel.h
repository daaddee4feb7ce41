// CPU plugin: the interface of fast (non-reference) kernels. A provider looks at a node,
// its static shapes and constant inputs at compile time and either builds a kernel
// (with weights prepared once) or declines, in which case the reference kernel runs.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "switchyard/graph.h"
#include "switchyard/tensor.h"

namespace switchyard::cpu {

class FastKernel {
 public:
  virtual ~FastKernel() = default;
  // Inputs in node order (nullptr = omitted); outputs sized to the node's outputs.
  // Must be thread-safe for concurrent calls (no mutable state shared between runs).
  virtual void run(const std::vector<const Value*>& inputs, std::vector<Value>& outputs) const = 0;
};

struct CompileContext {
  const Graph& graph;
  int threads;  // threads a kernel may use
};

struct FastKernelProvider {
  const char* implementation;  // reported in support answers ("onednn")
  const char* op_type;
  // True if this provider would run the node (types/attributes/shapes it handles).
  bool (*accepts)(const Node& node, const CompileContext& ctx);
  // Builds the kernel; may throw switchyard::Error.
  std::unique_ptr<FastKernel> (*create)(const Node& node, const CompileContext& ctx);
};

// All providers, in preference order (kernels/registry.cpp).
const std::vector<FastKernelProvider>& fast_kernel_providers();

// Helpers for providers: static shape / constant lookups in the graph.
const Tensor* constant_input(const Node& node, const Graph& graph, size_t i);
std::optional<Shape> static_shape_of(const Graph& graph, int32_t value);
ElementType elem_type_of(const Graph& graph, int32_t value);

}  // namespace switchyard::cpu
