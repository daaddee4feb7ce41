// Fuzz target: the level_zero plugin's executable_restore, on the project's NPU simulator loaded by
// the real Level Zero loader (ZE_ENABLE_ALT_DRIVERS). See restore_target.h.
//
// A serialized Level Zero executable ends with a checksum64 of everything before it and carries
// the simulator's native blob, which has its own checksum64 of its payload. The harness recomputes
// both on its copy of the input (where the layout allows), so mutations reach the parsers behind
// them instead of all stopping at a checksum. It also sets the blob's format version to the one the
// simulator loads: a blob of another version is not parsed at all but recompiled from the graph
// (by design), which costs a compile per input and tests nothing of the bytes. And it caps the
// program's activation arena at 4 KiB (the seed's is 1 KiB): the simulator runs any
// consistent program, and one that declares megabytes of activations and a thousand operations on
// them is valid but takes minutes per input under ASan, which would stop the campaign at a timeout
// that is no defect (the driver's memory limit bounds such programs in real use).
#include <algorithm>
#include <vector>

#include "common/checksum.h"
#include "npusim/npu_graph.h"
#include "restore_target.h"

namespace {

void fix_checksums(std::vector<uint8_t>& b) {
  using switchyard::zeseg::checksum64;
  // "SYLZEXE1" | u32 version | u32 identity length, identity | u64 blob size | blob | u64 checksum
  // blob: "magic8" | u32 version | char[32] compiler | u64 payload size | u64 checksum | payload
  const size_t n = b.size();
  if (n >= 8 + 4 + 4 + 8 + 8) {
    uint32_t id_len;
    std::memcpy(&id_len, b.data() + 12, 4);
    const size_t blob_at = size_t{16} + id_len + 8;
    constexpr size_t kBlobHeader = 60;
    if (id_len <= n && blob_at + kBlobHeader <= n - 8) {
      const size_t blob_len = n - 8 - blob_at;
      const uint32_t version = npusim::Settings{}.blob_version;
      std::memcpy(b.data() + blob_at + 8, &version, 4);
      constexpr uint64_t kMaxArena = 4 << 10;
      if (blob_len >= kBlobHeader + 8) {  // the payload starts with the arena size
        uint64_t arena;
        std::memcpy(&arena, b.data() + blob_at + kBlobHeader, 8);
        arena = std::min(arena, kMaxArena);
        std::memcpy(b.data() + blob_at + kBlobHeader, &arena, 8);
      }
      const uint64_t sum = checksum64(b.data() + blob_at + kBlobHeader, blob_len - kBlobHeader);
      std::memcpy(b.data() + blob_at + 52, &sum, 8);
    }
  }
  if (n >= 8) {
    const uint64_t sum = checksum64(b.data(), n - 8);
    std::memcpy(b.data() + n - 8, &sum, 8);
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  switchyard::fuzz::use_npu_simulator();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> bytes(data, data + size);
  fix_checksums(bytes);
  return switchyard::fuzz::restore_one_input(switchyard::fuzz::device_fixture("level_zero", "level_zero:0"), bytes.data(), bytes.size());
}
