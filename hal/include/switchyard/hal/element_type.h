// Tensor element types. The numbering is ONNX's TensorProto.DataType, so values
// cross the ONNX importer and the plugin ABI (SY_ELEM_*) unchanged.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace switchyard {

enum class ElementType : int32_t {
  undefined = 0,
  float32 = 1,
  uint8 = 2,
  int8 = 3,
  uint16 = 4,
  int16 = 5,
  int32 = 6,
  int64 = 7,
  string = 8,
  boolean = 9,
  float16 = 10,
  float64 = 11,
  uint32 = 12,
  uint64 = 13,
  complex64 = 14,
  complex128 = 15,
  bfloat16 = 16,
  float8e4m3fn = 17,
  float8e4m3fnuz = 18,
  float8e5m2 = 19,
  float8e5m2fnuz = 20,
  uint4 = 21,
  int4 = 22,
  float4e2m1 = 23,
  float8e8m0 = 24,
  uint2 = 25,
  int2 = 26,
};

inline constexpr int32_t kMaxElementType = 26;

// "float32", "int4", ...; "undefined" for unknown values.
std::string_view element_type_name(ElementType t);
// Parses the names above and numpy-style aliases ("float" / "f4").
std::optional<ElementType> element_type_from_name(std::string_view name);
// Returns nullopt for numbers outside the known range.
std::optional<ElementType> element_type_from_int(int32_t value);

// Bits per element in packed storage (4 for int4, 2 for int2); 0 for string/undefined.
int element_bits(ElementType t);
bool is_floating(ElementType t);       // float16/32/64, bfloat16, float8 and float4 variants
bool is_signed_integer(ElementType t);
bool is_unsigned_integer(ElementType t);
bool is_sub_byte(ElementType t);       // int4, uint4, float4e2m1, int2, uint2

// Bytes needed to store `count` elements packed (sub-byte types round up).
// Returns nullopt on overflow. Strings have no fixed byte size: returns nullopt.
std::optional<size_t> storage_bytes(ElementType t, int64_t count);

}  // namespace switchyard
