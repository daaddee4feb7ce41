// switchyard_opencl_bench: compile-from-source, restore-from-serialized and predict times
// (medians) of the OpenCL plugin on light_resnet50 and ppocr_mobile_v2_cls, loaded through
// the host library like any application would. PoCL's own kernel cache is disabled so the
// compile figure is the real cost. Outputs are checked against the reference interpreter.
//
// usage: switchyard_opencl_bench [--models DIR] [--device ID] [--repeat N] [--predict-repeat N] [--only NAME]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "switchyard/runtime/constant_folding.h"
#include "switchyard/hal/device.h"
#include "switchyard/hal/graph_view.h"
#include "switchyard/runtime/onnx_import.h"
#include "switchyard/hal/plugin_loader.h"
#include "switchyard/reference/interpreter.h"
#include "switchyard/runtime/shape_inference.h"
#include "switchyard/runtime/tensor_io.h"

#ifndef SWITCHYARD_SHARED_DIR
#define SWITCHYARD_SHARED_DIR "../shared"
#endif

using namespace switchyard;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

[[noreturn]] void die(const std::string& m) {
  std::fprintf(stderr, "switchyard_opencl_bench: %s\n", m.c_str());
  std::exit(1);
}

template <typename T>
T take(Result<T> r, const std::string& what) {
  if (!r.ok()) die(what + ": " + r.status().message());
  return std::move(r).value();
}

Tensor random_input(const Shape& s) {
  Tensor t = Tensor::allocate(ElementType::float32, s);
  uint32_t x = 1234567;
  for (int64_t i = 0; i < t.numel(); ++i) {
    x = x * 1664525u + 1013904223u;
    t.mutable_data<float>()[i] = static_cast<float>(x >> 8) / static_cast<float>(1u << 24);
  }
  return t;
}

struct ModelCase {
  std::string name, file, input_file;
  Shape input_shape;  // fixes symbolic dims when non-empty
};

