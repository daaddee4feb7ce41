// Import, plan, compile and run time and memory against graph size: a chain of N Relu nodes.
//   build/bin/switchyard_scale_bench [--nodes N]... [--units U] [--no-run] [--json]
// For each N (default 10^4, 10^5, 10^6) it writes the chain as an ONNX file in a temporary folder,
// then, in this process and in order: imports it, plans it under the policy (support queries and
// partitioning), compiles the segments and runs one prediction. Each phase's wall time and the
// process's RSS growth are reported; bytes per node is the RSS growth after planning over N.
// The budget it checks (issue 14): import + plan of 10^6 nodes under 10 s on a 2-core machine,
// with time and memory growing linearly in N.
#include <onnx/onnx_pb.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <time.h>
#include <unistd.h>

#include "switchyard/runtime/discovery.h"
#include "switchyard/runtime/onnx_import.h"
#include "switchyard/runtime/partitioned_model.h"

using namespace switchyard;
namespace fs = std::filesystem;

namespace {

struct Phases {
  int64_t nodes = 0;
  size_t file_bytes = 0;
  double import_ms = 0, plan_ms = 0, load_ms = 0, predict_ms = 0;
  double import_cpu_ms = 0, plan_cpu_ms = 0;
  ImportTimes import_phases;   // parse, convert, shape inference, release
  PartitionTimes plan_phases;  // prepare (copy, constant folding), support queries, partitioning
  double rss_base_mib = 0, rss_import_mib = 0, rss_plan_mib = 0, rss_load_mib = 0;
  std::string error;
};

double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// CPU time of the calling thread: the phases run on it, and unlike wall time it does not count
// the time other processes take the cores.
double thread_cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

double rss_mib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  return 0;
}

void add_float_value(onnx::ValueInfoProto* vi, const std::string& name) {
  vi->set_name(name);
  auto* tt = vi->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx::TensorProto::FLOAT);
  tt->mutable_shape()->add_dim()->set_dim_value(1);
  tt->mutable_shape()->add_dim()->set_dim_value(16);
}

// x -> Relu -> v1 -> Relu -> ... -> y, N nodes, opset 13.
fs::path write_chain(const fs::path& dir, int64_t n) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(13);
  auto* g = m.mutable_graph();
  g->set_name("relu_chain");
  add_float_value(g->add_input(), "x");
  add_float_value(g->add_output(), "y");
  for (int64_t i = 0; i < n; ++i) {
    auto* node = g->add_node();
    node->set_op_type("Relu");
    node->set_name("r" + std::to_string(i));
    node->add_input(i == 0 ? "x" : "v" + std::to_string(i));
    node->add_output(i + 1 == n ? "y" : "v" + std::to_string(i + 1));
  }
  fs::path file = dir / ("relu_chain_" + std::to_string(n) + ".onnx");
  std::ofstream out(file, std::ios::binary);
  m.SerializeToOstream(&out);
  return file;
}

Phases measure(const fs::path& file, int64_t n, const Policy& policy, bool run) {
  Phases p;
  p.nodes = n;
  p.file_bytes = fs::file_size(file);
  p.rss_base_mib = rss_mib();
  double t0 = now_ms(), c0 = thread_cpu_ms();
  auto model = import_onnx_file(file);
  p.import_ms = now_ms() - t0;
  p.import_cpu_ms = thread_cpu_ms() - c0;
  p.rss_import_mib = rss_mib();
  if (!model.ok()) return p.error = model.status().to_string(), p;
  p.import_phases = (*model)->times;
  DeviceRegistry registry = DeviceRegistry::discover(discovery_for(policy));
  PartitionOptions options;
  options.policy = policy;
  t0 = now_ms(), c0 = thread_cpu_ms();
  auto planned = PartitionedModel::plan_only(*model, registry, options);
  p.plan_ms = now_ms() - t0;
  p.plan_cpu_ms = thread_cpu_ms() - c0;
  p.rss_plan_mib = rss_mib();
  if (!planned.ok()) return p.error = planned.status().to_string(), p;
  p.plan_phases = (*planned)->times();
  planned->reset();
  if (!run) return p;
  t0 = now_ms();
  auto loaded = PartitionedModel::load(*model, registry, options);
  p.load_ms = now_ms() - t0;
  p.rss_load_mib = rss_mib();
  if (!loaded.ok()) return p.error = loaded.status().to_string(), p;
  Tensor x = Tensor::allocate(ElementType::float32, {1, 16});
  for (int64_t i = 0; i < 16; ++i) x.mutable_data<float>()[i] = static_cast<float>(i - 8);
  t0 = now_ms();
  auto out = (*loaded)->predict({Value::of(std::move(x))});
  p.predict_ms = now_ms() - t0;
  if (!out.ok()) return p.error = out.status().to_string(), p;
  if ((*out)[0].tensor.data<float>()[15] != 7.0f) p.error = "wrong output: y[15] != 7";
  return p;
}

