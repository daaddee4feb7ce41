// OpenCL plugin: what a compiled schedule was compiled from, so that restore refuses bytes
// serialized for another graph. A schedule bakes in the graph's operators, attributes, value
// shapes and the few initializer values lowering reads (Reshape shapes, Resize scales, Pad
// pads, ...); the weights it does not bake in: the executable reads them from the graph it is
// built with, so the same graph with other weights restores (and computes with those weights).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "switchyard/hal/graph.h"

namespace switchyard::opencl {

// The parts of a graph a schedule depends on, each hashed (hal/hash.h, 128 bits) on its own so
// that a mismatch names the part that differs.
enum class GraphPart : uint32_t {
  operators = 0,     // per node: domain, op_type, opset
  wiring = 1,        // per node: input and output value ids; the graph's inputs and outputs
  attributes = 2,    // per node: every attribute (tensor attributes with their bytes)
  values = 3,        // per value: kind, element type and shape
  initializers = 4,  // which values are initializers, with their types and shapes
  baked_values = 5,  // the bytes of the initializers lowering read (GraphFingerprint::baked)
  count = 6
};

struct GraphFingerprint {
  std::vector<std::string> op_types;  // per node, to name the first node that differs
  std::vector<int32_t> baked;         // initializers whose values the schedule is specialised on, ascending
  std::array<std::array<uint64_t, 2>, static_cast<size_t>(GraphPart::count)> parts{};
};

// The fingerprint of `graph`, hashing the bytes of the initializers listed in `baked`
// (a listed value that is no initializer of `graph` hashes as absent).
GraphFingerprint fingerprint_graph(const Graph& graph, std::vector<int32_t> baked);

// "" when `given` (the graph restore received) is the graph `compiled` came from; else what
// differs, for a message ("node 0 is MatMul in this graph, Conv in the compiled one").
std::string fingerprint_difference(const GraphFingerprint& compiled, const GraphFingerprint& given);

}  // namespace switchyard::opencl
