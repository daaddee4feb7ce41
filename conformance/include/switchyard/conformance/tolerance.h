// Tolerances for devices that compute float32 graphs in a narrower float type (an NPU converting
// to float16). The rule is documented in docs/conformance.md ("Narrow-float devices") and
// docs/level-zero-npu.md; it is derived from the computation, never tuned per test.
#pragma once

#include <cstdint>
#include <vector>

#include "switchyard/hal/element_type.h"
#include "switchyard/hal/graph.h"
#include "switchyard/hal/status.h"
#include "switchyard/hal/tensor.h"

namespace switchyard::conformance {

// |device - reference| <= atol + rtol * |reference|
struct Tolerance {
  double atol = 0, rtol = 0;
};

// Unit roundoff u of a float type: float16 2^-11, bfloat16 2^-8, float32 2^-24; 0 for others.
double unit_roundoff(ElementType compute);

// One operation's tolerance. `result` is the element type of the output, `compute` the float
// type the device computes in, `accumulation_length` K the number of terms summed for one
// output (1 for elementwise ops), `term_scale` the largest magnitude of one term.
//   float results:          rtol = 2u, atol = 4u * sqrt(K) * term_scale
//   int8 / uint8 results:   atol = 1 (one quantisation step), rtol = 0
// Thread-safe; pure.
Tolerance derive_tolerance(ElementType result, ElementType compute, int64_t accumulation_length, double term_scale);

// One node's accumulation length K and term scale, from the node and the values its inputs and
// outputs took (reference run). `values` is indexed by value id; absent values are empty tensors.
struct NodeTerms {
  int64_t accumulation_length = 1;
  double term_scale = 0;
};
NodeTerms node_terms(const Graph& graph, const Node& node, const std::vector<const Tensor*>& values);

// A whole case: runs the reference interpreter on `graph` with `inputs`, keeping every
// intermediate, derives each float node's tolerance with node_terms, and sums them along the
// graph (a chain of n operations accumulates n such errors). Returns one Tolerance per graph
// output: int8/uint8 outputs get {1, 0}; other non-float outputs {0, 0} (exact).
// REQUIRES: the reference interpreter supports the graph.
Result<std::vector<Tolerance>> derive_case_tolerances(const Graph& graph, const std::vector<Value>& inputs, ElementType compute);

// Values deep in a float16 graph. The first-order sum above grows geometrically with depth
// (ppocr's 215 operations: atol ~1e62), so it cannot resolve a value 30 operations deep. Each
// operation's rounding is an independent relative error of at most u, so along a chain of n of
// them the relative error is a random walk: 4 standard deviations of it is 4u * sqrt(n), taken
// relative to the value's largest magnitude `scale` (normalisations such as BatchNormalization
// keep every value of a layer on that scale):  atol = 4u * sqrt(n) * scale, rtol = 0.
// `depth` is the number of operations on the longest path from the graph inputs (graph_depth).
Tolerance derive_deep_tolerance(ElementType compute, int64_t depth, double scale);
// Operations on the longest path from the graph's inputs and constants to each value (indexed by
// value id; 0 for inputs and constants). Nodes must be in topological order, as graphs are.
std::vector<int64_t> graph_depth(const Graph& graph);

// Largest finite magnitude of a numeric tensor (0 for a null, empty or non-numeric one): what a
// derived tolerance is compared with to tell whether the compute type can resolve a result.
double max_abs(const Tensor* t);

}  // namespace switchyard::conformance
