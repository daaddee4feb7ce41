// The NPU simulator's compiler (support checks, weight conversion and reordering, buffer
// planning, native blob) and executor (host threads, float16 rounding after every op).
#include "npu_graph.h"
#include "npu_params.h"

#include "../common/checksum.h"

#include <level_zero/ze_api.h>

#include <algorithm>
#include <atomic>
#include <cfenv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <thread>

namespace npusim {

using switchyard::zeseg::Attr;
using switchyard::zeseg::Node;
using switchyard::zeseg::Segment;
using switchyard::zeseg::Value;

namespace {

enum ElemType : int32_t { kF32 = 1, kU8 = 2, kI8 = 3, kI32 = 6, kI64 = 7, kF16 = 10 };

enum OpCode : uint16_t {
  kConv = 1, kMatMul, kGemm, kAdd, kMul, kRelu, kClip, kSigmoid, kHardSwish, kMaxPool, kAveragePool,
  kGlobalAveragePool, kConcat, kReshape, kTranspose, kSoftmax, kQuantize, kDequantize, kQLinearConv, kQLinearMatMul,
  // Added with blob format 4.
  kBatchNorm, kSum, kSub, kDiv, kHardSigmoid, kFlatten,
  kLastOp = kFlatten
};

const std::map<std::string, OpCode>& op_table() {
  static const std::map<std::string, OpCode> t = {
      {"Conv", kConv}, {"MatMul", kMatMul}, {"Gemm", kGemm}, {"Add", kAdd}, {"Mul", kMul}, {"Relu", kRelu},
      {"Clip", kClip}, {"Sigmoid", kSigmoid}, {"HardSwish", kHardSwish}, {"MaxPool", kMaxPool},
      {"AveragePool", kAveragePool}, {"GlobalAveragePool", kGlobalAveragePool}, {"Concat", kConcat},
      {"Reshape", kReshape}, {"Transpose", kTranspose}, {"Softmax", kSoftmax}, {"QuantizeLinear", kQuantize},
      {"DequantizeLinear", kDequantize}, {"QLinearConv", kQLinearConv}, {"QLinearMatMul", kQLinearMatMul},
      {"BatchNormalization", kBatchNorm}, {"Sum", kSum}, {"Sub", kSub}, {"Div", kDiv}, {"HardSigmoid", kHardSigmoid},
      {"Flatten", kFlatten}};
  return t;
}

std::string type_name(int32_t t) {
  switch (t) {
    case kF32: return "float32";
    case kU8: return "uint8";
    case kI8: return "int8";
    case kI32: return "int32";
    case kI64: return "int64";
    case kF16: return "float16";
    case 11: return "float64";
    case 9: return "bool";
    case 16: return "bfloat16";
    default: return "element type " + std::to_string(t);
  }
}

std::string dims_text(const Value& v) {
  if (v.rank < 0) return "[?]";
  std::string s = "[";
  for (size_t i = 0; i < v.dims.size(); ++i) s += (i ? "," : "") + (v.dims[i] < 0 ? std::string("?") : std::to_string(v.dims[i]));
  return s + "]";
}

int elem_bytes_npu(int32_t t) {
  switch (t) {
    case kU8: case kI8: return 1;
    case kI32: return 4;
    case kI64: return 8;
    default: return 2;  // float16 (float32 is converted)
  }
}

int64_t numel(const std::vector<int64_t>& d) {
  int64_t n = 1;
  for (auto x : d) n *= x;
  return n;
}

int64_t attr_i(const Node& n, const char* name, int64_t fb) {
  const Attr* a = n.attr(name);
  return a && a->type == switchyard::zeseg::kInt ? a->i : fb;
}
float attr_f(const Node& n, const char* name, float fb) {
  const Attr* a = n.attr(name);
  return a && a->type == switchyard::zeseg::kFloat ? static_cast<float>(a->f) : fb;
}
std::vector<int64_t> attr_ints(const Node& n, const char* name) {
  const Attr* a = n.attr(name);
  return a && a->type == switchyard::zeseg::kInts ? a->ints : std::vector<int64_t>{};
}
std::string attr_s(const Node& n, const char* name, const std::string& fb) {
  const Attr* a = n.attr(name);
  return a && a->type == switchyard::zeseg::kString ? a->s : fb;
}

struct SegIndex {
  const Segment& seg;
  std::map<int32_t, const switchyard::zeseg::Initializer*> inits;
  explicit SegIndex(const Segment& s) : seg(s) {
    for (const auto& i : s.initializers) inits[i.value] = &i;
  }
  const switchyard::zeseg::Initializer* init(int32_t v) const {
    auto it = inits.find(v);
    return it == inits.end() ? nullptr : it->second;
  }
  const Value& val(int32_t v) const { return seg.values.at(static_cast<size_t>(v)); }
};

// Reads a numeric initializer as doubles.
std::vector<double> init_values(const switchyard::zeseg::Initializer& t) {
  std::vector<double> out;
  const int64_t n = numel(t.dims);
  auto need = [&](size_t b) {
    if (t.bytes.size() < static_cast<size_t>(n) * b) throw NpuError(ZE_RESULT_ERROR_INVALID_ARGUMENT, "initializer data shorter than its shape");
  };
  const char* p = t.bytes.data();
  for (int64_t i = 0; i < n; ++i) {
    switch (t.elem) {
      case kF32: { need(4); float v; std::memcpy(&v, p + 4 * i, 4); out.push_back(v); break; }
      case kF16: { need(2); uint16_t v; std::memcpy(&v, p + 2 * i, 2); out.push_back(f16_bits_to_f32(v)); break; }
      case kI8: need(1); out.push_back(static_cast<int8_t>(p[i])); break;
      case kU8: need(1); out.push_back(static_cast<uint8_t>(p[i])); break;
      case kI32: { need(4); int32_t v; std::memcpy(&v, p + 4 * i, 4); out.push_back(v); break; }
      case kI64: { need(8); int64_t v; std::memcpy(&v, p + 8 * i, 8); out.push_back(static_cast<double>(v)); break; }
      case 11: { need(8); double v; std::memcpy(&v, p + 8 * i, 8); out.push_back(v); break; }
      default: throw NpuError(ZE_RESULT_ERROR_INVALID_ARGUMENT, "initializer of " + type_name(t.elem) + " cannot be read");
    }
  }
  return out;
}

bool is_data_type(int32_t t) { return t == kF32 || t == kF16 || t == kI8 || t == kU8; }
bool is_float(int32_t t) { return t == kF32 || t == kF16; }

using Refusal = std::optional<NodeSupport>;

// A refusal with the ABI's reason code (1 op, 2 element type, 3 shape, 4 attribute, 5 size, 6 other).
NodeSupport refuse(uint32_t reason, const std::string& message) {
  NodeSupport s;
  s.reason = reason;
  s.message = "npusim: " + message;
  return s;
}

// Whether input `i` of `op` must be a compile-time constant (compiled into the blob).
bool must_be_constant(OpCode op, size_t i) {
  switch (op) {
    case kConv: return i >= 1;
    case kReshape: return i == 1;
    case kClip: return i >= 1;
    case kBatchNorm: return i >= 1;
    case kQuantize: case kDequantize: return i >= 1;
    case kQLinearConv: return i != 0;
    case kQLinearMatMul: return i != 0 && i != 3;
    default: return false;
  }
}

// Inputs: constants where the op needs them, static shapes, float16/int8 data; adds their bytes.
Refusal check_inputs(const SegIndex& ix, const Node& n, OpCode op, uint64_t& bytes) {
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    const int32_t v = n.inputs[i];
    if (v < 0) continue;
    const Value& val = ix.val(v);
    const auto* init = ix.init(v);
    if (must_be_constant(op, i) && !init)
      return refuse(3, "input " + std::to_string(i) + " ('" + val.name + "') of " + n.op_type + " must be a constant: the NPU compiles it into the blob");
    if (init) {
      bytes += static_cast<uint64_t>(numel(init->dims)) * elem_bytes_npu(init->elem);
      const bool int_ok = (op == kReshape && i == 1) || (op == kQLinearConv && i == 8 && init->elem == kI32);
      if (!is_data_type(init->elem) && !int_ok)
        return refuse(2, "constant '" + val.name + "' is " + type_name(init->elem) + "; the NPU computes in float16 and int8 only");
      continue;
    }
    if (val.rank < 0) return refuse(3, "static shapes only: input '" + val.name + "' has unknown rank");
    for (auto d : val.dims)
      if (d < 0) return refuse(3, "static shapes only: input '" + val.name + "' has dynamic dims " + dims_text(val));
    if (!is_data_type(val.elem))
      return refuse(2, "input '" + val.name + "' is " + type_name(val.elem) + "; the NPU computes in float16 and int8 only");
    bytes += static_cast<uint64_t>(numel(val.dims)) * elem_bytes_npu(val.elem);
  }
  return std::nullopt;
}

// Outputs: only the first, static shapes, float16/int8 data; adds their bytes.
Refusal check_outputs(const SegIndex& ix, const Node& n, uint64_t& bytes) {
  for (size_t i = 0; i < n.outputs.size(); ++i) {
    const int32_t v = n.outputs[i];
    if (v < 0) continue;
    if (i > 0) return refuse(1, n.op_type + " optional output " + std::to_string(i) + " (e.g. MaxPool indices) is not produced by the NPU");
    const Value& val = ix.val(v);
    if (val.rank < 0) return refuse(3, "static shapes only: output '" + val.name + "' has unknown rank");
    for (auto d : val.dims)
      if (d < 0) return refuse(3, "static shapes only: output '" + val.name + "' has dynamic dims " + dims_text(val));
    if (!is_data_type(val.elem))
      return refuse(2, "output '" + val.name + "' is " + type_name(val.elem) + "; the NPU computes in float16 and int8 only");
    bytes += static_cast<uint64_t>(numel(val.dims)) * elem_bytes_npu(val.elem);
  }
  return std::nullopt;
}

// The operator's own rules (ranks, data types, attributes the NPU does not take).
Refusal check_operator_rules(const SegIndex& ix, const Node& n, OpCode op) {
  const Value& x = ix.val(n.inputs[0]);
  auto in_rank = [&](size_t i) { return i < n.inputs.size() && n.inputs[i] >= 0 ? static_cast<int>(ix.val(n.inputs[i]).dims.size()) : -1; };
  auto in_elem = [&](size_t i) {
    if (i >= n.inputs.size() || n.inputs[i] < 0) return 0;
    const auto* init = ix.init(n.inputs[i]);
    return init ? init->elem : ix.val(n.inputs[i]).elem;
  };
  const std::string ap = attr_s(n, "auto_pad", "NOTSET");
  switch (op) {
    case kConv: case kQLinearConv: {
      const size_t wi = op == kConv ? 1 : 3;
      if (x.dims.size() != 4 || in_rank(wi) != 4) return refuse(3, n.op_type + ": only 2-D convolutions (rank-4 tensors) run on the NPU");
      if (ap != "NOTSET" && ap != "VALID" && ap != "SAME_UPPER" && ap != "SAME_LOWER") return refuse(4, "auto_pad=" + ap);
      if (op == kConv && (!is_float(x.elem) || !is_float(in_elem(1)))) return refuse(2, "Conv takes float data; int8 convolution is QLinearConv");
      if (op == kQLinearConv) {
        if (is_float(x.elem) || is_float(in_elem(3))) return refuse(2, "QLinearConv takes int8/uint8 data and weights");
        for (size_t i : {1, 2, 6, 7})
          if (numel(ix.init(n.inputs[i])->dims) != 1) return refuse(3, "QLinearConv x/y scales and zero points must be scalars");
        const auto* ws = ix.init(n.inputs[4]);
        const auto* w = ix.init(n.inputs[3]);
        if (numel(ws->dims) != 1 && numel(ws->dims) != w->dims[0]) return refuse(3, "QLinearConv w_scale must be a scalar or per output channel");
      }
      break;
    }
    case kMatMul:
      if (in_rank(0) < 2 || in_rank(1) < 2) return refuse(3, "MatMul with 1-D operands is not supported (rank >= 2 only)");
      if (!is_float(x.elem) || !is_float(in_elem(1))) return refuse(2, "MatMul takes float data; int8 is QLinearMatMul");
      break;
    case kQLinearMatMul:
      if (in_rank(0) < 2 || in_rank(3) < 2) return refuse(3, "QLinearMatMul with 1-D operands is not supported");
      if (is_float(x.elem) || is_float(in_elem(3))) return refuse(2, "QLinearMatMul takes int8/uint8 operands");
      for (size_t i : {1, 2, 4, 5, 6, 7})
        if (numel(ix.init(n.inputs[i])->dims) != 1) return refuse(3, "QLinearMatMul scales and zero points must be scalars (per-tensor)");
      break;
    case kGemm:
      if (in_rank(0) != 2 || in_rank(1) != 2) return refuse(3, "Gemm needs 2-D A and B");
      if (!is_float(x.elem)) return refuse(2, "Gemm takes float data");
      break;
    case kMaxPool: case kAveragePool:
      if (x.dims.size() != 4) return refuse(3, n.op_type + ": only 2-D pooling runs on the NPU");
      if (attr_i(n, "storage_order", 0) != 0) return refuse(4, "MaxPool storage_order=1");
      if (ap != "NOTSET" && ap != "VALID" && ap != "SAME_UPPER" && ap != "SAME_LOWER") return refuse(4, "auto_pad=" + ap);
      if (!is_float(x.elem)) return refuse(2, n.op_type + " takes float data on the NPU");
      break;
    case kGlobalAveragePool:
      if (x.dims.size() < 3) return refuse(3, "GlobalAveragePool needs rank >= 3");
      if (!is_float(x.elem)) return refuse(2, "GlobalAveragePool takes float data on the NPU");
      break;
    case kBatchNorm:
      if (x.dims.size() < 2) return refuse(3, "BatchNormalization needs rank >= 2 (channels on axis 1)");
      if (attr_i(n, "training_mode", 0) != 0) return refuse(4, "BatchNormalization training_mode=1 (the NPU runs the inference form)");
      for (size_t i = 0; i < n.inputs.size(); ++i)
        if (n.inputs[i] >= 0 && !is_float(in_elem(i))) return refuse(2, "BatchNormalization takes float data and statistics");
      for (size_t i = 1; i < 5; ++i)
        if (i >= n.inputs.size() || n.inputs[i] < 0 || numel(ix.init(n.inputs[i])->dims) != x.dims[1])
          return refuse(3, "BatchNormalization: scale, B, mean and var must hold one value per channel (" + std::to_string(x.dims[1]) + ")");
      break;
    case kAdd: case kMul: case kSub: case kDiv: case kSum: case kRelu: case kClip: case kSigmoid: case kHardSwish: case kHardSigmoid:
    case kSoftmax:
      for (size_t i = 0; i < n.inputs.size(); ++i)
        if (n.inputs[i] >= 0 && !(op == kClip && i > 0) && !is_float(in_elem(i)))
          return refuse(2, n.op_type + " takes float data on the NPU (int8 tensors go through DequantizeLinear)");
      break;
    case kQuantize: {
      if (!is_float(x.elem)) return refuse(2, "QuantizeLinear takes float input");
      if (n.inputs.size() > 2 && n.inputs[2] >= 0 && in_elem(2) != kI8 && in_elem(2) != kU8)
        return refuse(2, "QuantizeLinear to " + type_name(in_elem(2)) + ": the NPU quantizes to int8/uint8");
      if (attr_i(n, "saturate", 1) != 1) return refuse(4, "QuantizeLinear saturate=0");
      if (n.attr("block_size") && attr_i(n, "block_size", 0) != 0) return refuse(4, "blocked quantization");
      break;
    }
    case kDequantize:
      if (x.elem != kI8 && x.elem != kU8) return refuse(2, "DequantizeLinear from " + type_name(x.elem) + ": the NPU dequantizes int8/uint8");
      if (n.attr("block_size") && attr_i(n, "block_size", 0) != 0) return refuse(4, "blocked quantization");
      break;
    case kReshape: case kTranspose: case kConcat: case kFlatten: break;
  }
  return std::nullopt;
}

// One node's verdict: its message is filled when unsupported.
NodeSupport check_node(const SegIndex& ix, const Node& n, uint64_t limit) {
  if (!n.domain.empty() && n.domain != "ai.onnx") return refuse(1, "domain '" + n.domain + "' is not supported");
  auto it = op_table().find(n.op_type);
  if (it == op_table().end()) return refuse(1, n.op_type + " is not an NPU operator (the NPU runs Conv, BatchNormalization, MatMul, Gemm, Add, Sub, Mul, Div, Sum, activations, pooling, Concat, Reshape, Flatten, Transpose, Softmax and QDQ/QLinear ops)");
  for (const auto& a : n.attrs)
    if (a.type != 1 && a.type != 2 && a.type != 3 && a.type != 6 && a.type != 7)
      return refuse(4, "attribute '" + a.name + "' has a type the NPU compiler does not take");
  const OpCode op = it->second;
  uint64_t bytes = 0;
  if (auto r = check_inputs(ix, n, op, bytes)) return *r;
  if (auto r = check_outputs(ix, n, bytes)) return *r;
  if (n.inputs.empty() || n.inputs[0] < 0 || n.outputs.empty() || n.outputs[0] < 0) return refuse(6, "node has no data input or output");
  if (auto r = check_operator_rules(ix, n, op)) return *r;
  if (bytes > limit)
    return refuse(5, n.op_type + " needs " + std::to_string(bytes) + " bytes of on-chip memory (weights + inputs + outputs), above the limit of " +
                         std::to_string(limit) + " bytes");
  return NodeSupport{};
}

// ---------------------------------------------------------------------------------------------
// Blob encoding helpers


constexpr char kBlobMagic[8] = {'S', 'Y', 'N', 'P', 'U', 'B', 'L', 'B'};
constexpr size_t kBlobHeader = 8 + 4 + 32 + 8 + 8;  // magic, version, compiler, payload size, checksum

}  // namespace

