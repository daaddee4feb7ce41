// Tests for the reference shape kernels.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>

#include "switchyard/reference/interpreter.h"
#include "switchyard/reference/util.h"
#include "test_util.h"

namespace switchyard::reference {
namespace {

using namespace switchyard::reference::test;

Tensor i64v(std::vector<int64_t> v) { return i64({static_cast<int64_t>(v.size())}, v); }
Tensor of_type(ElementType t, Shape s, std::vector<double> v) { return from_doubles(t, s, v); }

std::vector<Tensor> run(const std::string& op, const std::vector<Input>& inputs, const std::vector<Attribute>& attrs = {},
                        int64_t opset = 18, size_t n_out = 1) {
  return tensors_of(values_or_throw(run_node(op, inputs, attrs, opset, first_outputs(n_out))));
}

Tensor run1(const std::string& op, const std::vector<Input>& inputs, const std::vector<Attribute>& attrs = {},
            int64_t opset = 18) {
  return run(op, inputs, attrs, opset, 1)[0];
}

StatusCode error_of(const std::string& op, const std::vector<Input>& inputs, const std::vector<Attribute>& attrs = {},
                    int64_t opset = 18, size_t n_out = 1) {
  return code_of(run_node(op, inputs, attrs, opset, first_outputs(n_out)));
}

std::vector<float> iota_f(int n) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) v[static_cast<size_t>(i)] = static_cast<float>(i);
  return v;
}

// ---------------------------------------------------------------------------

TEST(ShapeReshape, ZeroCopiesAndMinusOneInfers) {
  Tensor x = f32({2, 3, 4}, iota_f(24));
  Tensor y = run1("Reshape", {x, i64v({0, -1})});
  EXPECT_EQ(y.shape(), (Shape{2, 12}));
  EXPECT_EQ(vals(y)[13], 13.0);
  EXPECT_EQ(run1("Reshape", {x, i64v({-1, 0, 2})}).shape(), (Shape{4, 3, 2}));
}

TEST(ShapeReshape, AllowZeroKeepsLiteralZero) {
  Tensor x = f32({0, 3}, {});
  EXPECT_EQ(run1("Reshape", {x, i64v({3, 0})}, {ai("allowzero", 1)}).shape(), (Shape{3, 0}));
  // Without allowzero the 0 copies dim 1 (3): 0 elements into [3,3] fails.
  EXPECT_EQ(error_of("Reshape", {x, i64v({3, 0})}), StatusCode::invalid_argument);
}

TEST(ShapeReshape, ErrorsAndStrings) {
  Tensor x = f32({2, 3}, iota_f(6));
  EXPECT_EQ(error_of("Reshape", {x, i64v({-1, -1})}), StatusCode::invalid_argument);
  EXPECT_EQ(error_of("Reshape", {x, i64v({4, -1})}), StatusCode::invalid_argument);
  Tensor s = Tensor::from_strings({2, 2}, {"a", "b", "c", "d"});
  Tensor y = run1("Reshape", {s, i64v({4})});
  EXPECT_EQ(y.shape(), (Shape{4}));
  EXPECT_EQ(y.strings()[3], "d");
  // Opset 1: shape is an attribute.
  EXPECT_EQ(run1("Reshape", {x}, {ais("shape", {3, 2})}, 1).shape(), (Shape{3, 2}));
}

TEST(ShapeShape, StartEndClamp) {
  Tensor x = f32({2, 3, 4, 5}, std::vector<float>(120, 0.f));
  EXPECT_EQ(ints(run1("Shape", {x})), (std::vector<int64_t>{2, 3, 4, 5}));
  EXPECT_EQ(ints(run1("Shape", {x}, {ai("start", -3), ai("end", -1)})), (std::vector<int64_t>{3, 4}));
  EXPECT_EQ(ints(run1("Shape", {x}, {ai("start", -10), ai("end", 10)})), (std::vector<int64_t>{2, 3, 4, 5}));
  EXPECT_EQ(run1("Shape", {x}, {ai("start", 3), ai("end", 1)}).numel(), 0);
  EXPECT_EQ(run1("Size", {x}).shape(), Shape{});
  EXPECT_EQ(ints(run1("Size", {x}))[0], 120);
}

