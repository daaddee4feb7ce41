// OpenCL plugin: lowering. Every node becomes zero or more kernel launches on programs
// specialised with its static shapes; reshape-like nodes become aliases (no copy).
// The support query runs the same code on a scratch schedule and reports why it refuses.
#include "lowering.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <optional>
#include <sstream>

#include "kernels_cl.h"

namespace switchyard::opencl {

namespace {

// A refusal: the support reason and a precise message.
struct Refusal {
  sy_support_reason reason;
  std::string message;
};

[[noreturn]] void refuse(sy_support_reason reason, const std::string& message) { throw Refusal{reason, message}; }

std::string shape_str(const Shape& s) { return shape_to_string(s); }

// Build options: "-DNAME=value" pairs.
class Opts {
 public:
  Opts& i(const char* name, int64_t v) {
    out_ << " -D" << name << "=" << v;
    return *this;
  }
  Opts& f(const char* name, float v) {
    out_ << " -D" << name << "=";
    if (std::isnan(v)) out_ << "NAN";
    else if (std::isinf(v)) out_ << (v > 0 ? "INFINITY" : "(-INFINITY)");
    else {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%af", static_cast<double>(v));  // exact (hex float literal)
      out_ << (v < 0 ? "(" : "") << buf << (v < 0 ? ")" : "");
    }
    return *this;
  }
  Opts& s(const char* name, const std::string& v) {
    out_ << " -D" << name << "=" << v;
    return *this;
  }
  std::string str() const { return out_.str().substr(1); }

 private:
  std::ostringstream out_;
};

// Element storage type (by size) for the copy kernels.
std::optional<std::string> storage_type(int32_t elem) {
  auto t = element_type_from_int(elem);
  if (!t || *t == ElementType::string || is_sub_byte(*t)) return std::nullopt;
  switch (element_bits(*t)) {
    case 8: return "uchar";
    case 16: return "ushort";
    case 32: return "uint";
    case 64: return "ulong";
    default: return std::nullopt;
  }
}

Shape contiguous_strides(const Shape& s) {
  Shape st(s.size(), 1);
  for (int64_t d = static_cast<int64_t>(s.size()) - 2; d >= 0; --d) st[d] = st[d + 1] * s[d + 1];
  return st;
}

int64_t numel(const Shape& s) {
  int64_t n = 1;
  for (auto d : s) n *= d;
  return n;
}

// Pads (dims, strides) at the front to rank 6 with size 1 / stride 0.
void pad6(Shape& dims, Shape& strides) {
  while (dims.size() < kMaxKernelRank) {
    dims.insert(dims.begin(), 1);
    strides.insert(strides.begin(), 0);
  }
}

class Lowerer {
 public:
  Lowerer(const Graph& g, const DeviceLimits& limits, KernelSchedule& schedule) : g_(g), limits_(limits), schedule_(schedule) {
    schedule_.num_nodes = static_cast<uint32_t>(g.nodes.size());
    schedule_.num_values = static_cast<uint32_t>(g.values.size());
    schedule_.bindings.assign(g.values.size(), Binding{});
    def_node_.assign(g.values.size(), -1);
    for (size_t i = 0; i < g.inputs.size(); ++i) schedule_.bindings[g.inputs[i]] = {Binding::input, static_cast<int32_t>(i)};
    for (const auto& [id, t] : g.initializers) {
      schedule_.bindings[id] = {Binding::initializer, id};
      constants_[id] = t;
    }
  }

  void lower_node(size_t index);
  void finish();  // outputs and the buffer schedule
  // The initializers whose values the schedule is specialised on (may repeat).
  const std::vector<int32_t>& baked_initializers() const { return baked_; }

 private:
  // --- value access ---
  const TensorType& ttype(int32_t v) const {
    const auto& vt = g_.values.at(v).type;
    if (vt.kind != ValueType::Kind::tensor)
      refuse(SY_UNSUPPORTED_OTHER, "value '" + g_.value_name(v) + "' is not a tensor (sequences and optionals stay on the host)");
    return vt.tensor;
  }
  Shape shape(int32_t v) const {
    const auto& t = ttype(v);
    if (!t.shape) refuse(SY_UNSUPPORTED_SHAPE, "value '" + g_.value_name(v) + "' has an unknown rank; shapes must be static at compile time");
    Shape s;
    for (const auto& d : *t.shape) {
      if (!d.is_static())
        refuse(SY_UNSUPPORTED_SHAPE, "value '" + g_.value_name(v) + "' has dynamic dim '" + (d.symbol.empty() ? "?" : d.symbol) +
                                         "' (" + t.to_string() + "); kernels are specialised for static shapes");
      s.push_back(d.value);
    }
    if (s.size() > kMaxKernelRank)
      refuse(SY_UNSUPPORTED_SHAPE, "value '" + g_.value_name(v) + "' has rank " + std::to_string(s.size()) + " (at most " +
                                       std::to_string(kMaxKernelRank) + ")");
    auto n = shape_numel(s);
    if (!n || *n >= (int64_t{1} << 31))
      refuse(SY_UNSUPPORTED_SIZE_LIMIT, "value '" + g_.value_name(v) + "' " + shape_str(s) + " has 2^31 elements or more (32-bit indexing)");
    auto bytes = storage_bytes(t.elem, *n);
    if (bytes && limits_.max_allocation_bytes && *bytes > limits_.max_allocation_bytes)
      refuse(SY_UNSUPPORTED_SIZE_LIMIT, "value '" + g_.value_name(v) + "' needs " + std::to_string(*bytes) +
                                            " bytes, above CL_DEVICE_MAX_MEM_ALLOC_SIZE (" + std::to_string(limits_.max_allocation_bytes) + ")");
    return s;
  }
  int32_t elem(int32_t v) const { return static_cast<int32_t>(ttype(v).elem); }
  void need_float(int32_t v) const {
    auto e = ttype(v).elem;
    if (e != ElementType::float32 && e != ElementType::float16)
      refuse(SY_UNSUPPORTED_ELEMENT_TYPE, "value '" + g_.value_name(v) + "' is " + std::string(element_type_name(e)) +
                                              "; compute kernels are float32 and float16 only");
  }
  bool is_half(int32_t v) const { return ttype(v).elem == ElementType::float16; }
  // -D<letter>_HALF=1 for a float16 argument (kernels_cl.h prologue).
  void half_arg(Opts& o, const char* macro, int32_t v) const {
    if (is_half(v)) o.i(macro, 1);
  }
  int32_t in(size_t i) const {
    if (i >= node_->inputs.size() || node_->inputs[i] < 0) refuse(SY_UNSUPPORTED_OTHER, "input " + std::to_string(i) + " is missing");
    return node_->inputs[i];
  }
  bool has_in(size_t i) const { return i < node_->inputs.size() && node_->inputs[i] >= 0; }
  int32_t out(size_t i) const {
    if (i >= node_->outputs.size() || node_->outputs[i] < 0) refuse(SY_UNSUPPORTED_OTHER, "output " + std::to_string(i) + " is missing");
    return node_->outputs[i];
  }
  void only_outputs(size_t n) const {
    for (size_t i = n; i < node_->outputs.size(); ++i)
      if (node_->outputs[i] >= 0)
        refuse(SY_UNSUPPORTED_OTHER, "optional output " + std::to_string(i) + " ('" + g_.value_name(node_->outputs[i]) + "') is not produced by the OpenCL kernel");
  }
  const Tensor& constant(int32_t v, const char* what) const {
    auto it = constants_.find(v);
    if (it == constants_.end())
      refuse(SY_UNSUPPORTED_OTHER, std::string(what) + " ('" + g_.value_name(v) + "') must be a constant (initializer) at compile time");
    if (g_.is_initializer(v)) baked_.push_back(v);
    return it->second;
  }
  std::vector<int64_t> const_ints(int32_t v, const char* what) const {
    const Tensor& t = constant(v, what);
    std::vector<int64_t> r;
    if (t.type() == ElementType::int64) r.assign(t.data<int64_t>(), t.data<int64_t>() + t.numel());
    else if (t.type() == ElementType::int32) r.assign(t.data<int32_t>(), t.data<int32_t>() + t.numel());
    else refuse(SY_UNSUPPORTED_ELEMENT_TYPE, std::string(what) + " must be int32 or int64");
    return r;
  }
  std::vector<float> const_floats(int32_t v, const char* what) const {
    const Tensor& t = constant(v, what);
    if (t.type() == ElementType::float16) {
      std::vector<float> r;
      for (int64_t i = 0; i < t.numel(); ++i) r.push_back(half_bits_to_float(t.data<uint16_t>()[i]));
      return r;
    }
    if (t.type() != ElementType::float32) refuse(SY_UNSUPPORTED_ELEMENT_TYPE, std::string(what) + " must be float32 or float16");
    return std::vector<float>(t.data<float>(), t.data<float>() + t.numel());
  }
  std::string attr_s(const char* name, const char* fallback) const { return node_->attr_string(name, fallback); }
  int64_t attr_i(const char* name, int64_t fallback) const { return node_->attr_int(name, fallback); }
  float attr_f(const char* name, float fallback) const { return node_->attr_float(name, fallback); }
  std::vector<int64_t> attr_is(const char* name) const { return node_->attr_ints(name); }
  void bad_attr(const std::string& what) const { refuse(SY_UNSUPPORTED_ATTRIBUTE, what); }
  int64_t norm_axis(int64_t axis, int64_t rank) const {
    if (axis < -rank || axis >= rank) refuse(SY_UNSUPPORTED_ATTRIBUTE, "axis " + std::to_string(axis) + " out of range for rank " + std::to_string(rank));
    return axis < 0 ? axis + rank : axis;
  }

