// Helpers shared by the reference-interpreter tests: attribute and tensor builders, a runner for
// graphs of one node, and checks on the tensors it gives back.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "switchyard/reference/interpreter.h"
#include "switchyard/reference/util.h"

namespace switchyard::reference::test {

using ET = ElementType;
inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
inline constexpr double kInf = std::numeric_limits<double>::infinity();

// ---- attributes --------------------------------------------------------------

// An attribute `name` of `type` whose `field` holds `v`.
template <typename Field>
Attribute attr(const std::string& name, Attribute::Type type, Field Attribute::*field, std::type_identity_t<Field> v) {
  Attribute a;
  a.name = name;
  a.type = type;
  a.*field = std::move(v);
  return a;
}

inline Attribute ai(const std::string& name, int64_t v) {
  return attr(name, Attribute::Type::integer, &Attribute::i, v);
}
inline Attribute af(const std::string& name, float v) {
  return attr(name, Attribute::Type::floating, &Attribute::f, v);
}
inline Attribute as(const std::string& name, const std::string& v) {
  return attr(name, Attribute::Type::string, &Attribute::s, v);
}
inline Attribute ais(const std::string& name, const std::vector<int64_t>& v) {
  return attr(name, Attribute::Type::ints, &Attribute::ints, v);
}
inline Attribute afs(const std::string& name, const std::vector<float>& v) {
  return attr(name, Attribute::Type::floats, &Attribute::floats, v);
}
inline Attribute ass(const std::string& name, const std::vector<std::string>& v) {
  return attr(name, Attribute::Type::strings, &Attribute::strings, v);
}
inline Attribute ag(const std::string& name, std::shared_ptr<Graph> g) {
  return attr(name, Attribute::Type::graph, &Attribute::g, std::move(g));
}
inline Attribute at(const std::string& name, Tensor t) {
  return attr(name, Attribute::Type::tensor, &Attribute::t, std::move(t));
}

// ---- tensors and values ------------------------------------------------------

inline Tensor f32(Shape s, std::vector<float> v) { return Tensor::from_vector<float>(ET::float32, std::move(s), v); }
inline Tensor i64(Shape s, std::vector<int64_t> v) { return Tensor::from_vector<int64_t>(ET::int64, std::move(s), v); }
inline Tensor i32(Shape s, std::vector<int32_t> v) { return Tensor::from_vector<int32_t>(ET::int32, std::move(s), v); }

// A tensor of `type` (float32 unless named) from doubles, and one of an integer `type` from int64s.
inline Tensor F(const Shape& shape, const std::vector<double>& v, ET type = ET::float32) {
  return from_doubles(type, shape, v);
}
inline Tensor I(ET type, const Shape& shape, const std::vector<int64_t>& v) { return from_int64s(type, shape, v); }

inline Tensor none() { return Tensor(); }  // an omitted optional input
inline Value T(Tensor t) { return Value::of(std::move(t)); }

inline std::vector<double> vals(const Tensor& t) { return to_doubles(t); }
inline std::vector<int64_t> ints(const Tensor& t) { return to_int64s(t); }

// ---- running one node --------------------------------------------------------

// One input of a one-node graph: a Value, or a Tensor. An input without a value (an undefined
// Tensor, a default Value) is omitted (""); an empty optional Value is bound.
struct Input {
  Value value;
  Input(Value v) : value(std::move(v)) {}                                  // NOLINT: implicit by design
  Input(const Tensor& t) : value(t.defined() ? Value::of(t) : Value()) {}  // NOLINT: implicit by design
  bool omitted() const { return !value.has_value() && !value.is_optional; }
};

// The first `n` outputs of a node, all declared.
inline std::vector<bool> first_outputs(size_t n) { return std::vector<bool>(n, true); }

// Gives `n` its inputs as inputs of `g` (an omitted one as -1) and returns the values to bind.
inline std::vector<Value> add_inputs(Graph& g, Node& n, const std::vector<Input>& inputs) {
  std::vector<Value> feeds;
  for (size_t i = 0; i < inputs.size(); ++i) {
    int32_t id = inputs[i].omitted() ? -1 : g.add_value("in" + std::to_string(i));
    n.inputs.push_back(id);
    if (id < 0) continue;
    g.inputs.push_back(id);
    feeds.push_back(inputs[i].value);
  }
  return feeds;
}

// Gives `n` the outputs `declared` marks (an omitted one as -1), each an output of `g`.
inline void add_outputs(Graph& g, Node& n, const std::vector<bool>& declared) {
  for (size_t k = 0; k < declared.size(); ++k) {
    int32_t id = declared[k] ? g.add_value("out" + std::to_string(k)) : -1;
    n.outputs.push_back(id);
    if (id >= 0) g.outputs.push_back(id);
  }
}

// Runs a graph of one node `op` (in `domain`, at `opset`) and returns its outputs or the run's
// error. `outputs` lists the outputs the node declares: false is an omitted output ("").
inline Result<std::vector<Value>> run_node(const std::string& op, const std::vector<Input>& inputs,
                                           const std::vector<Attribute>& attrs, int64_t opset,
                                           const std::vector<bool>& outputs = {true}, const std::string& domain = "",
                                           const RunOptions& options = {}) {
  Graph g;
  g.name = "test";
  g.opsets.push_back({domain, opset});
  Node n;
  n.domain = domain;
  n.op_type = op;
  n.opset = opset;
  n.attributes = attrs;
  std::vector<Value> feeds = add_inputs(g, n, inputs);
  add_outputs(g, n, outputs);
  g.nodes.push_back(std::move(n));
  return Interpreter().run(g, feeds, options);
}

inline std::vector<Tensor> tensors_of(const std::vector<Value>& values) {
  std::vector<Tensor> out;
  for (const Value& v : values) out.push_back(v.tensor);
  return out;
}

// StatusCode::ok, or the code of the run's error.
inline StatusCode code_of(const Result<std::vector<Value>>& r) { return r.ok() ? StatusCode::ok : r.status().code(); }

// The outputs of a run that must succeed; a failed run throws, which fails the test.
inline std::vector<Value> values_or_throw(Result<std::vector<Value>> r) {
  if (!r.ok()) throw std::runtime_error(r.status().to_string());
  return std::move(r).value();
}

// Runs a node that should succeed and returns its tensor outputs. A failed run is reported to
// gtest and gives one undefined tensor per declared output, so the test goes on.
inline std::vector<Tensor> expect_run(const std::string& op, const std::vector<Input>& inputs,
                                      const std::vector<Attribute>& attrs, int64_t opset,
                                      const std::vector<bool>& outputs = {true}, const std::string& domain = "") {
  auto r = run_node(op, inputs, attrs, opset, outputs, domain);
  if (r.ok()) return tensors_of(*r);
  ADD_FAILURE() << op << " failed: " << r.status().to_string();
  return std::vector<Tensor>(static_cast<size_t>(std::count(outputs.begin(), outputs.end(), true)));
}

// ---- checks ------------------------------------------------------------------

// Compares element by element: NaN matches NaN, infinities must be equal, anything else must be
// within `tol`, relative to the expected value where that is above 1.
inline void expect_values(const Tensor& t, const Shape& shape, const std::vector<double>& want, double tol = 1e-5) {
  ASSERT_TRUE(t.defined());
  ASSERT_EQ(t.shape(), shape);
  ASSERT_EQ(static_cast<size_t>(t.numel()), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    const double got = get_double(t, static_cast<int64_t>(i));
    if (std::isnan(want[i])) {
      EXPECT_TRUE(std::isnan(got)) << "at " << i;
    } else if (std::isinf(want[i])) {
      EXPECT_EQ(got, want[i]) << "at " << i;
    } else {
      EXPECT_NEAR(got, want[i], tol * std::max(1.0, std::fabs(want[i]))) << "at " << i;
    }
  }
}

inline void expect_ints(const Tensor& t, ET type, const Shape& shape, const std::vector<int64_t>& want) {
  ASSERT_TRUE(t.defined());
  ASSERT_EQ(t.type(), type);
  ASSERT_EQ(t.shape(), shape);
  ASSERT_EQ(static_cast<size_t>(t.numel()), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(get_int64(t, static_cast<int64_t>(i)), want[i]) << "at " << i;
}

// Exact comparison, type and shape included.
inline void expect_tensor(const Tensor& t, ET type, const Shape& shape, const std::vector<double>& values) {
  ASSERT_EQ(t.type(), type);
  ASSERT_EQ(t.shape(), shape);
  ASSERT_EQ(t.numel(), static_cast<int64_t>(values.size()));
  for (size_t i = 0; i < values.size(); ++i) EXPECT_EQ(get_double(t, static_cast<int64_t>(i)), values[i]) << "at " << i;
}

}  // namespace switchyard::reference::test
