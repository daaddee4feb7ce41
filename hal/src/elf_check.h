// Checks that a plugin library is a whole ELF shared object for this machine before the dynamic
// loader maps it. The loader trusts the file: a library truncated inside a segment it maps faults
// (SIGBUS) in the host when the missing pages are touched. Checking every header and every loaded
// segment against the file's size turns that into an error the host can report.
#pragma once
#include <filesystem>

#include "switchyard/hal/status.h"

namespace switchyard {

// invalid_argument naming the file and what is wrong (not ELF, another class, byte order or
// machine, not a shared object, a header or segment past the end of the file); not_found or
// invalid_argument from opening it (missing, not a regular file).
Status check_elf_library(const std::filesystem::path& library);

}  // namespace switchyard