  // --- schedule building ---
  uint32_t program(Source s, const std::string& options) {
    auto key = std::make_pair(static_cast<uint32_t>(s), options);
    auto it = programs_.find(key);
    if (it != programs_.end()) return it->second;
    uint32_t idx = static_cast<uint32_t>(schedule_.programs.size());
    schedule_.programs.push_back({static_cast<uint32_t>(s), options, {}});
    programs_[key] = idx;
    return idx;
  }
  void launch(Source s, const Opts& o, std::vector<ArgRef> args, uint64_t n) {
    Launch l;
    l.program = program(s, o.str());
    l.args = std::move(args);
    l.global[0] = n;
    l.node = node_->describe();
    pending_.push_back(std::move(l));
  }
  static ArgRef val(int32_t v) { return {ArgRef::value, v}; }
  // A transformed copy of initializer v (deduplicated per recipe), staged with the node.
  ArgRef derived(int32_t v, uint32_t kind, std::vector<int64_t> params) {
    for (size_t i = 0; i < schedule_.derived.size(); ++i)
      if (schedule_.derived[i].value == v && schedule_.derived[i].kind == kind && schedule_.derived[i].params == params)
        return {ArgRef::derived, static_cast<int32_t>(i)};
    for (size_t i = 0; i < new_derived_.size(); ++i)
      if (new_derived_[i].value == v && new_derived_[i].kind == kind && new_derived_[i].params == params)
        return {ArgRef::derived, static_cast<int32_t>(schedule_.derived.size() + i)};
    new_derived_.push_back({v, kind, std::move(params)});
    return {ArgRef::derived, static_cast<int32_t>(schedule_.derived.size() + new_derived_.size() - 1)};
  }
  void produce(int32_t v) { produced_.push_back(v); }
  void alias(int32_t v, int32_t src) { aliases_.emplace_back(v, src); }

  // --- ops ---
  void unary(int code, float p0 = 0, float p1 = 0);
  void binary(int code);
  void conv();
  void gemm();
  void matmul();
  void pool(bool is_max, bool global);
  void batchnorm();
  void softmax(bool log);
  void reduce(int code);
  void concat();
  void split();
  void slice();
  void transpose();
  void expand();
  void reshape_like();
  void gather();
  void pad();
  void resize();
  void constant_node();
  void cast(bool like);
  void shape_node();
  void copy_box(int32_t src, int32_t dst, Shape dims, Shape src_strides, int64_t src_base, Shape dst_strides, int64_t dst_base);
  void matmul_launch(int32_t a, int32_t b, int32_t c, int32_t y, int64_t M, int64_t N, int64_t K, bool ta, bool tb, float alpha,
                     float beta, int64_t csm, int64_t csn, const std::vector<int32_t>& offs);

