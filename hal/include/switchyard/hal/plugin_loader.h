// Plugin discovery and loading (Boost.DLL), and the registry of devices they expose.
//
// Search order: every folder in SWITCHYARD_PLUGIN_PATH (':'-separated), then
// <libdir>/switchyard/plugins beside the running program's bin/ folder (an installed CLI finds the
// plugins installed with it, under any prefix; in the build tree, build/lib/switchyard/plugins),
// then the configured install folder (<CMAKE_INSTALL_PREFIX>/<libdir>/switchyard/plugins). A plugin name found in an earlier folder shadows the
// same name later. A broken plugin (bad manifest, missing library or entry point, ABI
// mismatch, failing initialize) is recorded with its reason and skipped.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "switchyard/hal/device.h"
#include "switchyard/hal/status.h"

namespace switchyard {

struct PluginFailure {
  std::filesystem::path manifest;
  std::string name;    // from the manifest when readable
  std::string reason;  // the exact cause
};

struct DiscoveryOptions {
  // Folders searched first (SWITCHYARD_PLUGIN_PATH is appended after these).
  std::vector<std::filesystem::path> extra_paths;
  bool use_environment = true;     // read SWITCHYARD_PLUGIN_PATH
  bool use_default_paths = true;   // install folder and build tree
  // Load only the plugins with these manifest names (empty: every plugin found). A caller that
  // needs one device (a conformance case process) skips initialising the others.
  std::vector<std::string> only_plugins;
  // Skip plugins whose manifest declares device_kinds and none of them is listed here (empty:
  // no filter). Plugins that declare no kinds are always loaded.
  std::vector<std::string> only_kinds;
};

class PluginLoader {
 public:
  // Loads one plugin from its manifest.
  static Result<std::shared_ptr<LoadedPlugin>> load(const Manifest& manifest);
};

class DeviceRegistry {
 public:
  static DeviceRegistry discover(const DiscoveryOptions& options = {});

  const std::vector<std::shared_ptr<LoadedPlugin>>& plugins() const { return plugins_; }
  const std::vector<PluginFailure>& failures() const { return failures_; }
  const std::vector<std::unique_ptr<Device>>& devices() const { return devices_; }
  const std::vector<std::filesystem::path>& searched() const { return searched_; }
  // "cpu:0" -> the device; error lists the devices that exist.
  Result<const Device*> find(const std::string& id) const;

 private:
  std::vector<std::shared_ptr<LoadedPlugin>> plugins_;
  std::vector<PluginFailure> failures_;
  std::vector<std::unique_ptr<Device>> devices_;
  std::vector<std::filesystem::path> searched_;
};

std::vector<std::filesystem::path> plugin_search_path(const DiscoveryOptions& options);

}  // namespace switchyard
