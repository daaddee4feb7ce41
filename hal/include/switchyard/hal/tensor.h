// Tensor: host-memory tensor data shared by the runtime, the reference and plugins.
//
// Storage is reference counted and shared on copy (a Tensor is a cheap handle).
// Weights imported from a model wrap the model's bytes (or a memory-mapped file)
// without copying; such tensors are read-only by contract. Kernels create outputs
// with Tensor::allocate and fill them through mutable_data<T>().
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "switchyard/hal/element_type.h"
#include "switchyard/hal/status.h"

namespace switchyard {

using Shape = std::vector<int64_t>;

// The largest tensor Tensor::allocate makes: half the machine's physical memory, at most 64 GiB.
size_t max_tensor_bytes();

// Product of dims; nullopt on overflow past int64 or a negative dim.
std::optional<int64_t> shape_numel(const Shape& shape);
std::string shape_to_string(const Shape& shape);

class Tensor {
 public:
  Tensor() = default;  // an empty handle: type undefined, no storage

  // Zero-filled storage. Throws Error(out_of_memory/invalid_argument) on a bad size.
  static Tensor allocate(ElementType type, Shape shape);
  // Wraps external bytes; `owner` keeps them alive. The bytes must hold the
  // packed storage for `shape`; checked, Error(invalid_argument) otherwise.
  static Tensor wrap(ElementType type, Shape shape, std::shared_ptr<const void> owner, const void* data,
                     size_t bytes);
  static Tensor from_strings(Shape shape, std::vector<std::string> values);
  template <typename T>
  static Tensor from_vector(ElementType type, Shape shape, const std::vector<T>& values);
  template <typename T>
  static Tensor scalar(ElementType type, T value) {
    return from_vector<T>(type, {}, std::vector<T>{value});
  }

  bool defined() const { return type_ != ElementType::undefined; }
  ElementType type() const { return type_; }
  const Shape& shape() const { return shape_; }
  int64_t rank() const { return static_cast<int64_t>(shape_.size()); }
  int64_t dim(int64_t i) const { return shape_.at(static_cast<size_t>(i)); }
  int64_t numel() const { return numel_; }
  size_t byte_size() const { return bytes_; }

  const void* raw() const { return data_; }
  void* raw_mutable() { return data_; }
  template <typename T>
  const T* data() const { return static_cast<const T*>(static_cast<const void*>(data_)); }
  template <typename T>
  T* mutable_data() { return static_cast<T*>(static_cast<void*>(data_)); }

  // REQUIRES: type() == string.
  const std::vector<std::string>& strings() const;
  std::vector<std::string>& mutable_strings();

  // A tensor sharing this storage with another shape of the same element count.
  Tensor reshaped(Shape shape) const;
  // A deep copy with its own storage.
  Tensor clone() const;

 private:
  ElementType type_ = ElementType::undefined;
  Shape shape_;
  int64_t numel_ = 0;
  size_t bytes_ = 0;
  std::shared_ptr<const void> owner_;
  std::byte* data_ = nullptr;
  std::shared_ptr<std::vector<std::string>> strings_;
};

// A runtime value: a tensor, a sequence of tensors, or an empty optional.
struct Value {
  enum class Kind { none, tensor, sequence };
  Kind kind = Kind::none;
  Tensor tensor;
  std::vector<Tensor> sequence;
  bool is_optional = false;  // produced as / declared as an optional type

  static Value of(Tensor t) {
    Value v;
    v.kind = Kind::tensor;
    v.tensor = std::move(t);
    return v;
  }
  static Value of_sequence(std::vector<Tensor> s) {
    Value v;
    v.kind = Kind::sequence;
    v.sequence = std::move(s);
    return v;
  }
  bool has_value() const { return kind != Kind::none; }
};

// The bytes a tensor's elements take (string tensors: their characters), and the sum over a
// value's tensors: what the per-prediction memory limits count.
size_t tensor_bytes(const Tensor& t);
size_t value_bytes(const Value& v);

template <typename T>
Tensor Tensor::from_vector(ElementType type, Shape shape, const std::vector<T>& values) {
  Tensor t = allocate(type, std::move(shape));
  if (static_cast<size_t>(t.numel()) != values.size() || t.byte_size() != values.size() * sizeof(T))
    throw_error(StatusCode::invalid_argument, "Tensor::from_vector: value count or element size does not match");
  T* out = t.mutable_data<T>();
  for (size_t i = 0; i < values.size(); ++i) out[i] = values[i];
  return t;
}

}  // namespace switchyard