// ---------------------------------------------------------------------------------------------
// float16

#if defined(__FLT16_MANT_DIG__)
uint16_t f32_to_f16_bits(float x) {
  _Float16 h = static_cast<_Float16>(x);
  uint16_t b;
  std::memcpy(&b, &h, 2);
  return b;
}
float f16_bits_to_f32(uint16_t b) {
  _Float16 h;
  std::memcpy(&h, &b, 2);
  return static_cast<float>(h);
}
float round_f16(float x) { return static_cast<float>(static_cast<_Float16>(x)); }
#else
// Compilers without _Float16 on this target (clang before 15 on x86-64, used by the fuzz build):
// the same IEEE conversions in software, rounding to nearest even.
uint16_t f32_to_f16_bits(float x) {
  uint32_t f;
  std::memcpy(&f, &x, 4);
  const uint32_t sign = (f >> 16) & 0x8000u, a = f & 0x7fffffffu;
  if (a >= 0x7f800000u) return static_cast<uint16_t>(sign | 0x7c00u | (a > 0x7f800000u ? 0x200u | ((a >> 13) & 0x3ffu) : 0u));
  if (a >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // 65520 and above round to infinity
  if (a < 0x38800000u) {                                                 // below 2^-14: a subnormal half or zero
    const int exp = static_cast<int>(a >> 23);
    if (exp < 102) return static_cast<uint16_t>(sign);  // below 2^-25 (2^-25 itself ties to zero)
    const uint32_t mant = (a & 0x7fffffu) | 0x800000u;
    const int shift = 126 - exp;  // 14..24
    uint32_t h = mant >> shift;
    const uint32_t rem = mant & ((1u << shift) - 1), half = 1u << (shift - 1);
    if (rem > half || (rem == half && (h & 1u))) ++h;
    return static_cast<uint16_t>(sign | h);
  }
  uint32_t h = (a >> 13) - (112u << 10);
  const uint32_t rem = a & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) ++h;
  return static_cast<uint16_t>(sign | h);
}
float f16_bits_to_f32(uint16_t b) {
  const uint32_t sign = static_cast<uint32_t>(b & 0x8000u) << 16, e = (b >> 10) & 0x1fu, m = b & 0x3ffu;
  uint32_t f;
  if (e == 0) {
    const float v = std::ldexp(static_cast<float>(m), -24);
    return sign ? -v : v;
  }
  f = e == 31 ? (sign | 0x7f800000u | (m << 13)) : (sign | ((e + 112u) << 23) | (m << 13));
  float out;
  std::memcpy(&out, &f, 4);
  return out;
}
float round_f16(float x) { return f16_bits_to_f32(f32_to_f16_bits(x)); }
#endif

// The NPU's max/min/clamp units pass a NaN operand through, as ONNX does (Relu(NaN) = NaN, a MaxPool
// window holding a NaN gives NaN). std::max/std::min compare with `<` and drop a NaN on one side.
float max_nan(float a, float b) { return std::isnan(a) || std::isnan(b) ? NAN : std::max(a, b); }
float min_nan(float a, float b) { return std::isnan(a) || std::isnan(b) ? NAN : std::min(a, b); }
float clamp_nan(float x, float lo, float hi) { return min_nan(max_nan(x, lo), hi); }

const Settings& settings() {
  static const Settings s = [] {
    Settings s;
    auto num = [](const char* name, double fb) {
      const char* v = std::getenv(name);
      if (!v || !*v) return fb;
      char* end = nullptr;
      double d = std::strtod(v, &end);
      return end && *end == 0 && d > 0 ? d : fb;
    };
    s.memory_limit_bytes = static_cast<uint64_t>(num("SWITCHYARD_NPUSIM_MEMORY_MB", 32) * 1024 * 1024);
    s.threads = static_cast<int>(num("SWITCHYARD_NPUSIM_THREADS", std::max(1u, std::thread::hardware_concurrency())));
    s.tops_int8 = num("SWITCHYARD_NPUSIM_TOPS_INT8", 4);
    s.tflops_f16 = num("SWITCHYARD_NPUSIM_TFLOPS_F16", 2);
    s.watts = num("SWITCHYARD_NPUSIM_WATTS", 5);
    return s;
  }();
  return s;
}

