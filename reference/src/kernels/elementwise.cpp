// Reference kernels: elementwise family.
//
// Unary, binary and variadic elementwise operators, comparisons, logic, bitwise
// operators and Cast. The rules every kernel follows:
//   * floating point work is done in double (long double for conversions) and
//     rounded once to the output type;
//   * integer work is exact on int64 / uint64 and wraps to the output width;
//   * inputs broadcast numpy-style (ONNX multidirectional broadcasting) unless
//     the operator says otherwise (PRelu is unidirectional).
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "switchyard/reference/interpreter.h"
#include "switchyard/reference/util.h"

namespace switchyard::reference {

namespace {

using ET = ElementType;
using TypeList = std::vector<ElementType>;

// ---------------------------------------------------------------------------
// Element type sets
// ---------------------------------------------------------------------------

const TypeList kFloats = {ET::float16, ET::float32, ET::float64, ET::bfloat16};
const TypeList kSignedInts = {ET::int8, ET::int16, ET::int32, ET::int64};
const TypeList kUnsignedInts = {ET::uint8, ET::uint16, ET::uint32, ET::uint64};

TypeList join(std::initializer_list<const TypeList*> lists) {
  TypeList out;
  for (const TypeList* l : lists) out.insert(out.end(), l->begin(), l->end());
  return out;
}

const TypeList kInts = join({&kSignedInts, &kUnsignedInts});
const TypeList kNumeric = join({&kFloats, &kSignedInts, &kUnsignedInts});
const TypeList kSignedNumeric = join({&kFloats, &kSignedInts});
const TypeList kBool = {ET::boolean};
const TypeList kNumericAndBool = join({&kNumeric, &kBool});
const TypeList kString = {ET::string};
const TypeList kEqualTypes = join({&kNumericAndBool, &kString});
// Float8 / float4 / e8m0 types, stored one byte per element (float4 packed two per byte).
const TypeList kSmallFloats = {ET::float8e4m3fn, ET::float8e4m3fnuz, ET::float8e5m2, ET::float8e5m2fnuz,
                               ET::float8e8m0, ET::float4e2m1};

std::string type_name(ET t) { return std::string(element_type_name(t)); }

bool contains(const TypeList& list, ET t) { return std::find(list.begin(), list.end(), t) != list.end(); }

void require_type(const Tensor& t, const TypeList& allowed, const char* what) {
  if (!contains(allowed, t.type()))
    throw_error(StatusCode::invalid_argument,
                std::string(what) + " has element type " + type_name(t.type()) + ", which this operator does not accept");
}

void require_same_type(const Tensor& a, const Tensor& b) {
  if (a.type() != b.type())
    throw_error(StatusCode::invalid_argument, "inputs must have the same element type, got " + type_name(a.type()) +
                                                  " and " + type_name(b.type()));
}

enum class Kind { floating, signed_int, unsigned_int, boolean, string, other };

Kind kind_of(ET t) {
  if (t == ET::string) return Kind::string;
  if (t == ET::boolean) return Kind::boolean;
  if (is_floating(t)) return Kind::floating;
  if (is_signed_integer(t)) return Kind::signed_int;
  if (is_unsigned_integer(t)) return Kind::unsigned_int;
  return Kind::other;
}

// ---------------------------------------------------------------------------
// Small float formats: float8 (e4m3fn, e4m3fnuz, e5m2, e5m2fnuz), float4e2m1, float8e8m0
// ---------------------------------------------------------------------------

// A sign / exponent / mantissa format of at most 8 bits.
struct MiniFloat {
  int ebits;
  int mbits;
  int bias;
  enum class Special { ieee, fn, fnuz, none } special;  // how NaN / infinity are encoded
  // ieee: exponent all ones is inf (mantissa 0) or NaN (e5m2).
  // fn:   no infinity, S.1111.111 is NaN (e4m3fn).
  // fnuz: no infinity, no negative zero, 0x80 is the only NaN.
  // none: every code is a finite number (float4e2m1).

