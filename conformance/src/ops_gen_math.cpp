// The ops suite's math families: reductions and arg-reductions, Softmax and its kin, MatMul, Gemm
// and Einsum, Conv and ConvTranspose, pooling, and the normalisations.
#include <algorithm>
#include <cctype>
#include <map>

#include "ops_gen.h"

namespace switchyard::conformance::ops {

namespace {

// Terms summed into one output of a reduction of `shape` over `axes` (all when empty).
int64_t reduced_count(const Shape& shape, const std::vector<int64_t>& axes) {
  if (axes.empty()) return std::max<int64_t>(1, numel(shape));
  int64_t k = 1;
  for (auto a : axes) k *= shape[static_cast<size_t>(a < 0 ? a + static_cast<int64_t>(shape.size()) : a)];
  return std::max<int64_t>(1, k);
}

struct Reduce {
  const char* op;
  Fill fill;
  bool sums;  // accumulates (K terms): the narrow-float rule's atol
  TermScale scale;
};

const std::vector<Reduce>& reduce_ops() {
  static const std::vector<Reduce> ops = {
      {"ReduceSum", Fill::normal, true, TermScale::input},          {"ReduceMean", Fill::normal, true, TermScale::input},
      {"ReduceMax", Fill::normal, false, TermScale::input},         {"ReduceMin", Fill::normal, false, TermScale::input},
      {"ReduceProd", Fill::normal, false, TermScale::input},        {"ReduceL1", Fill::normal, true, TermScale::input},
      {"ReduceL2", Fill::normal, true, TermScale::square},          {"ReduceLogSum", Fill::positive, true, TermScale::input},
      {"ReduceLogSumExp", Fill::normal, true, TermScale::output},   {"ReduceSumSquare", Fill::normal, true, TermScale::square},
  };
  return ops;
}

// Opset 18 (and ReduceSum from 13) takes axes as an input; earlier opsets as an attribute.
OpCase reduce_case(const Reduce& r, int64_t opset, ElementType t, const Shape& s, const std::vector<int64_t>& axes, int64_t keepdims,
                   Fill f) {
  OpCase c(r.op, opset);
  c.input("X", t, s, f == Fill::special ? r.fill : r.fill);
  if (f == Fill::special) c.with_classes();
  const bool axes_input = opset >= 18 || std::string(r.op) == "ReduceSum";
  if (axes_input && !axes.empty()) c.constant("axes", i64, {static_cast<int64_t>(axes.size())}, {axes.begin(), axes.end()});
  if (!axes_input && !axes.empty()) c.attr_ints("axes", axes);
  c.attr_i("keepdims", keepdims);
  if (r.sums) c.accumulate(reduced_count(s, axes), r.scale);
  return c.output();
}

void add_reduce_cases(std::vector<OpCase>& out) {
  const std::vector<std::pair<Shape, std::vector<std::vector<int64_t>>>> shapes = {
      {{3, 4, 5}, {{}, {0}, {1}, {2}, {-1}, {0, 2}, {0, 1, 2}, {-2, -1}}},
      {{7}, {{}, {0}}},
      {{2, 1, 3, 1, 2, 2}, {{1, 3, 5}, {0, -1}}},
      {{33, 65}, {{1}, {0}}},
  };
  for (const auto& r : reduce_ops())
    for (int64_t opset : {13, 18})
      for (const auto& [s, axes_list] : shapes)
        for (const auto& axes : axes_list)
          for (int64_t keepdims : {0, 1})
            for (Fill f : {Fill::normal, Fill::special}) {
              if (f == Fill::special && (opset == 13 || s.size() != 3)) continue;
              out.push_back(reduce_case(r, opset, f32, s, axes, keepdims, f)
                                .named(case_name(r.op, {"opset" + std::to_string(opset), "float32", shape_tag(s), "axes=" + ints_tag(axes),
                                                        "keepdims=" + std::to_string(keepdims), fill_tag(f)})));
            }
}

void add_reduce_edge_cases(std::vector<OpCase>& out) {
  for (const auto& r : reduce_ops()) {
    // Other element types the schema allows. Not integers for ReduceLogSum and ReduceLogSumExp
    // (listed by mistake: onnx/onnx#7141, removed from later opsets), and no integer extremes where
    // the result goes through floating point (ReduceMean, ReduceL2: an out-of-range conversion back
    // to the integer type is undefined).
    const std::string op = r.op;
    const bool float_only = op == "ReduceLogSum" || op == "ReduceLogSumExp";
    const bool via_float = op == "ReduceMean" || op == "ReduceL2";
    for (ElementType t : types_or(r.op, 18, 0, {f32}))
      if (t != f32 && !(float_only && !is_floating(t)))
        for (Fill f : value_fills(t)) {
          if (f == Fill::special && via_float && !is_floating(t)) continue;
          out.push_back(reduce_case(r, 18, t, {3, 4}, {1}, 0, f).named(case_name(r.op, {"opset18", type_tag(t), "3x4", "axes=1", fill_tag(f)})));
        }
    // Rank 0, an empty reduction (a zero-size axis: the operator's identity), empty axes with
    // noop_with_empty_axes (the input unchanged).
    out.push_back(reduce_case(r, 18, f32, {}, {}, 1, Fill::normal).named(case_name(r.op, {"opset18", "float32", "scalar"})));
    if (op != "ReduceMean")  // the mean of nothing is undefined (every other reduction has an identity)
      out.push_back(reduce_case(r, 18, f32, {0, 3}, {0}, 1, Fill::normal).named(case_name(r.op, {"opset18", "float32", "0x3", "axes=0", "empty"})));
    out.push_back(reduce_case(r, 18, f32, {0, 3}, {1}, 0, Fill::normal).named(case_name(r.op, {"opset18", "float32", "0x3", "axes=1"})));
    out.push_back(reduce_case(r, 18, f32, {2, 3}, {}, 1, Fill::normal)
                      .attr_i("noop_with_empty_axes", 1)
                      .named(case_name(r.op, {"opset18", "float32", "2x3", "noop_with_empty_axes=1"})));
  }
}

void add_arg_reduce_cases(std::vector<OpCase>& out) {
  for (const char* op : {"ArgMax", "ArgMin"})
    for (ElementType t : types_or(op, 13, 0, {f32}))
      for (int64_t axis : {-3, -1, 0, 1, 2})
        for (int64_t keepdims : {0, 1})
          for (int64_t last : {0, 1}) {
            if (t != f32 && (axis == -3 || axis == 2)) continue;
            // Small integers give ties, where select_last_index decides.
            OpCase c(op, 13);
            if (is_floating(t) && t != f32) c.ranged("X", t, {3, 4, 5}, -3, 3);
            else c.ranged("X", t, {3, 4, 5}, is_unsigned_integer(t) ? 0 : -3, 3);
            out.push_back(c.attr_i("axis", axis)
                              .attr_i("keepdims", keepdims)
                              .attr_i("select_last_index", last)
                              .output()
                              .named(case_name(op, {type_tag(t), "3x4x5", "axis=" + std::to_string(axis), "keepdims=" + std::to_string(keepdims),
                                                    "select_last_index=" + std::to_string(last), "ties"})));
          }
  // Ties of NaN and infinities.
  for (const char* op : {"ArgMax", "ArgMin"})
    out.push_back(OpCase(op, 13)
                      .input("X", f32, {4, 9}, Fill::special)
                      .attr_i("axis", 1)
                      .output()
                      .named(case_name(op, {"float32", "4x9", "axis=1", "special"})));
}

}  // namespace

void add_reduction_cases(std::vector<OpCase>& out) {
  add_reduce_cases(out);
  add_reduce_edge_cases(out);
  add_arg_reduce_cases(out);
}

void add_softmax_cases(std::vector<OpCase>& out) {
  // Opset 11 flattens to 2-D at `axis` (the softmax runs over every later axis); 13 over one axis.
  const std::vector<Shape> shapes = {{2, 3, 4}, {3, 5}, {1, 2, 1, 3, 1, 2}, {7}};
  for (const char* op : {"Softmax", "LogSoftmax", "Hardmax"})
    for (int64_t opset : {11, 13})
      for (const Shape& s : shapes)
        for (int64_t axis = -static_cast<int64_t>(s.size()); axis < static_cast<int64_t>(s.size()); ++axis)
          for (Fill f : {Fill::normal, Fill::special}) {
            int64_t k = 1;
            const size_t a = static_cast<size_t>(axis < 0 ? axis + static_cast<int64_t>(s.size()) : axis);
            for (size_t d = a; d < s.size() && (opset < 13 || d == a); ++d) k *= s[d];
            out.push_back(OpCase(op, opset)
                              .input("X", f32, s, f)
                              .attr_i("axis", axis)
                              .output()
                              .accumulate(std::string(op) == "Hardmax" ? 1 : k, TermScale::output)
                              .named(case_name(op, {"opset" + std::to_string(opset), "float32", shape_tag(s), "axis=" + std::to_string(axis),
                                                    fill_tag(f)})));
          }
  for (const char* op : {"Softmax", "LogSoftmax", "Hardmax"})
    for (ElementType t : types_or(op, 13, 0, float_types()))
      if (t != f32)
        for (Fill f : value_fills(t))
          out.push_back(OpCase(op, 13)
                            .input("X", t, {3, 5}, f)
                            .output()
                            .accumulate(std::string(op) == "Hardmax" ? 1 : 5, TermScale::output)
                            .named(case_name(op, {"opset13", type_tag(t), "3x5", "axis=-1", fill_tag(f)})));
  // Large logits: a softmax that does not subtract the maximum overflows.
  for (const char* op : {"Softmax", "LogSoftmax"})
    out.push_back(OpCase(op, 13)
                      .ranged("X", f32, {4, 6}, 80, 100)
                      .output()
                      .accumulate(6, TermScale::output)
                      .named(case_name(op, {"opset13", "float32", "4x6", "large"})));
}

namespace {

void add_matmul_shape_cases(std::vector<OpCase>& out) {
  const std::vector<std::pair<Shape, Shape>> shapes = {
      {{4}, {4}},          {{4}, {4, 3}},           {{2, 4}, {4}},           {{2, 4}, {4, 3}},
      {{1, 4}, {4, 1}},    {{3, 2, 4}, {4, 5}},     {{2, 4}, {3, 4, 5}},     {{2, 1, 3, 4}, {5, 4, 2}},
      {{2, 3, 0}, {0, 4}}, {{0, 4}, {4, 3}},        {{2, 1, 2, 1, 3, 4}, {1, 2, 1, 2, 4, 2}}, {{7, 13}, {13, 11}},
      {{33, 65}, {65, 17}}, {{3, 1, 4}, {1, 4, 2}},
  };
  for (ElementType t : types_or("MatMul", 13, 0, {f32}))
    for (const auto& [a, b] : shapes) {
      if (t != f32 && numel(a) * numel(b) > 2000) continue;
      const int64_t k = a.size() == 1 ? a[0] : a.back();
      OpCase c("MatMul", 13);
      if (is_floating(t)) c.input("A", t, a).input("B", t, b);
      else c.ranged("A", t, a, is_unsigned_integer(t) ? 0 : -5, 5).ranged("B", t, b, 0, 5);
      out.push_back(c.output().accumulate(std::max<int64_t>(k, 1), TermScale::product).named(case_name("MatMul", {type_tag(t), shapes_tag({a, b})})));
    }
  // NaN and infinities spread along rows and columns.
  out.push_back(OpCase("MatMul", 13)
                    .input("A", f32, {5, 6}, Fill::special)
                    .input("B", f32, {6, 4})
                    .output()
                    .accumulate(6, TermScale::product)
                    .named(case_name("MatMul", {"float32", "5x6,6x4", "special"})));
}

void add_gemm_cases(std::vector<OpCase>& out) {
  const int64_t m = 3, k = 5, n = 4;
  const std::vector<std::pair<const char*, Shape>> biases = {{"none", {}}, {"scalar", {}}, {"N", {n}}, {"1xN", {1, n}}, {"Mx1", {m, 1}}, {"MxN", {m, n}}};
  for (ElementType t : types_or("Gemm", 13, 0, {f32}))
    for (int64_t trans_a : {0, 1})
      for (int64_t trans_b : {0, 1})
        for (const auto& [tag, c_shape] : biases)
          for (bool scaled : {false, true}) {
            if (t != f32 && (scaled || trans_a != trans_b || std::string(tag) == "Mx1" || std::string(tag) == "1xN")) continue;
            OpCase c("Gemm", 13);
            const Shape a = trans_a ? Shape{k, m} : Shape{m, k}, b = trans_b ? Shape{n, k} : Shape{k, n};
            if (is_floating(t)) c.input("A", t, a).input("B", t, b);
            else c.ranged("A", t, a, 0, 5).ranged("B", t, b, 0, 5);
            if (std::string(tag) != "none") c.input("C", t, c_shape);
            c.attr_i("transA", trans_a).attr_i("transB", trans_b);
            if (scaled) c.attr_f("alpha", 0.5f).attr_f("beta", -2.0f);
            out.push_back(c.output().accumulate(k + 1, TermScale::product)
                              .named(case_name("Gemm", {type_tag(t), "transA=" + std::to_string(trans_a), "transB=" + std::to_string(trans_b),
                                                        std::string("C=") + tag, scaled ? "alpha=0.5,beta=-2" : "alpha=1,beta=1"})));
          }
  out.push_back(OpCase("Gemm", 13)
                    .input("A", f32, {0, 5})
                    .input("B", f32, {5, 4})
                    .input("C", f32, {4})
                    .output()
                    .named(case_name("Gemm", {"float32", "0x5,5x4,4"})));
}

// Terms summed into one output of an Einsum: the product of the extents of the letters that do
// not appear in the output (all of them for an implicit scalar-free output, per numpy's rules).
int64_t einsum_terms(const std::string& equation, const std::vector<Shape>& shapes) {
  const auto arrow = equation.find("->");
  const std::string inputs = equation.substr(0, arrow);
  std::string output;
  if (arrow != std::string::npos) {
    output = equation.substr(arrow + 2);
  } else {  // implicit: the letters that appear once, sorted
    for (char ch : inputs)
      if (std::isalpha(static_cast<unsigned char>(ch)) && std::count(inputs.begin(), inputs.end(), ch) == 1) output += ch;
  }
  std::map<char, int64_t> extent;
  size_t operand = 0, from = 0;
  while (from <= inputs.size() && operand < shapes.size()) {
    const size_t comma = std::min(inputs.find(',', from), inputs.size());
    const std::string term = inputs.substr(from, comma - from);
    const auto letters = static_cast<size_t>(std::count_if(term.begin(), term.end(), [](char ch) { return std::isalpha(static_cast<unsigned char>(ch)); }));
    size_t axis = 0;
    for (char ch : term) {
      if (ch == '.') continue;
      if (axis == 0 && term.rfind("...", 0) == 0) axis = shapes[operand].size() - letters;  // the ellipsis's axes come first
      extent[ch] = shapes[operand][axis++];
    }
    ++operand, from = comma + 1;
  }
  int64_t k = 1;
  for (const auto& [ch, n] : extent)
    if (output.find(ch) == std::string::npos) k *= n;
  return std::max<int64_t>(k, 1);
}

void add_einsum_cases(std::vector<OpCase>& out) {
  const std::vector<std::pair<const char*, std::vector<Shape>>> equations = {
      {"ij,jk->ik", {{3, 4}, {4, 5}}},       {"ij->ji", {{3, 4}}},           {"ii->i", {{4, 4}}},
      {"bij,bjk->bik", {{2, 3, 4}, {2, 4, 5}}}, {"i,i->", {{6}, {6}}},        {"ij->", {{3, 4}}},
      {"...ij,...jk->...ik", {{2, 3, 4}, {4, 2}}}, {"ij,ij->ij", {{3, 4}, {3, 4}}}, {"i,j->ij", {{3}, {4}}},
      {"abc->cba", {{2, 3, 4}}},              {"ij,jk,kl->il", {{2, 3}, {3, 4}, {4, 2}}}, {"ii", {{3, 3}}},
      {"ij", {{3, 4}}},                        {"bhqd,bhkd->bhqk", {{1, 2, 3, 4}, {1, 2, 5, 4}}},
  };
  for (ElementType t : {f32, f64, i32, i64})
    for (const auto& [eq, shapes] : equations) {
      OpCase c("Einsum", 12);
      for (size_t i = 0; i < shapes.size(); ++i) {
        if (is_floating(t)) c.input(input_name(i, shapes.size()), t, shapes[i]);
        else c.ranged(input_name(i, shapes.size()), t, shapes[i], -4, 4);
      }
      std::string tag = eq;
      std::replace(tag.begin(), tag.end(), '>', '_');
      out.push_back(c.attr_s("equation", eq).output().accumulate(einsum_terms(eq, shapes), TermScale::all_inputs)
                        .named(case_name("Einsum", {type_tag(t), tag})));
    }
}

}  // namespace

void add_matmul_cases(std::vector<OpCase>& out) {
  add_matmul_shape_cases(out);
  add_gemm_cases(out);
  add_einsum_cases(out);
}

namespace {

struct ConvShape {
  const char* tag;
  Shape x, w;  // X: N, C, spatial...; W: M, C/group, kernel...
  int64_t group = 1;
};

std::vector<int64_t> repeat(int64_t v, size_t n) { return std::vector<int64_t>(n, v); }

int64_t conv_terms(const ConvShape& s) {
  int64_t k = 1;
  for (size_t i = 1; i < s.w.size(); ++i) k *= s.w[i];
  return k + 1;
}

OpCase conv_base(const ConvShape& s, ElementType t, bool bias) {
  OpCase c("Conv", 11);
  c.input("X", t, s.x).input("W", t, s.w);
  if (bias) c.input("B", t, {s.w[0]});
  if (s.group != 1) c.attr_i("group", s.group);
  return c.output().accumulate(conv_terms(s), TermScale::product);
}

void add_conv2d_grid(std::vector<OpCase>& out) {
  const std::vector<ConvShape> shapes = {{"k3", {1, 3, 7, 7}, {4, 3, 3, 3}}, {"k1", {2, 3, 5, 6}, {4, 3, 1, 1}}, {"k2x3", {1, 2, 6, 7}, {3, 2, 2, 3}}};
  const std::vector<std::pair<const char*, std::vector<int64_t>>> pads = {{"0", {}}, {"1", {1, 1, 1, 1}}, {"0,1,2,0", {0, 1, 2, 0}}};
  for (const auto& s : shapes)
    for (const auto& [pad_tag, p] : pads)
      for (int64_t stride : {1, 2})
        for (int64_t dilation : {1, 2})
          for (bool bias : {true, false}) {
            OpCase c = conv_base(s, f32, bias);
            if (!p.empty()) c.attr_ints("pads", p);
            c.attr_ints("strides", repeat(stride, 2)).attr_ints("dilations", repeat(dilation, 2));
            out.push_back(c.named(case_name("Conv", {"float32", "2d", s.tag, "pads=" + std::string(pad_tag), "strides=" + std::to_string(stride),
                                                     "dilations=" + std::to_string(dilation), bias ? "bias" : "nobias"})));
          }
}

void add_conv_variants(std::vector<OpCase>& out) {
  const std::vector<ConvShape> grouped = {{"depthwise", {1, 4, 6, 6}, {4, 1, 3, 3}, 4}, {"group2", {2, 4, 5, 5}, {6, 2, 3, 3}, 2},
                                          {"depthwise_mult2", {1, 3, 5, 5}, {6, 1, 3, 3}, 3}};
  for (const auto& s : grouped)
    for (int64_t stride : {1, 2})
      out.push_back(conv_base(s, f32, true).attr_ints("strides", repeat(stride, 2))
                        .named(case_name("Conv", {"float32", "2d", s.tag, "strides=" + std::to_string(stride)})));
  const ConvShape k3 = {"k3", {1, 3, 7, 8}, {4, 3, 3, 3}};
  for (const char* auto_pad : {"SAME_UPPER", "SAME_LOWER", "VALID"})
    for (int64_t stride : {1, 2})
      out.push_back(conv_base(k3, f32, true).attr_s("auto_pad", auto_pad).attr_ints("strides", repeat(stride, 2))
                        .named(case_name("Conv", {"float32", "2d", "k3", std::string("auto_pad=") + auto_pad, "strides=" + std::to_string(stride)})));
  out.push_back(conv_base(k3, f32, false).attr_ints("kernel_shape", {3, 3}).named(case_name("Conv", {"float32", "2d", "k3", "kernel_shape"})));
  const std::vector<ConvShape> other_ranks = {{"1d", {2, 2, 9}, {4, 2, 3}}, {"1d_k1", {1, 3, 5}, {2, 3, 1}}, {"3d", {1, 2, 4, 5, 5}, {2, 2, 2, 3, 3}}};
  for (const auto& s : other_ranks)
    for (int64_t stride : {1, 2})
      for (int64_t pad : {0, 1}) {
        const size_t spatial = s.x.size() - 2;
        out.push_back(conv_base(s, f32, true)
                          .attr_ints("strides", repeat(stride, spatial))
                          .attr_ints("pads", repeat(pad, 2 * spatial))
                          .named(case_name("Conv", {"float32", s.tag, "strides=" + std::to_string(stride), "pads=" + std::to_string(pad)})));
      }
  for (ElementType t : {f16, f64})
    for (const auto& s : {k3, other_ranks[0]})
      out.push_back(conv_base(s, t, true).named(case_name("Conv", {type_tag(t), s.tag})));
  out.push_back(conv_base(k3, f32, true).named(case_name("Conv", {"float32", "2d", "k3", "special"})));
  out.back().inputs[0].fill = Fill::special;
}

void add_conv_transpose_cases(std::vector<OpCase>& out) {
  // W: C, M/group, kernel...
  struct Shapes {
    const char* tag;
    Shape x, w;
    int64_t group;
  };
  const std::vector<Shapes> shapes = {{"k3", {1, 2, 4, 4}, {2, 3, 3, 3}, 1}, {"k2", {2, 3, 3, 5}, {3, 2, 2, 2}, 1},
                                      {"group2", {1, 4, 3, 3}, {4, 1, 3, 3}, 2}};
  for (const auto& s : shapes)
    for (int64_t stride : {1, 2})
      for (int64_t pad : {0, 1})
        for (int64_t output_padding : {0, 1})
          for (int64_t dilation : {1, 2}) {
            if (output_padding >= stride) continue;  // output_padding must be smaller than the stride
            OpCase c("ConvTranspose", 11);
            c.input("X", f32, s.x).input("W", f32, s.w).input("B", f32, {s.w[1] * s.group});
            c.attr_ints("strides", {stride, stride}).attr_ints("pads", repeat(pad, 4)).attr_ints("dilations", {dilation, dilation});
            if (output_padding) c.attr_ints("output_padding", {output_padding, output_padding});
            if (s.group != 1) c.attr_i("group", s.group);
            int64_t k = s.x[1] / s.group;
            for (size_t i = 2; i < s.w.size(); ++i) k *= s.w[i];
            out.push_back(c.output().accumulate(k + 1, TermScale::product)
                              .named(case_name("ConvTranspose", {"float32", s.tag, "strides=" + std::to_string(stride), "pads=" + std::to_string(pad),
                                                                 "output_padding=" + std::to_string(output_padding),
                                                                 "dilations=" + std::to_string(dilation)})));
          }
  for (const char* auto_pad : {"SAME_UPPER", "SAME_LOWER", "VALID"})
    out.push_back(OpCase("ConvTranspose", 11)
                      .input("X", f32, {1, 2, 4, 4})
                      .input("W", f32, {2, 3, 3, 3})
                      .attr_s("auto_pad", auto_pad)
                      .attr_ints("strides", {2, 2})
                      .output()
                      .accumulate(19, TermScale::product)
                      .named(case_name("ConvTranspose", {"float32", "k3", std::string("auto_pad=") + auto_pad, "strides=2"})));
  out.push_back(OpCase("ConvTranspose", 11)
                    .input("X", f32, {1, 2, 4, 4})
                    .input("W", f32, {2, 3, 3, 3})
                    .attr_ints("strides", {2, 2})
                    .attr_ints("output_shape", {9, 10})
                    .output()
                    .accumulate(19, TermScale::product)
                    .named(case_name("ConvTranspose", {"float32", "k3", "output_shape=9,10"})));
  for (const auto& [tag, x, w] : std::vector<std::tuple<const char*, Shape, Shape>>{{"1d", {2, 3, 5}, {3, 2, 3}}, {"3d", {1, 2, 3, 3, 3}, {2, 2, 2, 2, 2}}})
    for (ElementType t : {f32, f64, f16})
      out.push_back(OpCase("ConvTranspose", 11)
                        .input("X", t, x)
                        .input("W", t, w)
                        .attr_ints("strides", repeat(2, x.size() - 2))
                        .output()
                        .accumulate(25, TermScale::product)
                        .named(case_name("ConvTranspose", {type_tag(t), tag, "strides=2"})));
}

void add_integer_conv_cases(std::vector<OpCase>& out) {
  for (ElementType t : {u8, i8})
    for (bool zero_points : {false, true}) {
      OpCase c("ConvInteger", 10);
      c.ranged("x", t, {1, 2, 5, 5}, t == u8 ? 0 : -20, 20).ranged("w", t, {3, 2, 3, 3}, t == u8 ? 0 : -20, 20);
      if (zero_points) c.constant("x_zero_point", t, {}, {3}).constant("w_zero_point", t, {}, {2});
      c.attr_ints("pads", {1, 1, 1, 1});
      out.push_back(c.output().named(case_name("ConvInteger", {type_tag(t), "1x2x5x5", zero_points ? "zero_points" : "no_zero_points"})));
    }
  for (ElementType t : {u8, i8}) {
    const double lo = t == u8 ? 0 : -100, hi = t == u8 ? 200 : 100;
    OpCase c("QLinearConv", 10);
    c.ranged("x", t, {1, 2, 5, 5}, lo, hi).constant("x_scale", f32, {}, {0.05}).constant("x_zero_point", t, {}, {t == u8 ? 100.0 : 3.0});
    c.ranged("w", t, {3, 2, 3, 3}, lo, hi).constant("w_scale", f32, {3}, {0.01, 0.02, 0.03}).constant("w_zero_point", t, {3}, {0, 0, 0});
    c.constant("y_scale", f32, {}, {0.5}).constant("y_zero_point", t, {}, {t == u8 ? 128.0 : 0.0});
    c.ranged("B", i32, {3}, -100, 100);
    out.push_back(c.output().named(case_name("QLinearConv", {type_tag(t), "1x2x5x5", "per_channel"})));
  }
}

void add_deform_conv_cases(std::vector<OpCase>& out) {
  for (int64_t offset_group : {1, 2})
    for (bool mask : {false, true}) {
      // X 1x2x4x4, W 2x2x2x2 -> output 3x3; offsets: 2 * offset_group * kH * kW channels.
      OpCase c("DeformConv", 19);
      c.input("X", f32, {1, 2, 4, 4}).input("W", f32, {2, 2, 2, 2}).ranged("offset", f32, {1, 2 * offset_group * 4, 3, 3}, -1.5, 1.5);
      c.input("B", f32, {2});
      if (mask) c.ranged("mask", f32, {1, offset_group * 4, 3, 3}, 0, 1);
      c.attr_i("offset_group", offset_group);
      out.push_back(c.output().accumulate(9, TermScale::product)
                        .named(case_name("DeformConv", {"float32", "1x2x4x4", "offset_group=" + std::to_string(offset_group), mask ? "mask" : "nomask"})));
    }
}

}  // namespace

void add_conv_cases(std::vector<OpCase>& out) {
  add_conv2d_grid(out);
  add_conv_variants(out);
  add_conv_transpose_cases(out);
  add_integer_conv_cases(out);
  add_deform_conv_cases(out);
}

namespace {

struct PoolGeometry {
  const char* tag;
  std::vector<int64_t> kernel, strides, pads, dilations;
};

const std::vector<PoolGeometry>& pool_geometries() {
  static const std::vector<PoolGeometry> g = {
      {"k2", {2, 2}, {}, {}, {}},
      {"k2_s2", {2, 2}, {2, 2}, {}, {}},
      {"k3_s2_p1", {3, 3}, {2, 2}, {1, 1, 1, 1}, {}},
      {"k3_s1_p0,1,1,0", {3, 3}, {1, 1}, {0, 1, 1, 0}, {}},
      {"k1x3_s2x1", {1, 3}, {2, 1}, {}, {}},
      {"k2_d2", {2, 2}, {1, 1}, {}, {2, 2}},
      {"k3_s2_d2_p2", {3, 3}, {2, 2}, {2, 2, 2, 2}, {2, 2}},
  };
  return g;
}

OpCase pool_case(const char* op, int64_t opset, const PoolGeometry& g, ElementType t, const Shape& x, int64_t ceil_mode) {
  OpCase c(op, opset);
  c.input("X", t, x);
  c.attr_ints("kernel_shape", g.kernel);
  if (!g.strides.empty()) c.attr_ints("strides", g.strides);
  if (!g.pads.empty()) c.attr_ints("pads", g.pads);
  if (!g.dilations.empty()) c.attr_ints("dilations", g.dilations);
  if (ceil_mode) c.attr_i("ceil_mode", 1);
  return c.output();
}

void add_max_pool_cases(std::vector<OpCase>& out) {
  for (const auto& g : pool_geometries())
    for (int64_t ceil_mode : {0, 1})
      for (Fill f : {Fill::normal, Fill::special}) {
        OpCase c = pool_case("MaxPool", 12, g, f32, {1, 2, 7, 8}, ceil_mode);
        c.inputs[0].fill = f;
        out.push_back(c.named(case_name("MaxPool", {"float32", "1x2x7x8", g.tag, "ceil_mode=" + std::to_string(ceil_mode), fill_tag(f)})));
      }
  // The Indices output (flat index into the input; storage_order 1: column-major).
  for (int64_t order : {0, 1})
    out.push_back(pool_case("MaxPool", 12, pool_geometries()[2], f32, {2, 2, 5, 6}, 0)
                      .attr_i("storage_order", order)
                      .output("Indices")
                      .named(case_name("MaxPool", {"float32", "2x2x5x6", "k3_s2_p1", "indices", "storage_order=" + std::to_string(order)})));
  for (const char* auto_pad : {"SAME_UPPER", "SAME_LOWER", "VALID"})
    out.push_back(OpCase("MaxPool", 12)
                      .input("X", f32, {1, 2, 7, 8})
                      .attr_ints("kernel_shape", {3, 3})
                      .attr_ints("strides", {2, 2})
                      .attr_s("auto_pad", auto_pad)
                      .output()
                      .named(case_name("MaxPool", {"float32", "1x2x7x8", "k3_s2", std::string("auto_pad=") + auto_pad})));
  for (ElementType t : types_or("MaxPool", 12, 0, {f32}))
    if (t != f32)
      out.push_back(pool_case("MaxPool", 12, pool_geometries()[2], t, {1, 2, 7, 8}, 0).named(case_name("MaxPool", {type_tag(t), "1x2x7x8", "k3_s2_p1"})));
  out.push_back(OpCase("MaxPool", 12).input("X", f32, {2, 3, 9}).attr_ints("kernel_shape", {3}).attr_ints("strides", {2}).output()
                    .named(case_name("MaxPool", {"float32", "1d", "k3_s2"})));
  out.push_back(OpCase("MaxPool", 12).input("X", f32, {1, 2, 4, 5, 5}).attr_ints("kernel_shape", {2, 2, 2}).output()
                    .named(case_name("MaxPool", {"float32", "3d", "k2"})));
}

void add_average_pool_cases(std::vector<OpCase>& out) {
  for (int64_t opset : {11, 19})
    for (const auto& g : pool_geometries())
      for (int64_t ceil_mode : {0, 1})
        for (int64_t include_pad : {0, 1}) {
          if (opset == 11 && !g.dilations.empty()) continue;  // dilations arrived in opset 19
          if (g.pads.empty() && include_pad && !ceil_mode) continue;  // nothing to include
          int64_t k = 1;
          for (auto d : g.kernel) k *= d;
          out.push_back(pool_case("AveragePool", opset, g, f32, {1, 2, 7, 8}, ceil_mode)
                            .attr_i("count_include_pad", include_pad)
                            .accumulate(k)
                            .named(case_name("AveragePool", {"opset" + std::to_string(opset), "float32", "1x2x7x8", g.tag,
                                                             "ceil_mode=" + std::to_string(ceil_mode), "count_include_pad=" + std::to_string(include_pad)})));
        }
  for (const char* auto_pad : {"SAME_UPPER", "SAME_LOWER", "VALID"})
    out.push_back(OpCase("AveragePool", 19)
                      .input("X", f32, {1, 2, 7, 8})
                      .attr_ints("kernel_shape", {3, 3})
                      .attr_ints("strides", {2, 2})
                      .attr_s("auto_pad", auto_pad)
                      .output()
                      .accumulate(9)
                      .named(case_name("AveragePool", {"opset19", "float32", "1x2x7x8", "k3_s2", std::string("auto_pad=") + auto_pad})));
  for (ElementType t : {f16, f64})
    out.push_back(pool_case("AveragePool", 19, pool_geometries()[2], t, {1, 2, 7, 8}, 0).accumulate(9)
                      .named(case_name("AveragePool", {"opset19", type_tag(t), "1x2x7x8", "k3_s2_p1"})));
  out.push_back(OpCase("AveragePool", 19).input("X", f32, {2, 3, 9}).attr_ints("kernel_shape", {3}).attr_ints("strides", {2}).output().accumulate(3)
                    .named(case_name("AveragePool", {"opset19", "float32", "1d", "k3_s2"})));
  out.push_back(OpCase("AveragePool", 19).input("X", f32, {1, 2, 4, 5, 5}).attr_ints("kernel_shape", {2, 2, 2}).output().accumulate(8)
                    .named(case_name("AveragePool", {"opset19", "float32", "3d", "k2"})));
}

void add_lp_and_global_pool_cases(std::vector<OpCase>& out) {
  for (int64_t p : {1, 2, 3})
    for (const auto& g : {pool_geometries()[0], pool_geometries()[2], pool_geometries()[5]})
      out.push_back(pool_case("LpPool", 18, g, f32, {1, 2, 7, 8}, 0).attr_i("p", p).accumulate(9, TermScale::output)
                        .named(case_name("LpPool", {"float32", "1x2x7x8", g.tag, "p=" + std::to_string(p)})));
  out.push_back(pool_case("LpPool", 18, pool_geometries()[2], f32, {1, 2, 7, 8}, 1).attr_i("p", 2).accumulate(9, TermScale::output)
                    .named(case_name("LpPool", {"float32", "1x2x7x8", "k3_s2_p1", "p=2", "ceil_mode=1"})));
  const std::vector<Shape> shapes = {{2, 3, 5}, {1, 3, 4, 5}, {2, 2, 3, 3, 4}, {1, 1, 1, 1}};
  for (const char* op : {"GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool"})
    for (const Shape& s : shapes)
      for (ElementType t : {f32, f16, f64})
        for (Fill f : {Fill::normal, Fill::special}) {
          if (t != f32 && (f == Fill::special || s.size() != 4)) continue;
          int64_t k = 1;
          for (size_t i = 2; i < s.size(); ++i) k *= s[i];
          OpCase c(op, std::string(op) == "GlobalLpPool" ? 2 : 1);
          c.input("X", t, s, f);
          if (std::string(op) != "GlobalMaxPool") c.accumulate(k, std::string(op) == "GlobalLpPool" ? TermScale::output : TermScale::input);
          out.push_back(c.output().named(case_name(op, {type_tag(t), shape_tag(s), fill_tag(f)})));
        }
  for (int64_t p : {1, 3})
    out.push_back(OpCase("GlobalLpPool", 2).input("X", f32, {1, 3, 4, 5}).attr_i("p", p).output().accumulate(20, TermScale::output)
                      .named(case_name("GlobalLpPool", {"float32", "1x3x4x5", "p=" + std::to_string(p)})));
}

void add_roi_and_unpool_cases(std::vector<OpCase>& out) {
  // Rois: batch index, x1, y1, x2, y2 in input coordinates (spatial_scale maps them).
  for (float scale : {1.0f, 0.5f})
    out.push_back(OpCase("MaxRoiPool", 1)
                      .input("X", f32, {2, 3, 8, 8})
                      .constant("rois", f32, {3, 5}, {0, 1, 1, 6, 6, 1, 0, 2, 7, 5, 0, 3, 3, 3, 3})
                      .attr_ints("pooled_shape", {2, 3})
                      .attr_f("spatial_scale", scale)
                      .output()
                      .named(case_name("MaxRoiPool", {"float32", "2x3x8x8", "pooled=2x3", "spatial_scale=" + number_tag(scale)})));
  // MaxUnpool: the Indices a MaxPool would give (flat positions in the unpooled tensor).
  out.push_back(OpCase("MaxUnpool", 11)
                    .input("X", f32, {1, 1, 2, 2})
                    .constant("I", i64, {1, 1, 2, 2}, {5, 7, 13, 15})
                    .attr_ints("kernel_shape", {2, 2})
                    .attr_ints("strides", {2, 2})
                    .output()
                    .named(case_name("MaxUnpool", {"float32", "1x1x2x2", "k2_s2"})));
  out.push_back(OpCase("MaxUnpool", 11)
                    .input("X", f32, {1, 2, 2, 2})
                    .constant("I", i64, {1, 2, 2, 2}, {0, 3, 10, 14, 16, 19, 26, 30})
                    .constant("output_shape", i64, {4}, {1, 2, 5, 4})
                    .attr_ints("kernel_shape", {2, 2})
                    .attr_ints("strides", {2, 2})
                    .output()
                    .named(case_name("MaxUnpool", {"float32", "1x2x2x2", "k2_s2", "output_shape=1x2x5x4"})));
}

}  // namespace

void add_pool_cases(std::vector<OpCase>& out) {
  add_max_pool_cases(out);
  add_average_pool_cases(out);
  add_lp_and_global_pool_cases(out);
  add_roi_and_unpool_cases(out);
}

namespace {

void add_batch_norm_cases(std::vector<OpCase>& out) {
  const std::vector<Shape> shapes = {{2, 3, 4, 5}, {2, 3}, {1, 3, 1, 1, 2}, {4, 3, 7}};
  for (ElementType t : {f32, f16, f64})
    for (const Shape& s : shapes)
      for (float epsilon : {1e-5f, 0.1f}) {
        if (t != f32 && (s.size() != 4 || epsilon != 1e-5f)) continue;
        const Shape c_shape = {s[1]};
        out.push_back(OpCase("BatchNormalization", 15)
                          .input("X", t, s)
                          .input("scale", t, c_shape)
                          .input("B", t, c_shape)
                          .input("input_mean", t, c_shape)
                          .input("input_var", t, c_shape, Fill::positive)
                          .attr_f("epsilon", epsilon)
                          .output()
                          .accumulate(2, TermScale::output)
                          .named(case_name("BatchNormalization", {type_tag(t), shape_tag(s), "epsilon=" + number_tag(epsilon)})));
      }
  out.push_back(OpCase("BatchNormalization", 15)
                    .input("X", f32, {2, 3, 4}, Fill::special)
                    .input("scale", f32, {3})
                    .input("B", f32, {3})
                    .input("input_mean", f32, {3})
                    .input("input_var", f32, {3}, Fill::positive)
                    .output()
                    .accumulate(2, TermScale::output)
                    .named(case_name("BatchNormalization", {"float32", "2x3x4", "special"})));
}

void add_layer_norm_cases(std::vector<OpCase>& out) {
  const Shape x = {2, 3, 4};
  for (int64_t axis : {-3, -2, -1, 0, 1, 2})
    for (bool stash : {false, true}) {
      const size_t a = static_cast<size_t>(axis < 0 ? axis + 3 : axis);
      const Shape norm(x.begin() + static_cast<std::ptrdiff_t>(a), x.end());
      OpCase c("LayerNormalization", 17);
      c.input("X", f32, x).input("Scale", f32, norm).input("B", f32, norm).attr_i("axis", axis);
      c.output();
      if (stash) c.output("Mean").output("InvStdDev");
      out.push_back(c.accumulate(numel(norm), TermScale::output)
                        .named(case_name("LayerNormalization", {"float32", "2x3x4", "axis=" + std::to_string(axis), stash ? "stats" : "y"})));
    }
  for (ElementType t : {f16, f64, bf16})
    out.push_back(OpCase("LayerNormalization", 17).input("X", t, {3, 8}).input("Scale", t, {8}).absent().attr_f("epsilon", 1e-3f).output()
                      .accumulate(8, TermScale::output).named(case_name("LayerNormalization", {type_tag(t), "3x8", "nobias"})));
  for (int64_t axis : {-1, 1, 0}) {
    const Shape x = {2, 3, 4};
    const Shape scale(x.begin() + (axis < 0 ? axis + 3 : axis), x.end());
    out.push_back(OpCase("RMSNormalization", 23).input("X", f32, x).input("scale", f32, scale)
                      .attr_i("axis", axis).output().accumulate(numel(scale), TermScale::output)
                      .named(case_name("RMSNormalization", {"float32", "2x3x4", "axis=" + std::to_string(axis)})));
  }
  out.push_back(OpCase("RMSNormalization", 23).input("X", f16, {3, 8}).input("scale", f16, {8}).attr_f("epsilon", 1e-3f).output()
                    .accumulate(8, TermScale::output).named(case_name("RMSNormalization", {"float16", "3x8"})));
}

void add_other_norm_cases(std::vector<OpCase>& out) {
  for (ElementType t : {f32, f16, f64})
    for (const Shape& s : std::vector<Shape>{{2, 3, 4, 5}, {1, 2, 6}})
      out.push_back(OpCase("InstanceNormalization", 6).input("input", t, s).input("scale", t, {s[1]}).input("B", t, {s[1]}).output()
                        .accumulate(numel(s) / s[0] / s[1], TermScale::output)
                        .named(case_name("InstanceNormalization", {type_tag(t), shape_tag(s)})));
  for (int64_t opset : {18, 21})
    for (int64_t groups : {1, 2, 4}) {
      const Shape affine = opset == 18 ? Shape{groups} : Shape{4};
      out.push_back(OpCase("GroupNormalization", opset).input("X", f32, {2, 4, 3, 3}).input("scale", f32, affine).input("bias", f32, affine)
                        .attr_i("num_groups", groups).output().accumulate(36 / groups, TermScale::output)
                        .named(case_name("GroupNormalization", {"opset" + std::to_string(opset), "float32", "2x4x3x3", "num_groups=" + std::to_string(groups)})));
    }
  for (int64_t axis : {-1, 0, 1})
    for (int64_t p : {1, 2})
      out.push_back(OpCase("LpNormalization", 1).input("input", f32, {3, 4}).attr_i("axis", axis).attr_i("p", p).output().accumulate(4, TermScale::output)
                        .named(case_name("LpNormalization", {"float32", "3x4", "axis=" + std::to_string(axis), "p=" + std::to_string(p)})));
  for (int64_t size : {1, 3, 5})
    out.push_back(OpCase("LRN", 13).input("X", f32, {2, 5, 3, 3}).attr_i("size", size).attr_f("alpha", 0.01f).attr_f("beta", 0.75f)
                      .attr_f("bias", 1.5f).output().accumulate(size, TermScale::square)
                      .named(case_name("LRN", {"float32", "2x5x3x3", "size=" + std::to_string(size)})));
  for (const auto& axes : std::vector<std::vector<int64_t>>{{0, 2, 3}, {1}, {0, 1, 2, 3}})
    out.push_back(OpCase("MeanVarianceNormalization", 13).input("X", f32, {2, 3, 4, 5}).attr_ints("axes", axes).output()
                      .accumulate(reduced_count({2, 3, 4, 5}, axes), TermScale::output)
                      .named(case_name("MeanVarianceNormalization", {"float32", "2x3x4x5", "axes=" + ints_tag(axes)})));
  for (bool mask : {false, true}) {
    OpCase c("Dropout", 13);
    c.input("data", f32, {3, 4}).constant("ratio", f32, {}, {0.5}).output();
    if (mask) c.output("mask");
    out.push_back(c.named(case_name("Dropout", {"float32", "3x4", "inference", mask ? "mask" : "nomask"})));
  }
}

}  // namespace

void add_normalization_cases(std::vector<OpCase>& out) {
  add_batch_norm_cases(out);
  add_layer_norm_cases(out);
  add_other_norm_cases(out);
}

}  // namespace switchyard::conformance::ops
