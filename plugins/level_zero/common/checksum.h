// Integrity checksum shared by the Level Zero plugin (serialised executables) and the NPU
// simulator (native blobs). Four independent 64-bit multiply-rotate lanes over 32-byte blocks,
// then the tail byte by byte: several GB/s, where byte-at-a-time FNV-1a managed about 1 and
// dominated cached loads of small models. Detects corruption; not meant to resist deliberate
// collisions. Header-only so that neither library depends on Switchyard's own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace switchyard::zeseg {

inline uint64_t checksum64(const void* data, size_t n) {
  constexpr uint64_t k1 = 0x9E3779B185EBCA87ull, k2 = 0xC2B2AE3D27D4EB4Full, k3 = 0x165667B19E3779F9ull;
  auto rotl = [](uint64_t x, int r) { return (x << r) | (x >> (64 - r)); };
  auto round = [&](uint64_t acc, uint64_t v) { return rotl(acc + v * k2, 31) * k1; };
  const auto* p = static_cast<const unsigned char*>(data);
  uint64_t lane[4] = {k1 + k2, k2, 0, 0 - k1};
  size_t left = n;
  while (left >= 32) {
    for (int i = 0; i < 4; ++i) {
      uint64_t v;
      std::memcpy(&v, p + 8 * i, 8);
      lane[i] = round(lane[i], v);
    }
    p += 32;
    left -= 32;
  }
  uint64_t h = rotl(lane[0], 1) + rotl(lane[1], 7) + rotl(lane[2], 12) + rotl(lane[3], 18) + static_cast<uint64_t>(n) * k3;
  for (; left > 0; --left, ++p) h = rotl((h ^ *p) * k1, 23);
  h ^= h >> 33;
  h *= k2;
  h ^= h >> 29;
  return h;
}

}  // namespace switchyard::zeseg
