// Constant folding before planning: nodes whose inputs are all constants become initializers.
#include "switchyard/runtime/constant_folding.h"

#include <algorithm>
#include <set>

#include "switchyard/reference/interpreter.h"

namespace switchyard {

namespace {
bool is_nondeterministic(const Node& n) {
  static const std::set<std::string> ops = {"RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike",
                                            "Multinomial", "Bernoulli"};
  return ops.count(n.op_type) != 0;
}
}  // namespace

Result<int> fold_constants(Graph& graph, size_t max_bytes) {
  reference::Interpreter interp;
  int folded = 0;
  std::vector<Node> kept;
  kept.reserve(graph.nodes.size());
  std::set<int32_t> graph_outputs(graph.outputs.begin(), graph.outputs.end());
  auto set_constant = [&](int32_t id, const Tensor& t) {
    graph.initializers[id] = t;
    auto& vt = graph.values[static_cast<size_t>(id)].type;
    vt.kind = ValueType::Kind::tensor;
    vt.tensor.elem = t.type();
    vt.tensor.shape.emplace();
    for (int64_t d : t.shape()) vt.tensor.shape->push_back({d, {}});
  };
  for (auto& node : graph.nodes) {
    // Shape and Size of a value whose shape is static are constants, whatever its contents.
    if ((node.op_type == "Shape" || node.op_type == "Size") && node.domain.empty() && node.inputs.size() == 1 &&
        node.inputs[0] >= 0 && node.outputs.size() == 1 && node.outputs[0] >= 0 && !graph_outputs.count(node.outputs[0])) {
      const ValueType& in = graph.values[static_cast<size_t>(node.inputs[0])].type;
      bool is_static = in.kind == ValueType::Kind::tensor && in.tensor.shape.has_value();
      if (is_static)
        for (const auto& d : *in.tensor.shape) is_static = is_static && d.is_static();
      if (is_static) {
        std::vector<int64_t> dims;
        for (const auto& d : *in.tensor.shape) dims.push_back(d.value);
        const auto rank = static_cast<int64_t>(dims.size());
        if (node.op_type == "Size") {
          int64_t n = 1;
          for (int64_t d : dims) n *= d;
          set_constant(node.outputs[0], Tensor::scalar<int64_t>(ElementType::int64, n));
        } else {
          auto clamp = [&](int64_t v) { return std::clamp<int64_t>(v < 0 ? v + rank : v, 0, rank); };
          int64_t start = clamp(node.attr_int("start", 0)), end = clamp(node.attr_int("end", rank));
          std::vector<int64_t> part(dims.begin() + start, dims.begin() + std::max(start, end));
          set_constant(node.outputs[0], Tensor::from_vector<int64_t>(ElementType::int64, {static_cast<int64_t>(part.size())}, part));
        }
        ++folded;
        continue;
      }
    }
    bool foldable = !is_nondeterministic(node) && interp.supports(node) && !node.outputs.empty();
    for (const auto& a : node.attributes) foldable = foldable && !a.g && a.graphs.empty();
    for (int32_t v : node.inputs) foldable = foldable && (v < 0 || graph.is_initializer(v));
    for (int32_t o : node.outputs) foldable = foldable && o >= 0 && !graph_outputs.count(o);
    if (!foldable) {
      kept.push_back(std::move(node));
      continue;
    }
    // Evaluate the single node as a tiny graph.
    Graph one;
    one.opsets = graph.opsets;
    std::vector<int32_t> remap(graph.values.size(), -1);
    auto map_value = [&](int32_t v) {
      if (v < 0) return -1;
      if (remap[static_cast<size_t>(v)] < 0) {
        one.values.push_back(graph.values[static_cast<size_t>(v)]);
        remap[static_cast<size_t>(v)] = static_cast<int32_t>(one.values.size() - 1);
      }
      return remap[static_cast<size_t>(v)];
    };
    Node copy = node;
    for (auto& v : copy.inputs) {
      int32_t orig = v;
      v = map_value(v);
      if (v >= 0) one.initializers[v] = graph.initializers.at(orig);
    }
    for (auto& v : copy.outputs) {
      v = map_value(v);
      one.outputs.push_back(v);
    }
    one.nodes.push_back(copy);
    auto result = interp.run(one, {});
    bool ok = result.ok();
    size_t bytes = 0;
    if (ok)
      for (const auto& v : *result) {
        ok = ok && v.kind == Value::Kind::tensor;
        if (ok) bytes += v.tensor.byte_size();
      }
    if (!ok || bytes > max_bytes) {
      // Leave it to the device: it will report its own error at run time if the node is wrong.
      kept.push_back(std::move(node));
      continue;
    }
    for (size_t i = 0; i < node.outputs.size(); ++i) set_constant(node.outputs[i], (*result)[i].tensor);
    ++folded;
  }
  graph.nodes = std::move(kept);
  // Drop initializers nothing reads any more.
  std::set<int32_t> used(graph.outputs.begin(), graph.outputs.end());
  for (const auto& n : graph.nodes)
    for (int32_t v : n.inputs) used.insert(v);
  for (int32_t v : graph.outer_scope_values()) used.insert(v);
  bool nested_use = false;  // nested graphs may read any initializer by name: keep all then
  for (const auto& n : graph.nodes)
    for (const auto& a : n.attributes) nested_use = nested_use || a.g || !a.graphs.empty();
  for (auto it = graph.initializers.begin(); it != graph.initializers.end();) {
    if (!used.count(it->first) && !nested_use) it = graph.initializers.erase(it);
    else ++it;
  }
  return folded;
}

}  // namespace switchyard