std::vector<NodeSupport> query_support(const Segment& seg, uint64_t limit) {
  SegIndex ix(seg);
  std::vector<NodeSupport> out;
  for (const auto& n : seg.nodes) out.push_back(check_node(ix, n, limit));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Compiler

namespace {

struct Compiler {
  const Segment& seg;
  SegIndex ix;
  Program p;
  std::map<int32_t, int32_t> arena_of;  // segment value -> tensor id
  // BatchNormalization folded into the Conv before it: conv node index -> BN node index.
  std::map<size_t, size_t> fold_bn;
  std::set<size_t> folded;  // BN node indices that have no operation of their own
  explicit Compiler(const Segment& s) : seg(s), ix(s) {}

  // A BN folds into a Conv when it reads the Conv's output, nothing else reads that output and
  // it is not a segment output (it never exists after folding), and the channels match.
  void find_folds() {
    std::map<int32_t, int> uses;
    for (const auto& n : seg.nodes)
      for (auto v : n.inputs)
        if (v >= 0) ++uses[v];
    for (auto v : seg.outputs) ++uses[v];
    std::map<int32_t, size_t> producer;
    for (size_t k = 0; k < seg.nodes.size(); ++k)
      if (seg.nodes[k].op_type == "Conv" && !seg.nodes[k].outputs.empty()) producer[seg.nodes[k].outputs[0]] = k;
    for (size_t k = 0; k < seg.nodes.size(); ++k) {
      const Node& bn = seg.nodes[k];
      if (bn.op_type != "BatchNormalization" || bn.inputs.empty()) continue;
      auto it = producer.find(bn.inputs[0]);
      if (it == producer.end() || uses[bn.inputs[0]] != 1 || fold_bn.count(it->second)) continue;
      const auto* w = ix.init(seg.nodes[it->second].inputs.size() > 1 ? seg.nodes[it->second].inputs[1] : -1);
      const auto* sc = ix.init(bn.inputs[1]);
      if (!w || !sc || w->dims.empty() || numel(sc->dims) != w->dims[0]) continue;
      fold_bn[it->second] = k;
      folded.insert(k);
    }
  }
  // BatchNormalization (inference form) as y = x * s + t per channel, computed in double.
  void bn_scale_shift(const Node& bn, std::vector<double>& s, std::vector<double>& t) {
    const double eps = attr_f(bn, "epsilon", 1e-5f);
    auto g = values(bn.inputs[1]), b = values(bn.inputs[2]), m = values(bn.inputs[3]), v = values(bn.inputs[4]);
    s.resize(g.size());
    t.resize(g.size());
    for (size_t c = 0; c < g.size(); ++c) {
      s[c] = g[c] / std::sqrt(v[c] + eps);
      t[c] = b[c] - m[c] * s[c];
    }
  }

  int32_t add(TensorDesc d) {
    p.tensors.push_back(std::move(d));
    return static_cast<int32_t>(p.tensors.size() - 1);
  }
  int32_t act(int32_t v) {  // an activation tensor in the arena
    if (v < 0) return -1;
    auto it = arena_of.find(v);
    if (it != arena_of.end()) return it->second;
    const Value& val = ix.val(v);
    TensorDesc d;
    d.dt = static_cast<uint8_t>(val.elem == kF32 ? kF16 : val.elem);
    d.loc = 0;
    d.dims = val.dims;
    d.bytes = static_cast<uint64_t>(numel(d.dims)) * elem_bytes_npu(d.dt);
    return arena_of[v] = add(d);
  }
  // A weight tensor: values converted to the NPU type, written in `order` (element indices).
  int32_t weight(int32_t dt, std::vector<int64_t> dims, const std::vector<double>& vals, uint8_t layout = 0) {
    while (p.weights.size() % 64) p.weights.push_back(0);
    TensorDesc d;
    d.dt = static_cast<uint8_t>(dt);
    d.loc = 1;
    d.layout = layout;
    d.dims = std::move(dims);
    d.offset = p.weights.size();
    for (double v : vals) {
      if (dt == kF16) {
        uint16_t h = f32_to_f16_bits(static_cast<float>(v));
        p.weights.append(reinterpret_cast<const char*>(&h), 2);
      } else if (dt == kI8 || dt == kU8) {
        p.weights.push_back(static_cast<char>(static_cast<int>(v)));
      } else {
        int32_t i = static_cast<int32_t>(v);
        p.weights.append(reinterpret_cast<const char*>(&i), 4);
      }
    }
    d.bytes = p.weights.size() - d.offset;
    return add(d);
  }
  int32_t const_input(int32_t v) {  // plain constant data input (Add with a constant, ...)
    const auto* init = ix.init(v);
    int32_t dt = init->elem == kF32 ? kF16 : init->elem;
    return weight(dt, init->dims, init_values(*init));
  }
  int32_t data(int32_t v) { return v < 0 ? -1 : ix.init(v) ? const_input(v) : act(v); }
  double scalar(int32_t v, double fb) {
    if (v < 0) return fb;
    auto vals = init_values(*ix.init(v));
    return vals.empty() ? fb : vals[0];
  }
  std::vector<double> values(int32_t v) { return v < 0 ? std::vector<double>{} : init_values(*ix.init(v)); }

  // The 2-D window of a Conv or pooling node: kernel, strides, dilations, pads (auto_pad resolved).
  Window window(const Node& n, int64_t kh, int64_t kw, const std::vector<int64_t>& in, const std::vector<int64_t>& out) {
    auto st = attr_ints(n, "strides");
    auto dl = attr_ints(n, "dilations");
    auto pd = attr_ints(n, "pads");
    if (st.size() != 2) st = {1, 1};
    if (dl.size() != 2) dl = {1, 1};
    if (pd.size() != 4) pd = {0, 0, 0, 0};
    const std::string ap = attr_s(n, "auto_pad", "NOTSET");
    if (ap == "VALID") pd = {0, 0, 0, 0};
    if (ap == "SAME_UPPER" || ap == "SAME_LOWER") {
      for (int a = 0; a < 2; ++a) {
        int64_t k = a ? kw : kh;
        int64_t total = std::max<int64_t>(0, (out[2 + a] - 1) * st[a] + (k - 1) * dl[a] + 1 - in[2 + a]);
        int64_t small = total / 2, big = total - small;
        pd[a] = ap == "SAME_UPPER" ? small : big;
        pd[a + 2] = ap == "SAME_UPPER" ? big : small;
      }
    }
    return {kh, kw, st[0], st[1], dl[0], dl[1], pd[0], pd[1], pd[2], pd[3]};
  }

  // The node's input i, or -1 when absent.
  static int32_t input(const Node& n, size_t i) { return i < n.inputs.size() ? n.inputs[i] : -1; }

  // Conv (with a BatchNormalization folded in when bn is set) and QLinearConv.
  void conv(const Node& n, const Node* bn, const Value& y, Op& op) {
    const bool q = op.code == kQLinearConv;
    const int32_t xv = input(n, 0), wv = input(n, q ? 3 : 1), bv = input(n, q ? 8 : 2);
    const auto* w = ix.init(wv);
    const int64_t cout = w->dims[0], cin_g = w->dims[1], kh = w->dims[2], kw = w->dims[3];
    const int64_t g = attr_i(n, "group", 1);
    if (g <= 0 || cout % g || ix.val(xv).dims[1] != cin_g * g)
      throw NpuError(ZE_RESULT_ERROR_INVALID_ARGUMENT, n.op_type + ": channels do not match group=" + std::to_string(g));
    const int64_t cout_g = cout / g, B = std::min<int64_t>(16, cout_g), nb = (cout_g + B - 1) / B;
    // Reorder [Cout][Cin_g][kh][kw] into blocks of B output channels, B innermost.
    auto wv_vals = init_values(*w);
    std::vector<double> folded_bias;
    if (bn) {  // w' = w * s, b' = b * s + t, in double before the float16 conversion
      std::vector<double> sc, sh;
      bn_scale_shift(*bn, sc, sh);
      const int64_t per = cin_g * kh * kw;
      for (int64_t oc = 0; oc < cout; ++oc)
        for (int64_t r = 0; r < per; ++r) wv_vals[static_cast<size_t>(oc * per + r)] *= sc[static_cast<size_t>(oc)];
      folded_bias = bv >= 0 ? values(bv) : std::vector<double>(static_cast<size_t>(cout), 0.0);
      for (int64_t oc = 0; oc < cout; ++oc)
        folded_bias[static_cast<size_t>(oc)] = folded_bias[static_cast<size_t>(oc)] * sc[static_cast<size_t>(oc)] + sh[static_cast<size_t>(oc)];
    }
    std::vector<double> blocked(static_cast<size_t>(g * nb * cin_g * kh * kw * B), 0.0);
    for (int64_t oc = 0; oc < cout; ++oc) {
      const int64_t gi = oc / cout_g, ol = oc % cout_g, b = ol / B, o = ol % B;
      for (int64_t r = 0; r < cin_g * kh * kw; ++r)
        blocked[static_cast<size_t>((((gi * nb + b) * cin_g * kh * kw) + r) * B + o)] = wv_vals[static_cast<size_t>(oc * cin_g * kh * kw + r)];
    }
    const int32_t wdt = q ? w->elem : kF16;
    op.in = {act(xv), weight(wdt, {g, nb, cin_g, kh, kw, B}, blocked, 1), -1};
    if (bn) {
      op.in[2] = weight(kF16, {cout}, folded_bias);
    } else if (bv >= 0) {
      auto b = values(bv);
      op.in[2] = weight(q ? kI32 : kF16, {cout}, b);
    }
    ConvParams{g, B, nb, window(n, kh, kw, ix.val(xv).dims, y.dims)}.encode(op);
    if (q) quant_conv(n, cout).encode(op);
    p.op_count += static_cast<uint64_t>(2 * numel(y.dims) * cin_g * kh * kw);
  }
  QuantConvParams quant_conv(const Node& n, int64_t cout) {
    QuantConvParams qp;
    const double xs = scalar(input(n, 1), 1), xz = scalar(input(n, 2), 0), ys = scalar(input(n, 6), 1), yz = scalar(input(n, 7), 0);
    auto ws = values(input(n, 4)), wz = values(input(n, 5));
    qp.x_scale = static_cast<float>(xs), qp.y_scale = static_cast<float>(ys), qp.x_zero = static_cast<float>(xz), qp.y_zero = static_cast<float>(yz);
    for (int64_t oc = 0; oc < cout; ++oc) qp.w_scale.push_back(static_cast<float>(ws.size() == 1 ? ws[0] : ws[static_cast<size_t>(oc)]));
    for (int64_t oc = 0; oc < cout; ++oc)
      qp.w_zero.push_back(static_cast<float>(wz.empty() ? 0 : wz.size() == 1 ? wz[0] : wz[static_cast<size_t>(oc)]));
    return qp;
  }

  // MatMul, Gemm and QLinearMatMul.
  void matmul(const Node& n, const Value& y, Op& op) {
    const bool q = op.code == kQLinearMatMul;
    const int32_t av = input(n, 0), bvv = input(n, q ? 3 : 1);
    const auto& ad = ix.val(av).dims;
    const auto* binit = ix.init(bvv);
    const bool transA = op.code == kGemm && attr_i(n, "transA", 0);
    const bool transB = op.code == kGemm && attr_i(n, "transB", 0);
    const int64_t K = transA ? ad[0] : ad[ad.size() - 1];
    int32_t bt;
    if (binit && binit->dims.size() == 2) {
      // Constant 2-D B: stored transposed [N][K] so every output is a contiguous dot product.
      auto vals = init_values(*binit);
      const int64_t N = transB ? binit->dims[0] : binit->dims[1];
      std::vector<double> t(static_cast<size_t>(N * K));
      for (int64_t k = 0; k < K; ++k)
        for (int64_t j = 0; j < N; ++j)
          t[static_cast<size_t>(j * K + k)] = vals[static_cast<size_t>(transB ? j * K + k : k * N + j)];
      bt = weight(q ? binit->elem : kF16, {N, K}, t, 2);
    } else {
      bt = data(bvv);
    }
    op.in = {act(av), bt};
    if (op.code == kGemm) {
      op.in.push_back(data(input(n, 2)));
      GemmParams{transA, transB, attr_f(n, "alpha", 1), attr_f(n, "beta", 1)}.encode(op);
    }
    if (q) {
      auto f = [&](size_t i, double fb) { return static_cast<float>(scalar(input(n, i), fb)); };
      QuantMatMulParams{f(1, 1), f(2, 0), f(4, 1), f(5, 0), f(6, 1), f(7, 0)}.encode(op);
    }
    p.op_count += static_cast<uint64_t>(2 * numel(y.dims) * K);
  }

  // QuantizeLinear and DequantizeLinear.
  void quantize(const Node& n, const Value& y, Op& op) {
    auto sc = values(input(n, 1)), zp = values(input(n, 2));
    int64_t axis = attr_i(n, "axis", 1);
    const int64_t r = static_cast<int64_t>(ix.val(input(n, 0)).dims.size());
    if (axis < 0) axis += r;
    op.in = {data(input(n, 0))};
    QuantizeParams qp{sc.size() > 1 ? axis : -1, {}, {}};
    for (double s : sc) qp.scale.push_back(static_cast<float>(s));
    const size_t ns = sc.size();
    for (size_t i = 0; i < ns; ++i) qp.zero_point.push_back(static_cast<float>(zp.empty() ? 0 : zp.size() == 1 ? zp[0] : zp[i]));
    qp.encode(op);
    p.op_count += static_cast<uint64_t>(numel(y.dims));
  }

  // The element-wise, pooling and layout operations.
  void simple(const Node& n, const Value& y, Op& op) {
    const auto in = [&](size_t i) { return input(n, i); };
    switch (op.code) {
      case kAdd: case kMul: case kSub: case kDiv:
        op.in = {data(in(0)), data(in(1))};
        p.op_count += static_cast<uint64_t>(numel(y.dims));
        break;
      case kSum:
        for (auto v : n.inputs) op.in.push_back(data(v));
        p.op_count += static_cast<uint64_t>(numel(y.dims) * std::max<int64_t>(1, static_cast<int64_t>(n.inputs.size()) - 1));
        break;
      case kRelu: case kSigmoid: case kHardSwish:
        op.in = {act(in(0))};
        p.op_count += static_cast<uint64_t>(numel(y.dims));
        break;
      case kHardSigmoid:
        op.in = {act(in(0))};
        HardSigmoidParams{attr_f(n, "alpha", 0.2f), attr_f(n, "beta", 0.5f)}.encode(op);
        p.op_count += static_cast<uint64_t>(2 * numel(y.dims));
        break;
      case kBatchNorm: {  // standalone: per-channel scale and shift
        std::vector<double> sc, sh;
        bn_scale_shift(n, sc, sh);
        const int64_t C = static_cast<int64_t>(sc.size());
        op.in = {data(in(0)), weight(kF16, {C}, sc), weight(kF16, {C}, sh)};
        p.op_count += static_cast<uint64_t>(2 * numel(y.dims));
        break;
      }
      case kFlatten: case kReshape:
        op.in = {data(in(0))};
        break;
      case kClip: {
        const bool from_attrs = n.opset < 11;
        op.in = {act(in(0))};
        ClipParams{from_attrs ? attr_f(n, "min", -INFINITY) : static_cast<float>(scalar(in(1), -INFINITY)),
                   from_attrs ? attr_f(n, "max", INFINITY) : static_cast<float>(scalar(in(2), INFINITY))}
            .encode(op);
        break;
      }
      case kMaxPool: case kAveragePool: {
        auto k = attr_ints(n, "kernel_shape");
        if (k.size() != 2) throw NpuError(ZE_RESULT_ERROR_INVALID_ARGUMENT, n.op_type + " needs a 2-D kernel_shape");
        op.in = {act(in(0))};
        PoolParams{window(n, k[0], k[1], ix.val(in(0)).dims, y.dims), attr_i(n, "count_include_pad", 0)}.encode(op);
        p.op_count += static_cast<uint64_t>(numel(y.dims) * k[0] * k[1]);
        break;
      }
      case kGlobalAveragePool:
        op.in = {act(in(0))};
        p.op_count += static_cast<uint64_t>(numel(ix.val(in(0)).dims));
        break;
      default:
        layout(n, y, op);
    }
  }

  // Concat, Transpose and Softmax: operations with axis parameters.
  void layout(const Node& n, const Value& y, Op& op) {
    const int64_t rank = static_cast<int64_t>(y.dims.size());
    switch (op.code) {
      case kConcat: {
        for (auto v : n.inputs) op.in.push_back(data(v));
        int64_t axis = attr_i(n, "axis", 0);
        if (axis < 0) axis += rank;
        ConcatParams{axis}.encode(op);
        break;
      }
      case kTranspose: {
        auto perm = attr_ints(n, "perm");
        if (perm.empty())
          for (int64_t i = rank - 1; i >= 0; --i) perm.push_back(i);
        op.in = {data(input(n, 0))};
        TransposeParams{perm}.encode(op);
        break;
      }
      case kSoftmax: {
        int64_t axis = attr_i(n, "axis", n.opset < 13 ? 1 : -1);
        if (axis < 0) axis += rank;
        op.in = {act(input(n, 0))};
        SoftmaxParams{axis, n.opset < 13}.encode(op);
        p.op_count += static_cast<uint64_t>(3 * numel(y.dims));
        break;
      }
    }
  }

  void node(size_t index) {
    if (folded.count(index)) return;
    const Node& n = seg.nodes[index];
    Op op;
    op.code = op_table().at(n.op_type);
    auto fold = fold_bn.find(index);
    const Node* bn = fold == fold_bn.end() ? nullptr : &seg.nodes[fold->second];
    const int32_t out_value = bn ? bn->outputs[0] : n.outputs[0];
    const Value& y = ix.val(out_value);
    switch (op.code) {
      case kConv: case kQLinearConv: conv(n, bn, y, op); break;
      case kMatMul: case kGemm: case kQLinearMatMul: matmul(n, y, op); break;
      case kQuantize: case kDequantize: quantize(n, y, op); break;
      default: simple(n, y, op);
    }
    const int32_t yt = act(out_value);
    // An output produced with a type the node decides (QuantizeLinear without zero point: uint8).
    if (op.code == kQuantize && input(n, 2) < 0) p.tensors[static_cast<size_t>(yt)].dt = kU8;
    op.out = {yt};
    p.ops.push_back(std::move(op));
  }

  // First-fit planning over lifetimes (op indices); the arena holds every activation,
  // graph inputs from the start and graph outputs until the end.
  void plan() {
    const int32_t nt = static_cast<int32_t>(p.tensors.size());
    std::vector<int64_t> first(static_cast<size_t>(nt), -2), last(static_cast<size_t>(nt), -2);
    const int64_t nops = static_cast<int64_t>(p.ops.size());
    for (auto t : p.inputs) first[static_cast<size_t>(t)] = -1, last[static_cast<size_t>(t)] = -1;
    for (int64_t k = 0; k < nops; ++k) {
      for (auto t : p.ops[static_cast<size_t>(k)].in)
        if (t >= 0) last[static_cast<size_t>(t)] = std::max(last[static_cast<size_t>(t)], k);
      for (auto t : p.ops[static_cast<size_t>(k)].out)
        if (first[static_cast<size_t>(t)] == -2) first[static_cast<size_t>(t)] = k, last[static_cast<size_t>(t)] = std::max(last[static_cast<size_t>(t)], k);
    }
    for (auto t : p.outputs) last[static_cast<size_t>(t)] = nops;
    struct Block { int64_t a, b; uint64_t off, size; };
    std::vector<Block> placed;
    std::vector<int32_t> order;
    for (int32_t t = 0; t < nt; ++t)
      if (p.tensors[static_cast<size_t>(t)].loc == 0 && first[static_cast<size_t>(t)] != -2) order.push_back(t);
    std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return p.tensors[static_cast<size_t>(a)].bytes > p.tensors[static_cast<size_t>(b)].bytes; });
    uint64_t top = 0;
    for (int32_t t : order) {
      auto& d = p.tensors[static_cast<size_t>(t)];
      const uint64_t size = (std::max<uint64_t>(d.bytes, 1) + 63) / 64 * 64;
      const int64_t a = first[static_cast<size_t>(t)], b = last[static_cast<size_t>(t)];
      std::vector<std::pair<uint64_t, uint64_t>> busy;
      for (const auto& blk : placed)
        if (!(blk.b < a || b < blk.a)) busy.push_back({blk.off, blk.off + blk.size});
      std::sort(busy.begin(), busy.end());
      uint64_t off = 0;
      for (const auto& [s, e] : busy) {
        if (off + size <= s) break;
        off = std::max(off, e);
      }
      d.offset = off;
      placed.push_back({a, b, off, size});
      top = std::max(top, off + size);
    }
    p.arena_bytes = top;
  }
};

}  // namespace

