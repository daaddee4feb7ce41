// Partitioner tests: properties over thousands of random graphs and random support masks
// (every node placed exactly once on an allowed device that supports it, segments connected,
// acyclic and in dependency order, deterministic), and targeted placement cases.
#include <gtest/gtest.h>

#include <map>
#include <queue>
#include <random>
#include <set>

#include "switchyard/partitioner/partitioner.h"

namespace switchyard {
namespace {

const char* kOps[] = {"Conv", "Relu", "Add", "MatMul", "Softmax", "Resize", "Concat", "MaxPool"};

Graph random_graph(std::mt19937& rng, int nodes) {
  Graph g;
  g.opsets = {{"", 17}};
  auto tensor_type = [](int64_t c) {
    ValueType vt;
    vt.tensor.elem = ElementType::float32;
    vt.tensor.shape = std::vector<Dim>{{1, ""}, {c, ""}, {16, ""}, {16, ""}};
    return vt;
  };
  int inputs = 1 + static_cast<int>(rng() % 2);
  std::vector<int32_t> available;
  for (int i = 0; i < inputs; ++i) {
    int32_t v = g.add_value("in" + std::to_string(i), tensor_type(8));
    g.inputs.push_back(v);
    available.push_back(v);
  }
  for (int n = 0; n < nodes; ++n) {
    Node node;
    node.name = "n" + std::to_string(n);
    node.op_type = kOps[rng() % 8];
    node.opset = 17;
    int k = 1 + static_cast<int>(rng() % 2);
    for (int i = 0; i < k; ++i) {
      // Mostly recent values (chains), sometimes far back (skip connections).
      size_t idx = rng() % 4 == 0 ? rng() % available.size() : available.size() - 1 - rng() % std::min<size_t>(3, available.size());
      node.inputs.push_back(available[idx]);
    }
    int32_t out = g.add_value("v" + std::to_string(n), tensor_type(8 + static_cast<int64_t>(rng() % 4) * 8));
    node.outputs.push_back(out);
    available.push_back(out);
    g.nodes.push_back(node);
  }
  g.outputs.push_back(available.back());
  if (rng() % 2) g.outputs.push_back(available[available.size() / 2]);
  return g;
}

std::vector<DeviceFigures> three_devices() {
  DeviceFigures cpu{"cpu:0", "cpu", 300, 20, 0, 2, 30};
  DeviceFigures gpu{"gpu:0", "gpu", 5000, 300, 16, 20, 80};
  DeviceFigures npu{"npu:0", "npu", 2000, 60, 8, 50, 5};
  return {cpu, gpu, npu};
}

// The three devices, each supporting every node of g.
PartitionInput supported_everywhere(const Graph& g) {
  PartitionInput in;
  in.graph = &g;
  in.devices = three_devices();
  for (const auto& d : in.devices) in.support[d.id].assign(g.nodes.size(), NodeSupport{SupportReason::supported, "", ""});
  return in;
}

SupportTable random_support(std::mt19937& rng, const Graph& g, const std::vector<DeviceFigures>& devices) {
  SupportTable t;
  for (const auto& d : devices) {
    auto& answers = t[d.id];
    // Per device: a random subset of op types, plus random per-node refusals.
    std::set<std::string> ops;
    for (const char* op : kOps)
      if (d.kind == "cpu" || rng() % 3 != 0) ops.insert(op);
    for (const auto& n : g.nodes) {
      NodeSupport a;
      a.reason = SupportReason::supported;
      if (d.kind != "cpu" && !(ops.count(n.op_type) && rng() % 10 != 0)) {
        a.reason = ops.count(n.op_type) ? SupportReason::attribute : SupportReason::op;
        a.message = n.op_type + " unsupported";
      }
      answers.push_back(a);
    }
  }
  return t;
}

void check_plan_properties(const Graph& g, const Plan& plan, const PartitionInput& in, const std::vector<std::string>& allowed) {
  ASSERT_EQ(plan.placements.size(), g.nodes.size());
  std::vector<int> placed(g.nodes.size(), 0);
  std::vector<int32_t> seg_of(g.nodes.size(), -1);
  for (const auto& s : plan.segments) {
    for (int32_t n : s.nodes) {
      placed[static_cast<size_t>(n)]++;
      seg_of[static_cast<size_t>(n)] = s.id;
      ASSERT_EQ(plan.placements[static_cast<size_t>(n)].device, s.device);
      ASSERT_EQ(plan.placements[static_cast<size_t>(n)].segment, s.id);
    }
  }
  for (size_t n = 0; n < g.nodes.size(); ++n) {
    ASSERT_EQ(placed[n], 1) << "node " << n << " placed " << placed[n] << " times";
    const std::string& d = plan.placements[n].device;
    ASSERT_NE(std::find(allowed.begin(), allowed.end(), d), allowed.end()) << "node on a device the policy does not allow";
    ASSERT_TRUE(in.support.at(d)[n].supported()) << "node " << n << " on " << d << ", which does not support it";
    ASSERT_FALSE(plan.placements[n].reason.empty());
  }
  // Edges between segments go from earlier to later segments: the segment graph is acyclic
  // and `segments` is a valid execution order.
  std::vector<int32_t> producer(g.values.size(), -1);
  for (size_t n = 0; n < g.nodes.size(); ++n) producer[static_cast<size_t>(g.nodes[n].outputs[0])] = static_cast<int32_t>(n);
  for (size_t n = 0; n < g.nodes.size(); ++n)
    for (int32_t v : g.nodes[n].inputs) {
      int32_t p = producer[static_cast<size_t>(v)];
      if (p < 0) continue;
      int32_t a = seg_of[static_cast<size_t>(p)], b = seg_of[n];
      ASSERT_LE(a, b) << "edge from segment " << a << " to earlier segment " << b;
      if (a != b) {
        const auto& deps = plan.segments[static_cast<size_t>(b)].depends_on;
        ASSERT_NE(std::find(deps.begin(), deps.end(), a), deps.end()) << "missing dependency";
      }
    }
  // Each segment is connected (ignoring direction).
  for (const auto& s : plan.segments) {
    std::set<int32_t> members(s.nodes.begin(), s.nodes.end());
    std::map<int32_t, std::vector<int32_t>> adj;
    for (int32_t n : s.nodes)
      for (int32_t v : g.nodes[static_cast<size_t>(n)].inputs) {
        int32_t p = producer[static_cast<size_t>(v)];
        if (p >= 0 && members.count(p)) {
          adj[n].push_back(p);
          adj[p].push_back(n);
        }
      }
    std::set<int32_t> seen = {s.nodes[0]};
    std::queue<int32_t> q;
    q.push(s.nodes[0]);
    while (!q.empty()) {
      int32_t x = q.front();
      q.pop();
      for (int32_t y : adj[x])
        if (seen.insert(y).second) q.push(y);
    }
    ASSERT_EQ(seen.size(), members.size()) << "segment " << s.id << " is not connected";
  }
}

TEST(PartitionerProperties, ThousandsOfRandomGraphs) {
  std::mt19937 rng(12345);
  const auto devices = three_devices();
  const std::vector<ComputeUnits> units = {ComputeUnits::all, ComputeUnits::cpu_only, ComputeUnits::cpu_and_gpu, ComputeUnits::cpu_and_npu};
  int plans = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    Graph g = random_graph(rng, 1 + static_cast<int>(rng() % 60));
    PartitionInput in;
    in.graph = &g;
    in.devices = devices;
    in.support = random_support(rng, g, devices);
    in.policy.units = units[rng() % units.size()];
    in.policy.objective = rng() % 4 == 0 ? Objective::power : Objective::latency;
    if (rng() % 5 == 0) in.policy.ban_ops["Softmax"] = {"gpu:0"};
    if (rng() % 5 == 0) in.policy.pin_ops["Concat"] = "cpu:0";
    auto plan = Partitioner::partition(in);
    ASSERT_TRUE(plan.ok()) << plan.status().to_string();
    auto allowed = Partitioner::allowed_devices(in.policy, devices);
    ASSERT_TRUE(allowed.ok());
    check_plan_properties(g, *plan, in, *allowed);
    for (const auto& p : plan->placements) {
      const Node& n = g.nodes[static_cast<size_t>(p.node)];
      if (n.op_type == "Concat" && in.policy.pin_ops.count("Concat")) ASSERT_EQ(p.device, "cpu:0");
      if (n.op_type == "Softmax" && in.policy.ban_ops.count("Softmax")) ASSERT_NE(p.device, "gpu:0");
    }
    // Deterministic: the same inputs give the same plan.
    auto again = Partitioner::partition(in);
    ASSERT_TRUE(again.ok());
    ASSERT_EQ(plan->serialize(), again->serialize());
    // Serialisation round trip.
    auto back = Plan::deserialize(plan->serialize(), g);
    ASSERT_TRUE(back.ok()) << back.status().to_string();
    ASSERT_EQ(back->serialize(), plan->serialize());
    ++plans;
  }
  EXPECT_EQ(plans, 3000);
}

// A chain where the GPU supports every node but one in the middle.
Graph chain(int n) {
  Graph g;
  auto vt = [] {
    ValueType t;
    t.tensor.elem = ElementType::float32;
    t.tensor.shape = std::vector<Dim>{{1, ""}, {64, ""}, {56, ""}, {56, ""}};
    return t;
  }();
  int32_t prev = g.add_value("x", vt);
  g.inputs = {prev};
  int32_t w = g.add_value("w", {});
  g.initializers[w] = Tensor::allocate(ElementType::float32, {64, 64, 3, 3});
  for (int i = 0; i < n; ++i) {
    int32_t out = g.add_value("c" + std::to_string(i), vt);
    Node node{"conv" + std::to_string(i), "", i == n / 2 ? "Resize" : "Conv", 17, {prev, w}, {out}, {}};
    g.nodes.push_back(node);
    prev = out;
  }
  g.outputs = {prev};
  return g;
}

TEST(Partitioner, UnsupportedNodeSplitsWithReasons) {
  Graph g = chain(9);
  auto devices = three_devices();
  PartitionInput in;
  in.graph = &g;
  in.devices = devices;
  for (const auto& d : devices)
    for (const auto& n : g.nodes) {
      NodeSupport a;
      a.reason = SupportReason::supported;
      if (d.kind != "cpu" && n.op_type == "Resize") {
        a.reason = SupportReason::attribute;
        a.message = "Resize mode=cubic unsupported";
      }
      in.support[d.id].push_back(a);
    }
  in.policy.units = ComputeUnits::cpu_and_gpu;
  auto plan = Partitioner::partition(in);
  ASSERT_TRUE(plan.ok()) << plan.status().to_string();
  // conv0-3 on the GPU, Resize on the CPU, conv5-8 on the GPU: three segments, two crossings.
  ASSERT_EQ(plan->segments.size(), 3u) << plan->to_table(g);
  EXPECT_EQ(plan->segments[0].device, "gpu:0");
  EXPECT_EQ(plan->segments[1].device, "cpu:0");
  EXPECT_EQ(plan->segments[2].device, "gpu:0");
  const auto& resize = plan->placements[4];
  EXPECT_NE(resize.reason.find("gpu:0: Resize mode=cubic unsupported (attribute)"), std::string::npos) << resize.reason;
  EXPECT_NE(plan->placements[0].reason.find(" vs cpu:0 "), std::string::npos) << plan->placements[0].reason;
  EXPECT_NE(plan->to_dot(g).find("cluster_1"), std::string::npos);
  EXPECT_NE(plan->to_json(g).find("\"placements\""), std::string::npos);

  // strict refuses, naming the node and the reason.
  in.policy.strict = true;
  auto strict = Partitioner::partition(in);
  ASSERT_FALSE(strict.ok());
  EXPECT_NE(strict.status().message().find("Resize 'conv4' would run on cpu:0; gpu:0: Resize mode=cubic unsupported (attribute)"),
            std::string::npos)
      << strict.status().message();
}

TEST(Partitioner, SmallFragmentsAreNotWorthATransfer) {
  // A tiny elementwise node the GPU could run sits between CPU-only nodes: moving it costs
  // two transfers for almost no gain, so it stays on the CPU.
  Graph g;
  ValueType vt;
  vt.tensor.elem = ElementType::float32;
  vt.tensor.shape = std::vector<Dim>{{1, ""}, {256, ""}, {56, ""}, {56, ""}};
  int32_t x = g.add_value("x", vt), a = g.add_value("a", vt), b = g.add_value("b", vt), c = g.add_value("c", vt);
  g.inputs = {x};
  g.nodes = {{"pre", "", "Custom", 17, {x}, {a}, {}}, {"relu", "", "Relu", 17, {a}, {b}, {}}, {"post", "", "Custom", 17, {b}, {c}, {}}};
  g.outputs = {c};
  auto devices = three_devices();
  PartitionInput in;
  in.graph = &g;
  in.devices = devices;
  for (const auto& d : devices)
    for (const auto& n : g.nodes) in.support[d.id].push_back(
        NodeSupport{d.kind == "cpu" || n.op_type == "Relu" ? SupportReason::supported : SupportReason::op, "no Custom", ""});
  in.policy.units = ComputeUnits::cpu_and_gpu;
  in.policy.objective = Objective::latency;  // the cost model decides
  auto plan = Partitioner::partition(in);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->placements[1].device, "cpu:0") << plan->to_table(g);
  EXPECT_EQ(plan->segments.size(), 1u);