TEST(ShapeSlice, BasicAndNegativeSteps) {
  Tensor x = f32({3, 4}, iota_f(12));
  Tensor y = run1("Slice", {x, i64v({1, 1}), i64v({3, 3})});
  EXPECT_EQ(y.shape(), (Shape{2, 2}));
  EXPECT_EQ(vals(y), (std::vector<double>{5, 6, 9, 10}));
  Tensor v = f32({10}, iota_f(10));
  // start -1 (9), end far below (clamped to -1 = before the start), step -3.
  EXPECT_EQ(vals(run1("Slice", {v, i64v({-1}), i64v({-100}), i64v({0}), i64v({-3})})),
            (std::vector<double>{9, 6, 3, 0}));
  // Ends beyond the dim clamp; negative axes.
  EXPECT_EQ(vals(run1("Slice", {x, i64v({2}), i64v({std::numeric_limits<int64_t>::max()}), i64v({-1}), none()})),
            (std::vector<double>{2, 3, 6, 7, 10, 11}));
  // Empty result when start >= end.
  EXPECT_EQ(run1("Slice", {v, i64v({5}), i64v({2})}).shape(), (Shape{0}));
  EXPECT_EQ(error_of("Slice", {v, i64v({0}), i64v({5}), i64v({0}), i64v({0})}), StatusCode::invalid_argument);
  // Opset 1 attributes.
  EXPECT_EQ(vals(run1("Slice", {x}, {ais("starts", {1}), ais("ends", {2}), ais("axes", {0})}, 1)),
            (std::vector<double>{4, 5, 6, 7}));
}

TEST(ShapeConcat, AxesEmptyAndStrings) {
  Tensor a = f32({2, 1}, {1, 2});
  Tensor b = f32({2, 2}, {3, 4, 5, 6});
  Tensor e = f32({2, 0}, {});
  Tensor y = run1("Concat", {a, e, b}, {ai("axis", -1)});
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  EXPECT_EQ(vals(y), (std::vector<double>{1, 3, 4, 2, 5, 6}));
  EXPECT_EQ(error_of("Concat", {a, b}, {ai("axis", 0)}), StatusCode::invalid_argument);
  Tensor s = run1("Concat", {Tensor::from_strings({1}, {"x"}), Tensor::from_strings({2}, {"y", "z"})}, {ai("axis", 0)});
  EXPECT_EQ(s.strings(), (std::vector<std::string>{"x", "y", "z"}));
}

TEST(ShapeConcat, SubByteInt4) {
  Tensor a = of_type(ElementType::int4, {3}, {-8, 7, -1});
  Tensor b = of_type(ElementType::int4, {2}, {3, -2});
  Tensor y = run1("Concat", {a, b}, {ai("axis", 0)});
  EXPECT_EQ(ints(y), (std::vector<int64_t>{-8, 7, -1, 3, -2}));
}

TEST(ShapeFlatten, Axes) {
  Tensor x = f32({2, 3, 4}, iota_f(24));
  EXPECT_EQ(run1("Flatten", {x}, {ai("axis", 0)}).shape(), (Shape{1, 24}));
  EXPECT_EQ(run1("Flatten", {x}).shape(), (Shape{2, 12}));
  EXPECT_EQ(run1("Flatten", {x}, {ai("axis", -1)}).shape(), (Shape{6, 4}));
  EXPECT_EQ(run1("Flatten", {x}, {ai("axis", 3)}).shape(), (Shape{24, 1}));
  EXPECT_EQ(error_of("Flatten", {x}, {ai("axis", 4)}), StatusCode::invalid_argument);
}

TEST(ShapeSqueeze, AttributeAndInput) {
  Tensor x = f32({1, 3, 1, 2}, iota_f(6));
  EXPECT_EQ(run1("Squeeze", {x}, {}, 13).shape(), (Shape{3, 2}));
  EXPECT_EQ(run1("Squeeze", {x, i64v({-2})}, {}, 13).shape(), (Shape{1, 3, 2}));
  EXPECT_EQ(run1("Squeeze", {x}, {ais("axes", {0})}, 11).shape(), (Shape{3, 1, 2}));
  EXPECT_EQ(error_of("Squeeze", {x, i64v({1})}, {}, 13), StatusCode::invalid_argument);
}