Program compile(const Segment& seg, uint64_t limit) {
  auto sup = query_support(seg, limit);
  for (size_t i = 0; i < sup.size(); ++i)
    if (sup[i].reason != 0)
      throw NpuError(sup[i].reason == 5 ? ZE_RESULT_ERROR_OUT_OF_DEVICE_MEMORY : ZE_RESULT_ERROR_UNSUPPORTED_FEATURE,
                     "node " + std::to_string(i) + " (" + seg.nodes[i].op_type + "): " + sup[i].message);
  Compiler c(seg);
  for (auto v : seg.inputs) {
    const Value& val = c.ix.val(v);
    if (!is_data_type(val.elem) || val.rank < 0 || std::any_of(val.dims.begin(), val.dims.end(), [](int64_t d) { return d < 0; }))
      throw NpuError(ZE_RESULT_ERROR_UNSUPPORTED_FEATURE, "npusim: graph input '" + val.name + "' " + type_name(val.elem) + dims_text(val) +
                                                              " needs a static shape and a float16/float32/int8/uint8 type");
    int32_t t = c.act(v);
    c.p.tensors[static_cast<size_t>(t)].io_dt = static_cast<uint8_t>(val.elem);
    c.p.inputs.push_back(t);
  }
  c.find_folds();
  for (size_t k = 0; k < seg.nodes.size(); ++k) c.node(k);
  for (auto v : seg.outputs) {
    const Value& val = c.ix.val(v);
    auto it = c.arena_of.find(v);
    if (it == c.arena_of.end() || std::count(seg.inputs.begin(), seg.inputs.end(), v))
      throw NpuError(ZE_RESULT_ERROR_UNSUPPORTED_FEATURE, "npusim: graph output '" + val.name + "' is not computed by the graph (an input or a constant)");
    if (!is_data_type(val.elem)) throw NpuError(ZE_RESULT_ERROR_UNSUPPORTED_FEATURE, "npusim: graph output '" + val.name + "' is " + type_name(val.elem));
    if (std::count(c.p.outputs.begin(), c.p.outputs.end(), it->second))
      throw NpuError(ZE_RESULT_ERROR_UNSUPPORTED_FEATURE, "npusim: graph output '" + val.name + "' is listed twice");
    c.p.tensors[static_cast<size_t>(it->second)].io_dt = static_cast<uint8_t>(val.elem);
    c.p.outputs.push_back(it->second);
  }
  c.plan();
  const uint64_t need = c.p.arena_bytes + c.p.weights.size();
  if (need > limit)
    throw NpuError(ZE_RESULT_ERROR_OUT_OF_DEVICE_MEMORY,
                   "npusim: the graph needs " + std::to_string(need) + " bytes of on-chip memory (" + std::to_string(c.p.weights.size()) +
                       " weights + " + std::to_string(c.p.arena_bytes) + " planned activations), above the limit of " + std::to_string(limit) +
                       " bytes");
  return std::move(c.p);
}

