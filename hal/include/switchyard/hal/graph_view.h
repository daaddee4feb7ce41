// Conversions between the C++ graph IR and the C graph view (sy_graph) that crosses the
// plugin ABI. The host builds a GraphView; a C++ plugin may turn the view back into a
// Graph with graph_from_view. Tensor data is never copied either way.
#pragma once

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "switchyard/hal/graph.h"
#include "switchyard/plugin_abi.h"

namespace switchyard {

// Owns every array an sy_graph points to. Names and tensor bytes point into `graph`,
// which must outlive the view (and, for initializers, every executable built from it).
class GraphView {
 public:
  explicit GraphView(const Graph& graph);
  GraphView(const GraphView&) = delete;
  GraphView& operator=(const GraphView&) = delete;

  const sy_graph* get() const { return &view_; }

 private:
  const sy_constant* constant_of(const Tensor& t);
  const sy_value_desc* value_of(const ValueInfo& v);
  const sy_node* node_of(const Node& n);
  const sy_attribute* attribute_of(const Attribute& a);

  // Every struct lives in a deque (stable addresses); the view's arrays hold pointers to them.
  sy_graph view_{};
  std::deque<sy_value_desc> values_;
  std::deque<sy_node> nodes_;
  std::deque<sy_attribute> attributes_;
  std::deque<sy_constant> constants_;
  std::deque<sy_initializer> initializers_;
  std::vector<const sy_value_desc*> value_list_;
  std::vector<const sy_node*> node_list_;
  std::vector<const sy_initializer*> initializer_list_;
  std::vector<const char*> opset_domains_;
  std::vector<int64_t> opset_versions_;
  std::deque<std::vector<int64_t>> shapes_;
  std::deque<std::vector<const char*>> names_;  // dim symbols, string attributes
  std::deque<std::vector<size_t>> sizes_;      // string attribute sizes
  std::deque<std::vector<const sy_attribute*>> attribute_lists_;
  std::deque<std::vector<const sy_constant*>> constant_lists_;
  std::deque<std::vector<const sy_graph*>> graph_lists_;
  std::deque<std::string> encoded_strings_;
  std::vector<std::unique_ptr<GraphView>> nested_;
};

// Rebuilds a Graph from a view. Tensors wrap the view's bytes without copying; `keepalive`
// becomes their owner (pass nullptr when the bytes outlive the Graph by contract).
// Fails with a message naming the node/value if the view is inconsistent.
Result<Graph> graph_from_view(const sy_graph* view, std::shared_ptr<const void> keepalive = nullptr);

// Tensor <-> constant helpers (string tensors use the ABI's length-prefixed encoding).
std::string encode_strings(const std::vector<std::string>& strings);
Result<std::vector<std::string>> decode_strings(const void* data, size_t size, int64_t count);
Result<Tensor> tensor_from_constant(const sy_constant& c, std::shared_ptr<const void> keepalive);

}  // namespace switchyard