  int sign_shift() const { return ebits + mbits; }
  uint32_t sign_bit() const { return 1u << sign_shift(); }
  uint32_t max_finite_code() const {  // largest positive finite code
    uint32_t all = sign_bit() - 1;
    switch (special) {
      case Special::ieee: return ((1u << ebits) - 2) << mbits | ((1u << mbits) - 1);
      case Special::fn: return all - 1;
      default: return all;
    }
  }
  bool is_nan(uint32_t code) const {
    uint32_t mag = code & (sign_bit() - 1);
    switch (special) {
      case Special::ieee: return (mag >> mbits) == (1u << ebits) - 1 && (mag & ((1u << mbits) - 1)) != 0;
      case Special::fn: return mag == sign_bit() - 1;
      case Special::fnuz: return code == sign_bit();
      default: return false;
    }
  }
  bool is_inf(uint32_t code) const {
    return special == Special::ieee && (code & (sign_bit() - 1)) == ((1u << ebits) - 1) << mbits;
  }
  // Value of a non-negative code (sign bit clear), ignoring NaN / infinity.
  long double magnitude(uint32_t code) const {
    uint32_t e = code >> mbits;
    uint32_t m = code & ((1u << mbits) - 1);
    if (e == 0) return std::ldexp(static_cast<long double>(m), 1 - bias - mbits);
    return std::ldexp(static_cast<long double>((1u << mbits) | m), static_cast<int>(e) - bias - mbits);
  }
  long double decode(uint32_t code) const {
    if (is_nan(code)) return std::numeric_limits<long double>::quiet_NaN();
    bool neg = (code & sign_bit()) != 0;
    long double v = is_inf(code) ? std::numeric_limits<long double>::infinity() : magnitude(code & (sign_bit() - 1));
    return neg ? -v : v;
  }
  // Round to nearest, ties to even. `saturate` clamps out-of-range values (and
  // infinities) to the largest finite value; otherwise they become inf or NaN.
  uint32_t encode(long double x, bool saturate) const {
    const uint32_t sign = std::signbit(x) ? sign_bit() : 0u;
    const uint32_t max_code = max_finite_code();
    const uint32_t inf_code = ((1u << ebits) - 1) << mbits;
    auto nan_code = [&]() -> uint32_t {
      switch (special) {
        case Special::ieee: return sign | inf_code | (1u << (mbits - 1));
        case Special::fn: return sign | (sign_bit() - 1);
        case Special::fnuz: return sign_bit();
        default: return sign_bit();  // float4e2m1 has no NaN: the ONNX test data maps NaN to 0x8
      }
    };
    auto overflow_code = [&]() -> uint32_t {
      if (saturate || special == Special::none) return sign | max_code;
      if (special == Special::ieee) return sign | inf_code;
      return nan_code();
    };
    auto with_sign = [&](uint32_t mag) -> uint32_t {
      if (special == Special::fnuz && mag == 0) return 0;  // no negative zero
      return sign | mag;
    };
    if (std::isnan(x)) return nan_code();
    long double a = std::fabs(x);
    if (std::isinf(a)) return overflow_code();
    // Largest code whose value is <= a: codes increase with value, so bisect.
    uint32_t lo = 0, top = max_code;
    while (lo < top) {
      uint32_t m = (lo + top + 1) / 2;
      if (magnitude(m) <= a) lo = m;
      else top = m - 1;
    }
    long double lo_v = magnitude(lo);
    if (lo_v == a) return with_sign(lo);
    // The next value up: code lo + 1, or past the largest finite value (same spacing).
    long double hi_v = lo < max_code ? magnitude(lo + 1) : lo_v + (lo_v - magnitude(lo - 1));
    uint32_t hi = lo + 1;
    long double mid = (lo_v + hi_v) / 2;
    bool up = a > mid || (a == mid && (hi & 1u) == 0);
    if (!up) return with_sign(lo);
    if (hi > max_code) return overflow_code();
    return with_sign(hi);
  }
};

const MiniFloat kE4M3FN{4, 3, 7, MiniFloat::Special::fn};
const MiniFloat kE4M3FNUZ{4, 3, 8, MiniFloat::Special::fnuz};
const MiniFloat kE5M2{5, 2, 15, MiniFloat::Special::ieee};
const MiniFloat kE5M2FNUZ{5, 2, 16, MiniFloat::Special::fnuz};
const MiniFloat kE2M1{2, 1, 1, MiniFloat::Special::none};

const MiniFloat* minifloat_of(ET t) {
  switch (t) {
    case ET::float8e4m3fn: return &kE4M3FN;
    case ET::float8e4m3fnuz: return &kE4M3FNUZ;
    case ET::float8e5m2: return &kE5M2;
    case ET::float8e5m2fnuz: return &kE5M2FNUZ;
    case ET::float4e2m1: return &kE2M1;
    default: return nullptr;
  }
}

enum class E8M0Round { up, down, nearest };

// float8e8m0: an unsigned power of two 2^(code - 127); 0xFF is NaN.
long double e8m0_decode(uint32_t code) {
  if (code == 0xFF) return std::numeric_limits<long double>::quiet_NaN();
  return std::ldexp(1.0L, static_cast<int>(code) - 127);
}

uint32_t e8m0_encode(long double x, bool saturate, E8M0Round mode) {
  if (std::isnan(x)) return 0xFF;
  long double a = std::fabs(x);  // the format has no sign: the magnitude is encoded
  if (std::isinf(a)) return saturate ? 0xFE : 0xFF;
  if (a == 0) return 0x00;       // no zero: the smallest value, 2^-127
  int e = 0;
  long double frac = std::frexp(a, &e) * 2;  // a = frac * 2^(e-1), frac in [1, 2)
  int k = e - 1;
  if (frac != 1) {
    if (mode == E8M0Round::up || (mode == E8M0Round::nearest && frac >= 1.5L)) ++k;
  }
  int biased = k + 127;
  if (biased < 0) return 0x00;
  if (biased > 254) return saturate ? 0xFE : 0xFF;
  return static_cast<uint32_t>(biased);
}

uint32_t read_code(const Tensor& t, int64_t i) {
  const uint8_t* p = t.data<uint8_t>();
  if (t.type() == ET::float4e2m1) return (p[i / 2] >> ((i % 2) * 4)) & 0xFu;
  return p[i];
}

void write_code(Tensor& t, int64_t i, uint32_t code) {
  uint8_t* p = t.mutable_data<uint8_t>();
  if (t.type() == ET::float4e2m1) {
    int shift = static_cast<int>(i % 2) * 4;
    p[i / 2] = static_cast<uint8_t>((p[i / 2] & ~(0xFu << shift)) | ((code & 0xFu) << shift));
    return;
  }
  p[i] = static_cast<uint8_t>(code);
}

// ---------------------------------------------------------------------------
// Reading and writing elements with a single rounding
// ---------------------------------------------------------------------------

// Rounds x to float with "round to odd": the result is exact or has its last bit
// set. A later round-to-nearest to a narrower format (half, bfloat16: at most 22
// bits narrower) then gives the same result as rounding x directly.
float round_to_odd_float(long double x) {
  float f = static_cast<float>(x);
  if (std::isnan(x) || std::isinf(x) || static_cast<long double>(f) == x) return f;
  float t = f;  // truncate toward zero
  if (std::isinf(f) || std::fabs(static_cast<long double>(f)) > std::fabs(x)) t = std::nextafter(f, 0.0f);
  uint32_t bits;
  std::memcpy(&bits, &t, 4);
  bits |= 1u;
  std::memcpy(&t, &bits, 4);
  return t;
}

struct WriteOptions {
  bool saturate = true;
  E8M0Round round = E8M0Round::up;
};

// Any numeric or bool element as a (long) double; exact for every type except
// 64-bit integers where long double is only double.
long double read_real(const Tensor& t, int64_t i) {
  ET type = t.type();
  if (const MiniFloat* mf = minifloat_of(type)) return mf->decode(read_code(t, i));
  if (type == ET::float8e8m0) return e8m0_decode(read_code(t, i));
  if (type == ET::int64) return static_cast<long double>(t.data<int64_t>()[i]);
  if (type == ET::uint64) return static_cast<long double>(t.data<uint64_t>()[i]);
  return get_double(t, i);
}

// Writes a real value to element i, rounding once to the element type. Integer
// targets truncate toward zero and wrap; NaN and infinity become 0; bool is v != 0.
void write_real(Tensor& t, int64_t i, long double v, const WriteOptions& opt = {}) {
  ET type = t.type();
  if (const MiniFloat* mf = minifloat_of(type)) {
    write_code(t, i, mf->encode(v, opt.saturate));
    return;
  }
  switch (type) {
    case ET::float8e8m0: write_code(t, i, e8m0_encode(v, opt.saturate, opt.round)); return;
    case ET::float32: t.mutable_data<float>()[i] = static_cast<float>(v); return;
    case ET::float64: t.mutable_data<double>()[i] = static_cast<double>(v); return;
    case ET::float16: t.mutable_data<uint16_t>()[i] = float_to_half(round_to_odd_float(v)); return;
    case ET::bfloat16: t.mutable_data<uint16_t>()[i] = float_to_bfloat16(round_to_odd_float(v)); return;
    case ET::boolean: t.mutable_data<uint8_t>()[i] = v != 0 ? 1 : 0; return;
    default: break;
  }
  if (kind_of(type) != Kind::signed_int && kind_of(type) != Kind::unsigned_int)
    throw_error(StatusCode::unsupported, "element type " + type_name(type) + " is not supported here");
  if (std::isnan(v) || std::isinf(v)) {
    set_int64(t, i, 0);
    return;
  }
  long double tr = std::trunc(v);
  if (tr >= -9223372036854775808.0L && tr < 9223372036854775808.0L) {
    set_int64(t, i, static_cast<int64_t>(tr));
  } else if (tr >= 0 && tr < 18446744073709551616.0L) {
    set_uint64(t, i, static_cast<uint64_t>(tr));
  } else {
    // Beyond 64 bits: reduce modulo 2^64 so the low bits wrap like a narrower cast.
    long double m = std::fmod(tr, 18446744073709551616.0L);
    if (m < 0) m += 18446744073709551616.0L;
    set_uint64(t, i, static_cast<uint64_t>(m));
  }
}

// ---------------------------------------------------------------------------
// Broadcasting
// ---------------------------------------------------------------------------

struct Broadcast {
  Shape shape;
  int64_t numel = 0;
  std::vector<std::vector<int64_t>> index;  // per input: output flat index -> input flat index
};

Broadcast broadcast(const std::vector<const Tensor*>& inputs) {
  std::vector<Shape> shapes;
  for (const Tensor* t : inputs) shapes.push_back(t->shape());
  Broadcast b;
  b.shape = broadcast_shapes(shapes);
  auto n = shape_numel(b.shape);
  if (!n) throw_error(StatusCode::invalid_argument, "broadcast shape " + shape_to_string(b.shape) + " is too large");
  b.numel = *n;
  for (const Tensor* t : inputs) b.index.push_back(broadcast_index_map(t->shape(), b.shape));
  return b;
}

size_t idx(int64_t i) { return static_cast<size_t>(i); }

// Opset < 7 binary operators broadcast only when the 'broadcast' attribute is 1, and
// then B's dims line up with A's starting at 'axis' (trailing by default). Returns
// B reshaped so numpy-style broadcasting gives that result; later opsets: B as is.
Tensor legacy_aligned_b(const KernelContext& ctx, const Tensor& a, const Tensor& b) {
  if (ctx.opset() >= 7) return b;
  if (ctx.attr_int("broadcast", 0) == 0) {
    if (a.shape() != b.shape())
      throw_error(StatusCode::invalid_argument, "shapes " + shape_to_string(a.shape()) + " and " +
                                                    shape_to_string(b.shape()) + " differ and broadcast is 0");
    return b;
  }
  if (!ctx.has_attr("axis")) return b;
  int64_t axis = normalize_axis(ctx.attr_int("axis", 0), a.rank());
  if (axis + b.rank() > a.rank())
    throw_error(StatusCode::invalid_argument, "B of shape " + shape_to_string(b.shape()) + " does not fit A of shape " +
                                                  shape_to_string(a.shape()) + " at axis " + std::to_string(axis));
  Shape s = b.shape();
  s.resize(static_cast<size_t>(a.rank() - axis), 1);  // trailing ones after B's dims
  return b.reshaped(s);
}

// ---------------------------------------------------------------------------
// Generic kernels
// ---------------------------------------------------------------------------

// Unary operator over floating point types; f works in double.
template <typename F>
Tensor unary_float(const Tensor& x, F f) {
  require_type(x, kFloats, "input");
  Tensor y = Tensor::allocate(x.type(), x.shape());
  for (int64_t i = 0; i < x.numel(); ++i) write_real(y, i, f(static_cast<double>(read_real(x, i))));
  return y;
}

template <typename F>
KernelFn float_kernel(F f) {
  return [f](KernelContext& ctx) { ctx.set_output(0, unary_float(ctx.input(0), f)); };
}

// Unary operator over numeric types: f for floats (double), fs for signed
// integers (int64, result wraps), fu for unsigned integers (uint64).
template <typename F, typename FS, typename FU>
Tensor unary_numeric(const Tensor& x, const TypeList& allowed, F f, FS fs, FU fu) {
  require_type(x, allowed, "input");
  Tensor y = Tensor::allocate(x.type(), x.shape());
  for (int64_t i = 0; i < x.numel(); ++i) {
    switch (kind_of(x.type())) {
      case Kind::floating: write_real(y, i, f(static_cast<double>(read_real(x, i)))); break;
      case Kind::signed_int: set_int64(y, i, fs(get_int64(x, i))); break;
      default: set_uint64(y, i, fu(get_uint64(x, i))); break;
    }
  }
  return y;
}

// Binary operator with broadcasting; both inputs and the output share one type.
template <typename F, typename FS, typename FU>
Tensor binary_numeric(const Tensor& a, const Tensor& b, const TypeList& allowed, F f, FS fs, FU fu) {
  require_type(a, allowed, "input A");
  require_same_type(a, b);
  Broadcast bc = broadcast({&a, &b});
  Tensor y = Tensor::allocate(a.type(), bc.shape);
  const Kind kind = kind_of(a.type());
  for (int64_t i = 0; i < bc.numel; ++i) {
    int64_t ia = bc.index[0][idx(i)], ib = bc.index[1][idx(i)];
    switch (kind) {
      case Kind::floating:
        write_real(y, i, f(static_cast<double>(read_real(a, ia)), static_cast<double>(read_real(b, ib))));
        break;
      case Kind::signed_int: case Kind::boolean: set_int64(y, i, fs(get_int64(a, ia), get_int64(b, ib))); break;
      default: set_uint64(y, i, fu(get_uint64(a, ia), get_uint64(b, ib))); break;
    }
  }
  return y;
}

// Three-way comparison of two elements of the same type: returns <0, 0, >0, or
// nullopt when unordered (a NaN is involved).
std::optional<int> compare_elements(const Tensor& a, int64_t ia, const Tensor& b, int64_t ib) {
  switch (kind_of(a.type())) {
    case Kind::string: {
      int c = a.strings()[idx(ia)].compare(b.strings()[idx(ib)]);
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    case Kind::signed_int: case Kind::boolean: {
      int64_t x = get_int64(a, ia), y = get_int64(b, ib);
      return x < y ? -1 : (x > y ? 1 : 0);
    }
    case Kind::unsigned_int: {
      uint64_t x = get_uint64(a, ia), y = get_uint64(b, ib);
      return x < y ? -1 : (x > y ? 1 : 0);
    }
    default: {
      long double x = read_real(a, ia), y = read_real(b, ib);
      if (std::isnan(x) || std::isnan(y)) return std::nullopt;
      return x < y ? -1 : (x > y ? 1 : 0);
    }
  }
}

// Comparison producing bool; pred receives the three-way result (nullopt = unordered).
template <typename P>
KernelFn compare_kernel(const TypeList* allowed, P pred) {
  return [allowed, pred](KernelContext& ctx) {
    const Tensor& a = ctx.input(0);
    const Tensor b = legacy_aligned_b(ctx, a, ctx.input(1));
    require_type(a, *allowed, "input A");
    require_same_type(a, b);
    Broadcast bc = broadcast({&a, &b});
    Tensor y = Tensor::allocate(ET::boolean, bc.shape);
    uint8_t* out = y.mutable_data<uint8_t>();
    for (int64_t i = 0; i < bc.numel; ++i)
      out[i] = pred(compare_elements(a, bc.index[0][idx(i)], b, bc.index[1][idx(i)])) ? 1 : 0;
    ctx.set_output(0, y);
  };
}

// Boolean binary logic.
template <typename P>
KernelFn logic_kernel(P pred) {
  return [pred](KernelContext& ctx) {
    const Tensor& a = ctx.input(0);
    const Tensor b = legacy_aligned_b(ctx, a, ctx.input(1));
    require_type(a, kBool, "input A");
    require_type(b, kBool, "input B");
    Broadcast bc = broadcast({&a, &b});
    Tensor y = Tensor::allocate(ET::boolean, bc.shape);
    const uint8_t* pa = a.data<uint8_t>();
    const uint8_t* pb = b.data<uint8_t>();
    uint8_t* out = y.mutable_data<uint8_t>();
    for (int64_t i = 0; i < bc.numel; ++i)
      out[i] = pred(pa[bc.index[0][idx(i)]] != 0, pb[bc.index[1][idx(i)]] != 0) ? 1 : 0;
    ctx.set_output(0, y);
  };
}

// ---------------------------------------------------------------------------
// Arithmetic
// ---------------------------------------------------------------------------

// Wrapping integer arithmetic is done on uint64 (two's complement), which is
// well defined in C++ and equals the wrapped signed result.
int64_t wrap_add(int64_t a, int64_t b) { return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b)); }
int64_t wrap_sub(int64_t a, int64_t b) { return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b)); }
int64_t wrap_mul(int64_t a, int64_t b) { return static_cast<int64_t>(static_cast<uint64_t>(a) * static_cast<uint64_t>(b)); }

