// Plugin manifests: small YAML files that name a plugin, its library, the ABI version
// it was built for, and settings passed through to the plugin's initialize().
//
//   name: cpu
//   library: libswitchyard_plugin_cpu.so   # relative to the manifest's folder, or absolute
//   abi_version: "1.0"                     # major[.minor]
//   settings:                              # optional, strings passed to the plugin
//     threads: "2"
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "switchyard/status.h"

namespace switchyard {

struct Manifest {
  std::filesystem::path file;
  std::string name;
  std::filesystem::path library;  // resolved against the manifest's folder
  uint32_t abi_major = 0;
  uint32_t abi_minor = 0;
  std::vector<std::pair<std::string, std::string>> settings;
};

// Errors name the file and the field at fault.
Result<Manifest> parse_manifest(const std::filesystem::path& file);

}  // namespace switchyard
