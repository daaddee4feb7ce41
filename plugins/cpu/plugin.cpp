// CPU plugin: the exported ABI entry point, and nothing else. The function table and its
// trampolines are in plugin_api.cpp, which the test double (tests/test_double_plugin.cpp) wraps.
#include "plugin_api.h"
#include "switchyard/plugin_helpers.h"

extern "C" SY_PLUGIN_EXPORT sy_status SwitchyardPluginGetApi(uint32_t host_abi_major, uint32_t, const sy_host_api* host,
                                                             const sy_plugin_api** out_api) {
  return switchyard::plugin_helpers::answer_get_api(host_abi_major, host, switchyard::cpu::plugin_api(host), out_api);
}
