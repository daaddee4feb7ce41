// Tests for the CPU plugin's native kernels (data movement, Resize, BatchNormalization): each case runs a
// one-node graph through the native provider and through the reference interpreter and
// requires identical outputs (the same bytes; linear Resize within 1e-6 relative).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "fast_kernel.h"
#include "one_node_case.h"
#include "switchyard/reference/interpreter.h"

namespace switchyard::cpu {
namespace {

using namespace kernel_test;
using Ints = std::vector<int64_t>;

const FastKernelProvider* native_provider(const std::string& op) {
  for (const auto& p : fast_kernel_providers())
    if (p.op_type == op && std::string(p.implementation) == "native") return &p;
  return nullptr;
}

Tensor ints(const Ints& v) { return Tensor::from_vector<int64_t>(ElementType::int64, {static_cast<int64_t>(v.size())}, v); }
Tensor floats(const std::vector<float>& v) {
  return Tensor::from_vector<float>(ElementType::float32, {static_cast<int64_t>(v.size())}, v);
}

// Deterministic data of any fixed-size type: the bytes of a pseudo-random sequence.
Tensor data(ElementType type, const Shape& shape, uint32_t seed) {
  Tensor t = Tensor::allocate(type, shape);
  auto* p = static_cast<unsigned char*>(t.raw_mutable());
  uint32_t x = seed * 2654435761u + 7u;
  for (size_t i = 0; i < t.byte_size(); ++i) {
    x = x * 1664525u + 1013904223u;
    p[i] = static_cast<unsigned char>(x >> 24);
  }
  if (type == ElementType::boolean)
    for (size_t i = 0; i < t.byte_size(); ++i) p[i] &= 1;
  return t;
}
Tensor F(const Shape& s, uint32_t seed) { return random_tensor(s, seed); }

void expect_same(const Tensor& got, const Tensor& want, double rtol, size_t output) {
  ASSERT_EQ(got.type(), want.type()) << "output " << output;
  ASSERT_EQ(got.shape(), want.shape()) << "output " << output;
  ASSERT_EQ(got.byte_size(), want.byte_size()) << "output " << output;
  if (rtol == 0) {
    EXPECT_EQ(std::memcmp(got.raw(), want.raw(), got.byte_size()), 0) << "output " << output << " differs from the reference";
    return;
  }
  const float* g = got.data<float>();
  const float* w = want.data<float>();
  int bad = 0;
  for (int64_t i = 0; i < got.numel() && bad < 5; ++i)
    if (std::fabs(g[i] - w[i]) > rtol * std::fabs(w[i]) + 1e-30) {
      ADD_FAILURE() << "output " << output << " element " << i << ": got " << g[i] << ", reference " << w[i];
      ++bad;
    }
}

// The native kernel must accept the node and reproduce the reference's outputs; returns the
// first output of the kernel's run.
Value check(const std::string& op, const std::vector<In>& ins, const std::vector<Attribute>& attrs, int64_t opset,
            size_t n_out = 1, double rtol = 0) {
  SCOPED_TRACE(op + " opset " + std::to_string(opset));
  Case c = make_case(op, ins, attrs, opset, n_out);
  const FastKernelProvider* p = native_provider(op);
  EXPECT_NE(p, nullptr) << "no native provider for " << op;
  if (!p) return {};
  CompileContext ctx{c.graph, 1};
  const Node& node = c.graph.nodes[0];
  EXPECT_TRUE(p->accepts(node, ctx)) << op << " was declined";
  std::unique_ptr<FastKernel> k = p->create(node, ctx);
  EXPECT_NE(k, nullptr);
  if (!k) return {};
  auto want = reference::Interpreter().run(c.graph, c.feeds);
  EXPECT_TRUE(want.ok()) << want.status().to_string();
  if (!want.ok()) return {};
  std::vector<Value> slots;
  const std::vector<const Value*> in = bind_inputs(c, slots);
  std::vector<Value> out(node.outputs.size());
  k->run(in, out);
  for (size_t o = 0; o < out.size(); ++o) expect_same(out[o].tensor, want.value()[o].tensor, rtol, o);
  return out[0];
}

void expect_declined(const std::string& op, const std::vector<In>& ins, const std::vector<Attribute>& attrs, int64_t opset,
                     size_t n_out = 1) {
  Case c = make_case(op, ins, attrs, opset, n_out);
  const FastKernelProvider* p = native_provider(op);
  ASSERT_NE(p, nullptr);
  CompileContext ctx{c.graph, 1};
  EXPECT_FALSE(p->accepts(c.graph.nodes[0], ctx)) << op << " opset " << opset << " should be declined";
}

// An accepted node whose operands are invalid at run time fails as the reference does.
void expect_run_error(const std::string& op, const std::vector<In>& ins, const std::vector<Attribute>& attrs, int64_t opset) {
  Case c = make_case(op, ins, attrs, opset, 1);
  const FastKernelProvider* p = native_provider(op);
  ASSERT_NE(p, nullptr);
  CompileContext ctx{c.graph, 1};
  ASSERT_TRUE(p->accepts(c.graph.nodes[0], ctx));
  auto k = p->create(c.graph.nodes[0], ctx);
  EXPECT_FALSE(reference::Interpreter().run(c.graph, c.feeds).ok());
  std::vector<Value> slots;
  const std::vector<const Value*> in = bind_inputs(c, slots);
  std::vector<Value> out(1);
  EXPECT_THROW(k->run(in, out), Error);
}

// ---- BatchNormalization (inference, constant parameters) ----------------------------

Tensor positive(const Shape& s, uint32_t seed) {
  Tensor t = F(s, seed);
  for (int64_t i = 0; i < t.numel(); ++i) t.mutable_data<float>()[i] = std::fabs(t.data<float>()[i]) + 0.1f;
  return t;
}

TEST(NativeBatchNorm, MatchesTheReference) {
  const std::vector<In> params = {constant(F({6}, 301)), constant(F({6}, 302)), constant(F({6}, 303)), constant(positive({6}, 304))};
  for (const Shape& xs : {Shape{2, 6, 5, 4}, Shape{3, 6}, Shape{1, 6, 2, 3, 4}, Shape{1, 6, 33, 17}}) {
    std::vector<In> ins = {input(F(xs, 305))};
    ins.insert(ins.end(), params.begin(), params.end());
    check("BatchNormalization", ins, {af("epsilon", 1e-3f)}, 15, 1, 1e-4);
  }
  std::vector<In> dyn = {dynamic(F({2, 6, 3, 3}, 306))};
  dyn.insert(dyn.end(), params.begin(), params.end());
  check("BatchNormalization", dyn, {}, 9, 1, 1e-4);
}

TEST(NativeBatchNorm, DeclinesRuntimeParametersAndTraining) {
  Tensor x = F({1, 4, 3, 3}, 310);
  expect_declined("BatchNormalization", {input(x), input(F({4}, 311)), constant(F({4}, 312)), constant(F({4}, 313)),
                                         constant(positive({4}, 314))}, {}, 15);
  expect_declined("BatchNormalization", {input(x), constant(F({4}, 311)), constant(F({4}, 312)), constant(F({4}, 313)),
                                         constant(positive({4}, 314))}, {ai("training_mode", 1)}, 15);
  expect_declined("BatchNormalization", {input(x), constant(F({3}, 311)), constant(F({4}, 312)), constant(F({4}, 313)),
                                         constant(positive({4}, 314))}, {}, 15);
}

// ---- Views: Reshape, Flatten, Squeeze, Unsqueeze, Identity ---------------------------

TEST(MovementViews, ReshapeSharesStorage) {
  const Tensor x = F({2, 3, 4}, 1);
  Value y = check("Reshape", {input(x), constant(ints({0, -1}))}, {}, 14);
  EXPECT_EQ(y.tensor.shape(), (Shape{2, 12}));
  EXPECT_EQ(y.tensor.raw(), x.raw());
}

TEST(MovementViews, Reshape) {
  check("Reshape", {input(data(ElementType::int64, {6, 4}, 2)), constant(ints({2, -1, 3}))}, {}, 13);
  check("Reshape", {input(F({1, 116, 28, 28}, 3)), constant(ints({1, 2, 58, 28, 28}))}, {}, 13);
  check("Reshape", {input(F({3, 0, 2}, 4)), constant(ints({0, 3, 0}))}, {ai("allowzero", 1)}, 14);
  check("Reshape", {input(F({3, 0, 2}, 4)), constant(ints({6, 0}))}, {}, 14);
}

TEST(MovementViews, ReshapeRuntimeShapeAndOldAttribute) {
  check("Reshape", {dynamic(F({4, 6}, 6)), input(ints({3, -1}))}, {}, 13);
  check("Reshape", {input(F({4, 6}, 7))}, {ais("shape", {2, 0, -1})}, 4);
}

TEST(MovementViews, ReshapeInvalidFailsLikeTheReference) {
  expect_run_error("Reshape", {input(F({4, 6}, 8)), constant(ints({5, -1}))}, {}, 13);
  expect_run_error("Reshape", {input(F({4, 6}, 8)), constant(ints({-1, -1}))}, {}, 13);
}

TEST(MovementViews, Flatten) {
  const Tensor x = F({2, 3, 4, 5}, 9);
  for (int64_t axis : {0, 1, 2, 4, -1, -4}) check("Flatten", {input(x)}, {ai("axis", axis)}, 13);
  check("Flatten", {input(x)}, {}, 9);
  check("Flatten", {input(data(ElementType::int64, {3, 0, 2}, 10))}, {ai("axis", 2)}, 13);
}

TEST(MovementViews, Squeeze) {
  const Tensor x = F({1, 3, 1, 5, 1}, 11);
  check("Squeeze", {input(x)}, {ais("axes", {0, -1})}, 11);
  check("Squeeze", {input(x), constant(ints({2, -5}))}, {}, 13);
  check("Squeeze", {input(x)}, {}, 13);
  check("Squeeze", {input(data(ElementType::int64, {1, 4}, 12)), input(ints({0}))}, {}, 13);
  expect_run_error("Squeeze", {input(x), constant(ints({1}))}, {}, 13);
}

TEST(MovementViews, Unsqueeze) {
  const Tensor x = F({3, 5}, 13);
  check("Unsqueeze", {input(x)}, {ais("axes", {0, -1})}, 11);
  check("Unsqueeze", {input(x), constant(ints({1, 3}))}, {}, 13);
  check("Unsqueeze", {input(data(ElementType::int64, {}, 14)), constant(ints({0}))}, {}, 13);
  expect_declined("Unsqueeze", {input(x)}, {}, 13);
  expect_run_error("Unsqueeze", {input(x), constant(ints({0, 0}))}, {}, 13);
}

TEST(MovementViews, Identity) {
  check("Identity", {input(F({2, 3}, 15))}, {}, 21);
  check("Identity", {input(data(ElementType::int64, {4}, 16))}, {}, 13);
}

// ---- Concat ------------------------------------------------------------------------

TEST(MovementConcat, Axes) {
  const Tensor a = F({2, 3, 4, 5}, 20), b = F({2, 1, 4, 5}, 21), c = F({2, 2, 4, 5}, 22);
  check("Concat", {input(a), input(b), input(c)}, {ai("axis", 1)}, 13);
  check("Concat", {input(a), input(b), input(c)}, {ai("axis", -3)}, 13);
  check("Concat", {input(a), constant(F({1, 3, 4, 5}, 23))}, {ai("axis", 0)}, 13);
  check("Concat", {input(a), input(F({2, 3, 4, 2}, 24))}, {ai("axis", -1)}, 13);
  check("Concat", {input(F({3, 4}, 25))}, {ai("axis", 1)}, 13);
}

TEST(MovementConcat, TypesAndEmptyInputs) {
  for (ElementType t : {ElementType::int64, ElementType::uint8, ElementType::float16, ElementType::boolean,
                        ElementType::float64, ElementType::complex128})
    check("Concat", {input(data(t, {2, 3}, 26)), input(data(t, {2, 4}, 27))}, {ai("axis", 1)}, 13);
  check("Concat", {input(F({2, 0, 3}, 28)), input(F({2, 2, 3}, 29)), input(F({2, 0, 3}, 30))}, {ai("axis", 1)}, 13);
  check("Concat", {input(F({0, 3}, 31)), input(F({0, 2}, 32))}, {ai("axis", 1)}, 13);
  check("Concat", {input(F({2, 3}, 33)), input(F({2, 3}, 34))}, {}, 1);  // Concat-1: axis 1 by default
}

TEST(MovementConcat, Declines) {
  const Tensor a = F({2, 3}, 35);
  expect_declined("Concat", {input(a), input(a)}, {}, 13);                       // axis is required
  expect_declined("Concat", {input(a), input(a)}, {ai("axis", 2)}, 13);          // out of range
  expect_declined("Concat", {input(a), input(data(ElementType::int64, {2, 3}, 36))}, {ai("axis", 0)}, 13);
  expect_declined("Concat", {input(Tensor::from_strings({1}, {"a"})), input(Tensor::from_strings({1}, {"b"}))},
                  {ai("axis", 0)}, 13);
  expect_declined("Concat", {input(Tensor::allocate(ElementType::int4, {2})), input(Tensor::allocate(ElementType::int4, {2}))},
                  {ai("axis", 0)}, 13);
}

TEST(MovementConcat, MismatchedShapesFailLikeTheReference) {
  expect_run_error("Concat", {input(F({2, 3}, 37)), input(F({3, 3}, 38))}, {ai("axis", 1)}, 13);
}

// ---- Split --------------------------------------------------------------------------

TEST(MovementSplit, SizesFromAttributeAndInput) {
  const Tensor x = F({2, 6, 5}, 40);
  check("Split", {input(x)}, {ai("axis", 1), ais("split", {2, 3, 1})}, 11, 3);
  check("Split", {input(x), constant(ints({2, 3, 1}))}, {ai("axis", 1)}, 13, 3);
  check("Split", {input(x), constant(ints({1, 4}))}, {ai("axis", -1)}, 13, 2);
  check("Split", {input(x), constant(ints({0, 6}))}, {ai("axis", 1)}, 13, 2);
  check("Split", {input(x), constant(ints({2, 4}))}, {ai("axis", 1)}, 2, 2);  // Split-2's optional input
}

TEST(MovementSplit, EvenAndNumOutputs) {
  const Tensor x = F({1, 116, 7, 7}, 41);
  check("Split", {input(x)}, {ai("axis", 1)}, 13, 2);
  check("Split", {input(data(ElementType::int64, {7, 3}, 42))}, {ai("num_outputs", 3)}, 18, 3);
  check("Split", {input(data(ElementType::uint8, {4, 9}, 43))}, {ai("axis", -1), ai("num_outputs", 4)}, 18, 4);
  check("Split", {input(F({6}, 44))}, {}, 11, 3);
}

TEST(MovementSplit, DeclinesAndErrors) {
  const Tensor x = F({2, 6}, 45);
  expect_declined("Split", {input(x), input(ints({3, 3}))}, {ai("axis", 1)}, 13, 2);  // run-time split
  expect_declined("Split", {input(x)}, {ai("axis", 2)}, 13, 2);
  Case c = make_case("Split", {input(F({2, 7}, 46))}, {ai("axis", 1)}, 13, 2);  // 7 does not split evenly
  CompileContext ctx{c.graph, 1};
  auto k = native_provider("Split")->create(c.graph.nodes[0], ctx);
  ASSERT_NE(k, nullptr);
  std::vector<Value> slots;
  const auto in = bind_inputs(c, slots);
  std::vector<Value> out(2);
  EXPECT_THROW(k->run(in, out), Error);
}

// ---- Slice ----------------------------------------------------------------------------

TEST(MovementSlice, ConstantOperands) {
  const Tensor x = F({4, 5, 6}, 50);
  const int64_t big = std::numeric_limits<int64_t>::max();
  check("Slice", {input(x), constant(ints({1, 2})), constant(ints({3, 5}))}, {}, 13);
  check("Slice", {input(x), constant(ints({-4, 1})), constant(ints({big, -1})), constant(ints({-1, 0}))}, {}, 13);
  check("Slice", {input(x), constant(ints({0})), constant(ints({2})), constant(ints({1})), constant(ints({1}))}, {}, 13);
  check("Slice", {input(x), constant(ints({3})), constant(ints({1})), constant(ints({2}))}, {}, 13);  // empty
  check("Slice", {input(data(ElementType::int64, {10}, 51)), constant(ints({-100})), constant(ints({100}))}, {}, 10);
  check("Slice", {input(x)}, {ais("starts", {1}), ais("ends", {3}), ais("axes", {2})}, 9);
}

TEST(MovementSlice, Declines) {
  const Tensor x = F({4, 5}, 52);
  expect_declined("Slice", {input(x), constant(ints({0})), constant(ints({4})), constant(ints({0})), constant(ints({2}))}, {}, 13);
  expect_declined("Slice", {input(x), constant(ints({3})), constant(ints({0})), constant(ints({0})), constant(ints({-1}))}, {}, 13);
  expect_declined("Slice", {input(x), input(ints({0})), constant(ints({2}))}, {}, 13);
}

// ---- Transpose --------------------------------------------------------------------------

TEST(MovementTranspose, ChannelShuffle) {
  check("Transpose", {input(F({1, 2, 58, 28, 28}, 60))}, {ais("perm", {0, 2, 1, 3, 4})}, 13);
  check("Transpose", {input(F({2, 3, 4, 5, 6}, 61))}, {ais("perm", {0, 2, 1, 3, 4})}, 13);
}

TEST(MovementTranspose, Permutations) {
  check("Transpose", {input(F({2, 3, 4}, 62))}, {}, 13);  // reversed
  check("Transpose", {input(F({2, 3, 17, 19}, 63))}, {ais("perm", {0, 2, 3, 1})}, 13);
  check("Transpose", {input(F({2, 17, 19, 3}, 64))}, {ais("perm", {0, 3, 1, 2})}, 13);
  check("Transpose", {input(F({67, 130}, 65))}, {ais("perm", {1, 0})}, 13);
  check("Transpose", {input(F({1, 5, 1, 7}, 66))}, {ais("perm", {3, 2, 1, 0})}, 13);
  check("Transpose", {input(F({3, 4, 5}, 67))}, {ais("perm", {-1, 0, 1})}, 13);
  check("Transpose", {input(F({0, 3}, 68))}, {ais("perm", {1, 0})}, 13);
  check("Transpose", {input(F({}, 69))}, {}, 13);
}

TEST(MovementTranspose, ElementTypes) {
  for (ElementType t : {ElementType::int64, ElementType::uint8, ElementType::float16, ElementType::int32,
                        ElementType::complex128}) {
    check("Transpose", {input(data(t, {3, 5, 7}, 70))}, {ais("perm", {2, 0, 1})}, 13);
    check("Transpose", {input(data(t, {2, 4, 3, 5}, 71))}, {ais("perm", {0, 2, 1, 3})}, 13);
  }
}

TEST(MovementTranspose, Declines) {
  expect_declined("Transpose", {input(F({2, 3}, 72))}, {ais("perm", {0})}, 13);
  expect_declined("Transpose", {input(F({2, 3}, 72))}, {ais("perm", {0, 0})}, 13);
  expect_declined("Transpose", {input(Tensor::from_strings({2}, {"a", "b"}))}, {}, 13);
}

// ---- Resize ---------------------------------------------------------------------------------

Attribute coord(const std::string& m) { return as("coordinate_transformation_mode", m); }
Attribute mode(const std::string& m) { return as("mode", m); }
Attribute nearest(const std::string& m) { return as("nearest_mode", m); }
In no_roi() { return constant(Tensor::allocate(ElementType::float32, {0})); }

TEST(NativeResize, NearestScales) {
  const Tensor x = F({1, 3, 5, 7}, 80);
  check("Resize", {input(x), no_roi(), constant(floats({1, 1, 2, 2}))}, {coord("asymmetric"), mode("nearest"), nearest("floor")}, 14);
  check("Resize", {input(x), no_roi(), constant(floats({1, 1, 8, 8}))}, {coord("asymmetric"), mode("nearest"), nearest("floor")}, 13);
  check("Resize", {input(x), no_roi(), constant(floats({1, 1, 0.6f, 0.5f}))}, {}, 13);
  for (const char* nm : {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"})
    for (const char* cm : {"half_pixel", "align_corners", "asymmetric", "pytorch_half_pixel", "half_pixel_symmetric"})
      check("Resize", {input(x), no_roi(), constant(floats({1, 1, 1.7f, 2.5f}))}, {coord(cm), nearest(nm)}, 19);
}

TEST(NativeResize, NearestSizesTypesAndOldOpsets) {
  const Tensor x = F({2, 3, 4, 6}, 81);
  check("Resize", {input(x), no_roi(), constant(Tensor::allocate(ElementType::float32, {0})), constant(ints({2, 3, 9, 4}))}, {}, 13);
  check("Resize", {input(x), omitted(), omitted(), constant(ints({2, 3, 1, 13}))}, {coord("align_corners")}, 13);
  check("Resize", {input(data(ElementType::int64, {1, 2, 3, 3}, 82)), no_roi(), constant(floats({1, 1, 2, 3}))}, {}, 13);
  check("Resize", {input(data(ElementType::uint8, {1, 2, 3, 3}, 83)), no_roi(), constant(floats({1, 1, 2, 3}))}, {}, 11);
  check("Resize", {input(x), constant(floats({1, 1, 2, 0.5f}))}, {}, 10);  // asymmetric, "simple"
  check("Resize", {input(x), omitted(), constant(floats({2, 2}))}, {ais("axes", {2, 3})}, 18);
  check("Resize", {input(x), omitted(), constant(floats({1.5f, 2}))}, {ais("axes", {-1, -2})}, 18);
}

TEST(NativeResize, Linear) {
  const Tensor x = F({1, 4, 6, 5}, 84);
  for (const char* cm : {"half_pixel", "align_corners", "asymmetric", "pytorch_half_pixel", "half_pixel_symmetric"}) {
    check("Resize", {input(x), no_roi(), constant(floats({1, 1, 2, 2}))}, {coord(cm), mode("linear")}, 19, 1, 1e-6);
    check("Resize", {input(x), no_roi(), constant(floats({1, 1, 0.7f, 1.3f}))}, {coord(cm), mode("linear")}, 19, 1, 1e-6);
    check("Resize", {input(x), omitted(), omitted(), constant(ints({1, 4, 1, 9}))}, {coord(cm), mode("linear")}, 19, 1, 1e-6);
  }
  check("Resize", {input(x), constant(floats({1, 1, 2, 3}))}, {mode("linear")}, 10, 1, 1e-6);
  check("Resize", {input(x), no_roi(), constant(floats({1, 1, 3, 3}))}, {mode("linear"), ai("antialias", 0)}, 18, 1, 1e-6);
}

TEST(NativeResize, Declines) {
  const Tensor x = F({1, 3, 4, 4}, 85);
  const In s2 = constant(floats({1, 1, 2, 2}));
  expect_declined("Resize", {input(x), no_roi(), s2}, {mode("cubic")}, 13);
  expect_declined("Resize", {input(x), no_roi(), s2}, {coord("tf_crop_and_resize")}, 13);
  expect_declined("Resize", {input(x), no_roi(), s2}, {coord("tf_half_pixel_for_nn")}, 13);
  expect_declined("Resize", {input(x), no_roi(), constant(floats({1, 2, 2, 2}))}, {}, 13);
  expect_declined("Resize", {input(x), no_roi(), input(floats({1, 1, 2, 2}))}, {}, 13);
  expect_declined("Resize", {input(x), no_roi(), s2}, {mode("linear"), ai("antialias", 1)}, 18);
  expect_declined("Resize", {input(x), no_roi(), s2}, {mode("linear"), ai("exclude_outside", 1)}, 13);
  expect_declined("Resize", {input(data(ElementType::int64, {1, 3, 4, 4}, 86)), no_roi(), s2}, {mode("linear")}, 13);
  expect_declined("Resize", {input(F({3, 4, 4}, 87)), no_roi(), constant(floats({1, 2, 2}))}, {}, 13);
  expect_declined("Resize", {input(x), omitted(), omitted(), constant(ints({1, 3, 8, 8}))},
                  {as("keep_aspect_ratio_policy", "not_larger")}, 18);
  expect_declined("Resize", {input(x), omitted(), omitted(), constant(ints({1, 2, 8, 8}))}, {}, 13);
}

TEST(NativeResize, ChangedChannelsAtRunTimeGoToTheReference) {
  // Declared [N, C, H, W] unknown: sizes that change C are only seen at run time.
  check("Resize", {dynamic(F({1, 3, 4, 4}, 88)), omitted(), omitted(), constant(ints({1, 2, 8, 8}))}, {}, 13);
}

TEST(NativeConcurrency, ParallelRuns) {
  Case c = make_case("Resize", {input(F({1, 8, 16, 16}, 90)), no_roi(), constant(floats({1, 1, 2, 2}))},
                     {mode("linear")}, 13, 1);
  CompileContext ctx{c.graph, 1};
  auto k = native_provider("Resize")->create(c.graph.nodes[0], ctx);
  ASSERT_NE(k, nullptr);
  auto want = reference::Interpreter().run(c.graph, c.feeds);
  ASSERT_TRUE(want.ok());
  std::vector<int> failures(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      std::vector<Value> slots;
      const auto in = bind_inputs(c, slots);
      for (int i = 0; i < 20; ++i) {
        std::vector<Value> out(1);
        k->run(in, out);
        if (std::memcmp(out[0].tensor.raw(), want.value()[0].tensor.raw(), out[0].tensor.byte_size()) != 0)
          ++failures[static_cast<size_t>(t)];
      }
    });
  for (auto& th : threads) th.join();
  for (int f : failures) EXPECT_EQ(f, 0);
}

}  // namespace
}  // namespace switchyard::cpu