  const Graph& g_;
  DeviceLimits limits_;
  KernelSchedule& schedule_;
  const Node* node_ = nullptr;
  std::map<std::pair<uint32_t, std::string>, uint32_t> programs_;
  std::map<int32_t, Tensor> constants_;
  // Initializers constant() read: their values are baked into the schedule (options, shapes),
  // so restore must get the same values (GraphFingerprint::baked). Recorded by a const reader.
  mutable std::vector<int32_t> baked_;
  std::vector<int> def_node_;
  std::vector<int> launch_node_;
  // Per-node staging (committed only when the node lowers completely).
  std::vector<Launch> pending_;
  std::vector<int32_t> produced_;
  std::vector<std::pair<int32_t, int32_t>> aliases_;
  std::vector<std::pair<int32_t, Tensor>> new_constants_;
  std::vector<DerivedWeight> new_derived_;
  std::vector<std::vector<uint8_t>> pending_aux_;
};

void Lowerer::unary(int code, float p0, float p1) {
  int32_t x = in(0), y = out(0);
  need_float(x);
  need_float(y);
  Shape sx = shape(x), sy = shape(y);
  if (sx != sy) refuse(SY_UNSUPPORTED_SHAPE, "output shape " + shape_str(sy) + " differs from input " + shape_str(sx));
  only_outputs(1);
  int64_t n = numel(sy);
  Opts o;
  o.i("N", n).i("OP", code).f("P0", p0).f("P1", p1);
  half_arg(o, "A_HALF", x);
  half_arg(o, "Y_HALF", y);
  launch(Source::unary, o, {val(x), val(y)}, n);
  produce(y);
}

void Lowerer::binary(int code) {
  int32_t y = out(0);
  need_float(y);
  Shape sy = shape(y);
  only_outputs(1);
  size_t count = 0;
  for (size_t i = 0; i < node_->inputs.size(); ++i) {
    if (node_->inputs[i] < 0) refuse(SY_UNSUPPORTED_OTHER, "input " + std::to_string(i) + " is missing");
    need_float(node_->inputs[i]);
    ++count;
  }
  if (count == 0) refuse(SY_UNSUPPORTED_OTHER, "no inputs");
  const int64_t n = numel(sy);
  auto strides_for = [&](int32_t v) {
    Shape s = shape(v);
    if (s.size() > sy.size()) refuse(SY_UNSUPPORTED_SHAPE, "input '" + g_.value_name(v) + "' has a higher rank than the output");
    Shape st = contiguous_strides(s), out_st(sy.size(), 0);
    size_t off = sy.size() - s.size();
    for (size_t d = 0; d < s.size(); ++d) {
      if (s[d] == sy[off + d]) out_st[off + d] = s[d] == 1 ? 0 : st[d];
      else if (s[d] == 1) out_st[off + d] = 0;
      else refuse(SY_UNSUPPORTED_SHAPE, "input '" + g_.value_name(v) + "' " + shape_str(s) + " does not broadcast to " + shape_str(sy));
    }
    return out_st;
  };
  if (count == 1) {  // Sum/Max/Min of one input: a copy
    int32_t x = in(0);
    if (shape(x) != sy) refuse(SY_UNSUPPORTED_SHAPE, "single input must have the output's shape");
    Opts o;
    o.i("N", n).i("OP", 0).f("P0", 0).f("P1", 0);
    half_arg(o, "A_HALF", x);
    half_arg(o, "Y_HALF", y);
    launch(Source::unary, o, {val(x), val(y)}, n);
    produce(y);
    return;
  }
  int32_t acc = in(0);
  for (size_t i = 1; i < count; ++i) {
    int32_t b = in(i);
    Shape d = sy, sa = (i == 1) ? strides_for(acc) : contiguous_strides(sy), sb = strides_for(b);
    pad6(d, sa);
    Shape d2 = sy;
    pad6(d2, sb);
    Opts o;
    o.i("N", n).i("OP", code);
    const char* dn[] = {"D0", "D1", "D2", "D3", "D4", "D5"};
    const char* an[] = {"SA0", "SA1", "SA2", "SA3", "SA4", "SA5"};
    const char* bn[] = {"SB0", "SB1", "SB2", "SB3", "SB4", "SB5"};
    for (int k = 0; k < kMaxKernelRank; ++k) o.i(dn[k], d[k]).i(an[k], sa[k]).i(bn[k], sb[k]);
    half_arg(o, "A_HALF", acc);
    half_arg(o, "B_HALF", b);
    half_arg(o, "Y_HALF", y);
    launch(Source::binary, o, {val(acc), val(b), val(y)}, n);
    acc = y;
  }
  produce(y);
}

void Lowerer::conv() {
  int32_t x = in(0), w = in(1), y = out(0);
  need_float(x);
  need_float(w);
  need_float(y);
  only_outputs(1);
  Shape sx = shape(x), sw = shape(w), sy = shape(y);
  if (sx.size() != 3 && sx.size() != 4) refuse(SY_UNSUPPORTED_SHAPE, "Conv input rank " + std::to_string(sx.size()) + " (1-D and 2-D only)");
  const bool one_d = sx.size() == 3;
  if (sw.size() != sx.size() || sy.size() != sx.size()) refuse(SY_UNSUPPORTED_SHAPE, "weight/output rank differs from the input's");
  const int64_t spatial = one_d ? 1 : 2;
  int64_t group = attr_i("group", 1);
  const int64_t N = sx[0], C = sx[1], M = sw[0];
  if (group <= 0 || C % group || M % group || sw[1] != C / group) bad_attr("group=" + std::to_string(group) + " does not divide the channels");
  auto ks = attr_is("kernel_shape");
  if (!ks.empty() && (int64_t)ks.size() != spatial) bad_attr("kernel_shape has the wrong length");
  Shape k(sw.begin() + 2, sw.end());
  auto strides = attr_is("strides"), dil = attr_is("dilations"), pads = attr_is("pads");
  if (strides.empty()) strides.assign(spatial, 1);
  if (dil.empty()) dil.assign(spatial, 1);
  if ((int64_t)strides.size() != spatial || (int64_t)dil.size() != spatial) bad_attr("strides/dilations have the wrong length");
  std::string auto_pad = attr_s("auto_pad", "NOTSET");
  Shape in_sp(sx.begin() + 2, sx.end());
  std::vector<int64_t> pb(spatial, 0), pe(spatial, 0);
  if (auto_pad == "NOTSET") {
    if (!pads.empty()) {
      if ((int64_t)pads.size() != 2 * spatial) bad_attr("pads has the wrong length");
      for (int64_t d = 0; d < spatial; ++d) pb[d] = pads[d], pe[d] = pads[d + spatial];
    }
  } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    for (int64_t d = 0; d < spatial; ++d) {
      int64_t o = (in_sp[d] + strides[d] - 1) / strides[d];
      int64_t total = std::max<int64_t>(0, (o - 1) * strides[d] + (k[d] - 1) * dil[d] + 1 - in_sp[d]);
      pb[d] = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
      pe[d] = total - pb[d];
    }
  } else if (auto_pad != "VALID") {
    bad_attr("auto_pad=" + auto_pad);
  }
  for (int64_t d = 0; d < spatial; ++d) {
    if (strides[d] <= 0 || dil[d] <= 0 || pb[d] < 0 || pe[d] < 0) bad_attr("non-positive stride/dilation or negative pad");
    int64_t o = (in_sp[d] + pb[d] + pe[d] - ((k[d] - 1) * dil[d] + 1)) / strides[d] + 1;
    if (o != sy[2 + d]) refuse(SY_UNSUPPORTED_SHAPE, "declared output " + shape_str(sy) + " does not match the computed spatial size " + std::to_string(o));
  }
  if (sy[0] != N || sy[1] != M) refuse(SY_UNSUPPORTED_SHAPE, "declared output " + shape_str(sy) + " does not match N/M");
  bool bias = has_in(2);
  if (bias) {
    need_float(in(2));
    if (shape(in(2)) != Shape{M}) refuse(SY_UNSUPPORTED_SHAPE, "bias must have shape [M]");
  }
  auto sp = [&](const Shape& s, int64_t d2) { return one_d ? (d2 == 0 ? int64_t{1} : s[0]) : s[d2]; };
  const int64_t H = sp(in_sp, 0), W = sp(in_sp, 1), KH = sp(k, 0), KW = sp(k, 1);
  Shape outsp(sy.begin() + 2, sy.end());
  const int64_t OH = sp(outsp, 0), OW = sp(outsp, 1);
  auto pick = [&](const std::vector<int64_t>& v, int64_t d2, int64_t one) { return one_d ? (d2 == 0 ? one : v[0]) : v[d2]; };
  const int64_t SH = pick(strides, 0, 1), SW = pick(strides, 1, 1), DH = pick(dil, 0, 1), DW = pick(dil, 1, 1);
  const int64_t PT = pick(pb, 0, 0), PL = pick(pb, 1, 0), PB = pick(pe, 0, 0), PR = pick(pe, 1, 0);
  const int64_t CG = C / group, MG = M / group;
  Opts o;
  o.i("C", C).i("H", H).i("W", W).i("M", M).i("OH", OH).i("OW", OW).i("KH", KH).i("KW", KW);
  o.i("SH", SH).i("SW", SW).i("DH", DH).i("DW", DW).i("PT", PT).i("PL", PL).i("CG", CG).i("MG", MG).i("HAS_BIAS", bias ? 1 : 0);
  half_arg(o, "A_HALF", x);
  half_arg(o, "B_HALF", w);
  if (bias) half_arg(o, "C_HALF", in(2));
  half_arg(o, "Y_HALF", y);
  std::vector<ArgRef> args = {val(x), val(w), val(bias ? in(2) : w), val(y)};
  if (numel(sy) == 0) {
    produce(y);
    return;
  }
  if (CG == 1 && MG == 1) {  // depthwise: OWB outputs of a row per work item
    const int64_t owb = std::min<int64_t>(OW, 8);
    o.i("N", N).i("OWB", owb);
    launch(Source::dwconv, o, args, N * M * OH * ((OW + owb - 1) / owb));
  } else if (g_.initializers.count(w) && numel(sw) > 0) {
    // Register-blocked kernel on weights transformed at build time (DerivedWeight::conv).
    // VW output channels (one float16 vector when the group has >= 16) x TP pixels per work
    // item; measured on PoCL (docs/opencl.md): 16 x 8 beats 8 x 8, 8 x 4 and 8 x 16.
    const int64_t vw = MG >= 16 ? 16 : MG > 4 ? 8 : 4;
    const int64_t tp = 8;
    const int64_t mgp = (MG + vw - 1) / vw * vw;
    const bool nopad = PT == 0 && PL == 0 && PB == 0 && PR == 0;
    o.i("G", group).i("VW", vw).i("TP", tp).i("MGP", mgp).i("NOPAD", nopad);
    args[1] = derived(w, DerivedWeight::conv, {M, CG, KH, KW, group, vw});
    Launch l;
    l.program = program(Source::conv_tiled, o.str());
    l.args = args;
    l.work_dims = 3;
    l.global[0] = static_cast<uint64_t>((OH * OW + tp - 1) / tp);
    l.global[1] = static_cast<uint64_t>(mgp / vw);
    l.global[2] = static_cast<uint64_t>(N * group);
    l.node = node_->describe();
    pending_.push_back(std::move(l));
  } else {
    o.i("TOTAL", numel(sy));
    launch(Source::conv, o, args, numel(sy));
  }
  produce(y);
}

void Lowerer::matmul_launch(int32_t a, int32_t b, int32_t c, int32_t y, int64_t M, int64_t N, int64_t K, bool ta, bool tb, float alpha,
                            float beta, int64_t csm, int64_t csn, const std::vector<int32_t>& offs) {
  const int64_t vw = N <= 4 ? 4 : 8, tm = M >= 8 ? 8 : 4;
  // A constant 2-D B (every batch reads offset 0) is packed to [K][NP] float at build time.
  bool b_const = K > 0 && M > 0 && N > 0 && g_.initializers.count(b) > 0;
  for (size_t i = 1; i < offs.size() && b_const; i += 2) b_const = offs[i] == 0;
  const int64_t np = (N + vw - 1) / vw * vw;
  Opts o;
  o.i("M", M).i("N", N).i("K", K).i("TRANS_A", ta).i("TRANS_B", tb).f("ALPHA", alpha).f("BETA", beta);
  o.i("HAS_C", c >= 0).i("CSM", csm).i("CSN", csn).i("VW", vw).i("TM", tm).i("B_PACKED", b_const).i("NP", np);
  half_arg(o, "A_HALF", a);
  if (!b_const) half_arg(o, "B_HALF", b);
  if (c >= 0) half_arg(o, "C_HALF", c);
  half_arg(o, "Y_HALF", y);
  std::vector<uint8_t> bytes(offs.size() * sizeof(int32_t));
  std::memcpy(bytes.data(), offs.data(), bytes.size());
  int32_t aux = static_cast<int32_t>(schedule_.aux.size() + pending_aux_.size());
  pending_aux_.push_back(std::move(bytes));
  Launch l;
  l.program = program(Source::matmul, o.str());
  l.args = {val(a), b_const ? derived(b, DerivedWeight::matrix, {K, N, tb ? 1 : 0, np}) : val(b), val(c >= 0 ? c : a), val(y),
            ArgRef{ArgRef::aux, aux}};
  l.work_dims = 3;
  l.global[0] = static_cast<uint64_t>(np / vw);
  l.global[1] = static_cast<uint64_t>((M + tm - 1) / tm);
  l.global[2] = offs.size() / 2;
  l.node = node_->describe();
  if (M > 0 && N > 0) pending_.push_back(std::move(l));
}

void Lowerer::gemm() {
  int32_t a = in(0), b = in(1), y = out(0);
  need_float(a);
  need_float(b);
  need_float(y);
  only_outputs(1);
  Shape sa = shape(a), sb = shape(b), sy = shape(y);
  if (sa.size() != 2 || sb.size() != 2) refuse(SY_UNSUPPORTED_SHAPE, "Gemm inputs must be 2-D");
  bool ta = attr_i("transA", 0) != 0, tb = attr_i("transB", 0) != 0;
  int64_t M = ta ? sa[1] : sa[0], K = ta ? sa[0] : sa[1], N = tb ? sb[0] : sb[1];
  if ((tb ? sb[1] : sb[0]) != K) refuse(SY_UNSUPPORTED_SHAPE, "Gemm inner dimensions differ");
  if (sy != Shape{M, N}) refuse(SY_UNSUPPORTED_SHAPE, "declared output " + shape_str(sy) + " is not [M,N]");
  int32_t c = -1;
  int64_t csm = 0, csn = 0;
  if (has_in(2)) {
    c = in(2);
    need_float(c);
    Shape sc = shape(c);
    if (sc.size() > 2) refuse(SY_UNSUPPORTED_SHAPE, "Gemm C has rank > 2");
    while (sc.size() < 2) sc.insert(sc.begin(), 1);
    if ((sc[0] != M && sc[0] != 1) || (sc[1] != N && sc[1] != 1)) refuse(SY_UNSUPPORTED_SHAPE, "Gemm C does not broadcast to [M,N]");
    csm = sc[0] == 1 ? 0 : sc[1];
    csn = sc[1] == 1 ? 0 : 1;
  }
  matmul_launch(a, b, c, y, M, N, K, ta, tb, attr_f("alpha", 1.0f), attr_f("beta", 1.0f), csm, csn, {0, 0});
  produce(y);
}

void Lowerer::matmul() {
  int32_t a = in(0), b = in(1), y = out(0);
  need_float(a);
  need_float(b);
  need_float(y);
  only_outputs(1);
  Shape sa = shape(a), sb = shape(b), sy = shape(y);
  if (sa.empty() || sb.empty()) refuse(SY_UNSUPPORTED_SHAPE, "MatMul of a scalar");
  if (sa.size() == 1) sa.insert(sa.begin(), 1);
  if (sb.size() == 1) sb.push_back(1);
  int64_t M = sa[sa.size() - 2], K = sa.back(), N = sb.back();
  if (sb[sb.size() - 2] != K) refuse(SY_UNSUPPORTED_SHAPE, "MatMul inner dimensions differ: " + shape_str(sa) + " x " + shape_str(sb));
  Shape ba(sa.begin(), sa.end() - 2), bb(sb.begin(), sb.end() - 2);
  size_t br = std::max(ba.size(), bb.size());
  while (ba.size() < br) ba.insert(ba.begin(), 1);
  while (bb.size() < br) bb.insert(bb.begin(), 1);
  Shape bo(br);
  for (size_t d = 0; d < br; ++d) {
    if (ba[d] != bb[d] && ba[d] != 1 && bb[d] != 1) refuse(SY_UNSUPPORTED_SHAPE, "MatMul batch dims do not broadcast");
    bo[d] = std::max(ba[d], bb[d]);
  }
  if (numel(sy) != numel(bo) * M * N) refuse(SY_UNSUPPORTED_SHAPE, "declared output " + shape_str(sy) + " does not match the product");
  int64_t batches = numel(bo);
  if (batches > 65536) refuse(SY_UNSUPPORTED_SIZE_LIMIT, "more than 65536 matrix products in one MatMul");
  Shape sta = contiguous_strides(ba), stb = contiguous_strides(bb);
  std::vector<int32_t> offs;
  for (int64_t i = 0; i < batches; ++i) {
    int64_t r = i, oa = 0, ob = 0;
    for (int64_t d = static_cast<int64_t>(br) - 1; d >= 0; --d) {
      int64_t c = r % bo[d];
      r /= bo[d];
      if (ba[d] != 1) oa += c * sta[d];
      if (bb[d] != 1) ob += c * stb[d];
    }
    offs.push_back(static_cast<int32_t>(oa * M * K));
    offs.push_back(static_cast<int32_t>(ob * K * N));
  }
  matmul_launch(a, b, -1, y, M, N, K, false, false, 1.0f, 0.0f, 0, 0, offs);
  produce(y);
}

void Lowerer::pool(bool is_max, bool global) {
  int32_t x = in(0), y = out(0);
  need_float(x);
  need_float(y);
  only_outputs(1);
  Shape sx = shape(x), sy = shape(y);
  if (sx.size() != 3 && sx.size() != 4) refuse(SY_UNSUPPORTED_SHAPE, "pooling input rank " + std::to_string(sx.size()) + " (1-D and 2-D only)");
  if (sy.size() != sx.size()) refuse(SY_UNSUPPORTED_SHAPE, "output rank differs from the input's");
  const bool one_d = sx.size() == 3;
  const int64_t spatial = one_d ? 1 : 2;
  Shape in_sp(sx.begin() + 2, sx.end()), out_sp(sy.begin() + 2, sy.end());
  std::vector<int64_t> k, strides, dil, pb(spatial, 0), pe(spatial, 0);
  bool count_pad = false;
  if (global) {
    k = in_sp;
    strides.assign(spatial, 1);
    dil.assign(spatial, 1);
    for (auto d : out_sp)
      if (d != 1) refuse(SY_UNSUPPORTED_SHAPE, "global pooling output must have spatial size 1");
  } else {
    if (attr_i("storage_order", 0) != 0) bad_attr("storage_order=1");
    k = attr_is("kernel_shape");
    if ((int64_t)k.size() != spatial) bad_attr("kernel_shape must have " + std::to_string(spatial) + " values");
    strides = attr_is("strides");
    dil = attr_is("dilations");
    if (strides.empty()) strides.assign(spatial, 1);
    if (dil.empty()) dil.assign(spatial, 1);
    if ((int64_t)strides.size() != spatial || (int64_t)dil.size() != spatial) bad_attr("strides/dilations have the wrong length");
    count_pad = attr_i("count_include_pad", 0) != 0;
    bool ceil_mode = attr_i("ceil_mode", 0) != 0;
    std::string auto_pad = attr_s("auto_pad", "NOTSET");
    auto pads = attr_is("pads");
    if (auto_pad == "NOTSET") {
      if (!pads.empty()) {
        if ((int64_t)pads.size() != 2 * spatial) bad_attr("pads has the wrong length");
        for (int64_t d = 0; d < spatial; ++d) pb[d] = pads[d], pe[d] = pads[d + spatial];
      }
    } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      for (int64_t d = 0; d < spatial; ++d) {
        int64_t total = std::max<int64_t>(0, (out_sp[d] - 1) * strides[d] + (k[d] - 1) * dil[d] + 1 - in_sp[d]);
        pb[d] = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
        pe[d] = total - pb[d];
      }
    } else if (auto_pad != "VALID") {
      bad_attr("auto_pad=" + auto_pad);
    }
    for (int64_t d = 0; d < spatial; ++d) {
      if (strides[d] <= 0 || dil[d] <= 0 || k[d] <= 0 || pb[d] < 0 || pe[d] < 0) bad_attr("non-positive kernel/stride/dilation or negative pad");
      int64_t span = in_sp[d] + pb[d] + pe[d] - ((k[d] - 1) * dil[d] + 1);
      int64_t o = auto_pad.rfind("SAME", 0) == 0 ? (in_sp[d] + strides[d] - 1) / strides[d]
                  : ceil_mode ? (span + strides[d] - 1) / strides[d] + 1 : span / strides[d] + 1;
      if (ceil_mode && auto_pad == "NOTSET" && (o - 1) * strides[d] >= in_sp[d] + pb[d]) --o;
      if (o != out_sp[d])
        refuse(SY_UNSUPPORTED_SHAPE, "declared output " + shape_str(sy) + " does not match the computed spatial size " + std::to_string(o));
    }
  }
  if (sy[0] != sx[0] || sy[1] != sx[1]) refuse(SY_UNSUPPORTED_SHAPE, "pooling changes N or C");
  auto pick = [&](const std::vector<int64_t>& v, int64_t d2, int64_t one) { return one_d ? (d2 == 0 ? one : v[0]) : v[d2]; };
  Opts o;
  o.i("TOTAL", numel(sy)).i("H", pick(in_sp, 0, 1)).i("W", pick(in_sp, 1, 1)).i("OH", pick(out_sp, 0, 1)).i("OW", pick(out_sp, 1, 1));
  o.i("KH", pick(k, 0, 1)).i("KW", pick(k, 1, 1)).i("SH", pick(strides, 0, 1)).i("SW", pick(strides, 1, 1));
  o.i("DH", pick(dil, 0, 1)).i("DW", pick(dil, 1, 1)).i("PT", pick(pb, 0, 0)).i("PL", pick(pb, 1, 0));
  o.i("PB", pick(pe, 0, 0)).i("PR", pick(pe, 1, 0)).i("IS_MAX", is_max).i("COUNT_PAD", count_pad);
  half_arg(o, "A_HALF", x);
  half_arg(o, "Y_HALF", y);
  launch(Source::pool, o, {val(x), val(y)}, numel(sy));
  produce(y);
}

