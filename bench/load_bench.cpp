// Uncached versus cached model loads through the plan cache, in one run.
//   build/bin/switchyard_load_bench [--units U] [--runs N] [--input-shape NAME=D0,...] [--driver-caches] [--no-range-check] [--json] MODEL...
// For each model: N loads with an empty cache ("prepare and cache": import, fold, plan, compile,
// store) and N loads from the cache (a fresh process as far as the cache can tell), their
// medians and ratio, the first prediction after each (a driver that defers code generation to the
// first run would show it there), and whether both give bit-identical outputs.
// Drivers' own kernel caches (PoCL's, NVIDIA's) are turned off for the run, since they would hide
// the compile cost the plan cache exists to save; --driver-caches leaves them as they are.
// --no-range-check leaves out the calibration run that narrow-float devices (NPUs) add to an
// uncached load, to show the compile's share alone.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "switchyard/runtime/model_inputs.h"
#include "switchyard/runtime/model_loader.h"
#include "switchyard/runtime/plan_cache.h"
#include "switchyard/runtime/shape_inference.h"

using namespace switchyard;
namespace fs = std::filesystem;

namespace {
double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}
}  // namespace

constexpr const char* kUsage =
    "usage: switchyard_load_bench [--units U] [--runs N] [--input-shape NAME=D0,...] [--driver-caches] [--no-range-check] [--json] MODEL...\n";

int main(int argc, char** argv) {
  Policy policy;
  int runs = 5;
  bool json = false;
  bool driver_caches = false;
  std::map<std::string, Shape> shapes;
  std::vector<std::string> models;
  bool range_check = true;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--units" && i + 1 < argc) {
      auto u = parse_compute_units(argv[++i]);
      if (!u.ok()) {
        std::fprintf(stderr, "%s\n", u.status().message().c_str());
        return 2;
      }
      policy.units = *u;
    } else if (a == "--runs" && i + 1 < argc) {
      runs = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--input-shape" && i + 1 < argc) {
      auto s = parse_input_shapes(argv[++i]);
      if (!s.ok()) {
        std::fprintf(stderr, "%s\n", s.status().message().c_str());
        return 2;
      }
      shapes.insert(s->begin(), s->end());
    } else if (a == "--driver-caches") {
      driver_caches = true;
    } else if (a == "--no-range-check") {
      range_check = false;
    } else if (a == "--json") {
      json = true;
    } else if (a.rfind("--", 0) == 0) {
      std::fputs(kUsage, stderr);
      return 2;
    } else {
      models.push_back(a);
    }
  }
  if (models.empty()) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  if (!driver_caches) {
    ::setenv("POCL_KERNEL_CACHE", "0", 1);   // before any OpenCL driver is loaded
    ::setenv("CUDA_CACHE_DISABLE", "1", 1);  // NVIDIA's JIT cache (also used by its OpenCL)
  }
  DeviceRegistry devices = DeviceRegistry::discover();
  PartitionOptions options;
  options.policy = policy;
  options.range_check.enabled = range_check;
  const fs::path root = fs::temp_directory_path() / ("switchyard_load_bench_" + std::to_string(::getpid()));
  if (json) std::printf("{\"units\": \"%s\", \"runs\": %d, \"models\": [", compute_units_name(policy.units), runs);
  else
    std::printf("%-28s %-34s %12s %12s %8s  %9s %9s  %s\n", "model", "placement", "uncached ms", "cached ms", "ratio", "1st pred", "(cached)",
                "outputs");
  bool first = true;
  for (const auto& m : models) {
    auto imported = import_onnx_file(m);
    if (!imported.ok()) {
      std::fprintf(stderr, "%s\n", imported.status().to_string().c_str());
      return 1;
    }
    options.input_shapes.clear();
    for (const auto& [name, shape] : shapes)
      for (int32_t in : (*imported)->graph.inputs)
        if ((*imported)->graph.value_name(in) == name) options.input_shapes[name] = shape;
    for (auto& [name, shape] : default_input_shapes((*imported)->graph, options.input_shapes)) options.input_shapes[name] = shape;
    Graph shaped = (*imported)->graph;
    (void)specialize_inputs(shaped, options.input_shapes);
    auto inputs = generate_inputs(shaped);
    if (!inputs.ok()) {
      std::fprintf(stderr, "%s: %s (give --input-shape)\n", m.c_str(), inputs.status().message().c_str());
      return 1;
    }
    std::vector<double> uncached, cached;
    std::shared_ptr<PartitionedModel> cold, warm;
    for (int r = 0; r < runs; ++r) {
      fs::remove_all(root);
      clear_in_memory_models();
      CacheOptions co;
      co.dir = root;
      LoadReport rep;
      auto t0 = std::chrono::steady_clock::now();
      auto pm = load_model(m, devices, options, PlanCache(co), &rep);
      uncached.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      if (!pm.ok() || rep.state != CacheState::uncached) {
        std::fprintf(stderr, "%s: uncached load failed: %s\n", m.c_str(), pm.ok() ? rep.reason.c_str() : pm.status().to_string().c_str());
        return 1;
      }
      cold = *pm;
    }
    for (int r = 0; r < runs; ++r) {
      clear_in_memory_models();
      CacheOptions co;
      co.dir = root;
      LoadReport rep;
      auto t0 = std::chrono::steady_clock::now();
      auto pm = load_model(m, devices, options, PlanCache(co), &rep);
      cached.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      if (!pm.ok() || rep.state != CacheState::cached) {
        std::fprintf(stderr, "%s: cached load missed: %s\n", m.c_str(), pm.ok() ? rep.reason.c_str() : pm.status().to_string().c_str());
        return 1;
      }
      warm = *pm;
    }
    auto tp0 = std::chrono::steady_clock::now();
    auto a = cold->predict(*inputs);
    auto tp1 = std::chrono::steady_clock::now();
    auto b = warm->predict(*inputs);
    auto tp2 = std::chrono::steady_clock::now();
    const double first_uncached = std::chrono::duration<double, std::milli>(tp1 - tp0).count();
    const double first_cached = std::chrono::duration<double, std::milli>(tp2 - tp1).count();
    bool identical = a.ok() && b.ok() && a->size() == b->size();
    for (size_t i = 0; identical && i < a->size(); ++i) {
      const Tensor& x = (*a)[i].tensor;
      const Tensor& y = (*b)[i].tensor;
      identical = x.shape() == y.shape() && x.byte_size() == y.byte_size() && std::memcmp(x.raw(), y.raw(), x.byte_size()) == 0;
    }
    const double u = median(uncached), c = median(cached);
    const std::string name = fs::path(m).filename().string();
    if (json) {
      std::printf("%s\n  {\"model\": \"%s\", \"placement\": \"%s\", \"uncached_ms\": %.3f, \"cached_ms\": %.3f, \"ratio\": %.2f, "
                  "\"first_prediction_ms\": {\"after_uncached\": %.3f, \"after_cached\": %.3f}, \"outputs_identical\": %s}",
                  first ? "" : ",", name.c_str(), cold->plan().summary().c_str(), u, c, u / c, first_uncached, first_cached,
                  identical ? "true" : "false");
    } else {
      std::string placement = cold->plan().summary();
      placement = placement.substr(0, placement.find(';'));
      std::printf("%-28s %-34s %12.2f %12.2f %7.1fx  %9.2f %9.2f  %s\n", name.c_str(), placement.c_str(), u, c, u / c, first_uncached,
                  first_cached, identical ? "identical" : "DIFFERENT");
    }
    first = false;
    if (!identical) return 1;
  }
  if (json) std::printf("\n]}\n");
  fs::remove_all(root);
  return 0;
}
