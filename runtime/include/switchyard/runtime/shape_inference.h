// Shape inference over the graph IR, using ONNX's own shape inference (libonnx): the graph is
// exported to a ModelProto (small constants with their values, large ones as typed inputs),
// inferred with data propagation, and every inferred type that is more specific than the
// graph's is copied back. Run after constant folding and after fixing input shapes, it turns
// symbolic and unknown dims into static ones wherever the operators allow.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "switchyard/hal/graph.h"
#include "switchyard/hal/status.h"
#include "switchyard/hal/tensor.h"

namespace switchyard {

// Best effort: returns the number of values whose type became more specific. Fails only on an
// internal export error; ONNX inference errors leave the graph as it was.
Result<int> infer_shapes(Graph& graph);

// Fixes the shapes of graph inputs (name -> dims). Each given shape must match the declared
// rank and static dims; errors name the input.
Status specialize_inputs(Graph& graph, const std::map<std::string, Shape>& shapes);

// Shapes for the graph inputs whose declared shape is not fully static and that `given` does not
// name: the shapes of the tensors in `inputs` (one per graph input, in order). A caller about to
// run these inputs specialises the graph to them, so static-shape devices can take it.
std::map<std::string, Shape> input_shapes_of(const Graph& graph, const std::vector<Value>& inputs,
                                             const std::map<std::string, Shape>& given);

// Shapes for planning without inputs: a symbolic or unknown leading (batch) dim of an input that
// `given` does not name is taken as 1. Inputs with symbolic dims beyond the leading one (an
// image's height and width) have no sensible default: they are left out and named in
// `unresolved` ("x: [N,3,H,W]"). `note`, when given, names what was assumed
// ("x=1,3,48,192 (N = 1)"). Inputs of unknown rank are left out.
std::map<std::string, Shape> default_input_shapes(const Graph& graph, const std::map<std::string, Shape>& given,
                                                  std::string* note = nullptr, std::string* unresolved = nullptr);

// Parses "x=1,3,48,192;y=2,5" (';' between inputs) into a map; errors name the bad part.
Result<std::map<std::string, Shape>> parse_input_shapes(const std::string& text);

}  // namespace switchyard