void Lowerer::batchnorm() {
  int32_t x = in(0), y = out(0);
  need_float(x);
  need_float(y);
  only_outputs(1);
  if (attr_i("training_mode", 0) != 0) bad_attr("training_mode=1 (inference only)");
  Shape sx = shape(x);
  if (sx.size() < 2 || shape(y) != sx) refuse(SY_UNSUPPORTED_SHAPE, "BatchNormalization needs rank >= 2 and an output of the input's shape");
  for (size_t i = 1; i <= 4; ++i) {
    need_float(in(i));
    if (shape(in(i)) != Shape{sx[1]}) refuse(SY_UNSUPPORTED_SHAPE, "parameter " + std::to_string(i) + " must have shape [C]");
  }
  int64_t inner = 1;
  for (size_t d = 2; d < sx.size(); ++d) inner *= sx[d];
  Opts o;
  o.i("TOTAL", numel(sx)).i("C", sx[1]).i("INNER", inner).f("EPS", attr_f("epsilon", 1e-5f));
  if (is_half(in(1)) != is_half(in(2)) || is_half(in(3)) != is_half(in(4)))
    refuse(SY_UNSUPPORTED_ELEMENT_TYPE, "scale/bias and mean/var pairs must have the same element type");
  half_arg(o, "A_HALF", x);
  half_arg(o, "B_HALF", in(1));
  half_arg(o, "C_HALF", in(3));
  half_arg(o, "Y_HALF", y);
  launch(Source::batchnorm, o, {val(x), val(in(1)), val(in(2)), val(in(3)), val(in(4)), val(y)}, numel(sx));
  produce(y);
}