TEST(ShapeUnsqueeze, AttributeAndInput) {
  Tensor x = f32({2, 3}, iota_f(6));
  EXPECT_EQ(run1("Unsqueeze", {x}, {ais("axes", {0, 3})}, 11).shape(), (Shape{1, 2, 3, 1}));
  EXPECT_EQ(run1("Unsqueeze", {x, i64v({-1, 1})}, {}, 13).shape(), (Shape{2, 1, 3, 1}));
  EXPECT_EQ(error_of("Unsqueeze", {x, i64v({1, 1})}, {}, 13), StatusCode::invalid_argument);
  EXPECT_EQ(error_of("Unsqueeze", {x, i64v({4})}, {}, 13), StatusCode::invalid_argument);
}

TEST(ShapeTranspose, DefaultAndPerm) {
  Tensor x = f32({2, 3}, iota_f(6));
  Tensor y = run1("Transpose", {x});
  EXPECT_EQ(y.shape(), (Shape{3, 2}));
  EXPECT_EQ(vals(y), (std::vector<double>{0, 3, 1, 4, 2, 5}));
  Tensor z = f32({2, 3, 4}, iota_f(24));
  Tensor t = run1("Transpose", {z}, {ais("perm", {1, 0, 2})});
  EXPECT_EQ(t.shape(), (Shape{3, 2, 4}));
  EXPECT_EQ(vals(t)[4], 12.0);  // t[0][1][0] = z[1][0][0]
  Tensor u4 = of_type(ElementType::uint4, {2, 3}, {1, 2, 3, 4, 5, 15});
  EXPECT_EQ(ints(run1("Transpose", {u4})), (std::vector<int64_t>{1, 4, 2, 5, 3, 15}));
  EXPECT_EQ(error_of("Transpose", {x}, {ais("perm", {0, 0})}), StatusCode::invalid_argument);
}

TEST(ShapeGather, AxisNegativeIndicesAndScalar) {
  Tensor x = f32({2, 3}, iota_f(6));
  Tensor y = run1("Gather", {x, i64({2}, {-1, 0})}, {ai("axis", 1)});
  EXPECT_EQ(y.shape(), (Shape{2, 2}));
  EXPECT_EQ(vals(y), (std::vector<double>{2, 0, 5, 3}));
  Tensor s = run1("Gather", {x, i32({}, {1})});
  EXPECT_EQ(s.shape(), (Shape{3}));
  EXPECT_EQ(vals(s), (std::vector<double>{3, 4, 5}));
  EXPECT_EQ(error_of("Gather", {x, i64({1}, {2})}), StatusCode::invalid_argument);
  Tensor h = of_type(ElementType::float16, {3}, {0.5, 1.5, -2});
  EXPECT_EQ(vals(run1("Gather", {h, i64({2}, {2, 2})})), (std::vector<double>{-2, -2}));
  Tensor str = Tensor::from_strings({3}, {"a", "b", "c"});
  EXPECT_EQ(run1("Gather", {str, i64({2}, {2, 0})}).strings(), (std::vector<std::string>{"c", "a"}));
}

TEST(ShapeGatherElements, Axis1) {
  Tensor x = f32({2, 2}, {1, 2, 3, 4});
  Tensor y = run1("GatherElements", {x, i64({2, 2}, {0, 0, -1, 0})}, {ai("axis", 1)});
  EXPECT_EQ(vals(y), (std::vector<double>{1, 1, 4, 3}));
  EXPECT_EQ(error_of("GatherElements", {x, i64({2, 2}, {0, 0, 2, 0})}, {ai("axis", 1)}), StatusCode::invalid_argument);
}

