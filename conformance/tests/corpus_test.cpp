// The ONNX node-test corpus on the reference, the CPU device and the Level Zero NPU, held to the floors in
// conformance/floors.yaml. Skips (with a message) when ../shared is not beside the checkout.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <thread>

#include "switchyard/conformance/targets.h"
#include "switchyard/conformance/onnx_suite.h"
#include "suite_run.h"
#include "switchyard/hal/plugin_loader.h"

namespace switchyard::conformance {
namespace {

namespace fs = std::filesystem;

void check_floor(const std::string& target_name, const TargetFactory& factory, bool isolate = true) {
  const fs::path corpus = fs::path(SWITCHYARD_SHARED_DIR) / "onnx-backend" / "node";
  if (!fs::is_directory(corpus)) GTEST_SKIP() << "corpus not found at " << corpus << " (../shared is not beside the checkout)";
  YAML::Node floors = YAML::LoadFile(std::string(SWITCHYARD_SOURCE_DIR) + "/conformance/floors.yaml");
  ASSERT_TRUE(floors[target_name]) << "no floor for " << target_name << " in conformance/floors.yaml";
  const int min_passed = floors[target_name]["min_passed"].as<int>();
  std::map<std::string, std::string> known;
  if (YAML::Node k = floors[target_name]["known_failures"])
    for (const auto& kv : k) known[kv.first.as<std::string>()] = kv.second.as<std::string>();
  RunOptions o;
  o.jobs = static_cast<int>(std::max(2u, std::thread::hardware_concurrency()));
  o.isolate = isolate;
  const auto start = std::chrono::steady_clock::now();
  auto r = run_corpus(corpus, factory, o);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  std::string unexpected;
  int unexpected_count = 0;
  for (const auto& c : r->cases) {
    if (c.outcome != Outcome::failed || known.count(c.name)) continue;
    ++unexpected_count;
    unexpected += "\n  " + c.name + ": " + c.reason + ": " + c.detail;
  }
  for (const auto& [name, why] : known) {
    auto it = std::find_if(r->cases.begin(), r->cases.end(), [&](const CaseResult& c) { return c.name == name; });
    if (it != r->cases.end() && it->outcome == Outcome::passed)
      std::printf("%s: known failure %s now passes: remove it from known_failures\n", target_name.c_str(), name.c_str());
  }
  std::printf("%s: %d passed, %d failed, %d skipped in %.1f s\n", target_name.c_str(), r->passed, r->failed, r->skipped, seconds);
  EXPECT_GE(r->passed, min_passed) << target_name << " fell below its floor";
  EXPECT_EQ(unexpected_count, 0) << target_name << " failures not listed in floors.yaml known_failures:" << unexpected;
  if (r->passed > min_passed)
    std::printf("%s passes %d cases, above the floor of %d: raise it in conformance/floors.yaml\n", target_name.c_str(), r->passed,
                min_passed);
}

TEST(Corpus, ReferenceHoldsItsFloor) { check_floor("reference", reference_target_factory()); }
TEST(Corpus, CpuDeviceHoldsItsFloor) { check_floor("cpu:0", device_target_factory("cpu:0")); }
// The Level Zero NPU (the simulator in the build tree): float16, so tolerances are derived per
// case (docs/conformance.md, "Narrow-float devices"); cases it does not claim are skipped.
TEST(Corpus, NpuDeviceHoldsItsFloor) {
  DeviceRegistry reg = DeviceRegistry::discover();
  if (!reg.find("level_zero:0").ok()) GTEST_SKIP() << "no level_zero:0 device (Level Zero plugin or simulator not built)";
  // In this process, one registry for every case: a child per case would start the Level Zero
  // loader and the simulator 1765 times (minutes on a small machine), while the NPU claims only
  // about 100 cases; the rest are answered by its support query without running anything.
  check_floor("level_zero:0", device_target_factory("level_zero:0"), /*isolate=*/false);
}

}  // namespace
}  // namespace switchyard::conformance
