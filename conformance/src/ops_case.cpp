// The ops suite's case description: builder methods, name parts, and the element types ONNX's
// schema allows an operator's input.
#include "ops_case.h"

#include <onnx/defs/schema.h>

#include <cmath>
#include <cstdio>
#include <map>

namespace switchyard::conformance::ops {

OpCase& OpCase::input(std::string n, ElementType t, Shape s, Fill f) {
  Input in;
  in.name = std::move(n), in.type = t, in.shape = std::move(s), in.fill = f;
  inputs.push_back(std::move(in));
  return *this;
}

OpCase& OpCase::with_classes() {
  inputs.back().classes = true;
  return *this;
}

OpCase& OpCase::ranged(std::string n, ElementType t, Shape s, double lo, double hi) {
  input(std::move(n), t, std::move(s), Fill::range);
  inputs.back().lo = lo, inputs.back().hi = hi;
  return *this;
}

OpCase& OpCase::given(std::string n, ElementType t, Shape s, std::vector<double> v) {
  input(std::move(n), t, std::move(s), Fill::given);
  inputs.back().values = std::move(v);
  return *this;
}

OpCase& OpCase::constant(std::string n, ElementType t, Shape s, std::vector<double> v) {
  given(std::move(n), t, std::move(s), std::move(v));
  inputs.back().constant = true;
  return *this;
}

OpCase& OpCase::constant_filled(std::string n, ElementType t, Shape s, Fill f) {
  input(std::move(n), t, std::move(s), f);
  inputs.back().constant = true;
  return *this;
}

OpCase& OpCase::strings(std::string n, Shape s, std::vector<std::string> v) {
  input(std::move(n), ElementType::string, std::move(s), Fill::given);
  inputs.back().strings = std::move(v);
  return *this;
}

OpCase& OpCase::absent() {
  inputs.push_back(Input{});
  return *this;
}

namespace {
Attr make_attr(std::string name, Attr::Kind kind) {
  Attr a;
  a.name = std::move(name), a.kind = kind;
  return a;
}
}  // namespace

OpCase& OpCase::attr_i(std::string n, int64_t v) {
  attrs.push_back(make_attr(std::move(n), Attr::Kind::i));
  attrs.back().i = v;
  return *this;
}

OpCase& OpCase::attr_f(std::string n, float v) {
  attrs.push_back(make_attr(std::move(n), Attr::Kind::f));
  attrs.back().f = v;
  return *this;
}

OpCase& OpCase::attr_s(std::string n, std::string v) {
  attrs.push_back(make_attr(std::move(n), Attr::Kind::s));
  attrs.back().s = std::move(v);
  return *this;
}

OpCase& OpCase::attr_ints(std::string n, std::vector<int64_t> v) {
  attrs.push_back(make_attr(std::move(n), Attr::Kind::ints));
  attrs.back().ints = std::move(v);
  return *this;
}

OpCase& OpCase::attr_floats(std::string n, std::vector<float> v) {
  attrs.push_back(make_attr(std::move(n), Attr::Kind::floats));
  attrs.back().floats = std::move(v);
  return *this;
}

OpCase& OpCase::attr_strings(std::string n, std::vector<std::string> v) {
  attrs.push_back(make_attr(std::move(n), Attr::Kind::strings));
  attrs.back().strings = std::move(v);
  return *this;
}

OpCase& OpCase::attr_tensor(std::string n, ElementType t, Shape s, std::vector<double> v) {
  attrs.push_back(make_attr(std::move(n), Attr::Kind::tensor));
  Input& in = attrs.back().tensor;
  in.name = attrs.back().name, in.type = t, in.shape = std::move(s), in.fill = Fill::given, in.values = std::move(v);
  return *this;
}

OpCase& OpCase::output(std::string n) {
  outputs.push_back(std::move(n));
  return *this;
}

OpCase& OpCase::accumulate(int64_t k, TermScale s) {
  accumulation = k, scale = s;
  return *this;
}

OpCase& OpCase::named(std::string n) {
  name = std::move(n);
  return *this;
}

OpCase& OpCase::with(std::function<void(onnx::GraphProto&, onnx::NodeProto&)> fn) {
  extend = std::move(fn);
  return *this;
}

std::string shape_tag(const Shape& s) {
  if (s.empty()) return "scalar";
  std::string t;
  for (size_t i = 0; i < s.size(); ++i) t += (i ? "x" : "") + std::to_string(s[i]);
  return t;
}

std::string shapes_tag(const std::vector<Shape>& shapes) {
  std::string t;
  for (size_t i = 0; i < shapes.size(); ++i) t += (i ? "," : "") + shape_tag(shapes[i]);
  return t;
}

std::string ints_tag(const std::vector<int64_t>& v) {
  if (v.empty()) return "none";
  std::string t;
  for (size_t i = 0; i < v.size(); ++i) t += (i ? "," : "") + std::to_string(v[i]);
  return t;
}

std::string type_tag(ElementType t) { return std::string(element_type_name(t)); }

std::string number_tag(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

int64_t numel(const Shape& s) {
  int64_t n = 1;
  for (auto d : s) n *= d;
  return n;
}

namespace {

// "tensor(float)" -> float32; nullopt for sequences and types a Tensor here does not hold.
std::optional<ElementType> type_from_schema_string(const std::string& s) {
  static const std::map<std::string, ElementType> types = {
      {"tensor(float)", ElementType::float32},   {"tensor(double)", ElementType::float64},
      {"tensor(float16)", ElementType::float16}, {"tensor(bfloat16)", ElementType::bfloat16},
      {"tensor(int8)", ElementType::int8},       {"tensor(int16)", ElementType::int16},
      {"tensor(int32)", ElementType::int32},     {"tensor(int64)", ElementType::int64},
      {"tensor(uint8)", ElementType::uint8},     {"tensor(uint16)", ElementType::uint16},
      {"tensor(uint32)", ElementType::uint32},   {"tensor(uint64)", ElementType::uint64},
      {"tensor(bool)", ElementType::boolean},    {"tensor(string)", ElementType::string},
  };
  auto it = types.find(s);
  if (it == types.end()) return std::nullopt;
  return it->second;
}

}  // namespace

std::vector<ElementType> schema_types(const std::string& op, int64_t opset, size_t index, const std::string& domain) {
  const onnx::OpSchema* schema = onnx::OpSchemaRegistry::Schema(op, static_cast<int>(opset), domain);
  if (!schema || index >= schema->inputs().size()) return {};
  const std::string& param = schema->inputs()[index].GetTypeStr();
  for (const auto& constraint : schema->typeConstraintParams()) {
    if (constraint.type_param_str != param) continue;
    std::vector<ElementType> types;
    for (const auto& s : constraint.allowed_type_strs)
      if (auto t = type_from_schema_string(s)) types.push_back(*t);
    return types;
  }
  // A fixed type ("tensor(int64)") instead of a parameter.
  if (auto t = type_from_schema_string(param)) return {*t};
  return {};
}

}  // namespace switchyard::conformance::ops
