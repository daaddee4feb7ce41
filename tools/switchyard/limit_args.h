// The per-prediction limits shared by `run` and `bench`: --timeout SECONDS and --max-memory SIZE.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "args.h"

namespace switchyard::cli {

inline const std::vector<std::string> kLimitFlags = {"--timeout", "--max-memory"};

struct PredictionLimits {
  std::optional<std::chrono::steady_clock::duration> timeout;  // --timeout: seconds, > 0
  uint64_t max_memory_bytes = 0;                               // --max-memory; 0: none
  // The deadline of a prediction starting now, if there is a timeout.
  std::optional<std::chrono::steady_clock::time_point> deadline_from_now() const;
};

// Parses --timeout (a positive number of seconds, fractions allowed, at most a year) and
// --max-memory (a positive byte count with an optional K, M, G or T suffix: powers of 1024).
// The error names the flag and the text it got.
Status limits_from_args(const Args& args, PredictionLimits* out);

// "512M" -> 536870912; nullopt for anything but digits and one optional suffix, 0 or overflow.
std::optional<uint64_t> parse_byte_size(const std::string& text);

}  // namespace switchyard::cli
