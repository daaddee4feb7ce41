// The ops suite: seeded input values, the ONNX model of a case, and its tolerance (ops_build.h).
#include "ops_build.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <random>

#include "onnx_proto.h"
#include "switchyard/reference/util.h"

namespace switchyard::conformance::ops {

uint64_t case_seed(uint64_t suite_seed, const std::string& case_name) {
  uint64_t h = 14695981039346656037ull;  // FNV-1a
  for (unsigned char c : case_name) h = (h ^ c) * 1099511628211ull;
  uint64_t z = suite_seed ^ h;  // splitmix64 finaliser: nearby seeds give unrelated streams
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

namespace {

using Rng = std::mt19937_64;

double uniform(Rng& rng, double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng); }
int64_t uniform_int(Rng& rng, int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); }

// Writes an integer given as a double, saturating beyond int64 (Slice's "to the end" INT64_MAX).
void set_integer(Tensor& t, int64_t i, double v) {
  if (t.type() == ElementType::uint64 && v >= 9.2e18) return reference::set_uint64(t, i, std::numeric_limits<uint64_t>::max());
  if (v >= 9.2e18) return reference::set_int64(t, i, std::numeric_limits<int64_t>::max());
  if (v <= -9.2e18) return reference::set_int64(t, i, std::numeric_limits<int64_t>::min());
  reference::set_int64(t, i, static_cast<int64_t>(std::llround(v)));
}

bool integral(ElementType t) { return is_signed_integer(t) || is_unsigned_integer(t) || t == ElementType::boolean; }

// One value of `fill` (not special/given) for an element of type t.
void set_random(Tensor& t, int64_t i, const Input& in, Rng& rng) {
  const ElementType type = t.type();
  if (type == ElementType::boolean) return reference::set_int64(t, i, static_cast<int64_t>(rng() & 1));
  if (integral(type)) {
    const bool is_unsigned = is_unsigned_integer(type);
    int64_t lo = is_unsigned ? 0 : -9, hi = is_unsigned ? 18 : 9;
    if (in.fill == Fill::positive) lo = 1, hi = 9;
    if (in.fill == Fill::range) lo = static_cast<int64_t>(std::ceil(in.lo)), hi = static_cast<int64_t>(std::floor(in.hi));
    if (in.fill == Fill::nonzero) {
      const int64_t magnitude = uniform_int(rng, 1, 9);
      return reference::set_int64(t, i, is_unsigned || (rng() & 1) ? magnitude : -magnitude);
    }
    return reference::set_int64(t, i, uniform_int(rng, lo, hi));
  }
  if (in.fill == Fill::nonzero) {
    const double magnitude = uniform(rng, 0.5, 4);
    return reference::set_double(t, i, (rng() & 1) ? magnitude : -magnitude);
  }
  double lo = -4, hi = 4;
  if (in.fill == Fill::positive) lo = 0.1, hi = 4;
  if (in.fill == Fill::unit) lo = -0.95, hi = 0.95;
  if (in.fill == Fill::range) lo = in.lo, hi = in.hi;
  reference::set_double(t, i, lo == hi ? lo : uniform(rng, lo, hi));
}

// The value classes of a float type: NaN, infinities, -0, denormals, the largest magnitudes.
std::vector<double> float_classes(ElementType t) {
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  switch (t) {
    case ElementType::float16: return {nan, inf, -inf, -0.0, 5.9604645e-8, -3.0e-5, 65504.0, -60000.0};
    case ElementType::bfloat16: return {nan, inf, -inf, -0.0, 1.0e-39, -2.0e-40, 3.3e38, -1.0e30};
    case ElementType::float64: return {nan, inf, -inf, -0.0, 4.9406564584124654e-324, -1.0e-310, 1.7976931348623157e308, -1.0e300};
    default: return {nan, inf, -inf, -0.0, 1.4e-45, -1.0e-40, 3.4028234663852886e38, -1.0e30};
  }
}

// How many of float_classes' values a tensor gets (they are ordered so that each set is a prefix).
enum class ClassSet : uint8_t {
  all = 8,          // every class
  no_extremes = 6,  // NaN, +-inf, -0, the denormals: not the largest magnitudes
  exact_in_narrow = 4,  // NaN, +-inf, -0: what a float16 / bfloat16 device holds exactly
};

// Writes the value classes of t's type at distinct seeded positions (as many as fit).
void inject_classes(Tensor& t, Rng& rng, ClassSet set) {
  const int64_t n = t.numel();
  if (n == 0 || t.type() == ElementType::boolean || t.type() == ElementType::string) return;
  std::vector<int64_t> positions(static_cast<size_t>(n));
  std::iota(positions.begin(), positions.end(), 0);
  std::shuffle(positions.begin(), positions.end(), rng);
  if (is_floating(t.type())) {
    auto classes = float_classes(t.type());
    classes.resize(std::min(classes.size(), static_cast<size_t>(set)));
    for (size_t k = 0; k < classes.size() && k < positions.size(); ++k) reference::set_double(t, positions[k], classes[k]);
    return;
  }
  const int bits = element_bits(t.type());
  std::vector<uint64_t> patterns;  // two's complement bit patterns, truncated by the type
  if (is_unsigned_integer(t.type())) {
    patterns = {0, ~uint64_t{0}, 1};
  } else {
    const uint64_t min = uint64_t{1} << (bits - 1);
    patterns = {min, min - 1, 0, ~uint64_t{0}, min + 1};
  }
  for (size_t k = 0; k < patterns.size() && k < positions.size(); ++k) {
    const uint64_t mask = bits >= 64 ? ~uint64_t{0} : (uint64_t{1} << bits) - 1;
    const uint64_t v = patterns[k] & mask;
    if (is_unsigned_integer(t.type())) {
      reference::set_uint64(t, positions[k], v);
    } else {
      const int64_t sign_extended = bits >= 64 ? static_cast<int64_t>(v)
                                               : static_cast<int64_t>(v << (64 - bits)) >> (64 - bits);
      reference::set_int64(t, positions[k], sign_extended);
    }
  }
}

Tensor make_strings(const Input& in, Rng& rng) {
  static const char* const words[] = {"apple", "Banana", "cherry", "", "dog cat", "Élan", "x", "monday", "ZETA", "a,b"};
  std::vector<std::string> values = in.strings;
  if (in.fill != Fill::given)
    for (int64_t i = 0; i < numel(in.shape); ++i) values.push_back(words[rng() % (sizeof words / sizeof words[0])]);
  if (static_cast<int64_t>(values.size()) != numel(in.shape))
    throw_error(StatusCode::invalid_argument, "input '" + in.name + "': " + std::to_string(values.size()) + " strings for shape " +
                                                  shape_to_string(in.shape));
  return Tensor::from_strings(in.shape, std::move(values));
}

Tensor make_tensor(const Input& in, Rng& rng, ClassSet set = ClassSet::all) {
  if (in.type == ElementType::string) return make_strings(in, rng);
  Tensor t = Tensor::allocate(in.type, in.shape);
  if (in.fill == Fill::given) {
    if (static_cast<int64_t>(in.values.size()) != t.numel())
      throw_error(StatusCode::invalid_argument, "input '" + in.name + "': " + std::to_string(in.values.size()) +
                                                    " values for shape " + shape_to_string(in.shape));
    for (int64_t i = 0; i < t.numel(); ++i) {
      const double v = in.values[static_cast<size_t>(i)];
      if (integral(in.type)) set_integer(t, i, v);
      else reference::set_double(t, i, v);
    }
    return t;
  }
  for (int64_t i = 0; i < t.numel(); ++i) set_random(t, i, in, rng);
  if (in.fill == Fill::special || in.classes) inject_classes(t, rng, set);
  return t;
}

}  // namespace

