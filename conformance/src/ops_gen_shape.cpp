// The ops suite's data-movement families: shape operators (Reshape, Transpose, Concat, Split,
// Slice, Pad, ...), indexing (Gather, Scatter, TopK, OneHot, ...), tensor generators (Range,
// ConstantOfShape, EyeLike, Constant) and Resize.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "ops_gen.h"

namespace switchyard::conformance::ops {

namespace {

constexpr double kInt64Max = 9.3e18;  // saturates to INT64_MAX (Fill::given)
constexpr double kInt64Min = -9.3e18;

std::vector<double> as_doubles(const std::vector<int64_t>& v) { return {v.begin(), v.end()}; }
Shape len(const std::vector<int64_t>& v) { return {static_cast<int64_t>(v.size())}; }

// The element types a data-movement operator carries (every one its schema allows, strings included).
std::vector<ElementType> carried_types(const std::string& op, int64_t opset, size_t index = 0) {
  return types_or(op, opset, index, {f32, f16, f64, bf16, i8, u8, i16, u16, i32, u32, i64, u64, boolean, str});
}

void add_reshape_cases(std::vector<OpCase>& out) {
  const std::vector<std::pair<Shape, std::vector<int64_t>>> shapes = {
      {{2, 3, 4}, {4, 6}},    {{2, 3, 4}, {24}},       {{2, 3, 4}, {-1}},     {{2, 3, 4}, {2, -1, 2}}, {{2, 3, 4}, {0, 12}},
      {{2, 3, 4}, {0, 0, -1}}, {{2, 3, 4}, {1, 24, 1}}, {{1}, {}},            {{}, {1, 1}},            {{0, 3}, {0, 3}},
      {{1, 2, 1, 3, 1, 2}, {3, 4}}, {{12}, {2, 1, 3, 1, 2, 1}},
  };
  for (const auto& [x, shape] : shapes)
    out.push_back(OpCase("Reshape", 14).input("data", f32, x).constant("shape", i64, len(shape), as_doubles(shape)).output()
                      .named(case_name("Reshape", {"float32", shape_tag(x) + "->" + ints_tag(shape)})));
  // allowzero=1: a 0 in `shape` is a zero-size dimension, not "copy the input's".
  out.push_back(OpCase("Reshape", 14).input("data", f32, {0, 3}).constant("shape", i64, {2}, {3, 0}).attr_i("allowzero", 1).output()
                    .named(case_name("Reshape", {"float32", "0x3->3,0", "allowzero=1"})));
  for (ElementType t : carried_types("Reshape", 14))
    out.push_back(OpCase("Reshape", 14).input("data", t, {2, 3}).constant("shape", i64, {2}, {3, -1}).output()
                      .named(case_name("Reshape", {type_tag(t), "2x3->3,-1"})));
  // The shape as a graph input, not a constant.
  out.push_back(OpCase("Reshape", 14).input("data", f32, {2, 3, 4}).given("shape", i64, {3}, {4, -1, 3}).output()
                    .named(case_name("Reshape", {"float32", "2x3x4->4,-1,3", "shape_input"})));
}

std::vector<std::vector<int64_t>> permutations(size_t rank) {
  std::vector<int64_t> p(rank);
  std::iota(p.begin(), p.end(), 0);
  std::vector<std::vector<int64_t>> all;
  do all.push_back(p);
  while (std::next_permutation(p.begin(), p.end()));
  return all;
}

void add_transpose_cases(std::vector<OpCase>& out) {
  const std::vector<Shape> shapes = {{3, 4}, {2, 3, 4}, {2, 1, 3, 4}, {1, 3, 0}};
  for (const Shape& s : shapes)
    for (const auto& perm : permutations(s.size()))
      out.push_back(OpCase("Transpose", 13).input("data", f32, s).attr_ints("perm", perm).output()
                        .named(case_name("Transpose", {"float32", shape_tag(s), "perm=" + ints_tag(perm)})));
  const std::vector<std::pair<Shape, std::vector<int64_t>>> more = {
      {{2, 3, 1, 2, 3}, {4, 0, 2, 1, 3}}, {{2, 3, 1, 2, 3}, {0, 1, 2, 4, 3}}, {{2, 1, 2, 3, 1, 2}, {5, 4, 3, 2, 1, 0}},
      {{2, 1, 2, 3, 1, 2}, {1, 3, 5, 0, 2, 4}}, {{7}, {0}}, {{17, 33}, {1, 0}}, {{5, 17, 9}, {2, 0, 1}}};
  for (const auto& [s, perm] : more)
    out.push_back(OpCase("Transpose", 13).input("data", f32, s).attr_ints("perm", perm).output()
                      .named(case_name("Transpose", {"float32", shape_tag(s), "perm=" + ints_tag(perm)})));
  for (const Shape& s : std::vector<Shape>{{}, {2, 3, 4}})
    out.push_back(OpCase("Transpose", 13).input("data", f32, s).output().named(case_name("Transpose", {"float32", shape_tag(s), "perm=default"})));
  for (ElementType t : carried_types("Transpose", 13))
    if (t != f32)  // float32 has every permutation above
    out.push_back(OpCase("Transpose", 13).input("data", t, {2, 3, 4}).attr_ints("perm", {2, 0, 1}).output()
                      .named(case_name("Transpose", {type_tag(t), "2x3x4", "perm=2,0,1"})));
}

void add_concat_cases(std::vector<OpCase>& out) {
  // Inputs of [2,3,4] that differ along the axis: sizes 1, 3, 0 there.
  for (int64_t axis : {0, 1, 2, -1, -3})
    for (size_t count : {1, 2, 3}) {
      const size_t a = static_cast<size_t>(axis < 0 ? axis + 3 : axis);
      std::vector<Shape> shapes;
      for (size_t i = 0; i < count; ++i) {
        Shape s = {2, 3, 4};
        s[a] = std::vector<int64_t>{1, 3, 0}[i];
        shapes.push_back(s);
      }
      OpCase c("Concat", 13);
      for (size_t i = 0; i < count; ++i) c.input(input_name(i, count), f32, shapes[i]);
      out.push_back(c.attr_i("axis", axis).output().named(case_name("Concat", {"float32", shapes_tag(shapes), "axis=" + std::to_string(axis)})));
    }
  out.push_back(OpCase("Concat", 13).input("A", f32, {5}).input("B", f32, {7}).attr_i("axis", 0).output()
                    .named(case_name("Concat", {"float32", "5,7", "axis=0"})));
  out.push_back(OpCase("Concat", 13).input("A", f32, {1, 2, 1, 3, 1, 2}).input("B", f32, {1, 2, 1, 1, 1, 2}).attr_i("axis", 3).output()
                    .named(case_name("Concat", {"float32", "1x2x1x3x1x2,1x2x1x1x1x2", "axis=3"})));
  for (ElementType t : carried_types("Concat", 13)) {
    OpCase c("Concat", 13);
    c.input("A", t, {2, 3}).input("B", t, {1, 3});
    out.push_back(c.attr_i("axis", 0).output().named(case_name("Concat", {type_tag(t), "2x3,1x3", "axis=0"})));
  }
}

void add_split_cases(std::vector<OpCase>& out) {
  struct Split {
    Shape x;
    int64_t axis;
    std::vector<int64_t> sizes;  // empty: num_outputs (opset 18) or equal parts
    int64_t outputs;
  };
  const std::vector<Split> splits = {{{6, 4}, 0, {2, 4}, 2}, {{6, 4}, 0, {1, 2, 3}, 3}, {{6, 4}, 1, {}, 2}, {{7, 2}, 0, {}, 3},
                                     {{2, 9}, -1, {}, 3},     {{2, 9}, -1, {0, 9}, 2},   {{5}, 0, {}, 2},      {{2, 3, 4}, 2, {1, 1, 2}, 3}};
  for (const auto& s : splits)
    for (int64_t opset : {13, 18}) {
      if (opset == 13 && s.sizes.empty() && s.x[static_cast<size_t>(s.axis < 0 ? s.axis + static_cast<int64_t>(s.x.size()) : s.axis)] % s.outputs)
        continue;  // opset 13 splits equally only
      OpCase c("Split", opset);
      c.input("input", f32, s.x);
      if (!s.sizes.empty()) c.constant("split", i64, len(s.sizes), as_doubles(s.sizes));
      else if (opset == 18) c.attr_i("num_outputs", s.outputs);
      c.attr_i("axis", s.axis);
      for (int64_t i = 0; i < s.outputs; ++i) c.output("Y" + std::to_string(i));
      out.push_back(c.named(case_name("Split", {"opset" + std::to_string(opset), "float32", shape_tag(s.x), "axis=" + std::to_string(s.axis),
                                                s.sizes.empty() ? "outputs=" + std::to_string(s.outputs) : "split=" + ints_tag(s.sizes)})));
    }
  out.push_back(OpCase("Split", 11).input("input", f32, {6, 2}).attr_ints("split", {1, 5}).output("Y0").output("Y1")
                    .named(case_name("Split", {"opset11", "float32", "6x2", "split=1,5"})));
  for (ElementType t : carried_types("Split", 18))
    out.push_back(OpCase("Split", 18).input("input", t, {4, 3}).attr_i("num_outputs", 2).output("Y0").output("Y1")
                      .named(case_name("Split", {"opset18", type_tag(t), "4x3", "outputs=2"})));
}

void add_slice_cases(std::vector<OpCase>& out) {
  struct Slice {
    const char* tag;
    std::vector<double> starts, ends;
    std::vector<int64_t> axes, steps;  // empty: left off
  };
  const std::vector<Slice> slices = {
      {"1:4@0", {1}, {4}, {0}, {}},
      {"0:3@0,1:-1@2", {0, 1}, {3, -1}, {0, 2}, {}},
      {"-3:-1@1", {-3}, {-1}, {1}, {}},
      {"4:0:-1@0", {4}, {0}, {0}, {-1}},
      {"-1:min:-1@0", {-1}, {kInt64Min}, {0}, {-1}},
      {"0:max:2@2", {0}, {kInt64Max}, {2}, {2}},
      {"10:20@0(empty)", {10}, {20}, {0}, {}},
      {"1,0,0:4,6,7(no_axes)", {1, 0, 0}, {4, 6, 7}, {}, {}},
      {"5:1:-2@-1", {5}, {1}, {-1}, {-2}},
      {"0:-100@1(empty)", {0}, {-100}, {1}, {}},
      {"2:5:2@-1,1:5:3@-2", {2, 1}, {5, 5}, {-1, -2}, {2, 3}},
      {"-1000:1000:3@0", {-1000}, {1000}, {0}, {3}},
      {"max:min:-3@2", {kInt64Max}, {kInt64Min}, {2}, {-3}},
  };
  for (const auto& s : slices)
    for (ElementType index_type : {i64, i32}) {
      auto clamp = [&](std::vector<double> v) {
        if (index_type == i32)
          for (auto& x : v) x = std::clamp(x, -2147483648.0, 2147483647.0);
        return v;
      };
      OpCase c("Slice", 13);
      c.input("data", f32, {5, 6, 7});
      c.constant("starts", index_type, {static_cast<int64_t>(s.starts.size())}, clamp(s.starts));
      c.constant("ends", index_type, {static_cast<int64_t>(s.ends.size())}, clamp(s.ends));
      if (!s.axes.empty()) c.constant("axes", index_type, len(s.axes), as_doubles(s.axes));
      else if (!s.steps.empty()) c.absent();
      if (!s.steps.empty()) c.constant("steps", index_type, len(s.steps), as_doubles(s.steps));
      out.push_back(c.output().named(case_name("Slice", {"float32", "5x6x7", s.tag, type_tag(index_type)})));
    }
  // Starts and ends as graph inputs (not constants); a slice of a 6-D tensor; every carried type.
  out.push_back(OpCase("Slice", 13).input("data", f32, {5, 6}).given("starts", i64, {2}, {1, -4}).given("ends", i64, {2}, {4, 100})
                    .output().named(case_name("Slice", {"float32", "5x6", "1:4,-4:100", "inputs"})));
  out.push_back(OpCase("Slice", 13).input("data", f32, {2, 3, 2, 3, 2, 3}).constant("starts", i64, {2}, {1, 1}).constant("ends", i64, {2}, {3, 0})
                    .constant("axes", i64, {2}, {3, 5}).constant("steps", i64, {2}, {1, -1}).output()
                    .named(case_name("Slice", {"float32", "2x3x2x3x2x3", "1:3@3,1:0:-1@5"})));
  for (ElementType t : carried_types("Slice", 13))
    out.push_back(OpCase("Slice", 13).input("data", t, {4, 5}).constant("starts", i64, {1}, {1}).constant("ends", i64, {1}, {-1})
                      .constant("axes", i64, {1}, {1}).output().named(case_name("Slice", {type_tag(t), "4x5", "1:-1@1"})));
}

void add_squeeze_cases(std::vector<OpCase>& out) {
  for (const auto& axes : std::vector<std::vector<int64_t>>{{}, {0}, {2}, {0, 2}, {-2}, {2, 0}}) {
    OpCase c("Squeeze", 13);
    c.input("data", f32, {1, 3, 1, 2});
    if (!axes.empty()) c.constant("axes", i64, len(axes), as_doubles(axes));
    out.push_back(c.output().named(case_name("Squeeze", {"float32", "1x3x1x2", "axes=" + ints_tag(axes)})));
  }
  out.push_back(OpCase("Squeeze", 13).input("data", f32, {1}).constant("axes", i64, {1}, {0}).output().named(case_name("Squeeze", {"float32", "1", "axes=0"})));
  out.push_back(OpCase("Squeeze", 11).input("data", f32, {1, 3, 1}).attr_ints("axes", {-1}).output().named(case_name("Squeeze", {"opset11", "float32", "1x3x1", "axes=-1"})));
  for (const auto& [x, axes] : std::vector<std::pair<Shape, std::vector<int64_t>>>{
           {{3, 2}, {0}}, {{3, 2}, {2}}, {{3, 2}, {-1}}, {{3, 2}, {0, 3}}, {{3, 2}, {1, -1}}, {{}, {0}}, {{}, {0, 1}}, {{0, 2}, {1}}, {{2, 3}, {4, 0, 2}}})
    out.push_back(OpCase("Unsqueeze", 13).input("data", f32, x).constant("axes", i64, len(axes), as_doubles(axes)).output()
                      .named(case_name("Unsqueeze", {"float32", shape_tag(x), "axes=" + ints_tag(axes)})));
  out.push_back(OpCase("Unsqueeze", 11).input("data", f32, {3}).attr_ints("axes", {0, -1}).output().named(case_name("Unsqueeze", {"opset11", "float32", "3", "axes=0,-1"})));
  for (ElementType t : carried_types("Squeeze", 13)) {
    out.push_back(OpCase("Squeeze", 13).input("data", t, {1, 3}).constant("axes", i64, {1}, {0}).output().named(case_name("Squeeze", {type_tag(t), "1x3", "axes=0"})));
    out.push_back(OpCase("Unsqueeze", 13).input("data", t, {3}).constant("axes", i64, {1}, {1}).output().named(case_name("Unsqueeze", {type_tag(t), "3", "axes=1"})));
  }
}

void add_flatten_expand_tile_cases(std::vector<OpCase>& out) {
  for (int64_t axis = -4; axis <= 4; ++axis)
    out.push_back(OpCase("Flatten", 13).input("input", f32, {2, 3, 4, 5}).attr_i("axis", axis).output()
                      .named(case_name("Flatten", {"float32", "2x3x4x5", "axis=" + std::to_string(axis)})));
  out.push_back(OpCase("Flatten", 13).input("input", f32, {0, 3, 2}).output().named(case_name("Flatten", {"float32", "0x3x2", "axis=1"})));
  for (ElementType t : carried_types("Flatten", 13))
    out.push_back(OpCase("Flatten", 13).input("input", t, {2, 3, 2}).output().named(case_name("Flatten", {type_tag(t), "2x3x2"})));

  for (const auto& [x, shape] : std::vector<std::pair<Shape, std::vector<int64_t>>>{
           {{3, 1}, {2, 3, 4}}, {{1}, {3}}, {{3, 1}, {1, 1}}, {{}, {2, 2}}, {{2, 1, 3}, {2, 4, 1}}, {{0, 1}, {0, 5}}, {{1, 3}, {3}}, {{2, 1, 1}, {1, 1, 2, 1, 3}}})
    out.push_back(OpCase("Expand", 13).input("input", f32, x).constant("shape", i64, len(shape), as_doubles(shape)).output()
                      .named(case_name("Expand", {"float32", shape_tag(x), "shape=" + ints_tag(shape)})));
  for (ElementType t : carried_types("Expand", 13))
    out.push_back(OpCase("Expand", 13).input("input", t, {3, 1}).constant("shape", i64, {2}, {3, 2}).output()
                      .named(case_name("Expand", {type_tag(t), "3x1", "shape=3,2"})));

  for (const auto& [x, repeats] : std::vector<std::pair<Shape, std::vector<int64_t>>>{
           {{2, 3}, {1, 1}}, {{2, 3}, {2, 3}}, {{2, 3}, {0, 2}}, {{2, 3}, {3, 1}}, {{1, 2, 3}, {2, 1, 2}}, {{4}, {3}}, {{0, 2}, {2, 2}}})
    out.push_back(OpCase("Tile", 13).input("input", f32, x).constant("repeats", i64, len(repeats), as_doubles(repeats)).output()
                      .named(case_name("Tile", {"float32", shape_tag(x), "repeats=" + ints_tag(repeats)})));
  for (ElementType t : carried_types("Tile", 13))
    out.push_back(OpCase("Tile", 13).input("input", t, {2, 2}).constant("repeats", i64, {2}, {2, 1}).output()
                      .named(case_name("Tile", {type_tag(t), "2x2", "repeats=2,1"})));
}

void add_pad_cases(std::vector<OpCase>& out) {
  // Reflect and wrap need each pad smaller than the (cropped) axis.
  const std::vector<std::vector<int64_t>> pads = {{1, 2, 0, 1}, {0, 0, 2, 2}, {-1, 0, 0, -1}, {2, 0, 1, 0}, {0, 3, 0, 3}, {1, 1, -1, 1}};
  for (const char* mode : {"constant", "reflect", "edge", "wrap"})
    for (const auto& p : pads) {
      const int64_t opset = std::string(mode) == "wrap" ? 19 : 18;
      OpCase c("Pad", opset);
      c.input("data", f32, {3, 4}).constant("pads", i64, {4}, as_doubles(p));
      if (std::string(mode) == "constant") c.constant("constant_value", f32, {}, {1.5});
      out.push_back(c.attr_s("mode", mode).output().named(case_name("Pad", {"float32", "3x4", mode, "pads=" + ints_tag(p)})));
    }
  // axes (opset 18): pads for the named axes only; rank 4 on the spatial axes; no constant_value.
  out.push_back(OpCase("Pad", 18).input("data", f32, {2, 3, 4}).constant("pads", i64, {2}, {1, 2}).absent().constant("axes", i64, {1}, {-1})
                    .attr_s("mode", "reflect").output().named(case_name("Pad", {"float32", "2x3x4", "reflect", "axes=-1", "pads=1,2"})));
  out.push_back(OpCase("Pad", 18).input("data", f32, {1, 2, 3, 3}).constant("pads", i64, {8}, {0, 0, 1, 1, 0, 0, 1, 1}).output()
                    .named(case_name("Pad", {"float32", "1x2x3x3", "constant", "pads=0,0,1,1,0,0,1,1"})));
  out.push_back(OpCase("Pad", 11).input("data", f32, {3, 4}).constant("pads", i64, {4}, {0, 1, 1, 0}).attr_s("mode", "edge").output()
                    .named(case_name("Pad", {"opset11", "float32", "3x4", "edge"})));
  for (ElementType t : carried_types("Pad", 18))
    out.push_back(OpCase("Pad", 18).input("data", t, {2, 3}).constant("pads", i64, {4}, {1, 0, 0, 1}).output()
                      .named(case_name("Pad", {type_tag(t), "2x3", "constant", "pads=1,0,0,1"})));
}

void add_space_depth_cases(std::vector<OpCase>& out) {
  for (const char* mode : {"DCR", "CRD"})
    for (const auto& [x, block] : std::vector<std::pair<Shape, int64_t>>{{{1, 8, 2, 3}, 2}, {{2, 18, 2, 2}, 3}, {{1, 4, 1, 1}, 2}})
      out.push_back(OpCase("DepthToSpace", 13).input("input", f32, x).attr_i("blocksize", block).attr_s("mode", mode).output()
                        .named(case_name("DepthToSpace", {"float32", shape_tag(x), "blocksize=" + std::to_string(block), mode})));
  for (const auto& [x, block] : std::vector<std::pair<Shape, int64_t>>{{{1, 2, 4, 6}, 2}, {{2, 3, 6, 3}, 3}, {{1, 1, 2, 2}, 2}})
    out.push_back(OpCase("SpaceToDepth", 13).input("input", f32, x).attr_i("blocksize", block).output()
                      .named(case_name("SpaceToDepth", {"float32", shape_tag(x), "blocksize=" + std::to_string(block)})));
  for (ElementType t : carried_types("DepthToSpace", 13)) {
    out.push_back(OpCase("DepthToSpace", 13).input("input", t, {1, 4, 2, 2}).attr_i("blocksize", 2).output()
                      .named(case_name("DepthToSpace", {type_tag(t), "1x4x2x2", "blocksize=2", "DCR"})));
    out.push_back(OpCase("SpaceToDepth", 13).input("input", t, {1, 1, 4, 4}).attr_i("blocksize", 2).output()
                      .named(case_name("SpaceToDepth", {type_tag(t), "1x1x4x4", "blocksize=2"})));
  }
}

void add_shape_size_cases(std::vector<OpCase>& out) {
  const std::vector<std::pair<const char*, std::vector<std::pair<const char*, int64_t>>>> ranges = {
      {"all", {}}, {"start=1", {{"start", 1}}}, {"end=-1", {{"end", -1}}}, {"start=-2", {{"start", -2}}},
      {"start=5", {{"start", 5}}}, {"end=0", {{"end", 0}}}, {"start=-10,end=10", {{"start", -10}, {"end", 10}}}};
  for (const auto& [tag, attrs] : ranges) {
    OpCase c("Shape", 15);
    c.input("data", f32, {2, 3, 4});
    for (const auto& [name, v] : attrs) c.attr_i(name, v);
    out.push_back(c.output().named(case_name("Shape", {"float32", "2x3x4", tag})));
  }
  for (const Shape& s : std::vector<Shape>{{}, {0, 3}, {2, 1, 3, 1, 2, 1}})
    out.push_back(OpCase("Shape", 15).input("data", f32, s).output().named(case_name("Shape", {"float32", shape_tag(s), "all"})));
  for (const Shape& s : std::vector<Shape>{{}, {0, 3}, {2, 3, 4}})
    for (ElementType t : {f32, i64, boolean, str})
      out.push_back(OpCase("Size", 13).input("data", t, s).output().named(case_name("Size", {type_tag(t), shape_tag(s)})));
}

void add_trilu_cases(std::vector<OpCase>& out) {
  for (const Shape& s : std::vector<Shape>{{4, 5}, {3, 4, 4}, {5, 3}, {0, 3}, {1, 1}})
    for (int64_t upper : {0, 1})
      for (double k : {std::numeric_limits<double>::quiet_NaN(), -1.0, 0.0, 2.0, -10.0, 10.0}) {
        OpCase c("Trilu", 14);
        c.input("input", f32, s);
        const bool has_k = !std::isnan(k);
        if (has_k) c.constant("k", i64, {}, {k});
        out.push_back(c.attr_i("upper", upper).output()
                          .named(case_name("Trilu", {"float32", shape_tag(s), "upper=" + std::to_string(upper), has_k ? "k=" + number_tag(k) : "k=none"})));
      }
  for (ElementType t : types_or("Trilu", 14, 0, {f32}))
    if (t != f32)
      out.push_back(OpCase("Trilu", 14).input("input", t, {3, 3}).output().named(case_name("Trilu", {type_tag(t), "3x3", "upper=1"})));
}

void add_crop_col2im_reverse_cases(std::vector<OpCase>& out) {
  for (const auto& [x, shape, axes] : std::vector<std::tuple<Shape, std::vector<int64_t>, std::vector<int64_t>>>{
           {{5, 6, 3}, {3, 8, 3}, {}}, {{5, 6, 3}, {3, 8}, {0, 1}}, {{4, 5}, {7, 2}, {}}, {{4, 5}, {2}, {-1}}, {{3, 3}, {3, 3}, {}}}) {
    OpCase c("CenterCropPad", 18);
    c.input("input_data", f32, x).constant("shape", i64, len(shape), as_doubles(shape));
    if (!axes.empty()) c.attr_ints("axes", axes);
    out.push_back(c.output().named(case_name("CenterCropPad", {"float32", shape_tag(x), "shape=" + ints_tag(shape), "axes=" + ints_tag(axes)})));
  }
  struct Col2Im {
    const char* tag;
    Shape input;
    std::vector<int64_t> image, block;
    std::vector<std::pair<const char*, std::vector<int64_t>>> attrs;
  };
  const std::vector<Col2Im> col2im = {
      {"basic", {1, 4, 9}, {4, 4}, {2, 2}, {}},
      {"strides2", {1, 4, 4}, {4, 4}, {2, 2}, {{"strides", {2, 2}}}},
      {"pads1", {1, 9, 16}, {4, 4}, {3, 3}, {{"pads", {1, 1, 1, 1}}}},
      {"dilations2", {2, 8, 4}, {4, 4}, {2, 2}, {{"dilations", {2, 2}}}},
  };
  for (const auto& c2 : col2im) {
    OpCase c("Col2Im", 18);
    c.input("input", f32, c2.input).constant("image_shape", i64, {2}, as_doubles(c2.image)).constant("block_shape", i64, {2}, as_doubles(c2.block));
    for (const auto& [name, v] : c2.attrs) c.attr_ints(name, v);
    out.push_back(c.output().named(case_name("Col2Im", {"float32", shape_tag(c2.input), c2.tag})));
  }
  for (int64_t batch_axis : {0, 1}) {
    const Shape x = batch_axis == 1 ? Shape{4, 3, 2} : Shape{3, 4, 2};
    out.push_back(OpCase("ReverseSequence", 10).input("input", f32, x).constant("sequence_lens", i64, {3}, {4, 2, 1})
                      .attr_i("batch_axis", batch_axis).attr_i("time_axis", 1 - batch_axis).output()
                      .named(case_name("ReverseSequence", {"float32", shape_tag(x), "batch_axis=" + std::to_string(batch_axis)})));
  }
}

void add_bitcast_cases(std::vector<OpCase>& out) {
  const std::vector<std::pair<ElementType, ElementType>> pairs = {{f32, i32}, {i32, f32}, {f64, i64}, {i64, f64}, {i8, u8}, {u16, i16},
                                                                  {f16, u16}, {bf16, i16}, {u32, f32}, {boolean, u8}};
  for (const auto& [from, to] : pairs)
    out.push_back(OpCase("BitCast", 26).input("x", from, {2, 3}, Fill::special).attr_i("to", static_cast<int64_t>(to)).output()
                      .named(case_name("BitCast", {type_tag(from) + "->" + type_tag(to), "2x3"})));
}

}  // namespace

void add_shape_cases(std::vector<OpCase>& out) {
  add_reshape_cases(out);
  add_transpose_cases(out);
  add_concat_cases(out);
  add_split_cases(out);
  add_slice_cases(out);
  add_squeeze_cases(out);
  add_flatten_expand_tile_cases(out);
  add_pad_cases(out);
  add_space_depth_cases(out);
  add_shape_size_cases(out);
  add_trilu_cases(out);
  add_crop_col2im_reverse_cases(out);
  add_bitcast_cases(out);
}

namespace {

void add_gather_cases(std::vector<OpCase>& out) {
  const Shape data = {5, 4, 3};
  for (int64_t axis : {0, 1, 2, -1})
    for (const Shape& idx : std::vector<Shape>{{}, {2}, {2, 3}, {0}})
      for (ElementType index_type : {i64, i32}) {
        const int64_t n = data[static_cast<size_t>(axis < 0 ? axis + 3 : axis)];
        out.push_back(OpCase("Gather", 13).input("data", f32, data).ranged("indices", index_type, idx, -n, n - 1).attr_i("axis", axis).output()
                          .named(case_name("Gather", {"float32", "5x4x3", "indices=" + shape_tag(idx), "axis=" + std::to_string(axis), type_tag(index_type)})));
      }
  out.push_back(OpCase("Gather", 13).input("data", f32, {7}).ranged("indices", i64, {}, -7, 6).output().named(case_name("Gather", {"float32", "7", "indices=scalar", "axis=0"})));
  for (ElementType t : carried_types("Gather", 13))
    out.push_back(OpCase("Gather", 13).input("data", t, {4, 3}).constant("indices", i64, {3}, {3, -1, 0}).attr_i("axis", 0).output()
                      .named(case_name("Gather", {type_tag(t), "4x3", "indices=3,-1,0"})));
}

void add_gather_elements_nd_cases(std::vector<OpCase>& out) {
  for (const auto& [x, idx, axis] : std::vector<std::tuple<Shape, Shape, int64_t>>{
           {{3, 4}, {2, 4}, 0}, {{3, 4}, {3, 2}, 1}, {{3, 4}, {3, 6}, -1}, {{2, 3, 4}, {2, 3, 2}, 2}, {{2, 3, 4}, {1, 3, 4}, 0}, {{3, 4}, {0, 4}, 0}}) {
    const int64_t n = x[static_cast<size_t>(axis < 0 ? axis + static_cast<int64_t>(x.size()) : axis)];
    out.push_back(OpCase("GatherElements", 13).input("data", f32, x).ranged("indices", i64, idx, -n, n - 1).attr_i("axis", axis).output()
                      .named(case_name("GatherElements", {"float32", shapes_tag({x, idx}), "axis=" + std::to_string(axis)})));
  }
  // GatherND: index tuples address the leading axes (after batch_dims).
  struct Nd {
    Shape data, indices;
    std::vector<double> values;
    int64_t batch_dims;
  };
  const std::vector<Nd> nd = {{{2, 3, 4}, {2, 2}, {0, 1, 1, -1}, 0},   {{2, 3, 4}, {3, 1}, {1, 0, -1}, 0},
                              {{2, 3, 4}, {2, 3}, {0, 2, 3, 1, 0, 0}, 0}, {{2, 3, 4}, {2, 1}, {2, 0}, 1},
                              {{2, 3, 4}, {2, 2, 2}, {0, 1, 2, 3, 1, 0, 0, 0}, 1}, {{3}, {2, 1}, {2, 0}, 0}};
  for (const auto& g : nd)
    out.push_back(OpCase("GatherND", 13).input("data", f32, g.data).given("indices", i64, g.indices, g.values).attr_i("batch_dims", g.batch_dims).output()
                      .named(case_name("GatherND", {"float32", shapes_tag({g.data, g.indices}), "batch_dims=" + std::to_string(g.batch_dims)})));
}

void add_scatter_cases(std::vector<OpCase>& out) {
  // ScatterElements: unique targets for reduction none; duplicates where a reduction combines them.
  for (const char* reduction : {"none", "add", "mul", "max", "min"})
    for (int64_t axis : {0, 1, -1}) {
      const bool unique = std::string(reduction) == "none";
      const Shape idx_shape = axis == 0 ? Shape{2, 4} : Shape{3, 2};
      std::vector<double> idx = axis == 0 ? std::vector<double>{0, 2, 1, -1, 1, 0, unique ? 2.0 : 1.0, 0}
                                          : std::vector<double>{0, 3, unique ? 1.0 : 3.0, 2, -1, 0};
      OpCase c("ScatterElements", 18);
      c.input("data", f32, {3, 4}).given("indices", i64, idx_shape, idx).input("updates", f32, idx_shape).attr_i("axis", axis);
      if (!unique) c.attr_s("reduction", reduction);
      out.push_back(c.output().named(case_name("ScatterElements", {"float32", "3x4", "axis=" + std::to_string(axis), std::string("reduction=") + reduction})));
    }
  out.push_back(OpCase("Scatter", 10).input("data", f32, {3, 3}).given("indices", i64, {1, 2}, {1, 0}).input("updates", f32, {1, 2}).attr_i("axis", 1)
                    .output().named(case_name("Scatter", {"float32", "3x3", "axis=1"})));
  // ScatterND: index tuples into the leading axes, updates for the rest.
  struct Nd {
    const char* tag;
    Shape indices;
    std::vector<double> values;
    Shape updates;
  };
  const std::vector<Nd> nd = {{"slices", {2, 1}, {0, 2}, {2, 4, 4}}, {"elements", {3, 3}, {0, 1, 2, 3, 3, 3, 1, 0, 0}, {3}},
                              {"rows", {2, 2}, {1, 1, -1, 0}, {2, 4}}, {"duplicates", {3, 1}, {1, 1, 2}, {3, 4, 4}}};
  for (const char* reduction : {"none", "add", "mul", "max", "min"})
    for (const auto& n : nd) {
      if (std::string(n.tag) == "duplicates" && std::string(reduction) == "none") continue;
      OpCase c("ScatterND", 18);
      c.input("data", f32, {4, 4, 4}).given("indices", i64, n.indices, n.values).input("updates", f32, n.updates);
      if (std::string(reduction) != "none") c.attr_s("reduction", reduction);
      out.push_back(c.output().named(case_name("ScatterND", {"float32", "4x4x4", n.tag, std::string("reduction=") + reduction})));
    }
  for (const char* mode : {"linear", "circular"})
    for (bool indices : {false, true}) {
      OpCase c("TensorScatter", 24);
      c.input("past_cache", f32, {2, 1, 4, 5}).input("update", f32, {2, 1, 2, 5});
      if (indices) c.given("write_indices", i64, {2}, {std::string(mode) == "circular" ? 3.0 : 2.0, 1});
      out.push_back(c.attr_s("mode", mode).output().named(case_name("TensorScatter", {"float32", "2x1x4x5", mode, indices ? "write_indices" : "from0"})));
    }
}

void add_topk_onehot_cases(std::vector<OpCase>& out) {
  for (int64_t axis : {-1, 0})
    for (int64_t largest : {0, 1})
      for (int64_t k : {0, 1, 3}) {
        out.push_back(OpCase("TopK", 11).ranged("X", f32, {3, 7}, -3, 3).constant("K", i64, {1}, {static_cast<double>(k)})
                          .attr_i("axis", axis).attr_i("largest", largest).output("Values").output("Indices")
                          .named(case_name("TopK", {"float32", "3x7", "k=" + std::to_string(k), "axis=" + std::to_string(axis),
                                                    "largest=" + std::to_string(largest)})));
      }
  for (ElementType t : types_or("TopK", 11, 0, {f32}))
    out.push_back(OpCase("TopK", 11).ranged("X", t, {2, 9}, 0, 9).constant("K", i64, {1}, {4}).output("Values").output("Indices")
                      .named(case_name("TopK", {type_tag(t), "2x9", "k=4", "ties"})));
  out.push_back(OpCase("TopK", 11).input("X", f32, {4, 8}, Fill::special).constant("K", i64, {1}, {3}).output("Values").output("Indices")
                    .named(case_name("TopK", {"float32", "4x8", "k=3", "special"})));

  for (int64_t axis : {-1, 0, 1})
    for (const Shape& idx : std::vector<Shape>{{3}, {2, 3}}) {
      if (axis == 1 && idx.size() == 1) continue;
      out.push_back(OpCase("OneHot", 11).ranged("indices", i64, idx, -4, 3).constant("depth", i64, {}, {4}).constant("values", f32, {2}, {-1, 2.5})
                        .attr_i("axis", axis).output()
                        .named(case_name("OneHot", {"float32", "indices=" + shape_tag(idx), "axis=" + std::to_string(axis)})));
    }
  out.push_back(OpCase("OneHot", 11).ranged("indices", f32, {5}, -3, 5).constant("depth", f32, {}, {5}).constant("values", i32, {2}, {0, 1}).output()
                    .named(case_name("OneHot", {"int32", "float_indices", "depth=5"})));
}

void add_selection_cases(std::vector<OpCase>& out) {
  for (ElementType t : {f32, i32, boolean, i8, f16})
    out.push_back(OpCase("NonZero", 13).ranged("X", t, {3, 4}, is_unsigned_integer(t) ? 0 : -1, 1).output().named(case_name("NonZero", {type_tag(t), "3x4"})));
  out.push_back(OpCase("NonZero", 13).ranged("X", f32, {}, 1, 1).output().named(case_name("NonZero", {"float32", "scalar"})));
  out.push_back(OpCase("NonZero", 13).input("X", f32, {0, 3}).output().named(case_name("NonZero", {"float32", "0x3"})));
  for (double axis : {std::numeric_limits<double>::quiet_NaN(), 0.0, 1.0, -1.0}) {
    OpCase c("Compress", 11);
    const bool has_axis = !std::isnan(axis);
    c.input("input", f32, {3, 4}).given("condition", boolean, {3}, {1, 0, 1});
    if (has_axis) c.attr_i("axis", static_cast<int64_t>(axis));
    out.push_back(c.output().named(case_name("Compress", {"float32", "3x4", "condition=3", has_axis ? "axis=" + number_tag(axis) : "flat"})));
  }
  for (int64_t sorted : {0, 1}) {
    out.push_back(OpCase("Unique", 11).given("X", f32, {10}, {2, 1, 1, 3, 4, 3, -0.0, 0, 2.5, 1}).attr_i("sorted", sorted)
                      .output("Y").output("indices").output("inverse_indices").output("counts")
                      .named(case_name("Unique", {"float32", "10", "sorted=" + std::to_string(sorted)})));
    out.push_back(OpCase("Unique", 11).given("X", i64, {4, 3}, {1, 2, 3, 0, 0, 0, 1, 2, 3, 0, 0, 1}).attr_i("sorted", sorted).attr_i("axis", 0)
                      .output("Y").output("indices").output("inverse_indices").output("counts")
                      .named(case_name("Unique", {"int64", "4x3", "axis=0", "sorted=" + std::to_string(sorted)})));
  }
}

void add_cumulative_cases(std::vector<OpCase>& out) {
  for (const char* op : {"CumSum", "CumProd"})
    for (int64_t axis : {0, 1, -1})
      for (int64_t exclusive : {0, 1})
        for (int64_t reverse : {0, 1}) {
          const bool sum = std::string(op) == "CumSum";
          OpCase c(op, sum ? 14 : 26);
          if (sum) c.input("x", f32, {3, 4});
          else c.ranged("x", f32, {3, 4}, 0.5, 1.5);
          c.constant("axis", axis == 1 ? i32 : i64, {}, {static_cast<double>(axis)}).attr_i("exclusive", exclusive).attr_i("reverse", reverse);
          out.push_back(c.output().accumulate(sum ? 4 : 1)
                            .named(case_name(op, {"float32", "3x4", "axis=" + std::to_string(axis), "exclusive=" + std::to_string(exclusive),
                                                  "reverse=" + std::to_string(reverse)})));
        }
  for (ElementType t : types_or("CumSum", 14, 0, {f32, f64, i32, i64}))
    out.push_back(OpCase("CumSum", 14).ranged("x", t, {5}, 0, 5).constant("axis", i64, {}, {0}).output().accumulate(5)
                      .named(case_name("CumSum", {type_tag(t), "5", "axis=0"})));
  for (ElementType t : {f64, i32, i64})
    out.push_back(OpCase("CumProd", 26).ranged("x", t, {5}, 1, 3).constant("axis", i64, {}, {0}).output()
                      .named(case_name("CumProd", {type_tag(t), "5", "axis=0"})));
}

}  // namespace

void add_index_cases(std::vector<OpCase>& out) {
  add_gather_cases(out);
  add_gather_elements_nd_cases(out);
  add_scatter_cases(out);
  add_topk_onehot_cases(out);
  add_selection_cases(out);
  add_cumulative_cases(out);
}

void add_generator_cases(std::vector<OpCase>& out) {
  for (const auto& [tag, shape] : std::vector<std::pair<const char*, std::vector<int64_t>>>{{"2x3", {2, 3}}, {"0", {0}}, {"scalar", {}}})
    for (ElementType t : {f32, i64, i32, boolean, f16, f64, u8}) {
      OpCase c("ConstantOfShape", 9);
      c.constant("input", i64, len(shape), as_doubles(shape));
      if (t != f32) c.attr_tensor("value", t, {1}, {t == boolean ? 1.0 : 3.0});
      out.push_back(c.output().named(case_name("ConstantOfShape", {type_tag(t), tag, t == f32 ? "default" : "value"})));
    }
  struct Range {
    double start, limit, delta;
  };
  for (const auto& r : std::vector<Range>{{0, 10, 3}, {10, 0, -2}, {1.5, 4.0, 0.5}, {5, 5, 1}, {-3, 3, 1}, {0, 1, 0.3}})
    for (ElementType t : {f32, f64, i16, i32, i64}) {
      if (!is_floating(t) && (r.delta != std::floor(r.delta) || r.start != std::floor(r.start))) continue;
      out.push_back(OpCase("Range", 11).constant("start", t, {}, {r.start}).constant("limit", t, {}, {r.limit}).constant("delta", t, {}, {r.delta})
                        .output().named(case_name("Range", {type_tag(t), number_tag(r.start) + ":" + number_tag(r.limit) + ":" + number_tag(r.delta)})));
    }
  out.push_back(OpCase("Range", 11).given("start", f32, {}, {2}).given("limit", f32, {}, {7.5}).given("delta", f32, {}, {1.5}).output()
                    .named(case_name("Range", {"float32", "2:7.5:1.5", "inputs"})));
  for (const Shape& s : std::vector<Shape>{{3, 4}, {4, 3}, {3, 3}})
    for (int64_t k : {-1, 0, 2})
      for (ElementType dtype : {ElementType::undefined, f32, i32}) {
        OpCase c("EyeLike", 9);
        c.input("input", i64, s).attr_i("k", k);
        if (dtype != ElementType::undefined) c.attr_i("dtype", static_cast<int64_t>(dtype));
        out.push_back(c.output().named(case_name("EyeLike", {shape_tag(s), "k=" + std::to_string(k), dtype == ElementType::undefined ? "dtype=input" : "dtype=" + type_tag(dtype)})));
      }
  out.push_back(OpCase("Constant", 13).attr_tensor("value", f32, {2, 3}, {1, -2, 3.5, 0, 1e-3, -7}).output().named(case_name("Constant", {"value", "float32", "2x3"})));
  out.push_back(OpCase("Constant", 13).attr_tensor("value", i64, {}, {42}).output().named(case_name("Constant", {"value", "int64", "scalar"})));
  out.push_back(OpCase("Constant", 13).attr_f("value_float", 2.5f).output().named(case_name("Constant", {"value_float"})));
  out.push_back(OpCase("Constant", 13).attr_floats("value_floats", {1, 2.5f, -3}).output().named(case_name("Constant", {"value_floats"})));
  out.push_back(OpCase("Constant", 13).attr_i("value_int", -7).output().named(case_name("Constant", {"value_int"})));
  out.push_back(OpCase("Constant", 13).attr_ints("value_ints", {1, -2, 3}).output().named(case_name("Constant", {"value_ints"})));
  out.push_back(OpCase("Constant", 13).attr_s("value_string", "switchyard").output().named(case_name("Constant", {"value_string"})));
  out.push_back(OpCase("Constant", 13).attr_strings("value_strings", {"a", "", "ccc"}).output().named(case_name("Constant", {"value_strings"})));
}

namespace {

struct ResizeMode {
  const char* tag;
  const char* mode;
  const char* nearest_mode;  // "" = left off
  double cubic_a;            // 0 = left off
};

const std::vector<ResizeMode>& resize_modes() {
  static const std::vector<ResizeMode> m = {
      {"nearest_round_prefer_floor", "nearest", "round_prefer_floor", 0}, {"nearest_round_prefer_ceil", "nearest", "round_prefer_ceil", 0},
      {"nearest_floor", "nearest", "floor", 0},                           {"nearest_ceil", "nearest", "ceil", 0},
      {"linear", "linear", "", 0},                                        {"cubic", "cubic", "", 0},
      {"cubic_a-0.5", "cubic", "", -0.5},
  };
  return m;
}

OpCase resize_base(const ResizeMode& m, const char* transform, int64_t opset) {
  OpCase c("Resize", opset);
  c.attr_s("mode", m.mode).attr_s("coordinate_transformation_mode", transform);
  if (*m.nearest_mode) c.attr_s("nearest_mode", m.nearest_mode);
  if (m.cubic_a != 0) c.attr_f("cubic_coeff_a", static_cast<float>(m.cubic_a));
  return c;
}

void add_resize_scale_cases(std::vector<OpCase>& out) {
  // Scales exact in binary, so no output coordinate lands within rounding of a pixel boundary
  // (where the result would hang on the last bit of float arithmetic, not on the operator).
  const std::vector<std::pair<const char*, std::vector<double>>> scales = {
      {"x2", {1, 1, 2, 2}}, {"x0.5", {1, 1, 0.5, 0.5}}, {"x1.5,0.625", {1, 1, 1.5, 0.625}}, {"x1", {1, 1, 1, 1}}, {"x3,1", {1, 1, 3, 1}}};
  for (const auto& m : resize_modes())
    for (const char* transform : {"half_pixel", "asymmetric", "align_corners", "pytorch_half_pixel", "half_pixel_symmetric"})
      for (const auto& [tag, s] : scales) {
        OpCase c = resize_base(m, transform, 19);
        c.input("X", f32, {1, 2, 4, 5}).absent().constant("scales", f32, {4}, s);
        out.push_back(c.output().named(case_name("Resize", {"float32", "1x2x4x5", m.tag, transform, std::string("scales=") + tag})));
      }
}

void add_resize_size_cases(std::vector<OpCase>& out) {
  for (const auto& m : resize_modes())
    for (const char* transform : {"half_pixel", "asymmetric", "align_corners"})
      for (const auto& sizes : std::vector<std::vector<int64_t>>{{1, 2, 7, 3}, {1, 2, 1, 1}, {1, 2, 8, 10}}) {
        OpCase c = resize_base(m, transform, 19);
        c.input("X", f32, {1, 2, 4, 5}).absent().absent().constant("sizes", i64, {4}, as_doubles(sizes));
        out.push_back(c.output().named(case_name("Resize", {"float32", "1x2x4x5", m.tag, transform, "sizes=" + ints_tag(sizes)})));
      }
}

void add_resize_options_cases(std::vector<OpCase>& out) {
  // exclude_outside, antialias (downsampling), axes, keep_aspect_ratio_policy, tf_crop_and_resize.
  for (const char* mode : {"linear", "cubic"})
    for (const auto& [tag, s] : std::vector<std::pair<const char*, std::vector<double>>>{{"x0.6", {1, 1, 0.6, 0.6}}, {"x1.7", {1, 1, 1.7, 1.7}}}) {
      OpCase c("Resize", 19);
      c.input("X", f32, {1, 1, 6, 6}).absent().constant("scales", f32, {4}, s).attr_s("mode", mode).attr_i("exclude_outside", 1);
      out.push_back(c.output().named(case_name("Resize", {"float32", "1x1x6x6", mode, "exclude_outside=1", std::string("scales=") + tag})));
      OpCase a("Resize", 19);
      a.input("X", f32, {1, 1, 6, 6}).absent().constant("scales", f32, {4}, s).attr_s("mode", mode).attr_i("antialias", 1);
      out.push_back(a.output().named(case_name("Resize", {"float32", "1x1x6x6", mode, "antialias=1", std::string("scales=") + tag})));
    }
  for (const char* policy : {"stretch", "not_larger", "not_smaller"})
    out.push_back(OpCase("Resize", 19).input("X", f32, {1, 1, 4, 6}).absent().absent().constant("sizes", i64, {2}, {6, 6})
                      .attr_ints("axes", {2, 3}).attr_s("keep_aspect_ratio_policy", policy).attr_s("mode", "linear").output()
                      .named(case_name("Resize", {"float32", "1x1x4x6", "linear", "axes=2,3", "sizes=6,6", std::string("policy=") + policy})));
  out.push_back(OpCase("Resize", 19).input("X", f32, {2, 3, 4}).absent().constant("scales", f32, {1}, {2}).attr_ints("axes", {-1})
                    .attr_s("mode", "nearest").output().named(case_name("Resize", {"float32", "2x3x4", "nearest", "axes=-1", "scales=2"})));
  for (const char* mode : {"nearest", "linear", "cubic"})
    out.push_back(OpCase("Resize", 19).input("X", f32, {1, 1, 5, 5}).constant("roi", f32, {8}, {0, 0, 0.2, 0.3, 1, 1, 0.8, 0.9}).constant("scales", f32, {4}, {1, 1, 1.6, 1.2})
                      .attr_s("mode", mode).attr_s("coordinate_transformation_mode", "tf_crop_and_resize").attr_f("extrapolation_value", -1)
                      .output().named(case_name("Resize", {"float32", "1x1x5x5", mode, "tf_crop_and_resize"})));
  for (ElementType t : types_or("Resize", 19, 0, {f32, u8, i8}))
    if (t != f32 && t != boolean && t != str)  // linear interpolation needs numbers
      out.push_back(OpCase("Resize", 19).input("X", t, {1, 1, 3, 4}).absent().constant("scales", f32, {4}, {1, 1, 2, 1.5}).attr_s("mode", "linear")
                        .output().named(case_name("Resize", {type_tag(t), "1x1x3x4", "linear", "scales=x2,1.5"})));
  // Earlier opsets: 11 (roi required), 13; and Upsample (opset 9).
  for (int64_t opset : {11, 13})
    out.push_back(OpCase("Resize", opset).input("X", f32, {1, 2, 3, 4}).constant("roi", f32, {0}, {}).constant("scales", f32, {4}, {1, 1, 2, 0.5})
                      .attr_s("mode", "linear").output().named(case_name("Resize", {"opset" + std::to_string(opset), "float32", "1x2x3x4", "linear", "scales=x2,0.5"})));
  for (const char* mode : {"nearest", "linear"})
    out.push_back(OpCase("Upsample", 9).input("X", f32, {1, 1, 2, 3}).constant("scales", f32, {4}, {1, 1, 2, 3}).attr_s("mode", mode).output()
                      .named(case_name("Upsample", {"float32", "1x1x2x3", mode, "scales=1,1,2,3"})));
}

}  // namespace

void add_resize_cases(std::vector<OpCase>& out) {
  add_resize_scale_cases(out);
  add_resize_size_cases(out);
  add_resize_options_cases(out);
}

}  // namespace switchyard::conformance::ops