TEST(ShapeGatherND, BatchDims) {
  Tensor x = f32({2, 2}, {0, 1, 2, 3});
  EXPECT_EQ(vals(run1("GatherND", {x, i64({2, 2}, {0, 0, 1, 1})})), (std::vector<double>{0, 3}));
  EXPECT_EQ(vals(run1("GatherND", {x, i64({2, 1}, {1, 0})})), (std::vector<double>{2, 3, 0, 1}));
  Tensor d = f32({2, 2, 2}, iota_f(8));
  Tensor y = run1("GatherND", {d, i64({2, 1}, {1, 0})}, {ai("batch_dims", 1)});
  EXPECT_EQ(y.shape(), (Shape{2, 2}));
  EXPECT_EQ(vals(y), (std::vector<double>{2, 3, 4, 5}));
}

TEST(ShapeScatter, ElementsReductionsAndND) {
  Tensor x = f32({1, 5}, {1, 2, 3, 4, 5});
  Tensor y = run1("ScatterElements", {x, i64({1, 2}, {1, 1}), f32({1, 2}, {1.1f, 2.1f})},
                  {ai("axis", 1), as("reduction", "add")});
  EXPECT_NEAR(vals(y)[1], 5.2, 1e-6);
  EXPECT_EQ(vals(y)[0], 1.0);
  Tensor m = run1("ScatterElements", {x, i64({1, 2}, {-1, 0}), f32({1, 2}, {0, 7})},
                  {ai("axis", 1), as("reduction", "max")});
  EXPECT_EQ(vals(m), (std::vector<double>{7, 2, 3, 4, 5}));
  Tensor s9 = run1("Scatter", {x, i64({1, 1}, {4}), f32({1, 1}, {9})}, {ai("axis", 1)}, 9);
  EXPECT_EQ(vals(s9), (std::vector<double>{1, 2, 3, 4, 9}));
  Tensor d = f32({4}, {1, 2, 3, 4});
  Tensor nd = run1("ScatterND", {d, i64({2, 1}, {1, 1}), f32({2}, {3, 5})}, {as("reduction", "mul")});
  EXPECT_EQ(vals(nd), (std::vector<double>{1, 30, 3, 4}));
  Tensor d2 = f32({2, 2}, {1, 2, 3, 4});
  Tensor nd2 = run1("ScatterND", {d2, i64({1, 1}, {1}), f32({1, 2}, {8, 9})});
  EXPECT_EQ(vals(nd2), (std::vector<double>{1, 2, 8, 9}));
  EXPECT_EQ(error_of("ScatterND", {d, i64({1, 1}, {4}), f32({1}, {0})}), StatusCode::invalid_argument);
}

TEST(ShapeConstantOfShape, DefaultAndValue) {
  Tensor y = run1("ConstantOfShape", {i64v({2, 3})});
  EXPECT_EQ(y.type(), ElementType::float32);
  EXPECT_EQ(vals(y), std::vector<double>(6, 0.0));
  Tensor z = run1("ConstantOfShape", {i64v({2})}, {at("value", i32({1}, {7}))});
  EXPECT_EQ(z.type(), ElementType::int32);
  EXPECT_EQ(ints(z), (std::vector<int64_t>{7, 7}));
  EXPECT_EQ(run1("ConstantOfShape", {i64v({0})}).numel(), 0);
  EXPECT_EQ(run1("ConstantOfShape", {i64({0}, {})}).shape(), Shape{});
}

TEST(ShapeExpand, Bidirectional) {
  Tensor x = f32({3, 1}, {1, 2, 3});
  Tensor y = run1("Expand", {x, i64v({2, 1, 2})});
  EXPECT_EQ(y.shape(), (Shape{2, 3, 2}));
  EXPECT_EQ(vals(y), (std::vector<double>{1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3}));
  EXPECT_EQ(run1("Expand", {x, i64v({1})}).shape(), (Shape{3, 1}));
  EXPECT_EQ(error_of("Expand", {x, i64v({2, 2})}), StatusCode::invalid_argument);
}

