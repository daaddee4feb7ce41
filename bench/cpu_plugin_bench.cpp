// In-process benchmark of the CPU plugin's compiled executable (not a unit test):
//   cpu_plugin_bench MODEL NAME=TENSOR.pb... [--runs N] [--threads T] [--concurrency C [--pin]]
// Compiles the model as one CPU segment (graph inputs take the shapes of the tensors given), runs
// it 3 times to warm up, then N times, and prints the median and minimum wall time per prediction.
// With --concurrency C, then C threads run it N times each at once on the one executable: their
// throughput against one thread's says how well concurrent runs scale inside the plugin, without
// the runtime around it (--pin: thread c on core c). Respects SWITCHYARD_CPU_FUSION / SWITCHYARD_CPU_BLOCKED, so passes can be
// compared on the same build.
#include <omp.h>
#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "executable.h"
#include "switchyard/runtime/constant_folding.h"
#include "switchyard/runtime/onnx_import.h"
#include "switchyard/runtime/tensor_io.h"

using namespace switchyard;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MODEL NAME=FILE... [--runs N] [--threads T] [--concurrency C [--pin]]\n", argv[0]);
    return 2;
  }
  int runs = 20, threads = 2, concurrency = 0;
  bool pin = false;
  std::vector<std::pair<std::string, std::string>> feeds;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--runs" && i + 1 < argc) runs = std::stoi(argv[++i]);
    else if (a == "--threads" && i + 1 < argc) threads = std::stoi(argv[++i]);
    else if (a == "--concurrency" && i + 1 < argc) concurrency = std::stoi(argv[++i]);
    else if (a == "--pin") pin = true;
    else if (auto eq = a.find('='); eq != std::string::npos) feeds.emplace_back(a.substr(0, eq), a.substr(eq + 1));
  }
  auto model = import_onnx_file(argv[1]);
  if (!model.ok()) {
    std::fprintf(stderr, "%s\n", model.status().to_string().c_str());
    return 1;
  }
  Graph g = (*model)->graph;
  if (auto folded = fold_constants(g); !folded.ok()) {  // as the runtime does before partitioning
    std::fprintf(stderr, "%s\n", folded.status().to_string().c_str());
    return 1;
  }
  if (std::getenv("BENCH_DEBUG"))
    for (const auto& n : g.nodes)
      if (n.op_type == "Add" || n.op_type == "Sum")
        std::printf("Add %s: %s + %s -> %s\n", n.name.c_str(), g.values[n.inputs[0]].type.to_string().c_str(),
                    g.values[n.inputs[1]].type.to_string().c_str(), g.values[n.outputs[0]].type.to_string().c_str());
  std::vector<Value> inputs(g.inputs.size());
  for (const auto& [name, file] : feeds) {
    auto t = load_tensor_pb(file);
    if (!t.ok()) {
      std::fprintf(stderr, "%s\n", t.status().to_string().c_str());
      return 1;
    }
    for (size_t i = 0; i < g.inputs.size(); ++i) {
      if (g.value_name(g.inputs[i]) != name) continue;
      inputs[i] = Value::of(*t);
      std::vector<Dim> dims;
      for (int64_t d : t->shape()) dims.push_back(Dim{d, ""});
      g.values[static_cast<size_t>(g.inputs[i])].type.tensor.shape = dims;
    }
  }
  omp_set_num_threads(threads);
  try {
    auto t0 = std::chrono::steady_clock::now();
    auto exe = cpu::CpuExecutable::build(g, threads);
    const double compile_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    std::map<std::string, int> impl;
    for (const auto& s : exe->implementations()) ++impl[s];
    std::printf("%s: %zu nodes (%zu after passes):", argv[1], g.nodes.size(), exe->execution_graph().nodes.size());
    for (const auto& [k, n] : impl) std::printf(" %d %s", n, k.c_str());
    std::printf("; input 0 %s\n", g.values[static_cast<size_t>(g.inputs[0])].type.to_string().c_str());
    for (int i = 0; i < 3; ++i) exe->run(inputs);
    std::vector<double> ms;
    for (int i = 0; i < runs; ++i) {
      auto s = std::chrono::steady_clock::now();
      exe->run(inputs);
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - s).count());
    }
    std::sort(ms.begin(), ms.end());
    std::printf("compile %.1f ms; predict median %.2f ms, min %.2f ms over %d runs (%d threads)\n", compile_ms,
                ms[ms.size() / 2], ms.front(), runs, threads);
    if (concurrency > 1) {
      auto s = std::chrono::steady_clock::now();
      std::vector<std::thread> pool;
      for (int c = 0; c < concurrency; ++c)
        pool.emplace_back([&, c] {
          if (pin) {
            cpu_set_t set;
            CPU_ZERO(&set);
            CPU_SET(c % std::thread::hardware_concurrency(), &set);
            pthread_setaffinity_np(pthread_self(), sizeof set, &set);
          }
          for (int i = 0; i < runs; ++i) exe->run(inputs);
        });
      for (auto& t : pool) t.join();
      const double total_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - s).count();
      const double one = 1000.0 / ms[ms.size() / 2];
      std::printf("concurrency %d: %.1f runs/s against %.1f on one thread (%.2fx)\n", concurrency,
                  concurrency * runs / total_s, one, concurrency * runs / total_s / one);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
