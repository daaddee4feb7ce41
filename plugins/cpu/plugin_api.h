// The CPU plugin's function table, apart from the exported entry point (plugin.cpp) so that a
// test double can wrap it (tests/test_double_plugin.cpp).
#pragma once

#include "switchyard/plugin_abi.h"

namespace switchyard::cpu {

// The table (static: valid while the library is loaded). Its entries make statuses and log lines
// through `host` from now on; SwitchyardPluginGetApi passes the host it was given.
const sy_plugin_api& plugin_api(const sy_host_api* host);

}  // namespace switchyard::cpu
