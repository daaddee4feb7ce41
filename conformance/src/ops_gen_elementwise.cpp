// The ops suite's elementwise families: unary math, activations with their attributes, binary and
// variadic arithmetic with broadcasting, comparison, logic and bitwise operators, Where, and Cast
// over type pairs.
#include "ops_gen.h"

namespace switchyard::conformance::ops {

namespace {

struct Unary {
  const char* op;
  int64_t opset;
  Fill fill;  // the domain the operator is defined on; value classes go on top
  double lo = 0, hi = 0;
  std::vector<ElementType> fallback = float_types();  // the types when the ONNX library predates the operator
};

const std::vector<Unary>& unary_ops() {
  static const std::vector<Unary> ops = {
      {"Abs", 13, Fill::normal},    {"Neg", 13, Fill::normal},      {"Sign", 13, Fill::normal},    {"Sqrt", 13, Fill::positive},
      {"Exp", 13, Fill::normal},    {"Log", 13, Fill::positive},    {"Tanh", 13, Fill::normal},    {"Reciprocal", 13, Fill::nonzero},
      {"Erf", 13, Fill::normal, 0, 0, float_types()},    {"Ceil", 13, Fill::normal},     {"Floor", 13, Fill::normal},   {"Round", 11, Fill::normal},
      {"Sin", 7, Fill::normal},     {"Cos", 7, Fill::normal},       {"Tan", 7, Fill::normal},      {"Asin", 7, Fill::unit},
      {"Acos", 7, Fill::unit},      {"Atan", 7, Fill::normal},      {"Sinh", 9, Fill::normal},     {"Cosh", 9, Fill::normal},
      {"Asinh", 9, Fill::normal},   {"Acosh", 9, Fill::range, 1, 5}, {"Atanh", 9, Fill::unit},     {"Relu", 14, Fill::normal},
      {"Sigmoid", 13, Fill::normal}, {"Softplus", 1, Fill::normal}, {"Softsign", 1, Fill::normal}, {"Mish", 18, Fill::normal},
      {"HardSwish", 14, Fill::normal}, {"IsNaN", 13, Fill::normal}, {"IsInf", 10, Fill::normal},   {"Not", 1, Fill::normal},
      {"BitwiseNot", 18, Fill::normal, 0, 0, {i8, i16, i32, i64, u8, u16, u32, u64}}, {"Identity", 16, Fill::normal},
  };
  return ops;
}

OpCase unary_case(const Unary& u, ElementType t, const Shape& s, bool classes) {
  OpCase c(u.op, u.opset);
  if (u.fill == Fill::range) c.ranged("X", t, s, u.lo, u.hi);
  else c.input("X", t, s, u.fill);
  if (classes) c.with_classes();
  return c.output();
}

// Values where rounding directions and signed zeros show: halves, values just off them, -0.
const std::vector<double>& rounding_values() {
  static const std::vector<double> v = {-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, -0.0, 0.49999997, -0.50000006, 1e7 + 0.5, 8388609.0, -1e-30};
  return v;
}

}  // namespace

void add_unary_cases(std::vector<OpCase>& out) {
  for (const auto& u : unary_ops()) {
    // Erf's integer types were a mistake of the schema (removed in place: onnx/onnx#7398), which
    // this ONNX library predates.
    const auto types = std::string(u.op) == "Erf" ? u.fallback : types_or(u.op, u.opset, 0, u.fallback);
    for (ElementType t : types)
      for (const Shape& s : shapes_for(t))
        for (Fill f : value_fills(t))
          out.push_back(unary_case(u, t, s, f == Fill::special).named(case_name(u.op, {type_tag(t), shape_tag(s), fill_tag(f)})));
  }
  for (const char* op : {"Round", "Ceil", "Floor"})
    for (ElementType t : {f32, f16, f64})
      out.push_back(OpCase(op, op == std::string("Round") ? 11 : 13)
                        .given("X", t, {12}, rounding_values())
                        .output()
                        .named(case_name(op, {type_tag(t), "12", "halves"})));
  // IsInf's attributes: which infinities count.
  for (int64_t negative : {0, 1})
    for (int64_t positive : {0, 1})
      for (ElementType t : {f32, f64})
        out.push_back(OpCase("IsInf", 10)
                          .input("X", t, {3, 5}, Fill::special)
                          .attr_i("detect_negative", negative)
                          .attr_i("detect_positive", positive)
                          .output()
                          .named(case_name("IsInf", {type_tag(t), "3x5", "detect_negative=" + std::to_string(negative),
                                                      "detect_positive=" + std::to_string(positive)})));
}

namespace {

struct Activation {
  const char* op;
  int64_t opset;
  std::vector<std::pair<const char*, float>> attrs;  // one set of attribute values; empty = the defaults
};

const std::vector<Activation>& activations() {
  static const std::vector<Activation> a = {
      {"LeakyRelu", 16, {}},           {"LeakyRelu", 16, {{"alpha", 0.2f}}},   {"LeakyRelu", 16, {{"alpha", -1.5f}}},
      {"Elu", 6, {}},                  {"Elu", 6, {{"alpha", 0.5f}}},          {"Elu", 6, {{"alpha", 2.0f}}},
      {"Selu", 6, {}},                 {"Selu", 6, {{"alpha", 2.0f}, {"gamma", 0.5f}}},
      {"Celu", 12, {}},                {"Celu", 12, {{"alpha", 0.5f}}},        {"Celu", 12, {{"alpha", 2.0f}}},
      {"ThresholdedRelu", 10, {}},     {"ThresholdedRelu", 10, {{"alpha", 0.5f}}}, {"ThresholdedRelu", 10, {{"alpha", -1.0f}}},
      {"HardSigmoid", 6, {}},          {"HardSigmoid", 6, {{"alpha", 0.5f}, {"beta", 0.1f}}},
      {"Shrink", 9, {}},               {"Shrink", 9, {{"bias", 1.5f}, {"lambd", 1.0f}}},
      {"Gelu", 20, {}},
      {"Swish", 24, {}},               {"Swish", 24, {{"alpha", 1.702f}}},
  };
  return a;
}

const std::vector<Shape>& activation_shapes(ElementType t) {
  static const std::vector<Shape> full = {{}, {7}, {0}, {2, 3, 4}, {1, 2, 1, 3, 1, 2}, {17, 19}};
  static const std::vector<Shape> short_set = {{}, {2, 3, 4}};
  return t == f32 ? full : short_set;
}

std::string attrs_tag(const std::vector<std::pair<const char*, float>>& attrs) {
  if (attrs.empty()) return "defaults";
  std::string tag;
  for (const auto& [name, v] : attrs) tag += (tag.empty() ? "" : ",") + std::string(name) + "=" + number_tag(v);
  return tag;
}

void add_clip_cases(std::vector<OpCase>& out) {
  // Opset 13: min and max are optional inputs (scalars); min > max gives max everywhere.
  struct Bounds {
    const char* tag;
    bool has_min, has_max;
    double min, max;
  };
  const std::vector<Bounds> bounds = {{"min,max", true, true, -1, 2}, {"min", true, false, -0.5, 0},
                                      {"max", false, true, 0, 1.5},    {"none", false, false, 0, 0},
                                      {"min>max", true, true, 3, -3}};
  for (ElementType t : types_or("Clip", 13, 0, float_types()))
    for (const Shape& s : activation_shapes(t))
      for (const auto& b : bounds)
        for (Fill f : value_fills(t)) {
          OpCase c("Clip", 13);
          c.input("X", t, s, f);
          if (b.has_min) c.constant("min", t, {}, {b.min});
          else if (b.has_max) c.absent();
          if (b.has_max) c.constant("max", t, {}, {b.max});
          out.push_back(c.output().named(case_name("Clip", {type_tag(t), shape_tag(s), b.tag, fill_tag(f)})));
        }
  // Opset 6: attributes.
  for (Fill f : {Fill::normal, Fill::special})
    out.push_back(OpCase("Clip", 6)
                      .input("X", f32, {3, 5}, f)
                      .attr_f("min", -1)
                      .attr_f("max", 1)
                      .output()
                      .named(case_name("Clip", {"opset6", "float32", "3x5", fill_tag(f)})));
}

void add_prelu_cases(std::vector<OpCase>& out) {
  // The slope broadcasts to X (unidirectionally).
  const std::vector<std::pair<Shape, Shape>> shapes = {{{2, 3, 4}, {4}},    {{2, 3, 4}, {3, 1}}, {{2, 3, 4}, {}},
                                                       {{2, 3, 4}, {2, 3, 4}}, {{1, 3, 2, 2}, {3, 1, 1}}, {{0, 3}, {3}}};
  for (ElementType t : types_or("PRelu", 16, 0, float_types()))
    for (const auto& [x, slope] : shapes)
      for (Fill f : value_fills(t))
        out.push_back(OpCase("PRelu", 16)
                          .input("X", t, x, f)
                          .input("slope", t, slope)
                          .output()
                          .named(case_name("PRelu", {type_tag(t), shapes_tag({x, slope}), fill_tag(f)})));
}

}  // namespace

void add_activation_cases(std::vector<OpCase>& out) {
  for (const auto& a : activations()) {
    for (ElementType t : types_or(a.op, a.opset, 0, {f32, f16, f64, bf16}))
      for (const Shape& s : activation_shapes(t))
        for (Fill f : value_fills(t)) {
          OpCase c(a.op, a.opset);
          c.input("X", t, s, f);
          for (const auto& [name, v] : a.attrs) c.attr_f(name, v);
          out.push_back(c.output().named(case_name(a.op, {type_tag(t), shape_tag(s), attrs_tag(a.attrs), fill_tag(f)})));
        }
  }
  for (ElementType t : {f32, f16, f64})
    for (Fill f : {Fill::normal, Fill::special})
      out.push_back(OpCase("Gelu", 20)
                        .input("X", t, {2, 3, 4}, f)
                        .attr_s("approximate", "tanh")
                        .output()
                        .named(case_name("Gelu", {type_tag(t), "2x3x4", "approximate=tanh", fill_tag(f)})));
  add_clip_cases(out);
  add_prelu_cases(out);
}

namespace {

struct Binary {
  const char* op;
  int64_t opset;
  Fill b_fill = Fill::normal;  // the second operand's domain (divisors)
  std::vector<ElementType> fallback = {f32};  // the types when the ONNX library predates the operator
};

const std::vector<ElementType> kIntegerTypes = {i8, i16, i32, i64, u8, u16, u32, u64};

const std::vector<Binary>& binary_ops() {
  static const std::vector<Binary> ops = {
      {"Add", 14},          {"Sub", 14},       {"Mul", 14},          {"Div", 14, Fill::nonzero},
      {"Max", 13},          {"Min", 13},       {"Mean", 13},         {"Sum", 13},
      {"Equal", 13},        {"Greater", 13},   {"GreaterOrEqual", 16}, {"Less", 13},
      {"LessOrEqual", 16},  {"BitwiseAnd", 18, Fill::normal, kIntegerTypes}, {"BitwiseOr", 18, Fill::normal, kIntegerTypes},
      {"BitwiseXor", 18, Fill::normal, kIntegerTypes},
  };
  return ops;
}

OpCase binary_case(const char* op, int64_t opset, ElementType t, const std::vector<Shape>& shapes, Fill f, Fill b_fill) {
  OpCase c(op, opset);
  for (size_t i = 0; i < shapes.size(); ++i) {
    // An integer divisor stays non-zero (a division by 0 traps); its value classes would include 0.
    const bool divisor = i == 1 && b_fill == Fill::nonzero;
    const bool integer = is_signed_integer(t) || is_unsigned_integer(t);
    c.input(input_name(i, shapes.size()), t, shapes[i], divisor ? Fill::nonzero : Fill::normal);
    if (f == Fill::special && !(divisor && integer)) c.with_classes();
  }
  return c.output();
}

void add_variadic_arity_cases(std::vector<OpCase>& out) {
  // Sum, Mean, Max, Min take 1 or more inputs, broadcast together.
  const std::vector<std::vector<Shape>> arities = {{{3, 4}}, {{3, 4}, {4}, {3, 1}}, {{2, 1, 3}, {}, {4, 1}, {1, 3}}};
  for (const char* op : {"Sum", "Mean", "Max", "Min"})
    for (const auto& shapes : arities)
      for (Fill f : {Fill::normal, Fill::special})
        out.push_back(binary_case(op, 13, f32, shapes, f, Fill::normal)
                          .accumulate(op == std::string("Sum") || op == std::string("Mean") ? static_cast<int64_t>(shapes.size()) : 1)
                          .named(case_name(op, {"float32", shapes_tag(shapes), fill_tag(f)})));
}

void add_pow_cases(std::vector<OpCase>& out) {
  // Float bases and exponents: negative bases with fractional exponents give NaN, as do the classes.
  for (ElementType t : {f32, f16, f64, bf16})
    for (const auto& shapes : t == f32 ? broadcast_shapes() : broadcast_shapes_short())
      for (Fill f : {Fill::normal, Fill::special})
        out.push_back(binary_case("Pow", 15, t, shapes, f, Fill::normal).named(case_name("Pow", {type_tag(t), shapes_tag(shapes), fill_tag(f)})));
  // The exponent's type is its own (T1): every one the schema allows, with a float32 base and small
  // integral exponents; integer bases with small non-negative exponents (no overflow).
  for (ElementType e : types_or("Pow", 15, 1, {f32, i32, i64}))
    out.push_back(OpCase("Pow", 15)
                      .input("X", f32, {2, 3})
                      .ranged("Y", e, {3}, is_unsigned_integer(e) ? 0 : -2, 3)
                      .output()
                      .named(case_name("Pow", {"float32^" + type_tag(e), "2x3,3"})));
  for (ElementType t : {i32, i64})
    out.push_back(OpCase("Pow", 15)
                      .ranged("X", t, {3, 4}, -5, 5)
                      .ranged("Y", t, {4}, 0, 4)
                      .output()
                      .named(case_name("Pow", {type_tag(t), "3x4,4"})));
}

void add_mod_cases(std::vector<OpCase>& out) {
  // fmod=0: the result takes the divisor's sign (integers only); fmod=1: the dividend's (C fmod).
  for (int64_t fmod : {0, 1})
    for (ElementType t : types_or("Mod", 13, 0, {f32, i32}))
      for (const auto& shapes : t == f32 ? broadcast_shapes() : broadcast_shapes_short()) {
        if (is_floating(t) && fmod == 0) continue;  // float Mod requires fmod=1
        for (Fill f : value_fills(t))
          out.push_back(binary_case("Mod", 13, t, shapes, f, Fill::nonzero)
                            .attr_i("fmod", fmod)
                            .named(case_name("Mod", {type_tag(t), shapes_tag(shapes), "fmod=" + std::to_string(fmod), fill_tag(f)})));
      }
}

void add_bitshift_cases(std::vector<OpCase>& out) {
  for (ElementType t : {u8, u16, u32, u64})
    for (const char* direction : {"LEFT", "RIGHT"})
      for (const auto& shapes : broadcast_shapes_short())
        out.push_back(OpCase("BitShift", 11)
                          .input("X", t, shapes[0], Fill::special)
                          .ranged("Y", t, shapes[1], 0, element_bits(t) - 1)
                          .attr_s("direction", direction)
                          .output()
                          .named(case_name("BitShift", {type_tag(t), shapes_tag(shapes), direction})));
}

}  // namespace

void add_binary_cases(std::vector<OpCase>& out) {
  for (const auto& b : binary_ops())
    for (ElementType t : types_or(b.op, b.opset, 0, b.fallback))
      for (const auto& shapes : t == f32 ? broadcast_shapes() : broadcast_shapes_short())
        for (Fill f : value_fills(t))
          out.push_back(binary_case(b.op, b.opset, t, shapes, f, b.b_fill)
                            .accumulate(b.op == std::string("Sum") || b.op == std::string("Mean") ? 2 : 1)
                            .named(case_name(b.op, {type_tag(t), shapes_tag(shapes), fill_tag(f)})));
  add_variadic_arity_cases(out);
  add_pow_cases(out);
  add_mod_cases(out);
  add_bitshift_cases(out);
}

void add_logic_cases(std::vector<OpCase>& out) {
  for (const char* op : {"And", "Or", "Xor"})
    for (const auto& shapes : broadcast_shapes())
      out.push_back(binary_case(op, 7, boolean, shapes, Fill::normal, Fill::normal)
                        .named(case_name(op, {"bool", shapes_tag(shapes)})));
  // Where: the condition, X and Y broadcast together.
  const std::vector<std::vector<Shape>> where_shapes = {
      {{3, 4}, {3, 4}, {3, 4}}, {{3, 4}, {}, {4}}, {{2, 1, 4}, {3, 1}, {1}}, {{}, {2, 3}, {2, 3}}, {{0, 2}, {1, 2}, {2}},
      {{1, 2, 1, 3, 1, 2}, {2, 1, 1, 1, 1}, {3, 1, 2}}};
  for (ElementType t : types_or("Where", 16, 1, {f32}))
    for (const auto& shapes : t == f32 ? where_shapes : std::vector<std::vector<Shape>>{where_shapes[1], where_shapes[4]})
      for (Fill f : value_fills(t)) {
        OpCase c("Where", 16);
        c.input("C", boolean, shapes[0]).input("X", t, shapes[1], f).input("Y", t, shapes[2], f);
        out.push_back(c.output().named(case_name("Where", {type_tag(t), shapes_tag(shapes), fill_tag(f)})));
      }
}

namespace {

// Float values a cast to `to` is defined on: in range and (for integers) truncated toward zero.
OpCase cast_case(ElementType from, ElementType to, const Shape& s, bool classes) {
  OpCase c("Cast", 13);
  const bool to_integer = is_signed_integer(to) || is_unsigned_integer(to);
  if (from == str) {
    c.strings("X", s, {});
  } else if (is_floating(from) && to_integer) {
    c.ranged("X", from, s, is_unsigned_integer(to) ? 0 : -100, 100);  // out-of-range float -> int is undefined
  } else {
    c.input("X", from, s, Fill::normal);
    if (classes) c.with_classes();
  }
  return c.attr_i("to", static_cast<int64_t>(to)).output();
}

// Strings that parse as numbers of every type (Cast from string).
std::vector<std::string> numeric_strings(ElementType to, int64_t n) {
  static const std::vector<std::string> floats = {"1.5", "-2.25", "0", "3e2", "-0.125", "7", "NaN", "INF", "-inf", "1e-3"};
  static const std::vector<std::string> ints = {"1", "-2", "0", "17", "-100", "7", "42", "3", "-5", "100"};
  static const std::vector<std::string> bools = {"1", "0", "1", "0", "1", "0", "1", "0", "1", "0"};
  const auto& pool = is_floating(to) ? floats : to == boolean ? bools : ints;
  std::vector<std::string> v;
  for (int64_t i = 0; i < n; ++i) {
    std::string s = pool[static_cast<size_t>(i) % pool.size()];
    if (is_unsigned_integer(to) && s[0] == '-') s = s.substr(1);
    v.push_back(s);
  }
  return v;
}

}  // namespace

void add_cast_cases(std::vector<OpCase>& out) {
  const std::vector<ElementType> types = {f32, f64, f16, bf16, i8, u8, i16, u16, i32, u32, i64, u64, boolean, str};
  for (ElementType from : types)
    for (ElementType to : types)
      for (const Shape& s : std::vector<Shape>{{2, 5}, {0}}) {
        // Bool to string has no defined spelling ("1"? "True"?) and no ONNX test to settle it.
        if (from == boolean && to == str) continue;
        if (from == str) {
          if (to == str) continue;
          out.push_back(OpCase("Cast", 13)
                            .strings("X", s, numeric_strings(to, numel(s)))
                            .attr_i("to", static_cast<int64_t>(to))
                            .output()
                            .named(case_name("Cast", {"string->" + type_tag(to), shape_tag(s)})));
          continue;
        }
        const bool classes = is_floating(from) && !(is_signed_integer(to) || is_unsigned_integer(to));
        for (bool with_classes : {false, true}) {
          if (with_classes && (!classes || numel(s) == 0)) continue;
          out.push_back(cast_case(from, to, s, with_classes)
                            .named(case_name("Cast", {type_tag(from) + "->" + type_tag(to), shape_tag(s),
                                                      with_classes ? "special" : "normal"})));
        }
      }
  // Integers to narrower and to unsigned types: the extremes wrap (two's complement).
  for (ElementType from : {i64, i32, u64})
    for (ElementType to : {i8, u8, i16, u32, i32})
      if (from != to)
        out.push_back(OpCase("Cast", 13)
                          .input("X", from, {9}, Fill::special)
                          .attr_i("to", static_cast<int64_t>(to))
                          .output()
                          .named(case_name("Cast", {type_tag(from) + "->" + type_tag(to), "9", "extremes"})));
  for (ElementType to : {f32, i64, f16, boolean})
    out.push_back(OpCase("CastLike", 15)
                      .input("X", f64, {3, 4})
                      .input("like", to, {1})
                      .output()
                      .named(case_name("CastLike", {"float64->" + type_tag(to), "3x4"})));
}

}  // namespace switchyard::conformance::ops