[[noreturn]] void integer_division_by_zero() {
  throw_error(StatusCode::invalid_argument, "integer division by zero");
}

// A (input 0) and B (input 1) of a binary operator, B aligned for legacy broadcasting.
std::pair<Tensor, Tensor> binary_inputs(const KernelContext& ctx) {
  const Tensor& a = ctx.input(0);
  return {a, legacy_aligned_b(ctx, a, ctx.input(1))};
}

void add(KernelContext& ctx) {
  auto [a, b] = binary_inputs(ctx);
  ctx.set_output(0, binary_numeric(
                        a, b, kNumeric, [](double x, double y) { return x + y; }, wrap_add,
                        [](uint64_t x, uint64_t y) { return x + y; }));
}

void sub(KernelContext& ctx) {
  auto [a, b] = binary_inputs(ctx);
  ctx.set_output(0, binary_numeric(
                        a, b, kNumeric, [](double x, double y) { return x - y; }, wrap_sub,
                        [](uint64_t x, uint64_t y) { return x - y; }));
}

void mul(KernelContext& ctx) {
  auto [a, b] = binary_inputs(ctx);
  ctx.set_output(0, binary_numeric(
                        a, b, kNumeric, [](double x, double y) { return x * y; }, wrap_mul,
                        [](uint64_t x, uint64_t y) { return x * y; }));
}

