// Holding a target's outputs against expected ones: the comparison every suite shares.
#pragma once

#include <string>
#include <vector>

#include "switchyard/conformance/case.h"

namespace switchyard::conformance {

// Compares got with expected under |got - exp| <= atol + rtol * |exp| (NaN matches NaN, infinities
// must match exactly; integers, bools and strings exactly). Empty string = match; otherwise the
// count of differing values, the worst one, where, and by how much.
std::string compare_values(const Value& expected, const Value& got, double rtol, double atol);

struct Check {
  Outcome outcome = Outcome::passed;
  std::string reason;  // "" when passed; "mismatch", "run failed", "output count", ...; skips: the device's reason
  std::string detail;  // full: "<where> output 0 'y': 3 of 12 values differ; worst at [4]: ..."
};

// Runs `model` on the target with `inputs` and holds every output to `expected`: rtol/atol for
// float32 targets, the tolerance derived from this computation for narrow-float ones (a result the
// compute type cannot resolve is skipped, not passed). Unsupported work (StatusCode::unsupported)
// is a skip with the target's message. `where` prefixes details ("test_data_set_0", "seed 7").
Check check_outputs(const Model& model, const std::vector<Value>& inputs, const std::vector<Value>& expected, const Target& target,
                    double rtol, double atol, const std::string& where);

// Groups skip and failure messages for tallies: drops a leading node prefix ("Foo 'n1': ") so the
// same cause on different nodes counts together; newlines become spaces. Never truncates.
std::string reason_key(const std::string& message);

}  // namespace switchyard::conformance
