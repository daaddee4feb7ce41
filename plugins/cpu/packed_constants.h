// CPU plugin: constants prepared at compile time (weights reordered into the layout a oneDNN
// primitive chose, after BatchNormalization folding), recorded so that a serialized executable
// carries them and a restore uses them as they are: no folding, no reorder. When the host keeps
// the serialized bytes mapped for the executable's lifetime (ABI 1.3
// executable_restore_in_place), the constants are used in place, not copied.
//
// Serialized section (after the kernel names): u32 count, then per entry u64 key, u64 offset,
// u64 bytes, u32 desc_len, desc (the oneDNN memory descriptor the data is laid out in); the data
// of every entry follows, each at an offset (from the start of the serialized executable) that
// is a multiple of 64.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace switchyard::cpu {

class PackedConstants {
 public:
  struct Entry {
    const void* data = nullptr;
    size_t bytes = 0;
    std::string desc;                  // opaque to this class: the kernel's layout descriptor
    std::shared_ptr<const void> keep;  // compile: keeps `data` alive until serialize()
  };
  static constexpr size_t kAlignment = 64;

  // The key of constant `slot` (0: weights) of execution node `node`.
  static uint64_t key(int64_t node, uint32_t slot) { return (static_cast<uint64_t>(node) << 8) | slot; }

  // Compile: records a constant; `keep` owns `data`.
  void add(uint64_t key, const void* data, size_t bytes, std::string desc, std::shared_ptr<const void> keep);
  // Restore: the entry under `key`, or nullptr.
  const Entry* find(uint64_t key) const;
  bool restoring() const { return restoring_; }
  size_t size() const { return entries_.size(); }
  size_t total_bytes() const;
  bool in_place() const { return in_place_; }

  // The section's size when it starts `start` bytes into the serialized executable.
  size_t serialized_size(size_t start) const;
  // Writes the section to `out` (serialized_size(start) bytes), `start` bytes into the executable.
  void serialize(size_t start, char* out) const;
  // Parses the section starting at data[pos]. `in_place`: entries point into `data`, which the
  // caller keeps valid (data + offset must then be 64-byte aligned, else the entry is copied);
  // otherwise each entry is copied into aligned memory owned here. Throws Error(data_loss) on
  // anything malformed.
  static std::unique_ptr<PackedConstants> parse(const unsigned char* data, size_t size, size_t pos, bool in_place);

 private:
  std::map<uint64_t, Entry> entries_;
  std::vector<std::shared_ptr<void>> owned_;
  bool restoring_ = false, in_place_ = false;
};

}  // namespace switchyard::cpu
