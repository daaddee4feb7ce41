// The per-user cache folder.
#include "switchyard/hal/user_cache_dir.h"

#include <cstdlib>

namespace switchyard {

std::filesystem::path user_cache_dir() {
  if (const char* d = std::getenv("SWITCHYARD_CACHE_DIR"); d && *d) return d;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::filesystem::path(x) / "switchyard";
  if (const char* h = std::getenv("HOME"); h && *h) return std::filesystem::path(h) / ".cache" / "switchyard";
  return std::filesystem::temp_directory_path() / "switchyard-cache";
}

std::filesystem::path plugin_state_dir(const std::string& plugin_name) { return user_cache_dir() / "plugins" / plugin_name; }

}  // namespace switchyard
