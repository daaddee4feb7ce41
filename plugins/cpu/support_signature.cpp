#include "support_signature.h"

namespace switchyard::cpu {

namespace {
void append_type(std::string& key, const Graph& g, int32_t v) {
  if (v < 0) {
    key += "-;";
    return;
  }
  key += g.values[static_cast<size_t>(v)].type.to_string();
  key += ';';
}

template <typename T>
void append_list(std::string& key, const std::vector<T>& items) {
  for (const auto& x : items) key += std::to_string(x) + ',';
}

// False for attributes whose value the key cannot hold cheaply (tensors, graphs, types).
bool append_attribute(std::string& key, const Attribute& a) {
  key += a.name + '=';
  switch (a.type) {
    case Attribute::Type::floating: key += std::to_string(a.f); break;
    case Attribute::Type::integer: key += std::to_string(a.i); break;
    case Attribute::Type::string: key += std::to_string(a.s.size()) + ':' + a.s; break;
    case Attribute::Type::floats: append_list(key, a.floats); break;
    case Attribute::Type::ints: append_list(key, a.ints); break;
    case Attribute::Type::strings:
      for (const auto& s : a.strings) key += std::to_string(s.size()) + ':' + s;
      break;
    default: return false;
  }
  key += ';';
  return true;
}
}  // namespace

std::optional<std::string> support_signature(const Node& node, const Graph& graph) {
  std::string key = node.domain + '|' + node.op_type + '|' + std::to_string(node.opset) + '|';
  for (const auto& a : node.attributes)
    if (!append_attribute(key, a)) return std::nullopt;
  key += '|';
  for (int32_t v : node.inputs) {
    if (v >= 0 && graph.is_initializer(v)) return std::nullopt;
    append_type(key, graph, v);
  }
  key += '|';
  for (int32_t v : node.outputs) append_type(key, graph, v);
  return key;
}

}  // namespace switchyard::cpu
