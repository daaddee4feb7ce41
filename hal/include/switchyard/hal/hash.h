// Content hashing for cache keys and checksums: a fast 128-bit non-cryptographic hash
// (four 64-bit multiply-rotate lanes over 32-byte blocks, ~8 GB/s here). Detects
// corruption and content changes; it is not meant to resist deliberate collisions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace switchyard {

class Hasher {
 public:
  explicit Hasher(uint64_t seed = 0);
  void update(const void* data, size_t size);
  void update(std::string_view s) { update(s.data(), s.size()); }
  // Adds a length-prefixed string, so ("ab","c") and ("a","bc") differ.
  void update_field(std::string_view s);
  void update_u64(uint64_t v);
  // 32 hex digits; the hasher may continue to be updated afterwards.
  std::string hex() const;
  void digest(uint64_t out[2]) const;

 private:
  uint64_t lanes_[4];
  unsigned char tail_[32];
  size_t tail_size_ = 0;
  uint64_t total_ = 0;
};

std::string hash_hex(const void* data, size_t size);

}  // namespace switchyard