void Lowerer::softmax(bool log) {
  int32_t x = in(0), y = out(0);
  need_float(x);
  need_float(y);
  only_outputs(1);
  Shape sx = shape(x);
  if (shape(y) != sx) refuse(SY_UNSUPPORTED_SHAPE, "output shape differs from the input's");
  const int64_t rank = static_cast<int64_t>(sx.size());
  if (rank == 0) refuse(SY_UNSUPPORTED_SHAPE, "softmax of a scalar");
  const bool legacy = node_->opset < 13;
  int64_t axis = norm_axis(attr_i("axis", legacy ? 1 : -1), rank);
  int64_t outer = 1, L = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= sx[d];
  if (legacy) {
    for (int64_t d = axis; d < rank; ++d) L *= sx[d];
  } else {
    L = sx[axis];
    for (int64_t d = axis + 1; d < rank; ++d) inner *= sx[d];
  }
  Opts o;
  o.i("OUTER", outer).i("L", L).i("INNER", inner).i("LOG", log);
  half_arg(o, "A_HALF", x);
  half_arg(o, "Y_HALF", y);
  launch(Source::softmax, o, {val(x), val(y)}, outer * inner);
  produce(y);
}

void Lowerer::reduce(int code) {
  int32_t x = in(0), y = out(0);
  need_float(x);
  need_float(y);
  only_outputs(1);
  Shape sx = shape(x), sy = shape(y);
  const int64_t rank = static_cast<int64_t>(sx.size());
  const bool axes_input = node_->op_type == "ReduceSum" ? node_->opset >= 13 : node_->opset >= 18;
  std::vector<int64_t> axes;
  if (axes_input) {
    if (has_in(1)) axes = const_ints(in(1), "axes");
  } else {
    axes = attr_is("axes");
  }
  const bool keep = attr_i("keepdims", 1) != 0;
  std::vector<char> red(rank, 0);
  if (axes.empty()) {
    if (attr_i("noop_with_empty_axes", 0) != 0) {
      if (sy != sx) refuse(SY_UNSUPPORTED_SHAPE, "no-op reduction with a different output shape");
      Opts o;
      o.i("N", numel(sx)).i("OP", 0).f("P0", 0).f("P1", 0);
      half_arg(o, "A_HALF", x);
      half_arg(o, "Y_HALF", y);
      launch(Source::unary, o, {val(x), val(y)}, numel(sx));
      produce(y);
      return;
    }
    red.assign(rank, 1);
  }
  for (auto a : axes) red[norm_axis(a, rank)] = 1;
  Shape st = contiguous_strides(sx), kd, ks, rd, rs, expect;
  for (int64_t d = 0; d < rank; ++d) {
    if (red[d]) {
      rd.push_back(sx[d]);
      rs.push_back(st[d]);
      if (keep) expect.push_back(1);
    } else {
      kd.push_back(sx[d]);
      ks.push_back(st[d]);
      expect.push_back(sx[d]);
    }
  }
  if (sy != expect) refuse(SY_UNSUPPORTED_SHAPE, "declared output " + shape_str(sy) + " differs from the computed " + shape_str(expect));
  pad6(kd, ks);
  pad6(rd, rs);
  int64_t rcount = 1;
  for (auto d : rd) rcount *= d;
  if (rcount == 0) refuse(SY_UNSUPPORTED_SHAPE, "reduction over an empty axis");
  Opts o;
  o.i("NOUT", numel(sy)).i("OP", code).i("RCOUNT", rcount);
  const char* kdn[] = {"KD0", "KD1", "KD2", "KD3", "KD4", "KD5"};
  const char* ksn[] = {"KS0", "KS1", "KS2", "KS3", "KS4", "KS5"};
  const char* rdn[] = {"RD0", "RD1", "RD2", "RD3", "RD4", "RD5"};
  const char* rsn[] = {"RS0", "RS1", "RS2", "RS3", "RS4", "RS5"};
  for (int k = 0; k < kMaxKernelRank; ++k) o.i(kdn[k], kd[k]).i(ksn[k], ks[k]).i(rdn[k], rd[k]).i(rsn[k], rs[k]);
  half_arg(o, "A_HALF", x);
  half_arg(o, "Y_HALF", y);
  launch(Source::reduce, o, {val(x), val(y)}, numel(sy));
  produce(y);
}

void Lowerer::copy_box(int32_t src, int32_t dst, Shape dims, Shape ss, int64_t sb, Shape ds, int64_t db) {
  auto t = storage_type(elem(dst));
  if (!t) refuse(SY_UNSUPPORTED_ELEMENT_TYPE, "element type " + std::string(element_type_name(ttype(dst).elem)) + " has no fixed byte size");
  int64_t n = numel(dims);
  if (n == 0) return;
  Shape dims2 = dims;
  pad6(dims, ss);
  pad6(dims2, ds);
  Opts o;
  o.i("N", n).s("T", *t).i("SB", sb).i("DB", db);
  const char* dn[] = {"D0", "D1", "D2", "D3", "D4", "D5"};
  const char* sn[] = {"SS0", "SS1", "SS2", "SS3", "SS4", "SS5"};
  const char* tn[] = {"DS0", "DS1", "DS2", "DS3", "DS4", "DS5"};
  for (int k = 0; k < kMaxKernelRank; ++k) o.i(dn[k], dims[k]).i(sn[k], ss[k]).i(tn[k], ds[k]);
  launch(Source::strided_copy, o, {val(src), val(dst)}, n);
}

void Lowerer::concat() {
  int32_t y = out(0);
  only_outputs(1);
  Shape sy = shape(y);
  int64_t axis = norm_axis(attr_i("axis", 0), static_cast<int64_t>(sy.size()));
  Shape dst_st = contiguous_strides(sy);
  int64_t off = 0;
  for (size_t i = 0; i < node_->inputs.size(); ++i) {
    int32_t x = in(i);
    if (elem(x) != elem(y)) refuse(SY_UNSUPPORTED_ELEMENT_TYPE, "inputs of different element types");
    Shape sx = shape(x);
    if (sx.size() != sy.size()) refuse(SY_UNSUPPORTED_SHAPE, "inputs of different ranks");
    copy_box(x, y, sx, contiguous_strides(sx), 0, dst_st, off * dst_st[axis]);
    off += sx[axis];
  }
  if (off != sy[axis]) refuse(SY_UNSUPPORTED_SHAPE, "inputs do not add up to the declared output " + shape_str(sy));
  produce(y);
}

void Lowerer::split() {
  int32_t x = in(0);
  Shape sx = shape(x);
  int64_t axis = norm_axis(attr_i("axis", 0), static_cast<int64_t>(sx.size()));
  Shape src_st = contiguous_strides(sx);
  int64_t off = 0;
  for (size_t i = 0; i < node_->outputs.size(); ++i) {
    int32_t y = out(i);
    if (elem(x) != elem(y)) refuse(SY_UNSUPPORTED_ELEMENT_TYPE, "outputs of different element types");
    Shape sy = shape(y);
    if (sy.size() != sx.size()) refuse(SY_UNSUPPORTED_SHAPE, "outputs of different ranks");
    copy_box(x, y, sy, src_st, off * src_st[axis], contiguous_strides(sy), 0);
    off += sy[axis];
    produce(y);
  }
  if (off != sx[axis]) refuse(SY_UNSUPPORTED_SHAPE, "declared outputs do not add up to the input along the axis");
}

void Lowerer::slice() {
  int32_t x = in(0), y = out(0);
  only_outputs(1);
  Shape sx = shape(x), sy = shape(y);
  const int64_t rank = static_cast<int64_t>(sx.size());
  std::vector<int64_t> starts, ends, axes, steps;
  if (node_->opset < 10) {
    starts = attr_is("starts");
    ends = attr_is("ends");
    axes = attr_is("axes");
  } else {
    starts = const_ints(in(1), "starts");
    ends = const_ints(in(2), "ends");
    if (has_in(3)) axes = const_ints(in(3), "axes");
    if (has_in(4)) steps = const_ints(in(4), "steps");
  }
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
  if (steps.empty()) steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size())
    refuse(SY_UNSUPPORTED_ATTRIBUTE, "starts/ends/axes/steps lengths differ");
  std::vector<int64_t> start(rank, 0), step(rank, 1), count(sx.begin(), sx.end());
  for (size_t i = 0; i < starts.size(); ++i) {
    int64_t a = norm_axis(axes[i], rank), dim = sx[a], st = steps[i];
    if (st == 0) bad_attr("step 0");
    int64_t s = starts[i], e = ends[i];
    if (s < 0) s += dim;
    if (e < 0) e += dim;
    if (st > 0) {
      s = std::clamp<int64_t>(s, 0, dim);
      e = std::clamp<int64_t>(e, 0, dim);
      count[a] = e > s ? (e - s + st - 1) / st : 0;
    } else {
      s = std::clamp<int64_t>(s, 0, dim - 1);
      e = std::clamp<int64_t>(e, -1, dim - 1);
      count[a] = s > e ? (s - e + (-st) - 1) / (-st) : 0;
    }
    start[a] = s;
    step[a] = st;
  }
  if (Shape(count.begin(), count.end()) != sy) refuse(SY_UNSUPPORTED_SHAPE, "declared output " + shape_str(sy) + " differs from the computed slice");
  Shape st = contiguous_strides(sx), ss(rank);
  int64_t base = 0;
  for (int64_t d = 0; d < rank; ++d) {
    ss[d] = st[d] * step[d];
    if (count[d] > 0) base += start[d] * st[d];
  }
  copy_box(x, y, sy, ss, base, contiguous_strides(sy), 0);
  produce(y);
}