void bench(const Device& dev, const std::string& dir, const ModelCase& mc, int repeat, int predict_repeat) {
  auto model = take(import_onnx_file(dir + "/" + mc.file), mc.file);
  Graph& g = model->graph;
  // The same preparation as the runtime's PartitionedModel: fixed input shapes, shape
  // inference, constant folding, inference again.
  if (!mc.input_shape.empty()) {
    auto st = specialize_inputs(g, {{g.value_name(g.inputs.at(0)), mc.input_shape}});
    if (!st.ok()) die(st.message());
    (void)take(infer_shapes(g), "infer_shapes");
  }
  if (take(fold_constants(g), "fold_constants") > 0) (void)take(infer_shapes(g), "infer_shapes");
  GraphView view(g);
  auto support = take(dev.query_support(view), "query_support");
  size_t claimed = 0;
  for (const auto& s : support) claimed += s.supported();
  std::printf("%s: %zu nodes, %zu claimed by %s\n", mc.name.c_str(), support.size(), claimed, dev.id().c_str());
  if (claimed != support.size()) {
    for (size_t i = 0; i < support.size(); ++i)
      if (!support[i].supported()) std::printf("  refused: %s %s\n", g.nodes[i].describe().c_str(), support[i].message.c_str());
    return;
  }
  Tensor input = mc.input_file.empty() ? random_input(mc.input_shape) : take(load_tensor_pb(dir + "/" + mc.input_file), mc.input_file);

  std::vector<double> compile_ms, restore_ms, predict_ms;
  std::unique_ptr<Executable> exe;
  for (int i = 0; i < repeat; ++i) {
    exe.reset();  // releasing the previous one is not part of the measurement
    auto t0 = Clock::now();
    exe = take(dev.compile(view), "compile");
    compile_ms.push_back(ms_since(t0));
  }
  auto bytes = take(exe->serialize(), "serialize");
  for (int i = 0; i < repeat; ++i) {
    exe.reset();
    auto t0 = Clock::now();
    exe = take(dev.restore(view, bytes.data(), bytes.size()), "restore");
    restore_ms.push_back(ms_since(t0));
  }
  auto in = take(upload(dev, input), "upload");
  double first = 0;
  std::vector<DeviceTensor> out;
  for (int i = 0; i <= predict_repeat; ++i) {
    auto t0 = Clock::now();
    out = take(exe->execute({in}), "execute");
    (i == 0 ? first : (predict_ms.push_back(0), predict_ms.back())) = ms_since(t0);
  }
  Tensor got = take(download(out.at(0)), "download");
  reference::Interpreter interp;
  auto want = take(interp.run(g, {Value::of(input)}), "reference");
  const Tensor& w = want.at(0).tensor;
  double max_err = 0;
  bool ok = w.shape() == got.shape();
  for (int64_t i = 0; ok && i < w.numel(); ++i) {
    double a = w.data<float>()[i], b = got.data<float>()[i], e = std::fabs(a - b);
    max_err = std::max(max_err, e);
    if (e > 1e-5 + 1e-3 * std::fabs(a)) ok = false;
  }
  std::printf("  serialized: %zu bytes\n", bytes.size());
  std::printf("  compile from source: %9.1f ms (median of %d)\n", median(compile_ms), repeat);
  std::printf("  restore serialized:  %9.1f ms (median of %d)  -> %.1fx faster\n", median(restore_ms), repeat,
              median(compile_ms) / std::max(1e-9, median(restore_ms)));
  std::printf("  restore runs (ms):");
  for (double t : restore_ms) std::printf(" %.1f", t);
  std::printf("\n");
  std::printf("  first predict:       %9.1f ms (after restore; includes the driver's lazy work-group code generation)\n", first);
  std::printf("  predict:             %9.1f ms (median of %d)\n", median(predict_ms), predict_repeat);
  std::printf("  vs reference: %s (max abs error %.3g; rtol 1e-3, atol 1e-5)\n", ok ? "match" : "MISMATCH", max_err);
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = std::string(SWITCHYARD_SHARED_DIR) + "/models", device = "opencl:0";
  int repeat = 3, predict_repeat = 0;
  std::string only;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--models" && i + 1 < argc) dir = argv[++i];
    else if (a == "--only" && i + 1 < argc) only = argv[++i];
    else if (a == "--predict-repeat" && i + 1 < argc) predict_repeat = std::max(1, std::atoi(argv[++i]));
    else if (a == "--device" && i + 1 < argc) device = argv[++i];
    else if (a == "--repeat" && i + 1 < argc) repeat = std::max(1, std::atoi(argv[++i]));
    else die("usage: switchyard_opencl_bench [--models DIR] [--device ID] [--repeat N] [--predict-repeat N] [--only NAME]");
  }
  setenv("POCL_KERNEL_CACHE", "0", 1);  // before the plugin (and PoCL) load
  auto registry = DeviceRegistry::discover();
  auto found = registry.find(device);
  if (!found.ok()) {
    std::string why = found.status().message();
    for (const auto& p : registry.plugins())
      if (p->identity().name == "opencl") why += " (" + p->diagnostics() + ")";
    die(why);
  }
  const Device& dev = **found;
  std::printf("device %s: %s (%s, driver %s)\n", dev.id().c_str(), dev.info().name.c_str(), dev.info().vendor.c_str(),
              dev.info().driver_version.c_str());
  const std::vector<ModelCase> cases = {{"light_resnet50", "light_resnet50.onnx", "light_resnet50_input_0.pb", {}},
                                        {"ppocr_mobile_v2_cls (x=1,3,48,192)", "ppocr_mobile_v2_cls.onnx", "", {1, 3, 48, 192}}};
  for (const auto& mc : cases)
    if (only.empty() || mc.name.find(only) != std::string::npos) bench(dev, dir, mc, repeat, predict_repeat ? predict_repeat : repeat);
  return 0;
}