std::vector<Tensor> make_input_tensors(const OpCase& c, uint64_t seed, ElementType compute) {
  Rng rng(seed);
  // An accumulating case's tolerance grows with its largest term (4u sqrt(K) scale): the largest
  // finite magnitudes would make it as large as every other output, so those cases get NaN, the
  // infinities, -0 and denormals only (the elementwise families hold the extremes).
  const ClassSet own = c.accumulation <= 1 ? ClassSet::all : ClassSet::no_extremes;
  // A device computing float32 in float16 / bfloat16 holds float32's denormals and largest values
  // as 0 and infinity (inf * 1e-45 would be NaN there): its float32 tensors get the classes it
  // holds exactly.
  const bool narrow = compute == ElementType::float16 || compute == ElementType::bfloat16;
  std::vector<Tensor> tensors;
  for (const auto& in : c.inputs) {
    const ClassSet set = narrow && in.type == ElementType::float32 ? ClassSet::exact_in_narrow : own;
    tensors.push_back(in.name.empty() ? Tensor() : make_tensor(in, rng, set));
  }
  return tensors;
}

namespace {

// The IR version a model importing `opset` of the default domain needs (onnx/helper.py's table).
int64_t ir_version_for(int64_t opset) {
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  if (opset <= 22) return 10;
  if (opset <= 23) return 11;
  if (opset <= 25) return 12;
  return 13;
}

void add_attribute(onnx::NodeProto& node, const Attr& a) {
  auto* p = node.add_attribute();
  p->set_name(a.name);
  switch (a.kind) {
    case Attr::Kind::i: p->set_type(onnx::AttributeProto::INT), p->set_i(a.i); break;
    case Attr::Kind::f: p->set_type(onnx::AttributeProto::FLOAT), p->set_f(a.f); break;
    case Attr::Kind::s: p->set_type(onnx::AttributeProto::STRING), p->set_s(a.s); break;
    case Attr::Kind::ints:
      p->set_type(onnx::AttributeProto::INTS);
      for (auto v : a.ints) p->add_ints(v);
      break;
    case Attr::Kind::floats:
      p->set_type(onnx::AttributeProto::FLOATS);
      for (auto v : a.floats) p->add_floats(v);
      break;
    case Attr::Kind::strings:
      p->set_type(onnx::AttributeProto::STRINGS);
      for (const auto& v : a.strings) p->add_strings(v);
      break;
    case Attr::Kind::tensor: {
      p->set_type(onnx::AttributeProto::TENSOR);
      Rng unused(0);
      onnx_proto::tensor_to_proto(make_tensor(a.tensor, unused), p->mutable_t());
      break;
    }
  }
}

void add_graph_input(onnx::GraphProto& g, const Input& in) {
  auto* vi = g.add_input();
  vi->set_name(in.name);
  auto* tt = vi->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(static_cast<int32_t>(in.type));
  auto* shape = tt->mutable_shape();
  for (auto d : in.shape) shape->add_dim()->set_dim_value(d);
}

void add_opsets(onnx::ModelProto& m, const OpCase& c) {
  auto* def = m.add_opset_import();
  def->set_domain("");
  def->set_version(c.domain.empty() ? c.opset : c.default_opset);
  if (c.domain.empty()) return;
  auto* own = m.add_opset_import();
  own->set_domain(c.domain);
  own->set_version(c.opset);
}

}  // namespace