// ---------------------------------------------------------------------------------------------
// Native blob

std::string to_blob(const Program& p) {
  switchyard::zeseg::Writer w;
  w.pod<uint64_t>(p.arena_bytes);
  w.pod<uint64_t>(p.op_count);
  w.pod<uint32_t>(static_cast<uint32_t>(p.tensors.size()));
  for (const auto& t : p.tensors) {
    w.pod<uint8_t>(t.dt), w.pod<uint8_t>(t.loc), w.pod<uint8_t>(t.layout), w.pod<uint8_t>(t.io_dt);
    w.pod<uint32_t>(static_cast<uint32_t>(t.dims.size()));
    for (auto d : t.dims) w.pod<int64_t>(d);
    w.pod<uint64_t>(t.offset), w.pod<uint64_t>(t.bytes);
  }
  w.pod<uint32_t>(static_cast<uint32_t>(p.ops.size()));
  for (const auto& o : p.ops) {
    w.pod<uint16_t>(o.code);
    for (const auto* v : {&o.in, &o.out}) {
      w.pod<uint32_t>(static_cast<uint32_t>(v->size()));
      for (auto x : *v) w.pod<int32_t>(x);
    }
    w.pod<uint32_t>(static_cast<uint32_t>(o.i.size()));
    for (auto x : o.i) w.pod<int64_t>(x);
    w.pod<uint32_t>(static_cast<uint32_t>(o.f.size()));
    for (auto x : o.f) w.pod<float>(x);
  }
  for (const auto* v : {&p.inputs, &p.outputs}) {
    w.pod<uint32_t>(static_cast<uint32_t>(v->size()));
    for (auto x : *v) w.pod<int32_t>(x);
  }
  w.pod<uint64_t>(p.weights.size());
  w.raw(p.weights.data(), p.weights.size());
  const std::string& payload = w.out;
  std::string out(kBlobMagic, 8);
  const uint32_t ver = settings().blob_version;
  out.append(reinterpret_cast<const char*>(&ver), 4);
  char comp[32] = {};
  std::strncpy(comp, settings().compiler_version.c_str(), 31);
  out.append(comp, 32);
  const uint64_t size = payload.size(), sum = switchyard::zeseg::checksum64(payload.data(), payload.size());
  out.append(reinterpret_cast<const char*>(&size), 8);
  out.append(reinterpret_cast<const char*>(&sum), 8);
  out += payload;
  return out;
}

namespace {

// What the executor assumes of every operation, checked once when a blob is loaded: a blob whose
// checksums match but whose program is inconsistent (hand-made, or from a buggy compiler) is
// refused instead of making the executor read or write outside its tensors. Tensor element counts
// are already known not to overflow, and every tensor to lie inside its section.
class OperationChecker {
 public:
  explicit OperationChecker(const Program& p) : p_(p), T(p.tensors) {}

  void check_all() const {
    uint64_t weight_elements = 0;
    for (const auto& t : T)
      if (t.loc == 1) weight_elements += static_cast<uint64_t>(numel(t.dims));  // each <= its bytes <= the section
    if (weight_elements > p_.weights.size()) bad("weight tensors overlap");  // the executor expands each one
    for (const auto& o : p_.ops) check(o);
  }

 private:
  const Program& p_;
  const std::vector<TensorDesc>& T;

  [[noreturn]] static void bad(const std::string& why) { throw std::runtime_error("operation inconsistent: " + why); }
  int64_t n_of(int32_t t) const { return numel(T[static_cast<size_t>(t)].dims); }
  const std::vector<int64_t>& dims(int32_t t) const { return T[static_cast<size_t>(t)].dims; }
  static bool broadcasts_to(const std::vector<int64_t>& in, const std::vector<int64_t>& out) {
    if (in.size() > out.size()) return false;
    for (size_t i = 0; i < in.size(); ++i)
      if (in[i] != 1 && in[i] != out[out.size() - in.size() + i]) return false;
    return true;
  }
  // Products of operation parameters: each factor in [1, 2^24] and the product bounded by `limit`.
  static int64_t product(std::initializer_list<int64_t> f, int64_t limit) {
    int64_t n = 1;
    for (int64_t v : f) {
      if (v < 1 || v > (int64_t{1} << 24)) bad("parameter out of range");
      if (n > limit / v) bad("parameters too large");
      n *= v;
    }
    return n;
  }
  static void small(int64_t v) {
    if (v < 0 || v > (int64_t{1} << 24)) bad("parameter out of range");
  }
  static void need_inputs(const Op& o, size_t n) {
    if (o.in.size() < n) bad("missing inputs");
  }

  void check(const Op& o) const {
    const bool optional_third = o.code == kConv || o.code == kQLinearConv || o.code == kGemm;
    if (o.in.empty()) bad("no input");
    for (size_t k = 0; k < o.in.size(); ++k)
      if (o.in[k] < 0 && !(optional_third && k == 2)) bad("a required input is absent");
    const auto &xd = dims(o.in[0]), &yd = dims(o.out[0]);
    const int64_t xn = n_of(o.in[0]), yn = n_of(o.out[0]);
    switch (o.code) {
      case kRelu: case kSigmoid: case kHardSwish: case kFlatten: case kReshape: break;
      case kClip: ClipParams::decode(o); break;
      case kHardSigmoid: HardSigmoidParams::decode(o); break;
      case kSoftmax: SoftmaxParams::decode(o); break;
      case kQuantize: case kDequantize: QuantizeParams::decode(o); break;
      default: return check_shaped(o, xd, yd);
    }
    if (xn < yn) bad("input smaller than output");
  }

  void check_shaped(const Op& o, const std::vector<int64_t>& xd, const std::vector<int64_t>& yd) const {
    const int64_t xn = n_of(o.in[0]), yn = n_of(o.out[0]);
    switch (o.code) {
      case kAdd: case kMul: case kSub: case kDiv:
        need_inputs(o, 2);
        if (!broadcasts_to(xd, yd) || !broadcasts_to(dims(o.in[1]), yd)) bad("inputs do not broadcast to the output");
        break;
      case kSum:
        for (auto t : o.in)
          if (!broadcasts_to(dims(t), yd)) bad("inputs do not broadcast to the output");
        break;
      case kBatchNorm:
        need_inputs(o, 3);
        if (xd.size() < 2 || xn < yn || (yn > 0 && xd[1] < 1) || n_of(o.in[1]) < xd[1] || n_of(o.in[2]) < xd[1]) bad("batch normalization shapes");
        break;
      case kGlobalAveragePool:
        if (xd.size() < 2 || xd[0] * xd[1] < 1 || yn < xd[0] * xd[1]) bad("pooling shapes");
        break;
      case kMaxPool: case kAveragePool: check_pool(o, xd, yd); break;
      case kConv: case kQLinearConv: check_conv(o, xd, yd); break;
      case kMatMul: case kGemm: case kQLinearMatMul: check_matmul(o, xd, yd); break;
      case kConcat: check_concat(o, yd); break;
      case kTranspose: check_transpose(o, xd, yd); break;
      default: bad("unknown operation");
    }
  }

  static void check_pool(const Op& o, const std::vector<int64_t>& xd, const std::vector<int64_t>& yd) {
    const Window w = PoolParams::decode(o).window;
    if (xd.size() != 4 || yd.size() != 4 || xd[0] * xd[1] != yd[0] * yd[1]) bad("pooling shapes");
    for (int64_t v : {w.stride_h, w.stride_w, w.dilation_h, w.dilation_w}) product({v}, INT64_MAX);
    for (int64_t v : {w.pad_top, w.pad_left, w.pad_bottom, w.pad_right}) small(v);
    // The kernel fits the padded input (as it must for an output of at least one element).
    product({w.kernel_h}, xd[2] + w.pad_top + w.pad_bottom);
    product({w.kernel_w}, xd[3] + w.pad_left + w.pad_right);
  }

  void check_conv(const Op& o, const std::vector<int64_t>& xd, const std::vector<int64_t>& yd) const {
    need_inputs(o, 3);
    const ConvParams cp = ConvParams::decode(o);
    const Window& w = cp.window;
    if (xd.size() != 4 || yd.size() != 4 || xd[0] != yd[0]) bad("convolution shapes");
    const int64_t g = cp.groups, B = cp.block, nb = cp.blocks, C = xd[1], M = yd[1];
    if (g < 1 || g > C || g > M || B < 1 || B > 4096) bad("convolution groups or blocks");
    if (nb < 1 || nb > (M / g + B - 1) / B) bad("convolution blocks");  // blocks of B output channels per group
    const int64_t wn = product({g, nb, C / g, w.kernel_h, w.kernel_w, B}, INT64_MAX);
    if (n_of(o.in[1]) < wn) bad("weight smaller than the convolution reads");
    for (int64_t v : {w.stride_h, w.stride_w, w.dilation_h, w.dilation_w}) product({v}, INT64_MAX);
    small(w.pad_top);
    small(w.pad_left);
    if (o.in[2] >= 0 && n_of(o.in[2]) < M) bad("bias smaller than the output channels");
    if (o.code == kQLinearConv) QuantConvParams::decode(o, M);
  }

