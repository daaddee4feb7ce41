// Element type names, sizes and classes.
#include "switchyard/hal/element_type.h"

#include <limits>

namespace switchyard {

namespace {
struct TypeRow {
  ElementType type;
  const char* name;
  int bits;
};
constexpr TypeRow kTypes[] = {
    {ElementType::undefined, "undefined", 0},   {ElementType::float32, "float32", 32},
    {ElementType::uint8, "uint8", 8},           {ElementType::int8, "int8", 8},
    {ElementType::uint16, "uint16", 16},        {ElementType::int16, "int16", 16},
    {ElementType::int32, "int32", 32},          {ElementType::int64, "int64", 64},
    {ElementType::string, "string", 0},         {ElementType::boolean, "bool", 8},
    {ElementType::float16, "float16", 16},      {ElementType::float64, "float64", 64},
    {ElementType::uint32, "uint32", 32},        {ElementType::uint64, "uint64", 64},
    {ElementType::complex64, "complex64", 64},  {ElementType::complex128, "complex128", 128},
    {ElementType::bfloat16, "bfloat16", 16},    {ElementType::float8e4m3fn, "float8e4m3fn", 8},
    {ElementType::float8e4m3fnuz, "float8e4m3fnuz", 8}, {ElementType::float8e5m2, "float8e5m2", 8},
    {ElementType::float8e5m2fnuz, "float8e5m2fnuz", 8}, {ElementType::uint4, "uint4", 4},
    {ElementType::int4, "int4", 4},             {ElementType::float4e2m1, "float4e2m1", 4},
    {ElementType::float8e8m0, "float8e8m0", 8}, {ElementType::uint2, "uint2", 2},
    {ElementType::int2, "int2", 2},
};
}  // namespace

std::string_view element_type_name(ElementType t) {
  auto i = static_cast<int32_t>(t);
  if (i < 0 || i > kMaxElementType) return "undefined";
  return kTypes[i].name;
}

std::optional<ElementType> element_type_from_int(int32_t value) {
  if (value < 0 || value > kMaxElementType) return std::nullopt;
  return static_cast<ElementType>(value);
}

std::optional<ElementType> element_type_from_name(std::string_view name) {
  for (const auto& row : kTypes)
    if (name == row.name) return row.type;
  if (name == "float" || name == "f4" || name == "f32") return ElementType::float32;
  if (name == "double" || name == "f8" || name == "f64") return ElementType::float64;
  if (name == "half" || name == "f2") return ElementType::float16;
  if (name == "boolean") return ElementType::boolean;
  return std::nullopt;
}

int element_bits(ElementType t) {
  auto i = static_cast<int32_t>(t);
  if (i < 0 || i > kMaxElementType) return 0;
  return kTypes[i].bits;
}

bool is_floating(ElementType t) {
  switch (t) {
    case ElementType::float16: case ElementType::float32: case ElementType::float64:
    case ElementType::bfloat16: case ElementType::float8e4m3fn: case ElementType::float8e4m3fnuz:
    case ElementType::float8e5m2: case ElementType::float8e5m2fnuz: case ElementType::float4e2m1:
    case ElementType::float8e8m0:
      return true;
    default:
      return false;
  }
}

bool is_signed_integer(ElementType t) {
  switch (t) {
    case ElementType::int8: case ElementType::int16: case ElementType::int32: case ElementType::int64:
    case ElementType::int4: case ElementType::int2:
      return true;
    default:
      return false;
  }
}

bool is_unsigned_integer(ElementType t) {
  switch (t) {
    case ElementType::uint8: case ElementType::uint16: case ElementType::uint32: case ElementType::uint64:
    case ElementType::uint4: case ElementType::uint2:
      return true;
    default:
      return false;
  }
}

bool is_sub_byte(ElementType t) { return element_bits(t) > 0 && element_bits(t) < 8; }

std::optional<size_t> storage_bytes(ElementType t, int64_t count) {
  if (count < 0) return std::nullopt;
  int bits = element_bits(t);
  if (bits == 0) return std::nullopt;
  auto n = static_cast<unsigned long long>(count);
  if (n > std::numeric_limits<size_t>::max() / static_cast<unsigned>(bits)) return std::nullopt;
  return static_cast<size_t>((n * static_cast<unsigned>(bits) + 7) / 8);
}

}  // namespace switchyard
