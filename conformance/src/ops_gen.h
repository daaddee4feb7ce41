// Helpers the ops suite's generators (ops_gen_*.cpp) share: the shape sets, the element-type and
// value-class sweeps, and case names.
#pragma once

#include <initializer_list>
#include <string>
#include <vector>

#include "ops_case.h"

namespace switchyard::conformance::ops {

constexpr ElementType f32 = ElementType::float32, f16 = ElementType::float16, f64 = ElementType::float64,
                      bf16 = ElementType::bfloat16, i8 = ElementType::int8, u8 = ElementType::uint8, i16 = ElementType::int16,
                      u16 = ElementType::uint16, i32 = ElementType::int32, u32 = ElementType::uint32, i64 = ElementType::int64,
                      u64 = ElementType::uint64, boolean = ElementType::boolean, str = ElementType::string;

// Elementwise shapes: rank 0 to 6, size-1 and zero-size dimensions, odd sizes. The full set for
// float32; a smaller one for the other element types.
const std::vector<Shape>& elementwise_shapes();
const std::vector<Shape>& elementwise_shapes_short();
inline const std::vector<Shape>& shapes_for(ElementType t) { return t == f32 ? elementwise_shapes() : elementwise_shapes_short(); }

// Broadcasting pairs (and triples) of shapes, likewise full and short.
const std::vector<std::vector<Shape>>& broadcast_shapes();
const std::vector<std::vector<Shape>>& broadcast_shapes_short();

// "normal" and "special" (Fill::special: NaN, infinities, denormals, -0, extremes); bools have no
// special values.
std::vector<Fill> value_fills(ElementType t);
const char* fill_tag(Fill f);

// The schema's types for input `index`, or `fallback` when the schema is unknown to the ONNX library.
std::vector<ElementType> types_or(const std::string& op, int64_t opset, size_t index, std::vector<ElementType> fallback);

// "Op/part/part": parts joined with '/', empty parts left out.
std::string case_name(const std::string& op, std::initializer_list<std::string> parts);

// Adds input i of a case: names "X", or "A","B","C"... for several.
std::string input_name(size_t i, size_t count);

// The float types most operators take: float32 first.
inline std::vector<ElementType> float_types() { return {f32, f16, f64, bf16}; }

}  // namespace switchyard::conformance::ops