void Lowerer::transpose() {
  int32_t x = in(0), y = out(0);
  only_outputs(1);
  Shape sx = shape(x), sy = shape(y);
  const int64_t rank = static_cast<int64_t>(sx.size());
  auto perm = attr_is("perm");
  if (perm.empty())
    for (int64_t d = rank - 1; d >= 0; --d) perm.push_back(d);
  if ((int64_t)perm.size() != rank) bad_attr("perm has the wrong length");
  Shape st = contiguous_strides(sx), ss(rank), expect(rank);
  for (int64_t d = 0; d < rank; ++d) {
    int64_t p = norm_axis(perm[d], rank);
    ss[d] = st[p];
    expect[d] = sx[p];
  }
  if (expect != sy) refuse(SY_UNSUPPORTED_SHAPE, "declared output " + shape_str(sy) + " differs from the permuted input");
  copy_box(x, y, sy, ss, 0, contiguous_strides(sy), 0);
  produce(y);
}

void Lowerer::expand() {
  int32_t x = in(0), y = out(0);
  only_outputs(1);
  Shape sx = shape(x), sy = shape(y);
  if (sx.size() > sy.size()) refuse(SY_UNSUPPORTED_SHAPE, "input rank above the output's");
  Shape st = contiguous_strides(sx), ss(sy.size(), 0);
  size_t off = sy.size() - sx.size();
  for (size_t d = 0; d < sx.size(); ++d) {
    if (sx[d] == sy[off + d]) ss[off + d] = sx[d] == 1 ? 0 : st[d];
    else if (sx[d] != 1) refuse(SY_UNSUPPORTED_SHAPE, "input does not broadcast to the declared output");
  }
  copy_box(x, y, sy, ss, 0, contiguous_strides(sy), 0);
  produce(y);
}

void Lowerer::reshape_like() {
  int32_t x = in(0), y = out(0);
  only_outputs(1);
  if (node_->op_type == "Dropout") {  // inference only: an identity unless training_mode is set
    if (node_->opset < 7 && attr_i("is_test", 0) == 0) bad_attr("Dropout is_test=0 (training) unsupported");
    if (has_in(2)) {
      const Tensor& t = constant(in(2), "training_mode");
      if (t.type() != ElementType::boolean || t.numel() != 1) refuse(SY_UNSUPPORTED_ELEMENT_TYPE, "training_mode must be a bool scalar");
      if (*static_cast<const uint8_t*>(t.raw()) != 0) bad_attr("Dropout training_mode=true unsupported (inference only)");
    }
  }
  if (elem(x) != elem(y)) refuse(SY_UNSUPPORTED_ELEMENT_TYPE, "output element type differs");
  if (!storage_type(elem(x))) refuse(SY_UNSUPPORTED_ELEMENT_TYPE, "element type has no fixed byte size");
  Shape sx = shape(x), sy = shape(y);
  if (numel(sx) != numel(sy)) refuse(SY_UNSUPPORTED_SHAPE, "declared output " + shape_str(sy) + " has another element count than " + shape_str(sx));
  alias(y, x);
}

void Lowerer::gather() {
  int32_t x = in(0), idx = in(1), y = out(0);
  only_outputs(1);
  auto t = storage_type(elem(x));
  if (!t || elem(y) != elem(x)) refuse(SY_UNSUPPORTED_ELEMENT_TYPE, "data element type has no fixed byte size");
  int32_t it = elem(idx);
  if (it != SY_ELEM_INT64 && it != SY_ELEM_INT32) refuse(SY_UNSUPPORTED_ELEMENT_TYPE, "indices must be int32 or int64");
  Shape sx = shape(x), si = shape(idx), sy = shape(y);
  const int64_t rank = static_cast<int64_t>(sx.size());
  if (rank == 0) refuse(SY_UNSUPPORTED_SHAPE, "Gather from a scalar");
  int64_t axis = norm_axis(attr_i("axis", 0), rank);
  Shape expect(sx.begin(), sx.begin() + axis);
  expect.insert(expect.end(), si.begin(), si.end());
  expect.insert(expect.end(), sx.begin() + axis + 1, sx.end());
  if (expect != sy) refuse(SY_UNSUPPORTED_SHAPE, "declared output " + shape_str(sy) + " differs from " + shape_str(expect));
  int64_t inner = 1;
  for (int64_t d = axis + 1; d < rank; ++d) inner *= sx[d];
  int64_t n = numel(sy);
  if (n > 0) {
    Opts o;
    o.i("N", n).s("T", *t).s("IT", it == SY_ELEM_INT64 ? "long" : "int").i("INNER", inner).i("NIDX", numel(si)).i("AXIS", sx[axis]);
    launch(Source::gather, o, {val(x), val(idx), val(y)}, n);
  }
  produce(y);
}

void Lowerer::pad() {
  int32_t x = in(0), y = out(0);
  need_float(x);
  need_float(y);
  only_outputs(1);
  Shape sx = shape(x), sy = shape(y);
  const int64_t rank = static_cast<int64_t>(sx.size());
  std::string mode = attr_s("mode", "constant");
  std::vector<int64_t> pads;
  float value = 0;
  std::vector<int64_t> axes;
  if (node_->opset < 11) {
    pads = attr_is(node_->opset < 2 ? "paddings" : "pads");
    value = attr_f("value", 0.0f);
  } else {
    pads = const_ints(in(1), "pads");
    if (has_in(2)) {
      auto v = const_floats(in(2), "constant_value");
      if (v.size() != 1) refuse(SY_UNSUPPORTED_SHAPE, "constant_value must hold one value");
      value = v[0];
    }
    if (has_in(3)) axes = const_ints(in(3), "axes");
  }
  if (axes.empty())
    for (int64_t d = 0; d < rank; ++d) axes.push_back(d);
  if (pads.size() != 2 * axes.size()) refuse(SY_UNSUPPORTED_ATTRIBUTE, "pads has " + std::to_string(pads.size()) + " values, expected " + std::to_string(2 * axes.size()));
  int m = mode == "constant" ? 0 : mode == "edge" ? 1 : mode == "reflect" ? 2 : -1;
  if (m < 0) bad_attr("Pad mode=" + mode + " unsupported (constant, edge, reflect)");
  Shape pb(rank, 0), expect = sx;
  for (size_t i = 0; i < axes.size(); ++i) {
    int64_t a = norm_axis(axes[i], rank);
    pb[a] = pads[i];
    expect[a] += pads[i] + pads[i + axes.size()];
  }
  if (expect != sy) refuse(SY_UNSUPPORTED_SHAPE, "declared output " + shape_str(sy) + " differs from " + shape_str(expect));
  for (int64_t d = 0; d < rank; ++d)
    if (m != 0 && sx[d] == 0 && sy[d] > 0) refuse(SY_UNSUPPORTED_SHAPE, "edge/reflect padding of an empty axis");
  Shape id = sx, is = contiguous_strides(sx), od = sy, pbs = pb;
  Shape zero(rank, 0);
  pad6(id, is);
  pad6(od, zero);
  Shape pb6 = pb, dummy(rank, 0);
  pad6(pb6, dummy);
  for (int k = 0; k < kMaxKernelRank - rank; ++k) pb6[k] = 0;
  Opts o;
  o.i("N", numel(sy)).i("MODE", m).f("VAL", value);
  const char* odn[] = {"OD0", "OD1", "OD2", "OD3", "OD4", "OD5"};
  const char* idn[] = {"ID0", "ID1", "ID2", "ID3", "ID4", "ID5"};
  const char* isn[] = {"IS0", "IS1", "IS2", "IS3", "IS4", "IS5"};
  const char* pbn[] = {"PB0", "PB1", "PB2", "PB3", "PB4", "PB5"};
  for (int k = 0; k < kMaxKernelRank; ++k) o.i(odn[k], od[k]).i(idn[k], id[k]).i(isn[k], is[k]).i(pbn[k], pb6[k]);
  half_arg(o, "A_HALF", x);
  half_arg(o, "Y_HALF", y);
  if (numel(sy) > 0) launch(Source::pad, o, {val(x), val(y)}, numel(sy));
  produce(y);
}