// Integer Div truncates toward zero (C semantics), as the ONNX tests expect.
void div(KernelContext& ctx) {
  auto [num, den] = binary_inputs(ctx);
  ctx.set_output(0, binary_numeric(
                        num, den, kNumeric, [](double a, double b) { return a / b; },
                        [](int64_t a, int64_t b) -> int64_t {
                          if (b == 0) integer_division_by_zero();
                          if (b == -1) return wrap_sub(0, a);  // INT64_MIN / -1 wraps
                          return a / b;
                        },
                        [](uint64_t a, uint64_t b) -> uint64_t {
                          if (b == 0) integer_division_by_zero();
                          return a / b;
                        }));
}

// Mod: fmod=1 takes the sign of the dividend (C fmod); fmod=0 (integers only)
// takes the sign of the divisor (Python %).
void mod(KernelContext& ctx) {
  const bool c_fmod = ctx.attr_int("fmod", 0) != 0;
  const Tensor& a = ctx.input(0);
  if (!c_fmod && kind_of(a.type()) == Kind::floating)
    throw_error(StatusCode::invalid_argument, "Mod on floating point inputs requires fmod=1");
  ctx.set_output(0, binary_numeric(
                        a, ctx.input(1), kNumeric, [](double x, double y) { return std::fmod(x, y); },
                        [c_fmod](int64_t x, int64_t y) -> int64_t {
                          if (y == 0) integer_division_by_zero();
                          if (y == -1) return 0;  // avoids INT64_MIN % -1 overflow
                          int64_t r = x % y;
                          if (!c_fmod && r != 0 && ((r < 0) != (y < 0))) r += y;
                          return r;
                        },
                        [](uint64_t x, uint64_t y) -> uint64_t {
                          if (y == 0) integer_division_by_zero();
                          return x % y;
                        }));
}

// base^exp on wrapping 64-bit integers (exp >= 0), by repeated squaring.
uint64_t int_pow(uint64_t base, uint64_t exp) {
  uint64_t result = 1;
  while (exp) {
    if (exp & 1u) result *= base;
    base *= base;
    exp >>= 1;
  }
  return result;
}

void pow_kernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor e = legacy_aligned_b(ctx, x, ctx.input(1));
  require_type(x, kNumeric, "input X");
  require_type(e, kNumeric, "input Y");
  Broadcast bc = broadcast({&x, &e});
  Tensor y = Tensor::allocate(x.type(), bc.shape);
  const Kind xk = kind_of(x.type()), ek = kind_of(e.type());
  const bool int_base = xk != Kind::floating, int_exp = ek != Kind::floating;
  for (int64_t i = 0; i < bc.numel; ++i) {
    int64_t ix = bc.index[0][idx(i)], ie = bc.index[1][idx(i)];
    if (int_base && int_exp) {
      // Exact integer power with wrap-around.
      uint64_t base = get_uint64(x, ix);  // bit pattern of a signed or unsigned base
      bool neg_exp = ek == Kind::signed_int && get_int64(e, ie) < 0;
      if (!neg_exp) {
        set_uint64(y, i, int_pow(base, get_uint64(e, ie)));
        continue;
      }
      // Negative exponent: 1/base^n truncated toward zero.
      // Only the cases 0, 1 and -1 matter: any other base gives |1/base^n| < 1, i.e. 0.
      int64_t b = xk == Kind::signed_int ? get_int64(x, ix) : static_cast<int64_t>(std::min<uint64_t>(base, 2));
      if (b == 0) throw_error(StatusCode::invalid_argument, "Pow: integer zero raised to a negative power");
      int64_t r = 0;
      if (b == 1) r = 1;
      else if (b == -1) r = (get_int64(e, ie) % 2 == 0) ? 1 : -1;
      set_int64(y, i, r);
    } else {
      long double r = std::pow(static_cast<double>(read_real(x, ix)), static_cast<double>(read_real(e, ie)));
      write_real(y, i, r);
    }
  }
  ctx.set_output(0, y);
}

// Sum / Mean / Max / Min: variadic with multidirectional broadcasting.
enum class Variadic { sum, mean, max, min };

