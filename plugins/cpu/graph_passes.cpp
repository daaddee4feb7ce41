// CPU plugin: compile-time graph rewriting (see graph_passes.h).
#include "graph_passes.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

namespace switchyard::cpu {

namespace {

const Tensor* constant_of(const Graph& g, int32_t v) {
  if (v < 0) return nullptr;
  auto it = g.initializers.find(v);
  return it == g.initializers.end() ? nullptr : &it->second;
}

bool f32_constant_numel(const Graph& g, int32_t v, int64_t n) {
  const Tensor* t = constant_of(g, v);
  return t && t->type() == ElementType::float32 && t->numel() == n;
}

bool single_output(const Node& n) {
  if (n.outputs.empty() || n.outputs[0] < 0) return false;
  for (size_t i = 1; i < n.outputs.size(); ++i)
    if (n.outputs[i] >= 0) return false;
  return true;
}

bool is_f32_value(const Graph& g, int32_t v) {
  if (v < 0) return false;
  if (const Tensor* t = constant_of(g, v)) return t->type() == ElementType::float32;
  const auto& vt = g.values[static_cast<size_t>(v)].type;
  return vt.kind == ValueType::Kind::tensor && vt.tensor.elem == ElementType::float32;
}

// Both shapes known and equal: static dims equal, or the same named symbol.
bool same_known_shape(const Graph& g, int32_t a, int32_t b) {
  auto dims_of = [&](int32_t v) -> std::optional<std::vector<Dim>> {
    if (const Tensor* t = constant_of(g, v)) {
      std::vector<Dim> d;
      for (int64_t x : t->shape()) d.push_back(Dim{x, ""});
      return d;
    }
    const auto& vt = g.values[static_cast<size_t>(v)].type;
    if (vt.kind != ValueType::Kind::tensor || !vt.tensor.shape) return std::nullopt;
    return *vt.tensor.shape;
  };
  auto da = dims_of(a), db = dims_of(b);
  if (!da || !db || da->size() != db->size() || da->empty()) return false;
  for (size_t i = 0; i < da->size(); ++i) {
    const Dim &x = (*da)[i], &y = (*db)[i];
    if (x.is_static() != y.is_static()) return false;
    if (x.is_static() ? x.value != y.value : (x.symbol.empty() || x.symbol != y.symbol)) return false;
  }
  return true;
}

// Post-ops an activation node becomes, or nothing if it cannot be fused.
std::optional<std::vector<ConvPostOp>> activation_post_ops(const Node& n, const Graph& g) {
  using K = ConvPostOp::Kind;
  if (!n.domain.empty() || !single_output(n) || n.inputs.empty()) return std::nullopt;
  try {
    if (n.op_type == "Relu" && n.inputs.size() == 1) return std::vector<ConvPostOp>{{K::relu, 0, 0}};
    if (n.op_type == "LeakyRelu" && n.inputs.size() == 1) {
      const float a = n.attr_float("alpha", 0.01f);
      if (!std::isfinite(a)) return std::nullopt;
      return std::vector<ConvPostOp>{{K::relu, a, 0}};
    }
    if (n.op_type == "Sigmoid" && n.inputs.size() == 1) return std::vector<ConvPostOp>{{K::logistic, 0, 0}};
    if (n.op_type == "HardSwish" && n.inputs.size() == 1) return std::vector<ConvPostOp>{{K::hardswish, 0, 0}};
    if (n.op_type == "HardSigmoid" && n.inputs.size() == 1) {
      const float a = n.attr_float("alpha", 0.2f), b = n.attr_float("beta", 0.5f);
      if (!std::isfinite(a) || !std::isfinite(b)) return std::nullopt;
      return std::vector<ConvPostOp>{{K::linear, a, b}, {K::clip, 0.0f, 1.0f}};
    }
    if (n.op_type == "Clip") {
      float lo = std::numeric_limits<float>::lowest(), hi = std::numeric_limits<float>::max();
      if (n.opset < 11) {
        if (n.inputs.size() != 1) return std::nullopt;
        lo = n.attr_float("min", lo);
        hi = n.attr_float("max", hi);
      } else {
        if (n.inputs.size() > 3) return std::nullopt;
        for (size_t i = 1; i < n.inputs.size(); ++i) {
          if (n.inputs[i] < 0) continue;
          const Tensor* t = constant_of(g, n.inputs[i]);
          if (!t || t->type() != ElementType::float32 || t->numel() != 1) return std::nullopt;
          (i == 1 ? lo : hi) = t->data<float>()[0];
        }
      }
      if (std::isnan(lo) || std::isnan(hi) || lo > hi) return std::nullopt;
      lo = std::max(lo, std::numeric_limits<float>::lowest());
      hi = std::min(hi, std::numeric_limits<float>::max());
      return std::vector<ConvPostOp>{{K::clip, lo, hi}};
    }
  } catch (const Error&) {
  }
  return std::nullopt;
}

bool inference_batchnorm(const Node& n, const Graph& g, int64_t M) {
  if (!n.domain.empty() || n.op_type != "BatchNormalization" || n.inputs.size() != 5) return false;
  if (n.outputs.empty() || n.outputs[0] < 0) return false;
  for (size_t i = 1; i < n.outputs.size(); ++i)
    if (n.outputs[i] >= 0) return false;
  try {
    if (n.opset >= 14 && n.attr_int("training_mode", 0) != 0) return false;
    if (n.opset < 9 && n.attr_int("spatial", 1) == 0) return false;
    const float eps = n.attr_float("epsilon", 1e-5f);
    if (!std::isfinite(eps) || eps < 0) return false;
  } catch (const Error&) {
    return false;
  }
  for (size_t i = 1; i <= 4; ++i)
    if (!f32_constant_numel(g, n.inputs[i], M)) return false;
  return true;
}

}  // namespace

namespace {
double bn_scale(const Tensor& gamma, const Tensor& var, double eps, int64_t m) {
  return static_cast<double>(gamma.data<float>()[m]) / std::sqrt(static_cast<double>(var.data<float>()[m]) + eps);
}
}  // namespace

Tensor fold_batchnorm_bias(const Tensor& bias, const Tensor& gamma, const Tensor& beta, const Tensor& mean, const Tensor& var,
                           double eps) {
  const int64_t M = mean.numel();
  Tensor out = Tensor::allocate(ElementType::float32, {M});
  float* ob = out.mutable_data<float>();
  for (int64_t m = 0; m < M; ++m) {
    const double b = bias.defined() ? static_cast<double>(bias.data<float>()[m]) : 0.0;
    ob[m] = static_cast<float>((b - static_cast<double>(mean.data<float>()[m])) * bn_scale(gamma, var, eps, m) +
                               static_cast<double>(beta.data<float>()[m]));
  }
  return out;
}

void fold_batchnorm(const Tensor& weights, const Tensor& bias, const Tensor& gamma, const Tensor& beta,
                    const Tensor& mean, const Tensor& var, double eps, Tensor& out_weights, Tensor& out_bias) {
  const int64_t M = weights.dim(0);
  const int64_t per = M > 0 ? weights.numel() / M : 0;
  out_weights = Tensor::allocate(ElementType::float32, weights.shape());
  const float* w = weights.data<float>();
  float* ow = out_weights.mutable_data<float>();
  for (int64_t m = 0; m < M; ++m) {
    const double s = bn_scale(gamma, var, eps, m);
    for (int64_t j = 0; j < per; ++j) ow[m * per + j] = static_cast<float>(static_cast<double>(w[m * per + j]) * s);
  }
  out_bias = fold_batchnorm_bias(bias, gamma, beta, mean, var, eps);
}

void fold_batchnorm_transposed(const Tensor& weights, int64_t group, const Tensor& bias, const Tensor& gamma, const Tensor& beta,
                               const Tensor& mean, const Tensor& var, double eps, Tensor& out_weights, Tensor& out_bias) {
  const int64_t C = weights.dim(0), Mg = weights.dim(1), per = Mg > 0 && C > 0 ? weights.numel() / (C * Mg) : 0;
  out_weights = Tensor::allocate(ElementType::float32, weights.shape());
  const float* w = weights.data<float>();
  float* ow = out_weights.mutable_data<float>();
  for (int64_t c = 0; c < C; ++c)
    for (int64_t j = 0; j < Mg; ++j) {
      const double s = bn_scale(gamma, var, eps, c / (C / group) * Mg + j);
      const int64_t at = (c * Mg + j) * per;
      for (int64_t k = 0; k < per; ++k) ow[at + k] = static_cast<float>(static_cast<double>(w[at + k]) * s);
    }
  out_bias = fold_batchnorm_bias(bias, gamma, beta, mean, var, eps);
}

namespace {

std::optional<Shape> known_shape(const Graph& g, int32_t v) {
  if (v < 0) return std::nullopt;
  if (const Tensor* t = constant_of(g, v)) return t->shape();
  const auto& vt = g.values[static_cast<size_t>(v)].type;
  if (vt.kind != ValueType::Kind::tensor) return std::nullopt;
  return vt.tensor.static_shape();
}

// Output spatial sizes of a Conv / pooling window (ONNX formulas); nullopt if unsure.
std::optional<Shape> window_out(const Node& n, const Shape& x, const std::vector<int64_t>& kernel, bool ceil_mode,
                                bool dilations) {
  const size_t r = x.size() - 2;
  if (kernel.size() != r) return std::nullopt;
  std::vector<int64_t> st = n.attr_ints("strides"), dil = dilations ? n.attr_ints("dilations") : std::vector<int64_t>{},
                       pads = n.attr_ints("pads");
  if (st.empty()) st.assign(r, 1);
  if (dil.empty()) dil.assign(r, 1);
  if (pads.empty()) pads.assign(2 * r, 0);
  if (st.size() != r || dil.size() != r || pads.size() != 2 * r) return std::nullopt;
  const std::string ap = n.attr_string("auto_pad", "NOTSET");
  Shape out = {x[0], 0};
  for (size_t i = 0; i < r; ++i) {
    const int64_t in = x[i + 2], s = st[i], ek = (kernel[i] - 1) * dil[i] + 1;
    if (s < 1 || dil[i] < 1 || kernel[i] < 1) return std::nullopt;
    int64_t o;
    if (ap == "SAME_UPPER" || ap == "SAME_LOWER") {
      o = (in + s - 1) / s;
    } else if (ap == "VALID" || ap == "NOTSET") {
      const int64_t pb = ap == "VALID" ? 0 : pads[i], pe = ap == "VALID" ? 0 : pads[i + r];
      const int64_t span = in + pb + pe - ek;
      if (span < 0) return std::nullopt;
      o = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
      if (ceil_mode && (o - 1) * s >= in + pb) --o;
    } else {
      return std::nullopt;
    }
    out.push_back(o);
  }
  return out;
}

// Resize's output with constant scales (floor(dim * scale), as the reference computes it) or
// constant sizes (the default "stretch" policy), on every axis; nullopt otherwise.
std::optional<Shape> resize_out(const Graph& g, const Node& n, const Shape& x) {
  if (!n.attr_ints("axes").empty() || n.attr_string("keep_aspect_ratio_policy", "stretch") != "stretch") return std::nullopt;
  const bool old = g.opset_version("") < 11;
  const Tensor* scales = constant_of(g, n.inputs.size() > (old ? 1u : 2u) ? n.inputs[old ? 1 : 2] : -1);
  const Tensor* sizes = old || n.inputs.size() < 4 ? nullptr : constant_of(g, n.inputs[3]);
  if (scales && scales->numel() == 0) scales = nullptr;
  if (sizes && sizes->numel() == 0) sizes = nullptr;
  Shape out = x;
  if (scales && !sizes && scales->type() == ElementType::float32 && scales->numel() == static_cast<int64_t>(x.size())) {
    for (size_t a = 0; a < x.size(); ++a) {
      const double s = scales->data<float>()[a];
      if (!(s > 0) || !std::isfinite(s)) return std::nullopt;
      out[a] = static_cast<int64_t>(std::floor(static_cast<double>(x[a]) * s));
    }
    return out;
  }
  if (sizes && !scales && sizes->type() == ElementType::int64 && sizes->numel() == static_cast<int64_t>(x.size())) {
    for (size_t a = 0; a < x.size(); ++a) {
      if (sizes->data<int64_t>()[a] < 0) return std::nullopt;
      out[a] = sizes->data<int64_t>()[a];
    }
    return out;
  }
  return std::nullopt;
}

// ConvTranspose's output for explicit pads (no output_shape, no auto_pad); nullopt otherwise.
std::optional<Shape> conv_transpose_out(const Node& n, const Shape& x, const Shape& w) {
  const size_t r = x.size() - 2;
  if (w.size() != x.size() || !n.attr_ints("output_shape").empty() || n.attr_string("auto_pad", "NOTSET") != "NOTSET")
    return std::nullopt;
  std::vector<int64_t> st = n.attr_ints("strides"), dil = n.attr_ints("dilations"), pads = n.attr_ints("pads"),
                       op = n.attr_ints("output_padding");
  if (st.empty()) st.assign(r, 1);
  if (dil.empty()) dil.assign(r, 1);
  if (pads.empty()) pads.assign(2 * r, 0);
  if (op.empty()) op.assign(r, 0);
  if (st.size() != r || dil.size() != r || pads.size() != 2 * r || op.size() != r) return std::nullopt;
  Shape out = {x[0], w[1] * n.attr_int("group", 1)};
  for (size_t i = 0; i < r; ++i) {
    const int64_t o = st[i] * (x[i + 2] - 1) + op[i] + (w[i + 2] - 1) * dil[i] + 1 - pads[i] - pads[i + r];
    if (o < 0) return std::nullopt;
    out.push_back(o);
  }
  return out;
}

// Concat's output: the inputs' extents along `axis` added up (all else must agree).
std::optional<Shape> concat_out(const Node& n, const std::vector<Shape>& in) {
  const int64_t rank = static_cast<int64_t>(in[0].size());
  int64_t axis = n.attr_int("axis", 0);
  if (axis < 0) axis += rank;
  if (axis < 0 || axis >= rank) return std::nullopt;
  Shape out = in[0];
  out[static_cast<size_t>(axis)] = 0;
  for (const Shape& s : in) {
    if (static_cast<int64_t>(s.size()) != rank) return std::nullopt;
    for (size_t i = 0; i < s.size(); ++i)
      if (static_cast<int64_t>(i) != axis && s[i] != out[i]) return std::nullopt;
    out[static_cast<size_t>(axis)] += s[static_cast<size_t>(axis)];
  }
  return out;
}

std::optional<Shape> infer_output(const Graph& g, const Node& n) {
  if (!n.domain.empty() || n.inputs.empty() || n.inputs[0] < 0) return std::nullopt;
  std::vector<Shape> in;
  for (int32_t v : n.inputs) {
    if (v < 0) {
      in.emplace_back();
      continue;
    }
    auto s = known_shape(g, v);
    if (!s) return std::nullopt;
    in.push_back(*s);
  }
  const std::string& op = n.op_type;
  static const std::set<std::string> same = {"Relu", "LeakyRelu", "Sigmoid", "Tanh", "Clip", "HardSigmoid", "HardSwish",
                                             "BatchNormalization", "Identity", "Softmax", "Elu", "Selu", "Softplus",
                                             "Exp", "Abs", "Neg", "Sqrt", "Erf", "Dropout", "LRN", "PRelu"};
  try {
    if (same.count(op)) return in[0];
    if (op == "Conv" && in.size() >= 2 && in[0].size() >= 3 && in[1].size() == in[0].size()) {
      auto o = window_out(n, in[0], Shape(in[1].begin() + 2, in[1].end()), false, true);
      if (o) (*o)[1] = in[1][0];
      return o;
    }
    if ((op == "MaxPool" || op == "AveragePool") && in[0].size() >= 3) {
      auto o = window_out(n, in[0], n.attr_ints("kernel_shape"), n.attr_int("ceil_mode", 0) != 0, true);
      if (o) (*o)[1] = in[0][1];
      return o;
    }
    if (op == "Resize") return resize_out(g, n, in[0]);
    if (op == "ConvTranspose" && in.size() >= 2 && in[0].size() >= 3) return conv_transpose_out(n, in[0], in[1]);
    if (op == "Concat" && !in.empty() && std::none_of(in.begin(), in.end(), [](const Shape& s) { return s.empty(); }))
      return concat_out(n, in);
    if ((op == "GlobalAveragePool" || op == "GlobalMaxPool") && in[0].size() >= 3) {
      Shape o = in[0];
      for (size_t i = 2; i < o.size(); ++i) o[i] = 1;
      return o;
    }
    if ((op == "Add" || op == "Sub" || op == "Mul" || op == "Div" || op == "Sum" || op == "Max" || op == "Min") &&
        in.size() >= 2) {
      size_t rank = 0;
      for (const auto& s : in) rank = std::max(rank, s.size());
      Shape o(rank, 1);
      for (const auto& s : in) {
        for (size_t i = 0; i < s.size(); ++i) {
          const int64_t d = s[i];
          int64_t& od = o[rank - s.size() + i];
          if (d == od || d == 1) continue;
          if (od == 1) od = d;
          else return std::nullopt;
        }
      }
      return o;
    }
  } catch (const Error&) {
  }
  return std::nullopt;
}

}  // namespace

int refine_static_shapes(Graph& g) {
  int refined = 0;
  for (const Node& n : g.nodes) {
    if (n.outputs.empty() || n.outputs[0] < 0) continue;
    auto& vt = g.values[static_cast<size_t>(n.outputs[0])].type;
    if (vt.kind != ValueType::Kind::tensor || vt.tensor.has_static_shape()) continue;
    auto s = infer_output(g, n);
    if (!s) continue;
    if (vt.tensor.shape) {
      if (vt.tensor.shape->size() != s->size()) continue;
      bool agree = true;
      for (size_t i = 0; i < s->size(); ++i)
        if ((*vt.tensor.shape)[i].is_static() && (*vt.tensor.shape)[i].value != (*s)[i]) agree = false;
      if (!agree) continue;
    }
    std::vector<Dim> dims;
    for (int64_t d : *s) dims.push_back(Dim{d, ""});
    vt.tensor.shape = dims;
    ++refined;
  }
  return refined;
}

namespace {
// The float32 scalar constant `v` holds (rank 0 or 1, so it broadcasts without changing a
// conv output's shape), if any.
std::optional<float> scalar_constant(const Graph& g, int32_t v) {
  const Tensor* t = constant_of(g, v);
  if (!t || t->type() != ElementType::float32 || t->numel() != 1 || t->rank() > 1) return std::nullopt;
  return t->data<float>()[0];
}

// The other input of a two-input node `n` that reads `v` once, or -1.
int32_t other_input(const Node& n, int32_t v) {
  if (n.inputs.size() != 2 || (n.inputs[0] == v) == (n.inputs[1] == v)) return -1;
  return n.inputs[0] == v ? n.inputs[1] : n.inputs[0];
}

bool plain_op(const Node& n, const char* op) { return n.domain.empty() && n.op_type == op && single_output(n); }

// HardSwish written out as Div(Mul(x, Clip(Add(x, 3), 0, 6)), 6) (as exported by PaddlePaddle):
// `x`'s two readers are the Add and the Mul, the other values have one reader each. Returns the
// four nodes (graph order) and the Div's output.
struct DecomposedHardSwish {
  std::vector<size_t> nodes;
  int32_t output = -1;
};
std::optional<DecomposedHardSwish> decomposed_hardswish(const Graph& g, int32_t x, const std::vector<std::vector<int64_t>>& readers,
                                                        const std::vector<int>& uses) {
  auto only_reader = [&](int32_t v) -> int64_t {
    return v >= 0 && uses[static_cast<size_t>(v)] == 1 ? readers[static_cast<size_t>(v)][0] : -1;
  };
  if (x < 0 || uses[static_cast<size_t>(x)] != 2 || readers[static_cast<size_t>(x)].size() != 2) return std::nullopt;
  int64_t add = readers[static_cast<size_t>(x)][0], mul = readers[static_cast<size_t>(x)][1];
  if (!plain_op(g.nodes[static_cast<size_t>(add)], "Add")) std::swap(add, mul);
  const Node &a = g.nodes[static_cast<size_t>(add)], &m = g.nodes[static_cast<size_t>(mul)];
  if (!plain_op(a, "Add") || !plain_op(m, "Mul") || scalar_constant(g, other_input(a, x)) != 3.0f) return std::nullopt;
  const int64_t clip = only_reader(a.outputs[0]);
  if (clip < 0) return std::nullopt;
  const Node& c = g.nodes[static_cast<size_t>(clip)];
  auto bounds = activation_post_ops(c, g);
  if (!bounds || c.op_type != "Clip" || c.inputs[0] != a.outputs[0] || (*bounds)[0].alpha != 0.0f || (*bounds)[0].beta != 6.0f ||
      other_input(m, x) != c.outputs[0])
    return std::nullopt;
  const int64_t div = only_reader(m.outputs[0]);
  if (div < 0) return std::nullopt;
  const Node& d = g.nodes[static_cast<size_t>(div)];
  if (!plain_op(d, "Div") || d.inputs.size() != 2 || d.inputs[0] != m.outputs[0] || scalar_constant(g, d.inputs[1]) != 6.0f)
    return std::nullopt;
  DecomposedHardSwish hs;
  hs.nodes = {static_cast<size_t>(add), static_cast<size_t>(clip), static_cast<size_t>(mul), static_cast<size_t>(div)};
  std::sort(hs.nodes.begin(), hs.nodes.end());
  hs.output = d.outputs[0];
  return hs;
}

// A ConvTranspose (constant float32 weights [C, M/group, k...], constant or no bias) whose
// output only an inference BatchNormalization reads: the BN folds into its weights and bias.
std::optional<ConvGroup> transposed_batchnorm_group(const Graph& g, size_t ci, const std::function<int64_t(int32_t)>& sole_consumer) {
  const Node& t = g.nodes[ci];
  if (!single_output(t) || t.inputs.size() < 2 || t.inputs.size() > 3 || !is_f32_value(g, t.inputs[0])) return std::nullopt;
  const Tensor* W = constant_of(g, t.inputs[1]);
  if (!W || W->type() != ElementType::float32 || W->rank() < 3) return std::nullopt;
  int64_t group = 1;
  try {
    group = t.attr_int("group", 1);
  } catch (const Error&) {
    return std::nullopt;
  }
  if (group < 1 || W->dim(0) % group != 0) return std::nullopt;
  const int64_t M = W->dim(1) * group;
  const int32_t bias = t.inputs.size() > 2 ? t.inputs[2] : -1;
  if (bias >= 0 && !f32_constant_numel(g, bias, M)) return std::nullopt;
  const int64_t b = sole_consumer(t.outputs[0]);
  if (b < 0 || g.nodes[static_cast<size_t>(b)].inputs[0] != t.outputs[0] || !inference_batchnorm(g.nodes[static_cast<size_t>(b)], g, M))
    return std::nullopt;
  ConvGroup grp;
  grp.conv = ci;
  grp.bn = b;
  grp.absorbed = {static_cast<size_t>(b)};
  grp.output = g.nodes[static_cast<size_t>(b)].outputs[0];
  grp.summary = "BatchNormalization folded";
  return grp;
}
}  // namespace

namespace {

// Who reads and produces each value, for plan_conv_fusions. Uses count a node reading a value twice
// twice; graph outputs and values named from nested graphs count as uses nobody may fuse away.
struct ValueUses {
  std::vector<int> uses;
  std::vector<int64_t> consumer, producer;  // the last reader, the producer (-1: none)
  std::vector<std::vector<int64_t>> readers;

