// switchyard devices (placeholder until the plugin host lands).
#include "commands.h"
namespace switchyard::cli {
int cmd_devices(const std::vector<std::string>&) { return fail("not implemented yet"); }
}  // namespace switchyard::cli