KernelFn variadic_kernel(Variadic op) {
  return [op](KernelContext& ctx) {
    std::vector<const Tensor*> ins;
    for (size_t i = 0; i < ctx.num_inputs(); ++i) ins.push_back(&ctx.input(i));
    if (ins.empty()) throw_error(StatusCode::invalid_argument, "needs at least one input");
    const bool minmax = op == Variadic::max || op == Variadic::min;
    require_type(*ins[0], minmax ? kNumeric : kFloats, "input 0");
    for (const Tensor* t : ins) require_same_type(*ins[0], *t);
    Broadcast bc = broadcast(ins);
    const ET type = ins[0]->type();
    const Kind kind = kind_of(type);
    Tensor y = Tensor::allocate(type, bc.shape);
    for (int64_t i = 0; i < bc.numel; ++i) {
      if (minmax && kind != Kind::floating) {
        // Exact integer comparison: keep the index of the winning input element.
        size_t best = 0;
        for (size_t k = 1; k < ins.size(); ++k) {
          int c = *compare_elements(*ins[k], bc.index[k][idx(i)], *ins[best], bc.index[best][idx(i)]);
          if ((op == Variadic::max && c > 0) || (op == Variadic::min && c < 0)) best = k;
        }
        copy_element(*ins[best], bc.index[best][idx(i)], y, i);
        continue;
      }
      double acc = 0;
      for (size_t k = 0; k < ins.size(); ++k) {
        double v = static_cast<double>(read_real(*ins[k], bc.index[k][idx(i)]));
        if (k == 0 && minmax) {
          acc = v;
        } else if (op == Variadic::sum || op == Variadic::mean) {
          acc += v;
        } else if (std::isnan(acc) || std::isnan(v)) {
          acc = std::numeric_limits<double>::quiet_NaN();  // NaN propagates
        } else {
          acc = op == Variadic::max ? std::max(acc, v) : std::min(acc, v);
        }
      }
      if (op == Variadic::mean) acc /= static_cast<double>(ins.size());
      write_real(y, i, acc);
    }
    ctx.set_output(0, y);
  };
}

// ---------------------------------------------------------------------------
// Activations and unary math
// ---------------------------------------------------------------------------

double sigmoid(double x) {
  // Written to avoid overflow in exp for large |x|.
  if (x >= 0) return 1.0 / (1.0 + std::exp(-x));
  double e = std::exp(x);
  return e / (1.0 + e);
}

double softplus(double x) {  // log(1 + exp(x)), stable for large |x|
  if (x > 0) return x + std::log1p(std::exp(-x));
  return std::log1p(std::exp(x));
}

// Round half to even, independent of the floating point environment.
double round_half_even(double x) {
  if (!std::isfinite(x)) return x;
  double f = std::floor(x);
  double diff = x - f;
  double r = diff < 0.5 ? f : (diff > 0.5 ? f + 1 : (std::fmod(f, 2.0) == 0 ? f : f + 1));
  return std::copysign(r, x);  // keeps the sign of zero: Round(-0.4) is -0
}

void relu(KernelContext& ctx) {
  ctx.set_output(0, unary_numeric(
                        ctx.input(0), kSignedNumeric, [](double x) { return x < 0 ? 0.0 : x; },
                        [](int64_t x) { return x < 0 ? int64_t{0} : x; }, [](uint64_t x) { return x; }));
}

void neg(KernelContext& ctx) {
  ctx.set_output(0, unary_numeric(
                        ctx.input(0), kSignedNumeric, [](double x) { return -x; },
                        [](int64_t x) { return wrap_sub(0, x); }, [](uint64_t x) { return 0 - x; }));
}

void abs_kernel(KernelContext& ctx) {
  ctx.set_output(0, unary_numeric(
                        ctx.input(0), kNumeric, [](double x) { return std::fabs(x); },
                        [](int64_t x) { return x < 0 ? wrap_sub(0, x) : x; }, [](uint64_t x) { return x; }));
}

void sign(KernelContext& ctx) {
  ctx.set_output(0, unary_numeric(
                        ctx.input(0), kNumeric,
                        [](double x) { return std::isnan(x) ? x : (x > 0 ? 1.0 : (x < 0 ? -1.0 : 0.0)); },
                        [](int64_t x) { return x > 0 ? int64_t{1} : (x < 0 ? int64_t{-1} : int64_t{0}); },
                        [](uint64_t x) { return x > 0 ? uint64_t{1} : uint64_t{0}; }));
}

// Clip: opset < 11 reads min/max attributes; later opsets take optional scalar inputs.
void clip(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  require_type(x, ctx.opset() < 12 ? kFloats : kNumeric, "input");
  const Kind kind = kind_of(x.type());
  Tensor y = Tensor::allocate(x.type(), x.shape());
  if (ctx.opset() < 11) {
    double lo = ctx.attr_float("min", std::numeric_limits<float>::lowest());
    double hi = ctx.attr_float("max", std::numeric_limits<float>::max());
    for (int64_t i = 0; i < x.numel(); ++i) {
      double v = static_cast<double>(read_real(x, i));
      if (!std::isnan(v)) v = std::min(std::max(v, lo), hi);
      write_real(y, i, v);
    }
    ctx.set_output(0, y);
    return;
  }
  auto bound = [&](size_t k) -> const Tensor* {
    if (!ctx.has_input(k)) return nullptr;
    const Tensor& b = ctx.input(k);
    require_same_type(x, b);
    if (b.numel() != 1)
      throw_error(StatusCode::invalid_argument, std::string(k == 1 ? "min" : "max") + " must be a scalar, got shape " +
                                                    shape_to_string(b.shape()));
    return &b;
  };
  const Tensor* lo = bound(1);
  const Tensor* hi = bound(2);
  for (int64_t i = 0; i < x.numel(); ++i) {
    // y = min(max(x, lo), hi): when lo > hi every element becomes hi, as the spec says.
    int64_t src_i = i;
    const Tensor* src = &x;
    if (kind == Kind::floating) {
      double v = static_cast<double>(read_real(x, i));
      if (!std::isnan(v)) {
        if (lo) v = std::max(v, static_cast<double>(read_real(*lo, 0)));
        if (hi) v = std::min(v, static_cast<double>(read_real(*hi, 0)));
      }
      write_real(y, i, v);
      continue;
    }
    if (lo && *compare_elements(*src, src_i, *lo, 0) < 0) src = lo, src_i = 0;
    if (hi && *compare_elements(*src, src_i, *hi, 0) > 0) src = hi, src_i = 0;
    copy_element(*src, src_i, y, i);
  }
  ctx.set_output(0, y);
}

// max(lo, min(hi, v)) that keeps NaN (std::min / std::max return their first argument when the
// comparison is false, so min(1, NaN) would be 1); numpy's minimum/maximum propagate it.
double clamp_keep_nan(double v, double lo, double hi) { return std::isnan(v) ? v : std::max(lo, std::min(hi, v)); }

void hard_sigmoid(KernelContext& ctx) {
  double alpha = ctx.attr_float("alpha", 0.2f), beta = ctx.attr_float("beta", 0.5f);
  ctx.set_output(0, unary_float(ctx.input(0), [=](double x) { return clamp_keep_nan(alpha * x + beta, 0.0, 1.0); }));
}

