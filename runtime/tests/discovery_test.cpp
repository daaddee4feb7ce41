// Loads as a user meets them: discovery starts only the plugins a policy can use, the CPU
// plugin's bandwidth probe runs once per machine, `run` reads a model's signature without
// parsing its weights, and trace recorders stay within their bound.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include "switchyard/runtime/discovery.h"
#include "switchyard/runtime/onnx_import.h"
#include "switchyard/runtime/trace.h"
#include "switchyard/hal/user_cache_dir.h"

namespace switchyard {
namespace {

namespace fs = std::filesystem;

std::set<std::string> loaded_plugins(const Policy& policy) {
  DiscoveryOptions o = discovery_for(policy);
  o.use_environment = false;
  std::set<std::string> names;
  const DeviceRegistry registry = DeviceRegistry::discover(o);
  for (const auto& p : registry.plugins()) names.insert(p->manifest().name);
  return names;
}

TEST(Discovery, PolicyLoadsOnlyThePluginsItCanUse) {
  Policy all;
  const auto every = loaded_plugins(all);
  ASSERT_TRUE(every.count("cpu")) << "the build's CPU plugin was not found";
  if (!every.count("opencl")) GTEST_SKIP() << "the OpenCL plugin did not load here; the filter cannot be told apart";

  Policy one_device;
  one_device.devices = {"cpu:0"};
  EXPECT_EQ(loaded_plugins(one_device), std::set<std::string>{"cpu"});

  Policy cpu_only;
  cpu_only.units = ComputeUnits::cpu_only;
  EXPECT_EQ(loaded_plugins(cpu_only), std::set<std::string>{"cpu"});  // opencl and level_zero declare gpu/npu

  Policy gpu;
  gpu.units = ComputeUnits::cpu_and_gpu;
  EXPECT_TRUE(loaded_plugins(gpu).count("opencl"));
}

TEST(Discovery, ManifestDeviceKindsAreChecked) {
  const fs::path dir = fs::path(::testing::TempDir()) / "kinds_manifest";
  fs::create_directories(dir);
  std::ofstream(dir / "bad.yaml") << "name: bad\nlibrary: libbad.so\nabi_version: \"2.0\"\ndevice_kinds: [tpu]\n";
  auto m = parse_manifest(dir / "bad.yaml");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("device_kinds entry 'tpu' is not one of cpu, gpu, npu, other"), std::string::npos)
      << m.status().message();
  std::ofstream(dir / "good.yaml") << "name: good\nlibrary: libgood.so\nabi_version: \"2.0\"\ndevice_kinds: [cpu, gpu]\n";
  auto g = parse_manifest(dir / "good.yaml");
  ASSERT_TRUE(g.ok()) << g.status().message();
  EXPECT_EQ(g->device_kinds, (std::vector<std::string>{"cpu", "gpu"}));
}

// The second process reads the first one's measurement: a value planted under the same key is
// what the device then reports, so nothing was measured again.
TEST(Discovery, CpuBandwidthIsMeasuredOncePerMachine) {
  const fs::path cache = fs::path(::testing::TempDir()) / "bandwidth_memo";
  fs::remove_all(cache);
  const char* old = std::getenv("SWITCHYARD_CACHE_DIR");
  const std::string saved = old ? old : "";
  ::setenv("SWITCHYARD_CACHE_DIR", cache.c_str(), 1);
  Policy cpu;
  cpu.devices = {"cpu:0"};
  auto bandwidth = [&]() {
    DiscoveryOptions o = discovery_for(cpu);
    o.use_environment = false;
    auto reg = DeviceRegistry::discover(o);
    auto d = reg.find("cpu:0");
    return d.ok() ? (*d)->info().memory_bandwidth_gbps : -1.0;
  };
  const double measured = bandwidth();
  EXPECT_GT(measured, 0);
  const fs::path memo = plugin_state_dir("cpu") / "bandwidth";
  std::string line;
  {
    std::ifstream in(memo);
    ASSERT_TRUE(std::getline(in, line)) << memo << " was not written";
  }
  const std::string key = line.substr(0, line.find('\t'));
  std::ofstream(memo) << key << "\t1234.5\n";
  EXPECT_DOUBLE_EQ(bandwidth(), 1234.5);
  std::ofstream(memo) << "another machine\t99\n";  // another key: measured again, and stored again
  EXPECT_NE(bandwidth(), 99);
  {
    std::ifstream in(memo);
    ASSERT_TRUE(std::getline(in, line));
  }
  EXPECT_EQ(line.substr(0, line.find('\t')), key);
  if (old) ::setenv("SWITCHYARD_CACHE_DIR", saved.c_str(), 1);
  else ::unsetenv("SWITCHYARD_CACHE_DIR");
}

TEST(Signature, MatchesTheFullImport) {
  const fs::path model = fs::path(SWITCHYARD_SOURCE_DIR) / "models" / "tiny_cnn.onnx";
  auto full = import_onnx_file(model);
  auto sig = import_onnx_signature(model);
  ASSERT_TRUE(full.ok() && sig.ok());
  const Graph &f = (*full)->graph, &s = (*sig)->graph;
  EXPECT_TRUE(s.nodes.empty());
  EXPECT_TRUE(s.initializers.empty());
  ASSERT_EQ(s.inputs.size(), f.inputs.size());
  for (size_t i = 0; i < f.inputs.size(); ++i) {
    EXPECT_EQ(s.value_name(s.inputs[i]), f.value_name(f.inputs[i]));
    EXPECT_EQ(s.values[static_cast<size_t>(s.inputs[i])].type.to_string(), f.values[static_cast<size_t>(f.inputs[i])].type.to_string());
  }
  ASSERT_EQ(s.outputs.size(), f.outputs.size());
  for (size_t i = 0; i < f.outputs.size(); ++i) EXPECT_EQ(s.value_name(s.outputs[i]), f.value_name(f.outputs[i]));
}

TEST(Signature, RefusesWhatIsNotAModel) {
  const fs::path dir = fs::path(::testing::TempDir()) / "signature";
  fs::create_directories(dir);
  const fs::path model = fs::path(SWITCHYARD_SOURCE_DIR) / "models" / "tiny_cnn.onnx";
  std::ifstream in(model, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::ofstream(dir / "cut.onnx", std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  auto cut = import_onnx_signature(dir / "cut.onnx");
  ASSERT_FALSE(cut.ok());
  EXPECT_NE(cut.status().message().find("is not a valid ONNX model"), std::string::npos) << cut.status().message();
  std::ofstream(dir / "empty.onnx");
  EXPECT_FALSE(import_onnx_signature(dir / "empty.onnx").ok());
  EXPECT_EQ(import_onnx_signature(dir / "absent.onnx").status().code(), StatusCode::not_found);
  auto folder = import_onnx_signature(dir);
  ASSERT_FALSE(folder.ok());
  EXPECT_NE(folder.status().message().find("is not a regular file"), std::string::npos) << folder.status().message();
}

TEST(Trace, KeepsAtMostItsBoundAndSaysWhatItDropped) {
  TraceRecorder trace(10);
  const auto t = std::chrono::steady_clock::now();
  for (int i = 0; i < 25; ++i) trace.span("predictions", "prediction " + std::to_string(i), "prediction", t, t, {{"i", std::to_string(i)}});
  EXPECT_EQ(trace.recorded(), 10u);
  EXPECT_EQ(trace.dropped(), 15u);
  const std::string json = trace.to_json();
  EXPECT_NE(json.find("\"kept_events\": 10, \"dropped_events\": 15"), std::string::npos) << json;
  EXPECT_NE(json.find("\"name\": \"prediction 9\""), std::string::npos);
  EXPECT_EQ(json.find("\"name\": \"prediction 10\""), std::string::npos);
  EXPECT_NE(json.find("\"args\": {\"i\": \"3\"}"), std::string::npos) << json;
}

}  // namespace
}  // namespace switchyard