  // cpu-and-gpu's default objective is `accelerator`: the GPU runs every node it supports,
  // transfers or not, and the reason says so.
  in.policy.objective = Objective::automatic;
  EXPECT_EQ(in.policy.effective_objective(), Objective::accelerator);
  auto accel = Partitioner::partition(in);
  ASSERT_TRUE(accel.ok()) << accel.status().to_string();
  EXPECT_EQ(accel->placements[1].device, "gpu:0") << accel->to_table(g);
  EXPECT_NE(accel->placements[1].reason.find("objective accelerator (cpu-and-gpu)"), std::string::npos) << accel->placements[1].reason;
  EXPECT_EQ(accel->placements[0].device, "cpu:0");
  EXPECT_EQ(accel->segments.size(), 3u);
  EXPECT_NE(accel->policy.find("objective=accelerator"), std::string::npos) << accel->policy;
}

TEST(Partitioner, SegmentsAreCutToFitASmallDeviceMemory) {
  // Six convolutions with 1 MiB of float32 weights each on an NPU with 2 MiB of memory that
  // computes in float16 (0.5 MiB per conv): at most 3 convs' weights (1.5 MiB = 3/4) per segment.
  Graph g;
  ValueType act;
  act.tensor.elem = ElementType::float32;
  act.tensor.shape = std::vector<Dim>{{1, ""}, {256, ""}, {8, ""}, {8, ""}};
  ValueType wt;
  wt.tensor.elem = ElementType::float32;
  wt.tensor.shape = std::vector<Dim>{{256, ""}, {256, ""}, {2, ""}, {2, ""}};
  int32_t prev = g.add_value("x", act);
  g.inputs = {prev};
  for (int i = 0; i < 6; ++i) {
    int32_t w = g.add_value("w" + std::to_string(i), wt);
    g.initializers[w] = Tensor::allocate(ElementType::float32, {256, 256, 2, 2});
    int32_t y = g.add_value("y" + std::to_string(i), act);
    g.nodes.push_back({"conv" + std::to_string(i), "", "Conv", 17, {prev, w}, {y}, {}});
    prev = y;
  }
  g.outputs = {prev};
  auto devices = three_devices();
  devices[2].memory_bytes = 2 * 1024 * 1024;
  devices[2].float_bytes = 2;
  PartitionInput in;
  in.graph = &g;
  in.devices = devices;
  for (const auto& d : devices) in.support[d.id].assign(g.nodes.size(), NodeSupport{SupportReason::supported, "", ""});
  in.policy.units = ComputeUnits::cpu_and_npu;
  auto plan = Partitioner::partition(in);
  ASSERT_TRUE(plan.ok()) << plan.status().to_string();
  ASSERT_EQ(plan->segments.size(), 2u) << plan->to_table(g);
  for (const auto& s : plan->segments) {
    EXPECT_EQ(s.device, "npu:0");
    EXPECT_EQ(s.nodes.size(), 3u);
  }
  EXPECT_NE(plan->placements[3].reason.find("new segment: the weights before it fill 3/4 of npu:0's memory (2.0 MiB)"), std::string::npos)
      << plan->placements[3].reason;
  // Without a memory limit it is one segment.
  devices[2].memory_bytes = 0;
  in.devices = devices;
  auto whole = Partitioner::partition(in);
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(whole->segments.size(), 1u);
}