void hard_swish(KernelContext& ctx) {
  ctx.set_output(0, unary_float(ctx.input(0), [](double x) { return x * std::max(0.0, std::min(1.0, x / 6.0 + 0.5)); }));
}

void leaky_relu(KernelContext& ctx) {
  double alpha = ctx.attr_float("alpha", 0.01f);
  ctx.set_output(0, unary_float(ctx.input(0), [=](double x) { return x < 0 ? alpha * x : x; }));
}

void elu(KernelContext& ctx) {
  double alpha = ctx.attr_float("alpha", 1.0f);
  ctx.set_output(0, unary_float(ctx.input(0), [=](double x) { return x < 0 ? alpha * std::expm1(x) : x; }));
}

void selu(KernelContext& ctx) {
  double alpha = ctx.attr_float("alpha", 1.67326319217681884765625f);
  double gamma = ctx.attr_float("gamma", 1.05070102214813232421875f);
  ctx.set_output(0, unary_float(ctx.input(0), [=](double x) {
    return x > 0 ? gamma * x : gamma * (alpha * std::exp(x) - alpha);
  }));
}

void celu(KernelContext& ctx) {
  double alpha = ctx.attr_float("alpha", 1.0f);
  if (alpha == 0) throw_error(StatusCode::invalid_argument, "Celu alpha must not be 0");
  ctx.set_output(0, unary_float(ctx.input(0), [=](double x) {
    if (std::isnan(x)) return x;  // max(0, NaN) and min(0, NaN) would drop it
    return std::max(0.0, x) + std::min(0.0, alpha * std::expm1(x / alpha));
  }));
}

void thresholded_relu(KernelContext& ctx) {
  double alpha = ctx.attr_float("alpha", 1.0f);
  ctx.set_output(0, unary_float(ctx.input(0), [=](double x) { return x > alpha ? x : 0.0; }));
}

void swish(KernelContext& ctx) {
  double alpha = ctx.attr_float("alpha", 1.0f);
  ctx.set_output(0, unary_float(ctx.input(0), [=](double x) { return x * sigmoid(alpha * x); }));
}

void gelu(KernelContext& ctx) {
  std::string approx = ctx.attr_string("approximate", "none");
  if (approx == "none") {
    ctx.set_output(0, unary_float(ctx.input(0), [](double x) { return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))); }));
  } else if (approx == "tanh") {
    const double k = std::sqrt(2.0 / 3.14159265358979323846);
    ctx.set_output(0, unary_float(ctx.input(0), [=](double x) {
      return 0.5 * x * (1.0 + std::tanh(k * (x + 0.044715 * x * x * x)));
    }));
  } else {
    throw_error(StatusCode::invalid_argument, "Gelu approximate must be 'none' or 'tanh', got '" + approx + "'");
  }
}

void shrink(KernelContext& ctx) {
  double lambd = ctx.attr_float("lambd", 0.5f), bias = ctx.attr_float("bias", 0.0f);
  const Tensor& x = ctx.input(0);
  require_type(x, kNumeric, "input");
  Tensor y = Tensor::allocate(x.type(), x.shape());
  for (int64_t i = 0; i < x.numel(); ++i) {
    long double v = read_real(x, i);
    long double r = v < -lambd ? v + bias : (v > lambd ? v - bias : 0.0L);
    write_real(y, i, r);
  }
  ctx.set_output(0, y);
}

// PRelu: slope broadcasts unidirectionally to X; the output has X's shape.
void prelu(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& slope = ctx.input(1);
  require_type(x, kNumeric, "input X");
  require_same_type(x, slope);
  Shape out = broadcast_shapes({x.shape(), slope.shape()});
  if (out != x.shape())
    throw_error(StatusCode::invalid_argument, "slope shape " + shape_to_string(slope.shape()) +
                                                  " does not broadcast to X shape " + shape_to_string(x.shape()));
  std::vector<int64_t> map = broadcast_index_map(slope.shape(), x.shape());
  Tensor y = Tensor::allocate(x.type(), x.shape());
  const Kind kind = kind_of(x.type());
  for (int64_t i = 0; i < x.numel(); ++i) {
    int64_t s = map[idx(i)];
    if (kind == Kind::floating) {
      double v = static_cast<double>(read_real(x, i));
      write_real(y, i, v < 0 ? static_cast<double>(read_real(slope, s)) * v : v);
    } else if (kind == Kind::signed_int) {
      int64_t v = get_int64(x, i);
      set_int64(y, i, v < 0 ? wrap_mul(get_int64(slope, s), v) : v);
    } else {
      set_uint64(y, i, get_uint64(x, i));  // unsigned values are never negative
    }
  }
  ctx.set_output(0, y);
}

// ---------------------------------------------------------------------------
// Logic, predicates, Where, bitwise
// ---------------------------------------------------------------------------

void not_kernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  require_type(x, kBool, "input");
  Tensor y = Tensor::allocate(ET::boolean, x.shape());
  for (int64_t i = 0; i < x.numel(); ++i) y.mutable_data<uint8_t>()[i] = x.data<uint8_t>()[i] ? 0 : 1;
  ctx.set_output(0, y);
}

void is_nan(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  require_type(x, join({&kFloats, &kSmallFloats}), "input");
  Tensor y = Tensor::allocate(ET::boolean, x.shape());
  for (int64_t i = 0; i < x.numel(); ++i) y.mutable_data<uint8_t>()[i] = std::isnan(read_real(x, i)) ? 1 : 0;
  ctx.set_output(0, y);
}

void is_inf(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  require_type(x, join({&kFloats, &kSmallFloats}), "input");
  const bool neg = ctx.attr_int("detect_negative", 1) != 0, pos = ctx.attr_int("detect_positive", 1) != 0;
  Tensor y = Tensor::allocate(ET::boolean, x.shape());
  for (int64_t i = 0; i < x.numel(); ++i) {
    long double v = read_real(x, i);
    bool r = std::isinf(v) && ((v > 0 && pos) || (v < 0 && neg));
    y.mutable_data<uint8_t>()[i] = r ? 1 : 0;
  }
  ctx.set_output(0, y);
}

void where(KernelContext& ctx) {
  const Tensor& c = ctx.input(0);
  const Tensor& a = ctx.input(1);
  const Tensor& b = ctx.input(2);
  require_type(c, kBool, "condition");
  require_same_type(a, b);
  Broadcast bc = broadcast({&c, &a, &b});
  Tensor y = a.type() == ET::string ? Tensor::from_strings(bc.shape, std::vector<std::string>(idx(bc.numel)))
                                    : Tensor::allocate(a.type(), bc.shape);
  for (int64_t i = 0; i < bc.numel; ++i) {
    if (c.data<uint8_t>()[bc.index[0][idx(i)]])
      copy_element(a, bc.index[1][idx(i)], y, i);
    else
      copy_element(b, bc.index[2][idx(i)], y, i);
  }
  ctx.set_output(0, y);
}

