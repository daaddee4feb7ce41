// Fast 128-bit content hash.
#include "switchyard/hal/hash.h"

#include <cstdio>
#include <cstring>

namespace switchyard {

namespace {
constexpr uint64_t kP1 = 0x9E3779B185EBCA87ull;
constexpr uint64_t kP2 = 0xC2B2AE3D27D4EB4Full;
constexpr uint64_t kP3 = 0x165667B19E3779F9ull;
constexpr uint64_t kP4 = 0x85EBCA77C2B2AE63ull;

inline uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
inline uint64_t round(uint64_t acc, uint64_t input) {
  acc += input * kP2;
  acc = rotl(acc, 31);
  return acc * kP1;
}
inline uint64_t read64(const unsigned char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline uint64_t mix(uint64_t h) {
  h ^= h >> 33;
  h *= kP2;
  h ^= h >> 29;
  h *= kP3;
  h ^= h >> 32;
  return h;
}
}  // namespace

Hasher::Hasher(uint64_t seed) {
  lanes_[0] = seed + kP1 + kP2;
  lanes_[1] = seed + kP2;
  lanes_[2] = seed;
  lanes_[3] = seed - kP1;
}

void Hasher::update(const void* data, size_t size) {
  const auto* p = static_cast<const unsigned char*>(data);
  total_ += size;
  if (tail_size_ > 0) {
    size_t take = std::min(size, 32 - tail_size_);
    std::memcpy(tail_ + tail_size_, p, take);
    tail_size_ += take;
    p += take;
    size -= take;
    if (tail_size_ < 32) return;
    for (int i = 0; i < 4; ++i) lanes_[i] = round(lanes_[i], read64(tail_ + 8 * i));
    tail_size_ = 0;
  }
  while (size >= 32) {
    lanes_[0] = round(lanes_[0], read64(p));
    lanes_[1] = round(lanes_[1], read64(p + 8));
    lanes_[2] = round(lanes_[2], read64(p + 16));
    lanes_[3] = round(lanes_[3], read64(p + 24));
    p += 32;
    size -= 32;
  }
  if (size > 0) {
    std::memcpy(tail_, p, size);
    tail_size_ = size;
  }
}

void Hasher::update_u64(uint64_t v) { update(&v, sizeof v); }

void Hasher::update_field(std::string_view s) {
  update_u64(s.size());
  update(s);
}

void Hasher::digest(uint64_t out[2]) const {
  uint64_t h = rotl(lanes_[0], 1) + rotl(lanes_[1], 7) + rotl(lanes_[2], 12) + rotl(lanes_[3], 18);
  uint64_t g = rotl(lanes_[0], 5) ^ rotl(lanes_[1], 17) ^ rotl(lanes_[2], 29) ^ rotl(lanes_[3], 41);
  h += total_;
  g ^= total_ * kP4;
  for (size_t i = 0; i < tail_size_; ++i) {
    h = rotl(h ^ (tail_[i] * kP4), 11) * kP1;
    g = rotl(g + (tail_[i] * kP3), 13) * kP2;
  }
  out[0] = mix(h ^ rotl(g, 23));
  out[1] = mix(g + rotl(h, 37) + kP3);
}

std::string Hasher::hex() const {
  uint64_t d[2];
  digest(d);
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(d[0]), static_cast<unsigned long long>(d[1]));
  return buf;
}

std::string hash_hex(const void* data, size_t size) {
  Hasher h;
  h.update(data, size);
  return h.hex();
}

}  // namespace switchyard
