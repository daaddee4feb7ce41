// Partitioning time for generated graphs of 1,000 / 10,000 / 100,000 nodes on three devices
// (cpu, gpu, npu) with per-device support masks. Prints the median of several runs and the
// growth ratio per tenfold size, so near-linear growth shows as a ratio close to 10.
//   build/bin/switchyard_partition_bench [--json]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "switchyard/partitioner/partitioner.h"

using namespace switchyard;

namespace {

const char* kOps[] = {"Conv", "Relu", "Add", "MatMul", "Softmax", "Resize", "Concat", "MaxPool", "Transpose", "Gather"};

Graph make_graph(int nodes, std::mt19937& rng) {
  Graph g;
  g.opsets = {{"", 17}};
  ValueType vt;
  vt.tensor.elem = ElementType::float32;
  vt.tensor.shape = std::vector<Dim>{{1, ""}, {64, ""}, {28, ""}, {28, ""}};
  g.values.reserve(static_cast<size_t>(nodes) + 1);
  g.values.push_back({"input", vt});
  g.inputs = {0};
  int32_t w = static_cast<int32_t>(g.values.size());
  g.values.push_back({"w", {}});
  g.initializers[w] = Tensor::allocate(ElementType::float32, {64, 64, 3, 3});
  std::vector<int32_t> recent = {0};
  g.nodes.reserve(static_cast<size_t>(nodes));
  for (int n = 0; n < nodes; ++n) {
    Node node;
    node.name = "n" + std::to_string(n);
    node.op_type = kOps[rng() % 10];
    node.opset = 17;
    node.inputs.push_back(recent.back());
    if (rng() % 5 == 0) node.inputs.push_back(recent[recent.size() - 1 - rng() % std::min<size_t>(recent.size(), 16)]);
    if (node.op_type == "Conv") node.inputs.push_back(w);
    int32_t out = static_cast<int32_t>(g.values.size());
    g.values.push_back({"v" + std::to_string(n), vt});
    node.outputs.push_back(out);
    recent.push_back(out);
    g.nodes.push_back(std::move(node));
  }
  g.outputs = {recent.back()};
  return g;
}

SupportTable make_support(const Graph& g, std::mt19937& rng) {
  SupportTable t;
  const char* gpu_no[] = {"Gather"};
  const char* npu_no[] = {"Resize", "Gather", "Softmax"};
  for (const char* id : {"cpu:0", "gpu:0", "npu:0"}) {
    auto& a = t[id];
    a.reserve(g.nodes.size());
    for (const auto& n : g.nodes) {
      bool ok = true;
      if (std::strcmp(id, "gpu:0") == 0) ok = n.op_type != gpu_no[0] && rng() % 50 != 0;
      if (std::strcmp(id, "npu:0") == 0)
        ok = std::none_of(std::begin(npu_no), std::end(npu_no), [&](const char* o) { return n.op_type == o; }) && rng() % 20 != 0;
      a.push_back(NodeSupport{ok ? SupportReason::supported : SupportReason::op, ok ? "" : n.op_type + " unsupported", ""});
    }
  }
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  const bool json = argc > 1 && std::strcmp(argv[1], "--json") == 0;
  std::vector<DeviceFigures> devices = {{"cpu:0", "cpu", 300, 20, 0, 2, 30},
                                        {"gpu:0", "gpu", 5000, 300, 16, 20, 80},
                                        {"npu:0", "npu", 2000, 60, 8, 50, 5}};
  std::vector<double> medians;
  std::vector<int> sizes = {1000, 10000, 100000};
  std::vector<size_t> segments;
  for (int size : sizes) {
    std::mt19937 rng(42);
    Graph g = make_graph(size, rng);
    PartitionInput in;
    in.graph = &g;
    in.devices = devices;
    in.support = make_support(g, rng);
    std::vector<double> times;
    size_t segs = 0;
    const int runs = size >= 100000 ? 3 : 7;
    for (int r = 0; r < runs; ++r) {
      auto t0 = std::chrono::steady_clock::now();
      auto plan = Partitioner::partition(in);
      times.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      if (!plan.ok()) {
        std::fprintf(stderr, "partition failed: %s\n", plan.status().to_string().c_str());
        return 1;
      }
      segs = plan->segments.size();
    }
    std::sort(times.begin(), times.end());
    medians.push_back(times[times.size() / 2]);
    segments.push_back(segs);
  }
  if (json) {
    std::printf("{\"partition_ms\": {");
    for (size_t i = 0; i < sizes.size(); ++i) std::printf("%s\"%d\": %.3f", i ? ", " : "", sizes[i], medians[i]);
    std::printf("}, \"segments\": {");
    for (size_t i = 0; i < sizes.size(); ++i) std::printf("%s\"%d\": %zu", i ? ", " : "", sizes[i], segments[i]);
    std::printf("}}\n");
    return 0;
  }
  std::printf("%-10s %14s %10s %14s\n", "nodes", "median ms", "segments", "x per 10x");
  for (size_t i = 0; i < sizes.size(); ++i) {
    if (i == 0) std::printf("%-10d %14.3f %10zu %14s\n", sizes[i], medians[i], segments[i], "-");
    else std::printf("%-10d %14.3f %10zu %14.2f\n", sizes[i], medians[i], segments[i], medians[i] / medians[i - 1]);
  }
  return 0;
}