TEST(Partitioner, AcceleratorObjectiveKeepsTheCostModelBetweenAccelerators) {
  // `all` with objective accelerator: the NPU and the GPU are both preferred; the CPU gets
  // nothing they support, and the cost model picks between the two accelerators.
  Graph g = chain(4);
  for (auto& n : g.nodes) n.op_type = "Conv";
  PartitionInput in = supported_everywhere(g);
  in.policy.objective = Objective::accelerator;
  auto plan = Partitioner::partition(in);
  ASSERT_TRUE(plan.ok());
  for (const auto& p : plan->placements) EXPECT_NE(p.device, "cpu:0") << p.reason;
  // cpu-only under accelerator: the CPU is the preferred device, so nothing changes.
  in.policy.units = ComputeUnits::cpu_only;
  auto cpu = Partitioner::partition(in);
  ASSERT_TRUE(cpu.ok());
  for (const auto& p : cpu->placements) EXPECT_EQ(p.device, "cpu:0");
  // `all` keeps the cost model by default.
  Policy all;
  EXPECT_EQ(all.effective_objective(), Objective::latency);
}

TEST(Partitioner, PowerObjectivePrefersTheNpu) {
  Graph g = chain(4);
  for (auto& n : g.nodes) n.op_type = "Conv";
  PartitionInput in = supported_everywhere(g);
  in.policy.objective = Objective::power;
  auto plan = Partitioner::partition(in);
  ASSERT_TRUE(plan.ok());
  for (const auto& p : plan->placements) EXPECT_EQ(p.device, "npu:0") << p.reason;
  in.policy.objective = Objective::latency;
  auto fast = Partitioner::partition(in);
  ASSERT_TRUE(fast.ok());
  for (const auto& p : fast->placements) EXPECT_EQ(p.device, "gpu:0") << p.reason;
}

