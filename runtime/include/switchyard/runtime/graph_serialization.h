// Binary serialisation of the graph IR, for the plan cache. Tensor data goes to a separate
// 64-byte-aligned blob section so a cached entry can be memory-mapped and its weights used
// in place. Readers check every length and index: corrupt bytes give Status(data_loss).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/hal/graph.h"
#include "switchyard/hal/status.h"

namespace switchyard {

// The blob section as it will be written: views of data that outlives the write (tensor storage,
// executables) and zero padding, recorded in order and never copied.
class BlobWriter {
 public:
  size_t size() const { return size_; }
  void align(size_t alignment);                // zero padding up to a multiple of `alignment`
  void append(const void* data, size_t size);  // a view: `data` must stay valid until written
  const std::vector<std::string_view>& pieces() const { return pieces_; }

 private:
  std::vector<std::string_view> pieces_;
  size_t size_ = 0;
};

class ByteWriter {
 public:
  void u8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u32(uint32_t v) { raw(&v, 4); }
  void u64(uint64_t v) { raw(&v, 8); }
  void i64(int64_t v) { raw(&v, 8); }
  void f64(double v) { raw(&v, 8); }
  void str(const std::string& s) {
    u64(s.size());
    out_ += s;
  }
  void raw(const void* p, size_t n) { out_.append(static_cast<const char*>(p), n); }
  std::string& bytes() { return out_; }

 private:
  std::string out_;
};

class ByteReader {
 public:
  ByteReader(const void* data, size_t size) : p_(static_cast<const unsigned char*>(data)), size_(size) {}
  // All throw Error(data_loss) when the data ends early or a length is implausible.
  uint8_t u8();
  uint32_t u32();
  uint64_t u64();
  int64_t i64();
  double f64();
  std::string str();
  const unsigned char* take(size_t n);
  size_t remaining() const { return size_ - pos_; }
  // A count of items each at least `min_item_bytes` long: bounded by the bytes left.
  size_t count(size_t min_item_bytes = 1);

 private:
  const unsigned char* p_;
  size_t size_;
  size_t pos_ = 0;
};

// Appends tensor data to `blob` (64-byte aligned) and records offsets in `meta`.
void serialize_graph(const Graph& graph, ByteWriter& meta, BlobWriter& blob);
// `blob` / `blob_size` must stay valid while the graph lives: `keepalive` owns them.
Result<Graph> deserialize_graph(ByteReader& meta, const unsigned char* blob, size_t blob_size,
                                std::shared_ptr<const void> keepalive);

}  // namespace switchyard