TEST(ShapeRange, IntegerFloatAndEmpty) {
  EXPECT_EQ(ints(run1("Range", {i32({}, {10}), i32({}, {4}), i32({}, {-3})})), (std::vector<int64_t>{10, 7}));
  Tensor f = run1("Range", {f32({}, {1}), f32({}, {2}), f32({}, {0.25f})});
  EXPECT_EQ(vals(f), (std::vector<double>{1, 1.25, 1.5, 1.75}));
  EXPECT_EQ(run1("Range", {i64({}, {5}), i64({}, {1}), i64({}, {2})}).numel(), 0);
  const int64_t big = (int64_t{1} << 53) + 1;
  EXPECT_EQ(ints(run1("Range", {i64({}, {big}), i64({}, {big + 3}), i64({}, {2})})),
            (std::vector<int64_t>{big, big + 2}));
  EXPECT_EQ(error_of("Range", {i64({}, {0}), i64({}, {1}), i64({}, {0})}), StatusCode::invalid_argument);
}

TEST(ShapeSplit, OpsetVariants) {
  Tensor x = f32({5}, iota_f(5));
  auto a = run("Split", {x, i64v({2, 3})}, {}, 13, 2);
  EXPECT_EQ(vals(a[1]), (std::vector<double>{2, 3, 4}));
  auto b = run("Split", {x}, {ais("split", {1, 4})}, 11, 2);
  EXPECT_EQ(vals(b[0]), (std::vector<double>{0}));
  auto c = run("Split", {x}, {ai("num_outputs", 3)}, 18, 3);
  EXPECT_EQ(c[0].shape(), (Shape{2}));
  EXPECT_EQ(c[2].shape(), (Shape{1}));
  EXPECT_EQ(vals(c[2]), (std::vector<double>{4}));
  Tensor m = f32({2, 4}, iota_f(8));
  auto d = run("Split", {m}, {ai("axis", -1)}, 13, 2);
  EXPECT_EQ(vals(d[1]), (std::vector<double>{2, 3, 6, 7}));
  auto z = run("Split", {x, i64v({0, 5})}, {}, 13, 2);
  EXPECT_EQ(z[0].shape(), (Shape{0}));
  EXPECT_EQ(error_of("Split", {x, i64v({2, 2})}, {}, 13, 2), StatusCode::invalid_argument);
  EXPECT_EQ(error_of("Split", {x}, {}, 13, 2), StatusCode::invalid_argument);
}

TEST(ShapePad, Modes) {
  Tensor x = f32({3}, {1, 2, 3});
  EXPECT_EQ(vals(run1("Pad", {x, i64v({2, 1}), f32({}, {9})})), (std::vector<double>{9, 9, 1, 2, 3, 9}));
  EXPECT_EQ(vals(run1("Pad", {x, i64v({2, 2})}, {as("mode", "reflect")})),
            (std::vector<double>{3, 2, 1, 2, 3, 2, 1}));
  EXPECT_EQ(vals(run1("Pad", {x, i64v({2, 1})}, {as("mode", "edge")})), (std::vector<double>{1, 1, 1, 2, 3, 3}));
  EXPECT_EQ(vals(run1("Pad", {x, i64v({2, 4})}, {as("mode", "wrap")}, 19)),
            (std::vector<double>{2, 3, 1, 2, 3, 1, 2, 3, 1}));
  // Negative pads crop.
  EXPECT_EQ(vals(run1("Pad", {x, i64v({-1, 1})})), (std::vector<double>{2, 3, 0}));
  // Opset 2: pads and value are attributes.
  EXPECT_EQ(vals(run1("Pad", {x}, {ais("pads", {1, 0}), af("value", 5)}, 2)), (std::vector<double>{5, 1, 2, 3}));
  // Opset 18 axes: pad only the last axis of a 2-D tensor.
  Tensor m = f32({2, 2}, {1, 2, 3, 4});
  Tensor y = run1("Pad", {m, i64v({1, 0}), none(), i64v({-1})});
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  EXPECT_EQ(vals(y), (std::vector<double>{0, 1, 2, 0, 3, 4}));
  EXPECT_EQ(error_of("Pad", {x, i64v({1})}), StatusCode::invalid_argument);
}