void Lowerer::resize() {
  int32_t x = in(0), y = out(0);
  need_float(x);
  need_float(y);
  only_outputs(1);
  Shape sx = shape(x), sy = shape(y);
  const int64_t rank = static_cast<int64_t>(sx.size());
  if (rank < 2) refuse(SY_UNSUPPORTED_SHAPE, "Resize needs rank >= 2");
  std::string mode = attr_s("mode", "nearest");
  if (mode != "nearest" && mode != "linear") bad_attr("Resize mode=" + mode + " unsupported (nearest, linear)");
  std::string ct = node_->opset < 11 ? "asymmetric" : attr_s("coordinate_transformation_mode", "half_pixel");
  int ctc = ct == "half_pixel" ? 0 : ct == "asymmetric" ? 1 : ct == "align_corners" ? 2 : ct == "pytorch_half_pixel" ? 3
          : ct == "tf_half_pixel_for_nearest" ? 4 : -1;
  if (ctc < 0) bad_attr("Resize coordinate_transformation_mode=" + ct + " unsupported");
  std::string nm = node_->opset < 11 ? "floor" : attr_s("nearest_mode", "round_prefer_floor");
  int nmc = nm == "round_prefer_floor" ? 0 : nm == "round_prefer_ceil" ? 1 : nm == "floor" ? 2 : nm == "ceil" ? 3 : -1;
  if (nmc < 0) bad_attr("Resize nearest_mode=" + nm + " unsupported");
  if (attr_i("antialias", 0) != 0) bad_attr("Resize antialias=1 unsupported");
  if (attr_i("exclude_outside", 0) != 0) bad_attr("Resize exclude_outside=1 unsupported");
  if (node_->attr("axes")) bad_attr("Resize axes attribute unsupported");
  if (attr_s("keep_aspect_ratio_policy", "stretch") != "stretch") bad_attr("Resize keep_aspect_ratio_policy other than stretch unsupported");
  std::vector<float> scales;
  std::vector<int64_t> sizes;
  if (node_->opset < 11) {
    scales = const_floats(in(1), "scales");
  } else {
    if (has_in(2)) scales = const_floats(in(2), "scales");
    if (scales.empty() && has_in(3)) sizes = const_ints(in(3), "sizes");
  }
  std::vector<double> sc(rank, 1.0);
  Shape expect(rank);
  if (!scales.empty()) {
    if ((int64_t)scales.size() != rank) refuse(SY_UNSUPPORTED_SHAPE, "scales has the wrong length");
    for (int64_t d = 0; d < rank; ++d) {
      if (!(scales[d] > 0)) bad_attr("non-positive scale");
      sc[d] = scales[d];
      expect[d] = static_cast<int64_t>(std::floor(static_cast<double>(sx[d]) * static_cast<double>(scales[d])));
    }
  } else if (!sizes.empty()) {
    if ((int64_t)sizes.size() != rank) refuse(SY_UNSUPPORTED_SHAPE, "sizes has the wrong length");
    for (int64_t d = 0; d < rank; ++d) {
      if (sx[d] == 0) refuse(SY_UNSUPPORTED_SHAPE, "empty input axis");
      sc[d] = static_cast<double>(sizes[d]) / static_cast<double>(sx[d]);
      expect[d] = sizes[d];
    }
  } else {
    refuse(SY_UNSUPPORTED_OTHER, "Resize needs constant scales or sizes");
  }
  if (expect != sy) refuse(SY_UNSUPPORTED_SHAPE, "declared output " + shape_str(sy) + " differs from " + shape_str(expect));
  for (int64_t d = 0; d + 2 < rank; ++d)
    if (sx[d] != sy[d] || sc[d] != 1.0) refuse(SY_UNSUPPORTED_SHAPE, "Resize scales only the last two axes on this device");
  Opts o;
  o.i("TOTAL", numel(sy)).i("IH", sx[rank - 2]).i("IW", sx[rank - 1]).i("OH", sy[rank - 2]).i("OW", sy[rank - 1]);
  o.f("SCH", static_cast<float>(sc[rank - 2])).f("SCW", static_cast<float>(sc[rank - 1]));
  o.f("OLH", static_cast<float>(sc[rank - 2] * static_cast<double>(sx[rank - 2]))).f("OLW", static_cast<float>(sc[rank - 1] * static_cast<double>(sx[rank - 1]))).i("CT", ctc).i("NM", nmc).i("LINEAR", mode == "linear");
  half_arg(o, "A_HALF", x);
  half_arg(o, "Y_HALF", y);
  if (numel(sy) > 0) {
    if (numel(sx) == 0) refuse(SY_UNSUPPORTED_SHAPE, "resizing an empty tensor to a non-empty one");
    launch(Source::resize, o, {val(x), val(y)}, numel(sy));
  }
  produce(y);
}

void Lowerer::cast(bool like) {
  int32_t x = in(0), y = out(0);
  only_outputs(1);
  if (!like && node_->opset < 6) bad_attr("Cast-1 (string 'to') unsupported");
  struct Kind {
    const char* type;
    const char* unsigned_type;
    const char* as;
    int kind;  // 0 float32, 1 float16, 2 signed, 3 unsigned, 4 bool
  };
  auto kind_of = [&](int32_t v) -> Kind {
    switch (ttype(v).elem) {
      case ElementType::float32: return {"float", "uint", "", 0};
      case ElementType::float16: return {"half", "ushort", "", 1};
      case ElementType::int32: return {"int", "uint", "as_int", 2};
      case ElementType::int64: return {"long", "ulong", "as_long", 2};
      case ElementType::int8: return {"char", "uchar", "as_char", 2};
      case ElementType::uint8: return {"uchar", "uchar", "", 3};
      case ElementType::boolean: return {"uchar", "uchar", "", 4};
      default:
        refuse(SY_UNSUPPORTED_ELEMENT_TYPE, "Cast of '" + g_.value_name(v) + "' (" + std::string(element_type_name(ttype(v).elem)) +
                                                "): only float32, float16, int32, int64, int8, uint8 and bool");
    }
  };
  Kind s = kind_of(x), d = kind_of(y);
  if (like ? elem(in(1)) != elem(y) : static_cast<int64_t>(ttype(y).elem) != attr_i("to", -1))
    bad_attr("Cast target type does not match the declared output type");
  Shape sx = shape(x), sy = shape(y);
  if (sx != sy) refuse(SY_UNSUPPORTED_SHAPE, "output shape " + shape_str(sy) + " differs from input " + shape_str(sx));
  const int64_t n = numel(sy);
  if (elem(x) == elem(y)) {  // no conversion: a copy
    alias(y, x);
    return;
  }
  Opts o;
  o.i("N", n).s("ST", s.type).s("DT", d.type).s("UDT", d.unsigned_type).i("SK", s.kind).i("DK", d.kind);
  o.s("AS_DT", *d.as ? d.as : "");
  if (n > 0) launch(Source::cast, o, {val(x), val(y)}, n);
  produce(y);
}

void Lowerer::constant_node() {
  int32_t y = out(0);
  if (node_->attributes.size() != 1) bad_attr("Constant needs exactly one value attribute");
  const Attribute& a = node_->attributes[0];
  Tensor t;
  if (a.name == "value" && a.type == Attribute::Type::tensor) t = a.t;
  else if (a.name == "value_float") t = Tensor::scalar<float>(ElementType::float32, a.f);
  else if (a.name == "value_floats") t = Tensor::from_vector<float>(ElementType::float32, {static_cast<int64_t>(a.floats.size())}, a.floats);
  else if (a.name == "value_int") t = Tensor::scalar<int64_t>(ElementType::int64, a.i);
  else if (a.name == "value_ints") t = Tensor::from_vector<int64_t>(ElementType::int64, {static_cast<int64_t>(a.ints.size())}, a.ints);
  else bad_attr("Constant attribute '" + a.name + "' unsupported");
  if (!storage_type(static_cast<int32_t>(t.type()))) refuse(SY_UNSUPPORTED_ELEMENT_TYPE, "constant element type has no fixed byte size");
  new_constants_.emplace_back(y, t);
}

void Lowerer::shape_node() {
  int32_t x = in(0), y = out(0);
  Shape sx = shape(x);
  const int64_t rank = static_cast<int64_t>(sx.size());
  int64_t s = attr_i("start", 0), e = attr_i("end", rank);
  if (s < 0) s += rank;
  if (e < 0) e += rank;
  s = std::clamp<int64_t>(s, 0, rank);
  e = std::clamp<int64_t>(e, 0, rank);
  std::vector<int64_t> dims(sx.begin() + s, sx.begin() + std::max(s, e));
  new_constants_.emplace_back(y, Tensor::from_vector<int64_t>(ElementType::int64, {static_cast<int64_t>(dims.size())}, dims));
}

