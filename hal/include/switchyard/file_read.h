// Reading small configuration files (manifests, policies) safely: the file is opened without
// blocking (a FIFO at the path is refused, never waited on), must be a regular file, and must
// not exceed a size limit. Errors name the file and say what is wrong with it.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

#include "switchyard/status.h"

namespace switchyard {

// not_found (cannot open), invalid_argument (not a regular file, larger than max_bytes), io_error.
Result<std::string> read_regular_file(const std::filesystem::path& path, size_t max_bytes);

}  // namespace switchyard
