// Plugin loading with Boost.DLL, and discovery of manifests.
#include "switchyard/hal/abi_calls.h"
#include "switchyard/hal/plugin_loader.h"
#include "switchyard/hal/user_cache_dir.h"

#include "elf_check.h"

#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/dll/shared_library.hpp>

#include <algorithm>
#include <cstdlib>
#include <set>

namespace switchyard {

namespace fs = std::filesystem;

namespace {
// The 2.0 function table is the least the host takes (every 2.0 slot, optional ones NULL); slots a
// later minor appends are read with SY_HAS_FIELD.
constexpr size_t kApiSize_2_0 = sizeof(sy_plugin_api);

std::string version_text(uint32_t major, uint32_t minor) { return std::to_string(major) + "." + std::to_string(minor); }
const std::string kHostVersion = version_text(SY_ABI_VERSION_MAJOR, SY_ABI_VERSION_MINOR);

// Why a plugin built for another major cannot load, naming both versions and what to do.
std::string major_mismatch(const std::string& who, uint32_t major, uint32_t minor) {
  std::string text = who + " ABI " + version_text(major, minor) + ", this host speaks ABI " + kHostVersion;
  if (major < SY_ABI_VERSION_MAJOR)
    return text + " and no longer loads " + std::to_string(major) + ".x plugins: rebuild the plugin against plugin_abi.h " +
           std::to_string(SY_ABI_VERSION_MAJOR) + ".x (docs/plugin-abi.md lists what changed)";
  return text + ": use a Switchyard that speaks ABI " + std::to_string(major) + ".x";
}

std::string missing_function(const sy_plugin_api& a) {
#define SY_REQUIRE(fn) \
  if (!a.fn) return #fn;
  SY_REQUIRE(get_info) SY_REQUIRE(initialize) SY_REQUIRE(shutdown) SY_REQUIRE(get_diagnostics)
  SY_REQUIRE(device_count) SY_REQUIRE(device_get) SY_REQUIRE(device_info) SY_REQUIRE(query_support)
  SY_REQUIRE(compile) SY_REQUIRE(executable_serialize) SY_REQUIRE(executable_restore) SY_REQUIRE(executable_release)
  SY_REQUIRE(buffer_alloc) SY_REQUIRE(buffer_release) SY_REQUIRE(buffer_size) SY_REQUIRE(buffer_write)
  SY_REQUIRE(buffer_read) SY_REQUIRE(execute)
#undef SY_REQUIRE
  return {};
}

std::string cstr(const char* s) { return s ? s : ""; }

// Boost.DLL wraps the dynamic loader's message as "boost::dll::shared_library::load() failed
// (dlerror system message: REASON): <errno text>", where the errno text is whatever errno was
// left at (often a spurious "Bad file descriptor"). REASON is what the user needs.
std::string dynamic_loader_reason(const std::string& what) {
  const std::string marker = "dlerror system message: ";
  const size_t start = what.find(marker);
  const size_t end = what.rfind("): ");
  if (start == std::string::npos || end == std::string::npos || end < start) return what;
  return what.substr(start + marker.size(), end - start - marker.size());
}
}  // namespace

LoadedPlugin::~LoadedPlugin() {
  if (api_ && handle_) SY_CALL_PLUGIN(*api_, shutdown, handle_);
}

std::string LoadedPlugin::diagnostics() const {
  return api_ && handle_ ? cstr(SY_CALL_PLUGIN(*api_, get_diagnostics, handle_)) : std::string();
}

Result<std::shared_ptr<LoadedPlugin>> PluginLoader::load(const Manifest& m) {
  if (m.abi_major != SY_ABI_VERSION_MAJOR) return Status(StatusCode::abi_mismatch, major_mismatch("manifest declares", m.abi_major, m.abi_minor));
  if (m.abi_minor > SY_ABI_VERSION_MINOR)
    return Status(StatusCode::abi_mismatch, "manifest declares ABI " + std::to_string(m.abi_major) + "." + std::to_string(m.abi_minor) +
                                                ", a newer minor than this host's " + std::to_string(SY_ABI_VERSION_MAJOR) + "." +
                                                std::to_string(SY_ABI_VERSION_MINOR) +
                                                " (the plugin needs what that minor added): use a newer Switchyard, or a plugin built for " +
                                                std::to_string(SY_ABI_VERSION_MAJOR) + "." + std::to_string(SY_ABI_VERSION_MINOR) + " or older");
  std::error_code ec;
  if (!fs::exists(m.library, ec)) return Status(StatusCode::not_found, "library '" + m.library.string() + "' not found");
  SY_RETURN_IF_ERROR(check_elf_library(m.library));
  auto lib = std::make_shared<boost::dll::shared_library>();
  try {
    lib->load(m.library, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
  } catch (const std::exception& e) {
    return Status(StatusCode::unavailable, "cannot load library '" + m.library.string() + "': " + dynamic_loader_reason(e.what()));
  }
  if (!lib->has(SY_PLUGIN_ENTRY_POINT))
    return Status(StatusCode::not_found, "library '" + m.library.string() + "' does not export the entry point " SY_PLUGIN_ENTRY_POINT);
  auto entry = lib->get<std::remove_pointer_t<sy_get_api_fn>>(SY_PLUGIN_ENTRY_POINT);
  const sy_plugin_api* api = nullptr;
  Status st = take_status(call_plugin(SY_PLUGIN_ENTRY_POINT, entry, SY_ABI_VERSION_MAJOR, SY_ABI_VERSION_MINOR, host_api(), &api));
  if (api && api->abi_major != SY_ABI_VERSION_MAJOR)
    return Status(StatusCode::abi_mismatch, major_mismatch("library was built for", api->abi_major, api->abi_minor));
  if (!st.ok()) return st.with_context(SY_PLUGIN_ENTRY_POINT " failed");
  if (!api) return Status(StatusCode::internal, SY_PLUGIN_ENTRY_POINT " returned no function table");
  if (api->struct_size < kApiSize_2_0)
    return Status(StatusCode::abi_mismatch, "function table is " + std::to_string(api->struct_size) + " bytes, ABI " +
                                                std::to_string(SY_ABI_VERSION_MAJOR) + ".0 needs " + std::to_string(kApiSize_2_0));
  if (auto fn = missing_function(*api); !fn.empty())
    return Status(StatusCode::abi_mismatch, "function table lacks required function '" + fn + "'");

  std::shared_ptr<LoadedPlugin> p(new LoadedPlugin());
  p->manifest_ = m;
  p->library_ = lib;
  p->api_ = api;
  sy_plugin_info info{};
  info.struct_size = sizeof info;
  SY_CALL_PLUGIN(*api, get_info, &info);
  p->identity_ = {cstr(info.name), cstr(info.vendor), cstr(info.version), cstr(info.description)};
  if (p->identity_.name != m.name)
    return Status(StatusCode::invalid_argument, "library reports plugin name '" + p->identity_.name + "' but the manifest says '" + m.name + "'");
  std::vector<std::pair<std::string, std::string>> pairs(m.settings.begin(), m.settings.end());
  pairs.emplace_back(kStateDirSetting, plugin_state_dir(m.name).string());
  const AbiSettings settings(pairs);
  sy_plugin handle = nullptr;
  SY_RETURN_IF_ERROR(take_status(SY_CALL_PLUGIN(*api, initialize, settings.data(), settings.size(), &handle)).with_context("initialize failed"));
  if (!handle) return Status(StatusCode::internal, "initialize returned no plugin handle");
  p->handle_ = handle;
  return p;
}

std::vector<fs::path> plugin_search_path(const DiscoveryOptions& options) {
  std::vector<fs::path> out = options.extra_paths;
  if (options.use_environment) {
    if (const char* env = std::getenv("SWITCHYARD_PLUGIN_PATH")) {
      std::string s = env;
      size_t start = 0;
      while (start <= s.size()) {
        size_t end = s.find(':', start);
        if (end == std::string::npos) end = s.size();
        if (end > start) out.emplace_back(s.substr(start, end - start));
        start = end + 1;
      }
    }
  }
  if (options.use_default_paths) {
    // Beside the running program first: an installed switchyard (PREFIX/bin) finds the plugins
    // installed with it (PREFIX/<libdir>/switchyard/plugins), wherever PREFIX is, and every program
    // in build/bin finds build/lib/switchyard/plugins. Then the configured install folder.
    try {
      out.push_back(boost::dll::program_location().parent_path().parent_path() / SWITCHYARD_PLUGIN_RELATIVE_DIR);
    } catch (const std::exception&) {
    }
    out.emplace_back(SWITCHYARD_PLUGIN_INSTALL_DIR);
  }
  // Drop duplicates, keeping the first occurrence.
  std::vector<fs::path> unique;
  std::set<std::string> seen;
  for (const auto& p : out) {
    std::error_code ec;
    fs::path c = fs::weakly_canonical(p, ec);
    std::string key = ec ? p.string() : c.string();
    if (seen.insert(key).second) unique.push_back(p);
  }
  return unique;
}

}  // namespace switchyard
