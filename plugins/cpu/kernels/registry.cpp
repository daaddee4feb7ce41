// CPU plugin: the list of fast kernel providers and small helpers they share.
#include "../fast_kernel.h"

namespace switchyard::cpu {

// Each family file defines an append function; listed here in preference order.
void append_batchnorm_providers(std::vector<FastKernelProvider>& out);
void append_onednn_providers(std::vector<FastKernelProvider>& out);
void append_movement_providers(std::vector<FastKernelProvider>& out);
void append_resize_providers(std::vector<FastKernelProvider>& out);

const std::vector<FastKernelProvider>& fast_kernel_providers() {
  static const std::vector<FastKernelProvider> providers = [] {
    std::vector<FastKernelProvider> p;
    append_batchnorm_providers(p);
    append_onednn_providers(p);
    append_movement_providers(p);
    append_resize_providers(p);
    return p;
  }();
  return providers;
}

const Tensor* constant_input(const Node& node, const Graph& graph, size_t i) {
  if (i >= node.inputs.size() || node.inputs[i] < 0) return nullptr;
  auto it = graph.initializers.find(node.inputs[i]);
  return it == graph.initializers.end() ? nullptr : &it->second;
}

std::optional<Shape> static_shape_of(const Graph& graph, int32_t value) {
  if (value < 0) return std::nullopt;
  auto it = graph.initializers.find(value);
  if (it != graph.initializers.end()) return it->second.shape();
  const auto& vt = graph.values[static_cast<size_t>(value)].type;
  if (vt.kind != ValueType::Kind::tensor) return std::nullopt;
  return vt.tensor.static_shape();
}

ElementType elem_type_of(const Graph& graph, int32_t value) {
  if (value < 0) return ElementType::undefined;
  auto it = graph.initializers.find(value);
  if (it != graph.initializers.end()) return it->second.type();
  const auto& vt = graph.values[static_cast<size_t>(value)].type;
  return vt.kind == ValueType::Kind::tensor ? vt.tensor.elem : ElementType::undefined;
}

}  // namespace switchyard::cpu
