// Tests for the reference sequence and optional kernels.
#include <gtest/gtest.h>

#include <memory>

#include "switchyard/reference/interpreter.h"
#include "switchyard/reference/util.h"
#include "test_util.h"

namespace switchyard::reference {
namespace {

using namespace switchyard::reference::test;

Attribute atype(const std::string& name, ValueType t) {
  return attr(name, Attribute::Type::type_proto, &Attribute::type_protos, {std::move(t)});
}

Tensor pos(int64_t p) { return Tensor::scalar<int64_t>(ElementType::int64, p); }

Value S(std::vector<Tensor> s) { return Value::of_sequence(std::move(s)); }
Value omitted() { return Value(); }  // kind none, not optional: the input is left out ("")
Value empty_optional() {
  Value v;
  v.is_optional = true;
  return v;
}

Value run1(const std::string& op, const std::vector<Input>& inputs, const std::vector<Attribute>& attrs = {},
           int64_t opset = 18) {
  return values_or_throw(run_node(op, inputs, attrs, opset))[0];
}

StatusCode error_of(const std::string& op, const std::vector<Input>& inputs, const std::vector<Attribute>& attrs = {},
                    int64_t opset = 18) {
  return code_of(run_node(op, inputs, attrs, opset));
}

std::vector<double> firsts(const std::vector<Tensor>& seq) {
  std::vector<double> out;
  for (const Tensor& t : seq) out.push_back(get_double(t, 0));
  return out;
}

std::vector<Tensor> abc() { return {f32({1}, {1}), f32({1}, {2}), f32({1}, {3})}; }

// ---------------------------------------------------------------------------

TEST(SequenceKernels, ConstructAndLength) {
  Value s = run1("SequenceConstruct", {T(f32({2}, {1, 2})), T(f32({}, {3}))}, {}, 11);
  ASSERT_EQ(s.kind, Value::Kind::sequence);
  ASSERT_EQ(s.sequence.size(), 2u);
  expect_tensor(s.sequence[0], ElementType::float32, {2}, {1, 2});
  expect_tensor(s.sequence[1], ElementType::float32, {}, {3});
  Value n = run1("SequenceLength", {s}, {}, 11);
  expect_tensor(n.tensor, ElementType::int64, {}, {2});
  // Mixed element types are rejected.
  EXPECT_EQ(error_of("SequenceConstruct", {T(f32({1}, {1})), T(i64({1}, {1}))}), StatusCode::invalid_argument);
  // A tensor is not a sequence.
  EXPECT_EQ(error_of("SequenceLength", {T(f32({1}, {1}))}), StatusCode::invalid_argument);
}

TEST(SequenceKernels, Empty) {
  Value s = run1("SequenceEmpty", {}, {ai("dtype", static_cast<int64_t>(ElementType::int32))}, 11);
  ASSERT_EQ(s.kind, Value::Kind::sequence);
  EXPECT_TRUE(s.sequence.empty());
  expect_tensor(run1("SequenceLength", {s}).tensor, ElementType::int64, {}, {0});
  EXPECT_EQ(error_of("SequenceEmpty", {}, {ai("dtype", 999)}), StatusCode::invalid_argument);
}

TEST(SequenceKernels, At) {
  Value s = S(abc());
  EXPECT_EQ(get_double(run1("SequenceAt", {s, T(pos(0))}).tensor, 0), 1);
  EXPECT_EQ(get_double(run1("SequenceAt", {s, T(pos(2))}).tensor, 0), 3);
  EXPECT_EQ(get_double(run1("SequenceAt", {s, T(pos(-1))}).tensor, 0), 3);
  EXPECT_EQ(get_double(run1("SequenceAt", {s, T(i32({}, {-3}))}).tensor, 0), 1);
  EXPECT_EQ(error_of("SequenceAt", {s, T(pos(3))}), StatusCode::invalid_argument);
  EXPECT_EQ(error_of("SequenceAt", {s, T(pos(-4))}), StatusCode::invalid_argument);
  EXPECT_EQ(error_of("SequenceAt", {S({}), T(pos(0))}), StatusCode::invalid_argument);
  EXPECT_EQ(error_of("SequenceAt", {s, T(f32({}, {0}))}), StatusCode::invalid_argument);  // float position
}

TEST(SequenceKernels, Insert) {
  Value s = S(abc());
  Tensor x = f32({1}, {9});
  EXPECT_EQ(firsts(run1("SequenceInsert", {s, T(x)}).sequence), (std::vector<double>{1, 2, 3, 9}));
  EXPECT_EQ(firsts(run1("SequenceInsert", {s, T(x), T(pos(0))}).sequence), (std::vector<double>{9, 1, 2, 3}));
  EXPECT_EQ(firsts(run1("SequenceInsert", {s, T(x), T(pos(-1))}).sequence), (std::vector<double>{1, 2, 9, 3}));
  EXPECT_EQ(firsts(run1("SequenceInsert", {s, T(x), T(pos(3))}).sequence), (std::vector<double>{1, 2, 3, 9}));
  EXPECT_EQ(firsts(run1("SequenceInsert", {s, T(x), T(pos(-3))}).sequence), (std::vector<double>{9, 1, 2, 3}));
  EXPECT_EQ(error_of("SequenceInsert", {s, T(x), T(pos(4))}), StatusCode::invalid_argument);
  EXPECT_EQ(error_of("SequenceInsert", {s, T(x), T(pos(-4))}), StatusCode::invalid_argument);
  EXPECT_EQ(error_of("SequenceInsert", {s, T(i64({1}, {9}))}), StatusCode::invalid_argument);  // type mismatch
  // Into an empty sequence; the input sequence is not modified.
  EXPECT_EQ(firsts(run1("SequenceInsert", {S({}), T(x)}).sequence), (std::vector<double>{9}));
  EXPECT_EQ(s.sequence.size(), 3u);
}

TEST(SequenceKernels, Erase) {
  Value s = S(abc());
  EXPECT_EQ(firsts(run1("SequenceErase", {s}).sequence), (std::vector<double>{1, 2}));
  EXPECT_EQ(firsts(run1("SequenceErase", {s, T(pos(0))}).sequence), (std::vector<double>{2, 3}));
  EXPECT_EQ(firsts(run1("SequenceErase", {s, T(pos(-2))}).sequence), (std::vector<double>{1, 3}));
  EXPECT_EQ(error_of("SequenceErase", {s, T(pos(3))}), StatusCode::invalid_argument);
  EXPECT_EQ(error_of("SequenceErase", {S({})}), StatusCode::invalid_argument);
}

TEST(SequenceKernels, ConcatFromSequence) {
  Value s = S({f32({1, 2}, {1, 2}), f32({2, 2}, {3, 4, 5, 6})});
  expect_tensor(run1("ConcatFromSequence", {s}, {ai("axis", 0)}, 11).tensor, ElementType::float32, {3, 2},
                {1, 2, 3, 4, 5, 6});
  expect_tensor(run1("ConcatFromSequence", {s}, {ai("axis", -2)}, 11).tensor, ElementType::float32, {3, 2},
                {1, 2, 3, 4, 5, 6});
  // Along axis 1 the other dims must agree.
  EXPECT_EQ(error_of("ConcatFromSequence", {s}, {ai("axis", 1)}), StatusCode::invalid_argument);
  Value t = S({f32({2, 1}, {1, 2}), f32({2, 2}, {3, 4, 5, 6})});
  expect_tensor(run1("ConcatFromSequence", {t}, {ai("axis", 1)}).tensor, ElementType::float32, {2, 3},
                {1, 3, 4, 2, 5, 6});
  // new_axis stacks; axis may be rank (== -1).
  Value u = S({i64({2}, {1, 2}), i64({2}, {3, 4})});
  expect_tensor(run1("ConcatFromSequence", {u}, {ai("axis", 0), ai("new_axis", 1)}).tensor, ElementType::int64, {2, 2},
                {1, 2, 3, 4});
  expect_tensor(run1("ConcatFromSequence", {u}, {ai("axis", -1), ai("new_axis", 1)}).tensor, ElementType::int64, {2, 2},
                {1, 3, 2, 4});
  expect_tensor(run1("ConcatFromSequence", {u}, {ai("axis", 1), ai("new_axis", 1)}).tensor, ElementType::int64, {2, 2},
                {1, 3, 2, 4});
  EXPECT_EQ(error_of("ConcatFromSequence", {u}, {ai("axis", 2), ai("new_axis", 1)}), StatusCode::invalid_argument);
  EXPECT_EQ(error_of("ConcatFromSequence", {u}, {ai("axis", 1)}), StatusCode::invalid_argument);
  EXPECT_EQ(error_of("ConcatFromSequence", {S({})}, {ai("axis", 0)}), StatusCode::invalid_argument);
  EXPECT_EQ(error_of("ConcatFromSequence", {u}), StatusCode::invalid_argument);  // axis is required
  // Scalars need new_axis; int64 beyond 2^53 stays exact; empty parts are fine.
  const int64_t big = (int64_t{1} << 60) + 1;
  Tensor r = run1("ConcatFromSequence", {S({i64({}, {big}), i64({}, {-big})})}, {ai("axis", 0), ai("new_axis", 1)}).tensor;
  ASSERT_EQ(r.shape(), (Shape{2}));
  EXPECT_EQ(r.data<int64_t>()[0], big);
  EXPECT_EQ(r.data<int64_t>()[1], -big);
  expect_tensor(run1("ConcatFromSequence", {S({f32({0, 2}, {}), f32({1, 2}, {7, 8})})}, {ai("axis", 0)}).tensor,
                ElementType::float32, {1, 2}, {7, 8});
  // Strings.
  Tensor str = run1("ConcatFromSequence", {S({Tensor::from_strings({1}, {"a"}), Tensor::from_strings({2}, {"b", "c"})})},
                    {ai("axis", 0)})
                   .tensor;
  EXPECT_EQ(str.strings(), (std::vector<std::string>{"a", "b", "c"}));
}

TEST(SequenceKernels, SplitToSequence) {
  Tensor x = f32({5, 2}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  // Scalar split: equal chunks, the last one smaller.
  Value s = run1("SplitToSequence", {T(x), T(pos(2))}, {}, 11);
  ASSERT_EQ(s.sequence.size(), 3u);
  expect_tensor(s.sequence[0], ElementType::float32, {2, 2}, {0, 1, 2, 3});
  expect_tensor(s.sequence[2], ElementType::float32, {1, 2}, {8, 9});
  // List split along a negative axis.
  Value l = run1("SplitToSequence", {T(x), T(i32({2}, {1, 1}))}, {ai("axis", -1)}, 11);
  ASSERT_EQ(l.sequence.size(), 2u);
  expect_tensor(l.sequence[0], ElementType::float32, {5, 1}, {0, 2, 4, 6, 8});
  expect_tensor(l.sequence[1], ElementType::float32, {5, 1}, {1, 3, 5, 7, 9});
  // Zero-length pieces are allowed in a list.
  Value z = run1("SplitToSequence", {T(x), T(i64({2}, {0, 5}))}, {}, 11);
  ASSERT_EQ(z.sequence.size(), 2u);
  EXPECT_EQ(z.sequence[0].shape(), (Shape{0, 2}));
  // No split: pieces of 1, squeezed when keepdims = 0 (keepdims is ignored with a split).
  Value k = run1("SplitToSequence", {T(x)}, {ai("axis", 1)}, 11);
  ASSERT_EQ(k.sequence.size(), 2u);
  EXPECT_EQ(k.sequence[0].shape(), (Shape{5, 1}));
  Value q = run1("SplitToSequence", {T(x)}, {ai("axis", 1), ai("keepdims", 0)}, 11);
  ASSERT_EQ(q.sequence.size(), 2u);
  expect_tensor(q.sequence[1], ElementType::float32, {5}, {1, 3, 5, 7, 9});
  Value kk = run1("SplitToSequence", {T(x), T(pos(5))}, {ai("keepdims", 0)}, 11);
  ASSERT_EQ(kk.sequence.size(), 1u);
  EXPECT_EQ(kk.sequence[0].shape(), (Shape{5, 2}));
  // Errors.
  EXPECT_EQ(error_of("SplitToSequence", {T(x), T(i64({2}, {1, 1}))}), StatusCode::invalid_argument);  // sum 2 != 5
  EXPECT_EQ(error_of("SplitToSequence", {T(x), T(pos(0))}), StatusCode::invalid_argument);
  EXPECT_EQ(error_of("SplitToSequence", {T(x), T(i64({2}, {-1, 6}))}), StatusCode::invalid_argument);
  EXPECT_EQ(error_of("SplitToSequence", {T(x)}, {ai("axis", 2)}), StatusCode::invalid_argument);
  EXPECT_EQ(error_of("SplitToSequence", {T(f32({}, {1}))}), StatusCode::invalid_argument);
  // An empty axis yields an empty sequence; float16 values survive.
  EXPECT_TRUE(run1("SplitToSequence", {T(f32({0, 3}, {}))}).sequence.empty());
  Tensor h = from_doubles(ElementType::float16, {3}, {0.5, -1.5, 65504});
  Value hs = run1("SplitToSequence", {T(h), T(i64({2}, {2, 1}))});
  expect_tensor(hs.sequence[0], ElementType::float16, {2}, {0.5, -1.5});
  expect_tensor(hs.sequence[1], ElementType::float16, {1}, {65504});
}

TEST(SequenceKernels, SplitThenConcatRoundTrip) {
  Tensor x = i64({2, 3}, {1, 2, 3, 4, 5, 6});
  Value s = run1("SplitToSequence", {T(x)}, {ai("axis", 1), ai("keepdims", 0)});
  expect_tensor(run1("ConcatFromSequence", {s}, {ai("axis", 1), ai("new_axis", 1)}).tensor, ElementType::int64, {2, 3},
                {1, 2, 3, 4, 5, 6});
}

// body(a, b) = a + b
std::shared_ptr<Graph> add_body() {
  auto g = std::make_shared<Graph>();
  int32_t a = g->add_value("a"), b = g->add_value("b"), c = g->add_value("c");
  g->inputs = {a, b};
  Node n;
  n.op_type = "Add";
  n.opset = 18;
  n.inputs = {a, b};
  n.outputs = {c};
  g->nodes.push_back(n);
  g->outputs = {c};
  return g;
}

TEST(SequenceKernels, SequenceMap) {
  Value s = S({f32({2}, {1, 2}), f32({1}, {3})});
  // A tensor additional input is passed whole to every iteration.
  Value r = run1("SequenceMap", {s, T(f32({1}, {10}))}, {ag("body", add_body())}, 17);
  ASSERT_EQ(r.kind, Value::Kind::sequence);
  ASSERT_EQ(r.sequence.size(), 2u);
  expect_tensor(r.sequence[0], ElementType::float32, {2}, {11, 12});
  expect_tensor(r.sequence[1], ElementType::float32, {1}, {13});
  // A sequence additional input is indexed alongside.
  Value r2 = run1("SequenceMap", {s, S({f32({1}, {100}), f32({1}, {200})})}, {ag("body", add_body())}, 17);
  expect_tensor(r2.sequence[0], ElementType::float32, {2}, {101, 102});
  expect_tensor(r2.sequence[1], ElementType::float32, {1}, {203});
  // Lengths must agree; an empty input sequence maps to an empty one.
  EXPECT_EQ(error_of("SequenceMap", {s, S({f32({1}, {1})})}, {ag("body", add_body())}, 17), StatusCode::invalid_argument);
  EXPECT_TRUE(run1("SequenceMap", {S({}), T(f32({1}, {1}))}, {ag("body", add_body())}, 17).sequence.empty());
  // The body's arity must match the node's.
  EXPECT_EQ(error_of("SequenceMap", {s}, {ag("body", add_body())}, 17), StatusCode::invalid_argument);
}

// Runs the kernel of `op` alone (no interpreter around it) under `limits`: the status it throws.
Status kernel_under(const std::string& op, const std::vector<Value>& inputs, const std::vector<Attribute>& attrs,
                    const RunLimits& limits, int64_t opset = 18) {
  Node n;
  n.op_type = op;
  n.opset = opset;
  n.attributes = attrs;
  std::vector<const Value*> in;
  for (size_t i = 0; i < inputs.size(); ++i) {
    n.inputs.push_back(static_cast<int32_t>(i));
    in.push_back(&inputs[i]);
  }
  n.outputs = {static_cast<int32_t>(inputs.size())};
  std::vector<Value> out(1);
  const Interpreter interpreter;
  const std::map<std::string, const Value*> scope;
  KernelContext ctx(n, in, out, interpreter, scope, &limits);
  try {
    (*KernelRegistry::instance().find("", op))(ctx);
  } catch (const Error& e) {
    return e.status();
  }
  return {};
}

TEST(SequenceKernels, GrowingSequencesStopAtTheMemoryLimit) {
  RunLimits twelve_bytes{nullptr, 12};
  Status insert = kernel_under("SequenceInsert", {S(abc()), T(f32({1}, {4}))}, {}, twelve_bytes);
  EXPECT_EQ(insert.code(), StatusCode::resource_exhausted);
  EXPECT_NE(insert.message().find("the 4 tensors of the sequence hold 16 bytes, over the memory limit of 12 bytes"), std::string::npos)
      << insert.message();
  EXPECT_TRUE(kernel_under("SequenceInsert", {S({f32({1}, {1}), f32({1}, {2})}), T(f32({1}, {4}))}, {}, twelve_bytes).ok());
  RunLimits eight_bytes{nullptr, 8};
  EXPECT_EQ(kernel_under("ConcatFromSequence", {S(abc())}, {ai("axis", 0)}, eight_bytes).code(), StatusCode::resource_exhausted);
  EXPECT_TRUE(kernel_under("ConcatFromSequence", {S(abc())}, {ai("axis", 0)}, twelve_bytes).ok());
  // SequenceMap's outputs: 8 bytes after the first element, 12 after the second.
  Value s = S({f32({2}, {1, 2}), f32({1}, {3})});
  EXPECT_EQ(kernel_under("SequenceMap", {s, T(f32({1}, {10}))}, {ag("body", add_body())}, eight_bytes, 17).code(),
            StatusCode::resource_exhausted);
  EXPECT_TRUE(kernel_under("SequenceMap", {s, T(f32({1}, {10}))}, {ag("body", add_body())}, twelve_bytes, 17).ok());
  // Through the interpreter, the limit comes from RunOptions.
  RunOptions options;
  options.limits = twelve_bytes;
  EXPECT_EQ(run_node("SequenceInsert", {S(abc()), T(f32({1}, {4}))}, {}, 18, {true}, "", options).status().code(),
            StatusCode::resource_exhausted);
}

TEST(SequenceKernels, IteratingKernelsPollTheCancelFlag) {
  int32_t raised = 1, clear = 0;
  RunLimits stop{&raised, 0}, go{&clear, 0};
  Value s = S({f32({2}, {1, 2}), f32({1}, {3})});
  for (const RunLimits* limits : {&stop, &go}) {
    const StatusCode want = limits == &stop ? StatusCode::cancelled : StatusCode::ok;
    EXPECT_EQ(kernel_under("SequenceMap", {s, T(f32({1}, {10}))}, {ag("body", add_body())}, *limits, 17).code(), want);
    EXPECT_EQ(kernel_under("SplitToSequence", {T(f32({3}, {1, 2, 3}))}, {}, *limits).code(), want);
    EXPECT_EQ(kernel_under("ConcatFromSequence", {S(abc())}, {ai("axis", 0)}, *limits).code(), want);
  }
  Status st = kernel_under("SplitToSequence", {T(f32({3}, {1, 2, 3}))}, {}, stop);
  EXPECT_NE(st.message().find("stopped at element 0"), std::string::npos) << st.message();
}

TEST(OptionalKernels, Optional) {
  Value o = run1("Optional", {T(f32({1}, {4}))}, {}, 15);
  EXPECT_TRUE(o.is_optional);
  ASSERT_EQ(o.kind, Value::Kind::tensor);
  expect_tensor(o.tensor, ElementType::float32, {1}, {4});
  Value os = run1("Optional", {S(abc())}, {}, 15);
  EXPECT_TRUE(os.is_optional);
  EXPECT_EQ(os.kind, Value::Kind::sequence);
  ValueType t;
  t.kind = ValueType::Kind::tensor;
  t.tensor.elem = ElementType::float32;
  Value e = run1("Optional", {}, {atype("type", t)}, 15);
  EXPECT_TRUE(e.is_optional);
  EXPECT_FALSE(e.has_value());
  EXPECT_EQ(error_of("Optional", {}, {}, 15), StatusCode::invalid_argument);  // no input and no type
}

TEST(OptionalKernels, HasElement) {
  auto has = [](const std::vector<Input>& in, int64_t opset) {
    Value v = run1("OptionalHasElement", in, {}, opset);
    EXPECT_EQ(v.tensor.type(), ElementType::boolean);
    EXPECT_EQ(v.tensor.shape(), Shape{});
    return get_double(v.tensor, 0) != 0;
  };
  Value full = T(f32({1}, {1}));
  full.is_optional = true;
  EXPECT_TRUE(has({full}, 15));
  EXPECT_FALSE(has({empty_optional()}, 15));
  EXPECT_TRUE(has({T(f32({0}, {}))}, 18));  // a plain (even empty) tensor is present
  EXPECT_TRUE(has({S({})}, 18));            // an empty sequence is still a value
  EXPECT_FALSE(has({omitted()}, 18));       // no input at all
  EXPECT_EQ(error_of("OptionalHasElement", {omitted()}, {}, 15), StatusCode::invalid_argument);
}

TEST(OptionalKernels, GetElement) {
  Value full = T(i64({2}, {5, 6}));
  full.is_optional = true;
  Value r = run1("OptionalGetElement", {full}, {}, 15);
  EXPECT_FALSE(r.is_optional);
  expect_tensor(r.tensor, ElementType::int64, {2}, {5, 6});
  Value seq = S(abc());
  seq.is_optional = true;
  Value rs = run1("OptionalGetElement", {seq}, {}, 18);
  ASSERT_EQ(rs.kind, Value::Kind::sequence);
  EXPECT_EQ(firsts(rs.sequence), (std::vector<double>{1, 2, 3}));
  // Opset 18 also accepts plain tensors.
  expect_tensor(run1("OptionalGetElement", {T(f32({}, {2}))}, {}, 18).tensor, ElementType::float32, {}, {2});
  EXPECT_EQ(error_of("OptionalGetElement", {empty_optional()}, {}, 18), StatusCode::invalid_argument);
}

TEST(OptionalKernels, IdentityPassesOptionalsAndSequences) {
  Value e = run1("Identity", {empty_optional()}, {}, 16);
  EXPECT_FALSE(e.has_value());
  EXPECT_TRUE(e.is_optional);
  Value s = run1("Identity", {S(abc())}, {}, 16);
  ASSERT_EQ(s.kind, Value::Kind::sequence);
  EXPECT_EQ(firsts(s.sequence), (std::vector<double>{1, 2, 3}));
}

}  // namespace
}  // namespace switchyard::reference
