// fuzz_seeds OUT_DIR: writes every fuzz target's seed corpus, OUT_DIR/<target>/, from the
// repository's fixtures and from what the runtime and the plugins themselves produce:
//   onnx_import       models/*.onnx and tests/fixtures/**/*.onnx (valid and malformed models)
//   npy               tensors of every .npy dtype written by save_npy
//   tensor_pb         tensors written by save_tensor_pb, and .pb files of the ONNX backend corpus
//                     (tensors, sequences, optionals) when the shared folder has it
//   manifest          the plugins' manifests as built, and variants of every field
//   plan_cache_entry  a real entry the plan cache stored for models/tiny_cnn.onnx on the cpu plugin
//   restore_<plugin>  executables each plugin serialized for the restore targets' graph
// Exits 1 when a device or a fixture it needs is missing.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "fuzz_common.h"
#include "switchyard/runtime/model_loader.h"
#include "switchyard/runtime/plan_cache.h"
#include "switchyard/runtime/tensor_io.h"

namespace fs = std::filesystem;
using namespace switchyard;

namespace {

int failures = 0;

void fail(const std::string& why) {
  std::cerr << "fuzz_seeds: " << why << "\n";
  ++failures;
}

void write(const fs::path& file, const std::string& bytes) {
  std::ofstream out(file, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) fail("cannot write " + file.string());
}

size_t copy_matching(const fs::path& from, const std::string& extension, const fs::path& to, size_t limit = SIZE_MAX,
                     const std::string& prefix = "") {
  std::error_code ec;
  std::vector<fs::path> files;
  for (auto it = fs::recursive_directory_iterator(from, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
    if (it->is_regular_file() && it->path().extension() == extension) files.push_back(it->path());
  std::sort(files.begin(), files.end());
  size_t n = 0;
  for (const auto& f : files) {
    if (n == limit) break;
    std::string name = prefix + fs::relative(f, from).string();
    std::replace(name.begin(), name.end(), '/', '_');
    fs::copy_file(f, to / name, fs::copy_options::overwrite_existing, ec);
    if (ec) fail("cannot copy " + f.string() + ": " + ec.message());
    else ++n;
  }
  return n;
}

std::vector<Tensor> sample_tensors() {
  std::vector<Tensor> out;
  auto fill = [](Tensor t) {
    auto* p = static_cast<unsigned char*>(t.raw_mutable());
    for (size_t i = 0; i < t.byte_size(); ++i) p[i] = static_cast<unsigned char>(i * 29 + 3);
    if (t.type() == ElementType::boolean)
      for (size_t i = 0; i < t.byte_size(); ++i) p[i] &= 1;
    return t;
  };
  const ElementType types[] = {ElementType::float32, ElementType::float64, ElementType::float16, ElementType::int8,
                               ElementType::uint8,   ElementType::int16,   ElementType::uint16,  ElementType::int32,
                               ElementType::uint32,  ElementType::int64,   ElementType::uint64,  ElementType::boolean};
  const Shape shapes[] = {{2, 3}, {5}, {}, {1, 2, 2}, {0, 3}};
  size_t i = 0;
  for (ElementType t : types) out.push_back(fill(Tensor::allocate(t, shapes[i++ % 5])));
  return out;
}

void npy_and_pb(const fs::path& npy_dir, const fs::path& pb_dir) {
  int i = 0;
  for (const Tensor& t : sample_tensors()) {
    const std::string base = "t" + std::to_string(i++) + "_" + std::string(element_type_name(t.type()));
    if (!save_npy(npy_dir / (base + ".npy"), t).ok()) fail("save_npy " + base);
    if (!save_tensor_pb(pb_dir / (base + ".pb"), t, base).ok()) fail("save_tensor_pb " + base);
  }
  // Sequences and optionals come from the ONNX backend corpus (when the shared folder has it).
  const fs::path corpus = fs::path(SWITCHYARD_FUZZ_SHARED_DIR) / "onnx-backend" / "node";
  std::error_code ec;
  if (!fs::is_directory(corpus, ec)) return;
  size_t n = 0;
  for (const char* pattern : {"sequence", "optional", "test_cast_", "test_add"}) {
    std::vector<fs::path> dirs;
    for (const auto& e : fs::directory_iterator(corpus, ec))
      if (e.path().filename().string().find(pattern) != std::string::npos) dirs.push_back(e.path());
    std::sort(dirs.begin(), dirs.end());
    for (size_t k = 0; k < dirs.size() && k < 12; ++k) n += copy_matching(dirs[k], ".pb", pb_dir, 4, dirs[k].filename().string() + "_");
  }
  std::cout << "fuzz_seeds: " << n << " .pb files from " << corpus.string() << "\n";
}

void manifests(const fs::path& dir) {
  copy_matching(fs::path(SWITCHYARD_FUZZ_BUILD_DIR) / "lib/switchyard/plugins", ".yaml", dir);
  write(dir / "full.yaml",
        "name: fuzz_plugin\nlibrary: libfuzz.so\nabi_version: \"1.3\"\ndevice_kinds: [cpu, gpu, npu, other]\nsettings:\n  threads: \"2\"\n"
        "  kind: gpu\n  ops: \"Conv,Relu\"\n");
  write(dir / "minimal.yaml", "name: a\nlibrary: /abs/lib.so\nabi_version: 1\n");
  write(dir / "flow.yaml", "{name: b, library: 'x.so', abi_version: '2.0', device_kinds: [], settings: {}}\n");
  write(dir / "anchors.yaml", "base: &b {threads: \"1\"}\nname: c\nlibrary: l.so\nabi_version: \"1.0\"\nsettings: *b\n");
}

// The entry PlanCache stores for models/tiny_cnn.onnx on the cpu plugin.
void plan_cache_entry(const fs::path& dir, const DeviceRegistry& registry) {
  const fs::path cache = dir / ".cache";
  std::error_code ec;
  fs::remove_all(cache, ec);
  CacheOptions co;
  co.dir = cache;
  PlanCache pc(co);
  LoadReport report;
  auto pm = load_model(fs::path(SWITCHYARD_FUZZ_SOURCE_DIR) / "models" / "tiny_cnn.onnx", registry, PartitionOptions{}, pc, &report);
  if (!pm.ok()) return fail("plan cache load of tiny_cnn.onnx: " + pm.status().to_string());
  size_t n = 0;
  for (const auto& e : fs::directory_iterator(cache, ec))
    if (e.path().extension() == ".syc") {
      fs::copy_file(e.path(), dir / "tiny_cnn.syc", fs::copy_options::overwrite_existing, ec);
      ++n;
    }
  fs::remove_all(cache, ec);
  if (n != 1) fail("expected one plan cache entry, found " + std::to_string(n));
}

void executables(const fs::path& out, const DeviceRegistry& registry, const std::string& plugin) {
  auto d = registry.find(plugin + ":0");
  if (!d.ok()) return fail("device " + plugin + ":0 is not present: " + d.status().message());
  Graph g = fuzz::restore_graph();
  GraphView view(g);
  auto exe = (*d)->compile(view);
  if (!exe.ok()) return fail(plugin + ": compile: " + exe.status().to_string());
  auto bytes = (*exe)->serialize();
  if (!bytes.ok()) return fail(plugin + ": serialize: " + bytes.status().to_string());
  const fs::path dir = out / ("restore_" + plugin);
  write(dir / "conv_relu_gap.bin", std::string(bytes->begin(), bytes->end()));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: fuzz_seeds OUT_DIR\n";
    return 2;
  }
  fuzz::use_npu_simulator();
  const fs::path out = argv[1];
  const char* targets[] = {"onnx_import", "npy", "tensor_pb", "manifest", "plan_cache_entry", "restore_cpu", "restore_opencl",
                           "restore_level_zero"};
  std::error_code ec;
  for (const char* t : targets) {
    fs::remove_all(out / t, ec);
    fs::create_directories(out / t, ec);
  }
  const fs::path src = SWITCHYARD_FUZZ_SOURCE_DIR;
  if (copy_matching(src / "models", ".onnx", out / "onnx_import") == 0) fail("no models/*.onnx");
  copy_matching(src / "tests" / "fixtures", ".onnx", out / "onnx_import");
  npy_and_pb(out / "npy", out / "tensor_pb");
  manifests(out / "manifest");

  DiscoveryOptions o;
  o.extra_paths = {fuzz::build_dir() + "/lib/switchyard/plugins"};
  o.use_environment = false;
  o.use_default_paths = false;
  o.only_plugins = {"cpu", "opencl", "level_zero"};
  DeviceRegistry registry = DeviceRegistry::discover(o);
  for (const auto& f : registry.failures()) fail("plugin " + f.name + ": " + f.reason);
  {
    DiscoveryOptions cpu_only = o;
    cpu_only.only_plugins = {"cpu"};
    plan_cache_entry(out / "plan_cache_entry", DeviceRegistry::discover(cpu_only));
  }
  for (const char* p : {"cpu", "opencl", "level_zero"}) executables(out, registry, p);

  for (const char* t : targets) {
    size_t n = 0;
    for (auto it = fs::directory_iterator(out / t, ec); !ec && it != fs::directory_iterator(); ++it) ++n;
    std::cout << "fuzz_seeds: " << t << ": " << n << " seeds\n";
  }
  return failures ? 1 : 0;
}
