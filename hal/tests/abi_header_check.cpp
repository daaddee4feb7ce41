// Compiled as C++17 with -Wall -Wextra -pedantic -Werror (hal/tests/CMakeLists.txt): the ABI
// header and the optional plugin helpers as a vendor's C++ plugin includes them.
#include "switchyard/plugin_abi.h"
#include "switchyard/plugin_helpers.h"

int sy_abi_header_compiles_as_cxx17() { return SY_ABI_VERSION_MAJOR * 100 + SY_ABI_VERSION_MINOR; }