TEST(ShapeTile, Repeats) {
  Tensor x = f32({2}, {1, 2});
  EXPECT_EQ(vals(run1("Tile", {x, i64v({3})})), (std::vector<double>{1, 2, 1, 2, 1, 2}));
  Tensor m = f32({1, 2}, {1, 2});
  Tensor y = run1("Tile", {m, i64v({2, 2})});
  EXPECT_EQ(y.shape(), (Shape{2, 4}));
  EXPECT_EQ(vals(y), (std::vector<double>{1, 2, 1, 2, 1, 2, 1, 2}));
  EXPECT_EQ(run1("Tile", {x, i64v({0})}).numel(), 0);
}

TEST(ShapeDepthToSpace, DcrCrdAndInverse) {
  Tensor x = f32({1, 8, 1, 1}, iota_f(8));
  Tensor dcr = run1("DepthToSpace", {x}, {ai("blocksize", 2)});
  EXPECT_EQ(dcr.shape(), (Shape{1, 2, 2, 2}));
  EXPECT_EQ(vals(dcr), (std::vector<double>{0, 2, 4, 6, 1, 3, 5, 7}));
  Tensor crd = run1("DepthToSpace", {x}, {ai("blocksize", 2), as("mode", "CRD")});
  EXPECT_EQ(vals(crd), (std::vector<double>{0, 1, 2, 3, 4, 5, 6, 7}));
  Tensor back = run1("SpaceToDepth", {dcr}, {ai("blocksize", 2)});
  EXPECT_EQ(back.shape(), (Shape{1, 8, 1, 1}));
  EXPECT_EQ(vals(back), vals(x));
}

