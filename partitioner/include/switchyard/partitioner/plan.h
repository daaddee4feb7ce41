// A partition plan: segments (connected node sets on one device), the tensors crossing
// between them, estimated costs, and for every node the reason it went where it went.
// Serialisable (the plan cache stores it) and printable as a table, JSON or Graphviz dot.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "switchyard/hal/graph.h"
#include "switchyard/hal/status.h"

namespace switchyard {

struct Placement {
  int32_t node = -1;       // index into graph.nodes
  std::string device;      // device id
  int32_t segment = -1;
  double estimated_us = 0;
  std::string reason;      // "cpu:0: 0.12 ms vs gpu:0 0.40 ms + 0.30 ms transfer"
};

struct Segment {
  int32_t id = 0;
  std::string device;
  std::vector<int32_t> nodes;    // graph node indices, topological order
  std::vector<int32_t> inputs;   // value ids read from outside the segment (graph inputs, other segments)
  std::vector<int32_t> outputs;  // value ids used by other segments or graph outputs
  std::vector<int32_t> depends_on;  // segment ids this one waits for
  double estimated_us = 0;
};

struct Transfer {
  int32_t value = -1;
  int32_t from_segment = -1;  // -1: a graph input (host)
  int32_t to_segment = -1;    // -1: a graph output (host)
  std::string from_device, to_device;  // "host" for graph inputs / outputs
  double bytes = 0;
  double estimated_us = 0;
};

struct Plan {
  std::string policy;          // Policy::canonical()
  std::vector<std::string> devices;  // devices considered, in policy order
  std::vector<Segment> segments;     // in a valid execution order
  std::vector<Transfer> transfers;
  std::vector<Placement> placements;  // one per graph node, in node order
  double estimated_us = 0;            // critical-path estimate

  std::string to_table(const Graph& graph) const;
  std::string to_json(const Graph& graph) const;
  std::string to_dot(const Graph& graph) const;
  // One line: "3 segments: cpu:0 (120 nodes), npu:0 (52 nodes); 4 transfers, 1.2 MB; est 3.4 ms"
  std::string summary() const;

  std::string serialize() const;
  static Result<Plan> deserialize(const std::string& bytes, const Graph& graph);
};

}  // namespace switchyard