template <typename F>
KernelFn bitwise_kernel(F f) {
  return [f](KernelContext& ctx) {
    ctx.set_output(0, binary_numeric(
                          ctx.input(0), ctx.input(1), kInts, [](double, double) { return 0.0; },
                          [f](int64_t a, int64_t b) { return static_cast<int64_t>(f(static_cast<uint64_t>(a), static_cast<uint64_t>(b))); },
                          f));
  };
}

void bitwise_not(KernelContext& ctx) {
  ctx.set_output(0, unary_numeric(
                        ctx.input(0), kInts, [](double x) { return x; }, [](int64_t x) { return ~x; },
                        [](uint64_t x) { return ~x; }));
}

void bit_shift(KernelContext& ctx) {
  std::string dir = ctx.attr_string("direction", "");
  if (dir != "LEFT" && dir != "RIGHT")
    throw_error(StatusCode::invalid_argument, "BitShift direction must be LEFT or RIGHT, got '" + dir + "'");
  const bool left = dir == "LEFT";
  const Tensor& x = ctx.input(0);
  require_type(x, kUnsignedInts, "input X");
  ctx.set_output(0, binary_numeric(
                        x, ctx.input(1), kUnsignedInts, [](double, double) { return 0.0; },
                        [](int64_t, int64_t) { return int64_t{0}; },
                        [left](uint64_t v, uint64_t s) -> uint64_t {
                          if (s >= 64) return 0;  // every bit shifted out
                          return left ? v << s : v >> s;  // the store truncates to the element width
                        }));
}

// ---------------------------------------------------------------------------
// Cast / CastLike
// ---------------------------------------------------------------------------