TEST(ShapeTrilu, UpperLowerK) {
  Tensor x = f32({3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  EXPECT_EQ(vals(run1("Trilu", {x, i64({}, {1})})), (std::vector<double>{0, 2, 3, 0, 0, 6, 0, 0, 0}));
  EXPECT_EQ(vals(run1("Trilu", {x, i64({}, {-1})}, {ai("upper", 0)})), (std::vector<double>{0, 0, 0, 4, 0, 0, 7, 8, 0}));
  EXPECT_EQ(vals(run1("Trilu", {x})), (std::vector<double>{1, 2, 3, 0, 5, 6, 0, 0, 9}));
}

TEST(ShapeEyeLike, DtypeAndK) {
  Tensor y = run1("EyeLike", {f32({2, 3}, iota_f(6))}, {ai("k", 1), ai("dtype", 6)});
  EXPECT_EQ(y.type(), ElementType::int32);
  EXPECT_EQ(ints(y), (std::vector<int64_t>{0, 1, 0, 0, 0, 1}));
}

TEST(ShapeOneHot, NegativeIndicesAndAxis) {
  Tensor y = run1("OneHot", {i64v({0, -1, 5}), f32({}, {3}), f32({2}, {0, 1})});
  EXPECT_EQ(y.shape(), (Shape{3, 3}));
  EXPECT_EQ(vals(y), (std::vector<double>{1, 0, 0, 0, 0, 1, 0, 0, 0}));
  Tensor z = run1("OneHot", {i64v({1, 2}), f32({}, {3}), i32({2}, {-1, 4})}, {ai("axis", 0)});
  EXPECT_EQ(z.shape(), (Shape{3, 2}));
  EXPECT_EQ(ints(z), (std::vector<int64_t>{-1, -1, 4, -1, -1, 4}));
}

TEST(ShapeCumSum, ExclusiveReverseInt) {
  Tensor x = f32({4}, {1, 2, 3, 4});
  EXPECT_EQ(vals(run1("CumSum", {x, i32({}, {0})})), (std::vector<double>{1, 3, 6, 10}));
  EXPECT_EQ(vals(run1("CumSum", {x, i32({}, {0})}, {ai("exclusive", 1), ai("reverse", 1)})),
            (std::vector<double>{9, 7, 4, 0}));
  Tensor m = i32({2, 2}, {1, 2, 3, 4});
  EXPECT_EQ(ints(run1("CumSum", {m, i64({}, {-1})})), (std::vector<int64_t>{1, 3, 3, 7}));
  Tensor w = i32({2}, {std::numeric_limits<int32_t>::max(), 1});
  EXPECT_EQ(ints(run1("CumSum", {w, i64({}, {0})}))[1], std::numeric_limits<int32_t>::min());
}

TEST(ShapeTopK, LargestSmallestTies) {
  Tensor x = f32({2, 4}, {1, 3, 3, 2, 5, 5, 5, 0});
  auto r = run("TopK", {x, i64v({2})}, {}, 11, 2);
  EXPECT_EQ(vals(r[0]), (std::vector<double>{3, 3, 5, 5}));
  EXPECT_EQ(ints(r[1]), (std::vector<int64_t>{1, 2, 0, 1}));
  auto s = run("TopK", {x, i64v({3})}, {ai("largest", 0), ai("axis", 1)}, 11, 2);
  EXPECT_EQ(vals(s[0]), (std::vector<double>{1, 2, 3, 0, 5, 5}));
  EXPECT_EQ(ints(s[1]), (std::vector<int64_t>{0, 3, 1, 3, 0, 1}));
  auto a = run("TopK", {x}, {ai("k", 1), ai("axis", 0)}, 1, 2);
  EXPECT_EQ(vals(a[0]), (std::vector<double>{5, 5, 5, 2}));
  EXPECT_EQ(error_of("TopK", {x, i64v({5})}, {}, 11, 2), StatusCode::invalid_argument);
}

TEST(ShapeNonZero, Indices) {
  Tensor x = f32({2, 2}, {1, 0, 0, 3});
  Tensor y = run1("NonZero", {x});
  EXPECT_EQ(y.shape(), (Shape{2, 2}));
  EXPECT_EQ(ints(y), (std::vector<int64_t>{0, 1, 0, 1}));
  EXPECT_EQ(run1("NonZero", {f32({3}, {0, 0, 0})}).shape(), (Shape{1, 0}));
}

TEST(ShapeCompress, AxisAndFlat) {
  Tensor x = f32({3, 2}, {1, 2, 3, 4, 5, 6});
  Tensor c = Tensor::from_vector<uint8_t>(ElementType::boolean, {2}, {0, 1});
  EXPECT_EQ(vals(run1("Compress", {x, c}, {ai("axis", 0)})), (std::vector<double>{3, 4}));
  EXPECT_EQ(vals(run1("Compress", {x, c}, {ai("axis", -1)})), (std::vector<double>{2, 4, 6}));
  EXPECT_EQ(vals(run1("Compress", {x, c})), (std::vector<double>{2}));
}

TEST(ShapeReverseSequence, TimeMajor) {
  Tensor x = f32({3, 2}, {0, 1, 2, 3, 4, 5});  // [time, batch]
  Tensor y = run1("ReverseSequence", {x, i64v({3, 2})});
  EXPECT_EQ(vals(y), (std::vector<double>{4, 3, 2, 1, 0, 5}));
}

TEST(ShapeUnique, SortedAndUnsorted) {
  Tensor x = f32({6}, {2, 1, 1, 3, 4, 3});
  auto s = run("Unique", {x}, {}, 11, 4);
  EXPECT_EQ(vals(s[0]), (std::vector<double>{1, 2, 3, 4}));
  EXPECT_EQ(ints(s[1]), (std::vector<int64_t>{1, 0, 3, 4}));
  EXPECT_EQ(ints(s[2]), (std::vector<int64_t>{1, 0, 0, 2, 3, 2}));
  EXPECT_EQ(ints(s[3]), (std::vector<int64_t>{2, 1, 2, 1}));
  auto u = run("Unique", {x}, {ai("sorted", 0)}, 11, 4);
  EXPECT_EQ(vals(u[0]), (std::vector<double>{2, 1, 3, 4}));
  EXPECT_EQ(ints(u[2]), (std::vector<int64_t>{0, 1, 1, 2, 3, 2}));
  Tensor m = f32({3, 2}, {1, 0, 0, 1, 1, 0});
  auto a = run("Unique", {m}, {ai("axis", 0)}, 11, 4);
  EXPECT_EQ(vals(a[0]), (std::vector<double>{0, 1, 1, 0}));
  EXPECT_EQ(ints(a[3]), (std::vector<int64_t>{1, 2}));
}

TEST(ShapeResize, NearestLinearCubic) {
  Tensor x = f32({2}, {1, 2});
  EXPECT_EQ(vals(run1("Resize", {x, none(), f32({1}, {2})},
                      {as("coordinate_transformation_mode", "asymmetric"), as("nearest_mode", "floor")})),
            (std::vector<double>{1, 1, 2, 2}));
  EXPECT_EQ(vals(run1("Resize", {x, none(), f32({1}, {2})}, {as("mode", "linear")})),
            (std::vector<double>{1, 1.25, 1.75, 2}));
  EXPECT_EQ(vals(run1("Resize", {x, none(), none(), i64v({3})},
                      {as("mode", "linear"), as("coordinate_transformation_mode", "align_corners")})),
            (std::vector<double>{1, 1.5, 2}));
  // Cubic (a = -0.75) at x = 1.5: weights -0.09375, 0.59375, 0.59375, -0.09375 over 0, 1, 4, 9.
  Tensor sq = f32({4}, {0, 1, 4, 9});
  Tensor c = run1("Resize", {sq, none(), f32({1}, {2})},
                  {as("mode", "cubic"), as("coordinate_transformation_mode", "asymmetric")});
  ASSERT_EQ(c.numel(), 8);
  EXPECT_NEAR(vals(c)[3], 2.125, 1e-6);
  EXPECT_NEAR(vals(c)[2], 1.0, 1e-6);
}

TEST(ShapeResize, CropAndResizeAspectRatioAndUpsample) {
  Tensor x = f32({4}, {1, 2, 3, 4});
  Tensor y = run1("Resize", {x, f32({2}, {0, 1.5f}), none(), i64v({3})},
                  {as("mode", "linear"), as("coordinate_transformation_mode", "tf_crop_and_resize"),
                   af("extrapolation_value", 10)});
  EXPECT_EQ(vals(y), (std::vector<double>{1, 3.25, 10}));
  Tensor m = f32({2, 2}, {1, 2, 3, 4});
  Tensor z = run1("Resize", {m, none(), none(), i64v({4, 6})}, {as("keep_aspect_ratio_policy", "not_larger")});
  EXPECT_EQ(z.shape(), (Shape{4, 4}));
  Tensor u = run1("Upsample", {m, f32({2}, {1, 2})}, {}, 9);
  EXPECT_EQ(vals(u), (std::vector<double>{1, 1, 2, 2, 3, 3, 4, 4}));
  Tensor u7 = run1("Upsample", {m}, {afs("scales", {2, 1})}, 7);
  EXPECT_EQ(vals(u7), (std::vector<double>{1, 2, 1, 2, 3, 4, 3, 4}));
}

TEST(ShapeErrors, AxesOnScalarsAreRejected) {
  Tensor s = f32({}, {1});
  EXPECT_EQ(error_of("Concat", {s, s}, {ai("axis", 0)}), StatusCode::invalid_argument);
  EXPECT_EQ(error_of("Squeeze", {s, i64v({0})}, {}, 13), StatusCode::invalid_argument);
  EXPECT_EQ(error_of("Split", {s}, {}, 13, 1), StatusCode::invalid_argument);
  EXPECT_EQ(error_of("GatherElements", {s, i64({}, {0})}), StatusCode::invalid_argument);
  EXPECT_EQ(error_of("Compress", {s, Tensor::from_vector<uint8_t>(ElementType::boolean, {1}, {1})}, {ai("axis", 0)}),
            StatusCode::invalid_argument);
  // Unsqueeze of a scalar is fine.
  EXPECT_EQ(run1("Unsqueeze", {s, i64v({0})}, {}, 13).shape(), (Shape{1}));
  // Huge pads and tiles are refused, not allocated.
  EXPECT_EQ(error_of("Pad", {f32({1}, {1}), i64v({std::numeric_limits<int64_t>::max(), 0})}),
            StatusCode::invalid_argument);
  EXPECT_EQ(error_of("Tile", {f32({2}, {1, 2}), i64v({std::numeric_limits<int64_t>::max()})}),
            StatusCode::invalid_argument);
}

}  // namespace
}  // namespace switchyard::reference
