/* Compiled as C89, C99, C11 and C17 with -Wall -Wextra -pedantic -Werror (hal/tests/CMakeLists.txt):
 * the ABI header is the one file every vendor compiles, in whatever C their toolchain speaks, so a
 * change that breaks any of those standards breaks this build. */
#include "switchyard/plugin_abi.h"

int sy_abi_header_compiles_as_c(void) { return SY_ABI_VERSION_MAJOR * 100 + SY_ABI_VERSION_MINOR; }