void print_table(const std::vector<Phases>& rows) {
  std::printf("%10s %10s %16s %16s %10s %10s %12s %14s %s\n", "nodes", "file MiB", "import ms (cpu)", "plan ms (cpu)",
              "load ms", "predict ms", "RSS+ MiB", "bytes/node", "");
  for (const auto& r : rows) {
    double grown = r.rss_plan_mib - r.rss_base_mib;
    std::printf("%10lld %10.1f %7.1f (%6.1f) %7.1f (%6.1f) %10.1f %10.1f %12.1f %14.0f %s\n", static_cast<long long>(r.nodes),
                r.file_bytes / 1048576.0, r.import_ms, r.import_cpu_ms, r.plan_ms, r.plan_cpu_ms, r.load_ms, r.predict_ms, grown,
                grown * 1048576.0 / static_cast<double>(r.nodes), r.error.c_str());
  }
  std::printf("\nphases (wall ms)  import: parse / convert / shape inference / release    plan: prepare / support / partition\n");
  for (const auto& r : rows) {
    const auto& i = r.import_phases;
    const auto& p = r.plan_phases;
    std::printf("%10lld  %9.1f %9.1f %9.1f %9.1f    %9.1f %9.1f %9.1f\n", static_cast<long long>(r.nodes), i.parse_ms,
                i.convert_ms, i.infer_ms, i.release_ms, p.prepare_ms, p.support_ms, p.partition_ms);
  }
}

void print_json(const std::vector<Phases>& rows) {
  std::printf("[");
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& r = rows[i];
    std::printf("%s{\"nodes\": %lld, \"file_bytes\": %zu, \"import_ms\": %.2f, \"plan_ms\": %.2f, \"load_ms\": %.2f, "
                "\"predict_ms\": %.2f, \"import_cpu_ms\": %.2f, \"plan_cpu_ms\": %.2f, \"rss_base_mib\": %.1f, \"rss_import_mib\": %.1f, \"rss_plan_mib\": %.1f, "
                "\"rss_load_mib\": %.1f, \"plan_prepare_ms\": %.2f, \"plan_support_ms\": %.2f, \"plan_partition_ms\": %.2f, "
                "\"import_parse_ms\": %.2f, \"import_convert_ms\": %.2f, \"import_infer_ms\": %.2f, \"import_release_ms\": %.2f, "
                "\"error\": \"%s\"}",
                i ? ", " : "", static_cast<long long>(r.nodes), r.file_bytes, r.import_ms, r.plan_ms, r.load_ms,
                r.predict_ms, r.import_cpu_ms, r.plan_cpu_ms, r.rss_base_mib, r.rss_import_mib, r.rss_plan_mib, r.rss_load_mib, r.plan_phases.prepare_ms, r.plan_phases.support_ms,
                r.plan_phases.partition_ms, r.import_phases.parse_ms, r.import_phases.convert_ms, r.import_phases.infer_ms,
                r.import_phases.release_ms, r.error.c_str());
  }
  std::printf("]\n");
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int64_t> sizes;
  std::string units = "cpu-only";
  bool run = true, json = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--nodes" && i + 1 < argc) sizes.push_back(std::stoll(argv[++i]));
    else if (a == "--units" && i + 1 < argc) units = argv[++i];
    else if (a == "--no-run") run = false;
    else if (a == "--json") json = true;
    else {
      std::fprintf(stderr, "usage: switchyard_scale_bench [--nodes N]... [--units U] [--no-run] [--json]\n");
      return 2;
    }
  }
  if (sizes.empty()) sizes = {10000, 100000, 1000000};
  auto parsed_units = parse_compute_units(units);
  if (!parsed_units.ok()) return std::fprintf(stderr, "%s\n", parsed_units.status().message().c_str()), 2;
  Policy policy;
  policy.units = *parsed_units;
  fs::path dir = fs::temp_directory_path() / ("switchyard_scale_bench_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::vector<Phases> rows;
  for (int64_t n : sizes) {
    fs::path file = write_chain(dir, n);
    rows.push_back(measure(file, n, policy, run));
    fs::remove(file);
  }
  fs::remove_all(dir);
  if (json) print_json(rows);
  else print_table(rows);
  for (const auto& r : rows)
    if (!r.error.empty()) return 1;
  return 0;
}
