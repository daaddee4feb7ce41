// Shape inference over the graph IR, using ONNX's own shape inference (libonnx): the graph is
// exported to a ModelProto (small constants with their values, large ones as typed inputs),
// inferred with data propagation, and every inferred type that is more specific than the
// graph's is copied back. Run after constant folding and after fixing input shapes, it turns
// symbolic and unknown dims into static ones wherever the operators allow.
#pragma once

#include <map>
#include <string>

#include "switchyard/graph.h"
#include "switchyard/status.h"

namespace switchyard {

// Best effort: returns the number of values whose type became more specific. Fails only on an
// internal export error; ONNX inference errors leave the graph as it was.
Result<int> infer_shapes(Graph& graph);

// Fixes the shapes of graph inputs (name -> dims). Each given shape must match the declared
// rank and static dims; errors name the input.
Status specialize_inputs(Graph& graph, const std::map<std::string, Shape>& shapes);

// Parses "x=1,3,48,192;y=2,5" (';' between inputs) into a map; errors name the bad part.
Result<std::map<std::string, Shape>> parse_input_shapes(const std::string& text);

}  // namespace switchyard