onnx::ModelProto build_model(const OpCase& c, const std::vector<Tensor>& tensors) {
  onnx::ModelProto m;
  m.set_ir_version(ir_version_for(c.domain.empty() ? c.opset : c.default_opset));
  m.set_producer_name("switchyard-conformance-ops");
  add_opsets(m, c);
  auto& g = *m.mutable_graph();
  g.set_name("ops_case");
  auto& node = *g.add_node();
  node.set_op_type(c.op);
  node.set_name("node");
  if (!c.domain.empty()) node.set_domain(c.domain);
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    const Input& in = c.inputs[i];
    node.add_input(in.name);
    if (in.name.empty()) continue;
    if (in.constant) {
      auto* init = g.add_initializer();
      onnx_proto::tensor_to_proto(tensors[i], init);
      init->set_name(in.name);
    } else {
      add_graph_input(g, in);
    }
  }
  for (const auto& a : c.attrs) add_attribute(node, a);
  for (const auto& o : c.outputs) {
    node.add_output(o);
    if (!o.empty()) g.add_output()->set_name(o);
  }
  if (c.extend) c.extend(g, node);
  return m;
}

void set_output_types(onnx::ModelProto& model, const std::vector<Value>& outputs) {
  auto& g = *model.mutable_graph();
  for (int i = 0; i < g.output_size() && static_cast<size_t>(i) < outputs.size(); ++i) {
    const Value& v = outputs[static_cast<size_t>(i)];
    if (v.kind != Value::Kind::tensor) continue;
    auto* tt = g.mutable_output(i)->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(static_cast<int32_t>(v.tensor.type()));
    auto* shape = tt->mutable_shape();
    shape->clear_dim();
    for (auto d : v.tensor.shape()) shape->add_dim()->set_dim_value(d);
  }
}

