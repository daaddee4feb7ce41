// Test helper: how many threads this process has now (entries of /proc/self/task).
#pragma once

#include <dirent.h>

#include <cstddef>

namespace switchyard::test {

inline size_t process_thread_count() {
  size_t n = 0;
  if (DIR* d = ::opendir("/proc/self/task")) {
    while (const dirent* e = ::readdir(d))
      if (e->d_name[0] != '.') ++n;
    ::closedir(d);
  }
  return n;
}

}  // namespace switchyard::test
