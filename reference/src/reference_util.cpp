// Reference kernel helpers.
#include "switchyard/reference/util.h"

#include <algorithm>
#include <limits>

namespace switchyard::reference {

float half_to_float(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: value = mant * 2^-24
      float v = std::ldexp(static_cast<float>(mant), -24);
      return sign ? -v : v;
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t float_to_half(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000u;
  uint32_t absx = x & 0x7fffffffu;
  if (absx >= 0x7f800000u) {  // inf or nan
    return static_cast<uint16_t>(sign | 0x7c00u | (absx > 0x7f800000u ? 0x200u | ((absx >> 13) & 0x3ffu) : 0));
  }
  if (absx >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // rounds to inf
  if (absx < 0x38800000u) {  // subnormal or zero in half
    // value / 2^-24, rounded to nearest even
    float a;
    std::memcpy(&a, &absx, 4);
    float scaled = a * 16777216.0f;  // exact (power of two)
    float r = std::nearbyint(scaled);  // default rounding mode: to nearest even
    return static_cast<uint16_t>(sign | static_cast<uint32_t>(r));
  }
  uint32_t mant = absx & 0x7fffffu;
  uint32_t exp = (absx >> 23) - 112;
  uint32_t h = (exp << 10) | (mant >> 13);
  uint32_t rest = mant & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) ++h;
  return static_cast<uint16_t>(sign | h);
}

float bfloat16_to_float(uint16_t b) {
  uint32_t bits = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t float_to_bfloat16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);  // quiet nan
  uint32_t lsb = (x >> 16) & 1u;
  x += 0x7fffu + lsb;
  return static_cast<uint16_t>(x >> 16);
}

namespace {
[[noreturn]] void bad_type(const char* fn, ElementType t) {
  throw_error(StatusCode::unsupported, std::string(fn) + ": element type " + std::string(element_type_name(t)) +
                                           " is not supported here");
}

int64_t sign_extend(uint64_t v, int bits) {
  uint64_t m = uint64_t{1} << (bits - 1);
  v &= (uint64_t{1} << bits) - 1;
  return static_cast<int64_t>((v ^ m) - m);
}

uint64_t read_packed(const Tensor& t, int64_t i, int bits) {
  const uint8_t* p = t.data<uint8_t>();
  int64_t bit = i * bits;
  return (p[bit / 8] >> (bit % 8)) & ((1u << bits) - 1);
}

void write_packed(Tensor& t, int64_t i, int bits, uint64_t v) {
  uint8_t* p = t.mutable_data<uint8_t>();
  int64_t bit = i * bits;
  uint8_t mask = static_cast<uint8_t>(((1u << bits) - 1) << (bit % 8));
  p[bit / 8] = static_cast<uint8_t>((p[bit / 8] & ~mask) | ((v << (bit % 8)) & mask));
}
}  // namespace

double get_double(const Tensor& t, int64_t i) {
  switch (t.type()) {
    case ElementType::float32: return t.data<float>()[i];
    case ElementType::float64: return t.data<double>()[i];
    case ElementType::float16: return half_to_float(t.data<uint16_t>()[i]);
    case ElementType::bfloat16: return bfloat16_to_float(t.data<uint16_t>()[i]);
    case ElementType::int8: return t.data<int8_t>()[i];
    case ElementType::uint8: return t.data<uint8_t>()[i];
    case ElementType::int16: return t.data<int16_t>()[i];
    case ElementType::uint16: return t.data<uint16_t>()[i];
    case ElementType::int32: return t.data<int32_t>()[i];
    case ElementType::uint32: return t.data<uint32_t>()[i];
    case ElementType::int64: return static_cast<double>(t.data<int64_t>()[i]);
    case ElementType::uint64: return static_cast<double>(t.data<uint64_t>()[i]);
    case ElementType::boolean: return t.data<uint8_t>()[i] ? 1.0 : 0.0;
    case ElementType::int4: return static_cast<double>(sign_extend(read_packed(t, i, 4), 4));
    case ElementType::uint4: return static_cast<double>(read_packed(t, i, 4));
    case ElementType::int2: return static_cast<double>(sign_extend(read_packed(t, i, 2), 2));
    case ElementType::uint2: return static_cast<double>(read_packed(t, i, 2));
    default: bad_type("get_double", t.type());
  }
}

namespace {
template <typename I>
I wrap_cast(double v) {
  if (std::isnan(v) || std::isinf(v)) return static_cast<I>(0);
  double tr = std::trunc(v);
  // Convert through int64 / uint64 so out-of-range values wrap rather than being UB.
  if (tr >= -9.2233720368547758e18 && tr < 9.2233720368547758e18) return static_cast<I>(static_cast<int64_t>(tr));
  if (tr >= 0 && tr < 1.8446744073709552e19) return static_cast<I>(static_cast<uint64_t>(tr));
  return static_cast<I>(0);
}
}  // namespace

void set_double(Tensor& t, int64_t i, double v) {
  switch (t.type()) {
    case ElementType::float32: t.mutable_data<float>()[i] = static_cast<float>(v); return;
    case ElementType::float64: t.mutable_data<double>()[i] = v; return;
    case ElementType::float16: t.mutable_data<uint16_t>()[i] = float_to_half(static_cast<float>(v)); return;
    case ElementType::bfloat16: t.mutable_data<uint16_t>()[i] = float_to_bfloat16(static_cast<float>(v)); return;
    case ElementType::int8: t.mutable_data<int8_t>()[i] = wrap_cast<int8_t>(v); return;
    case ElementType::uint8: t.mutable_data<uint8_t>()[i] = wrap_cast<uint8_t>(v); return;
    case ElementType::int16: t.mutable_data<int16_t>()[i] = wrap_cast<int16_t>(v); return;
    case ElementType::uint16: t.mutable_data<uint16_t>()[i] = wrap_cast<uint16_t>(v); return;
    case ElementType::int32: t.mutable_data<int32_t>()[i] = wrap_cast<int32_t>(v); return;
    case ElementType::uint32: t.mutable_data<uint32_t>()[i] = wrap_cast<uint32_t>(v); return;
    case ElementType::int64: t.mutable_data<int64_t>()[i] = wrap_cast<int64_t>(v); return;
    case ElementType::uint64: t.mutable_data<uint64_t>()[i] = wrap_cast<uint64_t>(v); return;
    case ElementType::boolean: t.mutable_data<uint8_t>()[i] = v != 0.0 ? 1 : 0; return;
    case ElementType::int4: case ElementType::uint4:
      write_packed(t, i, 4, static_cast<uint64_t>(wrap_cast<int64_t>(v))); return;
    case ElementType::int2: case ElementType::uint2:
      write_packed(t, i, 2, static_cast<uint64_t>(wrap_cast<int64_t>(v))); return;
    default: bad_type("set_double", t.type());
  }
}

int64_t get_int64(const Tensor& t, int64_t i) {
  switch (t.type()) {
    case ElementType::int64: return t.data<int64_t>()[i];
    case ElementType::uint64: return static_cast<int64_t>(t.data<uint64_t>()[i]);
    case ElementType::int32: return t.data<int32_t>()[i];
    case ElementType::uint32: return t.data<uint32_t>()[i];
    case ElementType::int16: return t.data<int16_t>()[i];
    case ElementType::uint16: return t.data<uint16_t>()[i];
    case ElementType::int8: return t.data<int8_t>()[i];
    case ElementType::uint8: return t.data<uint8_t>()[i];
    case ElementType::boolean: return t.data<uint8_t>()[i] ? 1 : 0;
    case ElementType::int4: return sign_extend(read_packed(t, i, 4), 4);
    case ElementType::uint4: return static_cast<int64_t>(read_packed(t, i, 4));
    case ElementType::int2: return sign_extend(read_packed(t, i, 2), 2);
    case ElementType::uint2: return static_cast<int64_t>(read_packed(t, i, 2));
    default: return wrap_cast<int64_t>(get_double(t, i));
  }
}

void set_int64(Tensor& t, int64_t i, int64_t v) {
  switch (t.type()) {
    case ElementType::int64: t.mutable_data<int64_t>()[i] = v; return;
    case ElementType::uint64: t.mutable_data<uint64_t>()[i] = static_cast<uint64_t>(v); return;
    case ElementType::int32: t.mutable_data<int32_t>()[i] = static_cast<int32_t>(v); return;
    case ElementType::uint32: t.mutable_data<uint32_t>()[i] = static_cast<uint32_t>(v); return;
    case ElementType::int16: t.mutable_data<int16_t>()[i] = static_cast<int16_t>(v); return;
    case ElementType::uint16: t.mutable_data<uint16_t>()[i] = static_cast<uint16_t>(v); return;
    case ElementType::int8: t.mutable_data<int8_t>()[i] = static_cast<int8_t>(v); return;
    case ElementType::uint8: t.mutable_data<uint8_t>()[i] = static_cast<uint8_t>(v); return;
    case ElementType::boolean: t.mutable_data<uint8_t>()[i] = v != 0 ? 1 : 0; return;
    case ElementType::int4: case ElementType::uint4: write_packed(t, i, 4, static_cast<uint64_t>(v)); return;
    case ElementType::int2: case ElementType::uint2: write_packed(t, i, 2, static_cast<uint64_t>(v)); return;
    default: set_double(t, i, static_cast<double>(v));
  }
}

uint64_t get_uint64(const Tensor& t, int64_t i) {
  if (t.type() == ElementType::uint64) return t.data<uint64_t>()[i];
  return static_cast<uint64_t>(get_int64(t, i));
}

void set_uint64(Tensor& t, int64_t i, uint64_t v) {
  if (t.type() == ElementType::uint64) {
    t.mutable_data<uint64_t>()[i] = v;
    return;
  }
  set_int64(t, i, static_cast<int64_t>(v));
}

std::vector<double> to_doubles(const Tensor& t) {
  std::vector<double> out(static_cast<size_t>(t.numel()));
  for (int64_t i = 0; i < t.numel(); ++i) out[static_cast<size_t>(i)] = get_double(t, i);
  return out;
}

std::vector<int64_t> to_int64s(const Tensor& t) {
  std::vector<int64_t> out(static_cast<size_t>(t.numel()));
  for (int64_t i = 0; i < t.numel(); ++i) out[static_cast<size_t>(i)] = get_int64(t, i);
  return out;
}

Tensor from_doubles(ElementType type, const Shape& shape, const std::vector<double>& values) {
  Tensor t = Tensor::allocate(type, shape);
  if (static_cast<size_t>(t.numel()) != values.size())
    throw_error(StatusCode::internal, "from_doubles: count mismatch");
  for (int64_t i = 0; i < t.numel(); ++i) set_double(t, i, values[static_cast<size_t>(i)]);
  return t;
}

Tensor from_int64s(ElementType type, const Shape& shape, const std::vector<int64_t>& values) {
  Tensor t = Tensor::allocate(type, shape);
  if (static_cast<size_t>(t.numel()) != values.size())
    throw_error(StatusCode::internal, "from_int64s: count mismatch");
  for (int64_t i = 0; i < t.numel(); ++i) set_int64(t, i, values[static_cast<size_t>(i)]);
  return t;
}

void copy_element(const Tensor& src, int64_t src_i, Tensor& dst, int64_t dst_i) {
  if (src.type() == ElementType::string) {
    dst.mutable_strings()[static_cast<size_t>(dst_i)] = src.strings()[static_cast<size_t>(src_i)];
    return;
  }
  int bits = element_bits(src.type());
  if (bits >= 8) {
    size_t b = static_cast<size_t>(bits / 8);
    std::memcpy(static_cast<std::byte*>(dst.raw_mutable()) + static_cast<size_t>(dst_i) * b,
                static_cast<const std::byte*>(src.raw()) + static_cast<size_t>(src_i) * b, b);
    return;
  }
  write_packed(dst, dst_i, bits, read_packed(src, src_i, bits));
}

std::vector<int64_t> strides_of(const Shape& shape) {
  std::vector<int64_t> s(shape.size(), 1);
  for (size_t i = shape.size(); i-- > 1;) s[i - 1] = s[i] * std::max<int64_t>(shape[i], 1);
  return s;
}

std::vector<int64_t> unravel(int64_t flat, const Shape& shape) {
  std::vector<int64_t> idx(shape.size(), 0);
  for (size_t i = shape.size(); i-- > 0;) {
    if (shape[i] > 0) {
      idx[i] = flat % shape[i];
      flat /= shape[i];
    }
  }
  return idx;
}

int64_t ravel(const std::vector<int64_t>& index, const std::vector<int64_t>& strides) {
  int64_t f = 0;
  for (size_t i = 0; i < index.size(); ++i) f += index[i] * strides[i];
  return f;
}

Shape broadcast_shapes(const std::vector<Shape>& shapes) {
  size_t rank = 0;
  for (const auto& s : shapes) rank = std::max(rank, s.size());
  Shape out(rank, 1);
  for (const auto& s : shapes) {
    for (size_t k = 0; k < s.size(); ++k) {
      size_t o = rank - s.size() + k;
      int64_t d = s[k];
      if (d == out[o] || d == 1) continue;
      if (out[o] == 1) {
        out[o] = d;
        continue;
      }
      std::string all;
      for (const auto& x : shapes) all += shape_to_string(x) + " ";
      throw_error(StatusCode::invalid_argument, "shapes " + all + "cannot be broadcast together");
    }
  }
  return out;
}

std::vector<int64_t> broadcast_index_map(const Shape& in_shape, const Shape& out_shape) {
  int64_t n = shape_numel(out_shape).value_or(0);
  std::vector<int64_t> map(static_cast<size_t>(n));
  const size_t rank = out_shape.size();
  const size_t off = rank - in_shape.size();
  std::vector<int64_t> in_strides = strides_of(in_shape);
  // Effective stride per output axis (0 where broadcast).
  std::vector<int64_t> eff(rank, 0);
  for (size_t k = 0; k < in_shape.size(); ++k) eff[off + k] = in_shape[k] == 1 ? 0 : in_strides[k];
  std::vector<int64_t> idx(rank, 0);
  int64_t cur = 0;
  for (int64_t i = 0; i < n; ++i) {
    map[static_cast<size_t>(i)] = cur;
    for (size_t d = rank; d-- > 0;) {
      ++idx[d];
      cur += eff[d];
      if (idx[d] < out_shape[d]) break;
      cur -= eff[d] * idx[d];
      idx[d] = 0;
    }
  }
  return map;
}

int64_t normalize_axis(int64_t axis, int64_t rank, const char* what) {
  int64_t a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= std::max<int64_t>(rank, 1))
    throw_error(StatusCode::invalid_argument, std::string(what) + " " + std::to_string(axis) +
                                                  " is out of range for rank " + std::to_string(rank));
  return a;
}

std::vector<int64_t> tensor_to_int64_list(const Tensor& t) {
  if (t.rank() > 1) throw_error(StatusCode::invalid_argument, "expected a 1-D integer tensor, got rank " +
                                                                  std::to_string(t.rank()));
  if (!is_signed_integer(t.type()) && !is_unsigned_integer(t.type()))
    throw_error(StatusCode::invalid_argument, "expected an integer tensor, got " +
                                                  std::string(element_type_name(t.type())));
  return to_int64s(t);
}

bool is_float_type(ElementType t) { return is_floating(t); }

}  // namespace switchyard::reference
