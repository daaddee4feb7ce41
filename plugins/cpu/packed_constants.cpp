// CPU plugin: the prepared-constants section of a serialized executable.
#include "packed_constants.h"

#include <cstdlib>
#include <cstring>

#include "switchyard/hal/status.h"

namespace switchyard::cpu {

namespace {
void put(std::string& out, uint64_t v, int bytes) {
  for (int b = 0; b < bytes; ++b) out.push_back(static_cast<char>((v >> (8 * b)) & 0xff));
}

size_t padding(size_t offset) { return (PackedConstants::kAlignment - offset % PackedConstants::kAlignment) % PackedConstants::kAlignment; }

struct Reader {
  const unsigned char* p;
  size_t size, pos;
  uint64_t get(int bytes) {
    if (static_cast<size_t>(bytes) > size - pos) throw_error(StatusCode::data_loss, "serialized CPU executable: prepared constants are truncated");
    uint64_t v = 0;
    for (int b = 0; b < bytes; ++b) v |= static_cast<uint64_t>(p[pos + static_cast<size_t>(b)]) << (8 * b);
    pos += static_cast<size_t>(bytes);
    return v;
  }
};
}  // namespace

void PackedConstants::add(uint64_t key, const void* data, size_t bytes, std::string desc, std::shared_ptr<const void> keep) {
  entries_[key] = Entry{data, bytes, std::move(desc), std::move(keep)};
}

const PackedConstants::Entry* PackedConstants::find(uint64_t key) const {
  auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : &it->second;
}

size_t PackedConstants::total_bytes() const {
  size_t total = 0;
  for (const auto& [key, e] : entries_) total += e.bytes;
  return total;
}

size_t PackedConstants::serialized_size(size_t start) const {
  size_t offset = start + 4;
  for (const auto& [key, e] : entries_) offset += 8 + 8 + 8 + 4 + e.desc.size();
  for (const auto& [key, e] : entries_) offset += padding(offset) + e.bytes;
  return offset - start;
}

void PackedConstants::serialize(size_t start, char* out) const {
  std::string header;
  size_t offset = start + 4;
  for (const auto& [key, e] : entries_) offset += 8 + 8 + 8 + 4 + e.desc.size();
  put(header, entries_.size(), 4);
  std::vector<size_t> offsets;
  for (const auto& [key, e] : entries_) {
    offset += padding(offset);
    offsets.push_back(offset);
    put(header, key, 8);
    put(header, offset, 8);
    put(header, e.bytes, 8);
    put(header, e.desc.size(), 4);
    header += e.desc;
    offset += e.bytes;
  }
  std::memcpy(out, header.data(), header.size());
  size_t written = start + header.size(), i = 0;
  for (const auto& [key, e] : entries_) {
    std::memset(out + (written - start), 0, offsets[i] - written);
    std::memcpy(out + (offsets[i] - start), e.data, e.bytes);
    written = offsets[i++] + e.bytes;
  }
}

std::unique_ptr<PackedConstants> PackedConstants::parse(const unsigned char* data, size_t size, size_t pos, bool in_place) {
  auto pc = std::make_unique<PackedConstants>();
  pc->restoring_ = true;
  pc->in_place_ = in_place;
  Reader r{data, size, pos};
  const uint64_t count = r.get(4);
  if (count > (size - r.pos) / 28) throw_error(StatusCode::data_loss, "serialized CPU executable: corrupt prepared-constant count");
  size_t end = r.pos;
  for (uint64_t i = 0; i < count; ++i) {
    const uint64_t key = r.get(8), offset = r.get(8), bytes = r.get(8), desc_len = r.get(4);
    if (desc_len > 4096 || desc_len > size - r.pos) throw_error(StatusCode::data_loss, "serialized CPU executable: corrupt layout descriptor");
    std::string desc(reinterpret_cast<const char*>(data + r.pos), desc_len);
    r.pos += desc_len;
    if (offset % kAlignment != 0 || offset > size || bytes > size - offset || pc->entries_.count(key))
      throw_error(StatusCode::data_loss, "serialized CPU executable: prepared constant lies outside the data");
    const unsigned char* src = data + offset;
    const void* where = src;
    if (!in_place || reinterpret_cast<uintptr_t>(src) % kAlignment != 0) {
      void* copy = std::aligned_alloc(kAlignment, bytes + padding(bytes) + kAlignment);
      if (!copy) throw_error(StatusCode::out_of_memory, "cannot allocate a prepared constant of " + std::to_string(bytes) + " bytes");
      std::memcpy(copy, src, bytes);
      pc->owned_.emplace_back(copy, std::free);
      pc->in_place_ = false;
      where = copy;
    }
    pc->entries_[key] = Entry{where, bytes, std::move(desc), nullptr};
    end = std::max<size_t>(end, offset + bytes);
  }
  if (std::max(end, r.pos) != size) throw_error(StatusCode::data_loss, "serialized CPU executable has trailing bytes");
  return pc;
}

}  // namespace switchyard::cpu
