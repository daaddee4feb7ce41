// Test helpers of the CPU plugin's kernel tests: a graph of one node with runtime inputs
// and constants (initializers), deterministic data, and the node's inputs bound as the
// executable binds them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "switchyard/hal/graph.h"
#include "switchyard/hal/tensor.h"

namespace switchyard::cpu::kernel_test {

inline Attribute ai(const std::string& name, int64_t v) {
  Attribute a;
  a.name = name;
  a.type = Attribute::Type::integer;
  a.i = v;
  return a;
}

inline Attribute af(const std::string& name, float v) {
  Attribute a;
  a.name = name;
  a.type = Attribute::Type::floating;
  a.f = v;
  return a;
}

inline Attribute as(const std::string& name, const std::string& v) {
  Attribute a;
  a.name = name;
  a.type = Attribute::Type::string;
  a.s = v;
  return a;
}

inline Attribute ais(const std::string& name, const std::vector<int64_t>& v) {
  Attribute a;
  a.name = name;
  a.type = Attribute::Type::ints;
  a.ints = v;
  return a;
}

// Deterministic values in [-1, 1).
inline Tensor random_tensor(const Shape& shape, uint32_t seed) {
  Tensor t = Tensor::allocate(ElementType::float32, shape);
  uint32_t x = seed * 2654435761u + 12345u;
  float* p = t.mutable_data<float>();
  for (int64_t i = 0; i < t.numel(); ++i) {
    x = x * 1664525u + 1013904223u;
    p[i] = static_cast<float>((x >> 8) & 0xffff) / 32768.0f - 1.0f;
  }
  return t;
}

// One input of the test node: a runtime input or a constant (initializer); an undefined
// tensor is an omitted optional input. `dynamic` declares a runtime input without shape.
struct In {
  Tensor t;
  bool constant = false;
  bool dynamic = false;
};
inline In input(Tensor t) { return {std::move(t), false, false}; }
inline In constant(Tensor t) { return {std::move(t), true, false}; }
inline In dynamic(Tensor t) { return {std::move(t), false, true}; }
inline In omitted() { return {Tensor(), false, false}; }

struct Case {
  Graph graph;
  std::vector<Value> feeds;
};

inline Case make_case(const std::string& op, const std::vector<In>& ins, const std::vector<Attribute>& attrs, int64_t opset,
               size_t n_out) {
  Case c;
  Graph& g = c.graph;
  g.name = "test";
  g.opsets.push_back({"", opset});
  Node n;
  n.op_type = op;
  n.opset = opset;
  n.attributes = attrs;
  for (size_t i = 0; i < ins.size(); ++i) {
    if (!ins[i].t.defined()) {
      n.inputs.push_back(-1);
      continue;
    }
    ValueType vt;
    vt.kind = ValueType::Kind::tensor;
    vt.tensor.elem = ins[i].t.type();
    if (!ins[i].dynamic) {
      std::vector<Dim> dims;
      for (int64_t d : ins[i].t.shape()) dims.push_back(Dim{d, ""});
      vt.tensor.shape = dims;
    } else {
      std::vector<Dim> dims;
      for (size_t d = 0; d < ins[i].t.shape().size(); ++d) dims.push_back(Dim{-1, "d" + std::to_string(d)});
      vt.tensor.shape = dims;
    }
    int32_t id = g.add_value("in" + std::to_string(i), vt);
    n.inputs.push_back(id);
    if (ins[i].constant) {
      g.initializers[id] = ins[i].t;
    } else {
      g.inputs.push_back(id);
      c.feeds.push_back(Value::of(ins[i].t));
    }
  }
  for (size_t k = 0; k < n_out; ++k) {
    int32_t out = g.add_value("out" + std::to_string(k));
    n.outputs.push_back(out);
    g.outputs.push_back(out);
  }
  g.nodes.push_back(n);
  return c;
}

// Every node input (initializers included) as the executable binds them; `slots` holds the values.
inline std::vector<const Value*> bind_inputs(const Case& c, std::vector<Value>& slots) {
  const Node& node = c.graph.nodes[0];
  slots.clear();
  slots.reserve(node.inputs.size());
  std::vector<const Value*> in;
  size_t feed = 0;
  for (int32_t v : node.inputs) {
    if (v < 0) {
      in.push_back(nullptr);
      continue;
    }
    auto it = c.graph.initializers.find(v);
    slots.push_back(it != c.graph.initializers.end() ? Value::of(it->second) : c.feeds[feed++]);
    in.push_back(&slots.back());
  }
  return in;
}

}  // namespace switchyard::cpu::kernel_test
