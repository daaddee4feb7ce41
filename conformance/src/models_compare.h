// Holding a whole model's outputs to expected ones under the deep-value rule (tolerance.h,
// derive_deep_tolerance; docs/conformance.md, "Values deep in a model"): an output n operations
// deep, computed in a float type of unit roundoff u, may differ by 4u * sqrt(n) * max|expected|,
// and never by less than the suite's fixed rtol/atol allow. The first-order sum the single-node
// cases use grows geometrically with depth, so it cannot resolve a deep model's outputs.
#pragma once

#include <string>
#include <vector>

#include "switchyard/conformance/check.h"
#include "switchyard/conformance/tolerance.h"

namespace switchyard::conformance {

// The tolerance for graph output `index`: atol = max(atol, deep atol), rtol = rtol.
Tolerance model_output_tolerance(const Graph& graph, const std::vector<int64_t>& depth, size_t index, const Value& expected,
                                 ElementType compute, double rtol, double atol);

// Compares every output. Failed: "mismatch" (or "output count") with where and by how much.
// Skipped: a narrow-float output the rule cannot resolve (tolerance >= result). Passed: `detail`
// holds, per output, the largest difference and the tolerance there ("output 0 'prob' (9 deep):
// max |diff| 3.1e-08 at [4], allowed 1.1e-04").
Check compare_model_outputs(const Graph& graph, const std::vector<Value>& expected, const std::vector<Value>& got, ElementType compute,
                            double rtol, double atol, const std::string& where);

}  // namespace switchyard::conformance