  void check_matmul(const Op& o, const std::vector<int64_t>& xd, const std::vector<int64_t>& yd) const {
    need_inputs(o, 2);
    const auto& bd = T[static_cast<size_t>(o.in[1])];
    const GemmParams gp = o.code == kGemm ? GemmParams::decode(o) : GemmParams{};
    if (o.code == kQLinearMatMul) QuantMatMulParams::decode(o);
    const bool tA = gp.trans_a, tB = gp.trans_b;
    if (yd.size() < 2 || xd.size() < 2 || (bd.layout != 2 && bd.dims.size() < 2)) bad("matrix ranks");
    if (tA && xd.size() != 2) bad("matrix ranks");
    const int64_t M = yd[yd.size() - 2], N = yd[yd.size() - 1];
    const int64_t K = tA ? xd[0] : xd[xd.size() - 1];
    const int64_t AM = tA ? xd[1] : xd[xd.size() - 2];
    if (AM != M) bad("matrix shapes");
    const std::vector<int64_t> ybatch(yd.begin(), yd.end() - 2), abatch(xd.begin(), xd.end() - 2);
    if (!broadcasts_to(abatch, ybatch)) bad("matrix batch shapes");
    if (bd.layout == 2) {
      if (numel(bd.dims) < N * K) bad("matrix shapes");
    } else {
      const std::vector<int64_t> bbatch(bd.dims.begin(), bd.dims.end() - 2);
      const int64_t BK = tB ? bd.dims[bd.dims.size() - 1] : bd.dims[bd.dims.size() - 2];
      const int64_t BN = tB ? bd.dims[bd.dims.size() - 2] : bd.dims[bd.dims.size() - 1];
      if (BK != K || BN != N || !broadcasts_to(bbatch, ybatch)) bad("matrix shapes");
    }
    if (o.code == kGemm && o.in.size() > 2 && o.in[2] >= 0 && (!broadcasts_to(dims(o.in[2]), {M, N}) || yd.size() != 2))
      bad("gemm bias shape");
  }

  void check_concat(const Op& o, const std::vector<int64_t>& yd) const {
    const int64_t axis = ConcatParams::decode(o).axis;
    if (axis < 0 || axis >= static_cast<int64_t>(yd.size())) bad("concat axis");
    int64_t total = 0;
    for (auto t : o.in) {
      const auto& d = dims(t);
      if (d.size() != yd.size()) bad("concat ranks");
      for (size_t a = 0; a < d.size(); ++a)
        if (static_cast<int64_t>(a) != axis && d[a] != yd[a]) bad("concat shapes");
      total += d[static_cast<size_t>(axis)];
    }
    if (total != yd[static_cast<size_t>(axis)]) bad("concat shapes");
  }

  static void check_transpose(const Op& o, const std::vector<int64_t>& xd, const std::vector<int64_t>& yd) {
    const size_t r = yd.size();
    const std::vector<int64_t> perm = TransposeParams::decode(o, r).perm;
    if (xd.size() != r) bad("transpose ranks");
    std::vector<bool> seen(r, false);
    for (size_t a = 0; a < r; ++a) {
      const int64_t q = perm[a];
      if (q < 0 || q >= static_cast<int64_t>(r) || seen[static_cast<size_t>(q)] || xd[static_cast<size_t>(q)] != yd[a]) bad("transpose permutation");
      seen[static_cast<size_t>(q)] = true;
    }
  }
};

}  // namespace

Program from_blob(const void* data, size_t size) {
  const char* b = static_cast<const char*>(data);
  if (!data || size < kBlobHeader || std::memcmp(b, kBlobMagic, 8) != 0)
    throw NpuError(ZE_RESULT_ERROR_INVALID_NATIVE_BINARY, "npusim: not an npusim native blob (bad magic or too short)");
  uint32_t ver;
  std::memcpy(&ver, b + 8, 4);
  char comp[33] = {};
  std::memcpy(comp, b + 12, 32);
  if (ver != settings().blob_version)
    throw NpuError(ZE_RESULT_ERROR_UNSUPPORTED_VERSION, "npusim: native blob format version " + std::to_string(ver) + " (written by '" + comp +
                                                            "'); this driver ('" + settings().compiler_version + "') loads version " +
                                                            std::to_string(settings().blob_version) + " only: recompile the graph");
  uint64_t psize, sum;
  std::memcpy(&psize, b + 44, 8);
  std::memcpy(&sum, b + 52, 8);
  if (psize != size - kBlobHeader) throw NpuError(ZE_RESULT_ERROR_INVALID_NATIVE_BINARY, "npusim: native blob truncated or padded");
  if (switchyard::zeseg::checksum64(b + kBlobHeader, psize) != sum) throw NpuError(ZE_RESULT_ERROR_INVALID_NATIVE_BINARY, "npusim: native blob checksum mismatch (corrupt)");
  try {
    switchyard::zeseg::Reader r(b + kBlobHeader, psize);
    Program p;
    p.arena_bytes = r.pod<uint64_t>();
    p.op_count = r.pod<uint64_t>();
    p.tensors.resize(r.count(24));
    for (auto& t : p.tensors) {
      t.dt = r.pod<uint8_t>(), t.loc = r.pod<uint8_t>(), t.layout = r.pod<uint8_t>(), t.io_dt = r.pod<uint8_t>();
      t.dims.resize(r.count(8));
      for (auto& d : t.dims) d = r.pod<int64_t>();
      t.offset = r.pod<uint64_t>(), t.bytes = r.pod<uint64_t>();
    }
    p.ops.resize(r.count(18));
    for (auto& o : p.ops) {
      o.code = r.pod<uint16_t>();
      for (auto* v : {&o.in, &o.out}) {
        v->resize(r.count(4));
        for (auto& x : *v) x = r.pod<int32_t>();
      }
      o.i.resize(r.count(8));
      for (auto& x : o.i) x = r.pod<int64_t>();
      o.f.resize(r.count(4));
      for (auto& x : o.f) x = r.pod<float>();
    }
    for (auto* v : {&p.inputs, &p.outputs}) {
      v->resize(r.count(4));
      for (auto& x : *v) x = r.pod<int32_t>();
    }
    uint64_t wn = r.pod<uint64_t>();
    if (wn != r.remaining()) throw std::runtime_error("weights section size mismatch");
    p.weights.assign(reinterpret_cast<const char*>(r.take(wn)), wn);
    // Structural validation: every reference in range, every region inside its section.
    const auto nt = static_cast<int32_t>(p.tensors.size());
    for (const auto& t : p.tensors) {
      if (t.loc > 1) throw std::runtime_error("tensor in an unknown section");  // the executor knows the arena (0) and weights (1)
      // Dimensions are checked one by one: their product (and it times the element size) must not
      // overflow, or a huge tensor would pass for a small one (numel() itself does not check).
      // Every partial product of the non-zero dimensions fits in int64 (the executor multiplies them).
      uint64_t n = 1;
      bool zero = false;
      for (int64_t d : t.dims) {
        if (d < 0) throw std::runtime_error("tensor has a negative dimension");
        if (d == 0) zero = true;
        else if (n > static_cast<uint64_t>(INT64_MAX) / static_cast<uint64_t>(d))
          throw std::runtime_error("tensor size inconsistent (its element count overflows)");
        else n *= static_cast<uint64_t>(d);
      }
      // An empty tensor's other dimensions still bound the executor's loops (a [1, 4, 2^57, 0]
      // output made a convolution count to 2^57 doing nothing).
      if (zero && n > (uint64_t{1} << 24)) throw std::runtime_error("tensor size inconsistent (an empty tensor with huge dimensions)");
      if (zero) n = 0;
      const uint64_t eb = static_cast<uint64_t>(elem_bytes_npu(t.dt));
      if (eb != 0 && n > UINT64_MAX / eb) throw std::runtime_error("tensor size inconsistent (its byte size overflows)");
      if (n * eb > t.bytes) throw std::runtime_error("tensor size inconsistent");
      const uint64_t end = t.offset + t.bytes;
      if (end < t.offset || end > (t.loc == 0 ? p.arena_bytes : p.weights.size())) throw std::runtime_error("tensor outside its section");
    }
    for (const auto& o : p.ops) {
      if (o.code < kConv || o.code > kLastOp || o.out.size() != 1) throw std::runtime_error("bad operation");
      for (auto x : o.in)
        if (x < -1 || x >= nt) throw std::runtime_error("bad tensor reference");
      if (o.out[0] < 0 || o.out[0] >= nt) throw std::runtime_error("bad tensor reference");
    }
    for (auto x : p.inputs)
      if (x < 0 || x >= nt) throw std::runtime_error("bad input reference");
    for (auto x : p.outputs)
      if (x < 0 || x >= nt) throw std::runtime_error("bad output reference");
    OperationChecker(p).check_all();
    return p;
  } catch (const NpuError&) {
    throw;
  } catch (const std::exception& e) {
    throw NpuError(ZE_RESULT_ERROR_INVALID_NATIVE_BINARY, std::string("npusim: native blob is malformed: ") + e.what());
  }
}

// ---------------------------------------------------------------------------------------------
// Executor

namespace {

// Splits [0, n) across the simulated tiles (host threads).
void parallel_for(int64_t n, int64_t work_per_item, const std::function<void(int64_t, int64_t)>& fn) {
  const int threads = settings().threads;
  if (threads <= 1 || n < 2 || n * work_per_item < 32768) {
    fn(0, n);
    return;
  }
  const int64_t parts = std::min<int64_t>(threads, n);
  std::vector<std::thread> pool;
  for (int64_t t = 1; t < parts; ++t) pool.emplace_back([&, t] { fn(n * t / parts, n * (t + 1) / parts); });
  fn(0, n / parts);
  for (auto& th : pool) th.join();
}

std::vector<int64_t> strides(const std::vector<int64_t>& d) {
  std::vector<int64_t> s(d.size(), 1);
  for (int64_t i = static_cast<int64_t>(d.size()) - 2; i >= 0; --i) s[static_cast<size_t>(i)] = s[static_cast<size_t>(i) + 1] * d[static_cast<size_t>(i) + 1];
  return s;
}

// For each output element, the flat index of a broadcast input.
std::vector<int64_t> bcast_map(const std::vector<int64_t>& in, const std::vector<int64_t>& out) {
  const size_t r = out.size();
  std::vector<int64_t> ind(r, 1);
  for (size_t i = 0; i < in.size(); ++i) ind[r - in.size() + i] = in[i];
  auto is = strides(ind);
  for (size_t i = 0; i < r; ++i)
    if (ind[i] == 1) is[i] = 0;
  const int64_t n = numel(out);
  std::vector<int64_t> m(static_cast<size_t>(n));
  std::vector<int64_t> idx(r, 0);
  int64_t cur = 0;
  for (int64_t k = 0; k < n; ++k) {
    m[static_cast<size_t>(k)] = cur;
    for (int64_t a = static_cast<int64_t>(r) - 1; a >= 0; --a) {
      auto au = static_cast<size_t>(a);
      if (++idx[au] < out[au]) {
        cur += is[au];
        break;
      }
      cur -= is[au] * (out[au] - 1);
      idx[au] = 0;
    }
  }
  return m;
}

double round_sat(double v, int32_t dt) {
  const double lo = dt == kI8 ? -128 : 0, hi = dt == kI8 ? 127 : 255;
  return std::clamp(std::nearbyint(v), lo, hi);
}

}  // namespace

namespace {
// Every float16 bit pattern as a float: decoding weights by table (a loaded ResNet-50 has 25M
// of them; without F16C the compiler's conversion is a library call per value).
const float* f16_table() {
  static const std::vector<float> t = [] {
    std::vector<float> v(65536);
    for (uint32_t b = 0; b < 65536; ++b) v[b] = f16_bits_to_f32(static_cast<uint16_t>(b));
    return v;
  }();
  return t.data();
}
}  // namespace

