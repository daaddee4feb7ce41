// Tensor storage.
#include "switchyard/hal/tensor.h"

#include <cstring>
#include <limits>
#include <new>
#include <unistd.h>
#include <algorithm>

namespace switchyard {

std::optional<int64_t> shape_numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) return std::nullopt;
    if (d != 0 && n > std::numeric_limits<int64_t>::max() / d) return std::nullopt;
    n *= d;
  }
  return n;
}

std::string shape_to_string(const Shape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ",";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

// Refuse single tensors above half the physical memory (and above 64 GiB): a guard
// against corrupt shapes asking for absurd allocations that would swap the machine
// to a halt or abort the allocator.
size_t max_tensor_bytes() {
  static const size_t limit = [] {
    size_t cap = size_t{64} << 30;
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
    if (pages > 0 && page > 0) cap = std::min(cap, static_cast<size_t>(pages) * static_cast<size_t>(page) / 2);
    return cap;
  }();
  return limit;
}

namespace {
int64_t checked_numel(const Shape& shape) {
  auto n = shape_numel(shape);
  if (!n) throw_error(StatusCode::invalid_argument, "invalid tensor shape " + shape_to_string(shape));
  return *n;
}
}  // namespace

Tensor Tensor::allocate(ElementType type, Shape shape) {
  Tensor t;
  t.numel_ = checked_numel(shape);
  t.type_ = type;
  t.shape_ = std::move(shape);
  if (type == ElementType::string) {
    if (static_cast<size_t>(t.numel_) > max_tensor_bytes() / sizeof(std::string))
      throw_error(StatusCode::out_of_memory, "string tensor too large");
    t.strings_ = std::make_shared<std::vector<std::string>>(static_cast<size_t>(t.numel_));
    return t;
  }
  auto bytes = storage_bytes(type, t.numel_);
  if (!bytes) throw_error(StatusCode::invalid_argument,
                          "cannot size a tensor of " + std::string(element_type_name(type)) + shape_to_string(t.shape_));
  if (*bytes > max_tensor_bytes())
    throw_error(StatusCode::out_of_memory, "tensor of " + std::to_string(*bytes) + " bytes exceeds the limit of " +
                                               std::to_string(max_tensor_bytes()) + " bytes (half the machine's memory)");
  t.bytes_ = *bytes;
  // Round up to 64 bytes so vectorised kernels may read whole lines; zero-filled.
  size_t alloc = (*bytes + 63) / 64 * 64;
  if (alloc == 0) alloc = 64;
  void* p = ::operator new(alloc, std::align_val_t{64}, std::nothrow);
  if (!p) throw_error(StatusCode::out_of_memory, "out of host memory allocating " + std::to_string(alloc) + " bytes");
  std::memset(p, 0, alloc);
  t.owner_ = std::shared_ptr<void>(p, [](void* q) { ::operator delete(q, std::align_val_t{64}); });
  t.data_ = static_cast<std::byte*>(p);
  return t;
}

Tensor Tensor::wrap(ElementType type, Shape shape, std::shared_ptr<const void> owner, const void* data, size_t bytes) {
  Tensor t;
  t.numel_ = checked_numel(shape);
  t.type_ = type;
  t.shape_ = std::move(shape);
  auto need = storage_bytes(type, t.numel_);
  if (!need || *need != bytes)
    throw_error(StatusCode::invalid_argument, "tensor data has " + std::to_string(bytes) + " bytes but " +
                                                  std::string(element_type_name(type)) + shape_to_string(t.shape_) +
                                                  " needs " + (need ? std::to_string(*need) : std::string("?")));
  t.bytes_ = bytes;
  t.owner_ = std::move(owner);
  t.data_ = static_cast<std::byte*>(const_cast<void*>(data));
  return t;
}

Tensor Tensor::from_strings(Shape shape, std::vector<std::string> values) {
  Tensor t;
  t.numel_ = checked_numel(shape);
  if (static_cast<size_t>(t.numel_) != values.size())
    throw_error(StatusCode::invalid_argument, "string tensor: value count does not match shape");
  t.type_ = ElementType::string;
  t.shape_ = std::move(shape);
  t.strings_ = std::make_shared<std::vector<std::string>>(std::move(values));
  return t;
}

const std::vector<std::string>& Tensor::strings() const {
  if (!strings_) throw_error(StatusCode::internal, "strings() on a non-string tensor");
  return *strings_;
}

std::vector<std::string>& Tensor::mutable_strings() {
  if (!strings_) throw_error(StatusCode::internal, "mutable_strings() on a non-string tensor");
  return *strings_;
}

Tensor Tensor::reshaped(Shape shape) const {
  if (checked_numel(shape) != numel_)
    throw_error(StatusCode::invalid_argument,
                "cannot reshape " + shape_to_string(shape_) + " to " + shape_to_string(shape));
  Tensor t = *this;
  t.shape_ = std::move(shape);
  return t;
}

Tensor Tensor::clone() const {
  if (!defined()) return {};
  if (type_ == ElementType::string) return from_strings(shape_, *strings_);
  Tensor t = allocate(type_, shape_);
  if (bytes_) std::memcpy(t.data_, data_, bytes_);
  return t;
}

size_t tensor_bytes(const Tensor& t) {
  if (t.type() != ElementType::string || !t.defined()) return t.byte_size();
  size_t bytes = 0;
  for (const auto& s : t.strings()) bytes += s.size();
  return bytes;
}

size_t value_bytes(const Value& v) {
  size_t bytes = v.kind == Value::Kind::tensor ? tensor_bytes(v.tensor) : 0;
  for (const auto& t : v.sequence) bytes += tensor_bytes(t);
  return bytes;
}

}  // namespace switchyard
