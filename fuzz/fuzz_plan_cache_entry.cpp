// Fuzz target: the plan-cache entry reader (decode_entry, which PlanCache::fetch calls on the
// mapped entry file), then PartitionedModel::restore of what it decoded against no devices.
//
// An entry ends with a checksum over everything before it; the harness recomputes it on its
// copy of the input, so mutations reach the header, graph, plan and support sections instead of
// all stopping at the checksum (the checksum check itself is exercised by every input anyway).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "switchyard/hal/hash.h"
#include "switchyard/runtime/plan_cache.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace switchyard;
  // 64-byte aligned like a mapped file, owned by a shared pointer like the mapping.
  std::shared_ptr<unsigned char> bytes(static_cast<unsigned char*>(std::aligned_alloc(64, (size + 63) / 64 * 64 + 64)), std::free);
  if (size) std::memcpy(bytes.get(), data, size);
  if (size >= 16) {
    Hasher h;
    h.update(bytes.get(), size - 16);
    uint64_t sum[2];
    h.digest(sum);
    std::memcpy(bytes.get() + size - 16, sum, 16);
  }
  auto entry = decode_entry(bytes.get(), size, bytes);
  if (!entry.ok()) return 0;
  static const DeviceRegistry no_devices;
  std::vector<std::string> warnings;
  try {
    auto pm = PartitionedModel::restore(std::move(entry->graph), std::move(entry->plan), std::move(entry->support), no_devices,
                                        entry->executables, bytes, &warnings);
    (void)pm.ok();
  } catch (const Error&) {
  }
  return 0;
}
