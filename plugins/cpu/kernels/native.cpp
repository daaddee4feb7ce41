// CPU plugin: helpers of the native kernels (native.h).
#include "native.h"

#include "../block_pool.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>

#include "switchyard/reference/interpreter.h"
#include "switchyard/reference/util.h"

namespace switchyard::cpu::native {

size_t element_bytes(ElementType t) {
  if (t == ElementType::string || t == ElementType::undefined || is_sub_byte(t)) return 0;
  const int bits = element_bits(t);
  return bits > 0 && bits % 8 == 0 ? static_cast<size_t>(bits / 8) : 0;
}

Tensor uninitialized(ElementType type, const Shape& shape) { return uninitialized_tensor(type, shape); }

void run_reference(const Node& node, const std::vector<const Value*>& inputs, std::vector<Value>& outputs) {
  const reference::KernelFn* fn = reference::KernelRegistry::instance().find(node.domain, node.op_type);
  if (!fn) throw_error(StatusCode::internal, "no reference kernel for " + node.op_type);
  static const reference::Interpreter interpreter;
  static const std::map<std::string, const Value*> no_scope;
  reference::KernelContext ctx(node, inputs, outputs, interpreter, no_scope);
  (*fn)(ctx);
}

const Tensor* tensor_input(const std::vector<const Value*>& inputs, size_t i) {
  if (i >= inputs.size() || !inputs[i] || inputs[i]->kind != Value::Kind::tensor) return nullptr;
  return &inputs[i]->tensor;
}

std::optional<std::vector<int64_t>> constant_ints(const Node& node, const Graph& graph, size_t i) {
  const Tensor* t = constant_input(node, graph, i);
  if (!t || t->rank() > 1 || !(is_signed_integer(t->type()) || is_unsigned_integer(t->type())) ||
      is_sub_byte(t->type()))
    return std::nullopt;
  return reference::tensor_to_int64_list(*t);
}

bool is_tensor_value(const Graph& graph, int32_t value) {
  if (value < 0) return false;
  if (graph.is_initializer(value)) return true;
  return graph.values[static_cast<size_t>(value)].type.kind == ValueType::Kind::tensor;
}

std::optional<size_t> declared_rank(const Graph& graph, int32_t value) {
  if (value < 0) return std::nullopt;
  auto it = graph.initializers.find(value);
  if (it != graph.initializers.end()) return it->second.shape().size();
  const auto& vt = graph.values[static_cast<size_t>(value)].type;
  if (vt.kind != ValueType::Kind::tensor || !vt.tensor.shape) return std::nullopt;
  return vt.tensor.shape->size();
}

bool has_outputs(const Node& node, size_t n) {
  if (node.outputs.size() < n) return false;
  for (size_t i = 0; i < node.outputs.size(); ++i)
    if ((i < n) != (node.outputs[i] >= 0)) return false;
  return true;
}

}  // namespace switchyard::cpu::native
