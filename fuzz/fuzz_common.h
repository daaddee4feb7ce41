// Helpers shared by the fuzz targets and the seed generator: the graph the restore targets use,
// and a device opened from the plugins of the fuzz build tree.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "switchyard/hal/graph.h"
#include "switchyard/hal/graph_view.h"
#include "switchyard/hal/plugin_loader.h"
#include "switchyard/hal/tensor.h"

namespace switchyard::fuzz {

// The build tree the targets were built in (plugins, the NPU simulator).
inline std::string build_dir() { return SWITCHYARD_FUZZ_BUILD_DIR; }
inline std::string source_dir() { return SWITCHYARD_FUZZ_SOURCE_DIR; }

// Level Zero reads ZE_ENABLE_ALT_DRIVERS once, at zeInit: point it at the build's NPU simulator
// before any plugin is loaded (the same variable the level_zero tests set).
inline void use_npu_simulator() {
  ::setenv("ZE_ENABLE_ALT_DRIVERS", (build_dir() + "/lib/switchyard/npusim/libswitchyard_npusim.so").c_str(), 0);
}

// The graph executables are restored for: x[1,3,8,8] -> Conv(4 filters, 3x3, pads 1, bias) -> Relu
// -> GlobalAveragePool, float32, opset 13. Every plugin compiles it whole.
inline Graph restore_graph() {
  Graph g;
  g.opsets = {{"", 13}};
  auto value = [&](const std::string& name, Shape s) {
    ValueType vt;
    vt.kind = ValueType::Kind::tensor;
    vt.tensor.elem = ElementType::float32;
    std::vector<Dim> dims;
    for (int64_t d : s) dims.push_back(Dim{d, ""});
    vt.tensor.shape = dims;
    return g.add_value(name, vt);
  };
  auto constant = [&](const std::string& name, Shape s) {
    Tensor t = Tensor::allocate(ElementType::float32, s);
    float* p = t.mutable_data<float>();
    for (int64_t i = 0; i < t.numel(); ++i) p[i] = static_cast<float>((i * 37 % 19) - 9) / 16.0f;
    int32_t v = value(name, s);
    g.initializers[v] = t;
    return v;
  };
  auto node = [&](const std::string& op, std::vector<int32_t> in, std::vector<int32_t> out) -> Node& {
    Node n;
    n.op_type = op;
    n.name = op;
    n.opset = 13;
    n.inputs = std::move(in);
    n.outputs = std::move(out);
    g.nodes.push_back(std::move(n));
    return g.nodes.back();
  };
  int32_t x = value("x", {1, 3, 8, 8});
  g.inputs.push_back(x);
  int32_t w = constant("w", {4, 3, 3, 3}), b = constant("b", {4});
  int32_t c = value("c", {1, 4, 8, 8}), r = value("r", {1, 4, 8, 8}), y = value("y", {1, 4, 1, 1});
  Node& conv = node("Conv", {x, w, b}, {c});
  Attribute pads, kernel;
  pads.name = "pads";
  pads.type = Attribute::Type::ints;
  pads.ints = {1, 1, 1, 1};
  kernel.name = "kernel_shape";
  kernel.type = Attribute::Type::ints;
  kernel.ints = {3, 3};
  conv.attributes = {pads, kernel};
  node("Relu", {c}, {r});
  node("GlobalAveragePool", {r}, {y});
  g.outputs.push_back(y);
  return g;
}

struct DeviceFixture {
  DeviceRegistry registry;
  const Device* device = nullptr;
  Graph graph;
  std::unique_ptr<GraphView> view;
};

// Loads `plugin` from the build tree and finds `device_id` (created once per process). A device
// that is absent is a failure, not a silent pass: it prints why and exits 1.
inline DeviceFixture& device_fixture(const std::string& plugin, const std::string& device_id) {
  static DeviceFixture* f = nullptr;
  if (f) return *f;
  if (plugin == "level_zero") use_npu_simulator();
  f = new DeviceFixture();
  DiscoveryOptions o;
  o.extra_paths = {build_dir() + "/lib/switchyard/plugins"};
  o.use_environment = false;
  o.use_default_paths = false;
  o.only_plugins = {plugin};
  f->registry = DeviceRegistry::discover(o);
  auto d = f->registry.find(device_id);
  if (!d.ok()) {
    std::string why = d.status().message();
    for (const auto& p : f->registry.plugins()) why += " (" + p->diagnostics() + ")";
    for (const auto& e : f->registry.failures()) why += " [" + e.name + ": " + e.reason + "]";
    std::fprintf(stderr, "fuzz: device %s is not present, cannot fuzz its executable_restore: %s\n", device_id.c_str(), why.c_str());
    std::exit(1);
  }
  f->device = *d;
  f->graph = restore_graph();
  f->view = std::make_unique<GraphView>(f->graph);
  return *f;
}

}  // namespace switchyard::fuzz