Executor::Executor(Program p) : p_(std::move(p)) {
  woff_.assign(p_.tensors.size(), -1);
  size_t total = 0;
  for (const auto& d : p_.tensors)
    if (d.loc == 1) total += static_cast<size_t>(d.numel());
  wf_.resize(total);
  const float* f16 = f16_table();
  size_t at = 0;
  for (size_t t = 0; t < p_.tensors.size(); ++t) {
    const auto& d = p_.tensors[t];
    if (d.loc != 1) continue;
    woff_[t] = static_cast<int64_t>(at);
    const char* src = p_.weights.data() + d.offset;
    const int64_t n = d.numel();
    float* dst = wf_.data() + at;
    switch (d.dt) {
      case kF16:
        for (int64_t i = 0; i < n; ++i) { uint16_t h; std::memcpy(&h, src + 2 * i, 2); dst[i] = f16[h]; }
        break;
      case kI8: for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<int8_t>(src[i]); break;
      case kU8: for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<uint8_t>(src[i]); break;
      case kI32:
        for (int64_t i = 0; i < n; ++i) { int32_t v; std::memcpy(&v, src + 4 * i, 4); dst[i] = static_cast<float>(v); }
        break;
      default: throw NpuError(ZE_RESULT_ERROR_INVALID_NATIVE_BINARY, "npusim: weight of unknown type");
    }
    at += static_cast<size_t>(n);
  }
}

namespace {

// One execution of a program: the arena, and the operations, one function per family.
class Machine {
 public:
  // The arena: one float per planned byte (offset in bytes == index in floats), so the
  // planned placement (and any overlap bug in it) is exercised for real.
  Machine(const Program& p, const std::vector<float>& weights, const std::vector<int64_t>& weight_index)
      : p_(p), T(p.tensors), arena_(static_cast<size_t>(p.arena_bytes)), weights_(weights), weight_index_(weight_index) {}

  void load_inputs(const void* const* inputs) {
    for (size_t k = 0; k < p_.inputs.size(); ++k) {
      const auto& d = T[static_cast<size_t>(p_.inputs[k])];
      float* dst = ptr(p_.inputs[k]);
      const int64_t n = d.numel();
      const char* src = static_cast<const char*>(inputs[k]);
      for (int64_t i = 0; i < n; ++i) {
        switch (d.io_dt) {
          case kF32: { float v; std::memcpy(&v, src + 4 * i, 4); dst[i] = round_f16(v); break; }
          case kF16: { uint16_t h; std::memcpy(&h, src + 2 * i, 2); dst[i] = f16_bits_to_f32(h); break; }
          case kI8: dst[i] = static_cast<int8_t>(src[i]); break;
          default: dst[i] = static_cast<uint8_t>(src[i]); break;
        }
      }
    }
  }

  void store_outputs(void* const* outputs) {
    for (size_t k = 0; k < p_.outputs.size(); ++k) {
      const auto& d = T[static_cast<size_t>(p_.outputs[k])];
      const float* src = ptr(p_.outputs[k]);
      char* dst = static_cast<char*>(outputs[k]);
      const int64_t n = d.numel();
      for (int64_t i = 0; i < n; ++i) {
        switch (d.io_dt) {
          case kF32: std::memcpy(dst + 4 * i, &src[i], 4); break;
          case kF16: { uint16_t h = f32_to_f16_bits(src[i]); std::memcpy(dst + 2 * i, &h, 2); break; }
          default: dst[i] = static_cast<char>(static_cast<int>(src[i])); break;
        }
      }
    }
  }

  void execute(const Op& op) {
    const int32_t yt = op.out[0];
    const auto& yd = T[static_cast<size_t>(yt)].dims;
    const bool no_x = op.in.empty() || op.in[0] < 0;
    const Args a{op, yt, ptr(yt), yd, numel(yd), no_x ? nullptr : ptr(op.in[0]), no_x ? yd : T[static_cast<size_t>(op.in[0])].dims};
    switch (op.code) {
      case kConv: case kQLinearConv: conv(a); break;
      case kMatMul: case kGemm: case kQLinearMatMul: matmul(a); break;
      case kAdd: case kMul: case kSub: case kDiv: binary(a); break;
      case kSum: sum(a); break;
      case kBatchNorm: batch_norm(a); break;
      case kHardSigmoid: case kFlatten: case kRelu: case kClip: case kSigmoid: case kHardSwish: case kReshape: unary(a); break;
      case kMaxPool: case kAveragePool: pool(a); break;
      case kGlobalAveragePool: global_average_pool(a); break;
      case kConcat: concat(a); break;
      case kTranspose: transpose(a); break;
      case kSoftmax: softmax(a); break;
      case kQuantize: case kDequantize: quantize(a); break;
      default: throw NpuError(ZE_RESULT_ERROR_INVALID_NATIVE_BINARY, "npusim: unknown operation code " + std::to_string(op.code));
    }
  }

 private:
  // One operation's operands: output y (tensor yt) and first input x.
  struct Args {
    const Op& op;
    int32_t yt;
    float* y;
    const std::vector<int64_t>& yd;
    int64_t yn;
    const float* x;
    const std::vector<int64_t>& xd;
  };

  const Program& p_;
  const std::vector<TensorDesc>& T;
  std::vector<float> arena_;
  const std::vector<float>& weights_;            // weights as exact float values
  const std::vector<int64_t>& weight_index_;     // tensor id -> index into weights_

  float* ptr(int32_t t) {
    const auto& d = T[static_cast<size_t>(t)];
    return d.loc == 0 ? arena_.data() + d.offset : const_cast<float*>(weights_.data()) + weight_index_[static_cast<size_t>(t)];
  }
  const std::vector<int64_t>& dims(int32_t t) const { return T[static_cast<size_t>(t)].dims; }
  uint8_t dt(int32_t t) const { return T[static_cast<size_t>(t)].dt; }
  void finish(int32_t t, float* y, int64_t n) const {  // NPU storage rounding of a result
    if (dt(t) == kF16)
      for (int64_t i = 0; i < n; ++i) y[i] = round_f16(y[i]);
  }

  void conv(const Args& a) {
    const Op& op = a.op;
    const bool q = op.code == kQLinearConv;
    const ConvParams cp = ConvParams::decode(op);
    const Window& win = cp.window;
    const int64_t g = cp.groups, B = cp.block, nb = cp.blocks, kh = win.kernel_h, kw = win.kernel_w, sh = win.stride_h, sw = win.stride_w,
                  dh = win.dilation_h, dw = win.dilation_w, pt = win.pad_top, pl = win.pad_left;
    const int64_t N = a.xd[0], C = a.xd[1], H = a.xd[2], W = a.xd[3], M = a.yd[1], OH = a.yd[2], OW = a.yd[3];
    const int64_t cin_g = C / g, cout_g = M / g;
    const QuantConvParams qp = q ? QuantConvParams::decode(op, M) : QuantConvParams{};
    const float* x = a.x;
    float* y = a.y;
    const float* w = ptr(op.in[1]);
    const float* bias = op.in[2] >= 0 ? ptr(op.in[2]) : nullptr;
    const float xz = q ? qp.x_zero : 0;
    const uint8_t ydt = dt(a.yt);
    parallel_for(N * g * nb, OH * OW * cin_g * kh * kw * B, [&](int64_t first, int64_t last) {
      std::vector<double> acc(static_cast<size_t>(B));  // int8: exact integer sums
      std::vector<float> facc(static_cast<size_t>(B));  // float16: fp32 accumulators
      std::vector<float> wz(static_cast<size_t>(B), 0.f);
      for (int64_t task = first; task < last; ++task) {
        const int64_t n = task / (g * nb), gi = (task / nb) % g, blk = task % nb;
        const int64_t oc0 = gi * cout_g + blk * B, valid = std::min(B, cout_g - blk * B);
        const float* wb = w + (gi * nb + blk) * cin_g * kh * kw * B;
        if (q)
          for (int64_t o = 0; o < valid; ++o) wz[static_cast<size_t>(o)] = qp.w_zero[static_cast<size_t>(oc0 + o)];
        for (int64_t oy = 0; oy < OH; ++oy)
          for (int64_t ox = 0; ox < OW; ++ox) {
            for (int64_t o = 0; o < B; ++o) acc[static_cast<size_t>(o)] = facc[static_cast<size_t>(o)] = bias && o < valid ? bias[oc0 + o] : 0.f;
            for (int64_t ic = 0; ic < cin_g; ++ic) {
              const float* xc = x + (n * C + gi * cin_g + ic) * H * W;
              for (int64_t ky = 0; ky < kh; ++ky) {
                const int64_t iy = oy * sh - pt + ky * dh;
                if (iy < 0 || iy >= H) continue;
                for (int64_t kx = 0; kx < kw; ++kx) {
                  const int64_t ix = ox * sw - pl + kx * dw;
                  if (ix < 0 || ix >= W) continue;
                  const float xv = xc[iy * W + ix] - xz;
                  const float* wp = wb + ((ic * kh + ky) * kw + kx) * B;
                  if (q)
                    for (int64_t o = 0; o < B; ++o) acc[static_cast<size_t>(o)] += static_cast<double>(xv) * (wp[o] - wz[static_cast<size_t>(o)]);
                  else
                    for (int64_t o = 0; o < B; ++o) facc[static_cast<size_t>(o)] += xv * wp[o];  // fp32 MAC
                }
              }
            }
            for (int64_t o = 0; o < valid; ++o) {
              float* out = y + ((n * M + oc0 + o) * OH + oy) * OW + ox;
              if (q) {
                const float mult = static_cast<float>(static_cast<float>(static_cast<double>(qp.x_scale) * qp.w_scale[static_cast<size_t>(oc0 + o)]) / qp.y_scale);
                *out = static_cast<float>(round_sat(acc[static_cast<size_t>(o)] * mult + qp.y_zero, ydt));
              } else {
                *out = round_f16(facc[static_cast<size_t>(o)]);
              }
            }
          }
      }
    });
  }