Result<BuiltCase> build_case(const OpCase& c, uint64_t seed, ElementType compute) {
  BuiltCase b;
  try {
    b.tensors = make_input_tensors(c, seed, compute);
  } catch (const Error& e) {
    return e.status();
  }
  b.proto = build_model(c, b.tensors);
  const std::string bytes = b.proto.SerializeAsString();
  SY_ASSIGN_OR_RETURN(b.model, import_onnx_bytes(bytes.data(), bytes.size()));
  for (size_t i = 0; i < c.inputs.size(); ++i)
    if (!c.inputs[i].name.empty() && !c.inputs[i].constant) b.inputs.push_back(Value::of(b.tensors[i]));
  return b;
}

namespace {

// The narrowest float type among the case's tensors: what the ONNX operator computes in.
ElementType case_compute_type(const std::vector<Tensor>& tensors, const std::vector<Value>& expected) {
  ElementType narrowest = ElementType::float32;
  auto consider = [&](ElementType t) {
    if (t == ElementType::bfloat16) narrowest = t;
    else if (t == ElementType::float16 && narrowest != ElementType::bfloat16) narrowest = t;
  };
  for (const auto& t : tensors) consider(t.type());
  for (const auto& v : expected)
    if (v.kind == Value::Kind::tensor) consider(v.tensor.type());
  return narrowest;
}

double term_scale(const OpCase& c, const std::vector<Tensor>& tensors, const std::vector<Value>& expected) {
  auto biggest = [&](size_t i) { return i < tensors.size() ? max_abs(&tensors[i]) : 0.0; };
  switch (c.scale) {
    case TermScale::input: return std::pow(biggest(0), c.scale_power);
    case TermScale::product: return std::max(biggest(0) * biggest(1), biggest(2));
    case TermScale::square: return biggest(0) * biggest(0);
    case TermScale::output: return expected.empty() || expected[0].kind != Value::Kind::tensor ? 0 : max_abs(&expected[0].tensor);
    case TermScale::all_inputs: {
      double product = 1;
      for (size_t i = 0; i < tensors.size(); ++i)
        if (tensors[i].defined() && is_floating(tensors[i].type())) product *= biggest(i);
      return product;
    }
    case TermScale::twiddled: return (1 + 2 * M_PI) * biggest(0);
  }
  return 0;
}

}  // namespace

Tolerance case_tolerance(const OpCase& c, const std::vector<Tensor>& tensors, const std::vector<Value>& expected, double rtol,
                         double atol) {
  const ElementType compute = case_compute_type(tensors, expected);
  Tolerance t{atol, rtol};
  if (compute != ElementType::float32) t.rtol = std::max(rtol, 2 * unit_roundoff(compute));
  if (c.accumulation > 1) {
    const Tolerance derived = derive_tolerance(compute, compute, c.accumulation, term_scale(c, tensors, expected));
    t.atol = std::max(atol, derived.atol);
  }
  return t;
}

}  // namespace switchyard::conformance::ops
