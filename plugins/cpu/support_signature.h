// The part of a node that decides the CPU plugin's support answer, as a string: nodes with equal
// signatures get equal answers, so support_for_graph asks each kernel provider once per signature
// instead of once per node (a 10^6-node graph of repeated blocks has few distinct signatures, and
// asking oneDNN builds a primitive descriptor).
#pragma once
#include <optional>
#include <string>

#include "switchyard/hal/graph.h"

namespace switchyard::cpu {

// The operator, its opset, its attributes and its inputs' and outputs' types and shapes. nullopt
// where the answer may depend on more than that: a constant input (its values can matter, e.g. a
// Reshape's shape) or a tensor or graph attribute.
std::optional<std::string> support_signature(const Node& node, const Graph& graph);

}  // namespace switchyard::cpu
