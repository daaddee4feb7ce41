// A model's inputs: checks of given values against the declared types, and generated stand-ins.
#pragma once

#include <vector>

#include "switchyard/hal/graph.h"
#include "switchyard/hal/status.h"
#include "switchyard/hal/tensor.h"

namespace switchyard {

// Checks a value against a declared type: element type, rank and static dims.
Status check_input(const ValueInfo& declared, const Value& value);

// Deterministic inputs for a graph (symbolic dims become 1): floats cycle through
// [-0.5, 0.5), integers through 0..9, booleans alternate.
Result<std::vector<Value>> generate_inputs(const Graph& graph);

}  // namespace switchyard