  explicit ValueUses(const Graph& g);
  void count_nested_reads(const Graph& g);
};

ValueUses::ValueUses(const Graph& g)
    : uses(g.values.size(), 0), consumer(g.values.size(), -1), producer(g.values.size(), -1), readers(g.values.size()) {
  for (size_t n = 0; n < g.nodes.size(); ++n) {
    for (int32_t v : g.nodes[n].inputs)
      if (v >= 0) {
        ++uses[static_cast<size_t>(v)];
        consumer[static_cast<size_t>(v)] = static_cast<int64_t>(n);
        readers[static_cast<size_t>(v)].push_back(static_cast<int64_t>(n));
      }
    for (int32_t v : g.nodes[n].outputs)
      if (v >= 0) producer[static_cast<size_t>(v)] = static_cast<int64_t>(n);
  }
  for (int32_t o : g.outputs) uses[static_cast<size_t>(o)] += 1000;
  count_nested_reads(g);
}

void ValueUses::count_nested_reads(const Graph& g) {
  std::set<std::string> nested_names;
  for (const auto& n : g.nodes) collect_nested_value_names(n, nested_names);
  for (const auto& name : nested_names) {
    int32_t v = g.find_value(name);
    if (v >= 0) uses[static_cast<size_t>(v)] += 1000;
  }
}

// One absorbed step of a Conv's chain, so the chain can be shortened back to before it.
struct ChainStep {
  std::vector<size_t> nodes;
  size_t ops_before;
  int32_t value_before;
  bool sum;
};

// Builds the FusionPlan one Conv at a time: BatchNormalization folding, then activations and at
// most one residual Add/Sum as post-ops, shortened until oneDNN builds the chain.
class ConvFusionPlanner {
 public:
  ConvFusionPlanner(const Graph& g, const PostOpCheck& check) : g_(g), check_(check), index_(g) {
    plan_.group_of.assign(g.nodes.size(), -1);
  }
  FusionPlan run();

