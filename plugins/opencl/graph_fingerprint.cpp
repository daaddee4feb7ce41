// OpenCL plugin: hashing the parts of a graph a schedule depends on (graph_fingerprint.h).
#include "graph_fingerprint.h"

#include <algorithm>
#include <cstring>

#include "switchyard/hal/hash.h"

namespace switchyard::opencl {

namespace {

void put_float(Hasher& h, double f) {
  uint64_t bits = 0;
  std::memcpy(&bits, &f, sizeof bits);
  h.update_u64(bits);
}

void put_ids(Hasher& h, const std::vector<int32_t>& ids) {
  h.update_u64(ids.size());
  for (int32_t v : ids) h.update_u64(static_cast<uint64_t>(static_cast<int64_t>(v)));
}

void put_tensor(Hasher& h, const Tensor& t) {
  h.update_u64(static_cast<uint64_t>(t.type()));
  h.update_u64(t.shape().size());
  for (int64_t d : t.shape()) h.update_u64(static_cast<uint64_t>(d));
  h.update_u64(t.byte_size());
  if (t.byte_size()) h.update(t.raw(), t.byte_size());
}

// Every field of an attribute but nested graphs, which only count (no OpenCL kernel runs a node
// that has one, so a schedule never holds such a node).
void put_attribute(Hasher& h, const Attribute& a) {
  h.update_field(a.name);
  h.update_u64(static_cast<uint64_t>(a.type));
  put_float(h, a.f);
  h.update_u64(static_cast<uint64_t>(a.i));
  h.update_field(a.s);
  h.update_u64(a.floats.size());
  for (float f : a.floats) put_float(h, f);
  h.update_u64(a.ints.size());
  for (int64_t i : a.ints) h.update_u64(static_cast<uint64_t>(i));
  h.update_u64(a.strings.size());
  for (const auto& s : a.strings) h.update_field(s);
  put_tensor(h, a.t);
  h.update_u64(a.tensors.size());
  for (const auto& t : a.tensors) put_tensor(h, t);
  h.update_u64((a.g ? 1 : 0) + a.graphs.size());
  h.update_u64(a.type_protos.size());
  for (const auto& t : a.type_protos) h.update_field(t.to_string());
}

std::array<uint64_t, 2> digest_of(const Hasher& h) {
  std::array<uint64_t, 2> d{};
  h.digest(d.data());
  return d;
}

std::array<uint64_t, 2> hash_operators(const Graph& g) {
  Hasher h;
  for (const Node& n : g.nodes) {
    h.update_field(n.domain);
    h.update_field(n.op_type);
    h.update_u64(static_cast<uint64_t>(n.opset));
  }
  return digest_of(h);
}

std::array<uint64_t, 2> hash_wiring(const Graph& g) {
  Hasher h;
  h.update_u64(g.nodes.size());
  for (const Node& n : g.nodes) {
    put_ids(h, n.inputs);
    put_ids(h, n.outputs);
  }
  put_ids(h, g.inputs);
  put_ids(h, g.outputs);
  return digest_of(h);
}

std::array<uint64_t, 2> hash_attributes(const Graph& g) {
  Hasher h;
  for (const Node& n : g.nodes) {
    h.update_u64(n.attributes.size());
    for (const Attribute& a : n.attributes) put_attribute(h, a);
  }
  return digest_of(h);
}

// Types and shapes, without names: a renamed value does not change what the kernels compute.
std::array<uint64_t, 2> hash_values(const Graph& g) {
  Hasher h;
  h.update_u64(g.values.size());
  for (const ValueInfo& v : g.values) h.update_field(v.type.to_string());
  return digest_of(h);
}

std::array<uint64_t, 2> hash_initializers(const Graph& g) {
  Hasher h;
  h.update_u64(g.initializers.size());
  for (const auto& [id, t] : g.initializers) {
    h.update_u64(static_cast<uint64_t>(id));
    h.update_u64(static_cast<uint64_t>(t.type()));
    h.update_u64(t.shape().size());
    for (int64_t d : t.shape()) h.update_u64(static_cast<uint64_t>(d));
  }
  return digest_of(h);
}

std::array<uint64_t, 2> hash_baked(const Graph& g, const std::vector<int32_t>& baked) {
  Hasher h;
  for (int32_t id : baked) {
    h.update_u64(static_cast<uint64_t>(static_cast<int64_t>(id)));
    auto it = g.initializers.find(id);
    h.update_u64(it != g.initializers.end());
    if (it != g.initializers.end()) put_tensor(h, it->second);
  }
  return digest_of(h);
}

const char* part_name(GraphPart p) {
  switch (p) {
    case GraphPart::operators: return "operators";
    case GraphPart::wiring: return "node wiring";
    case GraphPart::attributes: return "attributes";
    case GraphPart::values: return "value types and shapes";
    case GraphPart::initializers: return "initializer types and shapes";
    case GraphPart::baked_values: return "initializer values the kernels were specialised on";
    case GraphPart::count: break;
  }
  return "?";
}

std::string op_types_difference(const std::vector<std::string>& compiled, const std::vector<std::string>& given) {
  if (compiled.size() != given.size())
    return "it was compiled for " + std::to_string(compiled.size()) + " nodes, this graph has " + std::to_string(given.size());
  for (size_t i = 0; i < given.size(); ++i)
    if (compiled[i] != given[i]) return "node " + std::to_string(i) + " is " + given[i] + " in this graph, " + compiled[i] + " in the compiled one";
  return "";
}

}  // namespace

GraphFingerprint fingerprint_graph(const Graph& graph, std::vector<int32_t> baked) {
  GraphFingerprint f;
  for (const Node& n : graph.nodes) f.op_types.push_back(n.domain.empty() ? n.op_type : n.domain + "." + n.op_type);
  std::sort(baked.begin(), baked.end());
  baked.erase(std::unique(baked.begin(), baked.end()), baked.end());
  f.baked = std::move(baked);
  auto at = [&](GraphPart p) -> std::array<uint64_t, 2>& { return f.parts[static_cast<size_t>(p)]; };
  at(GraphPart::operators) = hash_operators(graph);
  at(GraphPart::wiring) = hash_wiring(graph);
  at(GraphPart::attributes) = hash_attributes(graph);
  at(GraphPart::values) = hash_values(graph);
  at(GraphPart::initializers) = hash_initializers(graph);
  at(GraphPart::baked_values) = hash_baked(graph, f.baked);
  return f;
}

std::string fingerprint_difference(const GraphFingerprint& compiled, const GraphFingerprint& given) {
  if (std::string ops = op_types_difference(compiled.op_types, given.op_types); !ops.empty()) return ops;
  std::string parts;
  for (size_t p = 0; p < compiled.parts.size(); ++p)
    if (compiled.parts[p] != given.parts[p]) parts += std::string(parts.empty() ? "" : ", ") + part_name(static_cast<GraphPart>(p));
  return parts.empty() ? "" : "this graph's " + parts + " differ from the compiled graph's";
}

}  // namespace switchyard::opencl
