// switchyard run (placeholder until the runtime lands).
#include "commands.h"
namespace switchyard::cli {
int cmd_run(const std::vector<std::string>&) { return fail("not implemented yet"); }
}  // namespace switchyard::cli