 private:
  int64_t sole_consumer(int32_t v) const;
  std::optional<ConvGroup> conv_group(size_t ci) const;
  void fold_batchnorm(ConvGroup& grp, int32_t bias, int64_t M, int32_t& cur) const;
  void collect_post_ops(ConvGroup& grp, std::vector<ChainStep>& steps, std::vector<ConvPostOp>& ops, int32_t& cur) const;
  bool absorb_residual_add(ConvGroup& grp, const Node& n, size_t nx, std::vector<ChainStep>& steps, std::vector<ConvPostOp>& ops,
                           int32_t& cur) const;
  void shorten_until_buildable(ConvGroup& grp, std::vector<ChainStep>& steps, std::vector<ConvPostOp>& ops, int32_t& cur) const;
  void add_group(size_t ci, ConvGroup grp);

  const Graph& g_;
  const PostOpCheck& check_;
  ValueUses index_;
  FusionPlan plan_;
};

FusionPlan ConvFusionPlanner::run() {
  auto sole = [this](int32_t v) { return sole_consumer(v); };
  for (size_t ci = 0; ci < g_.nodes.size(); ++ci) {
    const Node& conv = g_.nodes[ci];
    if (conv.domain.empty() && conv.op_type == "ConvTranspose") {
      if (auto grp = transposed_batchnorm_group(g_, ci, sole)) add_group(ci, std::move(*grp));
      continue;
    }
    if (auto grp = conv_group(ci)) add_group(ci, std::move(*grp));
  }
  return std::move(plan_);
}

int64_t ConvFusionPlanner::sole_consumer(int32_t v) const {
  if (v < 0 || index_.uses[static_cast<size_t>(v)] != 1) return -1;
  int64_t c = index_.consumer[static_cast<size_t>(v)];
  return c >= 0 && plan_.group_of[static_cast<size_t>(c)] < 0 ? c : -1;
}

// The group a Conv at `ci` heads, or nullopt when it absorbs nothing (or is no fusible Conv).
std::optional<ConvGroup> ConvFusionPlanner::conv_group(size_t ci) const {
  const Node& conv = g_.nodes[ci];
  if (!conv.domain.empty() || conv.op_type != "Conv" || !single_output(conv)) return std::nullopt;
  if (conv.inputs.size() < 2 || conv.inputs.size() > 3 || conv.inputs[0] < 0) return std::nullopt;
  const Tensor* W = constant_of(g_, conv.inputs[1]);
  if (!W || W->type() != ElementType::float32 || W->rank() < 3 || !is_f32_value(g_, conv.inputs[0])) return std::nullopt;
  const int32_t bias = conv.inputs.size() > 2 ? conv.inputs[2] : -1;
  if (!check_(conv, g_, {})) return std::nullopt;

  ConvGroup grp;
  grp.conv = ci;
  int32_t cur = conv.outputs[0];
  fold_batchnorm(grp, bias, W->dim(0), cur);
  std::vector<ChainStep> steps;
  std::vector<ConvPostOp> ops;
  collect_post_ops(grp, steps, ops, cur);
  shorten_until_buildable(grp, steps, ops, cur);
  std::set<size_t> sum_nodes;
  for (const auto& s : steps) {
    grp.absorbed.insert(grp.absorbed.end(), s.nodes.begin(), s.nodes.end());
    if (s.sum) sum_nodes.insert(s.nodes[0]);
  }
  if (grp.absorbed.empty()) return std::nullopt;
  grp.post_ops = ops;
  grp.output = cur;
  for (size_t a : grp.absorbed) {
    const Node& n = g_.nodes[a];
    grp.summary += (grp.summary.empty() ? "" : ", ") + n.op_type +
                   (static_cast<int64_t>(a) == grp.bn ? " folded" : sum_nodes.count(a) ? " (sum)" : "");
  }
  return grp;
}

// 1. BatchNormalization folding (needs constant weights and bias).
void ConvFusionPlanner::fold_batchnorm(ConvGroup& grp, int32_t bias, int64_t M, int32_t& cur) const {
  const int64_t b = sole_consumer(cur);
  if (b < 0 || g_.nodes[static_cast<size_t>(b)].inputs[0] != cur) return;
  if ((bias >= 0 && !f32_constant_numel(g_, bias, M)) || !inference_batchnorm(g_.nodes[static_cast<size_t>(b)], g_, M)) return;
  grp.bn = b;
  grp.absorbed.push_back(static_cast<size_t>(b));
  cur = g_.nodes[static_cast<size_t>(b)].outputs[0];
}

// 2. Activations and at most one residual Add/Sum.
void ConvFusionPlanner::collect_post_ops(ConvGroup& grp, std::vector<ChainStep>& steps, std::vector<ConvPostOp>& ops,
                                         int32_t& cur) const {
  while (ops.size() < 6) {
    if (auto hs = decomposed_hardswish(g_, cur, index_.readers, index_.uses)) {
      bool free = true;
      for (size_t a : hs->nodes) free = free && plan_.group_of[a] < 0;
      if (free) {
        steps.push_back({hs->nodes, ops.size(), cur, false});
        ops.push_back({ConvPostOp::Kind::hardswish, 0, 0});
        cur = hs->output;
        continue;
      }
    }
    int64_t nx = sole_consumer(cur);
    if (nx < 0) break;
    const Node& n = g_.nodes[static_cast<size_t>(nx)];
    if (n.inputs.empty()) break;
    if (auto act = activation_post_ops(n, g_); act && n.inputs[0] == cur) {
      steps.push_back({{static_cast<size_t>(nx)}, ops.size(), cur, false});
      ops.insert(ops.end(), act->begin(), act->end());
      cur = n.outputs[0];
      continue;
    }
    if (!absorb_residual_add(grp, n, static_cast<size_t>(nx), steps, ops, cur)) break;
  }
}

// An Add/Sum of the chain's value and an earlier value Z of the same shape becomes a sum post-op.
bool ConvFusionPlanner::absorb_residual_add(ConvGroup& grp, const Node& n, size_t nx, std::vector<ChainStep>& steps,
                                            std::vector<ConvPostOp>& ops, int32_t& cur) const {
  const bool add_like = n.domain.empty() && (n.op_type == "Add" || n.op_type == "Sum") && n.inputs.size() == 2 && single_output(n);
  if (!add_like || grp.sum_value >= 0) return false;
  const int32_t z = n.inputs[0] == cur ? n.inputs[1] : n.inputs[0];
  if (z < 0 || z == cur || (n.inputs[0] != cur && n.inputs[1] != cur) || !is_f32_value(g_, z) ||
      index_.producer[static_cast<size_t>(z)] >= static_cast<int64_t>(grp.conv) || !same_known_shape(g_, z, cur) ||
      !same_known_shape(g_, z, n.outputs[0]))
    return false;
  bool in_chain = false;  // z must not be a value of this group
  for (const auto& s : steps) in_chain = in_chain || s.value_before == z;
  if (in_chain || z == g_.nodes[grp.conv].outputs[0]) return false;
  steps.push_back({{nx}, ops.size(), cur, true});
  ops.push_back({ConvPostOp::Kind::sum, 1.0f, 0.0f});
  grp.sum_value = z;
  cur = n.outputs[0];
  return true;
}

// 3. Shorten the chain until oneDNN builds it.
void ConvFusionPlanner::shorten_until_buildable(ConvGroup& grp, std::vector<ChainStep>& steps, std::vector<ConvPostOp>& ops,
                                                int32_t& cur) const {
  while (!steps.empty()) {
    Node probe = g_.nodes[grp.conv];
    if (grp.sum_value >= 0) {
      probe.inputs.resize(3, -1);
      probe.inputs.push_back(grp.sum_value);
    }
    if (check_(probe, g_, ops)) break;
    const ChainStep last = steps.back();
    steps.pop_back();
    ops.resize(last.ops_before);
    cur = last.value_before;
    if (last.sum) grp.sum_value = -1;
  }
}

void ConvFusionPlanner::add_group(size_t ci, ConvGroup grp) {
  const int64_t gi = static_cast<int64_t>(plan_.groups.size());
  plan_.group_of[ci] = gi;
  for (size_t a : grp.absorbed) plan_.group_of[a] = gi;
  plan_.groups.push_back(std::move(grp));
}

}  // namespace

FusionPlan plan_conv_fusions(const Graph& g, const PostOpCheck& check) { return ConvFusionPlanner(g, check).run(); }

std::vector<ConvPostOp> fused_post_ops(const Node& node) {
  std::vector<ConvPostOp> out;
  const std::vector<float> f = node.attr_floats("post_ops");
  for (size_t i = 0; i + 3 <= f.size(); i += 3) {
    ConvPostOp op;
    op.kind = static_cast<ConvPostOp::Kind>(static_cast<int>(f[i]));
    op.alpha = f[i + 1];
    op.beta = f[i + 2];
    out.push_back(op);
  }
  return out;
}

RewrittenGraph apply_conv_fusions(const Graph& g, FusionPlan plan, const std::function<bool(int64_t exec_node)>& weights_prepared) {
  RewrittenGraph r;
  Graph& x = r.graph;
  x.name = g.name;
  x.values = g.values;
  x.inputs = g.inputs;
  x.outputs = g.outputs;
  x.initializers = g.initializers;
  x.opsets = g.opsets;
  r.exec_node.assign(g.nodes.size(), -1);
  r.role.assign(g.nodes.size(), "");
  r.note.assign(g.nodes.size(), "");
  auto unique_value = [&](const std::string& base, const Tensor& t) {
    std::string name = base;
    for (int i = 1; x.find_value(name) >= 0; ++i) name = base + "#" + std::to_string(i);
    ValueType vt;
    vt.kind = ValueType::Kind::tensor;
    vt.tensor.elem = ElementType::float32;
    std::vector<Dim> dims;
    for (int64_t d : t.shape()) dims.push_back(Dim{d, ""});
    vt.tensor.shape = dims;
    int32_t id = x.add_value(name, vt);
    x.initializers[id] = t;
    return id;
  };
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const int64_t gi = plan.group_of[i];
    if (gi < 0) {
      r.exec_node[i] = static_cast<int64_t>(x.nodes.size());
      r.group_of_exec.push_back(-1);
      x.nodes.push_back(g.nodes[i]);
      continue;
    }
    const ConvGroup& grp = plan.groups[static_cast<size_t>(gi)];
    const Node& conv = g.nodes[grp.conv];
    if (i != grp.conv) continue;  // absorbed: filled below
    // A ConvTranspose keeps its op (BN folded into it); a Conv becomes a FusedConv.
    const bool transposed = conv.op_type == "ConvTranspose";
    Node f;
    f.name = conv.name;
    f.domain = transposed ? conv.domain : kFusedDomain;
    f.op_type = transposed ? conv.op_type : kFusedConvOp;
    f.opset = conv.opset;
    f.attributes = conv.attributes;
    int32_t w = conv.inputs[1];
    int32_t b = conv.inputs.size() > 2 ? conv.inputs[2] : -1;
    if (grp.bn >= 0) {
      const Node& bn = g.nodes[static_cast<size_t>(grp.bn)];
      const Tensor* bias = constant_of(g, b);
      const Tensor no_bias;
      const Tensor &gamma = *constant_of(g, bn.inputs[1]), &beta = *constant_of(g, bn.inputs[2]), &mean = *constant_of(g, bn.inputs[3]),
                   &var = *constant_of(g, bn.inputs[4]);
      const double eps = static_cast<double>(bn.attr_float("epsilon", 1e-5f));
      const std::string base = g.value_name(conv.outputs[0]);
      if (weights_prepared && weights_prepared(static_cast<int64_t>(x.nodes.size()))) {
        b = unique_value(base + "::bn_folded_bias", fold_batchnorm_bias(bias ? *bias : no_bias, gamma, beta, mean, var, eps));
      } else {
        Tensor nw, nb;
        if (transposed)
          fold_batchnorm_transposed(*constant_of(g, w), conv.attr_int("group", 1), bias ? *bias : no_bias, gamma, beta, mean, var,
                                    eps, nw, nb);
        else
          fold_batchnorm(*constant_of(g, w), bias ? *bias : no_bias, gamma, beta, mean, var, eps, nw, nb);
        w = unique_value(base + "::bn_folded_weights", nw);
        b = unique_value(base + "::bn_folded_bias", nb);
      }
    }
    f.inputs = {conv.inputs[0], w, b};
    if (grp.sum_value >= 0) f.inputs.push_back(grp.sum_value);
    f.outputs = {grp.output};
    Attribute ops;
    ops.name = "post_ops";
    ops.type = Attribute::Type::floats;
    for (const auto& op : grp.post_ops) {
      ops.floats.push_back(static_cast<float>(static_cast<int>(op.kind)));
      ops.floats.push_back(op.alpha);
      ops.floats.push_back(op.beta);
    }
    if (!transposed) f.attributes.push_back(ops);
    const int64_t idx = static_cast<int64_t>(x.nodes.size());
    r.group_of_exec.push_back(gi);
    x.nodes.push_back(std::move(f));
    r.exec_node[i] = idx;
    r.role[i] = "fused";
    r.note[i] = "runs fused with " + grp.summary;
    for (size_t a : grp.absorbed) {
      r.exec_node[a] = idx;
      r.role[a] = static_cast<int64_t>(a) == grp.bn ? "folded" : "absorbed";
      r.note[a] = std::string(static_cast<int64_t>(a) == grp.bn ? "folded into " : "fused as a post-op into ") + conv.describe();
    }
  }
  r.plan = std::move(plan);
  return r;
}

}  // namespace switchyard::cpu