TEST(Partitioner, PinsAndBansAndTheirErrors) {
  Graph g = chain(3);
  auto devices = three_devices();
  PartitionInput in;
  in.graph = &g;
  in.devices = devices;
  for (const auto& d : devices) in.support[d.id].assign(g.nodes.size(), NodeSupport{SupportReason::supported, "", ""});
  in.policy.pin_nodes["conv1"] = "cpu:0";
  auto plan = Partitioner::partition(in);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->placements[1].device, "cpu:0");
  EXPECT_NE(plan->placements[1].reason.find("pinned by policy"), std::string::npos);
  in.policy.pin_nodes.clear();
  in.policy.ban_nodes["conv0"] = {"gpu:0", "npu:0", "cpu:0"};
  auto banned = Partitioner::partition(in);
  ASSERT_FALSE(banned.ok());
  EXPECT_NE(banned.status().message().find("Conv 'conv0': no allowed device can run it; npu:0: banned by the policy"), std::string::npos)
      << banned.status().message();
}

TEST(Partitioner, ExplicitDeviceListAndMissingDevices) {
  auto devices = three_devices();
  Policy p;
  p.devices = {"npu:0", "cpu:0"};
  std::vector<std::string> preferred;
  auto allowed = Partitioner::allowed_devices(p, devices, &preferred);
  ASSERT_TRUE(allowed.ok());
  EXPECT_EQ(*allowed, (std::vector<std::string>{"npu:0", "cpu:0"}));
  EXPECT_EQ(preferred, (std::vector<std::string>{"npu:0"}));
  p.devices = {"tpu:3"};
  auto missing = Partitioner::allowed_devices(p, devices);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("devices present: cpu:0, gpu:0, npu:0"), std::string::npos);
  Policy npu_only;
  npu_only.units = ComputeUnits::cpu_and_npu;
  auto no_npu = Partitioner::allowed_devices(npu_only, {devices[0]}, &preferred);
  ASSERT_TRUE(no_npu.ok());  // falls back to the CPU unless strict
  EXPECT_TRUE(preferred.empty());
}