  void matmul(const Args& a) {
    const Op& op = a.op;
    const auto &xd = a.xd, &yd = a.yd;
    const bool q = op.code == kQLinearMatMul, gemm = op.code == kGemm;
    const GemmParams gp = gemm ? GemmParams::decode(op) : GemmParams{};
    const QuantMatMulParams qp = q ? QuantMatMulParams::decode(op) : QuantMatMulParams{};
    const auto& bd = T[static_cast<size_t>(op.in[1])];
    const float* bp = ptr(op.in[1]);
    const bool tA = gp.trans_a;
    const bool tB = gp.trans_b;
    const int64_t M = yd[yd.size() - 2], N = yd[yd.size() - 1];
    const int64_t K = tA ? xd[0] : xd[xd.size() - 1];
    const float az = q ? qp.a_zero : 0, bz = q ? qp.b_zero : 0;
    // Batch offsets (MatMul broadcasting over leading dims).
    std::vector<int64_t> ybatch(yd.begin(), yd.end() - 2), abatch(xd.begin(), xd.end() - 2), bbatch;
    if (bd.layout != 2) bbatch.assign(bd.dims.begin(), bd.dims.end() - 2);
    const int64_t nbatch = numel(ybatch);
    auto amap = bcast_map(abatch, ybatch), bmap = bcast_map(bbatch, ybatch);
    const float* c = gemm && op.in[2] >= 0 ? ptr(op.in[2]) : nullptr;
    std::vector<int64_t> cmap;
    if (c) cmap = bcast_map(dims(op.in[2]), {M, N});
    const float* x = a.x;
    float* y = a.y;
    const uint8_t ydt = dt(a.yt);
    parallel_for(nbatch * M, N * K, [&](int64_t first, int64_t last) {
      for (int64_t r = first; r < last; ++r) {
        const int64_t bi = r / M, i = r % M;
        const float* A = x + amap[static_cast<size_t>(bi)] * M * K;
        const float* Bm = bd.layout == 2 ? bp : bp + bmap[static_cast<size_t>(bi)] * K * N;
        for (int64_t j = 0; j < N; ++j) {
          double acc = 0;
          float facc = 0;
          for (int64_t k = 0; k < K; ++k) {
            const float av = (tA ? A[k * M + i] : A[i * K + k]) - az;
            const float bv = (bd.layout == 2 ? Bm[j * K + k] : tB ? Bm[j * K + k] : Bm[k * N + j]) - bz;
            if (q) acc += static_cast<double>(av) * bv;
            else facc += av * bv;  // fp32 MAC
          }
          float* out = y + (bi * M + i) * N + j;
          if (q) {
            const float mult = static_cast<float>(static_cast<float>(static_cast<double>(qp.a_scale) * qp.b_scale) / qp.y_scale);
            *out = static_cast<float>(round_sat(acc * mult + qp.y_zero, ydt));
          } else {
            float v = facc;
            if (gemm) {
              v *= gp.alpha;
              if (c) v += gp.beta * c[cmap[static_cast<size_t>(i * N + j)]];
            }
            *out = round_f16(v);
          }
        }
      }
    });
  }

  void binary(const Args& a) {
    const uint16_t code = a.op.code;
    const float* b = ptr(a.op.in[1]);
    auto am = bcast_map(a.xd, a.yd), bm = bcast_map(dims(a.op.in[1]), a.yd);
    for (int64_t i = 0; i < a.yn; ++i) {
      const float u = a.x[am[static_cast<size_t>(i)]], v = b[bm[static_cast<size_t>(i)]];
      a.y[i] = code == kAdd ? u + v : code == kMul ? u * v : code == kSub ? u - v : u / v;
    }
    finish(a.yt, a.y, a.yn);
  }

  void sum(const Args& a) {  // n-ary, broadcasting; one float32 accumulator, rounded once
    std::vector<float> acc(static_cast<size_t>(a.yn), 0.f);
    for (auto t : a.op.in) {
      const float* s = ptr(t);
      auto m = bcast_map(dims(t), a.yd);
      for (int64_t i = 0; i < a.yn; ++i) acc[static_cast<size_t>(i)] += s[m[static_cast<size_t>(i)]];
    }
    std::copy(acc.begin(), acc.end(), a.y);  // not memcpy: an empty output may have no storage at all
    finish(a.yt, a.y, a.yn);
  }

  void batch_norm(const Args& a) {
    const float* sc = ptr(a.op.in[1]);
    const float* sh = ptr(a.op.in[2]);
    const int64_t C = a.xd[1], inner = numel(a.xd) / std::max<int64_t>(1, a.xd[0] * C);
    for (int64_t i = 0; i < a.yn; ++i) {
      const int64_t c = (i / inner) % C;
      a.y[i] = round_f16(a.x[i] * sc[c] + sh[c]);
    }
  }

  // One input element gives one output element (and copies: Flatten, Reshape).
  static void unary(const Args& a) {
    const float* x = a.x;
    float* y = a.y;
    const int64_t yn = a.yn;
    switch (a.op.code) {
      case kHardSigmoid: {
        const HardSigmoidParams hs = HardSigmoidParams::decode(a.op);
        for (int64_t i = 0; i < yn; ++i) y[i] = round_f16(clamp_nan(hs.alpha * x[i] + hs.beta, 0.f, 1.f));
        break;
      }
      case kFlatten: case kReshape: std::memmove(y, x, static_cast<size_t>(yn) * sizeof(float)); break;
      case kRelu: for (int64_t i = 0; i < yn; ++i) y[i] = max_nan(0.f, x[i]); break;  // 0 first: Relu(-0) = +0
      case kClip: {
        const ClipParams cl = ClipParams::decode(a.op);
        for (int64_t i = 0; i < yn; ++i) y[i] = clamp_nan(x[i], round_f16(cl.low), round_f16(cl.high));
        break;
      }
      case kSigmoid: for (int64_t i = 0; i < yn; ++i) y[i] = round_f16(1.f / (1.f + std::exp(-x[i]))); break;
      case kHardSwish:
        for (int64_t i = 0; i < yn; ++i) y[i] = round_f16(x[i] * clamp_nan(x[i] / 6.f + 0.5f, 0.f, 1.f));
        break;
    }
  }

  static void pool(const Args& a) {
    const PoolParams pp = PoolParams::decode(a.op);
    const Window& win = pp.window;
    const int64_t kh = win.kernel_h, kw = win.kernel_w, sh = win.stride_h, sw = win.stride_w, dh = win.dilation_h, dw = win.dilation_w,
                  pt = win.pad_top, pl = win.pad_left, pb = win.pad_bottom, pr = win.pad_right, cip = pp.count_include_pad;
    const int64_t NC = a.xd[0] * a.xd[1], H = a.xd[2], W = a.xd[3], OH = a.yd[2], OW = a.yd[3];
    const bool mx = a.op.code == kMaxPool;
    const float* x = a.x;
    float* y = a.y;
    parallel_for(NC, OH * OW * kh * kw, [&](int64_t first, int64_t last) {
      for (int64_t c = first; c < last; ++c)
        for (int64_t oy = 0; oy < OH; ++oy)
          for (int64_t ox = 0; ox < OW; ++ox) {
            float best = -INFINITY;
            double sum = 0;
            int64_t cnt = 0, cnt_pad = 0;
            for (int64_t ky = 0; ky < kh; ++ky)
              for (int64_t kx = 0; kx < kw; ++kx) {
                const int64_t iy = oy * sh - pt + ky * dh, ix = ox * sw - pl + kx * dw;  // dilations: MaxPool, AveragePool (opset 19)
                // Positions inside the padded extent count when count_include_pad is set.
                if (iy >= -pt && iy < H + pb && ix >= -pl && ix < W + pr) ++cnt_pad;
                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                const float v = x[(c * H + iy) * W + ix];
                best = max_nan(best, v);
                sum += v;
                ++cnt;
              }
            float& out = y[(c * OH + oy) * OW + ox];
            out = mx ? best : round_f16(static_cast<float>(sum / static_cast<double>(std::max<int64_t>(1, cip ? cnt_pad : cnt))));
          }
    });
  }

  static void global_average_pool(const Args& a) {
    const int64_t NC = a.xd[0] * a.xd[1], S = numel(a.xd) / NC;
    for (int64_t c = 0; c < NC; ++c) {
      double s = 0;
      for (int64_t i = 0; i < S; ++i) s += a.x[c * S + i];
      a.y[c] = round_f16(static_cast<float>(s / static_cast<double>(S)));
    }
  }

  void concat(const Args& a) {
    const int64_t axis = ConcatParams::decode(a.op).axis;
    int64_t outer = 1;
    for (int64_t d = 0; d < axis; ++d) outer *= a.yd[static_cast<size_t>(d)];
    const int64_t ystride = a.yn / std::max<int64_t>(1, outer);
    int64_t pos = 0;
    for (auto t : a.op.in) {
      const int64_t chunk = numel(dims(t)) / std::max<int64_t>(1, outer);
      const float* s = ptr(t);
      for (int64_t o = 0; o < outer; ++o) std::memmove(a.y + o * ystride + pos, s + o * chunk, static_cast<size_t>(chunk) * sizeof(float));
      pos += chunk;
    }
  }

  static void transpose(const Args& a) {
    const auto& yd = a.yd;
    const auto xs = strides(a.xd);
    const size_t r = yd.size();
    const TransposeParams tp = TransposeParams::decode(a.op, r);
    std::vector<int64_t> idx(r);  // the output index, zeros first
    for (int64_t k = 0; k < a.yn; ++k) {
      int64_t src = 0;
      for (size_t d = 0; d < r; ++d) src += idx[d] * xs[static_cast<size_t>(tp.perm[d])];
      a.y[k] = a.x[src];
      for (int64_t d = static_cast<int64_t>(r) - 1; d >= 0; --d)
        if (++idx[static_cast<size_t>(d)] < yd[static_cast<size_t>(d)]) break;
        else idx[static_cast<size_t>(d)] = 0;
    }
  }

  static void softmax(const Args& a) {
    const SoftmaxParams sp = SoftmaxParams::decode(a.op);
    const int64_t axis = sp.axis;
    int64_t outer = 1, len = 1, inner = 1;
    for (int64_t d = 0; d < static_cast<int64_t>(a.yd.size()); ++d) (d < axis ? outer : d == axis ? len : inner) *= a.yd[static_cast<size_t>(d)];
    if (sp.flatten) len *= inner, inner = 1;  // opset < 13: flattened from axis
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t in = 0; in < inner; ++in) {
        const float* xs = a.x + o * len * inner + in;
        float* ys = a.y + o * len * inner + in;
        float mx = -INFINITY;
        for (int64_t k = 0; k < len; ++k) mx = max_nan(mx, xs[k * inner]);
        double s = 0;
        for (int64_t k = 0; k < len; ++k) s += std::exp(static_cast<double>(xs[k * inner] - mx));
        for (int64_t k = 0; k < len; ++k) ys[k * inner] = round_f16(static_cast<float>(std::exp(static_cast<double>(xs[k * inner] - mx)) / s));
      }
  }

  void quantize(const Args& a) {
    const QuantizeParams qp = QuantizeParams::decode(a.op);
    const int64_t axis = qp.axis;
    const size_t ns = qp.scale.size();
    const uint8_t ydt = dt(a.yt);
    int64_t inner = 1;
    if (axis >= 0)
      for (size_t d = static_cast<size_t>(axis) + 1; d < a.xd.size(); ++d) inner *= a.xd[d];
    for (int64_t i = 0; i < a.yn; ++i) {
      const size_t c = axis >= 0 ? static_cast<size_t>((i / inner) % static_cast<int64_t>(ns)) : 0;
      const float s = qp.scale[c], z = qp.zero_point[c];
      if (a.op.code == kQuantize) a.y[i] = static_cast<float>(round_sat(static_cast<double>(a.x[i]) / s + z, ydt));
      else a.y[i] = round_f16((a.x[i] - z) * s);
    }
  }
};

}  // namespace

bool Executor::run(const void* const* inputs, void* const* outputs, const std::function<bool()>& stop) const {
  Machine m(p_, wf_, woff_);
  m.load_inputs(inputs);
  for (const auto& op : p_.ops) {
    if (stop && stop()) return false;
    m.execute(op);
  }
  m.store_outputs(outputs);
  return true;
}

}  // namespace npusim
