// CPU plugin: what the native kernels (hand-written data movement and resizing, provider
// implementation "native") share: element sizes, output allocation, the reference kernel as a
// run-time fallback, constant operands and the strided copy behind Slice/Split/Transpose.
//
// A native kernel handles the common cases itself and hands every other case (an input type
// or shape its accepts() could not rule out, an invalid operand) to the reference kernel at
// run time, so its results and errors are always the reference's.
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "../fast_kernel.h"

namespace switchyard::cpu::native {

inline constexpr const char* kImplementation = "native";

// Bytes per element of types moved as whole bytes; 0 for strings, sub-byte types, undefined.
size_t element_bytes(ElementType t);
// A tensor whose storage the caller overwrites completely (any type element_bytes accepts).
Tensor uninitialized(ElementType type, const Shape& shape);
// Runs the node's reference kernel.
void run_reference(const Node& node, const std::vector<const Value*>& inputs, std::vector<Value>& outputs);
// Input i as a tensor; null when absent or not a tensor.
const Tensor* tensor_input(const std::vector<const Value*>& inputs, size_t i);
// The integers of constant (initializer) input i; nullopt when not a constant integer tensor.
std::optional<std::vector<int64_t>> constant_ints(const Node& node, const Graph& graph, size_t i);
// The tensor-ness and rank the graph declares for a value (rank nullopt: unknown).
bool is_tensor_value(const Graph& graph, int32_t value);
std::optional<size_t> declared_rank(const Graph& graph, int32_t value);
// True when every output but the first `n` is omitted and the first `n` exist.
bool has_outputs(const Node& node, size_t n);

// Copies the view of `src` with extents `dims` and element strides `strides` into row-major
// `dst`. Adjacent axes contiguous in the source are merged first; rows contiguous in the
// source are copied with memcpy, transpositions tile-wise.
void copy_strided(const std::byte* src, const Shape& dims, const std::vector<int64_t>& strides, size_t elem, std::byte* dst);

// Base of native kernels: the node, kept for the reference fallback.
class NativeKernel : public FastKernel {
 public:
  explicit NativeKernel(const Node& node) : node_(node) {}

 protected:
  void fallback(const std::vector<const Value*>& inputs, std::vector<Value>& outputs) const {
    run_reference(node_, inputs, outputs);
  }
  Node node_;
};

// An accepts() that declines on any exception (attributes of an unexpected type).
template <bool (*Accepts)(const Node&, const CompileContext&)>
bool guarded(const Node& node, const CompileContext& ctx) {
  try {
    return Accepts(node, ctx);
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace switchyard::cpu::native
