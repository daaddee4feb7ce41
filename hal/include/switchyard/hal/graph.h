// Graph IR: the model as Switchyard sees it after import. Shared by the runtime,
// the partitioner, the reference and (through the C view in graph_view.h) plugins.
//
// Values are numbered; nodes refer to them by index (-1 = an omitted optional
// input). Initializers are Tensors that usually wrap the model's own bytes.
// Nested graphs (If/Loop/Scan bodies) may reference outer-scope values by name:
// such values appear in the nested graph's value table without a producer.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "switchyard/hal/element_type.h"
#include "switchyard/hal/status.h"
#include "switchyard/hal/tensor.h"

namespace switchyard {

// One dimension: a static size, or a symbol ("N") / unknown (value -1, symbol empty).
struct Dim {
  int64_t value = -1;
  std::string symbol;
  bool is_static() const { return value >= 0; }
};

struct TensorType {
  ElementType elem = ElementType::undefined;
  std::optional<std::vector<Dim>> shape;  // nullopt: rank unknown
  bool has_static_shape() const;
  std::optional<Shape> static_shape() const;
  std::string to_string() const;  // "float32[1,3,N,224]"
};

struct ValueType {
  enum class Kind { unknown, tensor, sequence, optional, map };
  Kind kind = Kind::tensor;
  TensorType tensor;                  // kind == tensor
  std::shared_ptr<ValueType> element;  // kind == sequence / optional
  std::string to_string() const;
};

struct ValueInfo {
  std::string name;
  ValueType type;
};

class Graph;

struct Attribute {
  enum class Type { undefined, floating, integer, string, tensor, graph, floats, ints, strings, tensors, graphs,
                    type_proto, type_protos };
  std::string name;
  Type type = Type::undefined;
  float f = 0;
  int64_t i = 0;
  std::string s;
  Tensor t;
  std::shared_ptr<Graph> g;
  std::vector<float> floats;
  std::vector<int64_t> ints;
  std::vector<std::string> strings;
  std::vector<Tensor> tensors;
  std::vector<std::shared_ptr<Graph>> graphs;
  std::vector<ValueType> type_protos;  // type_proto uses element 0
};

const char* attribute_type_name(Attribute::Type t);

struct Node {
  std::string name;
  std::string domain;  // "" is the default ONNX domain ("ai.onnx")
  std::string op_type;
  int64_t opset = 0;   // opset version of `domain` imported by the model
  std::vector<int32_t> inputs;   // value ids, -1 = omitted optional input
  std::vector<int32_t> outputs;  // value ids, -1 = omitted optional output
  std::vector<Attribute> attributes;

  const Attribute* attr(const std::string& name) const;
  // Typed lookups; throw Error(invalid_argument) when present with another type.
  int64_t attr_int(const std::string& name, int64_t fallback) const;
  float attr_float(const std::string& name, float fallback) const;
  std::string attr_string(const std::string& name, const std::string& fallback) const;
  std::vector<int64_t> attr_ints(const std::string& name, const std::vector<int64_t>& fallback = {}) const;
  std::vector<float> attr_floats(const std::string& name, const std::vector<float>& fallback = {}) const;
  // "Conv 'conv1'" for messages; uses the op type alone if the node has no name.
  std::string describe() const;
};

struct OpsetImport {
  std::string domain;
  int64_t version = 0;
};

// Name -> first value id with that name, for Graph::find_value. Built lazily over the values added
// since the last lookup (values are append-only and a value's name never changes once added), so
// lookups cost O(1) amortised instead of a scan of every value. Thread-safe for concurrent const
// lookups on a shared graph. A copy starts empty and is rebuilt on its first lookup.
// An open-addressing table of (name hash, value id): no string is copied and nothing is allocated
// per value (a node-based map cost a third of a 10^6-node import).
class ValueNameIndex {
 public:
  ValueNameIndex() = default;
  ValueNameIndex(const ValueNameIndex&) {}
  ValueNameIndex& operator=(const ValueNameIndex&);
  int32_t find(const std::vector<ValueInfo>& values, const std::string& name) const;

 private:
  struct Slot {
    uint64_t hash = 0;
    int32_t id = -1;  // -1: empty
  };
  enum class Probe { found, absent, stale };
  void clear() const;
  void cover(const std::vector<ValueInfo>& values) const;
  void grow(size_t capacity) const;
  Probe probe(const std::vector<ValueInfo>& values, const std::string& name, uint64_t hash, size_t& slot) const;

  mutable std::mutex mu_;
  mutable std::vector<Slot> slots_;  // power-of-two size, at most half full
  mutable size_t covered_ = 0;       // values[0, covered_) are in slots_
};

class Graph {
 public:
  std::string name;
  std::vector<ValueInfo> values;
  std::vector<Node> nodes;            // topologically ordered after import
  std::vector<int32_t> inputs;        // runtime inputs (initializers excluded)
  std::vector<int32_t> outputs;
  std::map<int32_t, Tensor> initializers;
  std::vector<OpsetImport> opsets;

  // Value lookup by name; -1 if absent.
  int32_t find_value(const std::string& name) const;
  // Adds a value (or returns the existing one with that name).
  int32_t add_value(const std::string& name, ValueType type = {});
  const std::string& value_name(int32_t id) const { return values.at(static_cast<size_t>(id)).name; }
  bool is_initializer(int32_t id) const { return initializers.count(id) != 0; }
  int64_t opset_version(const std::string& domain) const;  // 0 if not imported

  // Orders `nodes` so every node follows the producers of its inputs. Fails,
  // naming a node on the cycle, if there is one; fails naming the node and value
  // if a node reads a value that no node, input, initializer or outer scope
  // (`outer_scope_names`) provides.
  Status topological_sort(const std::vector<std::string>& outer_scope_names = {});
  // Ids of values used by nodes (and nested graphs) but produced by nothing in this graph.
  std::vector<int32_t> outer_scope_values() const;

 private:
  ValueNameIndex name_index_;
};

// Every value name in `node`'s nested graphs (If/Loop/Scan bodies), at any depth: a superset of
// the outer-scope names they read.
void collect_nested_value_names(const Node& node, std::set<std::string>& names);

}  // namespace switchyard
