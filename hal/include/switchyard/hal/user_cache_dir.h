// Where Switchyard keeps per-user data on disk: $SWITCHYARD_CACHE_DIR, else
// $XDG_CACHE_HOME/switchyard, else ~/.cache/switchyard, else <tmp>/switchyard-cache. The plan
// cache lives there, and each plugin gets a folder of its own below it for measurements it
// keeps between processes (the setting `switchyard.state_dir`, docs/plugin-abi.md).
#pragma once

#include <filesystem>
#include <string>

namespace switchyard {

std::filesystem::path user_cache_dir();
// <user_cache_dir>/plugins/<plugin name>; created by the plugin when it first writes there.
std::filesystem::path plugin_state_dir(const std::string& plugin_name);

// The setting the host adds to every plugin's initialize() (after the manifest's own).
inline constexpr const char* kStateDirSetting = "switchyard.state_dir";

}  // namespace switchyard