TEST(Partitioner, CalibrationScalesEstimates) {
  RooflineCostModel m;
  Node n{"c", "", "Conv", 17, {}, {}, {}};
  DeviceFigures d{"gpu:0", "gpu", 1000, 100, 16, 10, 50};
  NodeWork w{1e9, 1e6};
  double before = m.node_us(n, w, d);
  m.calibrate("gpu:0", "Conv", before * 3, before);
  EXPECT_NEAR(m.node_us(n, w, d), before * 3, before * 1e-9);
  EXPECT_NEAR(m.calibration("gpu:0", "Relu"), 1.0, 0);
}

TEST(PlanSerialization, CorruptPlansAreRejected) {
  Graph g = chain(3);
  auto devices = three_devices();
  PartitionInput in;
  in.graph = &g;
  in.devices = devices;
  for (const auto& d : devices) in.support[d.id].assign(g.nodes.size(), NodeSupport{SupportReason::supported, "", ""});
  auto plan = Partitioner::partition(in);
  ASSERT_TRUE(plan.ok());
  std::string s = plan->serialize();
  EXPECT_FALSE(Plan::deserialize(s.substr(0, s.size() / 2), g).ok());
  EXPECT_FALSE(Plan::deserialize("plan 2\n", g).ok());
  Graph other = chain(5);
  EXPECT_FALSE(Plan::deserialize(s, other).ok());
}

}  // namespace
}  // namespace switchyard
