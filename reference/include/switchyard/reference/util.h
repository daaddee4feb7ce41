// Shared helpers for reference kernels: element access through double / int64,
// float16 and bfloat16 conversion, broadcasting and axis handling.
//
// Kernels favour clarity: read inputs as double (or int64 for exact integer
// work), compute, and write back with the ONNX-defined conversion.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "switchyard/hal/element_type.h"
#include "switchyard/hal/status.h"
#include "switchyard/hal/tensor.h"

namespace switchyard::reference {

// IEEE half <-> float, round to nearest even; NaN and infinity preserved.
float half_to_float(uint16_t h);
uint16_t float_to_half(float f);
// bfloat16 <-> float, round to nearest even.
float bfloat16_to_float(uint16_t b);
uint16_t float_to_bfloat16(float f);

// Reads element i (flat, row-major) of any numeric or bool tensor as double.
// Float16/bfloat16 are decoded; int64/uint64 beyond 2^53 lose precision (use get_int64).
double get_double(const Tensor& t, int64_t i);
// Writes v into element i converting to the tensor's type: floats round to nearest,
// integers truncate toward zero and wrap like a C cast of the int64 value, bool is v != 0.
void set_double(Tensor& t, int64_t i, double v);
// Exact integer access for integer and bool tensors (floats truncate toward zero).
int64_t get_int64(const Tensor& t, int64_t i);
void set_int64(Tensor& t, int64_t i, int64_t v);
uint64_t get_uint64(const Tensor& t, int64_t i);
void set_uint64(Tensor& t, int64_t i, uint64_t v);

// Whole-tensor conversions.
std::vector<double> to_doubles(const Tensor& t);
std::vector<int64_t> to_int64s(const Tensor& t);
Tensor from_doubles(ElementType type, const Shape& shape, const std::vector<double>& values);
Tensor from_int64s(ElementType type, const Shape& shape, const std::vector<int64_t>& values);

// Copies element src_i of `src` to element dst_i of `dst` (same type, any type incl. string/sub-byte).
void copy_element(const Tensor& src, int64_t src_i, Tensor& dst, int64_t dst_i);

// Row-major strides of a shape.
std::vector<int64_t> strides_of(const Shape& shape);
// Maps a flat index to a multi-index and back.
std::vector<int64_t> unravel(int64_t flat, const Shape& shape);
int64_t ravel(const std::vector<int64_t>& index, const std::vector<int64_t>& strides);

// ONNX multidirectional (numpy) broadcasting of any number of shapes; throws
// Error(invalid_argument) naming both shapes when they are incompatible.
Shape broadcast_shapes(const std::vector<Shape>& shapes);

// For each flat index of `out_shape`, the flat index into a tensor of `in_shape`
// broadcast to it. REQUIRES in_shape broadcastable to out_shape.
std::vector<int64_t> broadcast_index_map(const Shape& in_shape, const Shape& out_shape);

// Resolves a possibly negative axis into [0, rank); throws with `what` on out of range.
int64_t normalize_axis(int64_t axis, int64_t rank, const char* what = "axis");

// Reads a 1-D (or scalar) integer tensor as int64 values (Reshape shape, Slice starts, ...).
std::vector<int64_t> tensor_to_int64_list(const Tensor& t);

bool is_float_type(ElementType t);  // same as is_floating()

}  // namespace switchyard::reference
