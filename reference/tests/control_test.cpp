// Tests for the reference control kernels (Constant, Identity, If, Loop, Scan) and the
// interpreter's subgraph scoping.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <thread>

#include "switchyard/reference/interpreter.h"
#include "switchyard/reference/util.h"
#include "test_util.h"

namespace switchyard::reference {
namespace {

using namespace switchyard::reference::test;

Tensor b(bool v) { return Tensor::scalar<uint8_t>(ElementType::boolean, v ? 1 : 0); }
Tensor m(int64_t v) { return Tensor::scalar<int64_t>(ElementType::int64, v); }

ValueType tensor_type(ElementType e, std::vector<int64_t> dims) {
  ValueType t;
  t.kind = ValueType::Kind::tensor;
  t.tensor.elem = e;
  std::vector<Dim> d;
  for (int64_t v : dims) d.push_back(Dim{v, ""});
  t.tensor.shape = d;
  return t;
}

// Builds graphs by value name; "" is an omitted input.
struct Builder {
  std::shared_ptr<Graph> g = std::make_shared<Graph>();
  int64_t opset;
  explicit Builder(int64_t opset_ = 16, const std::string& name = "g") : opset(opset_) {
    g->name = name;
    g->opsets.push_back({"", opset});
  }
  int32_t id(const std::string& n) { return g->add_value(n); }
  Builder& in(const std::string& n) {
    g->inputs.push_back(id(n));
    return *this;
  }
  Builder& out(const std::string& n, ValueType t = {}) {
    int32_t v = id(n);
    if (t.kind == ValueType::Kind::tensor && t.tensor.elem != ElementType::undefined) g->values[static_cast<size_t>(v)].type = t;
    g->outputs.push_back(v);
    return *this;
  }
  Builder& node(const std::string& op, const std::vector<std::string>& ins, const std::vector<std::string>& outs,
                std::vector<Attribute> attrs = {}) {
    Node n;
    n.op_type = op;
    n.opset = opset;
    n.name = op + std::to_string(g->nodes.size());
    for (const auto& s : ins) n.inputs.push_back(s.empty() ? -1 : id(s));
    for (const auto& s : outs) n.outputs.push_back(s.empty() ? -1 : id(s));
    n.attributes = std::move(attrs);
    g->nodes.push_back(std::move(n));
    return *this;
  }
};

std::vector<Value> run(const Builder& bld, const std::vector<Value>& inputs, const RunOptions& opts = {}) {
  return values_or_throw(Interpreter().run(*bld.g, inputs, opts));
}
StatusCode error_of(const Builder& bld, const std::vector<Value>& inputs) {
  return code_of(Interpreter().run(*bld.g, inputs));
}

void expect_tensor(const Value& v, ElementType type, const Shape& shape, const std::vector<double>& values) {
  ASSERT_EQ(v.kind, Value::Kind::tensor);
  test::expect_tensor(v.tensor, type, shape, values);
}

// ---------------------------------------------------------------------------
// Constant / Identity

TEST(ControlKernels, ConstantForms) {
  Builder g;
  g.node("Constant", {}, {"a"}, {at("value", i64({2}, {1, 2}))});
  Attribute vf;
  vf.name = "value_floats";
  vf.type = Attribute::Type::floats;
  vf.floats = {1.5f, 2.5f};
  g.node("Constant", {}, {"b"}, {vf});
  g.node("Constant", {}, {"c"}, {ai("value_int", -7)});
  g.out("a").out("b").out("c");
  auto r = run(g, {});
  expect_tensor(r[0], ElementType::int64, {2}, {1, 2});
  expect_tensor(r[1], ElementType::float32, {2}, {1.5, 2.5});
  expect_tensor(r[2], ElementType::int64, {}, {-7});
  Builder bad;
  bad.node("Constant", {}, {"a"}, {ai("value_int", 1), ai("value_float", 1)}).out("a");
  EXPECT_EQ(error_of(bad, {}), StatusCode::invalid_argument);
}

// ---------------------------------------------------------------------------
// If

// then: x + y (y from the outer scope); else: x - y.
Builder if_model() {
  Builder then_b(16, "then");
  then_b.node("Add", {"x", "y"}, {"t"}).out("t");
  Builder else_b(16, "else");
  else_b.node("Sub", {"x", "y"}, {"e"}).out("e");
  Builder g;
  g.in("cond").in("x").in("y");
  g.node("If", {"cond"}, {"r"}, {ag("then_branch", then_b.g), ag("else_branch", else_b.g)}).out("r");
  return g;
}

TEST(ControlKernels, IfPicksBranchAndSeesOuterScope) {
  Builder g = if_model();
  expect_tensor(run(g, {T(b(true)), T(f32({2}, {1, 2})), T(f32({2}, {10, 20}))})[0], ElementType::float32, {2}, {11, 22});
  expect_tensor(run(g, {T(b(false)), T(f32({2}, {1, 2})), T(f32({2}, {10, 20}))})[0], ElementType::float32, {2},
                {-9, -18});
  // A one-element tensor of any rank is a valid condition.
  Tensor c1 = Tensor::from_vector<uint8_t>(ElementType::boolean, {1, 1}, {1});
  expect_tensor(run(g, {T(c1), T(f32({1}, {1})), T(f32({1}, {1}))})[0], ElementType::float32, {1}, {2});
}

TEST(ControlKernels, IfRejectsBadCondition) {
  Builder g = if_model();
  Tensor two = Tensor::from_vector<uint8_t>(ElementType::boolean, {2}, {1, 0});
  EXPECT_EQ(error_of(g, {T(two), T(f32({1}, {1})), T(f32({1}, {1}))}), StatusCode::invalid_argument);
  EXPECT_EQ(error_of(g, {T(f32({}, {1})), T(f32({1}, {1})), T(f32({1}, {1}))}), StatusCode::invalid_argument);
}

TEST(ControlKernels, IfOutputCountMustMatch) {
  Builder then_b(16, "then");
  then_b.node("Identity", {"x"}, {"t"}).out("t").out("x");
  Builder g;
  g.in("cond").in("x");
  g.node("If", {"cond"}, {"r"}, {ag("then_branch", then_b.g), ag("else_branch", then_b.g)}).out("r");
  EXPECT_EQ(error_of(g, {T(b(true)), T(f32({1}, {1}))}), StatusCode::invalid_argument);
}

TEST(ControlKernels, IfMayReturnSequencesAndEmptyOptionals) {
  Builder then_b(16, "then");
  then_b.node("SequenceConstruct", {"x", "x"}, {"s"}).out("s");
  Builder else_b(16, "else");
  Attribute type;
  type.name = "type";
  type.type = Attribute::Type::type_proto;
  type.type_protos.push_back(tensor_type(ElementType::float32, {1}));
  else_b.node("Optional", {}, {"o"}, {type}).out("o");
  Builder g;
  g.in("cond").in("x");
  g.node("If", {"cond"}, {"r"}, {ag("then_branch", then_b.g), ag("else_branch", else_b.g)}).out("r");
  auto r = run(g, {T(b(true)), T(f32({1}, {3}))});
  ASSERT_EQ(r[0].kind, Value::Kind::sequence);
  EXPECT_EQ(r[0].sequence.size(), 2u);
  auto e = run(g, {T(b(false)), T(f32({1}, {3}))});
  EXPECT_FALSE(e[0].has_value());
  EXPECT_TRUE(e[0].is_optional);
}

// ---------------------------------------------------------------------------
// Loop

// body(i, cond, y) -> (cond, y + i, y + i as a scan output); y is int64 [1].
Builder loop_model(bool cond_from_less = false, int64_t limit = 0) {
  Builder body(16, "body");
  body.in("i").in("cond_in").in("y");
  body.node("Add", {"y", "i"}, {"y_out"});
  if (cond_from_less) {
    body.node("Constant", {}, {"limit"}, {at("value", m(limit))});
    body.node("Less", {"i", "limit"}, {"cond_out"});
  } else {
    body.node("Identity", {"cond_in"}, {"cond_out"});
  }
  body.node("Identity", {"y_out"}, {"scan"});
  body.out("cond_out").out("y_out").out("scan", tensor_type(ElementType::int64, {1}));
  Builder g;
  g.in("M").in("cond").in("y0");
  g.node("Loop", {"M", "cond", "y0"}, {"y", "ys"}, {ag("body", body.g)}).out("y").out("ys");
  return g;
}

TEST(ControlKernels, LoopTripCount) {
  auto r = run(loop_model(), {T(m(3)), T(b(true)), T(i64({1}, {0}))});
  expect_tensor(r[0], ElementType::int64, {1}, {3});
  expect_tensor(r[1], ElementType::int64, {3, 1}, {0, 1, 3});
}

TEST(ControlKernels, LoopConditionStops) {
  // cond_out = i < 2: iterations 0, 1, 2 run, the third returns false.
  auto r = run(loop_model(true, 2), {T(m(100)), T(b(true)), T(i64({1}, {0}))});
  expect_tensor(r[0], ElementType::int64, {1}, {3});
  expect_tensor(r[1], ElementType::int64, {3, 1}, {0, 1, 3});
}

TEST(ControlKernels, LoopWithoutTripCountIsAWhileLoop) {
  Builder g = loop_model(true, 1);
  auto r = run(g, {Value(), T(b(true)), T(i64({1}, {5}))});  // M omitted: bind an empty value
  expect_tensor(r[0], ElementType::int64, {1}, {6});
  expect_tensor(r[1], ElementType::int64, {2, 1}, {5, 6});
}

TEST(ControlKernels, LoopWithoutConditionIgnoresBodyCondition) {
  // The body returns false from the first iteration, but without a cond input it is a for loop.
  Builder body(16, "body");
  body.in("i").in("c").in("y");
  body.node("Constant", {}, {"f"}, {at("value", b(false))});
  body.node("Add", {"y", "i"}, {"y_out"});
  body.out("f").out("y_out");
  Builder g;
  g.in("M").in("y0");
  g.node("Loop", {"M", "", "y0"}, {"y"}, {ag("body", body.g)}).out("y");
  expect_tensor(run(g, {T(m(4)), T(i64({}, {0}))})[0], ElementType::int64, {}, {6});
  // Neither M nor cond: an endless loop is refused.
  Builder h;
  h.in("y0");
  h.node("Loop", {"", "", "y0"}, {"y"}, {ag("body", body.g)}).out("y");
  EXPECT_EQ(error_of(h, {T(i64({}, {0}))}), StatusCode::unsupported);
}

TEST(ControlKernels, LoopZeroIterations) {
  // M = 0, and (separately) cond = false: the initial values come back and scan outputs are empty,
  // shaped from the body's declared output type.
  for (auto inputs : {std::vector<Value>{T(m(0)), T(b(true)), T(i64({1}, {7}))},
                      std::vector<Value>{T(m(5)), T(b(false)), T(i64({1}, {7}))}}) {
    auto r = run(loop_model(), inputs);
    expect_tensor(r[0], ElementType::int64, {1}, {7});
    expect_tensor(r[1], ElementType::int64, {0, 1}, {});
  }
  // A negative trip count also runs zero times.
  expect_tensor(run(loop_model(), {T(m(-2)), T(b(true)), T(i64({1}, {7}))})[0], ElementType::int64, {1}, {7});
}

TEST(ControlKernels, LoopRejectsBadInputs) {
  EXPECT_EQ(error_of(loop_model(), {T(i32({}, {3})), T(b(true)), T(i64({1}, {0}))}), StatusCode::invalid_argument);
  EXPECT_EQ(error_of(loop_model(), {T(m(3)), T(i64({}, {1})), T(i64({1}, {0}))}), StatusCode::invalid_argument);
  // Scan outputs whose shape changes between iterations cannot be stacked.
  Builder body(16, "body");
  body.in("i").in("c").in("y");
  body.node("Identity", {"c"}, {"c_out"});
  body.node("Concat", {"y", "y"}, {"y_out"}, {ai("axis", 0)});
  body.out("c_out").out("y_out").out("y_out");
  Builder g;
  g.in("M").in("y0");
  g.node("Loop", {"M", "", "y0"}, {"y", "ys"}, {ag("body", body.g)}).out("y").out("ys");
  auto r = run(g, {T(m(1)), T(f32({1}, {1}))});  // one iteration is fine
  expect_tensor(r[1], ElementType::float32, {1, 2}, {1, 1});
  EXPECT_EQ(error_of(g, {T(m(2)), T(f32({1}, {1}))}), StatusCode::invalid_argument);
}

TEST(ControlKernels, LoopCarriesSequencesAndReadsOuterScope) {
  // seq_out = SequenceInsert(seq, x * i) where x comes from the outer graph.
  Builder body(16, "body");
  body.in("i").in("c").in("seq");
  body.node("Identity", {"c"}, {"c_out"});
  body.node("Cast", {"i"}, {"fi"}, {ai("to", static_cast<int64_t>(ElementType::float32))});
  body.node("Mul", {"x", "fi"}, {"v"});
  body.node("SequenceInsert", {"seq", "v"}, {"seq_out"});
  body.out("c_out").out("seq_out");
  Builder g;
  g.in("M").in("x");
  g.node("SequenceEmpty", {}, {"s0"});
  g.node("Loop", {"M", "", "s0"}, {"s"}, {ag("body", body.g)});
  g.node("ConcatFromSequence", {"s"}, {"r"}, {ai("axis", 0), ai("new_axis", 1)}).out("r");
  expect_tensor(run(g, {T(m(3)), T(f32({2}, {1, 10}))})[0], ElementType::float32, {3, 2}, {0, 0, 1, 10, 2, 20});
}

TEST(ControlKernels, NestedSubgraphsSeeEveryEnclosingScope) {
  // Loop body holds an If whose branch reads `k` (top graph) and `y` (loop body input).
  Builder then_b(16, "then");
  then_b.node("Add", {"y", "k"}, {"t"}).out("t");
  Builder else_b(16, "else");
  else_b.node("Identity", {"y"}, {"e"}).out("e");
  Builder body(16, "body");
  body.in("i").in("c").in("y");
  body.node("Identity", {"c"}, {"c_out"});
  body.node("Constant", {}, {"one"}, {at("value", m(1))});
  body.node("Less", {"i", "one"}, {"first"});
  body.node("If", {"first"}, {"y_out"}, {ag("then_branch", then_b.g), ag("else_branch", else_b.g)});
  body.out("c_out").out("y_out");
  Builder g;
  g.in("M").in("y0").in("k");
  g.node("Loop", {"M", "", "y0"}, {"y"}, {ag("body", body.g)}).out("y");
  // Only iteration 0 adds k.
  expect_tensor(run(g, {T(m(3)), T(i64({}, {1})), T(i64({}, {100}))})[0], ElementType::int64, {}, {101});
}

// ---------------------------------------------------------------------------
// Scan

// body(s, x) -> (s + x, s + x): a running sum.
std::shared_ptr<Graph> running_sum_body(std::vector<int64_t> out_dims = {2}) {
  Builder body(16, "body");
  body.in("s").in("x");
  body.node("Add", {"s", "x"}, {"s_out"});
  body.node("Identity", {"s_out"}, {"y"});
  body.out("s_out").out("y", tensor_type(ElementType::float32, out_dims));
  return body.g;
}

Builder scan9_model(std::vector<Attribute> attrs, std::shared_ptr<Graph> body = running_sum_body()) {
  attrs.push_back(ag("body", std::move(body)));
  attrs.push_back(ai("num_scan_inputs", 1));
  Builder g(11);
  g.in("s0").in("x");
  g.node("Scan", {"s0", "x"}, {"s", "ys"}, attrs).out("s").out("ys");
  return g;
}

TEST(ControlKernels, ScanAxesAndDirections) {
  Tensor x = f32({2, 3}, {1, 2, 3, 4, 5, 6});
  Value s0 = T(f32({2}, {0, 0}));
  // Along axis 1 (slices [1,4], [2,5], [3,6]), outputs stacked on axis 0.
  auto r = run(scan9_model({ais("scan_input_axes", {1})}), {s0, T(x)});
  expect_tensor(r[0], ElementType::float32, {2}, {6, 15});
  expect_tensor(r[1], ElementType::float32, {3, 2}, {1, 4, 3, 9, 6, 15});
  // Output axis 1 (and its negative form -1).
  for (int64_t axis : {1, -1}) {
    auto r2 = run(scan9_model({ais("scan_input_axes", {-1}), ais("scan_output_axes", {axis})}), {s0, T(x)});
    expect_tensor(r2[1], ElementType::float32, {2, 3}, {1, 3, 6, 4, 9, 15});
  }
  // Reversed input: slices [3,6], [2,5], [1,4].
  auto r3 = run(scan9_model({ais("scan_input_axes", {1}), ais("scan_input_directions", {1}), ais("scan_output_axes", {1})}),
                {s0, T(x)});
  expect_tensor(r3[0], ElementType::float32, {2}, {6, 15});
  expect_tensor(r3[1], ElementType::float32, {2, 3}, {3, 5, 6, 6, 11, 15});
  // Reversed output as well: the last iteration comes first.
  auto r4 = run(scan9_model({ais("scan_input_axes", {1}), ais("scan_input_directions", {1}), ais("scan_output_axes", {1}),
                             ais("scan_output_directions", {1})}),
                {s0, T(x)});
  expect_tensor(r4[1], ElementType::float32, {2, 3}, {6, 5, 3, 15, 11, 6});
}

TEST(ControlKernels, ScanEdgeCases) {
  // Zero-length scan: the state passes through, the output is empty with the declared shape.
  auto r = run(scan9_model({}), {T(f32({2}, {1, 2})), T(f32({0, 2}, {}))});
  expect_tensor(r[0], ElementType::float32, {2}, {1, 2});
  expect_tensor(r[1], ElementType::float32, {0, 2}, {});
  // Bad attributes.
  Value s0 = T(f32({2}, {0, 0}));
  Value x = T(f32({2, 2}, {1, 2, 3, 4}));
  EXPECT_EQ(error_of(scan9_model({ais("scan_input_axes", {2})}), {s0, x}), StatusCode::invalid_argument);
  EXPECT_EQ(error_of(scan9_model({ais("scan_input_directions", {2})}), {s0, x}), StatusCode::invalid_argument);
  EXPECT_EQ(error_of(scan9_model({ais("scan_input_axes", {0, 0})}), {s0, x}), StatusCode::invalid_argument);
  EXPECT_EQ(error_of(scan9_model({ais("scan_output_axes", {2})}), {s0, x}), StatusCode::invalid_argument);
  // Two scan inputs of different lengths.
  Builder body(11, "body");
  body.in("s").in("a").in("c");
  body.node("Add", {"s", "a"}, {"s_out"}).out("s_out");
  Builder g(11);
  g.in("s0").in("a").in("c");
  g.node("Scan", {"s0", "a", "c"}, {"s"}, {ag("body", body.g), ai("num_scan_inputs", 2)}).out("s");
  EXPECT_EQ(error_of(g, {s0, x, T(f32({3, 2}, {0, 0, 0, 0, 0, 0}))}), StatusCode::invalid_argument);
  expect_tensor(run(g, {s0, x, T(f32({2, 2}, {0, 0, 0, 0}))})[0], ElementType::float32, {2}, {4, 6});
}

TEST(ControlKernels, ScanReadsOuterScope) {
  // body(s, x) = s + x * w, w from the outer graph.
  Builder body(11, "body");
  body.in("s").in("x");
  body.node("Mul", {"x", "w"}, {"xw"});
  body.node("Add", {"s", "xw"}, {"s_out"});
  body.out("s_out");
  Builder g(11);
  g.in("s0").in("x").in("w");
  g.node("Scan", {"s0", "x"}, {"s"}, {ag("body", body.g), ai("num_scan_inputs", 1)}).out("s");
  expect_tensor(run(g, {T(f32({}, {0})), T(f32({3}, {1, 2, 3})), T(f32({}, {10}))})[0], ElementType::float32, {}, {60});
}

Builder scan8_model(std::vector<Attribute> attrs = {}) {
  attrs.push_back(ag("body", running_sum_body({1})));
  attrs.push_back(ai("num_scan_inputs", 1));
  Builder g(8);
  g.in("lens").in("s0").in("x");
  g.node("Scan", {"lens", "s0", "x"}, {"s", "ys"}, attrs).out("s").out("ys");
  return g;
}

TEST(ControlKernels, Scan8Batched) {
  // Batch 2, sequence 3, items of shape [1].
  Tensor x = f32({2, 3, 1}, {1, 2, 3, 4, 5, 6});
  Value s0 = T(f32({2, 1}, {0, 100}));
  auto r = run(scan8_model(), {Value(), s0, T(x)});
  expect_tensor(r[0], ElementType::float32, {2, 1}, {6, 115});
  expect_tensor(r[1], ElementType::float32, {2, 3, 1}, {1, 3, 6, 104, 109, 115});
  // sequence_lens: the second entry stops after 2 steps, its outputs are zero padded.
  auto r2 = run(scan8_model(), {T(i32({2}, {3, 2})), s0, T(x)});
  expect_tensor(r2[0], ElementType::float32, {2, 1}, {6, 109});
  expect_tensor(r2[1], ElementType::float32, {2, 3, 1}, {1, 3, 6, 104, 109, 0});
  // Reversed: each entry starts from its own last valid step.
  auto r3 = run(scan8_model({ais("directions", {1})}), {T(i32({2}, {3, 2})), s0, T(x)});
  expect_tensor(r3[0], ElementType::float32, {2, 1}, {6, 109});
  expect_tensor(r3[1], ElementType::float32, {2, 3, 1}, {3, 5, 6, 105, 109, 0});
  // Errors: length beyond the sequence, batch mismatch.
  EXPECT_EQ(error_of(scan8_model(), {T(i32({2}, {4, 1})), s0, T(x)}), StatusCode::invalid_argument);
  EXPECT_EQ(error_of(scan8_model(), {Value(), T(f32({3, 1}, {0, 0, 0})), T(x)}), StatusCode::invalid_argument);
}

// ---------------------------------------------------------------------------
// Interpreter

TEST(ControlKernels, InterpreterExtraOutputs) {
  Builder g;
  g.in("x");
  g.node("Neg", {"x"}, {"n"});
  g.node("Abs", {"n"}, {"a"}).out("a");
  RunOptions opts;
  opts.extra_outputs = {"n"};
  auto r = run(g, {T(f32({2}, {1, -2}))}, opts);
  ASSERT_EQ(r.size(), 2u);
  expect_tensor(r[0], ElementType::float32, {2}, {1, 2});
  expect_tensor(r[1], ElementType::float32, {2}, {-1, 2});
  opts.extra_outputs = {"nope"};
  EXPECT_FALSE(Interpreter().run(*g.g, {T(f32({1}, {1}))}, opts).ok());
}

// ---------------------------------------------------------------------------
// Run limits: the cancel flag and the memory limit inside Loop and Scan

Status run_under(const Builder& bld, const std::vector<Value>& inputs, const RunLimits& limits) {
  RunOptions options;
  options.limits = limits;
  auto r = Interpreter().run(*bld.g, inputs, options);
  return r.ok() ? Status() : r.status();
}

TEST(ControlKernels, LoopStopsWhenItsCancelFlagIsRaised) {
  // 10^12 iterations; another thread raises the flag after 200 ms.
  int32_t flag = 0;
  std::thread raiser([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    __atomic_store_n(&flag, 1, __ATOMIC_RELEASE);
  });
  const auto t0 = std::chrono::steady_clock::now();
  Status st = run_under(loop_model(), {T(m(1000000000000)), T(b(true)), T(i64({1}, {0}))}, {&flag, 0});
  raiser.join();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(30));
  EXPECT_EQ(st.code(), StatusCode::cancelled) << st.to_string();
  EXPECT_NE(st.message().find("Loop 'Loop0'"), std::string::npos) << st.message();
}

TEST(ControlKernels, LoopStopsAtTheMemoryLimit) {
  // Scan outputs: 8 bytes per iteration, over 64 KiB after 8192 iterations.
  Status st = run_under(loop_model(), {T(m(1000000000000)), T(b(true)), T(i64({1}, {0}))}, {nullptr, 64 << 10});
  EXPECT_EQ(st.code(), StatusCode::resource_exhausted) << st.to_string();
  EXPECT_NE(st.message().find("the loop-carried values and scan outputs hold"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("over the memory limit of 65536 bytes"), std::string::npos) << st.message();
  // A carried value that doubles every iteration, no scan output: over 1 MiB after 18 iterations.
  Builder body(16, "body");
  body.in("i").in("c").in("y");
  body.node("Identity", {"c"}, {"c_out"});
  body.node("Concat", {"y", "y"}, {"y_out"}, {ai("axis", 0)});
  body.out("c_out").out("y_out");
  Builder g;
  g.in("M").in("y0");
  g.node("Loop", {"M", "", "y0"}, {"y"}, {ag("body", body.g)}).out("y");
  EXPECT_EQ(run_under(g, {T(m(1000)), T(f32({1}, {1}))}, {nullptr, 1 << 20}).code(), StatusCode::resource_exhausted);
  // Under the limit nothing changes.
  auto r = Interpreter().run(*loop_model().g, {T(m(3)), T(b(true)), T(i64({1}, {0}))}, RunOptions{{}, {}, {nullptr, 64 << 10}});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  expect_tensor((*r)[1], ElementType::int64, {3, 1}, {0, 1, 3});
}

TEST(ControlKernels, ScanPollsTheFlagAndStopsAtTheMemoryLimit) {
  Tensor x = Tensor::allocate(ElementType::float32, {1000, 2});  // 1000 iterations, 8 bytes of output each
  Value s0 = T(f32({2}, {0, 0}));
  Status st = run_under(scan9_model({}), {s0, T(x)}, {nullptr, 1024});
  EXPECT_EQ(st.code(), StatusCode::resource_exhausted) << st.to_string();
  EXPECT_NE(st.message().find("Scan 'Scan0': after iteration"), std::string::npos) << st.message();
  EXPECT_TRUE(run_under(scan9_model({}), {s0, T(x)}, {nullptr, 64 << 10}).ok());
  int32_t raised = 1;
  EXPECT_EQ(run_under(scan9_model({}), {s0, T(x)}, {&raised, 0}).code(), StatusCode::cancelled);
}

}  // namespace
}  // namespace switchyard::reference