void Lowerer::lower_node(size_t index) {
  node_ = &g_.nodes[index];
  pending_.clear();
  produced_.clear();
  aliases_.clear();
  new_constants_.clear();
  new_derived_.clear();
  pending_aux_.clear();
  const std::string& op = node_->op_type;
  if (!node_->domain.empty() && node_->domain != "ai.onnx") refuse(SY_UNSUPPORTED_OP, "no OpenCL kernel for " + node_->domain + "::" + op);
  try {
    if (op == "Relu") unary(1);
    else if (op == "Sigmoid") unary(2);
    else if (op == "Tanh") unary(3);
    else if (op == "Clip") {
      float lo = -INFINITY, hi = INFINITY;
      if (node_->opset < 11) {
        lo = attr_f("min", lo);
        hi = attr_f("max", hi);
      } else {
        if (has_in(1)) {
          auto v = const_floats(in(1), "min");
          if (v.size() != 1) refuse(SY_UNSUPPORTED_SHAPE, "min must be a scalar");
          lo = v[0];
        }
        if (has_in(2)) {
          auto v = const_floats(in(2), "max");
          if (v.size() != 1) refuse(SY_UNSUPPORTED_SHAPE, "max must be a scalar");
          hi = v[0];
        }
      }
      unary(4, lo, hi);
    } else if (op == "HardSigmoid") unary(5, attr_f("alpha", 0.2f), attr_f("beta", 0.5f));
    else if (op == "HardSwish") unary(6);
    else if (op == "LeakyRelu") unary(7, attr_f("alpha", 0.01f));
    else if (op == "Exp") unary(8);
    else if (op == "Log") unary(9);
    else if (op == "Abs") unary(10);
    else if (op == "Neg") unary(11);
    else if (op == "Sqrt") unary(12);
    else if (op == "Reciprocal") unary(13);
    else if (op == "Floor") unary(14);
    else if (op == "Ceil") unary(15);
    else if (op == "Elu") unary(16, attr_f("alpha", 1.0f));
    else if (op == "Erf") unary(17);
    else if (op == "Softplus") unary(18);
    else if (op == "Add") binary(0);
    else if (op == "Sub") binary(1);
    else if (op == "Mul") binary(2);
    else if (op == "Div") binary(3);
    else if (op == "Pow") binary(4);
    else if (op == "Max") binary(5);
    else if (op == "Min") binary(6);
    else if (op == "PRelu") binary(7);
    else if (op == "Sum") binary(0);
    else if (op == "Conv") conv();
    else if (op == "Gemm") gemm();
    else if (op == "MatMul") matmul();
    else if (op == "MaxPool") pool(true, false);
    else if (op == "AveragePool") pool(false, false);
    else if (op == "GlobalAveragePool") pool(false, true);
    else if (op == "GlobalMaxPool") pool(true, true);
    else if (op == "BatchNormalization") batchnorm();
    else if (op == "Softmax") softmax(false);
    else if (op == "LogSoftmax") softmax(true);
    else if (op == "ReduceSum") reduce(0);
    else if (op == "ReduceMean") reduce(1);
    else if (op == "ReduceMax") reduce(2);
    else if (op == "ReduceMin") reduce(3);
    else if (op == "Concat") concat();
    else if (op == "Split") split();
    else if (op == "Slice") slice();
    else if (op == "Transpose") transpose();
    else if (op == "Expand") expand();
    else if (op == "Reshape" || op == "Flatten" || op == "Squeeze" || op == "Unsqueeze" || op == "Identity" || op == "Dropout")
      reshape_like();
    else if (op == "Gather") gather();
    else if (op == "Pad") pad();
    else if (op == "Resize") resize();
    else if (op == "Constant") constant_node();
    else if (op == "Cast") cast(false);
    else if (op == "CastLike") cast(true);
    else if (op == "Shape") shape_node();
    else refuse(SY_UNSUPPORTED_OP, "no OpenCL kernel for " + op);
  } catch (const Error& e) {  // attribute of the wrong type, bad tensor, ...
    refuse(SY_UNSUPPORTED_ATTRIBUTE, e.what());
  }
  // Commit the node.
  for (auto& d : new_derived_) schedule_.derived.push_back(std::move(d));
  for (auto& a : pending_aux_) schedule_.aux.push_back(std::move(a));
  for (auto& l : pending_) {
    schedule_.launches.push_back(std::move(l));
    launch_node_.push_back(static_cast<int>(index));
  }
  for (int32_t v : produced_) {
    schedule_.bindings[v] = {Binding::slot, -1};  // assigned in finish()
    def_node_[v] = static_cast<int>(index);
  }
  for (auto [v, src] : aliases_) {
    schedule_.bindings[v] = {Binding::alias, src};
    def_node_[v] = static_cast<int>(index);
  }
  for (auto& [v, t] : new_constants_) {
    std::vector<uint8_t> bytes(t.byte_size());
    if (!bytes.empty()) std::memcpy(bytes.data(), t.raw(), bytes.size());
    schedule_.bindings[v] = {Binding::constant, static_cast<int32_t>(schedule_.aux.size())};
    schedule_.aux.push_back(std::move(bytes));
    constants_[v] = t;
    def_node_[v] = static_cast<int>(index);
  }
}

void Lowerer::finish() {
  const Graph& g = g_;
  auto root = [&](int32_t v) {
    for (int guard = 0; schedule_.bindings[v].kind == Binding::alias && guard < 1 << 20; ++guard) v = schedule_.bindings[v].index;
    return v;
  };
  auto bytes_of = [&](int32_t v) -> uint64_t {
    auto n = shape_numel(shape(v));
    auto b = storage_bytes(ttype(v).elem, *n);
    return b ? *b : 0;
  };
  // Inputs and outputs.
  for (int32_t v : g.inputs) schedule_.inputs.push_back({elem(v), shape(v), bytes_of(v)});
  std::vector<char> is_output(g.values.size(), 0);
  for (size_t k = 0; k < g.outputs.size(); ++k) {
    int32_t v = g.outputs[k];
    schedule_.outputs.push_back({elem(v), shape(v), bytes_of(v)});
    if (schedule_.bindings[v].kind == Binding::slot && schedule_.bindings[v].index == -1 && !is_output[v]) {
      schedule_.bindings[v] = {Binding::output, static_cast<int32_t>(k)};
      is_output[v] = 1;
    } else {
      if (schedule_.bindings[v].kind == Binding::none) throw_error(StatusCode::unsupported, "graph output '" + g.value_name(v) + "' is not produced");
      schedule_.copies.push_back({static_cast<int32_t>(k), v});
    }
  }
  // Liveness of slot values (through aliases): last node that reads them.
  const int end = static_cast<int>(g.nodes.size());
  std::vector<int> last_use(g.values.size(), -1);
  for (size_t n = 0; n < g.nodes.size(); ++n)
    for (int32_t v : g.nodes[n].inputs)
      if (v >= 0) last_use[root(v)] = std::max(last_use[root(v)], static_cast<int>(n));
  for (const auto& c : schedule_.copies) last_use[root(c.value)] = end;
  for (size_t v = 0; v < g.values.size(); ++v)
    if (schedule_.bindings[v].kind == Binding::slot && last_use[v] < def_node_[v]) last_use[v] = def_node_[v];
  // Greedy best-fit reuse in node order.
  std::vector<std::vector<int32_t>> defs(g.nodes.size()), frees(g.nodes.size() + 1);
  for (size_t v = 0; v < g.values.size(); ++v)
    if (schedule_.bindings[v].kind == Binding::slot) {
      defs[def_node_[v]].push_back(static_cast<int32_t>(v));
      frees[std::min(last_use[v], end)].push_back(static_cast<int32_t>(v));
    }
  std::vector<char> slot_free;
  for (size_t n = 0; n < g.nodes.size(); ++n) {
    for (int32_t v : defs[n]) {
      uint64_t need = std::max<uint64_t>(bytes_of(v), 4);
      int best = -1;
      for (size_t s = 0; s < schedule_.slot_bytes.size(); ++s)
        if (slot_free[s] && schedule_.slot_bytes[s] >= need && (best < 0 || schedule_.slot_bytes[s] < schedule_.slot_bytes[best])) best = static_cast<int>(s);
      if (best < 0) {  // grow the largest free slot, or add one
        for (size_t s = 0; s < schedule_.slot_bytes.size(); ++s)
          if (slot_free[s] && (best < 0 || schedule_.slot_bytes[s] > schedule_.slot_bytes[best])) best = static_cast<int>(s);
        if (best < 0) {
          best = static_cast<int>(schedule_.slot_bytes.size());
          schedule_.slot_bytes.push_back(0);
          slot_free.push_back(0);
        }
        schedule_.slot_bytes[best] = need;
      }
      slot_free[best] = 0;
      schedule_.bindings[v].index = best;
    }
    for (int32_t v : frees[n]) slot_free[schedule_.bindings[v].index] = 1;
  }
}

}  // namespace

std::vector<plugin_helpers::NodeAnswer> query_support(const Graph& graph, const DeviceLimits& limits) {
  KernelSchedule scratch;
  Lowerer l(graph, limits, scratch);
  std::vector<plugin_helpers::NodeAnswer> answers(graph.nodes.size());
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    plugin_helpers::NodeAnswer& a = answers[i];
    try {
      l.lower_node(i);
      a.implementation = "opencl";
    } catch (const Refusal& r) {
      a.reason = r.reason;
      a.message = graph.nodes[i].op_type + ": " + r.message;
    } catch (const std::exception& e) {
      a.reason = SY_UNSUPPORTED_OTHER;
      a.message = graph.nodes[i].op_type + ": " + e.what();
    }
  }
  return answers;
}

KernelSchedule lower(const Graph& graph, const DeviceLimits& limits) {
  KernelSchedule schedule;
  Lowerer l(graph, limits, schedule);
  size_t i = 0;
  try {
    for (; i < graph.nodes.size(); ++i) l.lower_node(i);
    l.finish();
    schedule.fingerprint = fingerprint_graph(graph, l.baked_initializers());
  } catch (const Refusal& r) {
    std::string where = i < graph.nodes.size() ? graph.nodes[i].describe() + ": " : std::string();
    throw_error(StatusCode::unsupported, where + r.message);
  }
  return schedule;
}

}  // namespace switchyard::opencl
