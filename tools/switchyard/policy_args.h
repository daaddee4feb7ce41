// The policy options shared by `run` and `plan`: --units, --device (repeated), --policy FILE,
// --objective, --strict.
#pragma once

#include "args.h"
#include "switchyard/policy.h"

namespace switchyard::cli {

inline const std::vector<std::string> kPolicyFlags = {"--units", "--device", "--policy", "--objective"};
inline const std::vector<std::string> kPolicySwitches = {"--strict"};

// Starts from --policy FILE (if any); --units, --device, --objective and --strict override it.
Result<Policy> policy_from_args(const Args& args);

}  // namespace switchyard::cli
