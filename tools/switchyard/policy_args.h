// The policy options shared by `run` and `plan`: --units, --device (repeated), --policy FILE,
// --objective, --strict.
#pragma once

#include "args.h"
#include "switchyard/partitioner/policy.h"
#include "switchyard/runtime/range_check.h"

namespace switchyard::cli {

inline const std::vector<std::string> kPolicyFlags = {"--units", "--device", "--policy", "--objective", "--calibration-input",
                                                      "--range-headroom"};
inline const std::vector<std::string> kPolicySwitches = {"--strict", "--no-range-check"};

// Starts from --policy FILE (if any); --units, --device, --objective and --strict override it.
Result<Policy> policy_from_args(const Args& args);

// The range check for narrow-float devices: --calibration-input NAME=FILE (repeated; a tensor
// file as for --input), --range-headroom X (>= 1), --no-range-check.
Status range_check_from_args(const Args& args, RangeCheckOptions* out);

}  // namespace switchyard::cli