bool iequals(const std::string& a, const char* b) {
  size_t n = std::strlen(b);
  if (a.size() != n) return false;
  for (size_t i = 0; i < n; ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

// Parses a string for Cast: decimal or scientific numbers, and (case-insensitive)
// "INF", "+INF", "-INF", "NaN". Integers are parsed exactly when the target is an integer.
void write_from_string(Tensor& y, int64_t i, const std::string& raw, const WriteOptions& opt) {
  std::string s = raw;
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t start = 0;
  while (start < s.size() && std::isspace(static_cast<unsigned char>(s[start]))) ++start;
  s = s.substr(start);
  const ET type = y.type();
  const Kind kind = kind_of(type);
  if (iequals(s, "inf") || iequals(s, "+inf") || iequals(s, "infinity") || iequals(s, "+infinity")) {
    write_real(y, i, std::numeric_limits<long double>::infinity(), opt);
    return;
  }
  if (iequals(s, "-inf") || iequals(s, "-infinity")) {
    write_real(y, i, -std::numeric_limits<long double>::infinity(), opt);
    return;
  }
  if (iequals(s, "nan") || iequals(s, "+nan") || iequals(s, "-nan")) {
    write_real(y, i, std::numeric_limits<long double>::quiet_NaN(), opt);
    return;
  }
  const char* b = s.data();
  const char* e = s.data() + s.size();
  const char* digits = (b != e && *b == '+') ? b + 1 : b;  // from_chars rejects a leading '+'
  if (kind == Kind::signed_int || kind == Kind::unsigned_int || kind == Kind::boolean) {
    int64_t sv = 0;
    auto r = std::from_chars(digits, e, sv);
    if (r.ec == std::errc() && r.ptr == e) {
      set_int64(y, i, sv);
      return;
    }
    uint64_t uv = 0;
    r = std::from_chars(digits, e, uv);
    if (r.ec == std::errc() && r.ptr == e) {
      set_uint64(y, i, uv);
      return;
    }
  }
  errno = 0;
  char* end = nullptr;
  long double v;
  if (type == ET::float32) v = std::strtof(s.c_str(), &end);       // rounded once, to float
  else if (type == ET::float64) v = std::strtod(s.c_str(), &end);  // rounded once, to double
  else v = std::strtold(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size())
    throw_error(StatusCode::invalid_argument, "Cast: cannot parse '" + raw + "' as a number");
  write_real(y, i, v, opt);
}

// Formats element i as a string: integers in decimal, bool as True/False, floats
// with the fewest significant digits that read back to the same value of their type.
std::string element_to_string(const Tensor& x, int64_t i) {
  switch (kind_of(x.type())) {
    case Kind::boolean: return get_int64(x, i) ? "True" : "False";
    case Kind::signed_int: return std::to_string(get_int64(x, i));
    case Kind::unsigned_int: return std::to_string(get_uint64(x, i));
    default: break;
  }
  long double v = read_real(x, i);
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "INF" : "-INF";
  Tensor probe = Tensor::allocate(x.type(), {1});
  Tensor original = Tensor::allocate(x.type(), {1});
  write_real(original, 0, v);
  char buf[64];
  for (int p = 1; p <= 21; ++p) {
    std::snprintf(buf, sizeof buf, "%.*Lg", p, v);
    write_real(probe, 0, std::strtold(buf, nullptr));
    if (std::memcmp(probe.raw(), original.raw(), probe.byte_size()) == 0) break;
  }
  return buf;
}

ET parse_cast_target(int64_t to) {
  auto t = element_type_from_int(static_cast<int32_t>(to));
  if (!t || to != static_cast<int32_t>(to) || *t == ET::undefined)
    throw_error(StatusCode::invalid_argument, "Cast 'to' value " + std::to_string(to) + " is not an element type");
  if (*t == ET::complex64 || *t == ET::complex128)
    throw_error(StatusCode::unsupported, "Cast to " + type_name(*t) + " is not supported");
  return *t;
}

WriteOptions cast_options(const KernelContext& ctx) {
  WriteOptions opt;
  opt.saturate = ctx.attr_int("saturate", 1) != 0;
  std::string mode = ctx.attr_string("round_mode", "up");
  if (mode == "up") opt.round = E8M0Round::up;
  else if (mode == "down") opt.round = E8M0Round::down;
  else if (mode == "nearest") opt.round = E8M0Round::nearest;
  else throw_error(StatusCode::invalid_argument, "Cast round_mode must be up, down or nearest, got '" + mode + "'");
  return opt;
}

Tensor cast_tensor(const Tensor& x, ET to, const WriteOptions& opt) {
  const Kind from = kind_of(x.type());
  if (from == Kind::other)
    throw_error(StatusCode::unsupported, "Cast from " + type_name(x.type()) + " is not supported");
  if (to == ET::string) {
    std::vector<std::string> out(idx(x.numel()));
    for (int64_t i = 0; i < x.numel(); ++i)
      out[idx(i)] = from == Kind::string ? x.strings()[idx(i)] : element_to_string(x, i);
    return Tensor::from_strings(x.shape(), std::move(out));
  }
  Tensor y = Tensor::allocate(to, x.shape());
  const Kind tk = kind_of(to);
  const bool int_target = tk == Kind::signed_int || tk == Kind::unsigned_int || tk == Kind::boolean;
  for (int64_t i = 0; i < x.numel(); ++i) {
    switch (from) {
      case Kind::string: write_from_string(y, i, x.strings()[idx(i)], opt); break;
      case Kind::signed_int: case Kind::boolean:
        if (int_target) set_int64(y, i, get_int64(x, i));
        else write_real(y, i, static_cast<long double>(get_int64(x, i)), opt);
        break;
      case Kind::unsigned_int:
        if (int_target) set_uint64(y, i, get_uint64(x, i));
        else write_real(y, i, static_cast<long double>(get_uint64(x, i)), opt);
        break;
      default: write_real(y, i, read_real(x, i), opt); break;
    }
  }
  return y;
}

// Cast-1 names the target type with a string: the TensorProto.DataType enum name.
ET parse_cast_target_name(const std::string& name) {
  static const std::pair<const char*, ET> kNames[] = {
      {"FLOAT", ET::float32},  {"UINT8", ET::uint8},   {"INT8", ET::int8},       {"UINT16", ET::uint16},
      {"INT16", ET::int16},    {"INT32", ET::int32},   {"INT64", ET::int64},     {"STRING", ET::string},
      {"BOOL", ET::boolean},   {"FLOAT16", ET::float16}, {"DOUBLE", ET::float64}, {"UINT32", ET::uint32},
      {"UINT64", ET::uint64},  {"BFLOAT16", ET::bfloat16}};
  for (const auto& [n, t] : kNames)
    if (iequals(name, n)) return t;
  throw_error(StatusCode::invalid_argument, "Cast 'to' value '" + name + "' is not a supported element type name");
}

void cast(KernelContext& ctx) {
  const Attribute* to_attr = ctx.node().attr("to");
  if (!to_attr) throw_error(StatusCode::invalid_argument, "Cast needs the 'to' attribute");
  ET to = to_attr->type == Attribute::Type::string ? parse_cast_target_name(to_attr->s)
                                                   : parse_cast_target(ctx.attr_int("to", 0));
  ctx.set_output(0, cast_tensor(ctx.input(0), to, cast_options(ctx)));
}

void cast_like(KernelContext& ctx) {
  ctx.set_output(0, cast_tensor(ctx.input(0), ctx.input(1).type(), cast_options(ctx)));
}

}  // namespace

void register_elementwise_kernels(KernelRegistry& r) {
  // Arithmetic
  r.add("", "Add", add);
  r.add("", "Sub", sub);
  r.add("", "Mul", mul);
  r.add("", "Div", div);
  r.add("", "Mod", mod);
  r.add("", "Pow", pow_kernel);
  r.add("", "Sum", variadic_kernel(Variadic::sum));
  r.add("", "Mean", variadic_kernel(Variadic::mean));
  r.add("", "Max", variadic_kernel(Variadic::max));
  r.add("", "Min", variadic_kernel(Variadic::min));
  r.add("", "Neg", neg);
  r.add("", "Abs", abs_kernel);
  r.add("", "Sign", sign);

  // Unary float math
  r.add("", "Sqrt", float_kernel([](double x) { return std::sqrt(x); }));
  r.add("", "Exp", float_kernel([](double x) { return std::exp(x); }));
  r.add("", "Log", float_kernel([](double x) { return std::log(x); }));
  r.add("", "Tanh", float_kernel([](double x) { return std::tanh(x); }));
  r.add("", "Reciprocal", float_kernel([](double x) { return 1.0 / x; }));
  r.add("", "Erf", float_kernel([](double x) { return std::erf(x); }));
  r.add("", "Ceil", float_kernel([](double x) { return std::ceil(x); }));
  r.add("", "Floor", float_kernel([](double x) { return std::floor(x); }));
  r.add("", "Round", float_kernel(round_half_even));
  r.add("", "Sin", float_kernel([](double x) { return std::sin(x); }));
  r.add("", "Cos", float_kernel([](double x) { return std::cos(x); }));
  r.add("", "Tan", float_kernel([](double x) { return std::tan(x); }));
  r.add("", "Asin", float_kernel([](double x) { return std::asin(x); }));
  r.add("", "Acos", float_kernel([](double x) { return std::acos(x); }));
  r.add("", "Atan", float_kernel([](double x) { return std::atan(x); }));
  r.add("", "Sinh", float_kernel([](double x) { return std::sinh(x); }));
  r.add("", "Cosh", float_kernel([](double x) { return std::cosh(x); }));
  r.add("", "Asinh", float_kernel([](double x) { return std::asinh(x); }));
  r.add("", "Acosh", float_kernel([](double x) { return std::acosh(x); }));
  r.add("", "Atanh", float_kernel([](double x) { return std::atanh(x); }));

  // Activations
  r.add("", "Relu", relu);
  r.add("", "Clip", clip);
  r.add("", "Sigmoid", float_kernel(sigmoid));
  r.add("", "HardSigmoid", hard_sigmoid);
  r.add("", "HardSwish", hard_swish);
  r.add("", "LeakyRelu", leaky_relu);
  r.add("", "PRelu", prelu);
  r.add("", "Elu", elu);
  r.add("", "Selu", selu);
  r.add("", "Celu", celu);
  r.add("", "Softplus", float_kernel(softplus));
  r.add("", "Softsign", float_kernel([](double x) { return x / (1.0 + std::fabs(x)); }));
  r.add("", "ThresholdedRelu", thresholded_relu);
  r.add("", "Mish", float_kernel([](double x) { return x * std::tanh(softplus(x)); }));
  r.add("", "Swish", swish);
  r.add("", "Gelu", gelu);
  r.add("", "Shrink", shrink);

  // Comparison and logic
  r.add("", "Equal", compare_kernel(&kEqualTypes, [](std::optional<int> c) { return c && *c == 0; }));
  r.add("", "Greater", compare_kernel(&kNumeric, [](std::optional<int> c) { return c && *c > 0; }));
  r.add("", "GreaterOrEqual", compare_kernel(&kNumeric, [](std::optional<int> c) { return c && *c >= 0; }));
  r.add("", "Less", compare_kernel(&kNumeric, [](std::optional<int> c) { return c && *c < 0; }));
  r.add("", "LessOrEqual", compare_kernel(&kNumeric, [](std::optional<int> c) { return c && *c <= 0; }));
  r.add("", "Not", not_kernel);
  r.add("", "And", logic_kernel([](bool a, bool b) { return a && b; }));
  r.add("", "Or", logic_kernel([](bool a, bool b) { return a || b; }));
  r.add("", "Xor", logic_kernel([](bool a, bool b) { return a != b; }));
  r.add("", "Where", where);
  r.add("", "IsNaN", is_nan);
  r.add("", "IsInf", is_inf);

  // Bitwise
  r.add("", "BitShift", bit_shift);
  r.add("", "BitwiseAnd", bitwise_kernel([](uint64_t a, uint64_t b) { return a & b; }));
  r.add("", "BitwiseOr", bitwise_kernel([](uint64_t a, uint64_t b) { return a | b; }));
  r.add("", "BitwiseXor", bitwise_kernel([](uint64_t a, uint64_t b) { return a ^ b; }));
  r.add("", "BitwiseNot", bitwise_not);

  // Conversion
  r.add("", "Cast", cast);
  r.add("", "CastLike", cast_like);
}

}  // namespace switchyard::reference
