// CPU plugin: measurements kept between processes (one line: key TAB value).
#include "probe_memo.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace switchyard::cpu {

std::optional<double> read_memo(const std::string& dir, const std::string& name, const std::string& key) {
  if (dir.empty()) return std::nullopt;
  const std::string file = dir + "/" + name;
  int fd = ::open(file.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);  // a FIFO must not block us
  if (fd < 0) return std::nullopt;
  struct stat st {};
  char buf[1024];
  ssize_t n = -1;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size < static_cast<off_t>(sizeof buf)) n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return std::nullopt;
  std::string text(buf, static_cast<size_t>(n));
  const size_t tab = text.find('\t');
  if (tab == std::string::npos || text.compare(0, tab, key) != 0 || tab != key.size()) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(text.c_str() + tab + 1, &end);
  if (end == text.c_str() + tab + 1 || !(v > 0) || v > 1e7) return std::nullopt;
  return v;
}

void write_memo(const std::string& dir, const std::string& name, const std::string& key, double value) {
  if (dir.empty()) return;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return;
  const std::string tmp = dir + "/." + name + ".tmp-" + std::to_string(::getpid());
  FILE* f = std::fopen(tmp.c_str(), "w");
  if (!f) return;
  const bool written = std::fprintf(f, "%s\t%.6g\n", key.c_str(), value) > 0;
  if (std::fclose(f) != 0 || !written || std::rename(tmp.c_str(), (dir + "/" + name).c_str()) != 0) std::remove(tmp.c_str());
}

}  // namespace switchyard::cpu
