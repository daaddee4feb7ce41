// Plugin manifests: small YAML files that name a plugin, its library, the ABI version
// it was built for, and settings passed through to the plugin's initialize().
//
//   name: cpu
//   library: libswitchyard_plugin_cpu.so   # relative to the manifest's folder, or absolute
//   abi_version: "1.0"                     # major[.minor]: the plugin needs at least this host minor
//   device_kinds: [cpu]                    # optional: the kinds its devices are classified as
//   settings:                              # optional, strings passed to the plugin
//     threads: "2"
//
// Keys the host does not read are warnings (Manifest::warnings, with a "did you mean" for near
// misses), not errors; a YAML error on a line indented with a tab says so.
// `device_kinds` lets discovery skip initialising a plugin that a policy cannot use (a
// cpu-only policy never starts the OpenCL driver). Omitted: the plugin is always loaded.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "switchyard/hal/status.h"

namespace switchyard {

struct Manifest {
  std::filesystem::path file;
  std::string name;
  std::filesystem::path library;  // resolved against the manifest's folder
  uint32_t abi_major = 0;
  uint32_t abi_minor = 0;
  std::vector<std::pair<std::string, std::string>> settings;
  std::vector<std::string> device_kinds;  // "cpu", "gpu", "npu", "other"; empty: not declared
  std::vector<std::string> warnings;      // what the host ignored (unknown keys), for `switchyard devices`
};

// Errors name the file and the field at fault.
Result<Manifest> parse_manifest(const std::filesystem::path& file);
// The same from a manifest's text (what parse_manifest calls on the file's bytes); `file` is where
// it came from: errors name it and a relative library is resolved against its folder.
Result<Manifest> parse_manifest_text(std::string_view text, const std::filesystem::path& file);

}  // namespace switchyard
