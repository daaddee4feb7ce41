// Read-only mappings of regular files.
#include "switchyard/hal/mapped_file.h"

#include "switchyard/hal/hash.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace switchyard {

MappedFile::~MappedFile() {
  if (addr_) ::munmap(addr_, size_);
}

void MappedFile::release(size_t offset, size_t size) const {
  if (!addr_ || offset >= size_) return;
  size = std::min(size, size_ - offset);
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  const size_t begin = (offset + page - 1) / page * page, end = (offset + size) / page * page;
  if (end > begin) (void)::madvise(static_cast<char*>(addr_) + begin, end - begin, MADV_DONTNEED);
}

void MappedFile::hash_and_release(size_t offset, size_t size, Hasher& h) const {
  constexpr size_t kStep = size_t{64} << 20;
  for (size_t done = 0; done < size;) {
    const size_t n = std::min(kStep, size - done);
    h.update(data() + offset + done, n);
    release(offset + done, n);
    done += n;
  }
}

Result<std::shared_ptr<const MappedFile>> MappedFile::open(const std::filesystem::path& path, const std::string& what) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return Status(StatusCode::not_found, what + ": cannot open '" + path.string() + "': " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status(StatusCode::invalid_argument, what + ": '" + path.string() + "' is not a regular file" +
                                                    (S_ISDIR(st.st_mode) ? " (it is a directory, not a file)" : ""));
  }
  std::shared_ptr<MappedFile> m(new MappedFile());
  m->size_ = static_cast<size_t>(st.st_size);
  if (m->size_ > 0) {
    void* addr = ::mmap(nullptr, m->size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (addr == MAP_FAILED) {
      ::close(fd);
      return Status(StatusCode::io_error, what + ": cannot map '" + path.string() + "': " + std::strerror(errno));
    }
    m->addr_ = addr;
  }
  ::close(fd);
  return std::shared_ptr<const MappedFile>(std::move(m));
}

}  // namespace switchyard
