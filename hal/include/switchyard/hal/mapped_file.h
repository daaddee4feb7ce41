// A read-only memory mapping of a regular file, the one way the host opens model, weight, cache
// and manifest files. The file is opened without blocking (a FIFO or device node at the path is
// refused, never waited on) and must be a regular file; the mapping lives as long as its owner.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>

#include "switchyard/hal/status.h"

namespace switchyard {

class MappedFile {
 public:
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const unsigned char* data() const { return static_cast<const unsigned char*>(addr_); }
  size_t size() const { return size_; }
  // Drops the process's pages of [offset, offset + size) (whole pages inside it): they stay in the
  // page cache and come back on the next access, but no longer count in this process's RSS. For
  // data read once (hashed, verified) that a load does not use again.
  void release(size_t offset, size_t size) const;
  // Hashes [offset, offset + size) into `h` in 64 MiB steps, releasing each step after hashing, so
  // hashing a large file does not raise the peak RSS by the file's size.
  void hash_and_release(size_t offset, size_t size, class Hasher& h) const;

  // Errors say `what` and the path: not_found (cannot open), invalid_argument (not a regular
  // file), io_error (cannot map).
  static Result<std::shared_ptr<const MappedFile>> open(const std::filesystem::path& path, const std::string& what);

 private:
  MappedFile() = default;
  void* addr_ = nullptr;
  size_t size_ = 0;
};

}  // namespace switchyard
